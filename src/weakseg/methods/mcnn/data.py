"""Training samples of M-CNN in memory: pruned video shots with their motion segments (Sec. 4.2)
and weakly labelled images (Sec. 4.4), plus the crop-and-mirror augmentation (Sec. 4.3).

Class ids are positions in the model's label set ``[background, *classes]`` (0 = background).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from weakseg.data.index import Dataset
from weakseg.methods.mcnn.shots import TrainingShot
from weakseg.preprocess.store import UnitData


@dataclass(frozen=True)
class ShotSample:
    """The sampled frames of one kept shot: frames uint8 (T, H, W, 3), motion bool (T, H, W)."""

    shot: TrainingShot
    frames: np.ndarray
    motion: np.ndarray
    label_ids: tuple[int, ...]


@dataclass(frozen=True)
class ImageSample:
    """One training image, uint8 (H, W, 3), with the ids of its image-level labels."""

    item: str
    image: np.ndarray
    label_ids: tuple[int, ...]


def motion_masks(motion: Mapping[str, UnitData]) -> dict[str, np.ndarray]:
    """Item -> motion segment, bool (H, W), from the motion product's unit files (unit -> data)."""
    return {item: data.get("mask", item).astype(bool) for data in motion.values() for item in data.items}


def foreground_fractions(masks: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Item -> fraction of the frame the motion segment covers (the Sec. 4.2 pruning statistic)."""
    return {item: float(m.mean()) for item, m in masks.items()}


def label_ids(labels: Sequence[str], classes: Sequence[str], where: str) -> tuple[int, ...]:
    """Ids of ``labels`` in ``[background, *classes]``; an unknown label is an error naming ``where``."""
    unknown = sorted(set(labels) - set(classes))
    if unknown:
        raise ValueError(f"{where}: labels {unknown} are not classes of the model {list(classes)}")
    return tuple(1 + list(classes).index(label) for label in labels)


def load_shots(ds: Dataset, shots: Sequence[TrainingShot], masks: Mapping[str, np.ndarray],
               classes: Sequence[str]) -> list[ShotSample]:
    """Frames and motion segments of every kept shot."""
    out = []
    for shot in shots:
        missing = [i for i in shot.items if i not in masks]
        if missing:
            raise ValueError(f"shot {shot.shot}: no motion segment for frames {missing[:3]}; "
                             "rebuild the motion product (snakemake preprocess)")
        out.append(ShotSample(shot=shot, frames=np.stack([ds.image(i) for i in shot.items]),
                              motion=np.stack([masks[i] for i in shot.items]),
                              label_ids=label_ids(shot.labels, classes, f"shot {shot.shot}")))
    return out


def load_images(ds: Dataset, split: str, classes: Sequence[str]) -> list[ImageSample]:
    """The ``split`` images of ``ds`` that show at least one of ``classes``, with those labels only
    (M-CNN Sec. 4.1: images with only other classes are left out)."""
    out = []
    for row in ds.items(split).itertuples():
        labels = [lab for lab in row.labels if lab in classes]
        if labels:
            out.append(ImageSample(row.item, ds.image(row.item), label_ids(labels, classes, row.item)))
    return out


def random_crop(arrays: Sequence[np.ndarray], size: int, rng: np.random.Generator,
                mirror: bool = True) -> list[np.ndarray]:
    """One random ``size`` x ``size`` crop (and, with ``mirror``, a random horizontal flip) applied
    alike to every array (N, H, W, ...) of a batch. Frames smaller than ``size`` are first scaled up
    (nearest for non-uint8-RGB arrays) so that their short side is ``size``."""
    h, w = arrays[0].shape[1:3]
    if min(h, w) < size:
        scale = size / min(h, w)
        new = (max(size, round(w * scale)), max(size, round(h * scale)))
        arrays = [np.stack([cv2.resize(a.astype(np.uint8), new, interpolation=cv2.INTER_LINEAR if a.ndim == 3
                                       else cv2.INTER_NEAREST) for a in arr]).astype(arr.dtype) for arr in arrays]
        h, w = arrays[0].shape[1:3]
    y, x = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
    flip = mirror and bool(rng.integers(0, 2))
    out = []
    for arr in arrays:
        crop = arr[:, y:y + size, x:x + size]
        out.append(np.ascontiguousarray(crop[:, :, ::-1] if flip else crop))
    return out
