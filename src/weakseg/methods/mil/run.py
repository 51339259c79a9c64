"""One trained MIL network per (aggregation, seed), and inference with a variant's priors
(Sec. 3.2): per-pixel probabilities, the image-level prior (7), a smoothing prior (SP-sppxl,
SP-bb, SP-seg) whose class thresholds are chosen on the val split (Sec. 4.2)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from weakseg.data.index import VOID, Dataset
from weakseg.evaluation import evaluate_semantic
from weakseg.features.backbones import normalise, to_unit_tensor
from weakseg.methods.mil.aggregation import aggregate
from weakseg.methods.mil.network import MILNet, build_milnet
from weakseg.methods.mil.priors import (
    grid_search_thresholds,
    image_level_prior,
    objectness_from_boxes,
    objectness_from_masks,
    smoothed_labels,
    superpixel_vote,
)
from weakseg.methods.mil.train import BACKGROUND, train
from weakseg.preprocess.store import UnitData
from weakseg.progress import progress
from weakseg.training import finish, load

PRIORS = ("none", "ilp", "ilp_sppxl", "ilp_bb", "ilp_seg")


def train_model(aggregation: str, cfg: Mapping[str, Any], seed: int, ds: Dataset, classes: Sequence[str],
                output: str, log: logging.Logger, device: torch.device) -> None:
    """Train the network with ``aggregation`` on the classification set ``ds``; its outputs are
    ``[background, *classes]`` (the segmentation classes; other labels of ``ds`` count as background)."""
    object_classes = [c for c in classes if c != BACKGROUND]
    missing = sorted(set(object_classes) - set(ds.classes))
    if missing:
        raise ValueError(f"{ds.root}: the classification set lacks the segmentation classes {missing} "
                         "(Sec. 3: it must contain at least the same classes)")
    torch.manual_seed(seed)
    model = build_milnet(object_classes, cfg["network"]).to(device)
    history = train(model, ds, aggregation, cfg, seed, output, log, device)
    finish(output, {"model": {k: v for k, v in model.state_dict().items() if k.startswith("head.")},
                    "classes": object_classes, "aggregation": aggregation, "seed": seed, "history": history})


def load_model(path: str, cfg: Mapping[str, Any], device: torch.device) -> tuple[MILNet, dict[str, Any]]:
    """The model in ``path``: the frozen extractor with its pretrained weights + the trained head."""
    state = load(path)
    model = build_milnet(state["classes"], cfg["network"])
    model.head.load_state_dict({k[len("head."):]: v for k, v in state["model"].items()})
    return model.to(device).eval(), state


@torch.no_grad()
def probabilities(model: MILNet, image: np.ndarray, r: float, device: torch.device) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel class probabilities (K, H, W) at the image's size (bilinear upsampling of the
    score planes, softmax per pixel) and the image-level probabilities (K,) (softmax of the LSE
    scores, Sec. 3.2.1). K = 1 + |C|, background first."""
    scores = model(normalise(to_unit_tensor(image[None], device), model.info))
    pixel = torch.softmax(F.interpolate(scores, size=image.shape[:2], mode="bilinear", align_corners=False), 1)
    return pixel[0].cpu().numpy(), torch.softmax(aggregate("lse", scores, r), 1)[0].cpu().numpy()


def _objectness(prior: UnitData, item: str, shape: tuple[int, int]) -> np.ndarray:
    if "boxes" in prior.fields:
        return objectness_from_boxes(prior.get("boxes", item), prior.get("scores", item), shape)
    return objectness_from_masks(prior.get("masks", item), prior.get("scores", item))


def evaluate(model: MILNet, ds: Dataset, cfg: Mapping[str, Any], prior: UnitData | None,
             device: torch.device) -> tuple[pd.DataFrame, list[float] | None]:
    """Confusion rows of the variant ``cfg["variant"]`` on the masked images of ``cfg["eval_splits"]``,
    and the SP-bb / SP-seg thresholds chosen on the val split (None for the other priors)."""
    kind = cfg["variant"]["prior"]
    if kind not in PRIORS:
        raise ValueError(f"unknown prior {kind!r}; known: {list(PRIORS)}")
    if list(model.classes) != list(ds.classes):
        raise ValueError(f"the model's classes {list(model.classes)} differ from {ds.root}'s {list(ds.classes)}")
    splits = sorted(set(cfg["eval_splits"]) | ({"val"} if kind in ("ilp_bb", "ilp_seg") else set()))
    items = [i for s in splits for i in ds.items(s).loc[lambda d: d["mask"].notna(), "item"]]
    y_prime, scores = {}, {}
    for item in progress(items, desc="inference", unit="img"):
        image = ds.image(item)
        pixel, image_level = probabilities(model, image, cfg["lse_r"], device)
        y_prime[item] = pixel if kind == "none" else image_level_prior(pixel, image_level)
        if kind in ("ilp_bb", "ilp_seg"):
            scores[item] = _objectness(prior, item, image.shape[:2])
    thresholds = None
    if kind in ("ilp_bb", "ilp_seg"):
        val = [i for i in items if ds.row(i)["split"] == "val"]
        grid = np.linspace(0.0, 1.0, cfg["threshold_grid"], endpoint=False)
        thresholds = grid_search_thresholds([(y_prime[i], scores[i]) for i in val], [ds.mask(i) for i in val],
                                            grid, y_prime[val[0]].shape[0], VOID)
        labels = {i: smoothed_labels(y_prime[i], scores[i], thresholds) for i in items}
    elif kind == "ilp_sppxl":
        labels = {i: superpixel_vote(y_prime[i].argmax(0), prior.get("labels", i)) for i in items}
    else:
        labels = {i: y_prime[i].argmax(0) for i in items}
    keep = {i: labels[i] for i in items if ds.row(i)["split"] in cfg["eval_splits"]}
    return evaluate_semantic(ds, keep), None if thresholds is None else [float(t) for t in thresholds]
