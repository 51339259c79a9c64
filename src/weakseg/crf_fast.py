"""O(N) CRF losses of CoLo-CAM (Belharbi et al.): the exact losses of weakseg.crf on a Gaussian grid.

Same signatures, semantics and conventions as :mod:`weakseg.crf` (its module docstring: features scaled
by their sigmas, ``W_ij = exp(-|f_i - f_j|^2 / 2)`` with the diagonal, value ``-sum_k S_k' W S_k``),
with the product ``W S`` computed in O(N) by :mod:`weakseg.lattice` instead of exactly:

* :func:`multi_frame_colour_crf_loss_fast` -- the CoLoc term, Sec. 3.2 eq. 4: the pixels of the n
  frames pooled, 3-D colour features ``RGB / sigma_rgb``, one grid.
* :func:`dense_crf_loss_fast` -- the per-frame CRF loss, Sec. 3.1 b) eq. 2, 5-D features
  ``(x, y) / sigma_xy`` and ``RGB / sigma_rgb``. The kernel factorises,
  ``W_ij = k_x(x_i, x_j) k_y(y_i, y_j) k_rgb(c_i, c_j)``, and the pixel positions are the image grid,
  so the two position kernels are taken from the eigendecomposition of their (W x W) and (H x H)
  matrices, ``k_x ~ F_x F_x'`` with the few (~4) leading eigenvectors (rank chosen so every entry is
  within ``XY_RANK_TOL``), and only colour goes on a 3-D grid, filtering the
  ``rank_x * rank_y * K`` products ``F_x[x_j, m] F_y[y_j, l] S_jk``: a position part exact to
  ``XY_RANK_TOL`` and a grid in 3 dimensions instead of 5 (16 position channels at 224 x 224 and sigma_xy
  100, where a 5-D grid would have (2.24 / 0.5 + 3)^2 ~ 56 times the nodes and 21 moments instead of 10).

When to use: the grid costs ~(colour extent / (spacing sigma_rgb))^3 nodes per channel (38^3 for the
full 0..255 cube) whatever the number of pixels, so the exact version wins on small inputs. Measured
(bench/bench_crf.py, 2 threads, quiet machine): eq. 4 at the pipeline's 18 x 24 is on par at n = 2 frames
and faster from n = 4 (64 frames: 2 ms vs 0.25 s); at 224 x 224, n = 2: 8 ms vs 5.5 s exact (700x),
n = 64: 55 ms forward + backward (96 ms on one thread), 11x faster than pydensecrf2's lattice; eq. 2
(16 x K channels) costs ~0.06-0.13 s per frame, slower than the exact one below ~100 x 100 pixels
(18 x 24: 0.03 s vs 0.6 ms), 13x faster at 224 x 224.

Gradient: ``d(S' W~ S)/dS = 2 W~ S`` (W~ symmetric), saved from the forward, so backward costs nothing,
as in the exact version. Accuracy against weakseg.crf and timings: tests/test_crf_fast.py,
bench/bench_crf.py.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch

from weakseg.crf import _check_maps, _check_positive
from weakseg.lattice import DEFAULT_SPACING, GaussianGrid

XY_RANK_TOL = 3e-3  # max |F F' - K| of the rank-reduced position kernels (entries <= 1); the colour grid errs more


def dense_crf_loss_fast(probs: torch.Tensor, image: torch.Tensor, sigma_xy: float = 100.0, sigma_rgb: float = 15.0,
                        weight: float = 2e-9, *, spacing: float = DEFAULT_SPACING) -> torch.Tensor:
    """O(N) per-frame dense CRF loss (CoLo-CAM eq. 2), ~= :func:`weakseg.crf.dense_crf_loss`.

    ``loss = -weight * sum_b sum_k S_bk' W_b S_bk / B`` (module docstring for how ``W_b S`` is computed).

    Args:
        probs: float (B, K, H, W) soft maps; differentiable.
        image: float or uint8 (B, 3, H, W) RGB in 0..255 (no gradient).
        sigma_xy, sigma_rgb: kernel widths in pixels and 0..255 units (authors: 100 and 15).
        weight: the loss weight lambda (authors: 2e-9).
        spacing: colour grid step in units of sigma_rgb (:mod:`weakseg.lattice`).

    Returns:
        scalar tensor of the dtype of ``probs``.
    """
    _check_maps(probs, image, "probs", "image")
    _check_positive(sigma_xy=sigma_xy, sigma_rgb=sigma_rgb, spacing=spacing)
    b, _, h, w = probs.shape
    factor_y = position_factor(h, sigma_xy).to(dtype=probs.dtype, device=probs.device)
    factor_x = position_factor(w, sigma_xy).to(dtype=probs.dtype, device=probs.device)
    total = probs.new_zeros(())
    for frame in range(b):
        grid = GaussianGrid(_colour_planes(image[frame:frame + 1], probs.dtype, sigma_rgb).T, spacing)
        product = functools.partial(_position_colour_product, grid=grid, factor_y=factor_y, factor_x=factor_x)
        total = total + _QuadraticForm.apply(probs[frame].reshape(probs.shape[1], h * w).T, product)
    return -weight * total / b


def multi_frame_colour_crf_loss_fast(probs: torch.Tensor, images: torch.Tensor, sigma_rgb: float = 15.0, *,
                                     spacing: float = DEFAULT_SPACING) -> torch.Tensor:
    """O(N) CoLoc term (CoLo-CAM eq. 4), ~= :func:`weakseg.crf.multi_frame_colour_crf_loss`.

    ``loss = -sum_k Sbar_k' W Sbar_k`` over all n*H*W pixels of the n frames, colour-only kernel, no
    normalisation (see the exact version).

    Args:
        probs: float (n, K, H, W) soft maps of the n frames; differentiable.
        images: float or uint8 (n, 3, H, W) RGB in 0..255.
        sigma_rgb: colour kernel width (authors: 15).
        spacing: grid step in units of sigma_rgb (:mod:`weakseg.lattice`).

    Returns:
        scalar tensor of the dtype of ``probs``.
    """
    _check_maps(probs, images, "probs", "images")
    _check_positive(sigma_rgb=sigma_rgb, spacing=spacing)
    grid = GaussianGrid(_colour_planes(images, probs.dtype, sigma_rgb).T, spacing)
    values = probs.permute(1, 0, 2, 3).reshape(probs.shape[1], -1)  # (K, n*H*W) planes, pixels as _colour_planes
    return -_QuadraticForm.apply(values.T, grid.filter)


@functools.lru_cache(maxsize=64)
def position_factor(length: int, sigma: float) -> torch.Tensor:
    """float64 (length, rank) ``F`` with ``F F' ~ K``, ``K[u, v] = exp(-(u - v)^2 / (2 sigma^2))`` on pixels 0..length-1.

    The leading eigenvectors of K scaled by the square roots of their eigenvalues, as few as keep every
    entry of ``F F' - K`` within ``XY_RANK_TOL`` (a side of 2.24 sigma, the paper's 224 px at sigma 100,
    needs 4; ranks 3 to 6 give the same loss to 1e-4, the colour grid dominating the error).
    """
    u = torch.arange(length, dtype=torch.float64)
    kernel = torch.exp(-0.5 * ((u[:, None] - u[None, :]) / sigma) ** 2)
    eigenvalues, eigenvectors = torch.linalg.eigh(kernel)  # ascending
    factors = eigenvectors.flip(1) * eigenvalues.flip(0).clamp(min=0).sqrt()
    residual = kernel.clone()
    for rank in range(1, length + 1):
        residual -= torch.outer(factors[:, rank - 1], factors[:, rank - 1])
        if float(residual.abs().max()) <= XY_RANK_TOL:
            break
    return factors[:, :rank].contiguous()


class _QuadraticForm(torch.autograd.Function):
    """``Q = sum(S * product(S))`` for a symmetric linear ``product``; gradient ``2 product(S)``.

    forward(values (N, K), product: (N, K) -> (N, K)) -> scalar.
    """

    @staticmethod
    def forward(ctx, values: torch.Tensor, product: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
        ws = product(values)
        ctx.save_for_backward(ws)
        return (values * ws).sum()

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_quad: torch.Tensor) -> tuple[torch.Tensor, None]:
        (ws,) = ctx.saved_tensors
        return 2.0 * grad_quad * ws, None


def _position_colour_product(values: torch.Tensor, grid: GaussianGrid, factor_y: torch.Tensor,
                             factor_x: torch.Tensor) -> torch.Tensor:
    """``W S`` for one frame: position kernel ``F_y F_y' (x) F_x F_x'`` times the colour kernel on ``grid``.

    values (H*W, K) row-major pixels (best: the transpose of (K, H*W) planes); factor_y (H, Ry), factor_x (W, Rx).
    Returns (H*W, K), the transpose of (K, H*W) planes.
    """
    (h, ry), (w, rx), k = factor_y.shape, factor_x.shape, values.shape[1]
    maps = values.T.reshape(1, 1, k, h, w)
    spread = factor_y.T.reshape(ry, 1, 1, h, 1) * factor_x.T.reshape(1, rx, 1, 1, w) * maps  # (Ry, Rx, K, H, W)
    filtered = grid.filter(spread.reshape(ry * rx * k, h * w).T).T.reshape(ry, rx, k, h, w)
    return torch.einsum("yxkhw,hy,wx->khw", filtered, factor_y, factor_x).reshape(k, h * w).T


def _colour_planes(images: torch.Tensor, dtype: torch.dtype, sigma_rgb: float) -> torch.Tensor:
    """(n, 3, H, W) RGB 0..255 -> (3, n*H*W) colour features ``RGB / sigma_rgb``, one contiguous plane per channel,
    pixels in (frame, row, column) order."""
    planes = images.new_empty((3, images.shape[0], *images.shape[2:]), dtype=dtype)
    torch.mul(images.permute(1, 0, 2, 3).to(dtype), 1.0 / sigma_rgb, out=planes)  # one pass: scale while reordering
    return planes.reshape(3, -1)

