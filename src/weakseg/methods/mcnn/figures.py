"""Qualitative figure of M-CNN, as its Fig. 4 (Sec. 4.3-4.4): VOC 2012 val images, their ground truth, and the
segmentations of weakly supervised EM-Adapt and of M-CNN trained on VOC + YouTube-Objects (the paper's
fully supervised DeepLab column has no counterpart here). Predictions are the trained models' per-pixel
argmax (:func:`weakseg.methods.mcnn.predict.predict_probs`, ids mapped as the evaluation does)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from weakseg.data.index import Dataset
from weakseg.features.device import pick_device
from weakseg.methods.mcnn.evaluate import to_dataset_ids
from weakseg.methods.mcnn.fcn import FCN
from weakseg.methods.mcnn.predict import predict_probs
from weakseg.methods.mcnn.run import load_model
from weakseg.tables.figure_specs import QUALITATIVE
from weakseg.tables.qualitative import Panel, QualitativeFigure, class_legend, round_robin

BENCHMARK, SPLIT = QUALITATIVE["mcnn"].benchmark, "val"
"""Tables 1-2: VOC 2012 val."""
VARIANTS = QUALITATIVE["mcnn"].variants
"""Variants drawn (Fig. 4's EM-Adapt and M-CNN columns; Table 2's best EM-Adapt) -> their labels."""
ITEMS = 6


def select_items(index: pd.DataFrame, classes: Sequence[str], n: int = ITEMS) -> list[str]:
    """Masked :data:`SPLIT` images, :func:`~weakseg.tables.qualitative.round_robin` over ``classes`` (the
    models' classes, in their order) by the image-level labels."""
    rows = index[(index["split"] == SPLIT) & index["mask"].notna()]
    return round_robin(rows, classes, n)


def segmentations(model: FCN, ds: Dataset, items: Sequence[str], device: torch.device,
                  batch_size: int) -> list[np.ndarray]:
    """int (H, W) dataset ids ``[background, *ds.classes]`` of the per-pixel argmax of ``model`` on ``items``."""
    lookup = to_dataset_ids(model, ds)
    return [lookup[p.argmax(axis=0)] for p in predict_probs(model, [ds.image(i) for i in items], device, batch_size)]


def figure(ds: Dataset, models: Mapping[str, FCN], device: torch.device, batch_size: int,
           n: int = ITEMS) -> QualitativeFigure:
    """One row per image: the image (title: its image-level labels), the ground truth, then each model."""
    first = next(iter(models.values()))
    items = select_items(ds.index, first.classes, n)
    predicted = {v: segmentations(m, ds, items, device, batch_size) for v, m in models.items()}
    rows, maps = [], []
    for k, item in enumerate(items):
        gt = ds.mask(item)
        maps += [gt, *(predicted[v][k] for v in models)]
        rows.append((Panel(image=ds.image(item), title=f"{item}: {', '.join(ds.row(item)['labels'])}"),
                     Panel(image=ds.image(item), title="ground truth", labels=gt),
                     *(Panel(image=ds.image(item), title=f"{VARIANTS[v]} [{v}]", labels=predicted[v][k])
                       for v in models)))
    return QualitativeFigure(
        title=f"M-CNN (Tokmakov et al.), as Fig. 4: {ds.meta.name} (benchmark {BENCHMARK}, {SPLIT} split)",
        rows=tuple(rows), legend=class_legend(ds.classes, maps),
        caption=f"Semantic segmentation, seed-0 models; the first {SPLIT} images with each of the models' "
                f"{len(first.classes)} classes, in index order. Colours: PASCAL VOC palette per class (background "
                "black); ground truth with every class of the dataset (Tables 1-2 score only the models' classes).")


def qualitative(inputs: Mapping[str, Any], params: Mapping[str, Any], log: logging.Logger) -> QualitativeFigure:
    """The figure from the rule's inputs (``index``, and per variant of :data:`VARIANTS` its seed-0 model) and
    params (config ``mcnn``: ``network``, ``batch_size``, ``device``)."""
    device = pick_device(params["device"])
    models = {v: load_model(inputs[v], params["network"], device)[0] for v in VARIANTS}
    log.info("models %s on %s", list(models), device)
    return figure(Dataset(Path(inputs["index"]).parent), models, device, params["batch_size"])
