"""Epoch loop shared by every method that trains a network: seeding, a checkpoint after each
epoch, resumption from it, progress and a log line per epoch.

Determinism: epoch ``e`` of a run with seed ``s`` draws its sample order and augmentations from
``numpy.random.default_rng([s, e])`` and seeds torch (dropout) with the same pair, so a run
resumed from the checkpoint of epoch ``e - 1`` continues exactly as the uninterrupted run would
(the model, optimiser and scheduler states are in the checkpoint).

Checkpoint file: ``<final output>.epoch.pt`` beside the final output, written atomically after
each epoch and removed once the final model is written (:func:`finish`). It is not a
Snakemake output, so a killed job keeps it and the rerun of the same job resumes from it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from weakseg.io import atomic_path
from weakseg.progress import progress

EpochFn = Callable[[int, np.random.Generator], dict[str, float]]


def freeze_batchnorm(module: torch.nn.Module) -> None:
    """Put every BatchNorm layer of ``module`` in eval mode: pretrained backbones keep their ImageNet
    statistics when batches are small or correlated (10 frames of one shot, a group of 5 images).
    Call it after ``module.train()``."""
    for m in module.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()


def epoch_rng(seed: int, epoch: int) -> np.random.Generator:
    """The generator of epoch ``epoch`` of run ``seed``; also seeds torch's CPU and CUDA RNGs."""
    torch.manual_seed(int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0]))
    return np.random.default_rng([seed, epoch])


def checkpoint_path(output: str | os.PathLike[str]) -> Path:
    """Where the per-epoch checkpoint of the run writing ``output`` lives."""
    return Path(f"{output}.epoch.pt")


def save(path: str | os.PathLike[str], state: dict[str, Any]) -> None:
    """``torch.save`` ``state`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A state written by :func:`save`, on the CPU; an error naming the file if it is unreadable."""
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # torch raises several types for a truncated or foreign file
        raise ValueError(f"{path}: not a readable weakseg checkpoint ({exc}); delete it to retrain") from exc


def run_epochs(output: str | os.PathLike[str], epochs: int, seed: int, model: torch.nn.Module,
               optimizer: torch.optim.Optimizer, scheduler: Any, epoch_fn: EpochFn,
               log: logging.Logger, desc: str) -> list[dict[str, float]]:
    """Train for ``epochs`` epochs, resuming from the checkpoint of an interrupted run.

    ``epoch_fn(epoch, rng)`` runs one epoch (the caller's SGD steps) and returns its metrics;
    ``scheduler`` (or None) steps once per epoch. Returns the metrics of every epoch, including
    those restored from the checkpoint.
    """
    ckpt = checkpoint_path(output)
    history: list[dict[str, float]] = []
    start = 0
    if ckpt.is_file():
        state = load(ckpt)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
        start, history = state["epoch"] + 1, state["history"]
        log.info("%s: resumed from %s after epoch %d", desc, ckpt, start)
    for epoch in progress(range(start, epochs), desc=desc, unit="epoch", total=epochs - start):
        model.train()
        metrics = epoch_fn(epoch, epoch_rng(seed, epoch))
        if scheduler is not None:
            scheduler.step()
        history.append({"epoch": epoch, **metrics})
        log.info("%s: epoch %d/%d %s", desc, epoch + 1, epochs,
                 " ".join(f"{k}={v:.4g}" for k, v in metrics.items()))
        save(ckpt, {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict() if scheduler is not None else None,
                    "epoch": epoch, "history": history})
    return history


def finish(output: str | os.PathLike[str], state: dict[str, Any]) -> None:
    """Write the final ``state`` to ``output`` and drop the per-epoch checkpoint."""
    save(output, state)
    checkpoint_path(output).unlink(missing_ok=True)
