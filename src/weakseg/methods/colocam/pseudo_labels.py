"""Pixel pseudo-labels of CoLo-CAM (Belharbi et al.): the seeds ``Y_t`` of the partial cross-entropy, eq. 1.

At every SGD step a few pixels of frame t are labelled from the frozen classifier's CAM ``C_t``: foreground
pixels drawn with probability proportional to the CAM, background pixels drawn uniformly (Sec. 3.1 a),
Appendix A.2, Algorithm 1). Two procedures, chosen by :class:`PseudoLabelConfig`:

* ``regions="largest_box"`` (default, the authors' code; reference-implementations notes): Otsu threshold on the
  0..255 CAM, the largest 4-connected component above it, and its bounding box = ROI. Foreground candidates:
  the ``fg_fraction`` (70 %) highest-CAM pixels of the ROI; ``n_fg`` (1000) of them drawn without replacement
  with probability proportional to the CAM. Background candidates: the ``bg_fraction`` (10 %) lowest-CAM pixels
  of the whole frame; ``n_bg`` (1000) drawn uniformly without replacement. Both seed maps are dilated by a
  ``dilation`` x ``dilation`` square (3); a pixel in both is left unlabelled.
* ``regions="otsu"`` (the paper's Appendix A.2, eqs. 6-7): the foreground base set is ``C+`` = every pixel
  above the Otsu threshold (all components, no box), the background base set is its complement ``C-``; the
  fractions then pick the highest- (foreground) / lowest-CAM (background) pixels of each base set.
  :data:`PAPER` sets fractions 1, one pixel each and no dilation: Algorithm 1 as written.

:data:`TCAM_FCAM` is the authors' procedure with 1 fg + 1 bg draw (the setting of TCAM and F-CAM).

Conventions: a CAM is float (H, W) in [0, 1] (min-max normalised, upsampled to the frame). The Otsu threshold
``t`` is computed, as in the authors' code, on the integer levels ``floor(255 * CAM)``; a pixel is above it when
its level is ``> t`` (skimage's and the paper's "greater than"; the code uses ``>=`` on ``255 * CAM``). A CAM whose
levels are all equal has no Otsu split and gives no seeds (the code: no seeds for a constant CAM). Candidate
counts are ``max(1, floor(fraction * base))`` pixels, ties in CAM broken by raster order (a stable sort, as the
code's). Foreground weights are ``CAM + 1e-8`` (the code's), so zero-CAM candidates stay drawable. Seed maps are
int8 (H, W): 1 foreground, 0 background, -1 unlabelled. Boxes are [x_min, y_min, x_max, y_max], continuous
corners.

:func:`temporal_max_pool` is TCAM's input to the same sampler (Belharbi et al., WACV 2023; CoLo-CAM Sec. 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np
from skimage.filters import threshold_otsu
from skimage.measure import label

FOREGROUND, BACKGROUND, UNLABELLED = 1, 0, -1
_WEIGHT_EPS = 1e-8  # added to the foreground sampling weights, as in the authors' code


@dataclass(frozen=True)
class PseudoLabelConfig:
    """Parameters of the seed sampler (module docstring).

    Attributes:
        n_fg, n_bg: foreground / background pixels drawn per call (fewer if there are fewer candidates).
        fg_fraction: share of the foreground base set (ROI box, or ``C+``) kept as candidates, highest CAM first.
        bg_fraction: share of the background base set (whole frame, or ``C-``) kept as candidates, lowest CAM first.
        dilation: side of the square each drawn pixel is dilated to (odd; 1 = no dilation).
        regions: ``"largest_box"`` (authors' code) or ``"otsu"`` (paper, eqs. 6-7) base sets.
    """

    n_fg: int = 1000
    n_bg: int = 1000
    fg_fraction: float = 0.7
    bg_fraction: float = 0.1
    dilation: int = 3
    regions: Literal["largest_box", "otsu"] = "largest_box"

    def __post_init__(self) -> None:
        for name in ("n_fg", "n_bg"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be an int >= 0; got {value!r}")
        for name in ("fg_fraction", "bg_fraction"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1]; got {value!r}")
        if not isinstance(self.dilation, int) or self.dilation < 1 or self.dilation % 2 == 0:
            raise ValueError(f"dilation must be an odd int >= 1; got {self.dilation!r}")
        if self.regions not in ("largest_box", "otsu"):
            raise ValueError(f"regions must be 'largest_box' or 'otsu'; got {self.regions!r}")


AUTHORS_CODE = PseudoLabelConfig()
TCAM_FCAM = PseudoLabelConfig(n_fg=1, n_bg=1)
PAPER = PseudoLabelConfig(n_fg=1, n_bg=1, fg_fraction=1.0, bg_fraction=1.0, dilation=1, regions="otsu")


def otsu_foreground(cam: np.ndarray) -> np.ndarray:
    """``C+`` of eq. 6: bool (H, W), True where ``floor(255 * cam)`` exceeds its Otsu threshold.

    All False when the levels are all equal (no threshold). ``cam``: float (H, W) in [0, 1].
    """
    levels = np.floor(_check_cam(cam) * 255.0).astype(np.uint8)
    if levels.min() == levels.max():
        return np.zeros(levels.shape, dtype=bool)
    return levels > threshold_otsu(levels)


def largest_component_box(mask: np.ndarray) -> np.ndarray:
    """Bounding box of the largest 4-connected component of ``mask`` (bool (H, W) with a True pixel).

    Returns int64 (4,) [x_min, y_min, x_max, y_max], continuous corners. Ties in area: lowest label (raster order
    of the component's first pixel), as the authors' code.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2 or mask.dtype != bool or not mask.any():
        raise ValueError(f"mask must be a bool (H, W) array with at least one True pixel; got dtype {mask.dtype} "
                         f"shape {mask.shape}")
    components = label(mask, connectivity=1)
    areas = np.bincount(components.ravel())
    areas[0] = 0
    largest = components == areas.argmax()
    rows = np.flatnonzero(largest.any(axis=1))
    cols = np.flatnonzero(largest.any(axis=0))
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=np.int64)


def seed_candidates(cam: np.ndarray, config: PseudoLabelConfig = AUTHORS_CODE) -> tuple[np.ndarray, np.ndarray]:
    """Flat (raster) indices of the foreground and background candidates of ``cam`` (module docstring).

    Returns (fg, bg): int64 1-D arrays, fg by decreasing CAM, bg by increasing CAM; both empty when the CAM's
    0..255 levels are all equal.
    """
    cam = _check_cam(cam)
    above = otsu_foreground(cam)
    if not above.any():
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    if config.regions == "largest_box":
        x0, y0, x1, y1 = largest_component_box(above)
        fg_base = np.zeros(cam.shape, dtype=bool)
        fg_base[y0:y1, x0:x1] = True
        bg_base = np.ones(cam.shape, dtype=bool)
    else:
        fg_base, bg_base = above, ~above
    values = cam.ravel()
    fg = _extreme_fraction(np.flatnonzero(fg_base), values, config.fg_fraction, highest=True)
    bg = _extreme_fraction(np.flatnonzero(bg_base), values, config.bg_fraction, highest=False)
    return fg, bg


def draw_seed_pixels(cam: np.ndarray, rng: np.random.Generator,
                     config: PseudoLabelConfig = AUTHORS_CODE) -> tuple[np.ndarray, np.ndarray]:
    """The drawn pixels before dilation: flat indices (fg, bg), int64, each without repeats.

    ``min(n_fg, #fg candidates)`` foreground pixels drawn without replacement with probability proportional to
    ``cam + 1e-8``; ``min(n_bg, #bg candidates)`` background pixels drawn uniformly without replacement.
    Deterministic given the state of ``rng``.
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}")
    fg_pool, bg_pool = seed_candidates(cam, config)
    weights = np.asarray(cam, dtype=np.float64).ravel()[fg_pool] + _WEIGHT_EPS
    return _draw(rng, fg_pool, config.n_fg, weights), _draw(rng, bg_pool, config.n_bg, None)


def _seed_map(shape: tuple[int, int], fg: np.ndarray, bg: np.ndarray, dilation: int) -> np.ndarray:
    """int8 (H, W) map from drawn flat indices: each set dilated by a ``dilation`` square, then
    1 = foreground only, 0 = background only, -1 = neither or both."""
    kernel = np.ones((dilation, dilation), dtype=np.uint8)
    fg_mask, bg_mask = (cv2.dilate(_indicator(shape, idx), kernel).astype(bool) for idx in (fg, bg))
    out = np.full(shape, UNLABELLED, dtype=np.int8)
    out[fg_mask & ~bg_mask] = FOREGROUND
    out[bg_mask & ~fg_mask] = BACKGROUND
    return out


def sample_pseudo_labels(cam: np.ndarray, rng: np.random.Generator,
                         config: PseudoLabelConfig = AUTHORS_CODE) -> np.ndarray:
    """Pseudo-label map ``Y_t`` of eq. 1 for one frame (CoLo-CAM Algorithm 1, one SGD step).

    Args:
        cam: float (H, W) classifier CAM in [0, 1], at frame resolution.
        rng: the numpy Generator the draws come from (call once per frame and SGD step).
        config: sampler parameters (:data:`AUTHORS_CODE`, :data:`TCAM_FCAM`, :data:`PAPER` or custom).

    Returns:
        int8 (H, W): 1 foreground seed, 0 background seed, -1 unlabelled (all -1 for a flat CAM).
    """
    fg, bg = draw_seed_pixels(cam, rng, config)
    return _seed_map(np.shape(cam), fg, bg, config.dilation)


def temporal_max_pool(cams: np.ndarray) -> np.ndarray:
    """TCAM's temporal max-pooling: the pixel-wise maximum of the CAMs of n frames, float (n, H, W) -> (H, W).

    TCAM (Belharbi et al., WACV 2023; CoLo-CAM Secs. 1-2) replaces the CAM of frame t by the maximum, at each
    pixel position, over the CAMs of frame t and its n - 1 temporal neighbours (the preceding frames in its
    best setting, n = 2, CoLo-CAM Fig. 2a), so ROIs of nearby frames are gathered; no motion compensation, which
    is why it assumes limited object displacement. The authors' code pools the classifier's low-resolution CAMs
    (all min-max normalised to [0, 1]) before they are upsampled to the frame; the result feeds
    :func:`sample_pseudo_labels`. (The code can first sharpen each CAM to ``exp(h * C) / max``; off by default,
    not implemented.)
    """
    cams = np.asarray(cams)
    if cams.ndim != 3 or cams.shape[0] < 1 or not np.issubdtype(cams.dtype, np.floating):
        raise ValueError(f"cams must be a float array (n, H, W) with n >= 1; got dtype {cams.dtype} "
                         f"shape {cams.shape}")
    return cams.max(axis=0)


def _extreme_fraction(indices: np.ndarray, values: np.ndarray, fraction: float, highest: bool) -> np.ndarray:
    """The ``max(1, floor(fraction * len))`` entries of ``indices`` with the highest / lowest ``values``
    (stable: ties in raster order), ordered from the most extreme."""
    if indices.size == 0:
        return indices
    keys = values[indices]
    order = np.argsort(-keys if highest else keys, kind="stable")
    return indices[order[:max(1, int(fraction * indices.size))]]


def _draw(rng: np.random.Generator, pool: np.ndarray, count: int, weights: np.ndarray | None) -> np.ndarray:
    """``min(count, len(pool))`` distinct entries of ``pool``, with probability proportional to ``weights``
    (successive draws without replacement) or uniform when ``weights`` is None."""
    if pool.size == 0:
        return pool
    p = None if weights is None else weights / weights.sum()
    return rng.choice(pool, size=min(count, pool.size), replace=False, p=p)


def _indicator(shape: tuple[int, int], flat_indices: np.ndarray) -> np.ndarray:
    out = np.zeros(shape[0] * shape[1], dtype=np.uint8)
    out[flat_indices] = 1
    return out.reshape(shape)


def _check_cam(cam: np.ndarray) -> np.ndarray:
    cam = np.asarray(cam)
    if cam.ndim != 2 or 0 in cam.shape or not np.issubdtype(cam.dtype, np.floating):
        raise ValueError(f"cam must be a float array (H, W) with H, W > 0; got dtype {cam.dtype} shape {cam.shape}")
    if not (np.isfinite(cam).all() and cam.min() >= 0.0 and cam.max() <= 1.0):
        raise ValueError(f"cam must hold finite values in [0, 1]; got range [{cam.min()}, {cam.max()}]")
    return cam
