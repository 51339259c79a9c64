"""Training of SSNM (Sec. 3.5, 4.1): the multi-task loss (14) on groups of a co-category set.

Each step feeds ``groups_per_batch`` groups of N = 5 images of one category (paper: 4 groups),
resized to ``input_size`` (paper: 224). Loss (14) = l_spa (9) + l_sem (12) + l_seg (13); Adam with
betas (0.9, 0.999), lr 1e-4 halved every ``halve_every`` steps (Sec. 4.1). The step count is an
"epoch" of ``steps_per_epoch`` steps for the per-epoch checkpoint (:mod:`weakseg.training`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from weakseg.data.index import VOID, Dataset
from weakseg.features.backbones import preprocess
from weakseg.methods.ssnm.groups import sample_groups
from weakseg.methods.ssnm.network import SSNM
from weakseg.methods.ssnm.semantic import semantic_loss
from weakseg.training import run_epochs

WEIGHTINGS = ("paper", "balanced")


def segmentation_loss(logits: Tensor, target: Tensor, weighting: str = "paper") -> Tensor:
    """l_seg of eq. 13, mean over the valid pixels of every image.

    ``logits`` (B, N, H, W) before the sigmoid; ``target`` (B, N, H, W) float with 1 foreground,
    0 background, -1 void (ignored). delta^n = the image's ratio of positive pixels. ``paper``:
    positives weighted by delta and negatives by 1 - delta, as eq. 13 is printed (its minus sign
    before the second term is read as a typo: both terms are log-likelihoods); ``balanced``:
    positives by 1 - delta and negatives by delta, which is what "balances the positive and
    negative samples" (Sec. 3.4) would need.
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}; got {weighting!r}")
    valid = target >= 0
    positive = (target > 0.5) & valid
    delta = positive.float().sum((-2, -1), keepdim=True) / valid.float().sum((-2, -1), keepdim=True).clamp_min(1)
    w_pos, w_neg = (delta, 1 - delta) if weighting == "paper" else (1 - delta, delta)
    nll = -(w_pos * positive * F.logsigmoid(logits) + w_neg * (valid & ~positive) * F.logsigmoid(-logits))
    return nll.sum() / valid.sum().clamp_min(1)


def load_images(ds: Dataset, items: Sequence[str], size: int, model: SSNM) -> tuple[Tensor, Tensor]:
    """Images (M, 3, size, size) normalised for the backbone and targets (M, size, size): 1/0/-1 (void)."""
    images = preprocess([ds.image(i) for i in items], model.info, size)
    targets = []
    for item in items:
        mask = ds.mask(item)
        if mask is None:
            raise ValueError(f"{ds.root}: item {item!r} has no mask; SSNM trains on masked images only")
        small = cv2.resize(mask, (size, size), interpolation=cv2.INTER_NEAREST)
        targets.append(np.where(small == VOID, -1.0, (small > 0).astype(np.float32)))
    return images, torch.from_numpy(np.stack(targets).astype(np.float32))


def group_loss(model: SSNM, images: Tensor, targets: Tensor, categories: Tensor,
               weighting: str) -> tuple[Tensor, dict[str, float]]:
    """Loss (14) of a batch: images (B, N, 3, S, S), targets (B, N, S, S), categories (B, L) multi-hot."""
    out = model(images)
    l_seg = segmentation_loss(out.logits, targets, weighting)
    l_spa = out.spatial_loss.mean()
    l_sem = semantic_loss(out.category_logits, categories) if out.category_logits is not None else l_seg * 0
    parts = {"l_seg": l_seg, "l_spa": l_spa, "l_sem": l_sem}
    return l_spa + l_sem + l_seg, {k: float(v.detach()) for k, v in parts.items()}


def train(model: SSNM, ds: Dataset, by_class: Mapping[str, list[str]], cfg: Mapping[str, Any], seed: int,
          output: str, log: logging.Logger, device: torch.device) -> list[dict[str, float]]:
    """Train ``model`` in place on the co-category groups ``by_class`` (class -> masked items) of
    ``ds`` with config section ``ssnm``; resumes from the per-epoch checkpoint of ``output``."""
    categories = sorted(by_class)
    items = sorted({i for its in by_class.values() for i in its})
    images, targets = load_images(ds, items, cfg["input_size"], model)
    row = {item: k for k, item in enumerate(items)}
    adam = cfg["adam"]
    optimizer = torch.optim.Adam(model.parameters(), lr=adam["lr"], betas=tuple(adam["betas"]))
    per_epoch = cfg["steps_per_epoch"]
    # lr halved every `halve_every` steps: a StepLR stepped once per epoch of `per_epoch` steps
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, adam["halve_every"] // per_epoch),
                                                gamma=0.5)

    def epoch(e: int, rng: np.random.Generator) -> dict[str, float]:
        stats = []
        for _ in range(per_epoch):
            groups = sample_groups(by_class, categories, cfg["groups_per_batch"], cfg["group_size"], rng)
            idx = torch.tensor([[row[i] for i in its] for _, its in groups])
            labels = torch.zeros(len(groups), len(categories))
            labels[torch.arange(len(groups)), torch.tensor([categories.index(c) for c, _ in groups])] = 1
            loss, parts = group_loss(model, images[idx].to(device), targets[idx].to(device), labels.to(device),
                                     cfg["seg_weighting"])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            stats.append({"loss": float(loss.detach()), **parts})
        return {k: float(np.mean([s[k] for s in stats])) for k in stats[0]}

    epochs = -(-cfg["steps"] // per_epoch)
    return run_epochs(output, epochs, seed, model, optimizer, scheduler, epoch, log, desc=f"ssnm seed {seed}")
