"""Dense SIFT, visual words, bag-of-words per superpixel and the chi-square kernel.

Foreground Clustering (Sharma et al., Sec. 5, "Features"): "Following (14), we densely
extract SIFT features at every 4 pixels and kernelize them using Chi-square distance",
ref. 14 being Joulin, Bach & Ponce, "Discriminative clustering for image cosegmentation"
(CVPR 2010). Tang et al. (2014) quantise dense SIFT into 1000 visual words (see
notes/reference-implementations.md); the vocabulary size is a parameter here.

Pipeline: :func:`dense_sift` per image -> :func:`fit_vocabulary` on the descriptors of a
unit -> :func:`assign_words` -> :func:`bow_per_superpixel` -> :func:`chi2_kernel_matrix`.

Conventions: images are RGB ``uint8`` ``(H, W, 3)``; points are continuous ``(x, y)`` with
pixel ``(r, c)`` centred at ``(c + 0.5, r + 0.5)`` (as superpixel centroids in
:mod:`weakseg.preprocess.superpixels`).
"""

from __future__ import annotations

import cv2
import numpy as np
from sklearn.cluster import MiniBatchKMeans
from sklearn.metrics import pairwise_distances_argmin
from sklearn.metrics.pairwise import additive_chi2_kernel, chi2_kernel

from weakseg.checks import check_rgb_image
from weakseg.preprocess.superpixels import check_labels, superpixel_centroids

SIFT_DIM = 128
KMEANS_N_INIT = 3  # MiniBatchKMeans restarts; fixed so the vocabulary depends on the seed only


def grid_pixels(height: int, width: int, step: int, size: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns ``(P,)`` of the dense grid: every ``step`` pixels from a margin.

    The margin is ``ceil(size / 2)`` pixels on every side, so each keypoint's disc
    (diameter ``size``) lies inside the image. Rows run ``margin, margin + step, ...`` up to
    ``height - 1 - margin`` (columns likewise); points are in row-major order.
    """
    if step < 1:
        raise ValueError(f"step must be a positive number of pixels; got {step}")
    if size <= 0:
        raise ValueError(f"size must be positive; got {size}")
    margin = int(np.ceil(size / 2))
    ys = np.arange(margin, height - margin, step)
    xs = np.arange(margin, width - margin, step)
    if ys.size == 0 or xs.size == 0:
        raise ValueError(f"image {height}x{width} is too small for SIFT keypoints of size {size} "
                         f"(needs at least {2 * margin + 1} pixels per side)")
    rows, cols = np.meshgrid(ys, xs, indexing="ij")
    return rows.ravel(), cols.ravel()


def dense_sift(image: np.ndarray, step: int = 4, size: float = 8.0) -> tuple[np.ndarray, np.ndarray]:
    """Upright SIFT descriptors on a regular grid every ``step`` pixels (FC Sec. 5, after Joulin et al.).

    OpenCV ``SIFT.compute`` on the grey image with keypoints of diameter ``size`` and angle
    0 (no orientation assignment, as in dense SIFT). Grid: see :func:`grid_pixels`. Note
    OpenCV's descriptor is wider than the keypoint: its 4x4 spatial bins are each
    ``1.5 * size`` pixels wide (12 px for ``size=8``), Gaussian-weighted around the point;
    pixels falling outside the image contribute nothing.

    Returns:
        points ``float32`` ``(P, 2)`` ``(x, y)`` pixel centres of the grid (module
        conventions), and descriptors ``float32`` ``(P, 128)``, integer-valued 0..255
        (OpenCV's SIFT normalisation).
    """
    check_rgb_image(image)
    rows, cols = grid_pixels(image.shape[0], image.shape[1], step, size)
    # OpenCV places pixel centres on integer coordinates; angle 0 = upright (the default
    # angle -1 would rotate the descriptor by 1 degree).
    keypoints = [cv2.KeyPoint(float(c), float(r), float(size), 0.0) for r, c in zip(rows, cols)]
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    kept, descriptors = cv2.SIFT_create().compute(grey, keypoints)
    if len(kept) != len(keypoints):
        raise RuntimeError(f"OpenCV SIFT dropped {len(keypoints) - len(kept)} of {len(keypoints)} grid keypoints")
    points = np.stack([cols + 0.5, rows + 0.5], axis=1).astype(np.float32)
    return points, descriptors.astype(np.float32)


def _check_descriptors(descriptors: np.ndarray, name: str = "descriptors") -> np.ndarray:
    arr = np.asarray(descriptors)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty (P, D) array; got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contain non-finite values")
    return arr.astype(np.float32, copy=False)


def fit_vocabulary(descriptors: np.ndarray, words: int, seed: int) -> np.ndarray:
    """Visual words: ``float32`` ``(words, D)`` k-means centres of ``descriptors`` ``(P, D)``.

    scikit-learn ``MiniBatchKMeans`` with ``n_init`` fixed (:data:`KMEANS_N_INIT`) and
    ``random_state=seed``, so the same descriptors and seed give the same vocabulary.
    Tang et al. (2014) use 1000 words.
    """
    descriptors = _check_descriptors(descriptors)
    if words < 1:
        raise ValueError(f"words must be positive; got {words}")
    if len(descriptors) < words:
        raise ValueError(f"only {len(descriptors)} descriptors for a vocabulary of {words} words; "
                         "use fewer words or more images")
    kmeans = MiniBatchKMeans(n_clusters=words, n_init=KMEANS_N_INIT, random_state=seed)
    return kmeans.fit(descriptors).cluster_centers_.astype(np.float32)


def assign_words(descriptors: np.ndarray, vocabulary: np.ndarray) -> np.ndarray:
    """``int64`` ``(P,)`` index of the nearest (Euclidean) vocabulary centre of each descriptor."""
    descriptors = _check_descriptors(descriptors)
    vocabulary = _check_descriptors(vocabulary, "vocabulary")
    if descriptors.shape[1] != vocabulary.shape[1]:
        raise ValueError(f"descriptors have {descriptors.shape[1]} dimensions, the vocabulary {vocabulary.shape[1]}")
    return pairwise_distances_argmin(descriptors, vocabulary).astype(np.int64)


def bow_per_superpixel(points: np.ndarray, words: np.ndarray, labels: np.ndarray, n_words: int) -> np.ndarray:
    """Bag of visual words of every superpixel: ``float32`` ``(K, n_words)``, rows L1-normalised.

    A grid point belongs to the superpixel of the pixel containing it
    (``labels[floor(y), floor(x)]``). A superpixel containing no grid point (smaller than
    the grid step) gets the word of the grid point nearest to its centroid, so every row
    is a distribution and the chi-square kernel treats it like its surroundings.

    Args:
        points: ``(P, 2)`` ``(x, y)`` from :func:`dense_sift`, inside the image.
        words: integer ``(P,)`` in ``0..n_words-1`` (from :func:`assign_words`).
        labels: integer ``(H, W)`` contiguous superpixel labels ``0..K-1``.
        n_words: vocabulary size.
    """
    k = check_labels(labels)
    points = np.asarray(points, dtype=np.float64)
    words = np.asarray(words)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0 or not np.all(np.isfinite(points)):
        raise ValueError(f"points must be a non-empty finite (P, 2) array of (x, y); got shape {points.shape}")
    if words.shape != (len(points),) or not np.issubdtype(words.dtype, np.integer):
        raise ValueError(f"words must be integer of shape ({len(points)},); got {words.dtype} {words.shape}")
    if words.min() < 0 or words.max() >= n_words:
        raise ValueError(f"words must lie in 0..{n_words - 1}; got {words.min()}..{words.max()}")
    cols, rows = np.floor(points).astype(np.int64).T
    height, width = labels.shape
    if cols.min() < 0 or rows.min() < 0 or cols.max() >= width or rows.max() >= height:
        raise ValueError(f"points fall outside the {height}x{width} label map")
    owner = labels[rows, cols].astype(np.int64)
    counts = np.bincount(owner * n_words + words, minlength=k * n_words).reshape(k, n_words).astype(np.float64)
    empty = np.flatnonzero(counts.sum(axis=1) == 0)
    if empty.size:
        nearest = pairwise_distances_argmin(superpixel_centroids(labels)[empty], points)
        counts[empty, words[nearest]] = 1.0
    return (counts / counts.sum(axis=1, keepdims=True)).astype(np.float32)


def mean_chi2_gamma(hist: np.ndarray) -> float:
    """``1 / mean chi-square distance`` over distinct pairs of rows of ``hist`` (1.0 if that mean is 0).

    The usual bandwidth for exponentiated chi-square kernels (e.g. Zhang et al., IJCV
    2007): distances then average 1, whatever the vocabulary size. Chi-square distance is
    scikit-learn's ``sum_i (x_i - y_i)^2 / (x_i + y_i)``.
    """
    distance = -additive_chi2_kernel(hist)
    k = len(hist)
    if k < 2:
        return 1.0
    mean = (distance.sum() - np.trace(distance)) / (k * (k - 1))
    return float(1.0 / mean) if mean > 0 else 1.0


def chi2_kernel_matrix(hist: np.ndarray, gamma: float | None = None) -> np.ndarray:
    """Chi-square kernel ``exp(-gamma * chi2(h_a, h_b))`` between rows: ``float64`` ``(K, K)``.

    FC Sec. 5 kernelises the dense-SIFT bags of words "using Chi-square distance".
    ``hist``: non-negative ``(K, n_words)`` (e.g. from :func:`bow_per_superpixel`).
    ``gamma`` defaults to :func:`mean_chi2_gamma` of ``hist``.
    """
    hist = np.asarray(hist, dtype=np.float64)
    if hist.ndim != 2 or hist.shape[0] == 0:
        raise ValueError(f"hist must be a non-empty (K, n_words) array; got shape {hist.shape}")
    if not np.all(np.isfinite(hist)) or hist.min() < 0:
        raise ValueError("hist must be finite and non-negative")
    if gamma is None:
        gamma = mean_chi2_gamma(hist)
    if gamma <= 0:
        raise ValueError(f"gamma must be positive; got {gamma}")
    return chi2_kernel(hist, gamma=gamma)
