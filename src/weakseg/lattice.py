"""O(N) Gaussian filtering of values at points with d-dimensional features, on a regular grid.

Computes ``out ~ W @ values`` with ``W_ij = exp(-|f_i - f_j|^2 / 2)`` (features ``f`` in kernel units,
i.e. divided by their sigma; the diagonal ``W_ii = 1`` included), the product behind the CRF losses of
CoLo-CAM (Belharbi et al., Sec. 3.1 eq. 2 and Sec. 3.2 eq. 4; weakseg.crf has the exact O(N^2) one).
The authors filter on a permutohedral lattice (Adams et al., Eurographics 2010), whose kernel is only
roughly Gaussian; this is its regular-grid relative (the bilateral grid: Paris & Durand, ECCV 2006)
with higher-order splatting, so the error can be made small: at the default spacing the CRF losses and
their gradients are within a few 1e-3 of the exact ones, flat-colour images included
(tests/test_crf_fast.py).

``W ~ W~ = P' B P``, three linear steps:

* splat ``P``: each point spreads its value over the grid nodes (step ``spacing`` kernel units on every
  axis, covering the features' bounding box) with the weights of the quadratic B-spline centred on the
  point: per axis ``(1/2 - t)^2 / 2, 3/4 - t^2, (1/2 + t)^2 / 2`` on the nodes ``c - 1, c, c + 1``, ``c`` the
  nearest node, ``t`` the offset in [-1/2, 1/2]. Written as polynomials in ``t``, the 3^d products are
  truncated to the monomials of total degree <= 2 (``1, t_a, t_a t_b``: 1 + d + d(d+1)/2 of them, 10
  in 3-D): every point adds ``t^alpha * value`` to its nearest node only (one scatter per point), and the
  fixed 3-tap stencils of each monomial are applied on the grid afterwards. Truncating keeps the
  point's mass and its first and second moments, so the kernel error it adds is of third order (a
  second-order multipole expansion of the point at its node).
* blur ``B``: separable, one symmetric Toeplitz ``L_a x L_a`` matrix per axis (matrix products: exact
  linear convolution, no padding or truncation). The taps are not the Gaussian's samples but their
  quintic B-spline prefilter ``b`` (``sum_m b_m beta5(n - m) = g(n h)`` for all integers n): splat then
  slice average, over where the points sit between nodes, to a convolution with ``beta5 = beta2 * beta2``
  (the autocorrelation of the quadratic B-spline ``beta2``), so the averaged kernel is the quintic
  spline interpolant of the Gaussian. Plain Gaussian taps would widen the
  kernel by the splat and slice. What remains depends on where the two points sit in their cells and
  is of third order in the spacing.
* slice ``P'``: the adjoint: the transposed stencils on the grid, one gather per point, the same
  monomials.

``B`` is symmetric, so ``W~`` is: the filter is its own adjoint, and :func:`gaussian_filter`
differentiates through ``values`` by filtering the incoming gradient. No gradient flows to the features.

Cost: per point and channel 2 (1 + d + d(d+1)/2) multiply-adds and one scatter and one gather of that
many values; per grid node and channel a few dozen stencil and ``sum_a L_a`` blur operations; memory
``prod_a L_a * (1 + d + d(d+1)/2) * C`` values. The splat and the slice of 3-D features on the CPU (the
colour grid of both CRF losses) run as compiled loops, one pass over the points
(:mod:`weakseg.lattice_kernels`); otherwise (CUDA tensors, other dimensions) as vectorised torch ops
(index_add_ / index_select on the flattened grid, one pass per monomial and channel, points in chunks of
``CHUNK_POINTS``). The stencils and the blur are torch ops on the grid either way.
"""

from __future__ import annotations

import functools
import math

import torch

from weakseg import lattice_kernels

BACKENDS = ("auto", "compiled", "torch")  # auto: compiled loops (weakseg.lattice_kernels) for 3-D CPU features
DEFAULT_SPACING = 0.5  # grid step in kernel units (sigmas): CRF loss / gradient errors <~ 3e-3 (module docstring)
MAX_GRID_VALUES = 2 ** 28  # grid nodes x monomials x channels (1 GB in float32) before we refuse
CHUNK_POINTS = 2 ** 14  # points per scatter / gather block: in cache (fastest of 2^13..2^17)
# the quadratic B-spline's weights on the nodes c - 1, c, c + 1 as polynomials in t: coefficient of t^p
_STENCILS = {0: (0.125, 0.75, 0.125), 1: (-0.5, 0.0, 0.5), 2: (0.5, -1.0, 0.5)}
# beta5 (the autocorrelation of the quadratic B-spline) at the integers 2, 1, 0 (symmetric)
_BETA5 = (1.0 / 120.0, 26.0 / 120.0, 66.0 / 120.0)
_PREFILTER_PAD = 48  # extra samples each side when solving for the prefilter (its response decays as 0.43^k)


class GaussianGrid:
    """The splat/slice structure of N points on the grid, reusable for many signals (module docstring).

    Args:
        features: float (N, d) point features in kernel units (positions / sigma); no gradient.
        spacing: grid step in kernel units, the same on every axis (default :data:`DEFAULT_SPACING`).
        backend: ``auto`` (the compiled loops of :mod:`weakseg.lattice_kernels` for 3-D CPU features, vectorised
            torch otherwise: CUDA, other dimensions), ``compiled`` or ``torch``; the same arithmetic
            (tests/test_lattice_kernels.py).

    :meth:`filter` maps float (N, C) values of the features' dtype to ``W~ @ values`` (N, C).
    """

    def __init__(self, features: torch.Tensor, spacing: float = DEFAULT_SPACING, backend: str = "auto") -> None:
        if features.ndim != 2 or not features.is_floating_point() or 0 in features.shape:
            raise ValueError(f"features must be a non-empty float tensor of shape (N, d), got "
                             f"{features.dtype} {tuple(features.shape)}")
        if not spacing > 0:
            raise ValueError(f"spacing must be positive, got {spacing}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        features = features.detach()
        compilable = features.device.type == "cpu" and features.shape[1] == lattice_kernels.DIMS
        if backend == "compiled" and not compilable:
            raise ValueError(f"backend 'compiled' takes {lattice_kernels.DIMS}-D features on the CPU, got "
                             f"{features.shape[1]}-D on {features.device}; use 'torch' or 'auto'")
        self.compiled = backend == "compiled" or (backend == "auto" and compilable)
        self.spacing = float(spacing)
        self.num_points, dims = features.shape
        self.dtype = features.dtype
        planes = features.T.contiguous()  # (d, N), one plane per axis (no copy for a transposed (d, N) tensor)
        low, high = planes.amin(dim=1, keepdim=True), planes.amax(dim=1, keepdim=True)
        if not bool(torch.isfinite(low).all() and torch.isfinite(high).all()):  # NaN propagates into min / max
            raise ValueError("features contain NaN or infinite values")
        # node coordinates (f - low) / h + 1: the lowest point at 1, so its c - 1 is node 0; c + 1 <= round(top) + 1
        # < floor(top) + 3
        top = (high[:, 0] - low[:, 0]).double() / self.spacing + 1.0
        self.shape = tuple(int(math.floor(float(e))) + 3 for e in top)
        # monomials t^alpha, alpha with total degree <= 2: 1, t_0 .. t_{d-1}, then t_a t_b (a <= b) row-major
        self.pairs = [(a, b) for a in range(dims) for b in range(a, dims)]
        self.num_monomials = 1 + dims + len(self.pairs)
        self.num_nodes = math.prod(self.shape)
        if self.num_nodes * self.num_monomials > MAX_GRID_VALUES:
            raise ValueError(f"the grid would hold {self.num_nodes * self.num_monomials} values per channel "
                             f"(shape {self.shape}, {self.num_monomials} monomials): the features span too many "
                             f"kernel widths for spacing {self.spacing}; use a larger spacing or sigma")
        if self.compiled:  # nodes and offsets are recomputed in the loops (weakseg.lattice_kernels)
            self._features, self._low = planes, low[:, 0]
            return
        coords = torch.add(1.0 - low / self.spacing, planes, alpha=1.0 / self.spacing)  # (f - low) / h + 1
        centres = coords.round()
        self._offsets = coords.sub_(centres)  # (d, N): t in [-1/2, 1/2]
        # flattened index of the nearest node, summed in floating point (exact below 2^24 in float32)
        exact = torch.float64 if self.num_nodes >= 2 ** 24 else centres.dtype
        node = centres[0].to(exact) * math.prod(self.shape[1:])
        for a in range(1, dims):
            node.add_(centres[a], alpha=math.prod(self.shape[a + 1:]))
        self._node = node.long()

    def filter(self, values: torch.Tensor) -> torch.Tensor:
        """``W~ @ values`` for float (N, C) values (no autograd; see :func:`gaussian_filter`).

        Works on channel planes: a transposed (C, N) tensor is used without a copy, and the result is the
        transpose of a (C, N) tensor."""
        if values.ndim != 2 or values.shape[0] != self.num_points or values.dtype != self.dtype:
            raise ValueError(f"values must be a {self.dtype} tensor of shape (N, C) with N = {self.num_points}, "
                             f"got {values.dtype} {tuple(values.shape)}")
        return self._slice(self._blur(self._splat(values.T.contiguous()))).T

    def _splat(self, planes: torch.Tensor) -> torch.Tensor:
        """(C, N) values -> (C, nodes...) grid: the moments ``sum t^alpha value`` at each point's node, then the
        stencils."""
        channels, dims = planes.shape[0], len(self.shape)
        if self.compiled:
            moments = lattice_kernels.splat_moments(self._features, self._low, self.spacing, self.shape, planes)
        else:
            moments = self._splat_torch(planes)
        # the stencils, axis by axis on all monomials at once; after each axis, monomials whose exponents of the
        # remaining axes agree are summed (10 -> 6 -> 3 -> 1 grids in 3-D)
        grids = moments.reshape(self.num_monomials, channels, *self.shape)
        keys = self._exponents()
        for axis in range(dims):
            grids = _stencils(grids, axis, [key[0] for key in keys], transpose=False)
            rests = sorted({key[1:] for key in keys})
            group = torch.tensor([rests.index(key[1:]) for key in keys], device=grids.device)
            grids = grids.new_zeros(len(rests), *grids.shape[1:]).index_add_(0, group, grids)
            keys = rests
        return grids[0]

    def _splat_torch(self, planes: torch.Tensor) -> torch.Tensor:
        """(C, N) values -> (M, C, nodes) moments, one index_add_ per monomial and channel (the CUDA path)."""
        channels, dims = planes.shape[0], len(self.shape)
        moments = planes.new_zeros(self.num_monomials, channels, self.num_nodes)
        for start in range(0, self.num_points, CHUNK_POINTS):
            stop = min(start + CHUNK_POINTS, self.num_points)
            node, t = self._node[start:stop], self._offsets[:, start:stop]
            for k in range(channels):
                value = planes[k, start:stop]
                moments[0, k].index_add_(0, node, value)
                linear = [value * t[a] for a in range(dims)]
                for a in range(dims):
                    moments[1 + a, k].index_add_(0, node, linear[a])
                for j, (a, b) in enumerate(self.pairs):
                    moments[1 + dims + j, k].index_add_(0, node, linear[a] * t[b])
        return moments

    def _blur(self, grid: torch.Tensor) -> torch.Tensor:
        """Separable convolution of a (C, nodes...) grid with the prefiltered taps, one matrix product per axis."""
        channels = grid.shape[0]
        for axis, length in enumerate(self.shape):
            taps = blur_matrix(length, self.spacing).to(dtype=grid.dtype, device=grid.device)
            before, after = channels * math.prod(self.shape[:axis]), math.prod(self.shape[axis + 1:])
            grid = torch.matmul(taps, grid.reshape(before, length, after))
        return grid.reshape(channels, *self.shape)

    def _slice(self, grid: torch.Tensor) -> torch.Tensor:
        """(C, nodes...) grid -> (C, N): the transposed stencils per monomial, gathers at the points' nodes,
        and ``sum_alpha t^alpha g_alpha`` as ``g_0 + sum_a t_a (g_a + sum_{b >= a} t_b g_ab)``."""
        # the transposed stencils, axis by axis from the last, branching each grid into the powers its monomials
        # still allow (1 -> 3 -> 6 -> 10 grids in 3-D), then in the moments' order
        dims, channels = len(self.shape), grid.shape[0]
        table, keys = grid[None], [()]
        for axis in reversed(range(dims)):
            branches = [(p,) + key for key in keys for p in range(3) if p + sum(key) <= 2]
            parent = torch.tensor([keys.index(key[1:]) for key in branches], device=grid.device)
            table = _stencils(table.index_select(0, parent), axis, [key[0] for key in branches], transpose=True)
            keys = branches
        order = torch.tensor([keys.index(e) for e in self._exponents()], device=grid.device)
        table = table.index_select(0, order).reshape(self.num_monomials, channels, self.num_nodes)
        if self.compiled:
            return lattice_kernels.slice_moments(self._features, self._low, self.spacing, self.shape, table)
        return self._slice_torch(table)

    def _slice_torch(self, table: torch.Tensor) -> torch.Tensor:
        """(M, C, nodes) filtered monomial grids -> (C, N), one index_select per monomial and channel (CUDA path)."""
        dims, channels = len(self.shape), table.shape[1]
        out = table.new_empty(channels, self.num_points)
        for start in range(0, self.num_points, CHUNK_POINTS):
            stop = min(start + CHUNK_POINTS, self.num_points)
            node, t = self._node[start:stop], self._offsets[:, start:stop]
            for k in range(channels):
                value = [table[j, k].index_select(0, node) for j in range(self.num_monomials)]
                total = value[0]
                for a in range(dims):
                    inner = value[1 + a]
                    for j, (first, b) in enumerate(self.pairs):
                        if first == a:
                            inner.addcmul_(t[b], value[1 + dims + j])
                    total.addcmul_(t[a], inner)
                out[k, start:stop] = total
        return out

    def _exponents(self) -> list[tuple[int, ...]]:
        """The monomials' exponent tuples, in the moments' order (1, t_a, t_a t_b)."""
        dims = len(self.shape)
        unit = [tuple(int(i == a) for i in range(dims)) for a in range(dims)]
        return [(0,) * dims] + unit + [tuple(x + y for x, y in zip(unit[a], unit[b])) for a, b in self.pairs]


def _stencils(grid: torch.Tensor, axis: int, powers: list[int], transpose: bool) -> torch.Tensor:
    """Apply to each slice ``grid[m]`` of a (M, C, nodes...) grid the 3-tap stencil of ``t^powers[m]`` along ``axis``.

    Splat (``transpose=False``): the value at node c goes to ``c + o`` times ``_STENCILS[power][o + 1]``;
    slice (``transpose=True``): node c gathers ``c + o`` with the same coefficients. Values pushed past
    the grid's ends are dropped (the points' nodes are in 1 .. L - 2, so nothing real is)."""
    dim, length = 2 + axis, grid.shape[2 + axis]
    coef = torch.tensor([_STENCILS[p] for p in powers], dtype=grid.dtype, device=grid.device)
    coef = coef.reshape(len(powers), *([1] * (grid.ndim - 1)), 3)  # (M, 1, ..., 1, offset + 1)
    out = grid * coef[..., 1]
    for offset in (-1, 1):
        shift = -offset if transpose else offset  # out[c + shift] += coef * grid[c]
        if shift > 0:
            target, source = out.narrow(dim, shift, length - shift), grid.narrow(dim, 0, length - shift)
        else:
            target, source = out.narrow(dim, 0, length + shift), grid.narrow(dim, -shift, length + shift)
        target.addcmul_(source, coef[..., offset + 1])
    return out


@functools.lru_cache(maxsize=256)
def blur_matrix(length: int, spacing: float) -> torch.Tensor:
    """float64 (length, length) symmetric Toeplitz blur ``B[u, v] = b[u - v]`` of the grid (module docstring).

    ``b`` solves ``sum_m b_m beta5(n - m) = exp(-(n spacing)^2 / 2)`` for every integer n, on
    ``|n| <= length - 1 + pad``, beyond which the Gaussian's samples and the prefilter's response are
    below float64 rounding.
    """
    half = length - 1 + max(_PREFILTER_PAD, math.ceil(9.0 / spacing))
    size = 2 * half + 1
    n = torch.arange(-half, half + 1, dtype=torch.float64)
    stencil = torch.zeros(size, size, dtype=torch.float64)
    for lag, value in zip((2, 1, 0), _BETA5):
        band = torch.full((size - lag,), value, dtype=torch.float64)
        stencil += torch.diag(band, lag) + (torch.diag(band, -lag) if lag else 0.0)
    taps = torch.linalg.solve(stencil, torch.exp(-0.5 * (n * spacing) ** 2))
    taps = taps[half - (length - 1): half + length]  # b_{-(L-1)} .. b_{L-1}
    taps = 0.5 * (taps + taps.flip(0))  # b is even; make it exactly so, so that B and W~ are exactly symmetric
    u = torch.arange(length)
    return taps[u[:, None] - u[None, :] + length - 1]


class _GaussianFilter(torch.autograd.Function):
    """``W~ @ values`` on a :class:`GaussianGrid`; backward = the same filter of the gradient (W~ symmetric)."""

    @staticmethod
    def forward(ctx, values: torch.Tensor, grid: GaussianGrid) -> torch.Tensor:
        ctx.grid = grid
        return grid.filter(values)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out: torch.Tensor) -> tuple[torch.Tensor, None]:
        return ctx.grid.filter(grad_out.contiguous()), None


def gaussian_filter(features: torch.Tensor, values: torch.Tensor, spacing: float = DEFAULT_SPACING) -> torch.Tensor:
    """Differentiable (in ``values``) O(N) approximation of ``W @ values``, ``W_ij = exp(-|f_i - f_j|^2 / 2)``.

    Args:
        features: float (N, d) in kernel units (divide positions by their sigma first); no gradient.
        values: float (N, C) of the features' dtype.
        spacing: grid step in kernel units (module docstring: error vs cost).

    Returns:
        float (N, C).
    """
    return _GaussianFilter.apply(values, GaussianGrid(features, spacing))
