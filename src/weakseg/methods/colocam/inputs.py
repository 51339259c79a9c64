"""Frames as the CoLo-CAM networks see them: read from a canonical dataset, resized to ``colocam.input_size``.

Conventions: frames are uint8 RGB (H, W, 3) at the input size (Sec. 4.1 resizes every frame to one size; aspect
ratio not kept); batches for the networks are float (B, 3, H, W) normalised with the backbone's mean / std; the
CRF terms take float (B, 3, H, W) RGB in 0..255 (:func:`rgb_255`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import cv2
import numpy as np
import torch

from weakseg.data.index import Dataset
from weakseg.features.backbones import BackboneInfo, normalise, to_unit_tensor


class FrameStore:
    """Resized frames of ``ds`` by item, read once and kept (least recently used out beyond ``capacity``)."""

    def __init__(self, ds: Dataset, size: Sequence[int], capacity: int = 8192) -> None:
        if len(size) != 2 or min(size) < 8:
            raise ValueError(f"config 'colocam.input_size' must be [height, width] >= 8 pixels; got {list(size)}")
        self.ds, self.size, self.capacity = ds, (int(size[0]), int(size[1])), capacity
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def frame(self, item: str) -> np.ndarray:
        """uint8 (H, W, 3) frame ``item`` at the input size (area interpolation when shrinking, linear else)."""
        if item in self._cache:
            self._cache.move_to_end(item)
            return self._cache[item]
        image = self.ds.image(item)
        h, w = self.size
        shrink = image.shape[0] > h or image.shape[1] > w
        frame = image if image.shape[:2] == (h, w) else cv2.resize(
            image, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        self._cache[item] = frame
        if len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
        return frame

    def frames(self, items: Sequence[str]) -> np.ndarray:
        """uint8 (B, H, W, 3) frames of ``items``."""
        if not items:
            return np.zeros((0, *self.size, 3), dtype=np.uint8)
        return np.stack([self.frame(i) for i in items])


def network_batch(frames: np.ndarray, info: BackboneInfo, device: torch.device) -> torch.Tensor:
    """uint8 (B, H, W, 3) -> float (B, 3, H, W) normalised for the backbone, on ``device``."""
    return normalise(to_unit_tensor(frames, device), info)


def rgb_255(frames: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 (B, H, W, 3) -> float (B, 3, H, W) RGB in 0..255 (the CRF kernels' colour units)."""
    return to_unit_tensor(frames, device) * 255.0
