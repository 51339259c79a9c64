"""MIL aggregation of pixel scores into image scores, and the image-level objective (Sec. 3.1).

The network outputs one score plane per class, ``s`` of shape ``(B, K, h, w)`` (``K = |C| + 1``:
background and the object classes). At training time an aggregation layer turns each plane into
one image score ``s^k``, shape ``(B, K)``; a softmax over classes (eq. 2) and the log-likelihood
of the image label (eq. 3) train the network:

- ``sum`` (eq. 4): ``s^k = sum_{i,j} s^k_{i,j}`` (a sum, not a mean, as in the paper);
- ``max`` (eq. 5): ``s^k = max_{i,j} s^k_{i,j}``;
- ``lse`` (eq. 6): ``s^k = (1/r) log[(1/(h w)) sum_{i,j} exp(r s^k_{i,j})]``, the paper's choice
  with ``r = 5`` (Sec. 4.2). It tends to ``max`` as ``r -> inf`` and to the mean as ``r -> 0``.

All functions are differentiable torch operations on any float dtype and device.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

__all__ = ["AGGREGATIONS", "aggregate", "aggregate_lse", "aggregate_max", "aggregate_sum", "image_log_likelihood"]


def _check_planes(s: torch.Tensor) -> torch.Tensor:
    """``s`` if it is a float tensor (B, K, h, w) with h * w > 0; else ValueError."""
    if not isinstance(s, torch.Tensor) or s.ndim != 4 or not s.is_floating_point():
        raise ValueError(f"s must be a float tensor of score planes (B, K, h, w); got "
                         f"{type(s).__name__} with shape {tuple(getattr(s, 'shape', ()))}")
    if s.shape[2] * s.shape[3] == 0:
        raise ValueError(f"s must have at least one pixel per plane (B, K, h, w); got shape {tuple(s.shape)}")
    return s


def aggregate_sum(s: torch.Tensor) -> torch.Tensor:
    """Eq. 4: image scores ``(B, K)``, the sum of each plane of ``s`` (B, K, h, w)."""
    return _check_planes(s).sum(dim=(2, 3))


def aggregate_max(s: torch.Tensor) -> torch.Tensor:
    """Eq. 5: image scores ``(B, K)``, the maximum of each plane of ``s`` (B, K, h, w).

    The gradient goes to the maximal pixel (split evenly between tied maxima, ``torch.amax``).
    """
    return _check_planes(s).amax(dim=(2, 3))


def aggregate_lse(s: torch.Tensor, r: float = 5.0) -> torch.Tensor:
    """Eq. 6, Log-Sum-Exp: image scores ``(B, K)`` from ``s`` (B, K, h, w), smoothness ``r > 0``.

    ``(1/r) * (logsumexp_{i,j}(r s_{i,j}) - log(h w))``; ``torch.logsumexp`` subtracts the maximum
    first, so large ``r`` or large scores do not overflow. As ``r -> 0`` the value tends to the
    mean, but the subtraction of ``log(h w)`` leaves a rounding error of about
    ``eps * log(h w) / r``: use float64 for ``r << 1``.
    """
    if not (math.isfinite(float(r)) and r > 0):
        raise ValueError(f"r must be a finite number > 0 (eq. 6 smoothness); got {r!r}")
    planes = _check_planes(s).flatten(2)
    return (torch.logsumexp(r * planes, dim=2) - math.log(planes.shape[2])) / r


AGGREGATIONS: dict[str, Callable[..., torch.Tensor]] = {
    "sum": aggregate_sum,
    "max": aggregate_max,
    "lse": aggregate_lse,
}
"""The aggregation layers of Sec. 3.1 (Table 2 compares the three) by name."""


def aggregate(name: str, s: torch.Tensor, r: float = 5.0) -> torch.Tensor:
    """Image scores ``(B, K)`` from ``s`` (B, K, h, w) by the aggregation ``name`` of
    :data:`AGGREGATIONS`; ``r`` is used by ``"lse"`` only."""
    if name not in AGGREGATIONS:
        raise ValueError(f"name must be one of {sorted(AGGREGATIONS)}; got {name!r}")
    return aggregate_lse(s, r) if name == "lse" else AGGREGATIONS[name](s)


def image_log_likelihood(image_scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Eq. 3 per image: ``s^{k*} - log sum_c exp(s^c)``, shape ``(B,)``.

    ``image_scores`` (B, K) float are the aggregated scores; ``labels`` (B,) int are the image
    labels ``k*`` in ``[0, K)``. This is the log of the softmax probability of eq. 2; training
    minimises the negative of its mean.
    """
    if not isinstance(image_scores, torch.Tensor) or image_scores.ndim != 2 or not image_scores.is_floating_point():
        raise ValueError(f"image_scores must be a float tensor (B, K); got shape "
                         f"{tuple(getattr(image_scores, 'shape', ()))}")
    n, k = image_scores.shape
    if not isinstance(labels, torch.Tensor) or labels.shape != (n,) or labels.is_floating_point():
        raise ValueError(f"labels must be an integer tensor ({n},) of class indices; got shape "
                         f"{tuple(getattr(labels, 'shape', ()))}")
    if n and (int(labels.min()) < 0 or int(labels.max()) >= k):
        raise ValueError(f"labels must lie in [0, {k}); got values in [{int(labels.min())}, {int(labels.max())}]")
    log_p = torch.log_softmax(image_scores, dim=1)
    return log_p.gather(1, labels.long()[:, None])[:, 0]
