"""One trained SSNM per (variant, seed), and its evaluation on co-segmentation groups (P and J,
Sec. 4.2): every image is segmented inside a group of N images of its class."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np
import pandas as pd
import torch

from weakseg.data.index import Dataset
from weakseg.evaluation import evaluate_masks
from weakseg.features.backbones import preprocess
from weakseg.methods.ssnm.groups import class_items, evaluation_chunks
from weakseg.methods.ssnm.network import SSNM, build_ssnm
from weakseg.methods.ssnm.train import train
from weakseg.progress import progress
from weakseg.training import finish, load


def train_variant(name: str, cfg: Mapping[str, Any], seed: int, ds: Dataset, output: str, log: logging.Logger,
                  device: torch.device) -> None:
    """Train variant ``name`` of config section ``ssnm`` on the training groups of ``ds`` and write ``output``."""
    by_class = class_items(ds.index, "train")
    if not by_class:
        raise ValueError(f"{ds.root}: no masked training image with a class; SSNM trains on co-category groups")
    variant = cfg["variants"][name]
    torch.manual_seed(seed)
    model = build_ssnm(cfg["network"], variant, len(by_class)).to(device)
    log.info("%s seed %d: %d categories, %d images", name, seed, len(by_class), sum(map(len, by_class.values())))
    history = train(model, ds, by_class, cfg, seed, output, log, device)
    finish(output, {"model": model.state_dict(), "variant": name, "settings": dict(variant), "seed": seed,
                    "categories": sorted(by_class), "history": history})


def load_model(path: str, cfg: Mapping[str, Any], device: torch.device) -> tuple[SSNM, dict[str, Any]]:
    """The trained model in ``path`` (written by :func:`train_variant`) and its state."""
    state = load(path)
    model = build_ssnm(cfg["network"], state["settings"], len(state["categories"]), weights="random")
    model.load_state_dict(state["model"])
    return model.to(device).eval(), state


@torch.no_grad()
def predict_group(model: SSNM, images: list[np.ndarray], size: int, device: torch.device,
                  threshold: float) -> list[np.ndarray]:
    """Co-segmentation masks, bool (H_n, W_n) at each image's own size, of one group of images."""
    x = preprocess(images, model.info, size)[None].to(device)
    probs = torch.sigmoid(model(x).logits[0]).cpu().numpy()
    return [cv2.resize(p, (im.shape[1], im.shape[0]), interpolation=cv2.INTER_LINEAR) > threshold
            for p, im in zip(probs, images)]


def evaluate(model: SSNM, ds: Dataset, cfg: Mapping[str, Any], device: torch.device) -> pd.DataFrame:
    """J and P rows for every masked image of ``ds`` (all splits), segmented in groups of its class."""
    masks = {}
    chunks = [c for items in class_items(ds.index).values() for c in evaluation_chunks(items, cfg["group_size"])]
    for chunk, counted in progress(chunks, desc="co-segmentation", unit="group"):
        pred = predict_group(model, [ds.image(i) for i in chunk], cfg["input_size"], device, cfg["threshold"])
        masks.update(zip(chunk[:counted], pred[:counted]))
    return evaluate_masks(ds, masks)
