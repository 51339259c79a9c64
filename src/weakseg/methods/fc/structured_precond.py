"""Preconditioning the Newton systems of the structured Foreground Clustering solver.

The Newton matrix of an interior-point iteration is H = P + G' W G (W diagonal > 0) over the
variables of :mod:`weakseg.methods.fc.structured_system`. G' W G is block diagonal by frame
(every constraint row lives in one frame), P is not: Q_y couples all superpixels (the kernel
matrix D_s, the histogram matching F of every frame pair). :class:`BlockPreconditioner`
factors the frame blocks of H exactly (:func:`constraint_blocks` builds those of G' W G from
the structure of Eqs. 8-9), so it errs only by P's cross-frame part.

Measured and left out: a coarse space (balancing two-level preconditioner with the 8-32
generalized eigenvectors of (P_yy, its frame blocks) of smallest eigenvalues, by LOBPCG)
halved the conjugate-gradient iterations on the syn_yto video QP and changed nothing on the
others, and its setup cost what it saved.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from weakseg.methods.fc.structured_system import Constraints, FrameLayout

TINY = 1e-150            # entries of a Jacobi-scaled block (|entry| <= 1) below this are set to 0
REGULARISATION = 1e-10   # added to the scaled blocks' unit diagonal: factorable when W is extreme


def constraint_blocks(con: Constraints, layout: FrameLayout, w: np.ndarray) -> np.ndarray:
    """``(F, k, k)`` frame blocks of G' diag(w) G (``w`` ``(M,)`` >= 0), slots order.

    Coupled frames use the structure of (8)-(9) (with p = P_f, s = |S|, c the counts):
    yy = p' diag(w_l + w_u) p + diag(c^2 w_9), zz = diag(s^2 (gamma^2 w_l + eta^2 w_u)) +
    p diag(w_9) p', yz = -p' diag(s (gamma w_l + eta w_u)) - diag(c w_9) p'.
    """
    slots = layout.slots
    n_frames, k = slots.shape
    ny_max = layout.y_slot.shape[1]
    wp = np.append(w * con.row_scale ** 2, 0.0)                # unscaled rows below; padding row M: 0
    out = np.zeros((n_frames, k, k))
    diag = np.zeros(layout.n + 1)
    diag[:layout.n] = wp[:layout.n]                            # lower bounds -x <= 0
    diag += wp[con.upper_row]                                  # y <= 1 (superpixel-only)
    idx = np.arange(k)
    out[:, idx, idx] = diag[slots]
    if con.size_rows[:, 0].min() < con.m:                      # superpixel-only size bounds
        ones = (layout.y_slot < layout.n).astype(np.float64)
        ws = wp[con.size_rows].sum(axis=1)
        out[:, :ny_max, :ny_max] += ws[:, None, None] * ones[:, :, None] * ones[:, None, :]
    if con.membership.size:
        p, pt, s, c = con.membership, con.membership_t, con.sizes, con.counts
        wl, wu, w9 = wp[con.lower8_row], wp[con.upper8_row], wp[con.row9]
        yy = out[:, :ny_max, :ny_max]
        yy += np.matmul(pt, (wl + wu)[:, :, None] * p)
        yy[:, idx[:ny_max], idx[:ny_max]] += c * c * w9
        zz = out[:, ny_max:, ny_max:]
        zz += np.matmul(p * w9[:, None, :], pt)
        zz[:, idx[:k - ny_max], idx[:k - ny_max]] += s * s * (con.gamma ** 2 * wl + con.eta ** 2 * wu)
        yz = -pt * ((s * (con.gamma * wl + con.eta * wu))[:, None, :] + (c * w9)[:, :, None])
        out[:, :ny_max, ny_max:] += yz
        out[:, ny_max:, :ny_max] += yz.transpose(0, 2, 1)
    return out


class BlockPreconditioner:
    """Exact solves with the frame blocks K_f of P + G'WG, with the frame's equality (11):

        [K_f  a_f'] [u]   [r_f]
        [a_f  0   ] [v] = [g_f]      a_f = the 1'z_f row (absent without a z-part).

    K_f is Cholesky-factored (LAPACK potrf/potrs, one call per frame; cheaper overall than an
    explicit inverse, whose batched products do not repay potri) after a symmetric Jacobi scaling
    (the weights W of an interior point span many orders of magnitude); padding rows are the
    identity. The same factors give v and u, so a_f u = g_f holds to rounding: projected
    conjugate gradients started from a point with A x = b stay on that affine set.
    """

    def __init__(self, blocks: np.ndarray, layout: FrameLayout, has_equality: bool):
        self.layout = layout
        slots = layout.slots
        idx = np.arange(slots.shape[1])
        diag = np.where(slots >= layout.n, 1.0, blocks[:, idx, idx])
        self.d = 1.0 / np.sqrt(diag)
        scaled = blocks * self.d[:, :, None] * self.d[:, None, :]
        scaled[:, idx, idx] = 1.0 + REGULARISATION
        scaled[np.abs(scaled) < TINY] = 0.0       # denormal numbers slow LAPACK down several-fold
        self.factors = []
        for f, block in enumerate(scaled):
            factor, info = scipy.linalg.lapack.dpotrf(block, lower=1)
            if info != 0:
                raise np.linalg.LinAlgError(f"frame {f}'s block of the Newton matrix is not positive definite "
                                            f"(LAPACK dpotrf info {info})")
            self.factors.append(factor)
        self.a = None
        if has_equality:
            ny_max = layout.y_slot.shape[1]
            self.a = np.zeros(slots.shape)
            self.a[:, ny_max:] = (layout.z_slot < layout.n)
            self.inv_a = self._inv(self.a)
            self.schur = np.einsum("fi,fi->f", self.a, self.inv_a)

    def _inv(self, r: np.ndarray) -> np.ndarray:
        """K_f^-1 r_f for ``r`` ``(F, k)``."""
        rs = self.d * r
        for f, factor in enumerate(self.factors):
            rs[f] = scipy.linalg.lapack.dpotrs(factor, rs[f], lower=1)[0]
        return self.d * rs

    def solve(self, r: np.ndarray, g: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(u, v) for ``r`` ``(N,)`` and ``g`` ``(F,)`` (0 if None); v is empty without (11)."""
        slots = self.layout.slots
        t = self._inv(np.append(r, 0.0)[slots])
        v = np.zeros(0)
        if self.a is not None:
            v = (np.einsum("fi,fi->f", self.a, t) - (0.0 if g is None else g)) / self.schur
            t -= self.inv_a * v[:, None]
        u = np.zeros(self.layout.n + 1)
        u[slots] = t
        return u[:self.layout.n], v

