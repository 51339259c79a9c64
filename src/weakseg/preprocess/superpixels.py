"""Superpixels and their per-superpixel statistics.

Methods (scikit-image), picked by name through :data:`SUPERPIXEL_METHODS`:

* ``quickshift`` -- Vedaldi & Soatto, "Quick shift and kernel methods for mode seeking"
  (ECCV 2008); the superpixels of Foreground Clustering (Sharma et al., Sec. 5,
  "Implementation details", ref. 43).
* ``slic`` -- Achanta et al. (PAMI 2012).
* ``felzenszwalb`` -- Felzenszwalb & Huttenlocher (IJCV 2004); the superpixels of
  Pinheiro & Collobert's SP-sppxl smoothing (CVPR 2015, Sec. 4.3, ref. 9).

Per superpixel, :func:`superpixel_stats` gives the mean colour and centroid (the
positions and colours of FC's similarity matrix, Eq. 5), the 7x7x7 RGB histogram (FC's
foreground model, Eq. 6: "a 3D histogram based on RGB values, with 7 bins for each
color channel"), the pixel count and the 4-connected neighbour graph.

Conventions: images are RGB ``uint8`` ``(H, W, 3)``; label maps are integer ``(H, W)``
with labels ``0..K-1``, each used at least once; positions are continuous ``(x, y)``
where pixel ``(r, c)`` has its centre at ``(c + 0.5, r + 0.5)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import skimage.segmentation

from weakseg.checks import check_rgb_image

# Name -> scikit-image segmentation function ``f(image, **params) -> (H, W) labels``.
# All three take the channels last by default and are deterministic (quickshift seeds
# its tie-breaking noise with its ``rng`` parameter, 42 by default).
SUPERPIXEL_METHODS: dict[str, Callable[..., np.ndarray]] = {
    "quickshift": skimage.segmentation.quickshift,
    "slic": skimage.segmentation.slic,
    "felzenszwalb": skimage.segmentation.felzenszwalb,
}


def check_labels(labels: np.ndarray, shape: tuple[int, int] | None = None) -> int:
    """Validate a label map and return K, its number of superpixels.

    ``labels`` must be an integer ``(H, W)`` array (of ``shape`` if given) whose labels
    are exactly ``0..K-1``, each used by at least one pixel (what :func:`segment` returns).
    """
    if not isinstance(labels, np.ndarray) or labels.ndim != 2:
        raise ValueError(f"labels must be a 2-D (H, W) array; got shape {np.shape(labels)}")
    if shape is not None and labels.shape != tuple(shape):
        raise ValueError(f"labels have shape {labels.shape}; the image is {tuple(shape)}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must have an integer dtype; got {labels.dtype}")
    if labels.size == 0 or labels.min() < 0:
        raise ValueError("labels must be non-empty and non-negative")
    k = int(labels.max()) + 1
    if np.count_nonzero(np.bincount(labels.ravel(), minlength=k)) != k:
        raise ValueError("labels must be contiguous 0..K-1 with every label used; "
                         "relabel with skimage.segmentation.relabel_sequential (or use segment())")
    return k


def segment(image: np.ndarray, method: str, max_side: int | None = None, **params) -> np.ndarray:
    """Over-segment ``image`` into superpixels.

    Args:
        image: RGB ``uint8`` ``(H, W, 3)``.
        method: a key of :data:`SUPERPIXEL_METHODS`.
        max_side: segment a copy downscaled (area interpolation) so that its longer side is
            at most this, and upscale the labels (nearest) back to ``(H, W)``: quickshift on
            full-size real images costs seconds per image.
        **params: keyword arguments of that scikit-image function (from config), e.g.
            ``kernel_size``/``max_dist``/``ratio`` (quickshift), ``n_segments``/
            ``compactness`` (slic), ``scale``/``sigma``/``min_size`` (felzenszwalb).

    Returns:
        ``int32`` ``(H, W)`` labels ``0..K-1``, contiguous (relabelled with
        ``skimage.segmentation.relabel_sequential``, label order kept).
        Deterministic for a given image and parameters.
    """
    if method not in SUPERPIXEL_METHODS:
        raise ValueError(f"unknown superpixel method {method!r}; known: {sorted(SUPERPIXEL_METHODS)}")
    check_rgb_image(image)
    height, width = image.shape[:2]
    scale = 1.0 if max_side is None else min(1.0, max_side / max(height, width))
    small = image if scale == 1.0 else cv2.resize(image, (max(1, round(width * scale)), max(1, round(height * scale))),
                                                  interpolation=cv2.INTER_AREA)
    raw = np.asarray(SUPERPIXEL_METHODS[method](np.ascontiguousarray(small), **params), dtype=np.int32)
    if scale != 1.0:
        raw = cv2.resize(raw, (width, height), interpolation=cv2.INTER_NEAREST)
    # relabel_sequential keeps 0 as 0, so shift to 1.. first, then back to 0..K-1; this also
    # drops labels lost in the upscaling.
    relabelled, _, _ = skimage.segmentation.relabel_sequential(raw.astype(np.int64) - raw.min() + 1)
    return (relabelled - 1).astype(np.int32)


@dataclass
class SuperpixelStats:
    """Per-superpixel statistics of one image with K superpixels.

    Attributes:
        mean_colour: ``float32`` ``(K, 3)`` mean RGB, 0..255.
        centroid: ``float32`` ``(K, 2)`` mean ``(x, y)`` of the pixel centres
            (pixel ``(r, c)`` has centre ``(c + 0.5, r + 0.5)``).
        histogram: ``int32`` ``(K, bins**3)`` pixel counts in a bins x bins x bins RGB
            histogram; channel value ``v`` falls in bin ``v * bins // 256`` and the flat
            index is ``(r_bin * bins + g_bin) * bins + b_bin``.
        size: ``int32`` ``(K,)`` number of pixels.
        edges: ``int32`` ``(E, 2)`` unique pairs ``a < b`` of 4-connected neighbouring
            superpixels, sorted lexicographically.
    """

    mean_colour: np.ndarray
    centroid: np.ndarray
    histogram: np.ndarray
    size: np.ndarray
    edges: np.ndarray


def superpixel_centroids(labels: np.ndarray) -> np.ndarray:
    """``float32`` ``(K, 2)`` ``(x, y)`` centroids of a contiguous label map (see module conventions)."""
    k = check_labels(labels)
    flat = labels.ravel()
    rows, cols = np.indices(labels.shape)
    size = np.bincount(flat, minlength=k)
    x = np.bincount(flat, weights=cols.ravel() + 0.5, minlength=k) / size
    y = np.bincount(flat, weights=rows.ravel() + 0.5, minlength=k) / size
    return np.stack([x, y], axis=1).astype(np.float32)


def colour_bins(image: np.ndarray, bins: int) -> np.ndarray:
    """``int64`` ``(H, W)`` flat RGB-histogram bin of every pixel (see :class:`SuperpixelStats`)."""
    if not 1 <= bins <= 256:
        raise ValueError(f"bins must be in 1..256; got {bins}")
    per_channel = image.astype(np.int64) * bins // 256
    return (per_channel[..., 0] * bins + per_channel[..., 1]) * bins + per_channel[..., 2]


def neighbour_edges(labels: np.ndarray) -> np.ndarray:
    """``int32`` ``(E, 2)`` unique sorted pairs ``a < b`` of labels touching 4-connectedly."""
    pairs = np.concatenate([
        np.stack([labels[:, :-1].ravel(), labels[:, 1:].ravel()], axis=1),   # horizontal neighbours
        np.stack([labels[:-1, :].ravel(), labels[1:, :].ravel()], axis=1),   # vertical neighbours
    ]).astype(np.int64)
    pairs = np.sort(pairs[pairs[:, 0] != pairs[:, 1]], axis=1)
    return np.unique(pairs, axis=0).reshape(-1, 2).astype(np.int32)


def superpixel_stats(image: np.ndarray, labels: np.ndarray, bins: int = 7) -> SuperpixelStats:
    """Mean colour, centroid, RGB histogram, size and neighbour graph of every superpixel.

    Vectorised with ``np.bincount`` (no loop over pixels or superpixels).

    Args:
        image: RGB ``uint8`` ``(H, W, 3)``.
        labels: integer ``(H, W)`` contiguous labels ``0..K-1`` (as from :func:`segment`).
        bins: histogram bins per channel; 7 in Foreground Clustering (Sec. 5).
    """
    check_rgb_image(image)
    k = check_labels(labels, image.shape[:2])
    flat = labels.ravel()
    size = np.bincount(flat, minlength=k)
    rgb = image.reshape(-1, 3).astype(np.float64)
    mean_colour = np.stack([np.bincount(flat, weights=rgb[:, ch], minlength=k) for ch in range(3)], axis=1)
    histogram = np.bincount(flat.astype(np.int64) * bins ** 3 + colour_bins(image, bins).ravel(),
                            minlength=k * bins ** 3).reshape(k, bins ** 3)
    return SuperpixelStats(mean_colour=(mean_colour / size[:, None]).astype(np.float32),
                           centroid=superpixel_centroids(labels),
                           histogram=histogram.astype(np.int32),
                           size=size.astype(np.int32),
                           edges=neighbour_edges(labels))
