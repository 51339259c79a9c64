"""Batched CNN feature extraction: per-box descriptors and per-image feature maps.

Foreground Clustering (Sharma et al., Sec. 5 "Features") describes each candidate box by a
4096-d AlexNet vector, L2-normalised. Cropping and re-running the network for every box is
replaced here by the Fast R-CNN shortcut: one backbone pass over the whole resized image,
RoIAlign of every box on the deepest feature map, average pooling, L2 normalisation.

Both functions run under ``torch.inference_mode`` on ``device`` (see
:func:`weakseg.features.device.pick_device`), a batch of images at a time, with a
progress bar. They move ``model`` to ``device`` (in place, as ``Module.to`` does).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import roi_align

from weakseg.features.backbones import BackboneInfo, preprocess
from weakseg.progress import progress

ROI_SIZE = 7  # RoIAlign output grid per box (Fast/Mask R-CNN's 7x7), averaged afterwards
ROI_SAMPLES = 2  # bilinear samples per grid cell and axis (Mask R-CNN's sampling_ratio)


def _check_sizes(input_size: int, batch_size: int) -> None:
    if input_size < 1 or batch_size < 1:
        raise ValueError(f"input_size and batch_size must be positive, got {input_size} and {batch_size}")


def _batches(n: int, batch_size: int, desc: str) -> Iterator[slice]:
    """Slices over ``n`` items, ``batch_size`` at a time, with a progress bar."""
    starts = range(0, n, batch_size)
    for start in progress(starts, desc=desc, unit="batch", total=len(starts)):
        yield slice(start, min(start + batch_size, n))


def _last_map(model: torch.nn.Module, info: BackboneInfo, images: Sequence[np.ndarray],
              input_size: int, device: torch.device) -> torch.Tensor:
    """The deepest feature map (B, C, h, w) of ``images`` resized to ``input_size``."""
    return model(preprocess(images, info, input_size).to(device))[-1]


def _check_boxes(boxes: np.ndarray, i: int) -> np.ndarray:
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes of image {i}: expected shape (N, 4) [x_min, y_min, x_max, y_max], "
                         f"got {boxes.shape}")
    if not np.isfinite(boxes).all() or (boxes[:, 2] < boxes[:, 0]).any() or (boxes[:, 3] < boxes[:, 1]).any():
        raise ValueError(f"boxes of image {i}: need finite coordinates with x_max >= x_min and y_max >= y_min")
    return boxes


def _boxes_in_input(boxes: np.ndarray, image_shape: tuple[int, ...], input_size: int,
                    device: torch.device) -> torch.Tensor:
    """Boxes (N, 4) in image pixels -> float32 tensor in the resized ``input_size`` frame."""
    height, width = image_shape[:2]
    scale = np.array([input_size / width, input_size / height] * 2)
    return torch.as_tensor(boxes * scale, dtype=torch.float32, device=device)


def box_features(model: torch.nn.Module, info: BackboneInfo, images: Sequence[np.ndarray],
                 boxes: Sequence[np.ndarray], *, input_size: int, batch_size: int,
                 device: torch.device) -> list[np.ndarray]:
    """L2-normalised CNN descriptors of boxes: one float32 (N_i, C) array per image.

    ``images[i]``: RGB uint8 (H, W, 3); ``boxes[i]``: float (N_i, 4) [x_min, y_min, x_max, y_max]
    in that image's pixels, continuous corners. ``model`` is a :func:`load_backbone` extractor;
    C is the channel count of its deepest map. Each image is resized to ``input_size`` squared
    and run once; every box is RoIAligned (``aligned=True``: continuous coordinates) on the
    deepest map with ``spatial_scale`` = map width / ``input_size``, averaged over its
    ``ROI_SIZE`` x ``ROI_SIZE`` grid and L2-normalised (a box whose pooled feature is all zero
    stays zero).
    """
    _check_sizes(input_size, batch_size)
    if len(images) != len(boxes):
        raise ValueError(f"{len(images)} images but {len(boxes)} box arrays")
    boxes = [_check_boxes(b, i) for i, b in enumerate(boxes)]
    model = model.to(device).eval()
    out: list[np.ndarray] = []
    with torch.inference_mode():
        for part in _batches(len(images), batch_size, "box features"):
            fmap = _last_map(model, info, images[part], input_size, device)
            rois = [_boxes_in_input(b, im.shape, input_size, device)
                    for b, im in zip(boxes[part], images[part])]
            pooled = roi_align(fmap, rois, output_size=ROI_SIZE, spatial_scale=fmap.shape[-1] / input_size,
                               sampling_ratio=ROI_SAMPLES, aligned=True)
            feats = F.normalize(pooled.mean(dim=(2, 3)), dim=1)
            out.extend(f.float().cpu().numpy() for f in torch.split(feats, [len(b) for b in boxes[part]]))
    return out


def image_feature_maps(model: torch.nn.Module, info: BackboneInfo, images: Sequence[np.ndarray], *,
                       input_size: int, batch_size: int, device: torch.device) -> list[np.ndarray]:
    """The deepest feature map of each image resized to ``input_size`` squared: float32 (C, h, w).

    ``images[i]``: RGB uint8 (H, W, 3); ``model`` a :func:`load_backbone` extractor; h and w are
    about ``input_size / info.strides[-1]`` for the default (all-stage) extractor.
    """
    _check_sizes(input_size, batch_size)
    model = model.to(device).eval()
    out: list[np.ndarray] = []
    with torch.inference_mode():
        for part in _batches(len(images), batch_size, "feature maps"):
            fmap = _last_map(model, info, images[part], input_size, device)
            out.extend(m.float().cpu().numpy() for m in fmap)
    return out
