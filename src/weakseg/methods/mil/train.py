"""Training of the MIL segmentation network on a classification set (Sec. 3.1, 4.1-4.2).

Each image carries one label (an object class, or ``background`` for images without any of
the classes, Sec. 4.1). The score planes are aggregated into image scores (Sum, Max or LSE,
eqs. 4-6), and the log-likelihood (3) of the image label under their softmax (2) is maximised
by SGD (lr 1e-3 multiplied by 0.8 every ``decay_every`` examples, momentum 0.9, weight decay
5e-5, batch 16; Sec. 4.2), with random jitter on every image (horizontal flip, rotation,
scaling, brightness and contrast; Sec. 4.1).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import torchvision.transforms.v2.functional as TF
from torch import Tensor

from weakseg.data.index import Dataset
from weakseg.features.backbones import normalise, resize_to_unit
from weakseg.methods.mil.aggregation import aggregate, image_log_likelihood
from weakseg.methods.mil.network import MILNet
from weakseg.training import run_epochs

BACKGROUND = "background"


def image_labels(ds: Dataset, split: str, classes: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Items of ``split`` and their label ids in ``[background, *classes]``: an image labelled
    ``background`` (or with no label among ``classes``) is class 0; an image must have one label."""
    items, ids = [], []
    for item, labels in zip(ds.items(split)["item"], ds.items(split)["labels"]):
        labels = list(labels)
        if len(labels) != 1:
            raise ValueError(f"{ds.root}: item {item!r} has labels {labels}; the MIL classification set needs "
                             "exactly one label per image")
        items.append(item)
        ids.append(1 + list(classes).index(labels[0]) if labels[0] in classes else 0)
    return items, np.asarray(ids, dtype=np.int64)


def jitter(images: Tensor, cfg: Mapping[str, Any], rng: np.random.Generator) -> Tensor:
    """Random flip, rotation, scaling, brightness and contrast per image (Sec. 4.1). ``images``
    float (B, 3, S, S) in [0, 1]; the same shape back."""
    out = []
    for im in images:
        if rng.random() < 0.5:
            im = TF.horizontal_flip(im)
        angle = float(rng.uniform(-cfg["rotation"], cfg["rotation"]))
        scale = float(rng.uniform(1 - cfg["scale"], 1 + cfg["scale"]))
        im = TF.affine(im, angle=angle, translate=[0, 0], scale=scale, shear=[0.0, 0.0])
        im = TF.adjust_brightness(im, float(rng.uniform(1 - cfg["brightness"], 1 + cfg["brightness"])))
        im = TF.adjust_contrast(im, float(rng.uniform(1 - cfg["contrast"], 1 + cfg["contrast"])))
        out.append(im)
    return torch.stack(out)


def train(model: MILNet, ds: Dataset, aggregation: str, cfg: Mapping[str, Any], seed: int, output: str,
          log: logging.Logger, device: torch.device) -> list[dict[str, float]]:
    """Train ``model``'s head in place on the train split of the classification set ``ds`` (config
    section ``mil``), resuming from the per-epoch checkpoint of ``output``."""
    items, ids = image_labels(ds, "train", model.classes)
    log.info("%d training images, %d of them background", len(items), int((ids == 0).sum()))
    images = resize_to_unit([ds.image(i) for i in items], cfg["input_size"])   # in [0, 1] for the jitter
    sgd = cfg["sgd"]
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=sgd["lr"], momentum=sgd["momentum"], weight_decay=sgd["weight_decay"])
    per_epoch = -(-len(items) // sgd["batch_size"]) * sgd["batch_size"]
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, sgd["decay_every"] // per_epoch),
                                                gamma=sgd["decay"])
    labels = torch.from_numpy(ids)

    def epoch(e: int, rng: np.random.Generator) -> dict[str, float]:
        order = rng.permutation(len(items))
        stats = []
        for k in range(0, len(order), sgd["batch_size"]):
            idx = torch.from_numpy(order[k:k + sgd["batch_size"]])
            x = normalise(jitter(images[idx], cfg["jitter"], rng), model.info).to(device)
            scores = aggregate(aggregation, model(x), cfg["lse_r"])
            loss = -image_log_likelihood(scores, labels[idx].to(device)).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            accuracy = (scores.argmax(1).cpu() == labels[idx]).float().mean()
            stats.append((float(loss.detach()), float(accuracy)))
        return {"loss": float(np.mean([s[0] for s in stats])), "accuracy": float(np.mean([s[1] for s in stats]))}

    return run_epochs(output, cfg["epochs"], seed, model, optimizer, scheduler, epoch, log,
                      desc=f"mil {aggregation} seed {seed}")
