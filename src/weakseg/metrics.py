"""Evaluation metrics for the five reproduced weakly-supervised papers.

Only numpy is needed. Each function's docstring names the paper tables it is
used for.

Conventions
-----------
Boxes
    Float arrays of shape ``(..., 4)`` holding ``(x_min, y_min, x_max, y_max)``
    in 0-based pixel coordinates.

    * Default (``plus_one=False``): coordinates are *continuous*. A box that
      covers pixel columns 0..9 has ``x_min = 0, x_max = 10``. Its area is
      ``(x_max - x_min) * (y_max - y_min)``, and the intersection width is
      ``min(x_max) - max(x_min)``, clipped at 0. A box with
      ``x_max == x_min`` (or ``y_max == y_min``) has zero area.
    * ``plus_one=True``: the PASCAL VOC / wsolevaluation *inclusive corner*
      convention. ``x_max`` is the last covered column, so the box above is
      ``x_min = 0, x_max = 9``. Its area is
      ``(x_max - x_min + 1) * (y_max - y_min + 1)``, and the intersection width
      is ``min(x_max) - max(x_min) + 1``, clipped at 0 (height likewise). This
      is what ``calculate_multiple_iou`` computes in clovaai/wsolevaluation
      and in the CoLo-CAM code (sbelharbi/colo-cam,
      ``dlib/metrics/wsol_metrics.py``).

    ``x_max < x_min`` or ``y_max < y_min`` is an error. It is never read as an
    empty box.

Masks
    Integer arrays of shape ``(H, W)``.

    * Binary foreground masks (co-segmentation, video segmentation): ``0`` is
      background, ``1`` is foreground and ``255`` is void. Void pixels in the
      *ground truth* are left out of every count. Predictions must be
      0/1 (bool is accepted) and cannot contain void.
    * Semantic masks (PASCAL VOC style): ``0`` is background, ``1..K`` are the
      classes in dataset order, and ``255`` is void (``ignore_index``).

Confusion matrices
    Shape ``(C, C)``, ``int64``. Rows are the ground-truth class and columns
    are the predicted class, so ``conf[g, p]`` counts pixels with gt ``g`` that
    were predicted as ``p``. Per class: ``TP = conf[c, c]``,
    ``FN = conf[c, :].sum() - TP`` and ``FP = conf[:, c].sum() - TP``.

Which metric serves which paper
-------------------------------
* Foreground Clustering (Sharma et al.): CorLoc, correct when "IoU > .5"
  (``box_correct(strict=True)`` and ``corloc``), Tables 1, 3 and 4. Video
  segmentation IoU (``foreground_iou``), Table 2.
* CoLo-CAM (Belharbi et al.): CorLoc, Tables 1-3 and 5-8. The paper's text
  says "IoU > 50%", but its code (inherited from wsolevaluation) tests
  ``iou >= 0.5`` with inclusive corners, so use ``strict=False,
  plus_one=True`` to match the code.
* M-CNN (Tokmakov et al.): per-class IoU and mean IoU *including background*
  (``iou_per_class`` and ``mean_iou``), Tables 1-3. CorLoc "more than 0.5"
  (``strict=True``), Table 4.
* SSNM co-segmentation (Zhang et al., AAAI 2020): precision P
  (``mask_precision``) and Jaccard J (``mask_jaccard``), Tables 1-5.
* MIL/LSE (Pinheiro & Collobert, CVPR 2015): "averaged per-class accuracy"
  (``pixel_accuracy_per_class``), Table 2. Per-class "AP" = TP/(TP+FP+FN)
  (``voc_ap_per_class``), Tables 3-4. The mAP there averages all 21 classes,
  background included (checked against the table rows).
"""

from __future__ import annotations

from typing import Iterable, Optional

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "box_iou",
    "box_correct",
    "corloc",
    "mask_jaccard",
    "mask_precision",
    "foreground_iou",
    "confusion_matrix",
    "iou_per_class",
    "voc_ap_per_class",
    "mean_iou",
    "pixel_accuracy_per_class",
]

VOID = 255
"""Label value of void / ignored pixels in ground-truth masks."""


# --------------------------------------------------------------------------
# Boxes
# --------------------------------------------------------------------------


def _as_boxes(boxes: ArrayLike, name: str) -> np.ndarray:
    """Validate and return ``boxes`` as a float64 array of shape ``(N, 4)``."""
    arr = np.asarray(boxes, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise ValueError(
            f"{name} must have shape (N, 4) as (x_min, y_min, x_max, y_max); "
            f"got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite coordinates")
    for lo, hi, axis in ((0, 2, "x"), (1, 3, "y")):
        bad = arr[:, hi] < arr[:, lo]
        if np.any(bad):
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"{name}[{i}] has {axis}_max < {axis}_min: {arr[i].tolist()} "
                "(expected (x_min, y_min, x_max, y_max))"
            )
    return arr


def box_iou(a: ArrayLike, b: ArrayLike, *, plus_one: bool = False) -> np.ndarray:
    """Pairwise intersection-over-union of two sets of boxes.

    This is the box overlap used by every CorLoc number: Foreground Clustering
    Tables 1, 3 and 4, CoLo-CAM Tables 1-3 and 5-8, and M-CNN Table 4.

    Args:
        a: ``(N, 4)`` boxes ``(x_min, y_min, x_max, y_max)``.
        b: ``(M, 4)`` boxes, same format.
        plus_one: use the inclusive-corner (VOC/wsolevaluation) convention.
            See the module docstring.

    Returns:
        ``(N, M)`` float64 array, ``iou[i, j] = IoU(a[i], b[j])``, in [0, 1].
        When a pair's union is empty (both boxes have zero area), its IoU is
        0, not NaN.

    Raises:
        ValueError: if either input is not shaped ``(K, 4)``, has non-finite
            values, or has ``x_max < x_min`` / ``y_max < y_min``.
    """
    a = _as_boxes(a, "a")
    b = _as_boxes(b, "b")
    off = 1.0 if plus_one else 0.0

    area_a = (a[:, 2] - a[:, 0] + off) * (a[:, 3] - a[:, 1] + off)  # (N,)
    area_b = (b[:, 2] - b[:, 0] + off) * (b[:, 3] - b[:, 1] + off)  # (M,)

    ix0 = np.maximum(a[:, None, 0], b[None, :, 0])  # (N, M)
    iy0 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix1 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix1 - ix0 + off, 0.0, None) * np.clip(iy1 - iy0 + off, 0.0, None)

    union = area_a[:, None] + area_b[None, :] - inter
    iou = np.zeros_like(inter)
    np.divide(inter, union, out=iou, where=union > 0)
    return iou


def box_correct(
    pred: Optional[ArrayLike],
    gts: ArrayLike,
    *,
    threshold: float = 0.5,
    strict: bool = True,
    plus_one: bool = False,
) -> bool:
    """Decide whether one predicted box localizes the object (the CorLoc test).

    Foreground Clustering (Sec. 6, "Metric") counts a frame as correctly
    localized when "IoU > .5", which is ``strict=True`` (the default). M-CNN
    (Sec. 4.1) also says "more than 0.5". CoLo-CAM's code, like
    wsolevaluation's ``BoxEvaluator``, tests ``iou >= 0.5`` on
    inclusive-corner boxes; use ``strict=False, plus_one=True`` for that.

    Args:
        pred: ``(4,)`` predicted box, or ``None`` when the method gave no
            prediction (counted as incorrect).
        gts: ``(M, 4)`` ground-truth boxes of the labelled class in this
            frame, with ``M >= 1``. A single ``(4,)`` box is also accepted.
        threshold: IoU threshold, in [0, 1].
        strict: ``True`` means IoU > threshold. ``False`` means
            IoU >= threshold.
        plus_one: box convention; see the module docstring.

    Returns:
        ``True`` if the IoU with ANY ground-truth box passes the threshold.

    Raises:
        ValueError: if there are no ground-truth boxes (the caller decides
            whether such frames count), if the threshold is outside [0, 1],
            or if the boxes are malformed.
    """
    if not 0.0 <= float(threshold) <= 1.0:
        raise ValueError(f"threshold must be in [0, 1]; got {threshold}")
    gts_arr = np.asarray(gts, dtype=np.float64)
    if gts_arr.ndim == 1 and gts_arr.shape == (4,):
        gts_arr = gts_arr[None, :]
    if gts_arr.size == 0:
        raise ValueError(
            "no ground-truth boxes given (gts is empty); the caller must "
            "decide whether frames without boxes count"
        )
    gts_arr = _as_boxes(gts_arr, "gts")
    if pred is None:
        return False
    pred_arr = np.asarray(pred, dtype=np.float64)
    if pred_arr.shape != (4,):
        raise ValueError(
            f"pred must have shape (4,) as (x_min, y_min, x_max, y_max) or be "
            f"None; got shape {pred_arr.shape}"
        )
    best = float(box_iou(pred_arr[None, :], gts_arr, plus_one=plus_one).max())
    return best > threshold if strict else best >= threshold


def corloc(correct: ArrayLike) -> float:
    """Correct Localization: the percentage of items localized correctly.

    Used by Foreground Clustering (Tables 1, 3 and 4), CoLo-CAM (Tables 1-3
    and 5-8) and M-CNN (Table 4). Pass one ``box_correct`` result per evaluated
    frame/image. Per-class averages ("Avg" in CoLo-CAM Table 1) are the
    caller's job: call this once per class and average the results.

    Args:
        correct: 1-D array-like of bool (0/1 integers are also accepted),
            shape ``(K,)`` with ``K >= 1``.

    Returns:
        ``100 * (number correct) / K``, a float in [0, 100].

    Raises:
        ValueError: if ``correct`` is empty, not 1-D, or holds values other
            than booleans/0/1.
    """
    arr = np.asarray(correct)
    if arr.ndim != 1:
        raise ValueError(f"correct must be 1-D; got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError("corloc of an empty set is undefined (no items given)")
    if arr.dtype != np.bool_:
        if not np.all((arr == 0) | (arr == 1)):
            raise ValueError("correct must contain only booleans (or 0/1)")
        arr = arr.astype(bool)
    return 100.0 * float(np.count_nonzero(arr)) / float(arr.size)


# --------------------------------------------------------------------------
# Binary foreground masks
# --------------------------------------------------------------------------


def _binary_pair(pred: ArrayLike, gt: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate a binary mask pair and return ``(pred_fg, gt_fg)``.

    Both are 1-D bool arrays over the non-void pixels only.
    """
    p = np.asarray(pred)
    g = np.asarray(gt)
    if p.shape != g.shape:
        raise ValueError(
            f"pred and gt shapes differ: pred {p.shape} vs gt {g.shape}"
        )
    if p.dtype != np.bool_ and not np.all((p == 0) | (p == 1)):
        raise ValueError("pred must be a binary mask with values in {0, 1}")
    if not np.all((g == 0) | (g == 1) | (g == VOID)):
        raise ValueError(
            f"gt must be a binary mask with values in {{0, 1, {VOID}}}"
        )
    valid = g != VOID
    if not np.any(valid):
        raise ValueError("gt has no non-void pixels; the metric is undefined")
    return p[valid].astype(bool), g[valid] == 1


def mask_jaccard(pred: ArrayLike, gt: ArrayLike) -> float:
    """Jaccard index of one binary foreground mask pair (SSNM's J).

    SSNM (Zhang et al., AAAI 2020), Sec. 4.2 "Evaluation Metrics": "the
    Jaccard index J is defined as the intersection area of the predicted
    foreground objects and the ground truth divided by their union area",
    i.e. ``J = |P ∩ G| / |P ∪ G|`` over the foreground. The paper writes this
    only in prose and gives no numbered equation. Reported in Tables 1-5.
    Pixels that are void (255) in ``gt`` are ignored.

    Args:
        pred: ``(H, W)`` predicted mask, 0/1 or bool.
        gt: ``(H, W)`` ground-truth mask, values in {0, 1, 255}.

    Returns:
        J in [0, 1]. Returns 1.0 when prediction and ground truth both have
        no foreground (outside void).

    Raises:
        ValueError: if the shapes differ (the message names both), if values
            fall outside the allowed sets, or if every gt pixel is void.
    """
    p, g = _binary_pair(pred, gt)
    union = int(np.count_nonzero(p | g))
    if union == 0:
        return 1.0
    return float(np.count_nonzero(p & g)) / float(union)


def mask_precision(pred: ArrayLike, gt: ArrayLike) -> float:
    """Pixel precision of one binary foreground mask pair (SSNM's P).

    SSNM (Zhang et al., AAAI 2020), Sec. 4.2: "The precision P measures the
    percentage of the correctly segmented pixels for both foreground and
    background" (prose only, no numbered equation). This is the fraction of
    non-void pixels whose 0/1 label matches the ground truth. Despite the
    name, it is *not* TP/(TP+FP). Reported in Tables 1, 2, 4 and 5.

    Args:
        pred: ``(H, W)`` predicted mask, 0/1 or bool.
        gt: ``(H, W)`` ground-truth mask, values in {0, 1, 255}.

    Returns:
        P in [0, 1].

    Raises:
        ValueError: if the shapes differ (the message names both), if values
            fall outside the allowed sets, or if every gt pixel is void.
    """
    p, g = _binary_pair(pred, gt)
    return float(np.count_nonzero(p == g)) / float(p.size)


def foreground_iou(pred: ArrayLike, gt: ArrayLike) -> float:
    """Binary foreground IoU for video segmentation.

    Foreground Clustering (Sharma et al.), Table 2: "Intersection over Union
    (IoU) metric, also known as Jaccard index" on YouTube-Objects. This is
    the same quantity as SSNM's J, so it simply calls ``mask_jaccard``; see
    there for arguments, the void rule, the both-empty rule (1.0) and errors.
    """
    return mask_jaccard(pred, gt)


# --------------------------------------------------------------------------
# Semantic segmentation (confusion-matrix based)
# --------------------------------------------------------------------------


def confusion_matrix(
    pred: ArrayLike,
    gt: ArrayLike,
    num_classes: int,
    *,
    ignore_index: Optional[int] = VOID,
) -> np.ndarray:
    """Pixel confusion matrix of one (or a stack of) semantic mask pair(s).

    Add the per-image matrices over a dataset, then call
    ``iou_per_class`` / ``mean_iou`` (M-CNN Tables 1-3; Pinheiro & Collobert
    Tables 3-4) or ``pixel_accuracy_per_class`` (Pinheiro & Collobert
    Table 2).

    Args:
        pred: integer predicted labels, any shape (normally ``(H, W)``).
            Every value must be in ``[0, num_classes)``.
        gt: integer ground-truth labels, same shape as ``pred``. Values must
            be in ``[0, num_classes)`` or equal ``ignore_index``.
        num_classes: ``C``, including background (21 for PASCAL VOC).
        ignore_index: gt label whose pixels are left out (void = 255).
            ``None`` ignores nothing.

    Returns:
        ``(C, C)`` int64 matrix; rows = gt class, columns = predicted class.

    Raises:
        ValueError: if the shapes differ, ``num_classes < 1``, values are not
            integers, or values fall outside the ranges above.
    """
    if int(num_classes) != num_classes or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer; got {num_classes}")
    n = int(num_classes)
    p = np.asarray(pred)
    g = np.asarray(gt)
    if p.shape != g.shape:
        raise ValueError(
            f"pred and gt shapes differ: pred {p.shape} vs gt {g.shape}"
        )
    for name, arr in (("pred", p), ("gt", g)):
        if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == np.bool_):
            raise ValueError(f"{name} must hold integer labels; got dtype {arr.dtype}")
    p = p.astype(np.int64, copy=False).ravel()
    g = g.astype(np.int64, copy=False).ravel()

    bad_p = (p < 0) | (p >= n)
    if np.any(bad_p):
        raise ValueError(
            f"pred has values outside [0, {n}): e.g. {int(p[bad_p][0])}"
        )
    if ignore_index is not None:
        keep = g != ignore_index
        p, g = p[keep], g[keep]
    bad_g = (g < 0) | (g >= n)
    if np.any(bad_g):
        raise ValueError(
            f"gt has values outside [0, {n}) that are not ignore_index="
            f"{ignore_index}: e.g. {int(g[bad_g][0])}"
        )
    counts = np.bincount(g * n + p, minlength=n * n)
    return counts.reshape(n, n).astype(np.int64, copy=False)


def _as_conf(conf: ArrayLike) -> np.ndarray:
    """Validate a square confusion matrix and return it as float64."""
    arr = np.asarray(conf)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ValueError(
            f"confusion matrix must be square (C, C) with C >= 1; got shape {arr.shape}"
        )
    if np.any(arr < 0):
        raise ValueError("confusion matrix has negative counts")
    return arr.astype(np.float64)


def iou_per_class(conf: ArrayLike) -> np.ndarray:
    """Per-class IoU ``TP / (TP + FP + FN)``, the PASCAL VOC segmentation measure.

    M-CNN (Tokmakov et al.) Tables 1-3 report this for each class, and their
    mean includes background.

    Args:
        conf: ``(C, C)`` confusion matrix (rows = gt, cols = pred).

    Returns:
        ``(C,)`` float64 array. The entry is NaN for a class that appears in
        neither gt nor pred (TP + FP + FN = 0).
    """
    c = _as_conf(conf)
    tp = np.diag(c)
    denom = c.sum(axis=1) + c.sum(axis=0) - tp  # TP + FN + FP
    out = np.full(tp.shape, np.nan)
    np.divide(tp, denom, out=out, where=denom > 0)
    return out


def voc_ap_per_class(conf: ArrayLike) -> np.ndarray:
    """Pinheiro & Collobert's per-class "AP" (CVPR 2015, Tables 3-4).

    The paper calls its VOC 2012 segmentation score "average precision",
    but footnote 4 defines it as ``AP = TP / (TP + FP + FN)``. That is the
    PASCAL VOC segmentation IoU, not a precision-recall area. So this is
    only another name for ``iou_per_class`` and delegates to it. Their "mAP"
    is the mean over all 21 classes, background included, which is
    ``mean_iou(conf)`` with the default ``classes``.

    Args:
        conf: ``(C, C)`` confusion matrix (rows = gt, cols = pred).

    Returns:
        ``(C,)`` float64, NaN for classes absent from both gt and pred.
    """
    return iou_per_class(conf)


def _nanmean_over(values: np.ndarray, classes: Optional[Iterable[int]]) -> float:
    """Average ``values`` over ``classes``, ignoring NaN.

    Returns NaN, without a warning, when every selected value is NaN.
    """
    if classes is None:
        sel = values
    else:
        idx = np.asarray(list(classes), dtype=np.int64)
        if idx.ndim != 1 or idx.size == 0:
            raise ValueError("classes must be a non-empty 1-D sequence of class indices")
        if np.any((idx < 0) | (idx >= values.size)):
            raise ValueError(
                f"classes must be indices in [0, {values.size}); got {idx.tolist()}"
            )
        sel = values[idx]
    finite = sel[~np.isnan(sel)]
    if finite.size == 0:
        return float("nan")
    return float(finite.mean())


def mean_iou(conf: ArrayLike, *, classes: Optional[Iterable[int]] = None) -> float:
    """Mean of ``iou_per_class`` over ``classes``, skipping NaN (absent) classes.

    The caller decides whether background counts. M-CNN and Pinheiro &
    Collobert ("mAP") average over all 21 VOC classes including background,
    which is the default ``classes=None``. Pass ``classes=range(1, C)`` to
    drop background.

    Args:
        conf: ``(C, C)`` confusion matrix.
        classes: class indices to average over (default: all ``C``).

    Returns:
        Mean IoU in [0, 1] (not a percentage). NaN if every selected class is
        absent.

    Raises:
        ValueError: if ``classes`` is empty or holds out-of-range indices.
    """
    return _nanmean_over(iou_per_class(conf), classes)


def pixel_accuracy_per_class(conf: ArrayLike) -> np.ndarray:
    """Per-class pixel accuracy ``TP / (TP + FN)`` (i.e. per-class recall).

    Pinheiro & Collobert (CVPR 2015), Table 2 reports an "Averaged per-class
    accuracy" on VOC 2008/2009/2010, taken over from Zhang et al. (PGC).
    Sec. 4.3 defines it as "the ratio of correct classified pixels of each
    class". That means: among the pixels whose gt is class ``c``, the
    fraction predicted as ``c``, which is TP / (TP + FN). Average these with
    ``np.nanmean`` over the classes you want. The paper does not say whether
    background is included.

    Caveat: the PASCAL VOC 2008-2010 devkits also call their segmentation
    score "accuracy", and they define it as TP / (TP + FP + FN)
    (= ``iou_per_class``). Table 2's baseline numbers are copied from Zhang
    et al., and the seed text does not show which definition that paper
    used. We follow the paper's wording here.

    Args:
        conf: ``(C, C)`` confusion matrix (rows = gt, cols = pred).

    Returns:
        ``(C,)`` float64. NaN for classes with no gt pixels.
    """
    c = _as_conf(conf)
    tp = np.diag(c)
    gt_count = c.sum(axis=1)
    out = np.full(tp.shape, np.nan)
    np.divide(tp, gt_count, out=out, where=gt_count > 0)
    return out
