"""The relaxed Foreground Clustering QP (Sharma, Sec. 4.1, Eqs. 7-11) in a frame-structured form.

:mod:`weakseg.methods.fc.structured_solver` solves the problem of
:mod:`weakseg.methods.fc.problem` (same objective, same constraints, every variant) as

    min 1/2 x' P x + q' x   s.t.   G x <= h,   A x = b

with x = (y restricted to the superpixels that may be foreground, z) and P = 2 sigma
blockdiag(Q_y, Q_z), q = sigma (c_y, c_z) (sigma: a scale making the objective O(1)).
What makes it fast is that every constraint row involves ONE frame only:

* G x <= h: the bounds x >= 0, and per frame either Eqs. (8)-(9) (coupled), or y <= 1 and
  the size bounds gamma n_f <= 1'y_f <= eta n_f (superpixel-only); A x = b: Eq. (11);
* so G' W G (W diagonal, the interior point's weights) is block diagonal with one block of
  n_f + m_f rows per frame, and the frame blocks of P + G' W G, factored exactly, make a
  preconditioner whose only error is P's cross-frame part
  (:mod:`weakseg.methods.fc.structured_precond`).

Redundant rows are dropped, not solved: y <= 1 and z <= 1 in the coupled problem follow
from (9) and (11) (c_j y_j <= sum_{i: j in S_i} z_i <= 1'z = 1); a superpixel in no box is
fixed to 0 (it is not a variable); a box with no superpixel has no row (8) (0 <= 0).

The dense products with P's y-part (the superpixel matrix Q_y: D_s of Eq. 4 is a kernel
matrix, dense and of full rank) are done in float32, the only O(Ny^2) work per CG step.
Arrays are float64 unless stated.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from weakseg.methods.fc.problem import QPInstance


@dataclass
class FrameLayout:
    """Where each frame's variables sit in x = (y_kept, z) (global indices, N = padding slot).

    Attributes:
        y_keep: ``int64`` ``(n_y,)`` indices into the instance's y of the y variables.
        n_y, n_z: variables of each part (``n_y`` <= the instance's Ny).
        y_slot: ``int64`` ``(F, ny_max)`` index into x of frame f's t-th y variable, or N.
        z_slot: ``int64`` ``(F, mz_max)`` likewise for z (``mz_max`` = 0 without a z-part).
    """

    y_keep: np.ndarray
    n_y: int
    n_z: int
    y_slot: np.ndarray
    z_slot: np.ndarray

    @property
    def n(self) -> int:
        return self.n_y + self.n_z

    @cached_property
    def slots(self) -> np.ndarray:
        """``(F, ny_max + mz_max)``: each frame's block, y variables first, then z."""
        return np.concatenate([self.y_slot, self.z_slot], axis=1)


def _padded(groups: list[np.ndarray], fill: int) -> np.ndarray:
    """``(len(groups), max len)`` int64 array of the groups, right-padded with ``fill``."""
    width = max((len(g) for g in groups), default=0)
    out = np.full((len(groups), width), fill, dtype=np.int64)
    for f, g in enumerate(groups):
        out[f, :len(g)] = g
    return out


def frame_layout(inst: QPInstance) -> FrameLayout:
    """The :class:`FrameLayout` of ``inst`` (y fixed to 0 off every box when coupled)."""
    y_groups, z_groups, kept, y0, z0, n_y = [], [], [], 0, 0, 0
    for frame in inst.frames:
        if inst.has_y:
            keep = frame.membership.any(axis=0) if inst.coupled else np.ones(frame.n_superpixels, bool)
            local = np.flatnonzero(keep)
            kept.append(y0 + local)
            y_groups.append(n_y + np.arange(len(local)))
            n_y += len(local)
            y0 += frame.n_superpixels
        if inst.has_z:
            z_groups.append(z0 + np.arange(frame.n_boxes))
            z0 += frame.n_boxes
    n = n_y + z0
    y_keep = np.concatenate(kept) if kept else np.zeros(0, np.int64)
    y_slot = _padded(y_groups, n) if inst.has_y else np.zeros((len(inst.frames), 0), np.int64)
    z_slot = _padded([n_y + g for g in z_groups], n) if inst.has_z else np.zeros((len(inst.frames), 0), np.int64)
    return FrameLayout(y_keep=y_keep, n_y=n_y, n_z=z0, y_slot=y_slot, z_slot=z_slot)


@dataclass
class Constraints:
    """G x <= h and A x = b of the module docstring, with what the frame blocks of G'WG need.

    Rows of G, in order: the lower bounds -x <= 0 (N rows); then, superpixel-only: y <= 1
    (n_y rows), 1'y_f <= eta n_f and -1'y_f <= -gamma n_f (F rows each); coupled: per box
    with superpixels, Eq. (8) lower gamma |S_i| z_i - P_i y <= 0 and upper P_i y -
    eta |S_i| z_i <= 0, then Eq. (9) c_j y_j - sum_{i: j in S_i} z_i <= 0 per y variable.
    A: one row per frame, 1'z_f = 1 (Eq. 11), absent without a z-part.

    Every row of G is scaled to unit Euclidean norm (``row_scale`` ``(M,)``: the factor
    applied; same feasible set, better-balanced interior-point weights). The ``*_row``
    arrays index rows of G (``M`` = a padding row of weight 0); ``membership``
    ``(F, mz_max, ny_max)`` is P_f over the frame's y variables (``membership_t`` its
    contiguous transpose: batched matmul on a transposed view is not BLAS), ``sizes``
    ``(F, mz_max)`` |S_i|, ``counts`` ``(F, ny_max)`` c_j (coupled only, else empty).
    """

    G: sp.csr_matrix
    h: np.ndarray
    row_scale: np.ndarray
    A: sp.csr_matrix
    b: np.ndarray
    upper_row: np.ndarray
    size_rows: np.ndarray
    lower8_row: np.ndarray
    upper8_row: np.ndarray
    row9: np.ndarray
    membership: np.ndarray
    membership_t: np.ndarray
    sizes: np.ndarray
    counts: np.ndarray
    gamma: float
    eta: float

    @property
    def m(self) -> int:
        return self.G.shape[0]


class _Rows:
    """Accumulates the triplets of G's rows and their right-hand sides."""

    def __init__(self) -> None:
        self.m = 0
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.h: list[np.ndarray] = []

    def entries(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> None:
        self.rows.append(np.asarray(rows, np.int64))
        self.cols.append(np.asarray(cols, np.int64))
        self.vals.append(np.broadcast_to(np.asarray(vals, np.float64), np.shape(rows)))

    def new(self, h: np.ndarray) -> np.ndarray:
        """Indices of ``len(h)`` new rows with right-hand sides ``h``."""
        out = self.m + np.arange(len(h))
        self.h.append(np.asarray(h, np.float64))
        self.m += len(h)
        return out

    def matrix(self, n: int) -> sp.csr_matrix:
        return sp.csr_matrix((np.concatenate(self.vals), (np.concatenate(self.rows), np.concatenate(self.cols))),
                             shape=(self.m, n))


def constraints(inst: QPInstance, layout: FrameLayout) -> Constraints:
    """The :class:`Constraints` of ``inst`` in ``layout``."""
    n, n_frames = layout.n, len(inst.frames)
    ny_max, mz_max = layout.y_slot.shape[1], layout.z_slot.shape[1]
    acc = _Rows()
    acc.entries(acc.new(np.zeros(n)), np.arange(n), -1.0)                # -x <= 0
    upper_row = np.full(n + 1, -1, np.int64)                            # per x index (+ padding slot)
    size_rows = np.full((n_frames, 2), -1, np.int64)
    lower8 = np.full((n_frames, mz_max), -1, np.int64)
    upper8 = np.full((n_frames, mz_max), -1, np.int64)
    row9 = np.full((n_frames, ny_max), -1, np.int64)
    shape = (n_frames, mz_max, ny_max) if inst.coupled else (n_frames, 0, 0)
    membership, sizes, counts = np.zeros(shape), np.zeros(shape[:2]), np.zeros(shape[::2])
    if inst.has_y and not inst.coupled:
        ys = np.arange(layout.n_y)
        upper_row[ys] = acc.new(np.ones(layout.n_y))                    # y <= 1
        acc.entries(upper_row[ys], ys, 1.0)
        for f, frame in enumerate(inst.frames):
            y_f = layout.y_slot[f][layout.y_slot[f] < n]
            bounds = np.array([inst.eta, -inst.gamma]) * frame.n_superpixels
            size_rows[f] = acc.new(bounds)                              # +-1'y_f <= bounds
            acc.entries(np.repeat(size_rows[f], len(y_f)), np.tile(y_f, 2), np.repeat([1.0, -1.0], len(y_f)))
    if inst.coupled:
        for f, frame in enumerate(inst.frames):
            p = frame.membership[:, frame.membership.any(axis=0)].astype(np.float64)   # (m_f, kept n_f)
            y_f, z_f = layout.y_slot[f, :p.shape[1]], layout.z_slot[f, :p.shape[0]]
            s, c = p.sum(axis=1), p.sum(axis=0)
            membership[f, :p.shape[0], :p.shape[1]] = p
            sizes[f, :p.shape[0]], counts[f, :p.shape[1]] = s, c
            boxes = np.flatnonzero(s > 0)
            bi, sj = np.nonzero(p[boxes])
            for sign, coef, target in ((-1.0, inst.gamma, lower8), (1.0, -inst.eta, upper8)):   # Eq. (8)
                r = target[f, boxes] = acc.new(np.zeros(len(boxes)))
                acc.entries(r[bi], y_f[sj], sign)
                acc.entries(r, z_f[boxes], coef * s[boxes])
            r = row9[f, :p.shape[1]] = acc.new(np.zeros(p.shape[1]))     # Eq. (9)
            acc.entries(r, y_f, c)
            bi, sj = np.nonzero(p)
            acc.entries(r[sj], z_f[bi], -1.0)
    if inst.has_z:
        z = layout.z_slot
        frame_of = np.repeat(np.arange(n_frames), (z < n).sum(axis=1))
        A = sp.csr_matrix((np.ones(layout.n_z), (frame_of, z[z < n])), shape=(n_frames, n))
        b = np.ones(n_frames)
    else:
        A, b = sp.csr_matrix((0, n)), np.zeros(0)
    m = acc.m
    pad = (lambda a: np.where(a < 0, m, a))
    G = acc.matrix(n)
    row_scale = 1.0 / np.sqrt(np.asarray(G.multiply(G).sum(axis=1)).ravel())
    return Constraints(G=sp.csr_matrix(sp.diags(row_scale) @ G), h=row_scale * np.concatenate(acc.h),
                       row_scale=row_scale, A=A, b=b, upper_row=pad(upper_row), size_rows=pad(size_rows), lower8_row=pad(lower8), upper8_row=pad(upper8), row9=pad(row9),
                       membership=membership,
                       membership_t=np.ascontiguousarray(membership.transpose(0, 2, 1)), sizes=sizes, counts=counts, gamma=inst.gamma, eta=inst.eta)


class Objective:
    """P x and the frame blocks of P for P = 2 sigma blockdiag(Q_y, Q_z) over ``layout``'s variables.

    The objective is scaled by sigma = 1 / max(|P_ii|, |q_i|) (``scale``), so that its terms
    are O(1) like the unit-norm constraint rows; ``q`` is sigma times the linear costs.

    Q_y's products are float32 (``Q_y`` kept whole: superpixels fixed to 0 are zero entries
    of the multiplied vector, cheaper than copying the kept submatrix); Q_z's float64.
    """

    def __init__(self, inst: QPInstance, layout: FrameLayout):
        self.layout = layout
        self.n_y_full = inst.n_y if inst.has_y else 0
        self.q = np.zeros(layout.n)
        if inst.c_y is not None:
            self.q[:layout.n_y] = inst.c_y[layout.y_keep]
        if inst.c_z is not None:
            self.q[layout.n_y:] = inst.c_z
        diagonals = [np.zeros(1), np.abs(self.q)]
        if inst.Q_y is not None:
            diagonals.append(2.0 * np.diag(inst.Q_y)[layout.y_keep])
        if inst.Q_z is not None:
            diagonals.append(2.0 * np.diag(inst.Q_z))
        largest = max(float(d.max(initial=0.0)) for d in diagonals)
        self.scale = 1.0 / largest if largest > 0 else 1.0
        self.q *= self.scale
        self.factor = 2.0 * self.scale                 # P = factor * blockdiag(Q_y, Q_z)
        self.q_y, self.q_z = inst.Q_y, inst.Q_z
        self.q_y32 = None
        if inst.Q_y is not None:
            self.q_y32 = inst.Q_y.astype(np.float32)
            self.q_y32 *= self.factor
        self.all_y = len(layout.y_keep) == self.n_y_full

    def qy(self, v: np.ndarray, exact: bool = False) -> np.ndarray:
        """P's y-block times ``v`` ``(n_y,)`` or ``(n_y, r)``; float32 products unless ``exact``."""
        mat, dtype, factor = (self.q_y, np.float64, self.factor) if exact else (self.q_y32, np.float32, 1.0)
        if self.all_y:
            return factor * (mat @ v.astype(dtype, copy=False))
        full = np.zeros((self.n_y_full, *v.shape[1:]), dtype)
        full[self.layout.y_keep] = v
        return factor * (mat @ full)[self.layout.y_keep]

    def matvec(self, v: np.ndarray, exact: bool = False) -> np.ndarray:
        """P v for ``v`` ``(N,)``; float32 products with Q_y unless ``exact``."""
        out = np.zeros(self.layout.n)
        ny = self.layout.n_y
        if self.q_y is not None:
            out[:ny] = self.qy(v[:ny], exact)
        if self.q_z is not None:
            out[ny:] = self.factor * (self.q_z @ v[ny:])
        return out

    def frame_blocks(self) -> np.ndarray:
        """``(F, k, k)`` frame blocks of P in :attr:`FrameLayout.slots` order (0 at padding)."""
        slots = self.layout.slots
        n_frames, k = slots.shape
        out = np.zeros((n_frames, k, k))
        ny_max = self.layout.y_slot.shape[1]
        parts = ((self.q_y, self.layout.y_slot, 0, self.layout.y_keep), (self.q_z, self.layout.z_slot, ny_max, None))
        for mat, slot, offset, index in parts:
            if mat is None:
                continue
            for f in range(n_frames):
                g = slot[f][slot[f] < self.layout.n] - (0 if index is not None else self.layout.n_y)
                src = index[g] if index is not None else g
                out[f, offset:offset + len(g), offset:offset + len(g)] = self.factor * mat[np.ix_(src, src)]
        return out
