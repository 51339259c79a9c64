"""Optical flow: OpenCV DIS by default, Farneback as an option; torchvision's RAFT
when its weights are on disk.

FST (Papazoglou & Ferrari, ICCV 2013), which M-CNN (Sec. 4.1) and Foreground
Clustering (Sec. 5, Table 2) build on, used the Brox-Malik large-displacement flow;
no offline implementation of it exists here, so DIS (Kroeger et al., ECCV 2016) is
the default and the method is recorded with every stored product.

Conventions: frames are RGB uint8 ``(H, W, 3)`` (grey uint8 ``(H, W)`` is accepted);
a flow is float32 ``(H, W, 2)`` holding ``(dx, dy)`` such that
``prev[y, x] ≈ nxt[y + dy, x + dx]`` (OpenCV's and torchvision's convention).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from pathlib import Path
from urllib.parse import urlparse

import cv2
import numpy as np

DIS_PRESETS: dict[str, int] = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}

RAFT_MIN_SIDE = 128  # torchvision's RAFT needs feature maps of at least 16 px at stride 8


def _as_grey(image: np.ndarray, name: str) -> np.ndarray:
    """``image`` (RGB uint8 (H, W, 3) or grey uint8 (H, W)) as grey uint8 (H, W)."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"{name} must be uint8 (RGB (H, W, 3) or grey (H, W)); got dtype {image.dtype}")
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    raise ValueError(f"{name} must be RGB (H, W, 3) or grey (H, W); got shape {image.shape}")


def dis_flow(prev: np.ndarray, nxt: np.ndarray, preset: str = "medium") -> np.ndarray:
    """Dense Inverse Search flow (``cv2.DISOpticalFlow``) from ``prev`` to ``nxt``.

    Args:
        prev, nxt: frames of equal size (see module conventions).
        preset: one of :data:`DIS_PRESETS` (speed/accuracy trade-off).

    Returns:
        float32 ``(H, W, 2)`` flow ``(dx, dy)``.
    """
    if preset not in DIS_PRESETS:
        raise ValueError(f"unknown DIS preset {preset!r}; known: {sorted(DIS_PRESETS)}")
    dis = cv2.DISOpticalFlow_create(DIS_PRESETS[preset])
    return dis.calc(_as_grey(prev, "prev"), _as_grey(nxt, "nxt"), None).astype(np.float32)


def farneback_flow(prev: np.ndarray, nxt: np.ndarray, pyr_scale: float = 0.5, levels: int = 3,
                   winsize: int = 15, iterations: int = 3, poly_n: int = 5,
                   poly_sigma: float = 1.2) -> np.ndarray:
    """Farneback polynomial-expansion flow (``cv2.calcOpticalFlowFarneback``) from ``prev`` to ``nxt``.

    The keyword arguments are OpenCV's (defaults from its samples).

    Returns:
        float32 ``(H, W, 2)`` flow ``(dx, dy)``.
    """
    return cv2.calcOpticalFlowFarneback(_as_grey(prev, "prev"), _as_grey(nxt, "nxt"), None, pyr_scale,
                                        levels, winsize, iterations, poly_n, poly_sigma, 0).astype(np.float32)


def raft_weights_path() -> Path:
    """Where torchvision's RAFT-small weights must be: ``<torch hub dir>/checkpoints/<file>``.

    The file name is the one torchvision's ``Raft_Small_Weights.DEFAULT`` downloads,
    so a copy made on a connected machine (``raft_small(weights="DEFAULT")``) works.
    """
    import torch
    from torchvision.models.optical_flow import Raft_Small_Weights

    name = Path(urlparse(Raft_Small_Weights.DEFAULT.url).path).name
    return Path(torch.hub.get_dir()) / "checkpoints" / name


@functools.lru_cache(maxsize=2)
def _raft_model(path: str, device: str):
    """RAFT-small with the weights at ``path``, in eval mode on ``device`` (never downloads)."""
    import torch
    from torchvision.models.optical_flow import raft_small

    model = raft_small(weights=None)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval().to(device)


def _raft_size(h: int, w: int) -> tuple[int, int]:
    """Input size for RAFT: scaled up so the short side is >= 128, rounded up to multiples of 8."""
    scale = max(1.0, RAFT_MIN_SIDE / min(h, w))
    return int(np.ceil(h * scale / 8) * 8), int(np.ceil(w * scale / 8) * 8)


def _raft_input(image: np.ndarray, name: str, size: tuple[int, int]):
    """RGB uint8 frame -> (1, 3, *size) uint8 tensor (bilinear resize)."""
    import torch

    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"{name} must be RGB uint8 (H, W, 3) for RAFT; got {image.dtype} {image.shape}")
    resized = cv2.resize(image, size[::-1], interpolation=cv2.INTER_LINEAR)
    return torch.from_numpy(resized).permute(2, 0, 1)[None]


def raft_flow(prev: np.ndarray, nxt: np.ndarray, num_flow_updates: int = 12) -> np.ndarray:
    """torchvision RAFT-small flow from ``prev`` to ``nxt`` (CUDA when visible, else CPU).

    The weights are read from :func:`raft_weights_path` only; this machine is offline,
    so nothing is downloaded. Frames are resized so that both sides are multiples of
    8 and the short side is at least 128 (RAFT's minimum); the flow is resized back
    and its vectors rescaled to the input frame.

    Returns:
        float32 ``(H, W, 2)`` flow ``(dx, dy)``.

    Raises:
        ValueError: the weights file is missing (the message names the path).
    """
    import torch
    from torchvision.models.optical_flow import Raft_Small_Weights

    path = raft_weights_path()
    if not path.is_file():
        raise ValueError(f"RAFT weights not found at {path}; this machine is offline and nothing is "
                         f"downloaded: copy the torchvision file {path.name} there, or use method 'dis'")
    device = "cuda" if torch.cuda.is_available() else "cpu"
    h, w = np.asarray(prev).shape[:2]
    size = _raft_size(h, w)
    a, b = Raft_Small_Weights.DEFAULT.transforms()(_raft_input(prev, "prev", size),
                                                    _raft_input(nxt, "nxt", size))
    with torch.inference_mode():
        flow = _raft_model(str(path), device)(a.to(device), b.to(device), num_flow_updates=num_flow_updates)[-1]
    flow = cv2.resize(flow[0].permute(1, 2, 0).cpu().numpy(), (w, h), interpolation=cv2.INTER_LINEAR)
    return (flow * np.array([w / size[1], h / size[0]])).astype(np.float32)


FLOW_METHODS: dict[str, Callable[..., np.ndarray]] = {
    "dis": dis_flow,
    "farneback": farneback_flow,
    "raft": raft_flow,
}


def _check_params(fn: Callable, method: str, params: dict) -> None:
    """Raise ValueError if ``params`` holds a keyword ``fn`` does not take."""
    accepted = [p for p in inspect.signature(fn).parameters if p not in ("prev", "nxt")]
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ValueError(f"flow method {method!r} got unknown parameters {unknown}; accepted: {accepted}")


def optical_flow(prev: np.ndarray, nxt: np.ndarray, method: str = "dis", **params) -> np.ndarray:
    """Flow from ``prev`` to ``nxt`` with the method registered as ``method`` in :data:`FLOW_METHODS`.

    Args:
        prev, nxt: frames of equal size (module conventions).
        method: registry name; ``params`` go to that method.

    Returns:
        float32 ``(H, W, 2)`` flow ``(dx, dy)`` with ``prev[y, x] ≈ nxt[y + dy, x + dx]``.
    """
    if method not in FLOW_METHODS:
        raise ValueError(f"unknown flow method {method!r}; known: {sorted(FLOW_METHODS)}")
    fn = FLOW_METHODS[method]
    _check_params(fn, method, params)
    if np.shape(prev)[:2] != np.shape(nxt)[:2]:
        raise ValueError(f"prev and nxt sizes differ: {np.shape(prev)} vs {np.shape(nxt)}")
    return fn(prev, nxt, **params)


def shot_flows(frames: Sequence[np.ndarray], method: str = "dis", **params) -> np.ndarray:
    """One flow per frame of a shot.

    Frame ``t < T-1`` gets the forward flow ``t -> t+1``. The last frame has no
    successor, so it gets the *negated backward* flow ``-(T-1 -> T-2)``, which
    approximates its forward motion under constant velocity. A one-frame shot gets
    zeros.

    Args:
        frames: ``T >= 1`` frames of equal size (module conventions).
        method, params: as for :func:`optical_flow`.

    Returns:
        float32 ``(T, H, W, 2)``.
    """
    if len(frames) == 0:
        raise ValueError("shot_flows needs at least one frame; got none")
    sizes = {np.shape(f)[:2] for f in frames}
    if len(sizes) > 1:
        raise ValueError(f"frames of a shot must share one size; got {sorted(sizes)}")
    h, w = sizes.pop()
    out = np.zeros((len(frames), h, w, 2), np.float32)
    for t in range(len(frames) - 1):
        out[t] = optical_flow(frames[t], frames[t + 1], method, **params)
    if len(frames) > 1:
        out[-1] = -optical_flow(frames[-1], frames[-2], method, **params)
    return out
