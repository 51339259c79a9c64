"""M-CNN latent-label prediction from motion segments and network predictions (Sec. 3.2, 4.2).

For the 10 frames of one shot (one SGD batch), the latent labels x minimise energy (2)::

    E(x) = sum_i psi^m_i(z_i) + alpha * psi^fc_i(p_i^{x_i}) + sum_{(i,j)} psi_ij(x_i, x_j)

- ``psi^m``: negative log-likelihood of the pixel colour under the background colour GMM
  for label 0 and under the foreground GMM for every label > 0. The GMMs of frame t are
  learned from the motion segments of all frames of the batch, each frame weighted by
  ``1 / (1 + |f_t - f_s|)`` (Sec. 4.2 "following [14]", :func:`weakseg.gmm.temporal_weights`).
- ``psi^fc = -log p`` (p clipped at ``prob_floor``), weighted by alpha (1; 2 when fine-tuning).
- ``psi_ij``: contrast-sensitive Potts between 8-neighbours (eq. 3), with ``Delta(i, j) = 1``
  (no cost) when both pixels are within ``boundary_band`` pixels of the motion segment's
  boundary (:func:`motion_boundary_band`); lambda = 50 (not in the paper: GrabCut's value,
  as our FST), gamma = 0.5 on colour differences normalised by their mean (GrabCut).

GrabCut-like minimisation (Sec. 3.2): GMMs from the motion segments, then ``iterations``
times: solve (graph cut for K = 2, alpha expansion for K > 2, :mod:`weakseg.graphcut`),
re-estimate the GMMs from the current labelling (foreground = label > 0) by GrabCut's hard
EM (each pixel to its most likely component, then per-frame sufficient statistics combined
with the temporal weights, :mod:`weakseg.gmm`), solve again. The GMM components start
from k-means on the shot's pixels of each side.

Degenerate shots: when the motion segments of the whole shot have fewer than
``min_pixels_per_component * gmm_components`` foreground (or background) pixels, that
colour model is undefined; ``psi^m`` is then 0 for every label (not only for the undefined
model: a likelihood on one side only would be no comparison but a bias, colour densities
in [0, 1]^3 being far from 1), and the labels come from the network and the pairwise term
alone (one solve). When a re-estimation would see too few pixels of a side, that side
keeps its previous model.

Conventions: frames RGB uint8 ``(T, H, W, 3)``; motion bool ``(T, H, W)``; probabilities
``(T, K, H, W)`` over ``[background, *the video's labels]``; labels int64 in ``0..K-1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from weakseg.gmm import ColourGMM, component_stats, kmeans_components, mixture_nll, temporal_weights
from weakseg.graphcut import (
    PairwiseEdges,
    alpha_expansion,
    binary_cut,
    contrast_scale,
    grid_edges,
    grid_sq_differences,
)


@dataclass(frozen=True)
class LabelInferenceParams:
    """Constants of the label prediction (Sec. 3.2, 4.2).

    - ``alpha``: weight of the network unary (1 on the whole dataset, 2 when fine-tuning;
      Sec. 4.2; the caller passes it).
    - ``lam``: Potts weight lambda of eq. 3 (not in the paper; GrabCut's 50, as our FST).
    - ``gamma``: eq. 3's gamma = 0.5 "as in [14]", on colour differences divided by their
      mean over the shot when ``normalise_contrast`` (then it is GrabCut's beta).
    - ``iterations``: solve / re-estimate rounds (4, Sec. 4.2).
    - ``gmm_components``: components per colour GMM (5, GrabCut).
    - ``boundary_band``: Delta's region, pixels each side of the motion-segment boundary (ours).
    - ``seed``: random state of the k-means initialisation.
    - ``prob_floor``: network probabilities are clipped below at this value before the log.
    - ``min_pixels_per_component``: a colour model needs this many pixels per component
      over the shot (else it is degenerate, see the module docstring).
    - ``kmeans_samples``: k-means runs on at most this many pixels per side (ours, speed).
    - ``max_cycles``: at most this many alpha-expansion cycles per solve (K > 2).
    """

    alpha: float = 1.0
    lam: float = 50.0
    gamma: float = 0.5
    iterations: int = 4
    gmm_components: int = 5
    boundary_band: int = 2
    seed: int = 0
    prob_floor: float = 1e-6
    normalise_contrast: bool = True
    min_pixels_per_component: int = 10
    kmeans_samples: int = 2000
    max_cycles: int = 5


def motion_boundary_band(motion: np.ndarray, width: int) -> np.ndarray:
    """Pixels within ``width`` pixels (chessboard distance) of the boundary of each frame's motion segment.

    A foreground pixel is in the band when a background pixel lies within ``width`` of it,
    and vice versa, so the band is ``width`` pixels wide on each side; the image border is
    no boundary. Delta(i, j) of M-CNN eq. 3 is 1 for neighbours that are both in the band.

    Args:
        motion: bool ``(T, H, W)``.
        width: >= 0 (0: empty band).

    Returns:
        bool ``(T, H, W)``.
    """
    if width < 0:
        raise ValueError(f"width must be >= 0; got {width}")
    if width == 0:
        return np.zeros(motion.shape, bool)
    kernel = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
    masks = motion.astype(np.uint8)
    return np.stack([(cv2.dilate(m, kernel) > 0) & ~(cv2.erode(m, kernel) > 0) for m in masks])


def _check_inputs(frames: np.ndarray, motion: np.ndarray, probs: np.ndarray, frame_numbers: np.ndarray,
                  p: LabelInferenceParams) -> None:
    if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[3] != 3:
        raise ValueError(f"frames must be RGB uint8 of shape (T, H, W, 3); got "
                         f"{getattr(frames, 'dtype', type(frames).__name__)} {np.shape(frames)}")
    t, h, w = frames.shape[:3]
    if not isinstance(motion, np.ndarray) or motion.dtype != np.bool_ or motion.shape != (t, h, w):
        raise ValueError(f"motion must be bool of shape {(t, h, w)}; got "
                         f"{getattr(motion, 'dtype', type(motion).__name__)} {np.shape(motion)}")
    if np.ndim(probs) != 4 or np.shape(probs)[0] != t or np.shape(probs)[2:] != (h, w) or np.shape(probs)[1] < 2:
        raise ValueError(f"probs must have shape ({t}, K, {h}, {w}) with K >= 2 (background + labels); "
                         f"got {np.shape(probs)}")
    if np.shape(frame_numbers) != (t,):
        raise ValueError(f"frame_numbers must have shape ({t},); got {np.shape(frame_numbers)}")
    if p.iterations < 1:
        raise ValueError(f"params.iterations must be >= 1; got {p.iterations}")


def _fit_side(colours: np.ndarray, member: np.ndarray, components: np.ndarray, weights: np.ndarray,
              n_components: int) -> ColourGMM:
    """The T temporally weighted GMMs of one side from its members' hard component assignments.

    ``colours`` (T, N, 3), ``member`` bool (T, N), ``components`` int (number of members,) in
    C order of ``member``; ``weights`` (T, T) from :func:`temporal_weights`.
    """
    frame, pixel = np.nonzero(member)
    stats = component_stats(colours[frame, pixel], components, frame, len(weights), n_components)
    return stats.mix(weights).gmm()


def _enough(pixels: np.ndarray, p: LabelInferenceParams) -> bool:
    """Whether ``pixels`` (bool) are enough to fit a colour GMM."""
    return int(pixels.sum()) >= p.min_pixels_per_component * p.gmm_components


def _initial_models(colours: np.ndarray, motion: np.ndarray, weights: np.ndarray,
                    p: LabelInferenceParams) -> list[ColourGMM] | None:
    """[background, foreground] GMMs (T models each) from k-means components of the motion
    segments ``motion`` (T, N); None for a degenerate shot (a side with too few pixels)."""
    sides = (~motion, motion)
    if not all(_enough(side, p) for side in sides):
        return None
    return [_fit_side(colours, side, kmeans_components(colours[side], p.gmm_components, seed=p.seed,
                                                       max_samples=p.kmeans_samples), weights, p.gmm_components)
            for side in sides]


def _solve(unary: np.ndarray, edges: PairwiseEdges, labels: np.ndarray | None, p: LabelInferenceParams) -> np.ndarray:
    """Labels (T, N) int64 minimising energy (2) with these unaries (K, T, N)."""
    if len(unary) == 2:
        return binary_cut(unary[0], unary[1], edges).astype(np.int64)
    return alpha_expansion(unary, edges, labels, p.max_cycles)


def infer_labels(frames: np.ndarray, motion: np.ndarray, probs: np.ndarray, frame_numbers: np.ndarray,
                 params: LabelInferenceParams | None = None) -> np.ndarray:
    """Latent segmentation labels of one shot's batch (M-CNN Sec. 3.2, energy (2)).

    Args:
        frames: RGB uint8 ``(T, H, W, 3)``.
        motion: bool ``(T, H, W)`` motion segments (True = foreground).
        probs: float ``(T, K, H, W)``: the network's softmax restricted to ``[background,
            *the video's labels]`` and renormalised by the caller.
        frame_numbers: int ``(T,)``, each frame's position in the shot (for the temporal
            weights of the GMMs; pass ``arange(T)`` to weight by batch position).
        params: :class:`LabelInferenceParams` (defaults when None).

    Returns:
        int64 ``(T, H, W)`` in ``0..K-1``, 0 = background.
    """
    p = params or LabelInferenceParams()
    _check_inputs(frames, motion, probs, frame_numbers, p)
    t, h, w = motion.shape
    k = np.shape(probs)[1]
    stack = frames.astype(np.float64) / 255.0
    scale = contrast_scale(grid_sq_differences(stack), p.gamma, p.normalise_contrast)
    edges = grid_edges(stack, p.lam, scale, motion_boundary_band(motion, p.boundary_band))
    colours = stack.reshape(t, h * w, 3)
    network = p.alpha * -np.log(np.clip(np.asarray(probs, np.float64), p.prob_floor, None))
    network = network.reshape(t, k, h * w).transpose(1, 0, 2)                   # (K, T, N)
    weights = temporal_weights(np.asarray(frame_numbers))
    models = _initial_models(colours, motion.reshape(t, h * w), weights, p)
    if models is None:  # degenerate shot: psi^m = 0, the unaries never change, one solve
        return _solve(network, edges, None, p).reshape(t, h, w)
    labels = None
    for it in range(p.iterations):
        logps = [m.component_log_prob(colours) for m in models]   # (T, C, N): background, foreground
        unary = network.copy()
        unary[0] += mixture_nll(logps[0])
        unary[1:] += mixture_nll(logps[1])
        labels = _solve(unary, edges, labels, p)
        if it + 1 < p.iterations:
            sides = (labels == 0, labels > 0)
            models = [_fit_side(colours, side, np.argmax(logp, axis=1)[side], weights, p.gmm_components)
                      if _enough(side, p) else model for model, logp, side in zip(models, logps, sides)]
    return labels.reshape(t, h, w)
