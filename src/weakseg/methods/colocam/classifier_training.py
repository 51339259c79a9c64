"""Training of the frame classifier g and the CAM cache it feeds (CoLo-CAM Sec. 3, Sec. 4.1).

g is trained on single frames, each inheriting its video's label, with cross-entropy (Sec. 3: "This module is
trained to classify independent frames via standard cross-entropy"); the authors' code uses SGD + Nesterov
momentum, lr 1e-3, weight decay 1e-4, batch 32 and a random horizontal flip. Once trained it is frozen, and its
CAMs ``C_t`` of every training frame (LayerCAM, Sec. 4.1) are computed once and stored: they do not change while
the decoder trains (Sec. 3.1 a), so the pseudo-label sampler reads them from the cache at every SGD step.

Cache file (``.npz``): ``items`` (N,) str and ``cams`` uint8 (N, H, W) = round(255 * C_t) at the input size.

The frozen encoder's stage maps of the frames the decoder trains on (the central frames of each shot) can be cached
too (:func:`compute_encoder_maps`, float16): g is frozen and the frames are not augmented, so each decoder step
then skips g's forward pass (40 % of a step at 72x96 on the CPU).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from weakseg.data.index import Dataset
from weakseg.features.backbones import DILATABLE, backbone_info
from weakseg.io import atomic_path
from weakseg.methods.colocam.cams import class_activation_maps
from weakseg.methods.colocam.classifier import FrameClassifier
from weakseg.methods.colocam.frames import Shot, central_range, training_shots
from weakseg.methods.colocam.inputs import FrameStore, network_batch
from weakseg.progress import progress
from weakseg.training import finish, load, run_epochs


def build_classifier(backbone: str, cfg: Mapping[str, Any], n_classes: int) -> FrameClassifier:
    """g for config ``colocam.classifier`` with ``backbone`` (a variant may change it, Table 6); a backbone that
    cannot be dilated (InceptionV3) keeps its own stride."""
    stride = cfg["output_stride"] if backbone in DILATABLE else None
    return FrameClassifier(backbone, cfg["weights"], n_classes, output_stride=stride)


def frame_labels(shots: Sequence[Shot], classes: Sequence[str], step: int = 1) -> tuple[list[str], np.ndarray]:
    """Every ``step``-th frame of each of ``shots`` and its label id (the video label, Sec. 3)."""
    items = [i for s in shots for i in s.items[::step]]
    ids = np.asarray([list(classes).index(s.cls) for s in shots for _ in s.items[::step]], dtype=np.int64)
    return items, ids


def train_classifier(shots: Sequence[Shot], classes: Sequence[str], store: FrameStore, backbone: str,
                     cfg: Mapping[str, Any], seed: int, output: str, log: logging.Logger,
                     device: torch.device) -> None:
    """Train g (config ``colocam.classifier``) on every ``frame_step``-th frame of ``shots``; write ``output``
    (resumable)."""
    items, ids = frame_labels(shots, classes, cfg["frame_step"])
    log.info("classifier %s: %d training frames of %d shots, %d classes", backbone, len(items), len(shots),
             len(classes))
    torch.manual_seed(seed)
    model = build_classifier(backbone, cfg, len(classes)).to(device)
    info = backbone_info(backbone)
    sgd = cfg["sgd"]
    optimizer = torch.optim.SGD(model.parameters(), lr=sgd["lr"], momentum=sgd["momentum"], nesterov=True,
                                weight_decay=sgd["weight_decay"])
    labels = torch.from_numpy(ids)
    batch = cfg["batch_size"]

    def epoch(e: int, rng: np.random.Generator) -> dict[str, float]:
        order = rng.permutation(len(items))
        losses, correct = [], 0
        for k in range(0, len(order), batch):
            idx = order[k:k + batch]
            frames = store.frames([items[i] for i in idx])
            flip = rng.random(len(idx)) < 0.5
            frames[flip] = frames[flip, :, ::-1]
            logits = model(network_batch(frames, info, device))
            y = labels[idx].to(device)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            correct += int((logits.argmax(1) == y).sum())
        return {"loss": float(np.mean(losses)), "train_accuracy": correct / len(items)}

    history = run_epochs(output, cfg["epochs"], seed, model, optimizer, None, epoch, log,
                         f"classifier {backbone}")
    finish(output, {"model": model.state_dict(), "classes": list(classes), "backbone": backbone, "seed": seed,
                    "history": history})


def load_classifier(path: str, cfg: Mapping[str, Any], device: torch.device) -> tuple[FrameClassifier, dict]:
    """The trained, frozen g in ``path`` and its saved state (classes, backbone, history)."""
    state = load(path)
    model = build_classifier(state["backbone"], {**cfg, "weights": "random"}, len(state["classes"]))
    model.load_state_dict(state["model"])
    return model.to(device).freeze(), state


def frozen_classifier_and_shots(index: str, classifier: str, cfg: Mapping[str, Any], device: torch.device
                                ) -> tuple[FrameClassifier, list[Shot], FrameStore]:
    """For the jobs that run the trained g over the training frames: g (frozen) from ``classifier``, the training
    shots of the dataset whose ``index`` is given (config ``colocam.train_splits``) and its frame store."""
    ds = Dataset(Path(index).parent)
    model, _ = load_classifier(classifier, cfg["classifier"], device)
    return model, training_shots(ds.index, cfg["train_splits"], ds.classes), FrameStore(ds, cfg["input_size"])


def compute_cams(model: FrameClassifier, backbone: str, shots: Sequence[Shot], classes: Sequence[str],
                 store: FrameStore, method: str, output: str, device: torch.device, batch: int = 32) -> None:
    """CAMs ``C_t`` (``method``, class = the video label) of every frame of ``shots``, cached in ``output``."""
    items, ids = frame_labels(shots, classes)
    info = backbone_info(backbone)
    cams = np.zeros((len(items), *store.size), dtype=np.uint8)
    for k in progress(range(0, len(items), batch), desc=f"{method} CAMs", unit="batch",
                      total=-(-len(items) // batch)):
        x = network_batch(store.frames(items[k:k + batch]), info, device)
        maps = class_activation_maps(model, x, ids[k:k + batch], method)
        cams[k:k + batch] = np.rint(255 * maps.cpu().numpy()).astype(np.uint8)
    with atomic_path(output) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, items=np.asarray(items), cams=cams)


def load_cams(path: str) -> dict[str, np.ndarray]:
    """item -> float32 (H, W) CAM in [0, 1] from a cache written by :func:`compute_cams`."""
    with np.load(path) as data:
        return {str(i): c.astype(np.float32) / 255.0 for i, c in zip(data["items"], data["cams"])}


def compute_encoder_maps(model: FrameClassifier, backbone: str, shots: Sequence[Shot], store: FrameStore,
                         shot_fraction: float, output: str, device: torch.device, batch: int = 32) -> None:
    """g's stage maps (float16, each (N, C_i, h_i, w_i)) of the central ``shot_fraction`` of every shot, in
    ``output`` (torch file: ``items``, ``maps``)."""
    items = [s.items[i] for s in shots for i in range(*central_range(len(s.items), shot_fraction))]
    info = backbone_info(backbone)
    parts: list[list[torch.Tensor]] = []
    with torch.no_grad():
        for k in progress(range(0, len(items), batch), desc="encoder maps", unit="batch",
                          total=-(-len(items) // batch)):
            maps = model.encoder_maps(network_batch(store.frames(items[k:k + batch]), info, device))
            parts.append([m.half().cpu() for m in maps])
    stages = [torch.cat([p[i] for p in parts]) for i in range(len(parts[0]))] if parts else []
    with atomic_path(output) as tmp:
        torch.save({"items": items, "maps": stages}, tmp)


class EncoderMaps:
    """Read access to a cache written by :func:`compute_encoder_maps`."""

    def __init__(self, path: str) -> None:
        state = load(path)
        self.maps: list[torch.Tensor] = state["maps"]
        self.position = {item: i for i, item in enumerate(state["items"])}

    def of(self, items: Sequence[str], device: torch.device) -> list[torch.Tensor]:
        """float32 stage maps of ``items`` (each (B, C_i, h_i, w_i)) on ``device``."""
        missing = [i for i in items if i not in self.position]
        if missing:
            raise KeyError(f"encoder cache has no maps of {missing[:3]} (built for another shot_fraction?); "
                           "delete it to rebuild")
        idx = torch.tensor([self.position[i] for i in items])
        return [m[idx].float().to(device) for m in self.maps]
