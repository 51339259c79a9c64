"""Computation cost of CoLo-CAM vs its LayerCAM baseline (Belharbi et al., Sec. 4.3, Table 4).

Table 4 reports, for 224 x 224 frames: the wall time of one training SGD step (batch 32), the inference time per
frame and the frame rate, the total and learnable parameter counts, and the FLOPs and MACs of one frame. The
paper timed on an NVIDIA A100 and counted FLOPs/MACs with calflops 0.3.2 (not installed here).

- :func:`parameter_counts`: total and learnable (``requires_grad``) parameters.
- :func:`flops_per_frame`: FLOPs of a function on a batch of one frame, counted by
  :class:`torch.utils.flop_counter.FlopCounterMode`, which counts 2 FLOPs per multiply-add; MACs = FLOPs / 2.
  It counts only the operators it has formulas for (matrix products, convolutions and their backward,
  attention), not element-wise work (BatchNorm, ReLU, softmax, resizing), which calflops adds for some layers;
  the counts are therefore slightly lower than calflops' for the same network. Operators run inside the function
  in its backward passes (``torch.autograd.grad``, ``.backward()``) are counted too, as LayerCAM's gradient is.
- :func:`median_seconds`: median wall time of a call (``time.perf_counter``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def parameter_counts(model: nn.Module) -> tuple[int, int]:
    """(total, learnable) numbers of scalar parameters of ``model``; learnable ones have ``requires_grad``. A
    parameter shared by several submodules counts once; buffers (BatchNorm running statistics) do not count."""
    params = list(model.parameters())
    return sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad)


class _GlobalScopeOnly:
    """Stand-in for the module tracker of ``FlopCounterMode``: every count goes to the "Global" scope.

    The tracker puts gradient hooks on the inputs of every module, and PyTorch refuses those hooks on a leaf
    tensor inside ``torch.autograd.grad`` ("A leaf node was passed to _will_engine_execute_node ...",
    pytorch/pytorch#131753, open), which is exactly what the CAM methods do (LayerCAM differentiates the class score
    with respect to the last feature map, made a leaf). Only the total is read here, so no tracking is needed.
    """

    parents = frozenset({"Global"})

    def __enter__(self) -> _GlobalScopeOnly:
        return self

    def __exit__(self, *args: object) -> None:
        return None


def flops_per_frame(fn: Callable[[torch.Tensor], Any], frame: torch.Tensor) -> float:
    """FLOPs of ``fn(frame[None])``: ``fn`` called once on a batch of one frame (``frame``: one sample without its
    batch axis, e.g. (3, H, W) float for an image model), counted by ``FlopCounterMode`` (2 FLOPs per multiply-add,
    so MACs = FLOPs / 2; see the module docstring for what is counted). Forward and backward operators run inside
    ``fn`` are both counted."""
    if not isinstance(frame, torch.Tensor) or frame.ndim == 0:
        raise ValueError(f"frame must be one sample as a tensor of at least one axis, got {frame!r}")
    counter = FlopCounterMode(display=False)
    counter.mod_tracker = _GlobalScopeOnly()
    with counter:
        fn(frame.unsqueeze(0))
    return float(counter.get_total_flops())


def median_seconds(fn: Callable[[], Any], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time in seconds of ``fn()`` over ``repeats`` timed calls (``time.perf_counter``), after
    ``warmup`` untimed calls (allocator and kernel-selection warm-up)."""
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive number of timed calls, got {repeats!r}")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be a non-negative number of untimed calls, got {warmup!r}")
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
