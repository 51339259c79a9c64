"""Table 4 cost helpers of CoLo-CAM: parameter counts, FLOPs of one frame (forward and backward inside the function,
as LayerCAM needs), median wall time."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from weakseg.methods.colocam import cost
from weakseg.methods.colocam.cams import class_activation_maps
from weakseg.methods.colocam.classifier import FrameClassifier
from weakseg.methods.colocam.cost import flops_per_frame, median_seconds, parameter_counts

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_linear_flops():
    assert flops_per_frame(nn.Linear(10, 20), torch.randn(10)) == 2 * 10 * 20  # 200 MACs on one input


def test_conv_flops_with_and_without_bias_and_groups():
    frame = torch.randn(3, 10, 12)
    for bias in (False, True):  # 8 x 10 x 12 outputs, 3 x 3 x 3 multiply-adds each; the bias add is not counted
        assert flops_per_frame(nn.Conv2d(3, 8, 3, padding=1, bias=bias), frame) == 2 * 8 * 10 * 12 * 27
    grouped = nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2)  # 6 x 4 x 4 outputs, 2 x 3 x 3 each
    assert flops_per_frame(grouped, torch.randn(4, 8, 8)) == 2 * 6 * 4 * 4 * 18


def test_backward_inside_the_function_is_counted():
    lin = nn.Linear(10, 20)

    def input_gradient(x: torch.Tensor) -> torch.Tensor:  # autograd.grad w.r.t. a leaf, as LayerCAM does
        x.requires_grad_(True)
        return torch.autograd.grad(lin(x).sum(), x)[0]

    def weight_gradient(x: torch.Tensor) -> None:
        lin(x).sum().backward()

    assert flops_per_frame(input_gradient, torch.randn(10)) == 400 + 400  # forward + (1 x 20) @ (20 x 10)
    assert flops_per_frame(weight_gradient, torch.randn(10)) == 400 + 400  # forward + (20 x 1) @ (1 x 10)


def test_layercam_costs_the_forward_plus_the_fc_backward():
    """LayerCAM differentiates the class score w.r.t. the last map (a leaf in cams.py): on top of the forward, only
    the fc's input gradient is a counted product, (1 x K) @ (K x C): 2 * K * C FLOPs (K = 3, C = 320 for lite0)."""
    torch.manual_seed(0)
    model = FrameClassifier("efficientnet_lite0", weights="random", n_classes=3, output_stride=8)
    frame = torch.randn(3, 64, 64)
    with torch.no_grad():
        forward = flops_per_frame(model, frame)
    layercam = flops_per_frame(lambda x: class_activation_maps(model, x, [0], "layercam"), frame)
    assert forward > 0 and layercam == forward + 2 * 3 * 320


def test_flops_rejects_a_non_tensor_frame():
    with pytest.raises(ValueError, match="frame"):
        flops_per_frame(nn.Linear(1, 1), 3.0)
    with pytest.raises(ValueError, match="frame"):
        flops_per_frame(nn.Linear(1, 1), torch.tensor(3.0))


def test_parameter_counts_total_and_learnable():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))  # 16 + 8 + 10 parameters
    model[0].requires_grad_(False)
    assert parameter_counts(model) == (34, 18)  # BatchNorm's running statistics are buffers, not parameters
    shared = nn.Linear(2, 2)
    assert parameter_counts(nn.Sequential(shared, shared)) == (6, 6)  # a shared parameter counts once


def test_median_seconds_known_clock(monkeypatch):
    clock = iter([0.0, 1.0, 10.0, 13.0, 20.0, 20.5])  # timed calls of 1, 3 and 0.5 s
    monkeypatch.setattr(cost, "time", SimpleNamespace(perf_counter=lambda: next(clock)))
    calls = []
    assert median_seconds(lambda: calls.append(1), repeats=3, warmup=2) == 1.0
    assert len(calls) == 5


@pytest.mark.parametrize("kwargs, match", [
    ({"repeats": 0}, "repeats"), ({"repeats": 2.0}, "repeats"), ({"repeats": True}, "repeats"),
    ({"warmup": -1}, "warmup"), ({"warmup": 0.5}, "warmup"),
])
def test_median_seconds_rejects_bad_counts(kwargs, match):
    with pytest.raises(ValueError, match=match):
        median_seconds(lambda: None, **kwargs)
