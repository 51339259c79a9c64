"""CoLo-CAM's evaluation: localization maps -> one CorLoc record per frame, under both threshold protocols.

CoLo-CAM (Belharbi et al.), Sec. 3 "Inference" and Sec. 4 "Evaluation Metric": the box of each
test frame comes from its foreground map (the decoder's S^1, or a classifier CAM for the
baselines), and CorLoc is the percentage of frames whose box has IoU >= 0.5 with a ground-truth
box. The box protocol (thresholds tau relative to the map's maximum, largest contour, the +1 IoU
convention) is :mod:`weakseg.methods.colocam.boxes`; this module applies it to a whole split and
turns the two ways of choosing tau into per-frame records the table builder averages
(:mod:`weakseg.tables.aggregate`: a ``correct`` bool column, averaged per class x 100):

* ``correct``: :data:`~weakseg.methods.colocam.boxes.PROTOCOL_PER_CLASS_TAU` (CoLo-CAM's code),
  the best tau of each class on this split. The mean of ``correct`` over a class's frames is
  that class's CorLoc of :func:`~weakseg.methods.colocam.boxes.corloc_per_class_best_threshold`;
  the paper's "Avg" is the mean of those per-class CorLocs.
* ``correct_global``: :data:`~weakseg.methods.colocam.boxes.PROTOCOL_GLOBAL_TAU` (TCAM's code),
  one tau for the split; its mean over all frames is
  :func:`~weakseg.methods.colocam.boxes.corloc_global_threshold`.

Ties between thresholds go to the first one in ``thresholds`` order (``np.argmax``, as
boxes.py), i.e. the smallest tau for the ascending default
:data:`~weakseg.methods.colocam.boxes.CAM_THRESHOLDS`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from numpy.typing import ArrayLike

from weakseg.methods.colocam.boxes import (
    CAM_THRESHOLDS,
    IOU_THRESHOLD,
    boxes_at_thresholds,
    corloc_global_threshold,
    corloc_per_class_best_threshold,
    max_iou_at_thresholds,
)

EVALUATION_COLUMNS: tuple[str, ...] = ("item", "class", "iou_class", "tau_class", "correct",
                                       "iou_global", "tau_global", "correct_global")
"""Columns of :func:`evaluate_localization`, in order."""


def localization_maps_at(maps: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    """Resize localization maps to the evaluation frame (bilinear, ``align_corners=False``) and clip to [0, 1].

    Args:
        maps: (B, H', W') float tensor, e.g. the decoder's foreground map S^1 or a classifier CAM.
        size: (H, W) target size, the frame resolution the ground-truth boxes are given in.

    Returns:
        (B, H, W) float32 numpy array in [0, 1].
    """
    if maps.ndim != 3 or not maps.is_floating_point():
        raise ValueError(f"maps must be a float tensor of shape (B, H', W'); got {maps.dtype} {tuple(maps.shape)}")
    if len(size) != 2 or any(int(s) != s or s < 1 for s in size):
        raise ValueError(f"size must be (H, W) with positive integer sizes; got {size}")
    resized = F.interpolate(maps.detach()[:, None].float(), size=(int(size[0]), int(size[1])), mode="bilinear",
                            align_corners=False)[:, 0]
    return resized.clamp(0.0, 1.0).cpu().numpy().astype(np.float32)


def _check_inputs(items: Sequence[str], classes: Sequence[str], maps: np.ndarray,
                  gt_boxes: Sequence[np.ndarray]) -> list[np.ndarray]:
    n = len(items)
    if n == 0:
        raise ValueError("items must not be empty: there is nothing to evaluate")
    duplicated = pd.Index(items)[pd.Index(items).duplicated()]
    if len(duplicated):
        raise ValueError(f"items must be unique; {duplicated[0]!r} appears more than once")
    if len(classes) != n or len(gt_boxes) != n:
        raise ValueError(f"classes ({len(classes)}) and gt_boxes ({len(gt_boxes)}) must have one entry per item ({n})")
    if maps.ndim != 3 or maps.shape[0] != n or not np.issubdtype(maps.dtype, np.floating):
        raise ValueError(f"maps must be a float array of shape (N={n}, H, W); got {maps.dtype} {maps.shape}")
    bad = ~np.isfinite(maps).all(axis=(1, 2)) | (maps.min(axis=(1, 2)) < 0) | (maps.max(axis=(1, 2)) > 1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"maps must hold finite values in [0, 1]; the map of item {items[i]!r} has range "
                         f"[{maps[i].min()}, {maps[i].max()}]")
    boxes = []
    for item, gts in zip(items, gt_boxes):
        arr = np.asarray(gts, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != 4:
            raise ValueError(f"gt_boxes of item {item!r} must have shape (k, 4); got {arr.shape}")
        if arr.shape[0] == 0:
            raise ValueError(f"gt_boxes of item {item!r} is empty: leave frames without boxes out of the evaluation")
        boxes.append(arr)
    return boxes


def evaluate_localization(items: Sequence[str], classes: Sequence[str], maps: np.ndarray,
                          gt_boxes: Sequence[np.ndarray], thresholds: ArrayLike = CAM_THRESHOLDS) -> pd.DataFrame:
    """Per-frame CorLoc records of a split's localization maps under both threshold protocols.

    Every map is turned into one box per threshold
    (:func:`~weakseg.methods.colocam.boxes.boxes_at_thresholds`, tau relative to the map's
    maximum on the uint8-quantised map, largest contour), scored against the frame's boxes
    (:func:`~weakseg.methods.colocam.boxes.max_iou_at_thresholds`: best IoU over the
    ground-truth boxes, +1 convention, predicted right/bottom edges clipped to W-1 / H-1), and
    the thresholds are chosen on this very split, as the authors' code does.

    Args:
        items: (N,) unique frame ids.
        classes: (N,) class of each frame (the video's class).
        maps: (N, H, W) float maps in [0, 1] at frame resolution (:func:`localization_maps_at`).
        gt_boxes: N arrays (k_i, 4), k_i >= 1, ``[x_min, y_min, x_max, y_max]`` in the maps' pixel
            frame, continuous corners (the dataset index convention of :mod:`weakseg.data.index`).
        thresholds: (T,) thresholds tau in [0, 1]; default
            :data:`~weakseg.methods.colocam.boxes.CAM_THRESHOLDS` (1000 values).

    Returns:
        One row per item, in input order, columns :data:`EVALUATION_COLUMNS`: ``iou_class``
        (float, IoU of the box at the class's best tau), ``tau_class``, ``correct`` (bool,
        ``iou_class >= 0.5``), and ``iou_global``, ``tau_global``, ``correct_global`` the same at
        the split's single best tau. The caller adds ``split``.
    """
    maps = np.asarray(maps)
    boxes = _check_inputs(items, classes, maps, gt_boxes)
    taus = np.asarray(thresholds, dtype=np.float64)
    shape = (maps.shape[1], maps.shape[2])
    ious = np.stack([max_iou_at_thresholds(boxes_at_thresholds(fg, taus), gts, shape)
                     for fg, gts in zip(maps, boxes)])
    _, tau_of_class = corloc_per_class_best_threshold(ious, list(classes), taus)
    _, tau_global = corloc_global_threshold(ious, taus)
    # the taus boxes.py returns are elements of ``taus``: their first column is the argmax it chose
    column = {cls: int(np.flatnonzero(taus == tau)[0]) for cls, tau in tau_of_class.items()}
    rows = np.arange(len(items))
    class_columns = np.array([column[cls] for cls in classes])
    iou_class = ious[rows, class_columns]
    iou_global = ious[:, int(np.flatnonzero(taus == tau_global)[0])]
    return pd.DataFrame({
        "item": list(items),
        "class": list(classes),
        "iou_class": iou_class,
        "tau_class": taus[class_columns],
        "correct": iou_class >= IOU_THRESHOLD,
        "iou_global": iou_global,
        "tau_global": np.full(len(items), tau_global),
        "correct_global": iou_global >= IOU_THRESHOLD,
    }, columns=list(EVALUATION_COLUMNS))
