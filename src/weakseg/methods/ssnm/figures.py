"""Qualitative figure of SSNM, as its Figs. 1 and 5: groups of images of one class with the co-segmentation
masks the trained model predicts for the whole group at once (:func:`weakseg.methods.ssnm.run.predict_group`,
on the evaluation's groups, :func:`weakseg.methods.ssnm.groups.evaluation_chunks`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from weakseg.data.index import Dataset
from weakseg.features.device import pick_device
from weakseg.methods.ssnm.groups import class_items, evaluation_chunks
from weakseg.methods.ssnm.network import SSNM
from weakseg.methods.ssnm.run import load_model, predict_group
from weakseg.tables.figure_specs import QUALITATIVE
from weakseg.tables.qualitative import COLOURS_NOTE, Panel, QualitativeFigure, binary_mask

BENCHMARK = QUALITATIVE["ssnm"].benchmark
"""Tables 4-5 (PASCAL-VOC co-segmentation, the ablation's benchmark)."""
VARIANTS = QUALITATIVE["ssnm"].variants
"""Variant drawn -> its label."""
GROUPS = 4


def select_groups(index: pd.DataFrame, group_size: int, n: int = GROUPS) -> list[tuple[str, list[str], int]]:
    """(class, group, how many of its items count) of the first evaluation group of each of the first ``n``
    classes in sorted order: the group of ``group_size`` images the evaluation segments together."""
    out = []
    for cls, items in list(class_items(index).items())[:n]:
        chunk, counted = evaluation_chunks(items, group_size)[0]
        out.append((cls, chunk, counted))
    return out


def figure(ds: Dataset, model: SSNM, variant: str, cfg: Mapping[str, Any], device: torch.device,
           n: int = GROUPS) -> QualitativeFigure:
    """One row per group: its images with the predicted co-segmentation (red fill) and the ground-truth
    outline (green); images that only fill up a small group are segmented with it but not drawn twice."""
    rows = []
    for cls, chunk, counted in select_groups(ds.index, cfg["group_size"], n):
        masks = predict_group(model, [ds.image(i) for i in chunk], cfg["input_size"], device, cfg["threshold"])
        rows.append(tuple(Panel(image=ds.image(i), title=f"{cls}: {i}" if k == 0 else i, mask=m,
                                gt_mask=binary_mask(ds.mask(i)))
                          for k, (i, m) in enumerate(zip(chunk[:counted], masks[:counted]))))
    return QualitativeFigure(
        title=f"SSNM (Zhang et al.), as Figs. 1 and 5: {VARIANTS[variant]} [{variant}] on {ds.meta.name} "
              f"(benchmark {BENCHMARK})",
        rows=tuple(rows),
        caption=f"One row per group: the first group of {cfg['group_size']} images of each of the first classes "
                f"(index order), segmented together by the seed-0 model (sigmoid > {cfg['threshold']}). "
                f"{COLOURS_NOTE} Red fill: predicted co-object; green outline: ground-truth mask.")


def qualitative(inputs: Mapping[str, Any], params: Mapping[str, Any], log: logging.Logger) -> QualitativeFigure:
    """The figure from the rule's inputs (``index``, and the seed-0 model of the variant of :data:`VARIANTS`
    under its name) and params (config ``ssnm``: ``network``, ``input_size``, ``group_size``, ``threshold``,
    ``device``)."""
    device = pick_device(params["device"])
    variant = next(iter(VARIANTS))
    model, _ = load_model(inputs[variant], params, device)
    log.info("model %s on %s", inputs[variant], device)
    return figure(Dataset(Path(inputs["index"]).parent), model, variant, params, device)
