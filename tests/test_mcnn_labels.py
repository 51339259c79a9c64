"""M-CNN label prediction (Sec. 3.2) and co-localization (Sec. 4.5) on constructed shots and frames."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from weakseg.graphcut import binary_cut, contrast_scale, grid_edges, grid_sq_differences
from weakseg.methods.mcnn.colocalization import (
    ColocalizationParams,
    colocalize,
    largest_component_box,
    training_pixels,
)
from weakseg.methods.mcnn.label_inference import LabelInferenceParams, infer_labels, motion_boundary_band
from weakseg.metrics import box_iou, mask_jaccard
from weakseg.preprocess.superpixels import segment

T, H, W, SHIFT = 10, 72, 96, 5


def _texture(rng: np.random.Generator, low, high) -> np.ndarray:
    """Blurred RGB noise stretched to [low, high] per channel, uint8 (H, W, 3)."""
    noise = cv2.GaussianBlur(rng.uniform(0, 1, (H, W, 3)).astype(np.float32), (0, 0), 1.5)
    noise = (noise - noise.min()) / (noise.max() - noise.min())
    return (np.asarray(low) + noise * (np.asarray(high) - np.asarray(low))).astype(np.uint8)


def _ellipse(cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W]
    return ((xx + 0.5 - cx) / rx) ** 2 + ((yy + 0.5 - cy) / ry) ** 2 <= 1


def _shot(objects: list[tuple[tuple, tuple, float, float]], seed: int = 0) -> tuple[np.ndarray, list[np.ndarray]]:
    """Frames (T, H, W, 3) of textured ellipses ``(low, high, x0, dx)`` moving horizontally
    (centre x0 + dx t, y 36) over a greenish textured background; one true mask (T, H, W) per object."""
    rng = np.random.default_rng(seed)
    background = _texture(rng, (20, 90, 40), (100, 180, 120))
    textures = [_texture(rng, low, high) for low, high, _, _ in objects]
    frames = np.repeat(background[None], T, axis=0)
    masks = [np.stack([_ellipse(x0 + dx * t, 36, 15, 12) for t in range(T)]) for _, _, x0, dx in objects]
    for tex, mask in zip(textures, masks):
        frames[mask] = np.broadcast_to(tex, frames.shape)[mask]
    return frames, masks


def _shifted(masks: np.ndarray) -> np.ndarray:
    """The motion segments: true masks shifted SHIFT pixels right and down."""
    return np.roll(masks, (SHIFT, SHIFT), axis=(1, 2))


def _mean_iou(pred: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([mask_jaccard(p, g) for p, g in zip(pred, truth)]))


RED = ((170, 30, 30), (250, 120, 90))
BLUE = ((30, 30, 160), (110, 100, 250))


@pytest.mark.parametrize("informative", [False, True])
def test_inference_recovers_the_mask_better_than_the_shifted_motion_mask(informative: bool) -> None:
    frames, (truth,) = _shot([(*RED, 25.0, 4.0)])
    motion = _shifted(truth)
    fg = np.full((T, H, W), 0.5)
    if informative:  # weakly: 0.55 on a blurred, displaced blob around the object
        blob = np.stack([cv2.GaussianBlur(np.roll(m, (-4, 6), axis=(0, 1)).astype(np.float32), (0, 0), 6)
                         for m in truth])
        fg = 0.45 + 0.1 * blob
    probs = np.stack([1 - fg, fg], axis=1)
    labels = infer_labels(frames, motion, probs, np.arange(T) * 3, LabelInferenceParams())
    assert labels.shape == (T, H, W) and labels.dtype == np.int64 and set(np.unique(labels)) <= {0, 1}
    motion_iou, inferred_iou = _mean_iou(motion, truth), _mean_iou(labels > 0, truth)
    assert motion_iou < 0.65
    assert inferred_iou > 0.9 and inferred_iou > motion_iou + 0.25


def test_two_labels_through_alpha_expansion() -> None:
    frames, (red, blue) = _shot([(*RED, 20.0, 2.0), (*BLUE, 76.0, -2.0)], seed=1)
    motion = _shifted(red | blue)
    # The network only weakly tells the labels apart (left / right half) and prefers background everywhere.
    left = np.zeros((T, H, W), bool)
    left[:, :, : W // 2] = True
    probs = np.empty((T, 3, H, W))
    probs[:, 0] = 0.4
    probs[:, 1] = np.where(left, 0.35, 0.25)
    probs[:, 2] = np.where(left, 0.25, 0.35)
    labels = infer_labels(frames, motion, probs, np.arange(T), LabelInferenceParams(alpha=2.0))
    assert set(np.unique(labels)) == {0, 1, 2}
    assert _mean_iou(labels == 1, red) > 0.85 and _mean_iou(labels == 2, blue) > 0.85
    assert _mean_iou(labels > 0, red | blue) > _mean_iou(motion, red | blue) + 0.25


def test_without_motion_segments_only_network_and_pairwise_remain() -> None:
    frames, (truth,) = _shot([(*RED, 30.0, 3.0)], seed=2)
    motion = np.zeros((T, H, W), bool)
    fg = np.where(truth, 0.7, 0.3)
    probs = np.stack([1 - fg, fg], axis=1)
    p = LabelInferenceParams()
    labels = infer_labels(frames, motion, probs, np.arange(T), p)
    colours = frames / 255.0
    edges = grid_edges(colours, p.lam, contrast_scale(grid_sq_differences(colours)))  # empty motion: no Delta
    expected = binary_cut(-np.log(probs[:, 0]), -np.log(probs[:, 1]), edges)
    assert np.array_equal(labels, expected.astype(np.int64))
    assert _mean_iou(labels > 0, truth) > 0.9


def test_motion_boundary_band_is_width_pixels_each_side() -> None:
    motion = np.zeros((1, 20, 30), bool)
    motion[0, 5:15, 0:12] = True  # touches the left image border
    band = motion_boundary_band(motion, 2)[0]
    assert band[10, 11] and band[10, 10] and not band[10, 9]   # inside: 2 pixels
    assert band[10, 12] and band[10, 13] and not band[10, 14]  # outside: 2 pixels
    assert band[3, 5] and not band[2, 5]                       # above the top edge
    assert not band[10, 0]                                     # the image border is no boundary
    assert not motion_boundary_band(motion, 0).any()


def test_infer_labels_rejects_bad_shapes() -> None:
    frames, (truth,) = _shot([(*RED, 25.0, 4.0)])
    probs = np.full((T, 2, H, W), 0.5)
    with pytest.raises(ValueError, match="motion"):
        infer_labels(frames, truth.astype(np.uint8), probs, np.arange(T))
    with pytest.raises(ValueError, match="probs"):
        infer_labels(frames, truth, probs[:, :1], np.arange(T))
    with pytest.raises(ValueError, match="frame_numbers"):
        infer_labels(frames, truth, probs, np.arange(T - 1))


# --------------------------------------------------------------------------- co-localization


def test_colocalization_boxes_a_planted_object() -> None:
    rng = np.random.default_rng(5)
    frame = _texture(rng, (20, 90, 40), (100, 180, 120))
    obj = _ellipse(55, 30, 18, 13)
    frame[obj] = _texture(rng, *RED)[obj]
    # A weak, displaced and noisy prediction: >= 0.7 on part of the object (and some background).
    blob = cv2.GaussianBlur(np.roll(obj, (5, -6), axis=(0, 1)).astype(np.float32), (0, 0), 5)
    fg_prob = np.clip(0.15 + 0.75 * blob / blob.max() + rng.normal(0, 0.05, (H, W)), 0, 1)
    superpixels = segment(frame, "slic", n_segments=100, compactness=10)
    box = colocalize(frame, fg_prob, superpixels, ColocalizationParams())
    assert box is not None and box.shape == (4,)
    truth = [54 - 18, 30 - 13, 55 + 18, 30 + 13]  # approximately tight: pixel centres inside the ellipse
    assert box_iou([box], [truth])[0, 0] > 0.7
    ys, xs = np.nonzero(fg_prob >= 0.7)
    naive = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
    assert box_iou([box], [truth])[0, 0] > box_iou([naive], [truth])[0, 0]


def test_training_pixels_fall_back_to_the_top_and_bottom_fraction() -> None:
    fg_prob = np.linspace(0.35, 0.65, 100).reshape(10, 10)  # nothing >= 0.7 or <= 0.3
    p = ColocalizationParams(min_pixels_per_component=1, gmm_components=5)
    fg, bg = training_pixels(fg_prob, p)
    assert sorted(fg.tolist()) == list(range(80, 100)) and sorted(bg.tolist()) == list(range(20))
    fg_prob.flat[:30] = 0.1
    fg, bg = training_pixels(fg_prob, p)
    assert sorted(bg.tolist()) == list(range(30))  # enough low pixels: the threshold


def test_largest_component_box() -> None:
    mask = np.zeros((8, 10), bool)
    mask[1:3, 1:3] = True          # 4 pixels
    mask[3, 3] = mask[4, 4] = True  # diagonal neighbours: not 4-connected to it
    mask[4:7, 6:9] = True          # 9 pixels: the largest
    assert np.array_equal(largest_component_box(mask), [6, 4, 9, 7])
    assert largest_component_box(np.zeros((4, 4), bool)) is None
