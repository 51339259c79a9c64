"""Segmentation priors applied at test time (Sec. 3.2.1) and the choice of their thresholds (Sec. 4.2).

Inference pipeline for one image (Fig. 3), with ``K = |C| + 1`` classes, index 0 = background:

1. ``p_ij(k|I)``: softmax over the K classes of the pixel score planes (the caller).
2. Image-level prior, ILP (eq. 7): ``y'_ij(k) = p_ij(k|I) * p(k|I)``, where ``p(k|I)`` is the softmax
   of the LSE image scores (eq. 2 and 6) -> :func:`image_level_prior`.
3. One smoothing prior:

   - SP-sppxl: the per-pixel labels ``argmax_k y'_ij(k)`` (over all K classes, Fig. 3) replaced by
     the majority label of their Felzenszwalb superpixel -> :func:`superpixel_vote`.
   - SP-bb / SP-seg: a per-pixel objectness ``p((i, j) in Obj)`` from scored box proposals (BING)
     or segment proposals (MCG) -> :func:`objectness_from_boxes` / :func:`objectness_from_masks`;
     then the rule of Sec. 3.2.1 with per-class thresholds ``delta_k`` -> :func:`smoothed_labels`.
     The thresholds are chosen by grid search on the validation split to maximise each class's AP
     (Sec. 4.2) -> :func:`grid_search_thresholds`.

Conventions: arrays are numpy, one image at a time. Probability maps float ``(K, H, W)``; label maps
int64 ``(H, W)`` in ``[0, K)``; ground truth int ``(H, W)`` in ``[0, K)`` or ``void`` (255, ignored).
Boxes float ``(M, 4)`` as ``[x_min, y_min, x_max, y_max]``, 0-based continuous corners; pixel
``(i, j)`` (row, column) is inside a box when its centre is: ``x_min <= j + 0.5 < x_max`` and
``y_min <= i + 0.5 < y_max``. The paper's "AP" is footnote 4's ``TP / (TP + FP + FN)``, the VOC IoU
(:func:`weakseg.metrics.voc_ap_per_class`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = [
    "grid_search_thresholds",
    "image_level_prior",
    "objectness_from_boxes",
    "objectness_from_masks",
    "smoothed_labels",
    "superpixel_vote",
    "threshold_ap_curves",
]


# --------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------


def _float_array(arr: np.ndarray, name: str, ndim: int, expected: str) -> np.ndarray:
    """``arr`` as finite float64 with ``ndim`` dimensions; else ValueError naming ``expected`` shape."""
    out = np.asarray(arr)
    if out.ndim != ndim or not (np.issubdtype(out.dtype, np.floating) or np.issubdtype(out.dtype, np.integer)):
        raise ValueError(f"{name} must be a real array of shape {expected}; got dtype {out.dtype} shape {out.shape}")
    out = out.astype(np.float64, copy=False)
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} must be finite (shape {expected}); it holds NaN or inf")
    return out


def _int_array(arr: np.ndarray, name: str, expected: str) -> np.ndarray:
    """``arr`` as int64 of shape (H, W); else ValueError naming ``expected``."""
    out = np.asarray(arr)
    if out.ndim != 2 or not np.issubdtype(out.dtype, np.integer):
        raise ValueError(f"{name} must be an integer array of shape {expected}; got dtype {out.dtype} "
                         f"shape {out.shape}")
    return out.astype(np.int64, copy=False)


def _check_same(shape_a: tuple, name_a: str, shape_b: tuple, name_b: str) -> None:
    if shape_a != shape_b:
        raise ValueError(f"{name_a} and {name_b} must cover the same pixels; got {name_a} {shape_a} "
                         f"and {name_b} {shape_b}")


def _normalised_scores(scores: np.ndarray, m: int) -> np.ndarray:
    """Proposal scores ``(m,)`` min-max normalised to [0, 1] over the image's proposals (Sec. 3.2.1:
    "normalized to fit the [0, 1] interval"); all equal -> all 1 (every proposal counts fully)."""
    s = _float_array(scores, "scores", 1, f"({m},)")
    if s.shape != (m,):
        raise ValueError(f"scores must have shape ({m},), one per proposal; got {s.shape}")
    if m == 0:
        return s
    span = s.max() - s.min()
    return (s - s.min()) / span if span > 0 else np.ones_like(s)


def _mean_of_containing(sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per-pixel mean score of the proposals containing the pixel, 0 where none does; clipped to [0, 1]
    against the rounding of summed-area tables."""
    out = np.zeros(sums.shape)
    np.divide(sums, counts, out=out, where=counts > 0)
    return np.clip(out, 0.0, 1.0)


# --------------------------------------------------------------------------
# Image-level prior (eq. 7) and SP-sppxl
# --------------------------------------------------------------------------


def image_level_prior(pixel_probs: np.ndarray, image_probs: np.ndarray) -> np.ndarray:
    """Eq. 7, ILP: ``y'_ij(k) = p_ij(k|I) * p(k|I)``, float64 ``(K, H, W)``.

    ``pixel_probs`` (K, H, W): per-pixel softmax over the K classes (Sec. 3.2). ``image_probs`` (K,):
    ``p(k|I)``, the softmax of the image's LSE scores (the caller computes them, e.g. with
    :func:`weakseg.methods.mil.aggregation.aggregate_lse` and ``softmax``).
    """
    p = _float_array(pixel_probs, "pixel_probs", 3, "(K, H, W)")
    q = _float_array(image_probs, "image_probs", 1, f"({p.shape[0]},)")
    if q.shape != (p.shape[0],):
        raise ValueError(f"image_probs must have shape ({p.shape[0]},), one per plane of pixel_probs; got {q.shape}")
    return p * q[:, None, None]


def superpixel_vote(labels: np.ndarray, superpixels: np.ndarray) -> np.ndarray:
    """SP-sppxl (Sec. 3.2.1): every pixel takes the label that appears most in its superpixel.

    ``labels`` (H, W) int >= 0 (e.g. ``argmax_k y'``); ``superpixels`` (H, W) int ids (any values,
    e.g. Felzenszwalb's segments). Returns int64 (H, W). Ties go to the smallest label. One
    ``bincount`` over ``superpixel * n_labels + label`` counts every (superpixel, label) pair.
    """
    lab = _int_array(labels, "labels", "(H, W)")
    sp = _int_array(superpixels, "superpixels", "(H, W)")
    _check_same(lab.shape, "labels", sp.shape, "superpixels")
    if lab.size == 0:
        return lab.copy()
    if lab.min() < 0:
        raise ValueError(f"labels must be >= 0 (class indices, shape (H, W)); got minimum {lab.min()}")
    n_labels = int(lab.max()) + 1
    ids, sp_index = np.unique(sp.ravel(), return_inverse=True)
    counts = np.bincount(sp_index * n_labels + lab.ravel(), minlength=ids.size * n_labels)
    majority = counts.reshape(ids.size, n_labels).argmax(axis=1)
    return majority[sp_index].reshape(lab.shape)


# --------------------------------------------------------------------------
# Objectness (SP-bb, SP-seg)
# --------------------------------------------------------------------------


def _box_pixel_ranges(boxes: np.ndarray, size: int, lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
    """First and one-past-last pixel index whose centre ``c + 0.5`` lies in ``[b[lo], b[hi])``,
    clipped to ``[0, size]``."""
    start = np.clip(np.ceil(boxes[:, lo] - 0.5), 0, size).astype(np.int64)
    stop = np.clip(np.ceil(boxes[:, hi] - 0.5), 0, size).astype(np.int64)
    return start, np.maximum(stop, start)


def objectness_from_boxes(boxes: np.ndarray, scores: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """SP-bb objectness ``p((i, j) in Obj)`` (Sec. 3.2.1) from scored box proposals, float64 ``shape``.

    ``boxes`` (M, 4) float ``[x_min, y_min, x_max, y_max]`` (continuous corners, pixel centres
    decide membership, see the module docstring); ``scores`` (M,) any real scores, min-max
    normalised to [0, 1] over the M proposals (all equal -> 1); ``shape`` = (H, W). Each pixel gets
    the sum of the normalised scores of the boxes containing it divided by their number (0 where
    no box contains it). Both sums come from summed-area tables (a +/- corner difference array
    and two cumulative sums), O(M + H W).
    """
    if len(shape) != 2 or min(shape) < 0:
        raise ValueError(f"shape must be (H, W) with H, W >= 0; got {shape}")
    h, w = int(shape[0]), int(shape[1])
    b = _float_array(boxes, "boxes", 2, "(M, 4) as [x_min, y_min, x_max, y_max]")
    if b.shape[1] != 4:
        raise ValueError(f"boxes must have shape (M, 4) as [x_min, y_min, x_max, y_max]; got {b.shape}")
    if np.any(b[:, 2] < b[:, 0]) or np.any(b[:, 3] < b[:, 1]):
        raise ValueError("boxes must have x_max >= x_min and y_max >= y_min (shape (M, 4) as "
                         "[x_min, y_min, x_max, y_max])")
    s = _normalised_scores(scores, b.shape[0])
    c0, c1 = _box_pixel_ranges(b, w, 0, 2)
    r0, r1 = _box_pixel_ranges(b, h, 1, 3)
    keep = (c1 > c0) & (r1 > r0)
    c0, c1, r0, r1, s = c0[keep], c1[keep], r0[keep], r1[keep], s[keep]
    corners = np.concatenate([r0 * (w + 1) + c0, r0 * (w + 1) + c1, r1 * (w + 1) + c0, r1 * (w + 1) + c1])
    signs = np.repeat([1.0, -1.0, -1.0, 1.0], s.size)

    def box_sums(values: np.ndarray) -> np.ndarray:
        diff = np.bincount(corners, weights=signs * np.tile(values, 4), minlength=(h + 1) * (w + 1))
        return diff.reshape(h + 1, w + 1).cumsum(axis=0).cumsum(axis=1)[:h, :w]

    return _mean_of_containing(box_sums(s), np.rint(box_sums(np.ones_like(s))))


def objectness_from_masks(masks: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """SP-seg objectness (Sec. 3.2.1) from scored segment proposals (MCG), float64 (H, W).

    ``masks`` (M, H, W) bool, True = inside the proposal; ``scores`` (M,) as in
    :func:`objectness_from_boxes` (min-max normalised, all equal -> 1). Each pixel gets the mean
    normalised score of the proposals containing it, 0 where none does.
    """
    m = np.asarray(masks)
    if m.ndim != 3 or m.dtype != np.bool_:
        raise ValueError(f"masks must be a bool array of shape (M, H, W); got dtype {m.dtype} shape {m.shape}")
    s = _normalised_scores(scores, m.shape[0])
    flat = m.reshape(m.shape[0], -1)
    return _mean_of_containing((s @ flat).reshape(m.shape[1:]), flat.sum(axis=0).reshape(m.shape[1:]))


# --------------------------------------------------------------------------
# SP-bb / SP-seg labelling and its thresholds
# --------------------------------------------------------------------------


def _candidates(y_prime: np.ndarray, objectness: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel, the best object class ``argmax_{k >= 1} y'(k)`` (int64 (H, W), ties -> smallest k)
    and its score ``max_{k >= 1} y'(k) * p_obj`` (float64 (H, W))."""
    y = _float_array(y_prime, "y_prime", 3, "(K, H, W)")
    if y.shape[0] < 2:
        raise ValueError(f"y_prime must have K >= 2 planes (background and object classes), shape (K, H, W); "
                         f"got {y.shape}")
    obj = _float_array(objectness, "objectness", 2, "(H, W)")
    _check_same(y.shape[1:], "y_prime planes", obj.shape, "objectness")
    objects = y[1:]
    best = objects.argmax(axis=0)
    return best + 1, np.take_along_axis(objects, best[None], axis=0)[0] * obj


def smoothed_labels(y_prime: np.ndarray, objectness: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """The SP-bb / SP-seg rule (Sec. 3.2.1), int64 labels (H, W)::

        y_ij = k* = argmax_{k in C} y'_ij(k)   if max_{k in C} y'_ij(k) * p((i, j) in Obj) > delta_{k*}
             = 0 (background)                 otherwise

    ``y_prime`` (K, H, W): ILP-weighted probabilities (eq. 7), plane 0 = background; ``objectness``
    (H, W) in [0, 1]; ``thresholds`` (K,): ``delta_k``, ``thresholds[0]`` is unused.

    ``C`` is the set of object classes (k >= 1), as in the paper (``|C| + 1`` planes "one per
    class, plus the background class"): the max and the argmax leave the background plane out, and
    background is assigned only by rejection. The background probability still acts, through the
    pixel softmax: where background is likely, every ``p_ij(k|I)`` with k >= 1 is small. Ties
    between object classes go to the smallest k; the comparison is strict.
    """
    candidate, score = _candidates(y_prime, objectness)
    k = np.asarray(y_prime).shape[0]
    delta = _float_array(thresholds, "thresholds", 1, f"({k},)")
    if delta.shape != (k,):
        raise ValueError(f"thresholds must have shape ({k},), one per plane of y_prime; got {delta.shape}")
    return np.where(score > delta[candidate], candidate, 0)


def _check_grid(grid: np.ndarray) -> np.ndarray:
    g = _float_array(grid, "grid", 1, "(G,)")
    if g.size == 0 or np.any(np.diff(g) <= 0):
        raise ValueError(f"grid must be a non-empty strictly increasing array (G,) of thresholds; got {g}")
    return g


def _score_histograms(y_prime: np.ndarray, objectness: np.ndarray, gt: np.ndarray, grid: np.ndarray,
                      n_classes: int, void: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One image's counts: ``predicted[k, b]`` and ``hits[k, b]`` (K, G + 1) = number of non-void pixels
    whose candidate class is k and whose score exceeds exactly b grid thresholds (``hits``: of those,
    the ones whose ground truth is k), and ``present[k]`` (K,) = non-void pixels of ground truth k."""
    if np.asarray(y_prime).shape[:1] != (n_classes,):
        raise ValueError(f"y_prime must have shape (n_classes={n_classes}, H, W); got {np.asarray(y_prime).shape}")
    candidate, score = _candidates(y_prime, objectness)
    truth = _int_array(gt, "gt_masks[i]", "(H, W)")
    _check_same(candidate.shape, "y_prime planes", truth.shape, "gt_masks[i]")
    valid = truth != void
    candidate, score, truth = candidate[valid], score[valid], truth[valid]
    if np.any((truth < 0) | (truth >= n_classes)):
        raise ValueError(f"gt_masks values must lie in [0, {n_classes}) or equal void={void}")
    key = candidate * (grid.size + 1) + np.searchsorted(grid, score, side="left")
    size = n_classes * (grid.size + 1)
    predicted = np.bincount(key, minlength=size).reshape(n_classes, -1)
    hits = np.bincount(key[truth == candidate], minlength=size).reshape(n_classes, -1)
    return predicted, hits, np.bincount(truth, minlength=n_classes)


def threshold_ap_curves(per_image_inputs: Sequence[tuple[np.ndarray, np.ndarray]], gt_masks: Sequence[np.ndarray],
                        grid: np.ndarray, n_classes: int, void: int = 255) -> np.ndarray:
    """AP of every object class as a function of its threshold (Sec. 4.2), float64 (K, G).

    ``per_image_inputs``: one ``(y_prime (K, H, W), objectness (H, W))`` pair per validation image;
    ``gt_masks``: the matching ground truths (H, W); ``grid`` (G,) strictly increasing candidate
    thresholds; ``n_classes`` = K. Entry ``[k, t]`` is ``TP / (TP + FP + FN)`` of class k over all
    images when :func:`smoothed_labels` uses ``delta_k = grid[t]`` (NaN when the class is neither in
    the ground truth nor predicted). Row 0 (background) is NaN: background is not thresholded.

    Class k's pixels depend on ``delta_k`` only (a pixel is labelled k iff its candidate class is k
    and its score exceeds ``delta_k``), so the curves are exact for any combination of thresholds.
    Per image, one histogram of the scores over the grid's intervals, per candidate class; reverse
    cumulative sums give the predicted and true-positive counts at every threshold, without
    relabelling the images G times.
    """
    if len(per_image_inputs) != len(gt_masks):
        raise ValueError(f"per_image_inputs and gt_masks must have one entry per image; got "
                         f"{len(per_image_inputs)} and {len(gt_masks)}")
    if int(n_classes) != n_classes or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2 (background and object classes); got {n_classes}")
    thresholds = _check_grid(grid)
    predicted = np.zeros((n_classes, thresholds.size + 1), np.int64)
    hits = np.zeros_like(predicted)
    present = np.zeros(n_classes, np.int64)
    for (y_prime, objectness), gt in zip(per_image_inputs, gt_masks):
        p, h, g = _score_histograms(y_prime, objectness, gt, thresholds, n_classes, void)
        predicted += p
        hits += h
        present += g
    # counts above grid[t] = pixels that exceed more than t thresholds: suffix sums from b = t + 1
    above = predicted[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:]
    tp = hits[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:]
    union = above + present[:, None] - tp  # TP + FP + FN
    ap = np.full(tp.shape, np.nan)
    np.divide(tp, union, out=ap, where=union > 0)
    ap[0] = np.nan
    return ap


def grid_search_thresholds(per_image_inputs: Sequence[tuple[np.ndarray, np.ndarray]],
                           gt_masks: Sequence[np.ndarray], grid: np.ndarray, n_classes: int,
                           void: int = 255) -> np.ndarray:
    """Per-class thresholds ``delta_k`` of SP-bb / SP-seg chosen on validation images (Sec. 4.2), (K,).

    Arguments as :func:`threshold_ap_curves`. Each object class k gets the grid value maximising its
    own AP (footnote 4, ``TP / (TP + FP + FN)``). Background is not thresholded (its entry is 0,
    unused by :func:`smoothed_labels`) and not optimised: the pixels a class rejects become
    background and change background's AP, which this choice ignores, as each class's search does.
    Ties, including a class absent from the validation ground truth (AP 0 or undefined at every
    threshold), go to the largest threshold: the fewest false positives.
    """
    curves = threshold_ap_curves(per_image_inputs, gt_masks, grid, n_classes, void)
    thresholds = np.asarray(grid, dtype=np.float64)
    scores = np.nan_to_num(curves[1:], nan=0.0)[:, ::-1]
    out = np.zeros(n_classes)
    out[1:] = thresholds[thresholds.size - 1 - scores.argmax(axis=1)]
    return out
