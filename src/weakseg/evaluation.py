"""Per-item evaluation of a method's predictions, shared by all methods.

Writes the rows that :mod:`weakseg.tables.aggregate` aggregates: one row per evaluated
item with ``item``, ``split``, ``class`` and the metric columns (``correct`` for CorLoc,
``jaccard`` and ``precision`` for masks, ``confusion`` for semantic segmentation). Only items with the annotation a metric needs
are evaluated: box-annotated frames where the object is present for CorLoc, items with a
mask for J and P.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from weakseg import metrics
from weakseg.data.index import VOID, Dataset

SKIPPED = "skipped"
"""``DataFrame.attrs`` key of an evaluation: reason -> number of items the protocol skipped (parquet keeps it)."""
ABSENT_OBJECT = "annotated frames without the object (CorLoc scores the frames that show it)"


def note_skipped(rows: pd.DataFrame, counts: Mapping[str, int]) -> pd.DataFrame:
    """``rows`` with the items the protocol skipped recorded beside them (``counts``: reason -> number, zeros
    dropped), so that the tables footnote them instead of a silently different denominator."""
    out = rows.copy()
    out.attrs[SKIPPED] = {**rows.attrs.get(SKIPPED, {}), **{r: int(n) for r, n in counts.items() if n}}
    return out


def _merged_skips(parts: Sequence[pd.DataFrame]) -> dict[str, int]:
    """Skip counts of evaluation parts of the same items (several metrics, or seeds): per reason the largest."""
    out: dict[str, int] = {}
    for p in parts:
        for reason, n in p.attrs.get(SKIPPED, {}).items():
            out[reason] = max(out.get(reason, 0), int(n))
    return out


def skipped_notes(evaluations: Mapping[tuple[str, str], pd.DataFrame]) -> list[str]:
    """One footnote per (benchmark, reason, count) over the evaluations ``(variant, benchmark) -> rows`` of a table,
    naming the variants it applies to (or "every measured row")."""
    groups: dict[tuple[str, str, int], list[str]] = {}
    for (variant, bench), ev in sorted(evaluations.items()):
        for reason, n in ev.attrs.get(SKIPPED, {}).items():
            groups.setdefault((bench, reason, int(n)), []).append(variant)
    variants = {v for v, _ in evaluations}
    return [f"{bench}: {n} {reason} skipped, in "
            f"{'every measured row' if set(names) == variants else ', '.join(names)}."
            for (bench, reason, n), names in groups.items()]


def evaluate_boxes(ds: Dataset, boxes: Mapping[str, np.ndarray | None], *, threshold: float = 0.5,
                   strict: bool = True, plus_one: bool = False) -> pd.DataFrame:
    """CorLoc rows for every item of ``boxes`` (item -> predicted box (4,) or None) whose
    ground truth has a box; annotated items without one are skipped (no object to localise) and
    counted (:func:`note_skipped`)."""
    rows = []
    absent = 0
    index = ds.index.set_index("item")
    for item, pred in boxes.items():
        gts = ds.boxes(item)
        if not index.at[item, "box_annotated"]:
            continue
        if len(gts) == 0:
            absent += 1
            continue
        rows.append({"item": item, "split": index.at[item, "split"], "class": index.at[item, "class"],
                     "correct": metrics.box_correct(pred, gts, threshold=threshold, strict=strict,
                                                    plus_one=plus_one)})
    return note_skipped(pd.DataFrame(rows, columns=["item", "split", "class", "correct"]), {ABSENT_OBJECT: absent})


def evaluate_masks(ds: Dataset, masks: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """J and P rows for every item of ``masks`` (item -> bool (H, W)) that has a ground-truth
    binary mask."""
    rows = []
    index = ds.index.set_index("item")
    for item, pred in masks.items():
        gt = ds.mask(item)
        if gt is None:
            continue
        rows.append({"item": item, "split": index.at[item, "split"], "class": index.at[item, "class"],
                     "jaccard": metrics.mask_jaccard(pred, gt), "precision": metrics.mask_precision(pred, gt)})
    return pd.DataFrame(rows, columns=["item", "split", "class", "jaccard", "precision"])


def evaluate_semantic(ds: Dataset, labels: Mapping[str, np.ndarray],
                      relevant: Sequence[str] | None = None) -> pd.DataFrame:
    """Confusion rows for semantic segmentation: every item of ``labels`` (item -> int (H, W)
    predicted ids in ``[background, *ds.classes]``, 0 = background) with a ground-truth mask.

    ``relevant`` (a subset of ``ds.classes``) applies the subset protocol of M-CNN Sec. 4.1:
    images whose ground truth shows none of the relevant classes are left out, and pixels of the
    other classes count as background. ``confusion`` is the flattened (K+1) x (K+1) count matrix
    over ``[background, *ds.classes]`` (rows = ground truth, void pixels ignored).
    """
    classes = list(ds.classes)
    unknown = sorted(set(relevant or ()) - set(classes))
    if unknown:
        raise ValueError(f"relevant classes {unknown} are not classes of {ds.root}: {classes}")
    keep = np.zeros(len(classes) + 1, dtype=bool)
    keep[0] = True
    keep[[1 + classes.index(c) for c in (relevant or classes)]] = True
    rows = []
    for item, pred in labels.items():
        gt = ds.mask(item)
        if gt is None:
            continue
        gt = gt.astype(np.int64)
        valid = gt != VOID
        if relevant is not None:
            if not keep[1:][np.unique(gt[valid & (gt > 0)]) - 1].any():
                continue
            gt = np.where(valid & ~keep[np.where(valid, gt, 0)], 0, gt)
        row = ds.row(item)
        conf = metrics.confusion_matrix(pred, gt, len(classes) + 1, ignore_index=VOID)
        rows.append({"item": item, "split": row["split"], "class": row["class"], "confusion": conf.ravel()})
    return pd.DataFrame(rows, columns=["item", "split", "class", "confusion"])


def merge_evaluations(*parts: pd.DataFrame) -> pd.DataFrame:
    """Outer-join evaluation parts on (item, split, class): one row per item."""
    non_empty = [p for p in parts if len(p)]
    if not non_empty:
        return note_skipped(pd.DataFrame(columns=["item", "split", "class"]), _merged_skips(parts))
    out = non_empty[0]
    for p in non_empty[1:]:
        out = out.merge(p, on=["item", "split", "class"], how="outer")
    return note_skipped(out.sort_values("item", kind="stable").reset_index(drop=True), _merged_skips(parts))


def evaluate_models(paths: Sequence[str], load: Callable[[str], tuple[Any, dict[str, Any]]],
                    evaluate: Callable[[Any, dict[str, Any]], pd.DataFrame], log: logging.Logger) -> pd.DataFrame:
    """Per-item rows of every trained model in ``paths`` (one per seed), with a ``seed`` column:
    ``load(path) -> (model, state)`` (state holds ``seed``), ``evaluate(model, state) -> rows``."""
    parts = []
    for path in paths:
        model, state = load(path)
        rows = evaluate(model, state)
        parts.append(rows.assign(seed=state["seed"]))
        log.info("%s: %d items evaluated", path, len(rows))
    return note_skipped(pd.concat(parts, ignore_index=True), _merged_skips(parts))

