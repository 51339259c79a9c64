"""FST-style motion segmentation (weakseg.preprocess.motion) on constructed shots and boundaries."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from weakseg.metrics import mask_jaccard
from weakseg.preprocess.flow import shot_flows
from weakseg.preprocess.motion import (
    FSTParams,
    frame_quality,
    inside_outside,
    inside_votes,
    motion_boundaries,
    segment_shot,
)

T, H, W, SIDE = 6, 64, 80, 20


def _texture(rng: np.random.Generator, h: int, w: int, low, high) -> np.ndarray:
    """Blurred RGB noise stretched to [low, high] per channel, uint8 (h, w, 3)."""
    noise = cv2.GaussianBlur(rng.uniform(0, 1, (h, w, 3)).astype(np.float32), (0, 0), 1.5)
    noise = (noise - noise.min()) / (noise.max() - noise.min())
    return (np.asarray(low) + noise * (np.asarray(high) - np.asarray(low))).astype(np.uint8)


@pytest.fixture(scope="module")
def moving_square() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A reddish textured square moving right 2 px/frame over a bluish textured background
    moving left 1 px/frame (camera pan): frames (H, W, 3) and true masks (H, W) uint8."""
    rng = np.random.default_rng(0)
    background = _texture(rng, H, W + T, (20, 60, 120), (120, 160, 220))
    square = _texture(rng, SIDE, SIDE, (150, 40, 20), (250, 140, 90))
    frames, masks = [], []
    for t in range(T):
        frame = background[:, t:t + W].copy()  # frame_t[x] = background[x + t]: content moves left
        x0, y0 = 20 + 2 * t, 22
        frame[y0:y0 + SIDE, x0:x0 + SIDE] = square
        mask = np.zeros((H, W), np.uint8)
        mask[y0:y0 + SIDE, x0:x0 + SIDE] = 1
        frames.append(frame)
        masks.append(mask)
    return frames, masks


def test_segment_shot_finds_the_moving_square(moving_square) -> None:
    frames, masks = moving_square
    seg = segment_shot(frames, shot_flows(frames))
    assert seg.shape == (T, H, W) and seg.dtype == np.bool_
    for t in range(1, T - 1):
        assert mask_jaccard(seg[t], masks[t]) > 0.6, f"frame {t}"


def test_static_shot_has_no_motion_segment(moving_square) -> None:
    frames = [moving_square[0][0]] * 3
    seg = segment_shot(frames, np.zeros((3, H, W, 2), np.float32))
    assert seg.shape == (3, H, W) and not seg.any()


def _rectangle(thickness: int = 1) -> np.ndarray:
    """A hand-drawn closed rectangle outline, rows 15..44, columns 20..59."""
    boundary = np.zeros((H, W), bool)
    boundary[15:15 + thickness, 20:60] = boundary[45 - thickness:45, 20:60] = True
    boundary[15:45, 20:20 + thickness] = boundary[15:45, 60 - thickness:60] = True
    return boundary


def _inside_and_outside(thickness: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixels strictly inside the outline and pixels outside it (both clear of the line)."""
    inside = np.zeros((H, W), bool)
    inside[15 + thickness:45 - thickness, 20 + thickness:60 - thickness] = True
    outside = np.ones((H, W), bool)
    outside[14:46, 19:61] = False
    return inside, outside


@pytest.mark.parametrize("thickness", [1, 3])
@pytest.mark.parametrize("rays", [4, 8])
def test_inside_outside_of_a_closed_rectangle(thickness: int, rays: int) -> None:
    inside, outside = _inside_and_outside(thickness)
    io = inside_outside(_rectangle(thickness), rays=rays, min_votes=rays // 2 + 1)
    assert io.dtype == np.bool_ and io.shape == (H, W)
    assert io[inside].all()
    assert not io[outside].any()


def test_votes_count_rays_with_odd_crossings() -> None:
    votes = inside_votes(_rectangle())
    assert votes[30, 40] == 8          # centre: every ray crosses once
    assert votes[30, 10] == 0          # level with the box: rays that meet it cross it twice
    assert votes[5, 5] == 0            # the diagonal ray through the box crosses it twice too


def test_float_boundary_is_binarised_at_the_threshold() -> None:
    prob = np.where(_rectangle(), 0.6, 0.45).astype(np.float32)
    inside, outside = _inside_and_outside(1)
    io = inside_outside(prob)
    assert io[inside].all() and not io[outside].any()
    assert not inside_outside(prob, threshold=0.7).any()


def test_motion_boundaries_of_a_flow_step() -> None:
    flow = np.zeros((H, W, 2), np.float32)
    flow[..., 0] = -1.0                # camera pan
    flow[20:40, 30:50, 0] = 2.0        # object moving right
    b = motion_boundaries(flow)
    assert b.dtype == np.float32 and b.shape == (H, W)
    assert b.min() >= 0 and b.max() <= 1
    assert b[30, 29] > 0.7 and b[30, 50] > 0.7       # both sides of the vertical edges
    assert b[5, 5] < 0.1 and b[30, 40] < 0.1        # uniform motion: no boundary
    uniform = motion_boundaries(np.full((H, W, 2), 3.0, np.float32))
    assert uniform.max() < FSTParams().boundary_threshold


def test_frame_quality_prefers_one_compact_blob() -> None:
    blob = np.zeros((H, W), bool)
    blob[20:30, 20:30] = True
    scattered = np.zeros((H, W), bool)
    scattered[::8, ::8] = True
    assert frame_quality(blob) > frame_quality(scattered) > 0
    assert frame_quality(np.zeros((H, W), bool)) == 0


def test_bad_inputs_raise_value_error(moving_square) -> None:
    frames, _ = moving_square
    with pytest.raises(ValueError, match="flows must have shape"):
        segment_shot(frames, np.zeros((T - 1, H, W, 2), np.float32))
    with pytest.raises(ValueError, match="uint8"):
        segment_shot([f.astype(np.float32) for f in frames], np.zeros((T, H, W, 2), np.float32))
    with pytest.raises(ValueError, match="spatial_weight"):
        segment_shot(frames, np.zeros((T, H, W, 2), np.float32), spatial_wieght=1.0)
    with pytest.raises(ValueError, match=r"\(H, W, 2\)"):
        motion_boundaries(np.zeros((H, W), np.float32))
    with pytest.raises(ValueError, match="rays"):
        inside_outside(_rectangle(), rays=6)
