"""Qualitative figure of Foreground Clustering: key frames with the box and the segmentation the full QP
chose (objective (7), Sec. 4.1; rounding of Sec. 8.2), read from the variant's cached solve
(``results/<profile>/fc/<dataset>/<variant>.npz``, :func:`weakseg.methods.fc.run.solve_groups_of_units`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from weakseg.data.index import Dataset
from weakseg.preprocess.store import UnitData, load_unit
from weakseg.tables.figure_specs import QUALITATIVE
from weakseg.tables.qualitative import (
    COLOURS_NOTE,
    Panel,
    QualitativeFigure,
    binary_mask,
    panel_grid,
    round_robin,
)

BENCHMARK = QUALITATIVE["fc"].benchmark
"""Tables 1-2 (CorLoc and segmentation on YouTube-Objects)."""
VARIANTS = QUALITATIVE["fc"].variants
"""Variant drawn -> its label."""
ITEMS, COLUMNS = 8, 4


def select_items(index: pd.DataFrame, solved: Sequence[str], n: int = ITEMS) -> list[str]:
    """Key frames to draw: frames of ``solved`` (the items of the variant's solve) with a ground-truth box,
    those that also have a ground-truth mask first, chosen :func:`~weakseg.tables.qualitative.round_robin`
    over the classes in sorted order."""
    rows = index[index["item"].isin(set(solved)) & index["box_annotated"] & (index["boxes"].map(len) > 0)]
    rows = rows.sort_values("mask", key=lambda m: m.isna(), kind="stable")
    return round_robin(rows, sorted(set(rows["class"])), n)


def figure(ds: Dataset, predictions: UnitData, variant: str, n: int = ITEMS) -> QualitativeFigure:
    """Frames with the ground-truth boxes (green), the chosen box (red, argmax z) and the rounded
    segmentation (red fill; ground-truth mask outline in green where annotated)."""
    panels = []
    for item in select_items(ds.index, predictions.items, n):
        row = ds.row(item)
        box = predictions.get("box", item).astype(np.float64)
        panels.append(Panel(image=ds.image(item), title=f"{row['class']}: {item}",
                            mask=predictions.get("mask", item).astype(bool), gt_mask=binary_mask(ds.mask(item)),
                            gt_boxes=ds.boxes(item), pred_boxes=box[None]))
    label = VARIANTS[variant]
    return QualitativeFigure(
        title=f"Foreground Clustering (Sharma): {label} [{variant}] on {ds.meta.name} (benchmark {BENCHMARK})",
        rows=panel_grid(panels, COLUMNS),
        caption=f"Annotated key frames of the videos FC is run on, the first of each class in index order (frames "
                f"with a ground-truth mask first). {COLOURS_NOTE} "
                "Boxes: ground truth (green) and the box the QP chose (red); red fill: the segmentation rounded "
                "from the superpixel values; green outline: the ground-truth mask where the frame has one.")


def qualitative(inputs: Mapping[str, Any], params: Mapping[str, Any], log: logging.Logger) -> QualitativeFigure:
    """The figure from the rule's inputs: ``index`` and ``predictions`` (the solve of the variant of
    :data:`VARIANTS`); FC needs no ``params``."""
    predictions = load_unit(inputs["predictions"])
    log.info("%s: %d solved key frames", inputs["predictions"], len(predictions.items))
    return figure(Dataset(Path(inputs["index"]).parent), predictions, next(iter(VARIANTS)))
