"""Compiled CPU loops of :mod:`weakseg.lattice` (numba) for 3-D features: the splat of the moments and the slice.

The grid of weakseg.lattice visits every point twice per filtered signal: it finds the point's nearest node
and offsets ``t`` (in [-1/2, 1/2] per axis) and adds ``t^alpha * value`` of every monomial ``alpha`` (1, t_a,
t_a t_b; total degree <= 2) to that node (splat); later it reads the filtered monomial grids back at the
node (slice, ``sum_alpha t^alpha g_alpha``). In torch each is one vectorised pass per monomial and channel
(3-D colour and K = 2 maps: 20 ``index_add_`` and 20 ``index_select`` passes over all points, each with its
temporaries), ~2/3 of the CoLoc loss's time at 64 frames of 224 x 224 (bench/bench_crf.py). Here each is
one pass over the points, in parallel (``numba.prange``; the splat into one private float64 grid per
thread, summed afterwards), nodes and offsets recomputed from the features in both passes (no per-point
arrays kept), a point's monomials next to each other on the grid (layout ``(nodes, channels,
monomials)``). The loops are written out for 3 dimensions, the colour grid of both CRF losses (CoLo-CAM
eqs. 2 and 4); written generically over d they ran ~2x slower.

Same arithmetic as the torch code of weakseg.lattice (tests/test_lattice_kernels.py checks they agree to
rounding); GaussianGrid uses these for 3-D CPU features, torch otherwise (CUDA, other dimensions).
Compiled on first use (a few seconds) and cached next to this file (``cache=True``; numba falls back to
a per-user cache directory where that is read-only).
"""

from __future__ import annotations

import math

import numba
import numpy as np
import torch

DIMS = 3  # the loops are written out for 3-D features: colour, the grid dimension of both CRF losses
MONOMIALS = 10  # 1, t_0, t_1, t_2, t_0 t_0, t_0 t_1, t_0 t_2, t_1 t_1, t_1 t_2, t_2 t_2


def splat_moments(features: torch.Tensor, low: torch.Tensor, spacing: float, shape: tuple[int, ...],
                  planes: torch.Tensor) -> torch.Tensor:
    """Per node and channel the moments ``sum_{points i at the node} t_i^alpha * value_ik`` (no stencils yet).

    A point's node and offsets: ``coord_a = (f_a - low_a) / spacing + 1``, node ``c_a = round(coord_a)``,
    ``t_a = coord_a - c_a`` in [-1/2, 1/2], recomputed here and in :func:`slice_moments` (no per-point node or
    offset arrays are kept).

    Args:
        features: float (3, N) contiguous point features in kernel units, one plane per axis.
        low: float (3,) the features' minimum per axis.
        spacing: grid step in kernel units.
        shape: node counts per axis (row-major flattening; every ``c_a + 1`` must be below ``shape[a]``).
        planes: float (C, N) contiguous values, the dtype of ``features``.

    Returns:
        float (10, C, nodes) of the dtype of ``planes`` (summed in float64), the monomials in the order of
        :data:`MONOMIALS` (weakseg.lattice.GaussianGrid's moments).
    """
    _check_dims(features)
    channels = planes.shape[0]
    threads = _set_threads()
    parts = np.zeros((threads, math.prod(shape) * channels * MONOMIALS))  # float64 sums: many points share a node
    _splat(_array(features), _low(low), 1.0 / spacing, _strides(shape), _array(planes), parts)
    moments = (parts[0] if threads == 1 else parts.sum(axis=0)).reshape(-1, channels, MONOMIALS)
    return torch.from_numpy(np.ascontiguousarray(moments.transpose(2, 1, 0), dtype=_numpy_dtype(planes)))


def slice_moments(features: torch.Tensor, low: torch.Tensor, spacing: float, shape: tuple[int, ...],
                  table: torch.Tensor) -> torch.Tensor:
    """``out[k, i] = sum_alpha t_i^alpha * table[alpha, k, node_i]``, the slice of weakseg.lattice.GaussianGrid.

    Args:
        features, low, spacing, shape: as :func:`splat_moments`.
        table: float (M, C, nodes) filtered monomial grids (the order of :func:`splat_moments`).

    Returns:
        float (C, N), the dtype of ``table``.
    """
    _check_dims(features)
    cells = np.ascontiguousarray(_array(table).transpose(2, 1, 0))  # (nodes, C, M): a point's monomials together
    out = np.empty((table.shape[1], features.shape[1]), dtype=cells.dtype)
    _set_threads()
    _slice(_array(features), _low(low), 1.0 / spacing, _strides(shape), cells.reshape(-1), out)
    return torch.from_numpy(out)


def _array(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().numpy()


def _numpy_dtype(tensor: torch.Tensor) -> np.dtype:
    return np.dtype(str(tensor.dtype).removeprefix("torch."))


def _check_dims(features: torch.Tensor) -> None:
    if features.shape[0] != DIMS:
        raise ValueError(f"the compiled loops take {DIMS}-D features (colour), got {features.shape[0]}-D; "
                         "use GaussianGrid(..., backend='torch')")


def _low(low: torch.Tensor) -> np.ndarray:
    return _array(low).astype(np.float64)


def _strides(shape: tuple[int, ...]) -> np.ndarray:
    return np.array([math.prod(shape[a + 1:]) for a in range(len(shape))], dtype=np.int64)


def _set_threads() -> int:
    """numba's threads for the next parallel loop: torch's intra-op thread count (bench --threads), capped."""
    wanted = torch.get_num_threads()
    threads = max(1, min(wanted, numba.config.NUMBA_NUM_THREADS))
    numba.set_num_threads(threads)
    if torch.get_num_threads() != wanted:  # numba's first call starts its OpenMP pool, resetting the shared count
        torch.set_num_threads(wanted)
    return threads


@numba.njit(cache=True, inline="always")
def _node(features, low, scale, strides, i):  # pragma: no cover - compiled
    """Point i's nearest node (flattened) and offsets t_0, t_1, t_2 in [-1/2, 1/2]."""
    c0 = (features[0, i] - low[0]) * scale + 1.0
    c1 = (features[1, i] - low[1]) * scale + 1.0
    c2 = (features[2, i] - low[2]) * scale + 1.0
    r0, r1, r2 = np.rint(c0), np.rint(c1), np.rint(c2)
    node = np.int64(r0) * strides[0] + np.int64(r1) * strides[1] + np.int64(r2) * strides[2]
    return node, c0 - r0, c1 - r1, c2 - r2


@numba.njit(cache=True, parallel=True, fastmath=True)
def _splat(features, low, scale, strides, planes, parts):  # pragma: no cover - compiled
    threads = parts.shape[0]
    channels, count = planes.shape
    chunk = (count + threads - 1) // threads
    for part in numba.prange(threads):
        grid = parts[part]
        for i in range(part * chunk, min(count, (part + 1) * chunk)):
            node, t0, t1, t2 = _node(features, low, scale, strides, i)
            base = node * channels * MONOMIALS
            for k in range(channels):
                value = planes[k, i]
                u0, u1, u2 = value * t0, value * t1, value * t2
                grid[base] += value
                grid[base + 1] += u0
                grid[base + 2] += u1
                grid[base + 3] += u2
                grid[base + 4] += u0 * t0
                grid[base + 5] += u0 * t1
                grid[base + 6] += u0 * t2
                grid[base + 7] += u1 * t1
                grid[base + 8] += u1 * t2
                grid[base + 9] += u2 * t2
                base += MONOMIALS


@numba.njit(cache=True, parallel=True, fastmath=True)
def _slice(features, low, scale, strides, cells, out):  # pragma: no cover - compiled
    channels, count = out.shape
    for i in numba.prange(count):
        node, t0, t1, t2 = _node(features, low, scale, strides, i)
        base = node * channels * MONOMIALS
        for k in range(channels):  # g_0 + sum_a t_a (g_a + sum_{b >= a} t_b g_ab)
            out[k, i] = (cells[base] + t0 * (cells[base + 1] + t0 * cells[base + 4] + t1 * cells[base + 5]
                                             + t2 * cells[base + 6])
                         + t1 * (cells[base + 2] + t1 * cells[base + 7] + t2 * cells[base + 8])
                         + t2 * (cells[base + 3] + t2 * cells[base + 9]))
            base += MONOMIALS
