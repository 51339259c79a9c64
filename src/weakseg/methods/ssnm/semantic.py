"""SSNM semantic modulator (Sec. 3.3, eqs. 11-12): hierarchical second-order pooling and co-category loss.

- SP (:class:`SecondOrderPooling`, Fig. 4): a 1x1 convolution d -> c, the c x c covariance of the
  c-vectors at the P = h*w positions, and an FC layer to d_out. The covariance is centred and divided
  by P: (1/P) sum_p (z_p - mean)(z_p - mean)'. The FC reads its upper triangle with the diagonal,
  c(c+1)/2 values in ``torch.triu_indices`` order (the matrix is symmetric). A single position (P = 1)
  has zero covariance, which would leave only the FC bias; there SP uses the uncentred second moment
  z z' instead, so its output still depends on the input (ours; the paper does not consider it).
- HSP (:class:`HierarchicalSOP`): SP on each image's coarsest CFM phi(I^n) (N, d, h, w) -> indicators
  (N, d_out); the N indicators, stacked as a d_out-channel "image" of N x 1 positions, go through a
  second SP -> gamma (d_out,), the channel selector of eq. 5. For a group of N = 1 image the second SP
  sees one position and takes the P = 1 branch above.
- Classifier (:class:`SemanticModulator`): logits W gamma + b over the L co-categories (eq. 11 without
  its sigmoid); :func:`semantic_loss` is the binary cross-entropy of eq. 12 on those logits, the mean
  over the L categories (and over the groups of a batch).

Widths c (``reduced_channels``) and the second SP's (``group_reduced_channels``) are not given in the
paper; the defaults (64, 32) are ours. gamma is the FC output as is (no activation; the paper names
none). Everything is batched over B groups: phi (B, N, d, h, w) -> gamma (B, d_out), logits (B, L).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def second_moment(z: Tensor) -> Tensor:
    """Covariance over positions of z (B, c, P) -> (B, c, c): centred, divided by P; for P = 1 the
    uncentred z z' (module doc)."""
    if z.shape[-1] > 1:
        z = z - z.mean(dim=-1, keepdim=True)
    return z @ z.transpose(1, 2) / z.shape[-1]


def _check(x: Tensor, ndim: int, channels: int, name: str, shape: str) -> None:
    """ValueError naming ``name`` unless x is a non-empty floating tensor of ``ndim`` dims with
    ``channels`` at dim -3 (``shape`` describes the expected shape)."""
    if not isinstance(x, Tensor) or not x.is_floating_point() or x.ndim != ndim or x.numel() == 0 \
            or x.shape[-3] != channels:
        raise ValueError(f"{name} must be a non-empty floating tensor of shape {shape} with d = {channels}; got "
                         f"{getattr(x, 'dtype', type(x).__name__)} shape {tuple(getattr(x, 'shape', ()))}")


class SecondOrderPooling(nn.Module):
    """SP (Sec. 3.3): float (B, d, h, w) -> (B, d_out) via 1x1 conv d -> c, covariance, FC c(c+1)/2 -> d_out."""

    def __init__(self, in_channels: int, reduced_channels: int, out_features: int) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.reduce = nn.Conv2d(in_channels, reduced_channels, kernel_size=1)
        self.fc = nn.Linear(reduced_channels * (reduced_channels + 1) // 2, out_features)
        self.register_buffer("triu", torch.triu_indices(reduced_channels, reduced_channels), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        _check(x, 4, self.in_channels, "x", "(B, d, h, w)")
        cov = second_moment(self.reduce(x).flatten(2))
        return self.fc(cov[:, self.triu[0], self.triu[1]])


class HierarchicalSOP(nn.Module):
    """HSP (Sec. 3.3): phi (B, N, d, h, w), the coarsest CFMs of B groups of N images -> gamma (B, d_out).

    SP(d -> d_out, width ``reduced_channels``) per image, then SP(d_out -> d_out, width
    ``group_reduced_channels``) over the N indicators of a group.
    """

    def __init__(self, in_channels: int, out_channels: int, reduced_channels: int = 64,
                 group_reduced_channels: int = 32) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.image_sp = SecondOrderPooling(in_channels, reduced_channels, out_channels)
        self.group_sp = SecondOrderPooling(out_channels, group_reduced_channels, out_channels)

    def forward(self, phi: Tensor) -> Tensor:
        _check(phi, 5, self.in_channels, "phi", "(B, N, d, h, w)")
        b, n = phi.shape[:2]
        indicators = self.image_sp(phi.flatten(0, 1)).view(b, n, -1)
        return self.group_sp(indicators.transpose(1, 2).unsqueeze(-1))


class SemanticModulator(nn.Module):
    """f_sem (eq. 3) with its co-category classifier (eq. 11).

    ``forward(phi)``: phi (B, N, d, h, w) -> ``(gamma (B, d_out), logits (B, L))``, logits = W gamma + b
    (the sigmoid of eq. 11 is in :func:`semantic_loss`).
    """

    def __init__(self, in_channels: int, out_channels: int, num_categories: int, reduced_channels: int = 64,
                 group_reduced_channels: int = 32) -> None:
        super().__init__()
        self.hsp = HierarchicalSOP(in_channels, out_channels, reduced_channels, group_reduced_channels)
        self.classifier = nn.Linear(out_channels, num_categories)

    def forward(self, phi: Tensor) -> tuple[Tensor, Tensor]:
        gamma = self.hsp(phi)
        return gamma, self.classifier(gamma)


def semantic_loss(logits: Tensor, labels: Tensor) -> Tensor:
    """l_sem of eq. 12: -(1/L) sum_l y_l log y^_l + (1 - y_l) log(1 - y^_l) with y^ = sigmoid(logits),
    averaged over groups. logits float (B, L) or (L,); labels of the same shape with values in {0, 1}."""
    if not isinstance(logits, Tensor) or not logits.is_floating_point() or logits.ndim not in (1, 2):
        raise ValueError(f"logits must be a floating tensor (B, L) or (L,); got shape "
                         f"{tuple(getattr(logits, 'shape', ()))}")
    if not isinstance(labels, Tensor) or labels.shape != logits.shape \
            or not bool(((labels == 0) | (labels == 1)).all()):
        raise ValueError(f"labels must be a tensor of 0/1 with the logits' shape {tuple(logits.shape)}; got "
                         f"shape {tuple(getattr(labels, 'shape', ()))}")
    return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))
