"""Exact (O(N^2)) CRF losses of CoLo-CAM (Belharbi et al.), shared by CoLo-CAM and its relatives.

Both losses are quadratic forms of the soft maps ``S`` under a Gaussian affinity matrix ``W``
("regularized losses", Tang et al., ECCV 2018, as the CoLo-CAM code computes them):

* :func:`dense_crf_loss` -- the per-frame CRF loss, CoLo-CAM Sec. 3.1 b), eq. 2: one frame at a
  time, kernel over pixel position and colour.
* :func:`multi_frame_colour_crf_loss` -- the CoLoc term, Sec. 3.2, eq. 4: the n frames of a shot
  as one image, colour-only kernel, every pixel connected to every pixel of every frame.
* :func:`adaptive_weight` -- the adaptive weight of the CoLoc term, Sec. 3.3, eq. 5.

Conventions (shared by both losses):

* ``W_ij = exp(-|f_i - f_j|^2 / 2)`` with features ``f = (x / sigma_xy, y / sigma_xy, R / sigma_rgb,
  G / sigma_rgb, B / sigma_rgb)`` (colour-only for eq. 4): x = column, y = row, in pixels; RGB in
  0..255. The diagonal is included (``W_ii = 1``): the authors' permutohedral-lattice filter adds each
  pixel's own value too.
* The value is the authors' code's ``-sum_k S_k' W S_k`` (summed over all K maps, background and
  foreground), not the paper's Potts form ``sum_k S_k' W (1 - S_k)``. When the maps sum to 1 over k
  the two differ by ``1' W 1``, a constant of the image: same gradient, different value (the value
  matters for :func:`adaptive_weight`, which divides by it).
* Exact: ``W S`` is computed in blocks of ``chunk_rows`` rows (memory ``chunk_rows x N`` values),
  never storing W, and only W's upper triangle (W is symmetric): ``N^2 / 2`` affinities. The
  gradient ``d(S' W S)/dS = 2 W S`` reuses the forward's ``W S``, so backward costs nothing.
  Computation runs in the dtype of ``probs`` (float64 for exact checks).
"""

from __future__ import annotations

import torch

CHUNK_ROWS = 128  # rows of W per block: 128 x N values (35 MB float32 for 10 frames of 72x96); fastest of 32..2048
# Affinities below exp(-80) ~ 1.8e-35 are raised to it: exp() of more negative arguments takes a slow underflow
# path (~10x slower). The change is < N * 1.8e-35 per entry of W S, far below rounding (the loss is >= N / K).
_MIN_LOG_AFFINITY = -80.0


def dense_crf_loss(probs: torch.Tensor, image: torch.Tensor, sigma_xy: float = 100.0, sigma_rgb: float = 15.0,
                   weight: float = 2e-9, *, chunk_rows: int = CHUNK_ROWS) -> torch.Tensor:
    """Per-frame dense CRF loss (CoLo-CAM eq. 2, as the authors' code computes it).

    ``loss = -weight * sum_b sum_k S_bk' W_b S_bk / B``, with ``W_b`` the position + colour Gaussian
    kernel of frame b (module docstring), ``sigma_xy`` in pixels, ``sigma_rgb`` in 0..255 units.

    Args:
        probs: float (B, K, H, W) soft maps (softmax over K); differentiable.
        image: float or uint8 (B, 3, H, W) RGB in 0..255 (no gradient).
        sigma_xy, sigma_rgb: kernel widths (authors: 100 and 15).
        weight: the loss weight lambda (authors: 2e-9).
        chunk_rows: rows of W computed at a time (memory only; the value does not depend on it).

    Returns:
        scalar tensor of the dtype of ``probs``.
    """
    _check_maps(probs, image, "probs", "image")
    _check_positive(sigma_xy=sigma_xy, sigma_rgb=sigma_rgb, chunk_rows=chunk_rows)
    b, _, h, w = probs.shape
    rows, cols = torch.meshgrid(torch.arange(h, dtype=probs.dtype), torch.arange(w, dtype=probs.dtype),
                                indexing="ij")
    xy = torch.stack([cols, rows], dim=-1).reshape(1, h * w, 2).expand(b, -1, -1) / sigma_xy
    feats = torch.cat([xy, _colour_features(image, probs.dtype, sigma_rgb)], dim=-1)
    quad = _GaussianQuadraticForm.apply(_pixels_last(probs), feats, chunk_rows)
    return -weight * quad.sum() / b


def multi_frame_colour_crf_loss(probs: torch.Tensor, images: torch.Tensor, sigma_rgb: float = 15.0, *,
                                chunk_rows: int = CHUNK_ROWS) -> torch.Tensor:
    """CoLoc term (CoLo-CAM eq. 4): colour-only CRF loss over all pixels of the n frames of a shot.

    ``loss = -sum_k Sbar_k' W Sbar_k`` where ``Sbar_k`` stacks map k of all n frames (n*H*W pixels)
    and ``W_ij = exp(-|c_i - c_j|^2 / (2 sigma_rgb^2))`` over every pair of those pixels (no position,
    so the side-by-side layout of the paper does not matter). Normalisation: none -- eq. 4 has none,
    and the authors' code divides by its batch size, which is 1 (the concatenated image); the
    magnitude grows ~n^2 and eq. 5 removes it with :func:`adaptive_weight`.

    Args:
        probs: float (n, K, H, W) soft maps of the n frames (K = 2: background, foreground); differentiable.
        images: float or uint8 (n, 3, H, W) RGB in 0..255.
        sigma_rgb: colour kernel width (authors: 15).
        chunk_rows: rows of W computed at a time (memory only).

    Returns:
        scalar tensor of the dtype of ``probs``.
    """
    _check_maps(probs, images, "probs", "images")
    _check_positive(sigma_rgb=sigma_rgb, chunk_rows=chunk_rows)
    k = probs.shape[1]
    stacked = _pixels_last(probs).reshape(1, -1, k)
    feats = _colour_features(images, probs.dtype, sigma_rgb).reshape(1, -1, 3)
    return -_GaussianQuadraticForm.apply(stacked, feats, chunk_rows)[0]


def adaptive_weight(loss: torch.Tensor, lambda_c: float) -> torch.Tensor:
    """Adaptive weighting of the CoLoc term (CoLo-CAM eq. 5): ``lambda_c * L / |[L]|``.

    ``[L]`` is ``L`` detached, so the value is always ``+-lambda_c`` while the gradient is
    ``lambda_c / |L| * dL/dtheta``.

    Args:
        loss: scalar tensor L (non-zero).
        lambda_c: positive weight (authors: 9 on YTOv1).
    """
    if loss.numel() != 1:
        raise ValueError(f"loss must be a scalar tensor, got shape {tuple(loss.shape)}")
    magnitude = loss.detach().abs()
    if magnitude.item() == 0.0:
        raise ValueError("loss is 0: adaptive_weight divides by |loss|, expected a non-zero scalar")
    return lambda_c * loss / magnitude


class _GaussianQuadraticForm(torch.autograd.Function):
    """Per batch item b: ``Q_b = sum_k S_bk' W_b S_bk``, ``W_b[i, j] = exp(-|f_bi - f_bj|^2 / 2)``.

    forward(values (B, N, K), feats (B, N, D), chunk_rows) -> (B,); gradient ``2 W_b S_b`` (W symmetric).
    """

    @staticmethod
    def forward(ctx, values: torch.Tensor, feats: torch.Tensor, chunk_rows: int) -> torch.Tensor:
        ws = _kernel_product(feats, values, chunk_rows)
        ctx.save_for_backward(ws)
        return (values * ws).sum(dim=(1, 2))

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_quad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        (ws,) = ctx.saved_tensors
        return 2.0 * grad_quad[:, None, None] * ws, None, None


def _kernel_product(feats: torch.Tensor, values: torch.Tensor, chunk_rows: int) -> torch.Tensor:
    """``W_b @ values_b`` for every b, W built ``chunk_rows`` rows at a time, upper triangle only.

    ``-|f_i - f_j|^2 / 2 = a_i . c_j`` with ``a_i = (f_i, -|f_i|^2/2, 1)`` and ``c_j = (f_j, 1, -|f_j|^2/2)``,
    so a block of log-affinities is one matrix product. Features are centred first (the kernel is
    translation invariant) to keep the cancellation error of that expansion small. Log-affinities
    are clamped at ``_MIN_LOG_AFFINITY`` (see there).
    """
    feats = feats - feats.mean(dim=1, keepdim=True)
    half_sq = 0.5 * (feats * feats).sum(dim=-1, keepdim=True)
    ones = torch.ones_like(half_sq)
    left = torch.cat([feats, -half_sq, ones], dim=-1)
    right_t = torch.cat([feats, ones, -half_sq], dim=-1).transpose(1, 2).contiguous()
    n = values.shape[1]
    buffer = values.new_empty(min(chunk_rows, n) * n)  # reused: allocating per block costs more than the product
    out_t = values.new_zeros(values.shape[0], values.shape[2], n)
    for b in range(values.shape[0]):
        values_t = values[b].T.contiguous()
        for start in range(0, n, chunk_rows):
            stop = min(start + chunk_rows, n)
            # rows start:stop against columns start:n only; W's symmetry supplies the rest
            block = buffer[:(stop - start) * (n - start)].view(stop - start, n - start)
            logw = torch.mm(left[b, start:stop], right_t[b, :, start:], out=block)
            affinity = logw.clamp_(min=_MIN_LOG_AFFINITY).exp_()
            out_t[b, :, start:stop] += values_t[:, start:] @ affinity.T
            out_t[b, :, stop:] += values_t[:, start:stop] @ affinity[:, stop - start:]
    return out_t.transpose(1, 2)


def _pixels_last(probs: torch.Tensor) -> torch.Tensor:
    """(B, K, H, W) -> (B, H*W, K), row-major pixels."""
    b, k, h, w = probs.shape
    return probs.permute(0, 2, 3, 1).reshape(b, h * w, k)


def _colour_features(images: torch.Tensor, dtype: torch.dtype, sigma_rgb: float) -> torch.Tensor:
    """(B, 3, H, W) RGB 0..255 -> (B, H*W, 3) colour features ``RGB / sigma_rgb``."""
    return _pixels_last(images.to(dtype)) / sigma_rgb


def _check_maps(probs: torch.Tensor, images: torch.Tensor, probs_name: str, images_name: str) -> None:
    if probs.ndim != 4 or not probs.is_floating_point() or probs.numel() == 0:
        raise ValueError(f"{probs_name} must be a non-empty float tensor of shape (B, K, H, W), got "
                         f"{probs.dtype} {tuple(probs.shape)}")
    b, _, h, w = probs.shape
    if tuple(images.shape) != (b, 3, h, w):
        raise ValueError(f"{images_name} must have shape (B, 3, H, W) = {(b, 3, h, w)} to match {probs_name}, "
                         f"got {tuple(images.shape)}")


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{name} must be positive, got {value}")
