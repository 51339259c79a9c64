"""Qualitative figure of CoLo-CAM, as its Figs. 5, 7 and 8: test frames with, per method, the ground-truth
(green) and predicted (red) boxes, and the method's localization map over the frame. Maps come from the
evaluation's localizer (:func:`weakseg.methods.colocam.run.localizer`: the decoder's foreground map, or the
classifier CAM for a CAM row); the box is read from the map at the frame's class threshold tau that the
evaluation chose (``tau_class`` of its records, :mod:`weakseg.methods.colocam.evaluate`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from weakseg.data.index import Dataset
from weakseg.features.backbones import backbone_info
from weakseg.features.device import pick_device
from weakseg.methods.colocam.boxes import boxes_at_thresholds
from weakseg.methods.colocam.classifier import FrameClassifier
from weakseg.methods.colocam.classifier_training import load_classifier
from weakseg.methods.colocam.decoder import LocalizationNet
from weakseg.methods.colocam.decoder_training import load_decoder
from weakseg.methods.colocam.evaluate import localization_maps_at
from weakseg.methods.colocam.inputs import FrameStore, network_batch
from weakseg.methods.colocam.run import localizer, scored_frames
from weakseg.methods.colocam.variants import Variant
from weakseg.tables.figure_specs import QUALITATIVE
from weakseg.tables.qualitative import Panel, QualitativeFigure, round_robin

BENCHMARK = QUALITATIVE["colocam"].benchmark
"""Table 1 (YTOv1 test CorLoc)."""
VARIANTS = QUALITATIVE["colocam"].variants
"""Methods drawn (Fig. 5's columns: LayerCAM, TCAM, CoLo-CAM with LayerCAM) -> their labels."""
ITEMS = 6


def select_items(rows: pd.DataFrame, n: int = ITEMS) -> list[str]:
    """Frames of ``rows`` (the scored test frames), :func:`~weakseg.tables.qualitative.round_robin` over the
    classes in sorted order."""
    return round_robin(rows, sorted(set(rows["class"])), n)


def localization_maps(v: Variant, model: FrameClassifier | LocalizationNet, ds: Dataset, rows: pd.DataFrame,
                      store: FrameStore, device: torch.device) -> list[np.ndarray]:
    """float32 (H, W) maps in [0, 1] of ``v`` on the frames ``rows``, at each frame's own size (as the
    evaluation computes them)."""
    ids = torch.tensor([list(ds.classes).index(c) for c in rows["class"]], device=device)
    out = localizer(v, model)(network_batch(store.frames(list(rows["item"])), backbone_info(v.backbone), device), ids)
    return [localization_maps_at(m[None], (int(h), int(w)))[0] for m, h, w in zip(out, rows["height"], rows["width"])]


def predicted_boxes(maps: Sequence[np.ndarray], taus: Sequence[float]) -> list[np.ndarray]:
    """float (4,) box of each map at its threshold (CoLo-CAM's protocol; NaN where nothing passes)."""
    return [boxes_at_thresholds(m, [t])[0] for m, t in zip(maps, taus)]


def figure(ds: Dataset, models: Mapping[str, tuple[Variant, FrameClassifier | LocalizationNet]],
           records: Mapping[str, pd.DataFrame], split: str, store: FrameStore, device: torch.device,
           log: logging.Logger, n: int = ITEMS) -> QualitativeFigure:
    """One row per frame: per method, the frame with its boxes, then its map over the frame."""
    scored, _ = scored_frames(ds, split, log)
    rows = scored.set_index("item", drop=False).loc[select_items(scored, n)]
    panels: list[list[Panel]] = [[] for _ in range(len(rows))]
    for name, (v, model) in models.items():
        taus = records[name].set_index("item").loc[rows["item"], "tau_class"]
        maps = localization_maps(v, model, ds, rows, store, device)
        for k, (item, m, box) in enumerate(zip(rows["item"], maps, predicted_boxes(maps, taus))):
            image = ds.image(item)
            first = f"{rows['class'].iloc[k]}: {item}\n" if not panels[k] else ""
            panels[k] += [Panel(image=image, title=f"{first}{VARIANTS[name]}: boxes", gt_boxes=ds.boxes(item),
                                pred_boxes=box[None]),
                          Panel(image=image, title=f"{VARIANTS[name]}: map", heatmap=m)]
    return QualitativeFigure(
        title=f"CoLo-CAM (Belharbi et al.), as Fig. 5: {', '.join(VARIANTS.values())} on {ds.meta.name} "
              f"(benchmark {BENCHMARK}, {split} split)",
        rows=tuple(tuple(p) for p in panels),
        caption="Bounding boxes: ground truth (green), prediction (red). The second column of each "
                "method is its localization map over the frame (jet: blue low, red high). Boxes at the class "
                "threshold the evaluation chose (CoLo-CAM code protocol); seed-0 decoders; the first scored test "
                "frames of each class in index order.")


def qualitative(inputs: Mapping[str, Any], params: Mapping[str, Any], log: logging.Logger) -> QualitativeFigure:
    """The figure from the rule's inputs (``index``; per variant ``v`` of :data:`VARIANTS`: ``classifier_<v>``,
    ``eval_<v>`` (its records) and, for a trained variant, ``model_<v>`` (its seed-0 decoder)) and params
    (config ``colocam``: ``eval_split``, ``input_size``, ``classifier``, ``decoder``, ``device``, and
    ``variants``: name -> resolved variant fields)."""
    device = pick_device(params["device"])
    ds = Dataset(Path(inputs["index"]).parent)
    models, records = {}, {}
    for name in VARIANTS:
        fields = params["variants"][name]
        v = Variant(**{**fields, "terms": tuple(fields["terms"]), "name": name})
        if v.trained:
            model, _ = load_decoder(inputs[f"model_{name}"], inputs[f"classifier_{name}"], params, device)
        else:
            model, _ = load_classifier(inputs[f"classifier_{name}"], params["classifier"], device)
        models[name] = (v, model)
        evaluation = pd.read_parquet(inputs[f"eval_{name}"])
        records[name] = evaluation[evaluation["seed"] == 0] if "seed" in evaluation else evaluation  # CAM rows: no seed
    return figure(ds, models, records, params["eval_split"], FrameStore(ds, params["input_size"]), device, log)
