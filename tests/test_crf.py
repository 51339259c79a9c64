"""Exact CRF losses of CoLo-CAM (weakseg.crf): brute-force double sums, gradients, chunking, invariances."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from weakseg.crf import adaptive_weight, dense_crf_loss, multi_frame_colour_crf_loss


def _random_maps(n: int, h: int, w: int, seed: int, dtype=torch.float64) -> tuple[torch.Tensor, torch.Tensor]:
    """Softmax maps (n, 2, h, w) and uint8 images (n, 3, h, w) with close colours (non-trivial affinities)."""
    g = torch.Generator().manual_seed(seed)
    probs = torch.softmax(torch.randn(n, 2, h, w, generator=g, dtype=dtype), dim=1)
    images = (100 + torch.randint(0, 60, (n, 3, h, w), generator=g)).to(torch.uint8)
    return probs, images


def _brute_quadratic(probs: np.ndarray, colours: np.ndarray, positions: np.ndarray, sigma_xy: float,
                     sigma_rgb: float) -> float:
    """sum_k sum_i sum_j S_ik W_ij S_jk over every pair (i == j included), one explicit double loop.

    probs (N, K), colours (N, 3), positions (N, 2) [x, y]; sigma_xy = inf drops the position term."""
    total = 0.0
    for i in range(len(probs)):
        for j in range(len(probs)):
            d_xy = float(np.sum((positions[i] - positions[j]) ** 2))
            d_rgb = float(np.sum((colours[i] - colours[j]) ** 2))
            w_ij = math.exp(-d_xy / (2 * sigma_xy ** 2) - d_rgb / (2 * sigma_rgb ** 2))
            total += w_ij * float(np.dot(probs[i], probs[j]))
    return total


def _pixels(probs: torch.Tensor, images: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per frame: probs (N, K), colours (N, 3) and [x, y] positions (N, 2) as float64 arrays."""
    _, k, h, w = probs.shape
    ys, xs = np.mgrid[0:h, 0:w]
    positions = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(float)
    p = probs.detach().permute(0, 2, 3, 1).reshape(len(probs), h * w, k).double().numpy()
    c = images.permute(0, 2, 3, 1).reshape(len(images), h * w, 3).double().numpy()
    return p, c, positions


@pytest.mark.parametrize("dtype, sigma_xy, sigma_rgb, weight, rtol", [
    (torch.float64, 2.0, 30.0, 0.5, 1e-12),
    (torch.float32, 100.0, 15.0, 2e-9, 1e-5),   # the authors' parameters
])
def test_dense_crf_loss_matches_double_sum(dtype, sigma_xy, sigma_rgb, weight, rtol):
    probs, images = _random_maps(2, 3, 4, seed=0, dtype=dtype)
    p, c, xy = _pixels(probs, images)
    brute = -weight * sum(_brute_quadratic(p[b], c[b], xy, sigma_xy, sigma_rgb) for b in range(2)) / 2
    got = dense_crf_loss(probs, images, sigma_xy, sigma_rgb, weight)
    assert got.dtype == dtype
    assert got.item() == pytest.approx(brute, rel=rtol)


def test_multi_frame_loss_matches_double_sum_over_all_frames():
    probs, images = _random_maps(3, 3, 4, seed=1)
    p, c, xy = _pixels(probs, images)
    every_pixel = np.concatenate(list(p)), np.concatenate(list(c))
    brute = -_brute_quadratic(*every_pixel, np.zeros((len(every_pixel[0]), 2)), math.inf, 20.0)
    got = multi_frame_colour_crf_loss(probs, images.float(), sigma_rgb=20.0)
    assert got.item() == pytest.approx(brute, rel=1e-12)


def test_known_values_diagonal_included_and_no_normalisation():
    # one pixel: W = [[1]], so the loss is -(0.3^2 + 0.7^2) -- the i == j term is counted
    probs = torch.tensor([0.3, 0.7], dtype=torch.float64).view(1, 2, 1, 1)
    image = torch.zeros(1, 3, 1, 1)
    assert dense_crf_loss(probs, image, weight=1.0).item() == pytest.approx(-0.58, rel=1e-14)
    # one colour everywhere: W = all ones, S' W S = (sum_i S_i)^2 per map; n frames of h x w add up
    # to N = n h w pixels, no division by n or N
    n, h, w = 3, 4, 5
    probs = torch.tensor([0.25, 0.75], dtype=torch.float64).view(1, 2, 1, 1).expand(n, 2, h, w)
    images = torch.full((n, 3, h, w), 77, dtype=torch.uint8)
    big_n = n * h * w
    assert multi_frame_colour_crf_loss(probs, images).item() == pytest.approx(-0.625 * big_n ** 2, rel=1e-12)
    per_frame = dense_crf_loss(probs, images, sigma_xy=1e9, weight=1.0)  # mean over frames of (h w)^2 * 0.625
    assert per_frame.item() == pytest.approx(-0.625 * (h * w) ** 2, rel=1e-12)


@pytest.mark.parametrize("loss_name", ["dense", "coloc"])
def test_gradient_matches_finite_differences(loss_name):
    _, images = _random_maps(2, 3, 3, seed=2)
    logits = torch.randn(2, 2, 3, 3, generator=torch.Generator().manual_seed(3), dtype=torch.float64,
                         requires_grad=True)
    if loss_name == "dense":
        def fn(x):
            return dense_crf_loss(torch.softmax(x, 1), images, sigma_xy=2.0, sigma_rgb=30.0, weight=1.0, chunk_rows=4)
    else:
        def fn(x):
            return multi_frame_colour_crf_loss(torch.softmax(x, 1), images, sigma_rgb=30.0, chunk_rows=4)
    assert torch.autograd.gradcheck(fn, (logits,), eps=1e-6, atol=1e-8, rtol=1e-6)


@pytest.mark.parametrize("chunk_rows", [1, 7, 30, 1000])
def test_chunking_does_not_change_value_or_gradient(chunk_rows):
    probs, images = _random_maps(2, 5, 6, seed=4)   # N = 30 pixels per frame, 60 for the CoLoc term
    for fn in (lambda p, c: dense_crf_loss(p, images, 3.0, 25.0, 1.0, chunk_rows=c),
               lambda p, c: multi_frame_colour_crf_loss(p, images, 25.0, chunk_rows=c)):
        whole = probs.clone().requires_grad_()
        chunked = probs.clone().requires_grad_()
        ref, got = fn(whole, 10 ** 6), fn(chunked, chunk_rows)
        ref.backward()
        got.backward()
        assert got.item() == pytest.approx(ref.item(), rel=1e-13)
        torch.testing.assert_close(chunked.grad, whole.grad, rtol=1e-12, atol=0)


def _object_scene(frame: int, top: int, left: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Two 8x8 frames of one background colour; a 3x3 object of another colour in ``frame`` at (top, left).
    The foreground map is 0.9 on the object, 0.1 elsewhere (the maps follow the object)."""
    images = torch.empty(2, 3, 8, 8, dtype=torch.uint8)
    images[:] = torch.tensor([40, 120, 30], dtype=torch.uint8).view(1, 3, 1, 1)
    fg = torch.full((2, 8, 8), 0.1, dtype=torch.float64)
    images[frame, :, top:top + 3, left:left + 3] = torch.tensor([200, 30, 30], dtype=torch.uint8).view(3, 1, 1)
    fg[frame, top:top + 3, left:left + 3] = 0.9
    return torch.stack([1 - fg, fg], dim=1), images


def test_coloc_term_is_invariant_to_moving_the_object_between_frames_while_the_spatial_crf_is_not():
    probs_a, images_a = _object_scene(frame=0, top=0, left=0)     # corner of frame 0
    probs_b, images_b = _object_scene(frame=1, top=3, left=4)     # middle of frame 1
    coloc_a = multi_frame_colour_crf_loss(probs_a, images_a)
    coloc_b = multi_frame_colour_crf_loss(probs_b, images_b)
    assert coloc_b.item() == pytest.approx(coloc_a.item(), rel=1e-12)
    dense_a = dense_crf_loss(probs_a, images_a, sigma_xy=2.0, weight=1.0)
    dense_b = dense_crf_loss(probs_b, images_b, sigma_xy=2.0, weight=1.0)
    assert abs(dense_b.item() - dense_a.item()) > 1e-2 * abs(dense_a.item())
    # the CoLoc term does see the maps: moving the object but not its activation changes it
    assert abs(multi_frame_colour_crf_loss(probs_a, images_b).item() - coloc_a.item()) > 1e-2 * abs(coloc_a.item())


def test_coloc_term_is_invariant_to_any_permutation_of_pixels_across_frames():
    probs, images = _random_maps(2, 6, 6, seed=5)
    perm = torch.randperm(2 * 36, generator=torch.Generator().manual_seed(6))

    def shuffle(x):
        flat = x.permute(1, 0, 2, 3).reshape(x.shape[1], -1)[:, perm]
        return flat.reshape(x.shape[1], 2, 6, 6).permute(1, 0, 2, 3)

    assert multi_frame_colour_crf_loss(shuffle(probs), shuffle(images)).item() == pytest.approx(
        multi_frame_colour_crf_loss(probs, images).item(), rel=1e-12)
    dense = dense_crf_loss(probs, images, sigma_xy=2.0, weight=1.0).item()
    shuffled = dense_crf_loss(shuffle(probs), shuffle(images), sigma_xy=2.0, weight=1.0).item()
    assert abs(shuffled - dense) > 1e-3 * abs(dense)


def test_dense_weight_scales_value_and_gradient():
    probs, images = _random_maps(2, 4, 4, seed=7)
    unit, scaled = probs.clone().requires_grad_(), probs.clone().requires_grad_()
    loss_unit = dense_crf_loss(unit, images, weight=1.0)
    loss_scaled = dense_crf_loss(scaled, images)   # default weight 2e-9
    loss_unit.backward()
    loss_scaled.backward()
    assert loss_scaled.item() == pytest.approx(2e-9 * loss_unit.item(), rel=1e-13)
    torch.testing.assert_close(scaled.grad, 2e-9 * unit.grad, rtol=1e-13, atol=0)


def test_adaptive_weight_value_is_lambda_and_gradient_is_rescaled():
    probs, images = _random_maps(2, 4, 4, seed=8)
    plain, adapted = probs.clone().requires_grad_(), probs.clone().requires_grad_()
    loss = multi_frame_colour_crf_loss(plain, images)
    loss.backward()
    value = adaptive_weight(multi_frame_colour_crf_loss(adapted, images), lambda_c=9.0)
    value.backward()
    assert loss.item() < 0 and value.item() == pytest.approx(-9.0, rel=1e-15)
    torch.testing.assert_close(adapted.grad, 9.0 / abs(loss.item()) * plain.grad, rtol=1e-13, atol=0)


def test_bad_input_raises_value_error_naming_the_argument():
    probs, images = _random_maps(2, 4, 4, seed=9)
    with pytest.raises(ValueError, match="image must have shape"):
        dense_crf_loss(probs, images[:, :, :3])
    with pytest.raises(ValueError, match="images must have shape"):
        multi_frame_colour_crf_loss(probs, images[:1])
    with pytest.raises(ValueError, match="probs must be a non-empty float tensor"):
        dense_crf_loss(probs[0], images[0])
    with pytest.raises(ValueError, match="sigma_rgb must be positive"):
        multi_frame_colour_crf_loss(probs, images, sigma_rgb=0.0)
    with pytest.raises(ValueError, match="loss must be a scalar"):
        adaptive_weight(torch.ones(2), 1.0)
    with pytest.raises(ValueError, match="loss is 0"):
        adaptive_weight(torch.tensor(0.0), 1.0)
