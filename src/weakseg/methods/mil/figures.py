"""Qualitative figure of Pinheiro & Collobert, as their Fig. 4 (Sec. 4.3 "Effect of Priors"): each image with
its image-level labels, the segmentation with the image-level prior (eq. 7, base+ILP) and with the ILP and the
SP-seg smoothing prior (Sec. 3.2.1), from the LSE model (:func:`weakseg.methods.mil.run.probabilities`); the
SP-seg class thresholds are chosen on the val split by :func:`weakseg.methods.mil.run.evaluate`, as in the
evaluation."""

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
from weakseg.methods.mil.network import MILNet
from weakseg.methods.mil.priors import image_level_prior, smoothed_labels
from weakseg.methods.mil.run import _objectness, evaluate, load_model, probabilities
from weakseg.preprocess.store import UnitData, load_unit, merge_units
from weakseg.tables.figure_specs import QUALITATIVE
from weakseg.tables.qualitative import Panel, QualitativeFigure, class_legend, round_robin

BENCHMARK, SPLIT = QUALITATIVE["mil"].benchmark, "val"
"""Table 4 (the effect of the priors): VOC 2012 val."""
VARIANTS = QUALITATIVE["mil"].variants
"""Variants drawn (Fig. 4's centre and right columns) -> their labels; the last one is the smoothing prior
whose thresholds and product the figure uses."""
ITEMS = 6


def select_items(index: pd.DataFrame, classes: Sequence[str], n: int = ITEMS) -> list[str]:
    """Masked :data:`SPLIT` images, :func:`~weakseg.tables.qualitative.round_robin` over ``classes`` by the
    image-level labels."""
    rows = index[(index["split"] == SPLIT) & index["mask"].notna()]
    return round_robin(rows, classes, n)


def segmentations(model: MILNet, ds: Dataset, items: Sequence[str], r: float, prior: UnitData,
                  thresholds: Sequence[float], device: torch.device) -> dict[str, list[np.ndarray]]:
    """Per variant of :data:`VARIANTS`, int (H, W) ids ``[background, *classes]`` of ``items``: the argmax of
    the ILP-weighted probabilities y' (eq. 7), and the SP-seg rule on y' and the proposals' objectness."""
    ilp, smoothed = [], []
    for item in items:
        image = ds.image(item)
        pixel, image_level = probabilities(model, image, r, device)
        y_prime = image_level_prior(pixel, image_level)
        ilp.append(y_prime.argmax(0))
        smoothed.append(smoothed_labels(y_prime, _objectness(prior, item, image.shape[:2]), np.asarray(thresholds)))
    return dict(zip(VARIANTS, (ilp, smoothed)))


def figure(ds: Dataset, model: MILNet, cfg: Mapping[str, Any], prior: UnitData, device: torch.device,
           log: logging.Logger, n: int = ITEMS) -> QualitativeFigure:
    """One row per image: the image (title: its image-level labels), the ground truth, base+ILP,
    base+ILP+SP-seg."""
    _, thresholds = evaluate(model, ds, {**cfg, "eval_splits": ["val"]}, prior, device)
    log.info("SP-seg thresholds on the val split: %s", thresholds)
    items = select_items(ds.index, model.classes, n)
    predicted = segmentations(model, ds, items, cfg["lse_r"], prior, thresholds, device)
    rows, maps = [], []
    for k, item in enumerate(items):
        gt = ds.mask(item)
        maps += [gt, *(labels[k] for labels in predicted.values())]
        rows.append((Panel(image=ds.image(item), title=f"{item}, labels: {', '.join(ds.row(item)['labels'])}"),
                     Panel(image=ds.image(item), title="ground truth", labels=gt),
                     *(Panel(image=ds.image(item), title=f"{VARIANTS[v]} [{v}]", labels=labels[k])
                       for v, labels in predicted.items())))
    return QualitativeFigure(
        title=f"Pinheiro & Collobert, as Fig. 4: inference with the image-level and SP-seg priors on "
              f"{ds.meta.name} (benchmark {BENCHMARK}, {SPLIT} split)",
        rows=tuple(rows), legend=class_legend(ds.classes, maps),
        caption=f"Seed-0 {cfg['variant']['aggregation'].upper()} model; the first {SPLIT} images with each class "
                "(index order). Titles give the image-level labels. Colours: PASCAL VOC palette per class "
                "(background black); SP-seg thresholds chosen on the val split as in the evaluation.")


def qualitative(inputs: Mapping[str, Any], params: Mapping[str, Any], log: logging.Logger) -> QualitativeFigure:
    """The figure from the rule's inputs (``index``, the seed-0 ``model`` of the variants' aggregation, the
    ``prior`` unit files of the SP-seg product) and params (config ``mil`` for the last variant of
    :data:`VARIANTS`: ``network``, ``lse_r``, ``threshold_grid``, ``device``, ``variant``)."""
    device = pick_device(params["device"])
    model, _ = load_model(inputs["model"], params, device)
    prior = merge_units([load_unit(p) for p in inputs["prior"]])
    return figure(Dataset(Path(inputs["index"]).parent), model, params, prior, device, log)
