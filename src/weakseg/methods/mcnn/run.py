"""One trained model per (variant, seed): data selection, initialisation, fine-tuning shot choice,
training, and the model file (Sec. 3.3, 4.2-4.4)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from weakseg.data.index import Dataset
from weakseg.methods.mcnn.data import ShotSample, foreground_fractions, load_images, load_shots, motion_masks
from weakseg.methods.mcnn.fcn import FCN, build_fcn
from weakseg.methods.mcnn.finetune import select_shots, shot_overlap
from weakseg.methods.mcnn.predict import predict_probs
from weakseg.methods.mcnn.shots import prune_shots
from weakseg.methods.mcnn.train import restricted, train
from weakseg.methods.mcnn.variants import variant
from weakseg.preprocess.store import UnitData
from weakseg.training import finish, load


def load_model(path: str, network: Mapping[str, Any], device: torch.device) -> tuple[FCN, dict[str, Any]]:
    """The trained model in ``path`` (written by :func:`train_variant`) and its whole state."""
    state = load(path)
    model = build_fcn(state["classes"], network, state["fov"], weights="random")
    model.load_state_dict(state["model"])
    return model.to(device).eval(), state


def shot_overlaps(model: FCN, shots: Sequence[ShotSample], device: torch.device) -> dict[str, dict[str, float]]:
    """Video -> shot -> mean IoU between the model's foreground and the motion segments (Sec. 3.3)."""
    out: dict[str, dict[str, float]] = {}
    for s in shots:
        probs = restricted(np.stack(predict_probs(model, list(s.frames), device)), s.label_ids)
        out.setdefault(s.shot.video, {})[s.shot.shot] = shot_overlap(probs.argmax(axis=1) > 0, s.motion)
    return out


def train_variant(name: str, cfg: Mapping[str, Any], seed: int, videos: Dataset, motion: Mapping[str, UnitData],
                  images: Dataset | None, parent_path: str | None, output: str, log: logging.Logger,
                  device: torch.device) -> None:
    """Train variant ``name`` of config section ``mcnn`` (``cfg``) with ``seed`` and write ``output``.

    ``motion``: the motion product's unit files of the training videos (unit -> data);
    ``images``: the image dataset when the variant adds images; ``parent_path``: the model of
    the variant's ``init``.
    """
    v = variant(name, cfg["variants"])
    masks = motion_masks(motion)
    pruning = cfg["pruning"]
    kept, counts = prune_shots(videos.index, foreground_fractions(masks), cfg["train_splits"],
                               min_frames=pruning["min_frames"], min_fg=pruning["min_fg"],
                               max_fg=pruning["max_fg"], n_frames=pruning["frames_per_shot"])
    log.info("pruning (Sec. 4.2): %s", counts)
    classes = images.classes if v.images and v.image_classes == "all" else videos.classes
    torch.manual_seed(seed)
    model = build_fcn(classes, cfg["network"], v.fov, cfg["network"]["weights"]).to(device)
    shots = load_shots(videos, kept, masks, classes)
    selected = None
    if v.init is not None:
        parent, parent_state = load_model(parent_path, cfg["network"], device)
        model.adopt_head(parent)
        if v.shots == "selected":
            selected = parent_state["selected"]  # a second fine-tuning keeps the first one's shots (Sec. 4.4)
            if selected is None:
                selected = select_shots(shot_overlaps(parent, shots, device), cfg["finetune"]["min_overlap"])
            shots = [s for s in shots if selected.get(s.shot.video) == s.shot.shot]
            log.info("fine-tuning shots (Sec. 3.3): %d of %d videos have one with overlap >= %.2f",
                     len(selected), len({s.video for s in kept}), cfg["finetune"]["min_overlap"])
    image_samples = load_images(images, "train", classes) if v.images else []
    log.info("%s seed %d: %d classes, %d shots, %d images", name, seed, len(classes), len(shots),
             len(image_samples))
    history: list[dict[str, float]] = []
    if shots or image_samples or v.init is None:
        history = train(model, v, shots, image_samples, cfg, cfg["epochs"][v.stage], seed, output, log, device)
    else:  # Sec. 3.3 selects nothing: there is nothing to fine-tune on, the model stays as it was
        log.warning("%s seed %d: no shot qualifies for fine-tuning; the model is its init %s unchanged",
                    name, seed, v.init)
    finish(output, {"model": model.state_dict(), "classes": list(classes), "fov": v.fov, "variant": name,
                    "seed": seed, "selected": selected, "n_train": len(shots) + len(image_samples),
                    "pruning": counts, "history": history})
