"""O(N) Gaussian grid filter (weakseg.lattice) and CRF losses (weakseg.crf_fast) against the exact ones of
weakseg.crf: accuracy on random, natural-looking and flat-colour images, the filter's symmetry and gradient,
invariances, errors. Speed is measured by bench/bench_crf.py, not here."""

from __future__ import annotations

import math

import pytest
import torch

from weakseg.crf import _kernel_product, dense_crf_loss, multi_frame_colour_crf_loss
from weakseg.crf_fast import dense_crf_loss_fast, multi_frame_colour_crf_loss_fast, position_factor
from weakseg.lattice import MAX_GRID_VALUES, GaussianGrid, blur_matrix, gaussian_filter
from weakseg.methods.colocam.loss_scaling import crf_at_resolution

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TOL = 1e-2  # the brief: loss value and gradient within 1 % of the exact ones (measured: <= 3e-3)


def _blobs(n: int, h: int, w: int, seed: int) -> torch.Tensor:
    """float64 (n, 3, h, w) natural-looking frames: a flat background, 5 soft-edged discs of random colours,
    Gaussian noise (sd 6), clipped to 0..255."""
    g = torch.Generator().manual_seed(seed)
    rows, cols = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64),
                                indexing="ij")
    frames = (torch.rand(1, 3, 1, 1, generator=g, dtype=torch.float64) * 255).repeat(n, 1, h, w)
    for frame in frames:
        for _ in range(5):
            cy, cx, radius = torch.rand(3, generator=g, dtype=torch.float64) * torch.tensor([h, w, 0.4 * min(h, w)])
            inside = torch.sigmoid((radius + 2 - ((rows - cy) ** 2 + (cols - cx) ** 2).sqrt()) / 1.5)
            frame.mul_(1 - inside).add_(inside * torch.rand(3, 1, 1, generator=g, dtype=torch.float64) * 255)
    return (frames + 6 * torch.randn(frames.shape, generator=g, dtype=torch.float64)).clamp(0, 255)


def _flat(n: int, h: int, w: int, seed: int) -> torch.Tensor:
    """uint8 (n, 3, h, w) frames of 3 x 3-pixel tiles coloured from a 14-colour palette, no noise: few distinct
    colours, so the grid's errors do not average out over many positions between nodes (the hard case)."""
    g = torch.Generator().manual_seed(seed)
    palette = torch.randint(0, 256, (14, 3), generator=g, dtype=torch.uint8)
    tiles = torch.randint(0, 14, (n, math.ceil(h / 3), math.ceil(w / 3)), generator=g)
    labels = tiles.repeat_interleave(3, dim=1).repeat_interleave(3, dim=2)[:, :h, :w]
    return palette[labels].permute(0, 3, 1, 2).contiguous()


def _random(n: int, h: int, w: int, seed: int) -> torch.Tensor:
    """uint8 (n, 3, h, w) independent random colours in 100..159 (tests/test_crf.py's inputs)."""
    g = torch.Generator().manual_seed(seed)
    return (100 + torch.randint(0, 60, (n, 3, h, w), generator=g)).to(torch.uint8)


IMAGES = {"random": _random, "blobs": _blobs, "flat": _flat}


def _maps(n: int, h: int, w: int, seed: int, smooth: bool) -> torch.Tensor:
    """float64 (n, 2, h, w) softmax maps: smooth (upsampled 1/6-resolution logits) or independent per pixel."""
    g = torch.Generator().manual_seed(seed)
    if not smooth:
        return torch.softmax(torch.randn(n, 2, h, w, generator=g, dtype=torch.float64), dim=1)
    logits = 3 * torch.randn(n, 2, math.ceil(h / 6), math.ceil(w / 6), generator=g, dtype=torch.float64)
    return torch.softmax(torch.nn.functional.interpolate(logits, size=(h, w), mode="bilinear"), dim=1)


def _value_and_grad(loss_fn, probs: torch.Tensor) -> tuple[float, torch.Tensor]:
    probs = probs.clone().requires_grad_()
    value = loss_fn(probs)
    value.backward()
    return value.item(), probs.grad


def _relative_errors(exact_fn, fast_fn, probs: torch.Tensor) -> tuple[float, float]:
    """(|fast - exact| / |exact| of the value, ||grad fast - grad exact|| / ||grad exact||)."""
    exact, exact_grad = _value_and_grad(exact_fn, probs)
    fast, fast_grad = _value_and_grad(fast_fn, probs)
    return abs(fast - exact) / abs(exact), float((fast_grad - exact_grad).norm() / exact_grad.norm())


def _sigmas(repo_config: dict, h: int, w: int) -> tuple[float, float, float]:
    """eq. 2's (sigma_xy, sigma_rgb, weight) as the pipeline scales them to an h x w loss resolution."""
    return crf_at_resolution({**repo_config["colocam"]["loss"], "resolution": [h, w]})


# ---------------------------------------------------------------------------------------------- accuracy


@pytest.mark.parametrize("kind", sorted(IMAGES))
@pytest.mark.parametrize("n, h, w", [(2, 18, 24), (4, 18, 24), (3, 30, 40), (2, 48, 64)])
def test_coloc_term_within_one_percent_of_exact(repo_config, kind, n, h, w):
    sigma_rgb = repo_config["colocam"]["loss"]["coloc_sigma_rgb"]
    images = IMAGES[kind](n, h, w, seed=h + n)
    probs = _maps(n, h, w, seed=w, smooth=kind != "random")
    value_err, grad_err = _relative_errors(lambda p: multi_frame_colour_crf_loss(p, images, sigma_rgb),
                                           lambda p: multi_frame_colour_crf_loss_fast(p, images, sigma_rgb), probs)
    assert value_err < TOL and grad_err < TOL, (value_err, grad_err)


@pytest.mark.parametrize("kind", sorted(IMAGES))
@pytest.mark.parametrize("n, h, w", [(2, 18, 24), (2, 30, 40), (1, 48, 64)])
def test_dense_crf_loss_within_one_percent_of_exact(repo_config, kind, n, h, w):
    sigma_xy, sigma_rgb, weight = _sigmas(repo_config, h, w)
    images = IMAGES[kind](n, h, w, seed=h * n)
    probs = _maps(n, h, w, seed=w + 1, smooth=kind != "random")
    value_err, grad_err = _relative_errors(lambda p: dense_crf_loss(p, images, sigma_xy, sigma_rgb, weight),
                                           lambda p: dense_crf_loss_fast(p, images, sigma_xy, sigma_rgb, weight),
                                           probs)
    assert value_err < TOL and grad_err < TOL, (value_err, grad_err)


def test_dense_crf_loss_with_a_narrow_position_kernel():
    # sigma_xy of 2 pixels on 20 x 24: the position factors need a high rank (most of the side), still exact
    images, probs = _random(2, 20, 24, seed=3), _maps(2, 20, 24, seed=4, smooth=True)
    value_err, grad_err = _relative_errors(lambda p: dense_crf_loss(p, images, 2.0, 15.0, 1.0),
                                           lambda p: dense_crf_loss_fast(p, images, 2.0, 15.0, 1.0), probs)
    assert value_err < TOL and grad_err < TOL, (value_err, grad_err)
    assert position_factor(24, 2.0).shape[1] > 10


@pytest.mark.parametrize("dims", [1, 2, 3, 5])
def test_filter_matches_the_exact_product_in_any_dimension(dims):
    g = torch.Generator().manual_seed(dims)
    features = torch.randn(400, dims, generator=g, dtype=torch.float64) * (1.5 if dims < 5 else 0.7)
    values = torch.rand(400, 2, generator=g, dtype=torch.float64)
    exact = _kernel_product(features[None], values[None], 128)[0]
    fast = gaussian_filter(features, values)
    assert float((fast - exact).norm() / exact.norm()) < 3e-3


@pytest.mark.parametrize("distance", [0.0, 0.4, 1.0, 2.0, 3.0])
def test_two_point_kernel_is_the_gaussian_wherever_the_points_sit(distance):
    # W~ for two points is the 2 x 2 kernel; the grid is anchored at the lower point, so moving both points
    # together by a fraction of the spacing changes where the upper one sits between nodes
    for shift in torch.linspace(0.0, 0.5, 6, dtype=torch.float64):
        features = torch.tensor([[0.0], [distance]], dtype=torch.float64) + shift
        features[1] += 0.123 * shift  # vary the upper point's phase too
        kernel = GaussianGrid(features).filter(torch.eye(2, dtype=torch.float64))
        d = float(features[1, 0] - features[0, 0])
        assert torch.allclose(kernel, kernel.T, rtol=0, atol=1e-15)
        assert float(kernel[0, 1]) == pytest.approx(math.exp(-d * d / 2), abs=2e-3)
        assert float(kernel[0, 0]) == pytest.approx(1.0, abs=2e-3)  # the diagonal W_ii = 1 is included


# -------------------------------------------------------------------------- structure of the filter


def test_blur_taps_are_the_quintic_spline_prefilter_of_the_gaussian():
    taps = blur_matrix(30, 0.5)
    assert torch.equal(taps, taps.T)
    b = torch.cat([taps[0].flip(0), taps[1:, 0]])  # taps[u, v] = b_{u - v}: b_{-29} .. b_{29}
    beta5 = torch.tensor([1.0, 26.0, 66.0, 26.0, 1.0], dtype=torch.float64) / 120
    interpolated = torch.nn.functional.conv1d(b.view(1, 1, -1), beta5.view(1, 1, -1))[0, 0]  # n = -27 .. 27
    n = torch.arange(-27, 28, dtype=torch.float64)
    torch.testing.assert_close(interpolated, torch.exp(-0.5 * (0.5 * n) ** 2), rtol=0, atol=1e-12)


def test_filter_is_symmetric_and_linear():
    g = torch.Generator().manual_seed(1)
    grid = GaussianGrid(torch.rand(3000, 3, generator=g, dtype=torch.float64) * 6)
    u, v = (torch.randn(3000, 2, generator=g, dtype=torch.float64) for _ in range(2))
    assert float((u * grid.filter(v)).sum()) == pytest.approx(float((v * grid.filter(u)).sum()), rel=1e-12)
    torch.testing.assert_close(grid.filter(2 * u - v), 2 * grid.filter(u) - grid.filter(v), rtol=1e-12, atol=1e-12)


def test_gaussian_filter_gradient_is_the_filtered_incoming_gradient():
    g = torch.Generator().manual_seed(2)
    features = torch.rand(50, 3, generator=g, dtype=torch.float64) * 3
    values = torch.rand(50, 2, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: gaussian_filter(features, v), (values,))


@pytest.mark.parametrize("loss_name", ["dense", "coloc"])
def test_loss_gradients_match_finite_differences(loss_name):
    images = _random(2, 4, 5, seed=5)
    logits = torch.randn(2, 2, 4, 5, generator=torch.Generator().manual_seed(6), dtype=torch.float64,
                         requires_grad=True)
    if loss_name == "dense":
        def fn(x):
            return dense_crf_loss_fast(torch.softmax(x, 1), images, 4.0, 15.0, 1.0)
    else:
        def fn(x):
            return multi_frame_colour_crf_loss_fast(torch.softmax(x, 1), images, 15.0)
    assert torch.autograd.gradcheck(fn, (logits,), eps=1e-6, atol=1e-7, rtol=1e-6)


def test_chunking_does_not_change_the_result(monkeypatch):
    # the torch path (CUDA, or backend="torch") splats and slices in chunks of CHUNK_POINTS points
    g = torch.Generator().manual_seed(7)
    features, values = torch.rand(1200, 3, generator=g, dtype=torch.float64) * 5, torch.rand(1200, 2, generator=g,
                                                                                              dtype=torch.float64)
    whole = GaussianGrid(features, backend="torch").filter(values)
    monkeypatch.setattr("weakseg.lattice.CHUNK_POINTS", 37)
    torch.testing.assert_close(GaussianGrid(features, backend="torch").filter(values), whole, rtol=1e-12, atol=0)


# ------------------------------------------------------------------------------- known values, invariances


def test_one_colour_everywhere_gives_the_all_ones_kernel():
    # W = all ones: S' W S = (sum_i S_i)^2 per map, -0.625 N^2 for maps (0.25, 0.75) (tests/test_crf.py). On the
    # grid every pixel sits on one node (t = 0): per axis W~_ij = sum_pq s_p b_{p-q} s_q with the splat weights
    # s = (1/8, 3/4, 1/8) and the blur taps b, within 2e-3 of 1
    n, h, w = 3, 4, 5
    probs = torch.tensor([0.25, 0.75], dtype=torch.float64).view(1, 2, 1, 1).expand(n, 2, h, w)
    images = torch.full((n, 3, h, w), 77, dtype=torch.uint8)
    s = torch.tensor([0.125, 0.75, 0.125], dtype=torch.float64)
    on_node = float(s @ blur_matrix(4, 0.5)[:3, :3] @ s)
    assert on_node == pytest.approx(1.0, abs=2e-3)
    assert multi_frame_colour_crf_loss_fast(probs, images).item() == pytest.approx(
        -0.625 * (n * h * w) ** 2 * on_node ** 3, rel=1e-12)


def test_coloc_term_is_invariant_to_any_permutation_of_pixels_across_frames():
    images, probs = _blobs(2, 6, 6, seed=9), _maps(2, 6, 6, seed=10, smooth=False)
    perm = torch.randperm(2 * 36, generator=torch.Generator().manual_seed(11))

    def shuffle(x):
        flat = x.permute(1, 0, 2, 3).reshape(x.shape[1], -1)[:, perm]
        return flat.reshape(x.shape[1], 2, 6, 6).permute(1, 0, 2, 3)

    assert multi_frame_colour_crf_loss_fast(shuffle(probs), shuffle(images)).item() == pytest.approx(
        multi_frame_colour_crf_loss_fast(probs, images).item(), rel=1e-12)


def test_inputs_are_not_modified_and_dtype_follows_probs():
    images, probs = _blobs(1, 8, 9, seed=12), _maps(1, 8, 9, seed=13, smooth=True)
    images_before, probs_before = images.clone(), probs.clone()
    for fn in (multi_frame_colour_crf_loss_fast, dense_crf_loss_fast):
        assert fn(probs, images).dtype == torch.float64
        assert fn(probs.float(), images).dtype == torch.float32
    assert torch.equal(images, images_before) and torch.equal(probs, probs_before)


def test_float32_is_as_accurate():
    images, probs = _blobs(4, 24, 32, seed=14).float(), _maps(4, 24, 32, seed=15, smooth=True)
    exact = multi_frame_colour_crf_loss(probs, images).item()
    assert multi_frame_colour_crf_loss_fast(probs.float(), images).item() == pytest.approx(exact, rel=TOL)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu():
    images, probs = _blobs(2, 16, 20, seed=16), _maps(2, 16, 20, seed=17, smooth=True)
    for fn in (multi_frame_colour_crf_loss_fast, dense_crf_loss_fast):
        assert fn(probs.cuda(), images.cuda()).item() == pytest.approx(fn(probs, images).item(), rel=1e-9)


# ------------------------------------------------------------------------------------------------ errors


def test_bad_input_raises_value_error_naming_the_argument():
    probs, images = _maps(2, 4, 4, seed=18, smooth=False), _random(2, 4, 4, seed=19)
    with pytest.raises(ValueError, match="images must have shape"):
        multi_frame_colour_crf_loss_fast(probs, images[:1])
    with pytest.raises(ValueError, match="probs must be a non-empty float tensor"):
        dense_crf_loss_fast(probs[0], images[0])
    with pytest.raises(ValueError, match="spacing must be positive"):
        multi_frame_colour_crf_loss_fast(probs, images, spacing=0.0)
    with pytest.raises(ValueError, match="sigma_xy must be positive"):
        dense_crf_loss_fast(probs, images, sigma_xy=-1.0)
    with pytest.raises(ValueError, match="NaN or infinite"):
        GaussianGrid(torch.tensor([[0.0], [math.nan]]))
    with pytest.raises(ValueError, match="features must be a non-empty float tensor"):
        GaussianGrid(torch.zeros(0, 3))
    with pytest.raises(ValueError, match="values must be a torch.float32 tensor of shape"):
        GaussianGrid(torch.zeros(4, 3)).filter(torch.zeros(5, 1))
    span = (MAX_GRID_VALUES / 10) ** (1 / 3) * 0.5  # kernel widths per axis for a grid above the limit
    with pytest.raises(ValueError, match="use a larger spacing or sigma"):
        GaussianGrid(torch.tensor([[0.0, 0.0, 0.0], [span, span, span]]))
