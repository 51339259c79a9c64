"""Image saliency, motion saliency from optical flow, and Foreground Clustering's
video saliency.

Foreground Clustering (Sharma et al., Sec. 5) computes off-the-shelf image saliency
with Li & Yu's deep multiscale saliency (ref. 26), motion saliency with FST's code
(ref. 32), and for videos takes "a max-pooling over the two saliency maps"; the
saliency enters its objective as ``s = -log(M)`` (Sec. 3). Li & Yu's network is not
available offline, so image saliency here is OpenCV contrib's static saliency
(spectral residual, Hou & Zhang CVPR 2007, or fine-grained, Montabone & Soto 2010),
picked by name from :data:`IMAGE_SALIENCY`.

Every map is float32 ``(H, W)`` in [0, 1], min-max normalised per image; a constant
map becomes all zeros. Images are RGB uint8 ``(H, W, 3)``; flows float32
``(H, W, 2)`` as ``(dx, dy)`` (see :mod:`weakseg.preprocess.flow`).
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from weakseg.checks import check_flow, check_rgb_image
from weakseg.preprocess.motion import (
    FSTParams,
    calibrated_gain,
    inside_votes,
    motion_boundaries,
)


def _normalise(saliency: np.ndarray) -> np.ndarray:
    """Min-max normalise to [0, 1] as float32; a constant map gives zeros."""
    saliency = np.asarray(saliency, np.float32)
    low, high = float(saliency.min()), float(saliency.max())
    if high - low <= 1e-12:
        return np.zeros_like(saliency)
    return (saliency - low) / (high - low)


def _opencv_static(factory: Callable[[], object]) -> Callable[[np.ndarray], np.ndarray]:
    """An image-saliency function running the OpenCV static-saliency object made by ``factory``."""

    def compute(image: np.ndarray) -> np.ndarray:
        ok, saliency = factory().computeSaliency(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        if not ok:
            raise RuntimeError(f"OpenCV {factory.__name__} failed on an image of shape {image.shape}")
        return saliency

    return compute


IMAGE_SALIENCY: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "spectral_residual": _opencv_static(cv2.saliency.StaticSaliencySpectralResidual_create),
    "fine_grained": _opencv_static(cv2.saliency.StaticSaliencyFineGrained_create),
}


def image_saliency(image: np.ndarray, method: str = "spectral_residual") -> np.ndarray:
    """Static saliency of one image with the method registered as ``method``.

    Args:
        image: RGB uint8 ``(H, W, 3)``.
        method: a key of :data:`IMAGE_SALIENCY`.

    Returns:
        float32 ``(H, W)`` in [0, 1] (min-max normalised; constant -> zeros). A
        uniform image (e.g. a black frame of a fade) has no salient region and gets
        zeros; OpenCV's spectral residual would return normalised round-off noise.
    """
    if method not in IMAGE_SALIENCY:
        raise ValueError(f"unknown image saliency method {method!r}; known: {sorted(IMAGE_SALIENCY)}")
    image = check_rgb_image(np.asarray(image))
    if image.min() == image.max():
        return np.zeros(image.shape[:2], np.float32)
    return _normalise(IMAGE_SALIENCY[method](image))


def relative_motion(flow: np.ndarray) -> np.ndarray:
    """Magnitude of the flow relative to the dominant (median) motion, float32 (H, W).

    Subtracting the median flow vector removes a camera pan, so a static scene
    filmed by a panning camera is not salient; objects moving against it are.
    """
    return np.linalg.norm(flow - np.median(flow.reshape(-1, 2), axis=0), axis=-1)


def fst_inside_evidence(flow: np.ndarray) -> np.ndarray:
    """Fraction of FST's 8 rays voting "inside" a motion boundary, float32 (H, W) in [0, 1].

    The graded form of FST's inside-outside map (Papazoglou & Ferrari, Sec. 3.2, with
    :class:`~weakseg.preprocess.motion.FSTParams` constants and the boundary
    sensitivity auto-calibrated per frame), closer to the motion saliency FC took
    from FST's code.
    """
    p = FSTParams()
    votes = inside_votes(motion_boundaries(flow, p, calibrated_gain(flow, p)), p.rays, p.boundary_threshold)
    return votes.astype(np.float32) / p.rays


MOTION_SALIENCY: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relative_magnitude": relative_motion,
    "fst_votes": fst_inside_evidence,
}


def motion_saliency(flow: np.ndarray, method: str = "relative_magnitude", sigma: float = 2.0) -> np.ndarray:
    """Motion saliency of one frame from its optical flow.

    Args:
        flow: float ``(H, W, 2)`` as ``(dx, dy)``.
        method: a key of :data:`MOTION_SALIENCY`: ``"relative_magnitude"`` (default;
            flow magnitude relative to the median motion, so camera motion is not
            salient) or ``"fst_votes"`` (FST inside-outside ray votes).
        sigma: Gaussian smoothing (pixels) before normalisation; 0 turns it off.

    Returns:
        float32 ``(H, W)`` in [0, 1] (min-max normalised; uniform motion -> zeros).
    """
    if method not in MOTION_SALIENCY:
        raise ValueError(f"unknown motion saliency method {method!r}; known: {sorted(MOTION_SALIENCY)}")
    raw = MOTION_SALIENCY[method](check_flow(flow)).astype(np.float32)
    if sigma > 0:
        raw = cv2.GaussianBlur(raw, (0, 0), sigma)
    return _normalise(raw)


def video_saliency(image_sal: np.ndarray, motion_sal: np.ndarray) -> np.ndarray:
    """Foreground Clustering's video saliency: the pixelwise max of image and motion saliency (Sec. 5).

    Args:
        image_sal, motion_sal: float ``(H, W)`` maps in [0, 1] of one frame.

    Returns:
        float32 ``(H, W)``.
    """
    image_sal, motion_sal = np.asarray(image_sal), np.asarray(motion_sal)
    if image_sal.ndim != 2 or image_sal.shape != motion_sal.shape:
        raise ValueError(f"image and motion saliency must be (H, W) maps of one shape; got "
                         f"{image_sal.shape} and {motion_sal.shape}")
    return np.maximum(image_sal, motion_sal).astype(np.float32)
