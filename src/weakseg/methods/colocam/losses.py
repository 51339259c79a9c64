"""Per-frame losses of CoLo-CAM (Belharbi et al.) on the decoder maps, Sec. 3.1: pseudo-labels and size.

* :func:`partial_cross_entropy` -- the PL term, eq. 1 summed over the seeded pixels ``Omega'_t`` (eq. 5).
* :func:`size_constraint_loss` -- the absolute size constraint (ASC), eq. 3, with the extended log-barrier
  :func:`extended_log_barrier` (Kervadec et al. 2019) and its schedule :class:`BarrierSchedule`.

Maps ``probs`` are float (B, 2, H, W) softmax outputs of the decoder, channel 0 = background ``S^0``,
channel 1 = foreground ``S^1``. Seeds are integer (B, H, W): 1 foreground, 0 background, -1 unlabelled
(:mod:`weakseg.methods.colocam.pseudo_labels`).

Eq. 3 against the authors' code. The paper writes ``R_s = -(1/z) [log(psi(S^0)) + log(psi(S^1))]`` with
``psi`` the area (sum) of a map and ``z`` "increased periodically" (1, x1.01 per epoch, at most 10; Sec. 4.1).
So ``1/z`` is not a normalisation by the area: ``z`` is the log-barrier parameter ``t`` of the notes, and
eq. 3 is the plain log-barrier ``-(1/t) log(-z_c)`` of the constraints ``z_c = -sum(S^c) <= 0``. The code
uses the extended barrier, equal to it for ``z_c <= -1/t^2`` (an area of at least ``1/t^2 <= 1`` pixel) and
linear above, so an empty map costs a finite value with finite gradient instead of ``+inf``. The code also
weights the term by 0.01 (its run command; eq. 5 leaves the weight out) and halves it (mean over the two maps,
not eq. 3's sum): the code's value is ``size_constraint_loss(..., weight=0.005)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch


def partial_cross_entropy(probs: torch.Tensor, seeds: torch.Tensor,
                          reduction: Literal["mean", "sum"] = "mean") -> torch.Tensor:
    """Partial cross-entropy over the seeded pixels (eq. 1; the PL term of eq. 5).

    Each seeded pixel p of frame b costs ``-log S_b^{y}(p)`` with y = seeds[b, p] (eq. 1:
    ``-(1 - Y) log S^0 - Y log S^1``); unlabelled pixels (-1) cost nothing.

    Args:
        probs: float (B, 2, H, W) decoder maps (background, foreground); differentiable. Probabilities are
            clamped at the dtype's smallest normal number before the log, so a zero costs a finite amount.
        seeds: integer (B, H, W) tensor in {-1, 0, 1}.
        reduction: ``"mean"`` (the authors' code: ``CrossEntropyLoss`` with an ignore index, the mean over all
            seeded pixels of the batch) or ``"sum"`` (eq. 5: the sum over each frame's seeds, averaged over
            the B frames).

    Returns:
        scalar tensor of the dtype of ``probs``; exactly 0 (still connected to ``probs``, zero gradient) when
        no pixel is seeded, where ``torch.nn.CrossEntropyLoss`` would return NaN.
    """
    _check_maps(probs)
    seeds = _check_seeds(seeds, probs)
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum'; got {reduction!r}")
    frame, row, col = (seeds >= 0).nonzero(as_tuple=True)
    if frame.numel() == 0:
        return probs.sum() * 0.0
    picked = probs[frame, seeds[frame, row, col].long(), row, col]  # S_b^{y}(p) at the seeded pixels only
    costs = -torch.log(picked.clamp(min=torch.finfo(probs.dtype).tiny))
    return costs.mean() if reduction == "mean" else costs.sum() / probs.shape[0]


def extended_log_barrier(z: torch.Tensor, t: float) -> torch.Tensor:
    """Extended log-barrier ``psi_t`` for a constraint ``z <= 0``, element-wise (Kervadec et al. 2019).

    ``psi_t(z) = -(1/t) log(-z)`` if ``z <= -1/t^2``, else ``t z - (1/t) log(1/t^2) + 1/t``: continuous with a
    continuous derivative (``t``) at ``z = -1/t^2``, finite for every z.

    Args:
        z: float tensor of any shape; differentiable.
        t: barrier parameter > 0 (larger = closer to the hard constraint).

    Returns:
        tensor of the shape and dtype of ``z``.
    """
    if not t > 0:
        raise ValueError(f"t must be > 0; got {t!r}")
    if not isinstance(z, torch.Tensor) or not z.dtype.is_floating_point:
        raise ValueError(f"z must be a float tensor; got {getattr(z, 'dtype', type(z).__name__)}")
    knot = -1.0 / t**2
    on_log_branch = z <= knot
    # Feed the log the knot where the linear branch is selected: finite there, so its zero gradient is not NaN.
    # (Not z.clamp(max=knot): its gradient vanishes at z == knot, which belongs to the log branch.)
    log_branch = -torch.log(-torch.where(on_log_branch, z, torch.full_like(z, knot))) / t
    linear_branch = t * z - math.log(1.0 / t**2) / t + 1.0 / t
    return torch.where(on_log_branch, log_branch, linear_branch)


def size_constraint_loss(probs: torch.Tensor, t: float, weight: float = 0.01) -> torch.Tensor:
    """Absolute size constraint (ASC), eq. 3, as the extended log-barrier of the notes.

    ``loss = weight * mean_b sum_{c in {0, 1}} psi_t(z_bc)`` with ``z_bc = -sum_p S_b^c(p)`` (minus the area of
    map c of frame b): pushes both the background and the foreground area up (module docstring for the
    paper/code differences; ``weight=0.005`` gives the code's value).

    Args:
        probs: float (B, 2, H, W) decoder maps; differentiable.
        t: barrier parameter, from :class:`BarrierSchedule`.
        weight: loss weight (authors' run: 0.01).

    Returns:
        scalar tensor of the dtype of ``probs``.
    """
    _check_maps(probs)
    areas = probs.sum(dim=(2, 3))  # (B, 2)
    return weight * extended_log_barrier(-areas, t).sum(dim=1).mean()


@dataclass(frozen=True)
class BarrierSchedule:
    """The log-barrier parameter per epoch (Sec. 4.1): ``t`` starts at ``t0`` and after each epoch becomes
    ``min(factor * t, t_max)``, i.e. ``t(e) = min(t0 * factor**e, t_max)`` during 0-based epoch e
    (authors: 1, 1.01, 10; over the paper's 10 epochs t only reaches 1.01**9 ~ 1.094)."""

    t0: float = 1.0
    factor: float = 1.01
    t_max: float = 10.0

    def __post_init__(self) -> None:
        if not (self.t0 > 0 and self.factor >= 1 and self.t_max >= self.t0):
            raise ValueError(f"BarrierSchedule needs t0 > 0, factor >= 1 and t_max >= t0; got t0={self.t0!r}, "
                             f"factor={self.factor!r}, t_max={self.t_max!r}")

    def t(self, epoch: int) -> float:
        """``t`` used during 0-based ``epoch`` (>= 0)."""
        if not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"epoch must be an int >= 0; got {epoch!r}")
        return min(self.t0 * self.factor**epoch, self.t_max)


def _check_maps(probs: torch.Tensor) -> None:
    if not isinstance(probs, torch.Tensor) or probs.ndim != 4 or probs.shape[1] != 2 \
            or not probs.dtype.is_floating_point:
        raise ValueError(f"probs must be a float tensor of shape (B, 2, H, W) (background, foreground); got "
                         f"{getattr(probs, 'dtype', type(probs).__name__)} {tuple(getattr(probs, 'shape', ()))}")


def _check_seeds(seeds: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """``seeds`` on the device of ``probs`` if it is an integer (B, H, W) tensor in {-1, 0, 1}; else ValueError."""
    shape = tuple(probs.shape[:1] + probs.shape[2:])
    if not isinstance(seeds, torch.Tensor) or tuple(seeds.shape) != shape or seeds.dtype.is_floating_point \
            or seeds.dtype.is_complex or seeds.dtype == torch.bool:
        raise ValueError(f"seeds must be an integer tensor of shape (B, H, W) = {shape}; got "
                         f"{getattr(seeds, 'dtype', type(seeds).__name__)} {tuple(getattr(seeds, 'shape', ()))}")
    if ((seeds < -1) | (seeds > 1)).any():
        raise ValueError("seeds must hold only -1 (unlabelled), 0 (background) and 1 (foreground)")
    return seeds.to(probs.device)
