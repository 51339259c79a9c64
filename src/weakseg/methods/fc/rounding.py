"""Rounding the relaxed QP solution of Foreground Clustering (Sharma, Sec. 4.1 and 8.2).

* Boxes: the foreground box of a frame is the one with the highest z (Sec. 4.1).
* Superpixels: y is normalised (it is capped by z through Eqs. 8-9), then, following
  Wang et al. (ref. 45), thresholded at 30 uniformly spaced values; the segmentation
  with the smallest normalised cut (Shi & Malik, ref. 41) on the frame's similarity
  graph W (Eq. 5, :func:`weakseg.methods.fc.matrices.similarity_weights`) is kept.
"""

from __future__ import annotations

import numpy as np


def choose_box(z_frame: np.ndarray) -> int:
    """Index of the frame's foreground box: argmax of ``z_frame`` ``(m,)`` (first on ties)."""
    z = np.asarray(z_frame, dtype=np.float64)
    if z.ndim != 1 or z.size == 0:
        raise ValueError(f"z_frame must be a non-empty 1-D array; got shape {z.shape}")
    return int(np.argmax(z))


def _check_graph(W: np.ndarray, n: int) -> np.ndarray:
    W = np.asarray(W, dtype=np.float64)
    if W.shape != (n, n):
        raise ValueError(f"W must have shape ({n}, {n}); got {W.shape}")
    if np.any(W < 0):
        raise ValueError("W must have non-negative weights")
    return W


def ncut_score(foreground: np.ndarray, W: np.ndarray) -> float:
    """Normalised cut of the partition (A = foreground, B = the rest) of graph W.

    Ncut = cut(A, B) / assoc(A, V) + cut(A, B) / assoc(B, V), with cut(A, B) the total
    weight between A and B and assoc(A, V) the total weight from A to all nodes
    (Shi & Malik, ref. 41, Eq. 2). An empty or full partition scores +inf; a side with
    assoc 0 (isolated, so cut 0) contributes 0.

    Args:
        foreground: ``bool`` ``(n,)`` membership of A.
        W: ``(n, n)`` symmetric non-negative weights.
    """
    a = np.asarray(foreground)
    if a.dtype != bool or a.ndim != 1:
        raise ValueError(f"foreground must be a bool (n,) array; got dtype {a.dtype} shape {a.shape}")
    W = _check_graph(W, a.size)
    if a.all() or not a.any():
        return float("inf")
    cut = W[np.ix_(a, ~a)].sum()
    assoc_a, assoc_b = W[a].sum(), W[~a].sum()
    return float(sum(cut / assoc for assoc in (assoc_a, assoc_b) if assoc > 0))


def round_superpixels(y_frame: np.ndarray, candidates: np.ndarray, W: np.ndarray,
                      thresholds: int = 30) -> np.ndarray:
    """Binary segmentation of one frame from its relaxed y (Sec. 8.2).

    The candidates (superpixels of the chosen box) have their y normalised by their max
    to [0, 1]; ``thresholds`` thresholds t are spaced uniformly strictly inside
    (min, max) of the normalised candidate values; for each, the candidates with value
    > t are foreground and everything else background; the segmentation with the
    smallest :func:`ncut_score` on ``W`` wins (the lowest threshold on ties).
    Non-candidates are always background.

    Degenerate cases: no candidate -> all background. All candidate values equal
    (including a single candidate, or all zero) -> no threshold separates them, and the
    whole chosen box is foreground.

    Args:
        y_frame: ``(n,)`` relaxed superpixel values of the frame.
        candidates: ``bool`` ``(n,)``, True for superpixels in the chosen box (a row of
            ``Frame.membership``).
        W: ``(n, n)`` similarity weights of the frame (Eq. 5).
        thresholds: number of thresholds (30 in Sec. 8.2).

    Returns:
        ``bool`` ``(n,)`` foreground superpixels.
    """
    y = np.asarray(y_frame, dtype=np.float64)
    cand = np.asarray(candidates)
    if y.ndim != 1 or np.any(y < 0):
        raise ValueError(f"y_frame must be a non-negative 1-D (n,) array; got shape {y.shape}")
    if cand.dtype != bool or cand.shape != y.shape:
        raise ValueError(f"candidates must be a bool array of shape {y.shape}; got dtype {cand.dtype} "
                         f"shape {cand.shape}")
    if thresholds < 1:
        raise ValueError(f"thresholds must be >= 1; got {thresholds}")
    W = _check_graph(W, y.size)
    values = y[cand]
    if values.size == 0 or values.min() == values.max():
        return cand.copy()
    values = values / values.max()
    levels = np.linspace(values.min(), 1.0, thresholds + 2)[1:-1]
    segmentations = []
    for t in levels:
        seg = np.zeros_like(cand)
        seg[cand] = values > t
        segmentations.append(seg)
    scores = [ncut_score(seg, W) for seg in segmentations]
    return segmentations[int(np.argmin(scores))]
