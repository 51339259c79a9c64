"""Input checks shared by the library: one place for what an image and a flow field are."""

from __future__ import annotations

import numpy as np


def check_rgb_image(image: np.ndarray, name: str = "image") -> np.ndarray:
    """Return ``image`` if it is an RGB ``uint8`` array (H, W, 3) with H, W > 0; else raise
    ValueError naming ``name``, its dtype and shape."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 \
            or image.shape[2] != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"{name} must be an RGB uint8 array of shape (H, W, 3); got dtype "
                         f"{getattr(image, 'dtype', type(image).__name__)} shape {getattr(image, 'shape', '?')}")
    return image


def check_flow(flow: np.ndarray, name: str = "flow") -> np.ndarray:
    """Return ``flow`` as float32 if it has shape (H, W, 2) as (dx, dy); else raise ValueError."""
    flow = np.asarray(flow)
    if flow.ndim != 3 or flow.shape[2] != 2:
        raise ValueError(f"{name} must have shape (H, W, 2) as (dx, dy); got {flow.shape}")
    return flow.astype(np.float32, copy=False)
