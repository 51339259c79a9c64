"""From per-item evaluations to one table cell.

A method's evaluation is a parquet file with one row per item (image or frame):
``item``, ``split``, ``class`` (the unit's class, None for scenes) and the metric's
own columns:

==============================  =========================================================
metric                          per-item column(s) and aggregation
==============================  =========================================================
corloc                          ``correct`` (bool): % correct (weakseg.metrics.corloc)
corloc_global                   ``correct_global`` (bool): % correct with one threshold for the
                                whole split (CoLo-CAM's second box protocol)
fg_iou, jaccard                 ``jaccard`` (float in [0, 1]): mean x 100
precision                       ``precision`` (float in [0, 1]): mean x 100
voc_iou, voc_ap, class_accuracy ``confusion`` (flattened (K+1)x(K+1) int counts, rows = gt,
                                classes ``[background, *dataset classes]``): summed over
                                items, then per-class IoU / accuracy x 100
cost metrics (time_ms, ...)     a column of the same name: mean
==============================  =========================================================

Each aggregator takes ``(evaluation, cls, classes)``: ``cls`` None means all items (for
confusion metrics: the mean over all classes, background included, as VOC does).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from weakseg import metrics

Aggregator = Callable[[pd.DataFrame, "str | None", Sequence[str]], float]
COST_METRICS: tuple[str, ...] = ("time_ms", "train_step_s", "fps", "params_m", "learnable_params_m",
                                 "flops_g", "macs_g", "n_train")


def _items_of(ev: pd.DataFrame, cls: str | None) -> pd.DataFrame:
    return ev if cls is None else ev[ev["class"] == cls]


def _percent_mean(column: str) -> Aggregator:
    def agg(ev: pd.DataFrame, cls: str | None, classes: Sequence[str]) -> float:
        sel = _items_of(ev, cls)
        return float(100 * sel[column].mean()) if len(sel) else float("nan")
    return agg


def _corloc(ev: pd.DataFrame, cls: str | None, classes: Sequence[str]) -> float:
    sel = _items_of(ev, cls)
    return metrics.corloc(sel["correct"].to_numpy(bool)) if len(sel) else float("nan")


def _from_confusion(per_class: Callable[[np.ndarray], np.ndarray]) -> Aggregator:
    def agg(ev: pd.DataFrame, cls: str | None, classes: Sequence[str]) -> float:
        k = len(classes)
        if ev.empty:
            return float("nan")
        conf = np.stack([np.asarray(c, dtype=np.int64) for c in ev["confusion"]]).sum(0)
        if conf.size != k * k:
            raise ValueError(f"confusion has {conf.size} entries; expected {k}x{k} for classes {list(classes)}")
        scores = per_class(conf.reshape(k, k))
        if cls is None:
            return float(100 * np.nanmean(scores)) if np.isfinite(scores).any() else float("nan")
        return float(100 * scores[list(classes).index(cls)])
    return agg


def _mean_of(column: str) -> Aggregator:
    def agg(ev: pd.DataFrame, cls: str | None, classes: Sequence[str]) -> float:
        sel = _items_of(ev, cls)
        return float(sel[column].mean()) if len(sel) else float("nan")
    return agg


AGGREGATORS: dict[str, Aggregator] = {
    "corloc": _corloc,
    "corloc_global": _percent_mean("correct_global"),
    "fg_iou": _percent_mean("jaccard"),
    "jaccard": _percent_mean("jaccard"),
    "precision": _percent_mean("precision"),
    "voc_iou": _from_confusion(metrics.iou_per_class),
    "voc_ap": _from_confusion(metrics.voc_ap_per_class),
    "class_accuracy": _from_confusion(metrics.pixel_accuracy_per_class),
    **{m: _mean_of(m) for m in COST_METRICS},
}
CONFUSION_METRICS: frozenset[str] = frozenset({"voc_iou", "voc_ap", "class_accuracy"})
