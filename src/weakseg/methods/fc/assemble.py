"""Objective (7) of Foreground Clustering for a set of key frames and a variant.

Every quadratic matrix is divided by its trace and every saliency cost by its sum before
weighting, as the authors' code does (notes), so that the paper's weights (Sec. 5)
balance terms of comparable scale:

    Q_y = D_s + kappa F + alpha L_s,   c_y = mu s_s,
    Q_z = lambda (D_b + w P_b),        c_z = lambda nu s_b,

with ``P_b`` the pairwise box Laplacian of the co-localization baselines (Tang et al.
2014: cross-image feature similarity; Joulin et al. 2014: temporal overlap). The ridge
of eq. 4 is ``beta = N * ridge`` for N samples (the notes' lambda_b = 0.01).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.linalg

from weakseg.methods.fc.frames import FrameInputs
from weakseg.methods.fc.matrices import (
    discriminative_kernel,
    discriminative_linear,
    histogram_matching,
    normalised_laplacian,
    saliency_cost,
    similarity_laplacian,
    similarity_weights,
    trace_normalise,
)
from weakseg.methods.fc.problem import Frame, QPInstance
from weakseg.methods.fc.variants import Variant
from weakseg.metrics import box_iou
from weakseg.preprocess.dsift import chi2_kernel_matrix


def _unit_sum(v: np.ndarray) -> np.ndarray:
    return v / v.sum() if v.sum() > 0 else v


def _colours(frame: FrameInputs, params: Mapping[str, Any]) -> np.ndarray:
    return frame.colours * (params["colour_scale"] / 255.0)


def frame_similarity(frame: FrameInputs, params: Mapping[str, Any]) -> np.ndarray:
    """W of eq. 5 between the superpixels of one frame (used by the rounding of Sec. 8.2)."""
    return similarity_weights(frame.centroids, _colours(frame, params), params["lambda_p"], params["lambda_c"])


def cross_image_box_weights(frames: Sequence[FrameInputs]) -> np.ndarray:
    """Gaussian similarity of box features between boxes of different frames (Tang et al. 2014)."""
    feats = np.concatenate([f.box_features for f in frames])
    owner = np.concatenate([np.full(len(f.boxes), i) for i, f in enumerate(frames)])
    sq = (feats.astype(np.float64) ** 2).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * feats @ feats.T, 0)  # (N, N) without an (N, N, C) array
    other = owner[:, None] != owner[None, :]
    scale = d2[other].mean() if other.any() else 1.0
    return np.where(other, np.exp(-d2 / max(scale, 1e-12)), 0.0)


def temporal_box_weights(frames: Sequence[FrameInputs], shots: Sequence[str | None]) -> np.ndarray:
    """Box overlap (IoU) between boxes of consecutive key frames of the same shot (Joulin et al. 2014)."""
    offsets = np.cumsum([0] + [len(f.boxes) for f in frames])
    W = np.zeros((offsets[-1], offsets[-1]))
    for t in range(len(frames) - 1):
        if shots[t] is None or shots[t] != shots[t + 1]:
            continue
        iou = box_iou(frames[t].boxes, frames[t + 1].boxes)
        a, b = slice(offsets[t], offsets[t + 1]), slice(offsets[t + 1], offsets[t + 2])
        W[a, b], W[b, a] = iou, iou.T
    return W


def assemble(frames: Sequence[FrameInputs], variant: Variant, params: Mapping[str, Any],
             shots: Sequence[str | None]) -> QPInstance:
    """The relaxed QP (7)-(11) of ``variant`` over ``frames`` (``shots[t]``: shot of frame t)."""
    q_y = c_y = q_z = c_z = None
    if variant.has_superpixels:
        n = sum(f.n_superpixels for f in frames)
        q_y = np.zeros((n, n))
        if "sp_discriminative" in variant.terms:
            kernel = chi2_kernel_matrix(np.concatenate([f.bow for f in frames]))
            q_y += trace_normalise(discriminative_kernel(kernel, params["ridge"] * n))
        if "foreground" in variant.terms:
            q_y += params["kappa"] * trace_normalise(histogram_matching([f.histograms for f in frames]))
        if "laplacian" in variant.terms:
            blocks = [similarity_laplacian(f.centroids, _colours(f, params), params["lambda_p"], params["lambda_c"])
                      for f in frames]
            q_y += params["alpha"] * trace_normalise(scipy.linalg.block_diag(*blocks))
        if "sp_saliency" in variant.terms:
            c_y = params["mu"] * _unit_sum(saliency_cost(np.concatenate([f.sp_saliency for f in frames])))
    if variant.has_boxes:
        m = sum(len(f.boxes) for f in frames)
        q_z = np.zeros((m, m))
        if "box_discriminative" in variant.terms:
            feats = np.concatenate([f.box_features for f in frames])
            q_z += params["lambda"] * trace_normalise(discriminative_linear(feats, params["ridge"] * m))
        pairwise = {"box_similarity": lambda: cross_image_box_weights(frames),
                    "box_temporal": lambda: temporal_box_weights(frames, shots)}
        for term, weights in pairwise.items():
            if term in variant.terms:
                q_z += params["lambda"] * params["pairwise_weight"] * trace_normalise(normalised_laplacian(weights()))
        if "box_saliency" in variant.terms:
            c_z = params["lambda"] * params["nu"] * _unit_sum(
                saliency_cost(np.concatenate([f.box_saliency for f in frames])))
    return QPInstance(frames=[Frame(n_superpixels=f.n_superpixels, membership=f.membership) for f in frames],
                      Q_y=q_y if q_y is not None and q_y.any() else None, c_y=c_y,
                      Q_z=q_z if q_z is not None and q_z.any() else None, c_z=c_z,
                      coupled=variant.coupled, gamma=params["gamma"], eta=params["eta"])
