"""From foreground maps to boxes and CorLoc: the CAM box protocol of CoLo-CAM's evaluation.

CoLo-CAM (Belharbi et al.), Sec. 3 "Inference": "Using standard procedures [3, 12], a
localization bounding box is extracted from the foreground CAM of the decoder"; Sec. 4
"Evaluation Metric": CorLoc, the percentage of frames whose box has IoU > 50% with the ground
truth. The procedure itself is only in the authors' code (sbelharbi/colo-cam,
``dlib/metrics/wsol_metrics.py`` and ``dlib/learning/inference_wsol.py``, inherited from
clovaai/wsolevaluation), which this module follows:

1. The foreground map (H, W) in [0, 1], at 224x224 in the authors' runs, is quantised to uint8
   (``(map * 255).astype(uint8)``) and binarised at every threshold tau of
   ``arange(0, 1, 0.001)`` as ``q > int(tau * q.max())``: tau is relative to the map's maximum.
2. ``cv2.findContours`` (``RETR_TREE``, ``CHAIN_APPROX_SIMPLE``) on the binary map; only the
   contour of largest ``cv2.contourArea`` is kept (``multi_contour_eval`` is off unless the
   MaxBoxAccV2 metric is asked for); its ``cv2.boundingRect`` is the box.
3. IoU with each ground-truth box of the frame uses inclusive corners (the +1 pixel
   convention, :func:`weakseg.metrics.box_iou` with ``plus_one=True``) after the authors clip
   the predicted box's right/bottom edge to ``W - 1`` / ``H - 1``; a frame counts as correct at
   tau if its IoU with ANY ground-truth box is ``>= 0.5`` (the code; the paper's text says
   "> 50%": ``strict=True``).
4. The threshold is chosen on the evaluated split itself, in one of two ways
   (:data:`PROTOCOL_PER_CLASS_TAU`, :data:`PROTOCOL_GLOBAL_TAU`).

Boxes returned here are ``[x_min, y_min, x_max, y_max]`` in continuous corners (a blob over
pixel columns 0..9 gives x_min=0, x_max=10); the authors' clipping and +1 convention are
applied only inside :func:`max_iou_at_thresholds`. A map with no pixel above a threshold gives
a NaN box (the authors' code uses [0, 0, 0, 0], a one-pixel box at the corner); it always
counts as a miss.
"""

from __future__ import annotations

from collections.abc import Hashable

import cv2
import numpy as np
from numpy.typing import ArrayLike

from weakseg.metrics import box_iou

CAM_THRESHOLDS: np.ndarray = np.arange(0, 1, 0.001)
"""The authors' thresholds tau (``cam_curve_interval = 0.001``): 1000 values 0, 0.001, ..., 0.999."""

IOU_THRESHOLD = 0.5
"""CorLoc's IoU threshold (CoLo-CAM Sec. 4, "Evaluation Metric")."""

PROTOCOL_PER_CLASS_TAU = "CoLo-CAM code: best tau per class on the evaluated split, CorLoc averaged over classes"
"""Protocol of :func:`corloc_per_class_best_threshold` (sbelharbi/colo-cam ``compute_and_evaluate_cams``)."""

PROTOCOL_GLOBAL_TAU = "TCAM code: one best tau for the evaluated split, CorLoc over frames"
"""Protocol of :func:`corloc_global_threshold` (wsolevaluation ``BoxEvaluator.compute``, used by TCAM)."""


def _check_map(fg_map: ArrayLike) -> np.ndarray:
    arr = np.asarray(fg_map)
    if arr.ndim != 2 or arr.size == 0 or not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"fg_map must be a non-empty float array of shape (H, W); got {arr.dtype} {arr.shape}")
    if not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1:
        raise ValueError(f"fg_map must hold finite values in [0, 1]; got range [{arr.min()}, {arr.max()}]")
    return arr


def _check_thresholds(thresholds: ArrayLike) -> np.ndarray:
    taus = np.asarray(thresholds, dtype=np.float64)
    if taus.ndim != 1 or taus.size == 0:
        raise ValueError(f"thresholds must be a non-empty 1-D array (T,); got shape {taus.shape}")
    if not np.all(np.isfinite(taus)) or taus.min() < 0 or taus.max() > 1:
        raise ValueError(f"thresholds must be finite values in [0, 1]; got range [{taus.min()}, {taus.max()}]")
    return taus


def _largest_contour_box(mask: np.ndarray) -> np.ndarray:
    """Continuous-corner box (4,) of the contour of largest ``cv2.contourArea`` in a uint8 0/1 mask,
    ties going to the first contour OpenCV lists (Python's ``max``, as in the authors' code).

    ``RETR_EXTERNAL`` instead of the authors' ``RETR_TREE``: a hole's contour lies inside its
    blob's outer contour, so it never is the strict largest, and the outer contours come in the
    same order; the boxes are the same (checked against the authors' loop in the tests) and noisy
    maps, with thousands of holes, are traced about 4x faster.
    """
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    x, y, w, h = cv2.boundingRect(max(contours, key=cv2.contourArea))
    return np.array([x, y, x + w, y + h], dtype=np.float64)


def boxes_at_thresholds(fg_map: ArrayLike, thresholds: ArrayLike = CAM_THRESHOLDS, *,
                        relative_to_max: bool = True) -> np.ndarray:
    """The box of the largest contour of ``fg_map`` binarised at every threshold (steps 1-2 above).

    Args:
        fg_map: (H, W) float foreground map in [0, 1] (CoLo-CAM: the decoder's foreground
            softmax map at 224x224).
        thresholds: (T,) thresholds tau in [0, 1]; default :data:`CAM_THRESHOLDS`.
        relative_to_max: True (the authors' code): foreground is ``q > int(tau * q.max())`` with
            ``q = (fg_map * 255).astype(uint8)``. False: plain ``fg_map > tau`` on the float map.

    Returns:
        (T, 4) float64 boxes ``[x_min, y_min, x_max, y_max]`` in continuous corners, one per
        threshold; a row is NaN where no pixel passes the threshold (then counted as a miss).

    Every distinct binary map is traced once: thresholds are grouped by the number of map levels
    they lie above, so at most min(T, number of distinct map values + 1) contour searches run
    (at most 257 with ``relative_to_max``).
    """
    values = _check_map(fg_map)
    taus = _check_thresholds(thresholds)
    if relative_to_max:
        values = (values * 255).astype(np.uint8)
        cuts = np.trunc(taus * float(values.max()))
    else:
        cuts = taus
    levels = np.unique(values)
    keys = np.searchsorted(levels, cuts, side="right")  # foreground: values >= levels[key]
    boxes = np.full((taus.size, 4), np.nan)
    for key in np.unique(keys[keys < levels.size]):
        mask = (values >= levels[key]).astype(np.uint8)
        boxes[keys == key] = _largest_contour_box(mask)
    return boxes


def max_iou_at_thresholds(boxes: ArrayLike, gt_boxes: ArrayLike, map_shape: tuple[int, int]) -> np.ndarray:
    """Best IoU of each predicted box with the frame's ground-truth boxes, as the authors compute it.

    The predicted ``x_max`` / ``y_max`` are clipped to ``W - 1`` / ``H - 1`` (wsolevaluation's
    ``compute_bboxes_from_scoremaps``) and IoU uses inclusive corners (``plus_one=True``). The
    ground-truth boxes must already be in the map's frame: the authors scale them to 224x224
    and truncate each coordinate to an int (``resize_bbox``).

    Args:
        boxes: (T, 4) boxes from :func:`boxes_at_thresholds`; NaN rows are allowed.
        gt_boxes: (M, 4) ground-truth boxes ``[x_min, y_min, x_max, y_max]``, M >= 1.
        map_shape: (H, W) of the map the boxes came from.

    Returns:
        (T,) float64 IoU in [0, 1]: the maximum over the ground-truth boxes (a frame is correct if
        any box matches); 0 for a NaN box.
    """
    pred = np.asarray(boxes, dtype=np.float64)
    if pred.ndim != 2 or pred.shape[1] != 4:
        raise ValueError(f"boxes must have shape (T, 4) as (x_min, y_min, x_max, y_max); got {pred.shape}")
    gts = np.asarray(gt_boxes, dtype=np.float64)
    if gts.ndim != 2 or gts.shape[1] != 4 or gts.shape[0] == 0:
        raise ValueError(f"gt_boxes must have shape (M, 4) with M >= 1; got {gts.shape}")
    if len(map_shape) != 2 or min(map_shape) < 1:
        raise ValueError(f"map_shape must be (H, W) with positive sizes; got {map_shape}")
    height, width = map_shape
    found = ~np.isnan(pred).any(axis=1)
    clipped = pred[found].copy()
    clipped[:, 2] = np.minimum(clipped[:, 2], width - 1)
    clipped[:, 3] = np.minimum(clipped[:, 3], height - 1)
    ious = np.zeros(pred.shape[0])
    ious[found] = box_iou(clipped, gts, plus_one=True).max(axis=1)
    return ious


def _correct(ious: ArrayLike, strict: bool) -> np.ndarray:
    """(N, T) bool: IoU passes :data:`IOU_THRESHOLD` (``>=``, or ``>`` when strict); NaN is a miss."""
    arr = np.asarray(ious, dtype=np.float64)
    if arr.ndim != 2 or 0 in arr.shape:
        raise ValueError(f"ious must be a non-empty array of shape (N frames, T thresholds); got {arr.shape}")
    known = arr[~np.isnan(arr)]
    if known.size and (known.min() < 0 or known.max() > 1):
        raise ValueError(f"ious must lie in [0, 1] (NaN = no box); got range [{known.min()}, {known.max()}]")
    filled = np.nan_to_num(arr, nan=0.0)
    return filled > IOU_THRESHOLD if strict else filled >= IOU_THRESHOLD


def _check_curve_thresholds(thresholds: ArrayLike, n_thresholds: int) -> np.ndarray:
    taus = np.asarray(thresholds, dtype=np.float64)
    if taus.shape != (n_thresholds,):
        raise ValueError(f"thresholds must have shape (T,) = ({n_thresholds},) to match ious; got {taus.shape}")
    return taus


def corloc_curve(ious: ArrayLike, *, strict: bool = False) -> np.ndarray:
    """CorLoc (percent) of a set of frames at every threshold.

    Args:
        ious: (N, T) best IoU of frame n's box at threshold t (:func:`max_iou_at_thresholds`);
            NaN counts as a miss.
        strict: False: correct when IoU >= 0.5 (the authors' code); True: IoU > 0.5 (the paper's text).

    Returns:
        (T,) float64 in [0, 100].
    """
    return 100.0 * _correct(ious, strict).mean(axis=0)


def corloc_curves_per_class(ious: ArrayLike, classes: ArrayLike, *, strict: bool = False) -> dict[Hashable, np.ndarray]:
    """:func:`corloc_curve` of each class's frames.

    Args:
        ious: (N, T) as in :func:`corloc_curve`.
        classes: (N,) class of each frame (ints or strings).
        strict: as in :func:`corloc_curve`.

    Returns:
        class -> (T,) CorLoc in percent, classes in sorted order (Python scalars as keys).
    """
    correct = _correct(ious, strict)
    labels = np.asarray(classes)
    if labels.shape != (correct.shape[0],):
        raise ValueError(f"classes must have shape (N,) = ({correct.shape[0]},) to match ious; got {labels.shape}")
    return {cls.item() if isinstance(cls, np.generic) else cls: 100.0 * correct[labels == cls].mean(axis=0)
            for cls in np.unique(labels)}


def corloc_per_class_best_threshold(ious: ArrayLike, classes: ArrayLike, thresholds: ArrayLike = CAM_THRESHOLDS, *,
                                    strict: bool = False) -> tuple[float, dict[Hashable, float]]:
    """CorLoc under :data:`PROTOCOL_PER_CLASS_TAU`, CoLo-CAM's reported numbers (Tables 1-3, 5-8).

    Per class, the threshold maximising that class's CorLoc on the evaluated split (the first one
    on ties, ``np.argmax``); the result is the mean over the classes present of those best
    per-class CorLocs (each class weighs the same, whatever its number of frames). A class's own
    CorLoc is ``corloc_curves_per_class(...)[cls].max()``.

    Args:
        ious: (N, T) best IoU of frame n at threshold t; NaN counts as a miss.
        classes: (N,) class of each frame.
        thresholds: (T,) the thresholds of the columns of ``ious``; default :data:`CAM_THRESHOLDS`.
        strict: False: IoU >= 0.5 (the authors' code); True: IoU > 0.5 (the paper's text).

    Returns:
        (CorLoc in percent, {class: its best threshold}).
    """
    curves = corloc_curves_per_class(ious, classes, strict=strict)
    taus = _check_curve_thresholds(thresholds, next(iter(curves.values())).size)
    best = {cls: int(np.argmax(curve)) for cls, curve in curves.items()}
    value = float(np.mean([curves[cls][i] for cls, i in best.items()]))
    return value, {cls: float(taus[i]) for cls, i in best.items()}


def corloc_global_threshold(ious: ArrayLike, thresholds: ArrayLike = CAM_THRESHOLDS, *,
                            strict: bool = False) -> tuple[float, float]:
    """CorLoc under :data:`PROTOCOL_GLOBAL_TAU`: one threshold for every frame of the split.

    The threshold maximising CorLoc over all frames of the evaluated split (the first one on
    ties); frames weigh the same, so large classes weigh more than under
    :func:`corloc_per_class_best_threshold`.

    Args:
        ious: (N, T) best IoU of frame n at threshold t; NaN counts as a miss.
        thresholds: (T,) the thresholds of the columns of ``ious``; default :data:`CAM_THRESHOLDS`.
        strict: False: IoU >= 0.5 (the authors' code); True: IoU > 0.5 (the paper's text).

    Returns:
        (CorLoc in percent, the best threshold).
    """
    curve = corloc_curve(ious, strict=strict)
    taus = _check_curve_thresholds(thresholds, curve.size)
    best = int(np.argmax(curve))
    return float(curve[best]), float(taus[best])
