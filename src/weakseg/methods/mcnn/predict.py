"""Inference of a trained M-CNN: per-pixel class probabilities at the image's full resolution
(Sec. 4.1; DeepLab's logits are upsampled bilinearly, as in training)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from weakseg.features.backbones import normalise, to_unit_tensor
from weakseg.methods.mcnn.fcn import FCN
from weakseg.progress import progress


@torch.no_grad()
def predict_probs(model: FCN, images: Sequence[np.ndarray], device: torch.device,
                  batch_size: int = 16) -> list[np.ndarray]:
    """Softmax over ``[background, *model.classes]`` for each RGB uint8 image (H, W, 3):
    float32 (1 + L, H, W). Images of the same size are batched together."""
    model.eval()
    out: list[np.ndarray | None] = [None] * len(images)
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for i, im in enumerate(images):
        by_shape.setdefault(im.shape, []).append(i)
    for idx in by_shape.values():
        for k in range(0, len(idx), batch_size):
            chunk = idx[k:k + batch_size]
            x = normalise(to_unit_tensor(np.stack([images[i] for i in chunk]), device), model.info)
            probs = torch.softmax(model.upsampled(x), dim=1).cpu().numpy().astype(np.float32)
            for i, p in zip(chunk, probs):
                out[i] = p
    return out  # type: ignore[return-value]


def predict_items(model: FCN, items: Sequence[str], read: Callable[[str], np.ndarray], device: torch.device,
                  batch_size: int, desc: str) -> dict[str, np.ndarray]:
    """:func:`predict_probs` over dataset items read by ``read``, in chunks, with a progress bar."""
    out: dict[str, np.ndarray] = {}
    step = 8 * batch_size
    for k in progress(range(0, len(items), step), desc=desc, unit="chunk"):
        chunk = list(items[k:k + step])
        out.update(zip(chunk, predict_probs(model, [read(i) for i in chunk], device, batch_size)))
    return out
