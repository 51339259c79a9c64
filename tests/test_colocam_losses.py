"""CoLo-CAM per-frame terms: the pseudo-label sampler (eq. 1, App. A.2), partial cross-entropy, the absolute
size constraint with the extended log-barrier (eq. 3) and its schedule, TCAM's temporal max-pooling.

Known answers: a hand-made 40x40 CAM whose Otsu split, largest component, ROI box and candidate pools are
written down; brute-force oracles (sorting, scipy dilation, NLLLoss); values and gradients computed by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.ndimage import binary_dilation

from weakseg.methods.colocam.losses import (
    BarrierSchedule,
    extended_log_barrier,
    partial_cross_entropy,
    size_constraint_loss,
)
from weakseg.methods.colocam.pseudo_labels import (
    AUTHORS_CODE,
    PAPER,
    TCAM_FCAM,
    PseudoLabelConfig,
    draw_seed_pixels,
    largest_component_box,
    otsu_foreground,
    sample_pseudo_labels,
    seed_candidates,
    temporal_max_pool,
)

H = W = 40
BIG_BOX = (20, 10, 32, 20)  # [x_min, y_min, x_max, y_max] of the big blob (rows 10..19, cols 20..31)


def _hand_cam() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """40x40 CAM: background ramp 0..0.2 (unique values), a big blob (rows 10-19, cols 20-31 minus a background
    notch rows 10-14, cols 20-24: 95 px, values 0.6..1.0) and a small blob (rows 28-31, cols 4-7: 16 px, ~0.8).

    Returns cam, big-blob mask, small-blob mask, notch mask."""
    cam = 0.2 * np.arange(H * W, dtype=np.float64).reshape(H, W) / (H * W)
    big = np.zeros((H, W), dtype=bool)
    big[10:20, 20:32] = True
    notch = np.zeros((H, W), dtype=bool)
    notch[10:15, 20:25] = True
    big &= ~notch
    small = np.zeros((H, W), dtype=bool)
    small[28:32, 4:8] = True
    cam[big] = np.linspace(0.6, 1.0, big.sum())
    cam[small] = np.linspace(0.78, 0.82, small.sum())
    return cam, big, small, notch


def _box_mask(box) -> np.ndarray:
    x0, y0, x1, y1 = box
    mask = np.zeros((H, W), dtype=bool)
    mask[y0:y1, x0:x1] = True
    return mask


def test_otsu_split_and_roi_is_box_of_largest_component():
    cam, big, small, _ = _hand_cam()
    above = otsu_foreground(cam)
    np.testing.assert_array_equal(above, big | small)
    assert tuple(largest_component_box(above)) == BIG_BOX
    # 4-connectivity: two squares touching only at a corner are two components; the larger one wins.
    mask = np.zeros((6, 6), dtype=bool)
    mask[0:2, 0:2] = True
    mask[2:5, 2:5] = True
    assert tuple(largest_component_box(mask)) == (2, 2, 5, 5)


def test_candidates_are_top_70_percent_of_roi_and_bottom_10_percent_of_frame():
    cam, big, small, notch = _hand_cam()
    fg, bg = seed_candidates(cam, AUTHORS_CODE)
    box = np.flatnonzero(_box_mask(BIG_BOX))
    assert box.size == 120
    # oracle: sort the ROI's pixels by CAM by hand; 84 = floor(0.7 * 120)
    expected_fg = sorted(box.tolist(), key=lambda i: -cam.flat[i])[:84]
    assert sorted(fg.tolist()) == sorted(expected_fg)
    assert big.flat[fg].all() and not small.flat[fg].any() and not notch.flat[fg].any()
    expected_bg = np.argsort(cam.ravel(), kind="stable")[:160]  # floor(0.1 * 1600)
    assert sorted(bg.tolist()) == sorted(expected_bg.tolist())
    assert cam.flat[bg].max() < np.sort(cam.ravel())[160]


def test_paper_regions_are_otsu_split_and_complement():
    cam, big, small, _ = _hand_cam()
    fg, bg = seed_candidates(cam, PAPER)
    assert sorted(fg.tolist()) == np.flatnonzero(big | small).tolist()
    assert sorted(bg.tolist()) == np.flatnonzero(~(big | small)).tolist()


def test_draw_counts_distinct_and_inside_pools():
    cam, _, _, _ = _hand_cam()
    config = PseudoLabelConfig(n_fg=50, n_bg=100)
    fg_pool, bg_pool = seed_candidates(cam, config)
    fg, bg = draw_seed_pixels(cam, np.random.default_rng(3), config)
    assert fg.size == 50 and np.unique(fg).size == 50 and set(fg.tolist()) <= set(fg_pool.tolist())
    assert bg.size == 100 and np.unique(bg).size == 100 and set(bg.tolist()) <= set(bg_pool.tolist())
    # authors' counts (1000 + 1000) exceed the pools (84, 160): every candidate is drawn once
    fg, bg = draw_seed_pixels(cam, np.random.default_rng(3), AUTHORS_CODE)
    assert sorted(fg.tolist()) == sorted(fg_pool.tolist()) and sorted(bg.tolist()) == sorted(bg_pool.tolist())


def test_foreground_draws_proportional_to_cam():
    """One draw from the whole ROI box (fraction 1): the low-CAM notch is hit with probability
    sum(cam[notch]) / sum(cam[box]) ~ 0.018, not its area share 25/120 as a uniform draw would."""
    cam, _, _, notch = _hand_cam()
    config = PseudoLabelConfig(n_fg=1, n_bg=1, fg_fraction=1.0)
    box = _box_mask(BIG_BOX)
    p = cam[notch].sum() / cam[box].sum()
    rng = np.random.default_rng(0)
    n = 3000
    hits = sum(bool(notch.flat[draw_seed_pixels(cam, rng, config)[0][0]]) for _ in range(n))
    assert abs(hits / n - p) < 4 * math.sqrt(p * (1 - p) / n)


def _oracle_map(shape, fg: np.ndarray, bg: np.ndarray, dilation: int) -> np.ndarray:
    structure = np.ones((dilation, dilation), dtype=bool)
    masks = []
    for idx in (fg, bg):
        mask = np.zeros(shape, dtype=bool)
        mask.flat[idx] = True
        masks.append(binary_dilation(mask, structure=structure))
    out = np.full(shape, -1, dtype=np.int8)
    out[masks[0] & ~masks[1]] = 1
    out[masks[1] & ~masks[0]] = 0
    return out


def test_seed_map_dilates_3x3_and_ignores_overlap():
    """Lowest-CAM band (rows 10-11) right under the blob (rows 5-9): the dilated seeds collide on rows 9-10."""
    cam = np.full((20, 20), 0.1)
    cam[5:10, 5:10] = np.linspace(0.9, 1.0, 25).reshape(5, 5)
    cam[10:12, :] = np.linspace(0.0, 0.01, 40).reshape(2, 20)
    fg_pool, bg_pool = seed_candidates(cam, AUTHORS_CODE)
    assert np.isin(bg_pool, np.arange(200, 240)).all()
    labels = sample_pseudo_labels(cam, np.random.default_rng(7), AUTHORS_CODE)
    fg, bg = draw_seed_pixels(cam, np.random.default_rng(7), AUTHORS_CODE)
    np.testing.assert_array_equal(labels, _oracle_map(cam.shape, fg, bg, 3))
    assert labels.dtype == np.int8
    # every candidate is drawn (17 = floor(0.7 * 25) fg: the blob's rows 7-9 and 2 pixels of row 6; 40 bg):
    # fg seeds on row 9 dilate into row 10 where bg seeds are, and back: those pixels are unlabelled
    assert fg.size == 17 and bg.size == 40
    assert (labels[9:11, 4:11] == -1).all()
    assert (labels[7:9, 5:10] == 1).all() and (labels[11:13, :] == 0).all()


def test_one_fg_one_bg_mode():
    cam, big, small, _ = _hand_cam()
    rng = np.random.default_rng(11)
    fg, bg = draw_seed_pixels(cam, np.random.default_rng(11), TCAM_FCAM)
    assert fg.size == 1 and bg.size == 1
    labels = sample_pseudo_labels(cam, rng, TCAM_FCAM)
    np.testing.assert_array_equal(labels, _oracle_map(cam.shape, fg, bg, 3))
    assert (labels == 1).sum() == 9  # blob pixels are off the border: a full 3x3
    fg, bg = draw_seed_pixels(cam, np.random.default_rng(5), PAPER)
    labels = sample_pseudo_labels(cam, np.random.default_rng(5), PAPER)
    assert (labels == 1).sum() == 1 and (labels == 0).sum() == 1  # no dilation
    assert (big | small).flat[fg[0]] and not (big | small).flat[bg[0]]


def test_sampler_deterministic_given_generator():
    cam, _, _, _ = _hand_cam()
    a = sample_pseudo_labels(cam, np.random.default_rng(42), PseudoLabelConfig(n_fg=20, n_bg=20))
    b = sample_pseudo_labels(cam, np.random.default_rng(42), PseudoLabelConfig(n_fg=20, n_bg=20))
    c = sample_pseudo_labels(cam, np.random.default_rng(43), PseudoLabelConfig(n_fg=20, n_bg=20))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_flat_cam_gives_no_seeds():
    rng = np.random.default_rng(0)
    assert (sample_pseudo_labels(np.full((8, 9), 0.5), rng) == -1).all()
    tiny_range = 0.5 + 1e-4 * np.random.default_rng(1).random((8, 9))  # one 0..255 level
    assert (sample_pseudo_labels(tiny_range, rng) == -1).all()


@pytest.mark.parametrize("cam, match", [
    (np.zeros((4, 4), dtype=np.uint8), "cam must be a float array"),
    (np.zeros((2, 4, 4)), "cam must be a float array"),
    (np.full((4, 4), 1.5), r"in \[0, 1\]"),
    (np.full((4, 4), np.nan), r"in \[0, 1\]"),
])
def test_sampler_rejects_bad_cam(cam, match):
    with pytest.raises(ValueError, match=match):
        sample_pseudo_labels(cam, np.random.default_rng(0))


def test_sampler_rejects_bad_rng_and_config():
    with pytest.raises(ValueError, match="rng must be a numpy.random.Generator"):
        sample_pseudo_labels(np.zeros((4, 4)), np.random.RandomState(0))
    for kwargs, name in [({"n_fg": -1}, "n_fg"), ({"fg_fraction": 0.0}, "fg_fraction"),
                         ({"bg_fraction": 1.5}, "bg_fraction"), ({"dilation": 2}, "dilation"),
                         ({"regions": "box"}, "regions")]:
        with pytest.raises(ValueError, match=name):
            PseudoLabelConfig(**kwargs)


def test_temporal_max_pool_hand_example():
    cams = np.array([[[0.1, 0.9, 0.0], [0.5, 0.2, 0.3]],
                     [[0.4, 0.2, 0.0], [0.5, 0.8, 0.1]]])
    np.testing.assert_array_equal(temporal_max_pool(cams), [[0.4, 0.9, 0.0], [0.5, 0.8, 0.3]])
    np.testing.assert_array_equal(temporal_max_pool(cams[:1]), cams[0])
    with pytest.raises(ValueError, match=r"\(n, H, W\)"):
        temporal_max_pool(cams[0])


def _hand_probs() -> torch.Tensor:
    fg = torch.tensor([[[0.8, 0.3], [0.5, 0.9]]], dtype=torch.float64)
    return torch.stack([1 - fg, fg], dim=1).requires_grad_(True)  # (1, 2, 2, 2)


def test_partial_cross_entropy_hand_example():
    probs = _hand_probs()
    seeds = torch.tensor([[[1, 0], [-1, 1]]], dtype=torch.int8)
    loss = partial_cross_entropy(probs, seeds)
    expected = -(math.log(0.8) + math.log(0.7) + math.log(0.9)) / 3  # 0.228411
    assert loss.item() == pytest.approx(expected, abs=1e-12)
    loss.backward()
    grad = torch.zeros(1, 2, 2, 2, dtype=torch.float64)
    grad[0, 1, 0, 0], grad[0, 0, 0, 1], grad[0, 1, 1, 1] = -1 / (3 * 0.8), -1 / (3 * 0.7), -1 / (3 * 0.9)
    torch.testing.assert_close(probs.grad, grad)  # the unlabelled pixel (1, 0) gets no gradient
    oracle = torch.nn.NLLLoss(ignore_index=-1)(torch.log(probs), seeds.long())
    assert loss.item() == pytest.approx(oracle.item(), abs=1e-12)
    assert partial_cross_entropy(probs, seeds, reduction="sum").item() == pytest.approx(3 * expected, abs=1e-12)


def test_partial_cross_entropy_batch_mean_over_seeds_and_no_seeds():
    probs = torch.cat([_hand_probs().detach(), _hand_probs().detach()]).requires_grad_(True)
    seeds = torch.tensor([[[1, -1], [-1, -1]], [[1, 0], [-1, 1]]], dtype=torch.int8)
    expected_sum = -math.log(0.8) - (math.log(0.8) + math.log(0.7) + math.log(0.9))
    assert partial_cross_entropy(probs, seeds).item() == pytest.approx(expected_sum / 4, abs=1e-12)
    assert partial_cross_entropy(probs, seeds, reduction="sum").item() == pytest.approx(expected_sum / 2, abs=1e-12)
    empty = partial_cross_entropy(probs, torch.full((2, 2, 2), -1, dtype=torch.int8))
    assert empty.item() == 0.0
    empty.backward()
    assert torch.equal(probs.grad, torch.zeros_like(probs))
    with pytest.raises(ValueError, match="seeds must hold only"):
        partial_cross_entropy(probs, torch.full((2, 2, 2), 2, dtype=torch.int8))
    with pytest.raises(ValueError, match=r"seeds must be an integer tensor of shape \(B, H, W\)"):
        partial_cross_entropy(probs, torch.zeros(2, 2, 2))
    with pytest.raises(ValueError, match=r"probs must be a float tensor of shape \(B, 2, H, W\)"):
        partial_cross_entropy(probs[:, :1], seeds)


@pytest.mark.parametrize("z, t, value, slope", [
    (-4.0, 1.0, -math.log(4.0), 0.25),  # log branch: -(1/t) log(-z), slope -1/(t z)
    (-0.5, 1.0, 0.5, 1.0),  # linear branch: t z - (1/t) log(1/t^2) + 1/t = -0.5 - 0 + 1, slope t
    (-4.0, 2.0, -0.5 * math.log(4.0), 0.125),  # log branch (knot -1/4)
    (-0.1, 2.0, -0.2 + 0.5 * math.log(4.0) + 0.5, 2.0),  # linear branch: 2 z - (1/2) log(1/4) + 1/2
    (3.0, 1.0, 4.0, 1.0),  # a violated constraint (z > 0) stays finite and linear
])
def test_extended_log_barrier_value_and_gradient(z, t, value, slope):
    zt = torch.tensor([z], dtype=torch.float64, requires_grad=True)
    out = extended_log_barrier(zt, t)
    out.sum().backward()
    assert out.item() == pytest.approx(value, abs=1e-12)
    assert zt.grad.item() == pytest.approx(slope, abs=1e-12)


@pytest.mark.parametrize("t", [1.0, 2.0, 3.7])
def test_extended_log_barrier_continuous_with_continuous_slope_at_knot(t):
    knot = -1.0 / t**2
    eps = 1e-7
    z = torch.tensor([knot - eps, knot, knot + eps], dtype=torch.float64, requires_grad=True)
    out = extended_log_barrier(z, t)
    out.sum().backward()
    assert out[1].item() == pytest.approx(-math.log(1.0 / t**2) / t, abs=1e-12)
    assert abs(out[0].item() - out[2].item()) < 3 * t * eps  # no jump across the knot
    torch.testing.assert_close(z.grad, torch.full((3,), t, dtype=torch.float64), rtol=1e-5, atol=0)


def test_size_constraint_hand_example_value_and_gradient():
    """Frame 0: S^1 = 1 everywhere (areas bg 0 -> linear branch, fg 4); frame 1: S^1 = 1/4 (areas 3, 1)."""
    fg = torch.tensor([[[1.0, 1.0], [1.0, 1.0]], [[0.25, 0.25], [0.25, 0.25]]], dtype=torch.float64)
    probs = torch.stack([1 - fg, fg], dim=1).requires_grad_(True)
    loss = size_constraint_loss(probs, t=1.0)
    frame0 = 1.0 - math.log(4.0)  # psi(0) = 0 - log(1) + 1, psi(-4) = -log 4
    frame1 = -math.log(3.0) - math.log(1.0)  # z = -3, and z = -1 on the knot (log branch)
    assert loss.item() == pytest.approx(0.01 * (frame0 + frame1) / 2, abs=1e-14)
    loss.backward()
    # d loss / d S_b^c(p) = -(weight / B) psi'(z_bc): psi' = t = 1 on the linear branch, -1/(t z) on the log one
    slopes = torch.tensor([[1.0, 0.25], [1 / 3, 1.0]], dtype=torch.float64)
    expected = (-0.01 / 2 * slopes)[:, :, None, None].expand(2, 2, 2, 2)
    torch.testing.assert_close(probs.grad, expected)
    assert size_constraint_loss(probs, t=1.0, weight=0.005).item() == pytest.approx(loss.item() / 2, abs=1e-14)


def test_barrier_schedule():
    schedule = BarrierSchedule()
    assert schedule.t(0) == 1.0 and schedule.t(1) == pytest.approx(1.01)
    t = 1.0
    for epoch in range(300):
        assert schedule.t(epoch) == pytest.approx(t, rel=1e-12)
        t = min(1.01 * t, 10.0)
    assert schedule.t(231) < 10.0 and schedule.t(232) == 10.0  # 1.01^232 = 10.05 > 10
    with pytest.raises(ValueError, match="epoch"):
        schedule.t(-1)
    with pytest.raises(ValueError, match="factor >= 1"):
        BarrierSchedule(factor=0.9)
