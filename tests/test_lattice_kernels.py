"""The compiled splat / slice loops (weakseg.lattice_kernels) against the vectorised torch path of weakseg.lattice."""

from __future__ import annotations

import pytest
import torch

from weakseg.crf_fast import multi_frame_colour_crf_loss_fast
from weakseg.lattice import GaussianGrid


def _points(count: int, seed: int, dtype: torch.dtype, flat: bool = False) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    features = torch.rand(count, 3, generator=g, dtype=torch.float64) * 7
    if flat:  # half the points on exactly the same colour: many points share one node
        features[: count // 2] = torch.tensor([1.25, 2.0, 3.75], dtype=torch.float64)
    return features.to(dtype)


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-12), (torch.float32, 2e-6)])
@pytest.mark.parametrize("channels", [1, 2, 3])
@pytest.mark.parametrize("flat", [False, True])
def test_compiled_loops_give_the_torch_result(dtype, tol, channels, flat):
    features = _points(3000, seed=channels, dtype=dtype, flat=flat)
    values = torch.rand(3000, channels, generator=torch.Generator().manual_seed(9), dtype=torch.float64).to(dtype)
    compiled, reference = GaussianGrid(features, backend="compiled"), GaussianGrid(features, backend="torch")
    assert compiled.compiled and not reference.compiled and compiled.shape == reference.shape
    out, expected = compiled.filter(values), reference.filter(values)
    assert out.dtype == dtype and out.shape == (3000, channels)
    assert float((out - expected).abs().max() / expected.abs().max()) < tol


@pytest.mark.parametrize("threads", [1, 2])
def test_thread_count_does_not_change_the_result(threads):
    features, values = _points(20000, seed=4, dtype=torch.float64), torch.rand(20000, 2, dtype=torch.float64)
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = GaussianGrid(features).filter(values)
        assert torch.get_num_threads() == 1  # numba's OpenMP pool, started by the first call, resets the count
        torch.set_num_threads(threads)
        torch.testing.assert_close(GaussianGrid(features).filter(values), one, rtol=1e-13, atol=0)
        assert torch.get_num_threads() == threads
    finally:
        torch.set_num_threads(before)


def test_auto_picks_compiled_for_3d_cpu_features_and_torch_otherwise():
    assert GaussianGrid(torch.rand(10, 3)).compiled
    assert not GaussianGrid(torch.rand(10, 2)).compiled
    assert not GaussianGrid(torch.rand(10, 3), backend="torch").compiled


def test_coloc_loss_is_the_same_with_either_backend(monkeypatch):
    g = torch.Generator().manual_seed(5)
    images = torch.randint(0, 256, (3, 3, 12, 16), generator=g, dtype=torch.uint8)
    probs = torch.softmax(torch.randn(3, 2, 12, 16, generator=g, dtype=torch.float64), 1).requires_grad_()
    value = multi_frame_colour_crf_loss_fast(probs, images)
    (grad,) = torch.autograd.grad(value, probs)
    monkeypatch.setattr("weakseg.lattice.lattice_kernels.DIMS", -1)  # no features qualify: auto takes torch
    reference = multi_frame_colour_crf_loss_fast(probs, images)
    (reference_grad,) = torch.autograd.grad(reference, probs)
    assert value.item() == pytest.approx(reference.item(), rel=1e-12)
    torch.testing.assert_close(grad, reference_grad, rtol=1e-10, atol=1e-12)


def test_bad_backend_raises_value_error_naming_it():
    with pytest.raises(ValueError, match="backend must be one of"):
        GaussianGrid(torch.rand(10, 3), backend="numba")
    with pytest.raises(ValueError, match="backend 'compiled' takes 3-D features on the CPU, got 5-D"):
        GaussianGrid(torch.rand(10, 5), backend="compiled")
