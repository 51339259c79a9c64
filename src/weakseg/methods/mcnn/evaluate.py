"""Evaluation of trained M-CNN models: semantic segmentation (Tables 1-3, IoU per class, Sec. 4.1)
and video co-localization (Table 4, CorLoc, Sec. 4.5). One row per (seed, item)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from weakseg.data.index import Dataset
from weakseg.evaluation import evaluate_boxes, evaluate_semantic
from weakseg.methods.mcnn.colocalization import ColocalizationParams, colocalize
from weakseg.methods.mcnn.fcn import FCN
from weakseg.methods.mcnn.predict import predict_items
from weakseg.preprocess.superpixels import segment
from weakseg.progress import progress


def to_dataset_ids(model: FCN, ds: Dataset) -> np.ndarray:
    """Lookup model id -> dataset id (``[background, *ds.classes]``); a model class the dataset
    lacks is an error."""
    missing = sorted(set(model.classes) - set(ds.classes))
    if missing:
        raise ValueError(f"model classes {missing} are not classes of {ds.root} {list(ds.classes)}")
    return np.asarray([0, *[1 + list(ds.classes).index(c) for c in model.classes]])


def evaluate_segmentation(model: FCN, ds: Dataset, splits: Sequence[str], device: torch.device,
                          batch_size: int) -> pd.DataFrame:
    """Confusion rows on the masked images of ``splits``. A model with fewer classes than the
    dataset is scored with the subset protocol of Sec. 4.1 (images with none of its classes left
    out, other classes as background): the 10-class setting of Tables 1-2."""
    items = [i for s in splits for i in ds.items(s).loc[lambda d: d["mask"].notna(), "item"]]
    probs = predict_items(model, items, ds.image, device, batch_size, "segmentation")
    lookup = to_dataset_ids(model, ds)
    labels = {item: lookup[p.argmax(axis=0)] for item, p in probs.items()}
    relevant = None if set(model.classes) == set(ds.classes) else list(model.classes)
    return evaluate_semantic(ds, labels, relevant)


def evaluate_colocalization(model: FCN, ds: Dataset, splits: Sequence[str], params: Mapping[str, Any],
                            superpixels: Mapping[str, Any], device: torch.device, batch_size: int) -> pd.DataFrame:
    """CorLoc rows on the box-annotated frames of the videos of ``splits`` (Sec. 4.5): the network's
    probability of the video's class, GMMs + graph cut over ``superpixels`` (a preprocessing
    product config: method and params), the box of the largest component."""
    rows = ds.index[ds.index["split"].isin(splits) & ds.index["box_annotated"]]
    probs = predict_items(model, list(rows["item"]), ds.image, device, batch_size, "co-localization")
    p = ColocalizationParams(**params)
    boxes = {}
    for item, cls in progress(list(zip(rows["item"], rows["class"])), desc="graph cuts", unit="frame"):
        image = ds.image(item)
        sp = segment(image, superpixels["method"], superpixels.get("max_side"), **superpixels.get("params", {}))
        boxes[item] = colocalize(image, probs[item][1 + model.classes.index(cls)], sp, p)
    return evaluate_boxes(ds, boxes)
