"""M-CNN video co-localization: a box per frame from the network's predictions (Sec. 4.5).

For a frame and the network's probability of the video's class:

1. a foreground colour GMM from the pixels with high predictions (``fg_prob >= high``) and a
   background GMM from those with low ones (``fg_prob <= low``); the paper only says "pixels
   with high predictions for the object category", the thresholds 0.7 / 0.3 are ours. When
   either set has fewer than ``min_pixels_per_component * gmm_components`` pixels, that
   model takes the ``fallback_fraction`` (20 %) of pixels with the highest (resp. lowest)
   ``fg_prob`` instead (ours);
2. the unary ``psi^m`` of energy (2) per superpixel (SLIC [42], "to reduce computation
   cost"): the sum of its pixels' GMM negative log-likelihoods;
3. a contrast-sensitive Potts term (eq. 3) between adjacent superpixels on their mean
   colours (:func:`weakseg.graphcut.pair_edges`; dist = 1, no Delta);
4. a binary graph cut over the superpixel graph, then the box enclosing the largest
   4-connected foreground component.

Boxes are ``[x_min, y_min, x_max, y_max]`` in pixels with continuous corners.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from weakseg.checks import check_rgb_image
from weakseg.gmm import fit_gmm
from weakseg.graphcut import binary_cut, pair_edges
from weakseg.preprocess.superpixels import check_labels, superpixel_stats


@dataclass(frozen=True)
class ColocalizationParams:
    """Constants of the co-localization (Sec. 4.5; see the module docstring).

    - ``high``, ``low``: probability thresholds of the pixels training the foreground /
      background GMMs (ours; the paper: "high predictions").
    - ``fallback_fraction``: fraction of pixels (top / bottom by probability) used when a
      threshold keeps too few (ours).
    - ``lam``, ``gamma``: Potts weight and contrast of eq. 3 (as label inference).
    - ``gmm_components``: components per GMM (5, GrabCut).
    - ``min_pixels_per_component``: a GMM needs this many pixels per component.
    - ``seed``: random state of the GMM fits.
    """

    high: float = 0.7
    low: float = 0.3
    fallback_fraction: float = 0.2
    lam: float = 50.0
    gamma: float = 0.5
    gmm_components: int = 5
    min_pixels_per_component: int = 10
    seed: int = 0


def training_pixels(fg_prob: np.ndarray, p: ColocalizationParams) -> tuple[np.ndarray, np.ndarray]:
    """Flat indices of the pixels that train the foreground and the background GMM.

    ``fg_prob >= high`` and ``fg_prob <= low``, each replaced by the ``fallback_fraction``
    of pixels with the highest / lowest probability (ties in pixel order) when it has fewer
    than ``min_pixels_per_component * gmm_components`` pixels.
    """
    flat = fg_prob.ravel()
    need = p.min_pixels_per_component * p.gmm_components
    n_fallback = max(need, int(np.ceil(p.fallback_fraction * flat.size)))
    fg, bg = np.flatnonzero(flat >= p.high), np.flatnonzero(flat <= p.low)
    return (fg if fg.size >= need else np.argsort(-flat, kind="stable")[:n_fallback],
            bg if bg.size >= need else np.argsort(flat, kind="stable")[:n_fallback])


def largest_component_box(mask: np.ndarray) -> np.ndarray | None:
    """Box ``[x_min, y_min, x_max, y_max]`` (continuous corners, float64) of the largest
    4-connected component of a bool ``(H, W)`` mask (the first one on ties); None if empty."""
    components, n = ndimage.label(mask)
    if n == 0:
        return None
    largest = 1 + int(np.argmax(np.bincount(components.ravel())[1:]))
    rows, cols = np.nonzero(components == largest)
    return np.array([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1], dtype=np.float64)


def colocalize(frame: np.ndarray, fg_prob: np.ndarray, superpixels: np.ndarray,
               params: ColocalizationParams | None = None) -> np.ndarray | None:
    """The object box of one frame (M-CNN Sec. 4.5).

    Args:
        frame: RGB uint8 ``(H, W, 3)``.
        fg_prob: float ``(H, W)``, the network's probability of the video's class.
        superpixels: integer ``(H, W)`` labels ``0..S-1`` (SLIC).
        params: :class:`ColocalizationParams` (defaults when None).

    Returns:
        float64 ``(4,)`` box ``[x_min, y_min, x_max, y_max]``, or None when no superpixel
        is labelled foreground.
    """
    p = params or ColocalizationParams()
    check_rgb_image(frame, "frame")
    if np.shape(fg_prob) != frame.shape[:2]:
        raise ValueError(f"fg_prob must have the frame's shape {frame.shape[:2]}; got {np.shape(fg_prob)}")
    n_superpixels = check_labels(superpixels, frame.shape[:2])
    if not 0.0 <= p.low < p.high <= 1.0:
        raise ValueError(f"params: need 0 <= low < high <= 1; got low={p.low}, high={p.high}")
    colours = frame.reshape(-1, 3).astype(np.float64) / 255.0
    fg, bg = training_pixels(np.asarray(fg_prob, dtype=np.float64), p)
    label_of = superpixels.ravel()
    cost = [np.bincount(label_of, fit_gmm(colours[idx], n_components=p.gmm_components, seed=p.seed).nll(colours)[0],
                        minlength=n_superpixels) for idx in (bg, fg)]
    stats = superpixel_stats(frame, superpixels)
    edges = pair_edges(stats.mean_colour.astype(np.float64) / 255.0, stats.edges, p.lam, p.gamma)
    foreground = binary_cut(cost[0], cost[1], edges)
    return largest_component_box(foreground[superpixels])
