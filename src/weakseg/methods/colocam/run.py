"""Inference and evaluation of one CoLo-CAM variant (Sec. 3.3 "applied over single frames"; Sec. 4.1 metric).

A decoder variant localizes with the foreground map ``S_t^1`` of its decoder, a CAM variant with the classifier's
CAM of the true class (the CAM-method rows of Table 1); either way a box is read from the map at every threshold
and scored by CorLoc under both threshold protocols (:mod:`weakseg.methods.colocam.evaluate`). The test frames
are the eval split's frames with at least one ground-truth box (the papers' test sets annotate only frames with
the object). The cost columns of Tables 1 and 4 are measured on random 224 x 224 frames on this machine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from weakseg.data.index import Dataset
from weakseg.features.backbones import backbone_info
from weakseg.methods.colocam.cams import class_activation_maps
from weakseg.methods.colocam.classifier import FrameClassifier
from weakseg.methods.colocam.cost import flops_per_frame, median_seconds, parameter_counts
from weakseg.methods.colocam.decoder import LocalizationNet
from weakseg.methods.colocam.decoder_training import decoder_loss
from weakseg.methods.colocam.evaluate import evaluate_localization, localization_maps_at
from weakseg.methods.colocam.inputs import FrameStore, network_batch, rgb_255
from weakseg.methods.colocam.variants import Variant
from weakseg.progress import progress

Localizer = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
COST_COLUMNS = ("time_ms", "fps", "params_m", "learnable_params_m", "flops_g", "macs_g", "train_step_s")


def scored_frames(ds: Dataset, split: str, log: logging.Logger) -> tuple[pd.DataFrame, int]:
    """Index rows of ``split`` with at least one ground-truth box, and how many annotated frames without the object
    were skipped (the CorLoc protocol scores frames that show the object; the count goes to the tables)."""
    rows = ds.items(split)
    annotated = rows[rows["box_annotated"]]
    kept = annotated[[len(b) > 0 for b in annotated["boxes"]]]
    skipped = len(annotated) - len(kept)
    log.info("%s split: %d frames with boxes (%d annotated frames without the object skipped)", split, len(kept),
             skipped)
    if kept.empty:
        raise ValueError(f"{ds.root}: no {split} frame has a ground-truth box; CorLoc needs box-annotated frames")
    return kept, skipped


def localizer(v: Variant, model: FrameClassifier | LocalizationNet) -> Localizer:
    """``(x, class ids) -> maps (B, h, w) in [0, 1]``: the variant's localization map at the network input size."""
    if v.cam is not None:
        return lambda x, ids: class_activation_maps(model, x, ids, v.cam)

    def foreground(x: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return model(x)[:, 1]
    return foreground


def evaluate_variant(v: Variant, model: FrameClassifier | LocalizationNet, ds: Dataset, rows: pd.DataFrame,
                     store: FrameStore, device: torch.device, batch: int = 32) -> pd.DataFrame:
    """Per-frame CorLoc records (both protocols) of ``v`` on the frames ``rows``; maps are resized to each frame's
    own size, where its boxes live."""
    info = backbone_info(v.backbone)
    classes = list(ds.classes)
    locate = localizer(v, model)
    items = list(rows["item"])
    maps: list[np.ndarray] = []
    for k in progress(range(0, len(items), batch), desc=f"{v.name} maps", unit="batch", total=-(-len(items) // batch)):
        part = rows.iloc[k:k + batch]
        ids = torch.tensor([classes.index(c) for c in part["class"]], device=device)
        out = locate(network_batch(store.frames(list(part["item"])), info, device), ids)
        maps.extend(localization_maps_at(m[None], (int(h), int(w)))[0]
                    for m, h, w in zip(out, part["height"], part["width"]))
    by_size: dict[tuple[int, int], list[int]] = {}
    for i, m in enumerate(maps):
        by_size.setdefault(m.shape, []).append(i)
    parts = [evaluate_localization([items[i] for i in idx], [rows["class"].iloc[i] for i in idx],
                                   np.stack([maps[i] for i in idx]), [ds.boxes(items[i]) for i in idx])
             for idx in by_size.values()]
    return pd.concat(parts, ignore_index=True).assign(split=rows["split"].iloc[0])


def measure_cost(v: Variant, model: FrameClassifier | LocalizationNet, cost: Mapping[str, Any],
                 loss_cfg: Mapping[str, Any], train_step: bool, device: torch.device) -> dict[str, float]:
    """Table 4's columns for ``v`` on random frames of ``cost.frame_size`` (Table 1's Time/Frame is ``time_ms``):
    inference ms per frame and frames per second at batch ``cost.batch_size``, parameters (M), FLOPs and MACs
    (G) of one frame, and with ``train_step`` the seconds of one SGD step on a batch (classifier training for a
    CAM row, eq. 5 on the decoder for a trained row)."""
    size, batch = int(cost["frame_size"]), int(cost["batch_size"])
    gen = torch.Generator().manual_seed(0)
    frames = torch.randint(0, 256, (batch, size, size, 3), dtype=torch.uint8, generator=gen).numpy()
    x = network_batch(frames, backbone_info(v.backbone), device)
    ids = torch.zeros(batch, dtype=torch.long, device=device)
    locate = localizer(v, model)
    seconds = median_seconds(lambda: locate(x, ids), repeats=int(cost["repeats"]))
    total, learnable = parameter_counts(model)
    if v.cam is not None:  # the classifier is what a CAM method trains (Table 4: 23.5M learnable of 23.5M)
        learnable = total
    flops = flops_per_frame(lambda f: locate(f, ids[:1]), x[0])
    out = {"time_ms": 1000 * seconds / batch, "fps": batch / seconds, "params_m": total / 1e6,
           "learnable_params_m": learnable / 1e6, "flops_g": flops / 1e9, "macs_g": flops / 2e9}
    if train_step:
        out["train_step_s"] = median_seconds(_train_step(v, model, frames, loss_cfg, device),
                                             repeats=int(cost["repeats"]))
    return out


def _train_step(v: Variant, model: FrameClassifier | LocalizationNet, frames: np.ndarray,
                loss_cfg: Mapping[str, Any], device: torch.device) -> Callable[[], None]:
    """A function doing one SGD step on ``frames``, for timing only: it changes ``model`` (a CAM row's classifier
    gets ``requires_grad`` back and its BatchNorm statistics move in train mode; lr 0 leaves the weights), so
    :func:`measure_cost` times it last."""
    info = backbone_info(v.backbone)
    x = network_batch(frames, info, device)
    if v.cam is not None:
        classifier = model
        params = list(classifier.parameters())
        for p in params:
            p.requires_grad_(True)
        optimizer = torch.optim.SGD(params, lr=0.0, momentum=0.9, nesterov=True)
        labels = torch.zeros(len(frames), dtype=torch.long, device=device)

        def step() -> None:
            classifier.train()
            loss = F.cross_entropy(classifier(x), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            classifier.eval()
        return step
    net = model
    optimizer = torch.optim.SGD(net.decoder_parameters(), lr=0.0, momentum=0.9, nesterov=True)
    rgb = rgb_255(frames, device)
    seeds = torch.full(frames.shape[:3], -1, dtype=torch.int8, device=device)
    seeds[:, 0, 0], seeds[:, -1, -1] = 0, 1   # one background and one foreground seed per frame (Algorithm 1)
    groups = [list(range(k, min(k + v.n, len(frames)))) for k in range(0, len(frames), v.n)]

    def step() -> None:
        net.train()
        loss, _ = decoder_loss(net(x), rgb, seeds, groups, v, loss_cfg, 1.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        net.eval()
    return step
