"""Image, motion and video saliency (weakseg.preprocess.saliency) on constructed images and flows."""

from __future__ import annotations

import numpy as np
import pytest

from weakseg.preprocess.saliency import image_saliency, motion_saliency, video_saliency

H, W = 64, 80


def _square_mask() -> np.ndarray:
    mask = np.zeros((H, W), bool)
    mask[22:42, 30:50] = True
    return mask


@pytest.mark.parametrize("method", ["spectral_residual", "fine_grained"])
def test_bright_square_is_salient(method: str) -> None:
    image = np.full((H, W, 3), 128, np.uint8)
    image[_square_mask()] = 250
    sal = image_saliency(image, method)
    assert sal.dtype == np.float32 and sal.shape == (H, W)
    assert sal.min() == 0.0 and sal.max() == 1.0
    assert sal[_square_mask()].mean() > sal[~_square_mask()].mean()


@pytest.mark.parametrize("method", ["spectral_residual", "fine_grained"])
def test_uniform_image_has_zero_saliency(method: str) -> None:
    sal = image_saliency(np.full((H, W, 3), 90, np.uint8), method)
    assert sal.shape == (H, W) and not sal.any()


def _panning_flow(object_dx: float, camera_dx: float, seed: int = 0) -> np.ndarray:
    """Background moving by camera_dx px/frame (camera pan), the square by object_dx, plus noise."""
    flow = np.random.default_rng(seed).normal(0, 0.1, (H, W, 2)).astype(np.float32)
    flow[..., 0] += camera_dx
    flow[_square_mask(), 0] += object_dx - camera_dx
    return flow


@pytest.mark.parametrize("method", ["relative_magnitude", "fst_votes"])
@pytest.mark.parametrize("object_dx, camera_dx", [(2.0, -1.0),    # the brief's case
                                                  (-1.0, -3.0)])  # pan faster than the object
def test_moving_square_is_more_salient_than_the_panning_background(method: str, object_dx: float,
                                                                   camera_dx: float) -> None:
    sal = motion_saliency(_panning_flow(object_dx, camera_dx), method)
    assert sal.dtype == np.float32 and sal.shape == (H, W)
    assert 0.0 <= sal.min() and sal.max() <= 1.0
    inside, outside = sal[_square_mask()].mean(), sal[~_square_mask()].mean()
    assert inside > 0.5 and outside < 0.2, (inside, outside)


def test_pure_camera_motion_is_not_salient() -> None:
    assert not motion_saliency(np.full((H, W, 2), [2.0, -1.0], np.float32)).any()


def test_video_saliency_is_the_pixelwise_max() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.uniform(size=(H, W)).astype(np.float32), rng.uniform(size=(H, W)).astype(np.float32)
    out = video_saliency(a, b)
    assert out.dtype == np.float32
    assert np.array_equal(out, np.where(a >= b, a, b))
    assert np.array_equal(video_saliency(a, np.zeros_like(a)), a)


def test_bad_inputs_raise_value_error() -> None:
    image = np.zeros((H, W, 3), np.uint8)
    with pytest.raises(ValueError, match="spectral_residual"):
        image_saliency(image, "li_yu")
    with pytest.raises(ValueError, match="RGB uint8"):
        image_saliency(image[..., 0])
    with pytest.raises(ValueError, match="relative_magnitude"):
        motion_saliency(np.zeros((H, W, 2), np.float32), "brox")
    with pytest.raises(ValueError, match=r"\(H, W, 2\)"):
        motion_saliency(np.zeros((H, W), np.float32))
    with pytest.raises(ValueError, match="one shape"):
        video_saliency(np.zeros((H, W)), np.zeros((H, W + 1)))
