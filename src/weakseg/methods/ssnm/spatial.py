"""SSNM spatial modulator (Sec. 3.2, eqs. 6-10): co-object masks of a group by two-way spectral clustering.

The fused CFMs of a group of N images, float (N, d, h, w), give whN vectors x_i in R^d, one per
position i = (n, y, x) in row-major order (this order maps the eigenvector back to N masks (h, w)).
Each is L2-normalised, as eq. 7 assumes ||x_i|| = 1 (an all-zero vector stays zero). With
X = [x_1, ..., x_whN] (d x whN) and 1 the all-ones whN x whN matrix, G = X'X - 1 (eq. 9); the relaxed
indicator minimising l_spa(s) = -s'Gs over ||s||_2 = 1 is G's leading eigenvector (eq. 10; Ding & He
2004), reshaped into the N spatial masks.

Eigen-solve. G is never formed: G s = X'(X s) - 1 (1's) costs O(d whN). Facts about its spectrum:
G_ii = ||x_i||^2 - 1 = 0, so trace G = 0 and lambda_max >= 0 (= 0 only when G = 0; an all-zero x_i
has G_ii = -1 and breaks this, not what follows). A = X'X is PSD
with lambda(A) <= trace A = whN and 1 is PSD of rank one with eigenvalue whN, so every eigenvalue of G
lies in [-whN, whN] and, by interlacing for a rank-one downdate, at most one is negative. For
non-negative (post-ReLU) features every G_ij = x_i'x_j - 1 <= 0 (i != j), so by Perron-Frobenius on -G
that negative eigenvalue has the largest magnitude and plain power iteration on G converges to it,
not to lambda_max. G + whN I is PSD with the same leading eigenvector (a safe shift), but power
iteration on it converges at the rate (lambda_2 + whN) / (lambda_max + whN), close to 1. We use
restarted Lanczos with full reorthogonalisation instead (in float64, batched over groups), which
finds the algebraically largest eigenvalue whatever the sign of the others. It is deterministic: the
start vector is a fixed seeded Gaussian vector, and each restart begins from the current Ritz vector.
It stops when ||G s - lambda s|| <= tol * lambda (+ a rounding floor) for every group of the batch,
or after ``max_iter`` Lanczos steps (the eigenvector's error is about that residual divided by the
gap lambda_max - lambda_2).

Sign. An eigenvector's sign is arbitrary and the paper does not say which side is the foreground.
:func:`orient` fixes it per group with a ``sign_rule``:

- ``"border"`` (default): objects rarely fill the image border, so choose the sign that makes the
  mean of s over the border positions of the N images (rows 0 and h-1, columns 0 and w-1) negative.
  When that mean is negligible, ``|mean| <= BORDER_TIE * mean(|s|)`` over the group, fall back to
  ``"minority"``;
- ``"minority"``: the sign with fewer positive than negative entries (the co-object is the smaller
  cluster); on a tie, the sign that makes the entry of largest |s| (first in (n, y, x) order) positive.

Scales. :func:`spatial_masks` returns s with ||s||_2 = 1 over the group, as the indicator of eq. 8
(an exact two-cluster indicator has entries +-1/sqrt(whN)). Those entries are tiny next to CFM
activations, so the maps added to the CFMs in eq. 5 (Y_c^n = gamma_c X_c^n + S^n) should be
:func:`modulation_maps`: each image's mask divided by its largest |value|, in [-1, 1] with the same
sign (positive = co-object). That assumes CFMs of order one (e.g. after batch normalisation); with
other scales the caller multiplies the maps by a constant of the order of the CFMs' standard
deviation (eq. 5 has none). Maps at other resolutions of the feature pyramid are the caller's
resizing (e.g. bilinear) of these.

Loss. :func:`spatial_loss` is l_spa = -s'Gs (eq. 9) with s detached and X recomputed from the
features with autograd. By Danskin's theorem d lambda_max / dG = s s' at the leading eigenvector, so
its gradient is exactly that of -lambda_max(G(features)) (where lambda_max is simple; on a tie
lambda_max is not differentiable and this is one of its subgradients). It is divided by whN (eq. 8 removes this
constant; dividing makes groups of different sizes comparable) and lies in [-1, 0].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

SignRule = Literal["border", "minority"]
SIGN_RULES: tuple[str, ...] = ("border", "minority")
BORDER_TIE = 1e-3  # a border mean below this fraction of mean |s| does not decide the sign
BREAKDOWN = 1e-10  # a Lanczos residual below BREAKDOWN * whN means the Krylov space is invariant


@dataclass(frozen=True)
class SpatialMasks:
    """Output of :func:`spatial_masks`; the leading ``...`` is (B,) for batched input, () otherwise.

    - ``masks``: float (..., N, h, w) in the features' dtype, the leading eigenvector of G with
      ||s||_2 = 1 over each group and the sign of ``sign_rule`` (positive = co-object);
    - ``eigenvalue``: float64 (...), lambda_max of G;
    - ``residual``: float64 (...), ||G s - lambda_max s||_2;
    - ``iterations``: Lanczos steps run (shared by the batch).
    """

    masks: Tensor
    eigenvalue: Tensor
    residual: Tensor
    iterations: int


def check_group_features(features: Tensor, name: str = "features") -> tuple[Tensor, bool]:
    """``features`` as (B, N, d, h, w) and whether it was batched; it must be a floating tensor of
    shape (N, d, h, w) or (B, N, d, h, w) with no empty dimension, else ValueError naming ``name``."""
    if not isinstance(features, Tensor) or not features.is_floating_point() or features.ndim not in (4, 5) \
            or features.numel() == 0:
        raise ValueError(f"{name} must be a non-empty floating tensor of shape (N, d, h, w) or (B, N, d, h, w); "
                         f"got {getattr(features, 'dtype', type(features).__name__)} "
                         f"shape {tuple(getattr(features, 'shape', ()))}")
    batched = features.ndim == 5
    return (features if batched else features.unsqueeze(0)), batched


def position_vectors(features: Tensor) -> Tensor:
    """X of eq. 9: float (B, N, d, h, w) -> (B, d, whN), each position's d-vector L2-normalised,
    positions in (n, y, x) row-major order. Differentiable."""
    b, n, d, h, w = features.shape
    return F.normalize(features, dim=2).transpose(1, 2).reshape(b, d, n * h * w)


def batched_mv(a: Tensor, v: Tensor) -> Tensor:
    """a (B, p, q) times v (B, q) -> (B, p). A loop of ``torch.mv`` (BLAS gemv): on CPU, torch.bmm with a
    single column is 4-15x slower at these sizes. Differentiable."""
    return torch.stack([torch.mv(a_i, v_i) for a_i, v_i in zip(a, v)])


def apply_g(x: Tensor, s: Tensor) -> Tensor:
    """G s = X'(X s) - 1 (1's) for X (B, d, M) and s (B, M) -> (B, M), without forming G (eq. 9)."""
    return batched_mv(x.transpose(1, 2), batched_mv(x, s)) - s.sum(dim=-1, keepdim=True)


def _top_ritz(alpha: Tensor, beta: Tensor) -> tuple[Tensor, Tensor]:
    """Top eigenpair of the symmetric tridiagonal matrices with diagonals ``alpha`` (B, k) and
    off-diagonals ``beta`` (B, k - 1): value (B,) and vector (B, k)."""
    t = torch.diag_embed(alpha) + torch.diag_embed(beta, 1) + torch.diag_embed(beta, -1)
    values, vectors = torch.linalg.eigh(t)
    return values[..., -1], vectors[..., -1]


def _lanczos_cycle(x: Tensor, start: Tensor, steps: int, tol: float) -> tuple[Tensor, Tensor, int]:
    """Up to ``steps`` Lanczos steps on G(x) from the unit vectors ``start`` (B, M) with full
    reorthogonalisation (classical Gram-Schmidt, twice); returns the top Ritz pair, vector (B, M) of
    unit norm and value (B,), and the steps run. Stops early once every group's Ritz residual
    beta_j |y_j| is at most ``tol`` * |value| + BREAKDOWN * M. A group whose Krylov space becomes
    invariant stops there: its later basis vectors are zero and their diagonal entries -2M, below the
    spectrum [-M, M], so they never win."""
    b, _, m = x.shape
    basis = x.new_zeros(b, steps, m)
    alpha, beta = x.new_zeros(b, steps), x.new_zeros(b, steps)
    dead = torch.zeros(b, dtype=torch.bool, device=x.device)
    q = start
    for j in range(steps):
        basis[:, j] = q
        w = apply_g(x, q)
        span = basis[:, : j + 1]
        for _ in range(2):
            coef = batched_mv(span, w)
            w = w - batched_mv(span.transpose(1, 2), coef)
            alpha[:, j] += coef[:, j]
        alpha[:, j] = torch.where(dead, -2.0 * m, alpha[:, j])
        norm = w.norm(dim=-1)
        dead = dead | (norm <= BREAKDOWN * m)
        beta[:, j] = torch.where(dead, 0.0, norm)
        value, vector = _top_ritz(alpha[:, : j + 1], beta[:, :j])
        if bool((beta[:, j] * vector[:, -1].abs() <= tol * value.abs() + BREAKDOWN * m).all()):
            break
        q = torch.where(dead[:, None], 0.0, w / norm.clamp_min(BREAKDOWN * m)[:, None])
    ritz = batched_mv(basis[:, : j + 1].transpose(1, 2), vector)
    return ritz / ritz.norm(dim=-1, keepdim=True), value, j + 1


def leading_eigenpair(x: Tensor, *, krylov_dim: int = 64, max_iter: int = 640, tol: float = 1e-6,
                      seed: int = 0) -> tuple[Tensor, Tensor, Tensor, int]:
    """Leading eigenpair of G = X'X - 1 for X (B, d, M), matrix-free (restarted Lanczos, module doc).

    Returns float64 ``(vector (B, M) of unit norm, eigenvalue (B,), residual (B,), steps run)``; the
    sign of the vector is arbitrary. Cycles of at most ``min(krylov_dim, M)`` steps, each restarted
    from the last Ritz vector, run until every residual ||G s - lambda s|| <= ``tol`` * lambda +
    BREAKDOWN * M (a rounding floor, for lambda ~ 0: all-equal or all-zero vectors) or ``max_iter``
    steps in all. The start vector is a standard Gaussian from a generator seeded with
    ``seed``. No autograd.
    """
    if krylov_dim < 1 or max_iter < 1 or tol <= 0:
        raise ValueError(f"krylov_dim and max_iter must be >= 1 and tol > 0; got {krylov_dim}, {max_iter}, {tol}")
    with torch.no_grad():
        x = x.detach().to(torch.float64)
        b, _, m = x.shape
        start = torch.randn(m, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        vector = (start / start.norm()).to(x.device).expand(b, m)
        steps, run = min(krylov_dim, m), 0
        while True:
            vector, value, cycle = _lanczos_cycle(x, vector, min(steps, max_iter - run), tol)
            run += cycle
            residual = (apply_g(x, vector) - value[:, None] * vector).norm(dim=-1)
            if bool((residual <= tol * value.abs() + BREAKDOWN * m).all()) or run >= max_iter:
                return vector, value, residual, run


def orient(masks: Tensor, sign_rule: SignRule = "border") -> Tensor:
    """``masks`` (B, N, h, w), one eigenvector per group, times the per-group sign of ``sign_rule``
    (module doc: ``"border"`` with fallback to ``"minority"``, or ``"minority"``)."""
    if sign_rule not in SIGN_RULES:
        raise ValueError(f"sign_rule must be one of {SIGN_RULES}; got {sign_rule!r}")
    flat = masks.flatten(1)
    positive, negative = (flat > 0).sum(dim=1), (flat < 0).sum(dim=1)
    largest = flat.gather(1, flat.abs().argmax(dim=1, keepdim=True)).squeeze(1)
    tie = torch.where(largest < 0, -1.0, 1.0)
    sign = torch.where(positive > negative, -1.0, torch.where(positive < negative, 1.0, tie))
    if sign_rule == "border":
        h, w = masks.shape[-2:]
        border = torch.ones(h, w, dtype=torch.bool, device=masks.device)
        border[1:-1, 1:-1] = False
        border_mean = masks[:, :, border].mean(dim=(1, 2))
        decisive = border_mean.abs() > BORDER_TIE * flat.abs().mean(dim=1)
        sign = torch.where(decisive, torch.where(border_mean > 0, -1.0, 1.0), sign)
    return masks * sign.to(masks.dtype)[:, None, None, None]


def spatial_masks(features: Tensor, *, sign_rule: SignRule = "border", krylov_dim: int = 64, max_iter: int = 640,
                  tol: float = 1e-6, seed: int = 0) -> SpatialMasks:
    """The spatial masks of eq. 10 for one group (N, d, h, w) or a batch of groups (B, N, d, h, w).

    Normalises each position's vector, solves G's leading eigenpair matrix-free
    (:func:`leading_eigenpair` with ``krylov_dim``, ``max_iter``, ``tol``, ``seed``) and orients it by
    ``sign_rule`` (:func:`orient`). Not differentiable (the loss is :func:`spatial_loss`).
    """
    groups, batched = check_group_features(features)
    b, n, _, h, w = groups.shape
    vector, value, residual, run = leading_eigenpair(position_vectors(groups.detach()), krylov_dim=krylov_dim,
                                                     max_iter=max_iter, tol=tol, seed=seed)
    masks = orient(vector.reshape(b, n, h, w), sign_rule).to(features.dtype)
    if not batched:
        masks, value, residual = masks[0], value[0], residual[0]
    return SpatialMasks(masks, value, residual, run)


def modulation_maps(masks: Tensor, eps: float = 1e-12) -> Tensor:
    """Per-image normalisation for eq. 5: float (..., h, w) -> same shape, each (h, w) map divided by
    its largest |value| (at least ``eps``), so in [-1, 1] with the sign kept (module doc: scales)."""
    if not isinstance(masks, Tensor) or not masks.is_floating_point() or masks.ndim < 2:
        raise ValueError(f"masks must be a floating tensor (..., h, w); got shape {tuple(getattr(masks, 'shape', ()))}")
    peak = masks.abs().amax(dim=(-2, -1), keepdim=True).clamp_min(eps)
    return masks / peak


def spatial_loss(features: Tensor, masks: Tensor) -> Tensor:
    """l_spa = -s'Gs / whN (eq. 9), per group: features (N, d, h, w) -> () or (B, N, d, h, w) -> (B,).

    ``masks`` (shape of the features without d) are the group eigenvectors of :func:`spatial_masks`
    (any scale: rescaled to unit norm; not :func:`modulation_maps`, whose per-image scales differ);
    they are detached, so the gradient is that of -lambda_max / whN (Danskin). In [-1, 0].
    """
    groups, batched = check_group_features(features)
    b, n, _, h, w = groups.shape
    if not isinstance(masks, Tensor) or tuple(masks.shape) != ((b,) if batched else ()) + (n, h, w):
        raise ValueError(f"masks must have shape {((b,) if batched else ()) + (n, h, w)} (the features' shape "
                         f"without d); got {tuple(getattr(masks, 'shape', ()))}")
    s = masks.detach().to(groups.dtype).reshape(b, n * h * w)
    s = s / s.norm(dim=-1, keepdim=True)
    xs = batched_mv(position_vectors(groups), s)
    loss = -(xs.square().sum(dim=-1) - s.sum(dim=-1).square()) / (n * h * w)
    return loss if batched else loss[0]


class SpatialModulator(nn.Module):
    """f_spa (eq. 2) with the eigen-solve settings of :func:`spatial_masks`; no parameters.

    ``forward(features)``: features (N, d, h, w) or (B, N, d, h, w) -> ``(maps, loss)``, the
    :func:`modulation_maps` (..., N, h, w) to add to the CFMs (eq. 5) and l_spa (...) of
    :func:`spatial_loss` (the caller averages it over groups).
    """

    def __init__(self, sign_rule: SignRule = "border", krylov_dim: int = 64, max_iter: int = 640, tol: float = 1e-6,
                 seed: int = 0) -> None:
        super().__init__()
        if sign_rule not in SIGN_RULES:
            raise ValueError(f"sign_rule must be one of {SIGN_RULES}; got {sign_rule!r}")
        self.solve = dict(sign_rule=sign_rule, krylov_dim=krylov_dim, max_iter=max_iter, tol=tol, seed=seed)

    def forward(self, features: Tensor) -> tuple[Tensor, Tensor]:
        masks = spatial_masks(features, **self.solve).masks
        return modulation_maps(masks), spatial_loss(features, masks)

