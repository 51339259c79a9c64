"""A dedicated solver for the relaxed Foreground Clustering QP (Sharma, Sec. 4.1, Eqs. 7-11).

Solves exactly the problem of :mod:`weakseg.methods.fc.problem` (every variant: boxes only,
superpixels only, coupled) without cvxpy: a primal-dual interior-point method (Mehrotra's
predictor-corrector, as Clarabel/CVXOPT, on the standard form of
:mod:`weakseg.methods.fc.structured_system`) whose Newton systems

    (P + G' W G) dx + A' dnu = r,   A dx = g

are solved by projected preconditioned conjugate gradients (Gould, Hribar & Nocedal 2001)
with the exact frame blocks of the matrix as preconditioner
(:mod:`weakseg.methods.fc.structured_precond`). Every constraint lives in one frame, so the
preconditioner errs only by the cross-frame part of P; a few CG steps per Newton system
suffice, each one dense product with Q_y (in float32: the product is memory-bound) and O(N)
work per frame. Nothing of size Ny^2 is factored, where a general interior-point solver
factors the dense KKT matrix (Ny^3) at every iteration. The start is the interior point
z_i = 1/m_f, y_j = (gamma + eta)/(2 m_f) with s_i lambda_i = 0.1 (CVXOPT's least-squares
start when gamma = eta leaves no interior).

Why not the other structures one might exploit: D_b (boxes, Eq. 4 on linear features) has
the Woodbury form I - X (X'X + beta I)^-1 X', but the z-part (<= 30 boxes per frame) is
small next to the superpixels; D_s is a chi-square KERNEL matrix (Sec. 5), dense and of full
rank, so Q_y has no low-rank form and its products are the work that remains. Frank-Wolfe
(Joulin et al. 2014) was not used: we found no closed form for the linear minimisation
oracle over the coupled polytope of a frame (with z at a box, the upper bounds of Eq. 8
force y to 0 on every other box's superpixels, and fractional z are vertices too), so each
step would solve one LP per frame, and its rate suits moderate accuracy, not a certificate.

Stopping rule (a certificate, not an iteration count): the iterate is primal feasible to
``feas_tol`` and ``f(x) - LB <= rel_gap * |f(x)|``, with the lower bound on the optimum
LB = f(x) - grad' x - lambda' h - nu' b + sum_j min(0, d_j), d = grad + G'lambda + A'nu
without the bound rows (the Lagrangian of the linearisation at x over the box [0, 1]^N,
which contains the feasible set: y <= 1 and z <= 1 hold or are implied). The solver stops
only on a certificate computed with float64 products.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from weakseg.methods.fc.problem import QPInstance, Solution
from weakseg.methods.fc.structured_precond import BlockPreconditioner, constraint_blocks
from weakseg.methods.fc.structured_system import Constraints, FrameLayout, Objective, constraints, frame_layout

STEP_FRACTION = 0.99           # of the step to the boundary of s > 0, lambda > 0
CG_MAX_ITER = 200
ABS_GAP = 1e-12                # absolute floor of the stopping gap (objectives near 0)
EXACT_FROM = 100.0             # P x in float64 (not float32 sums) once the gap is within 100 x the target
MU0 = 0.1                      # initial complementarity s_i lambda_i at the interior starting point


@dataclass
class _CG:
    """A projected-PCG solution of H x + A' nu = rhs, A x = g: residual r = H x + A' nu - rhs."""

    x: np.ndarray
    nu: np.ndarray
    r: np.ndarray
    px: np.ndarray        # P x (float32 products, float64 sums)
    rhs: np.ndarray
    iterations: int


class _Newton:
    """The Newton matrix H = P + G' diag(w) G of one interior-point iteration and its solves."""

    def __init__(self, objective: Objective, con: Constraints, layout: FrameLayout, base: np.ndarray,
                 w: np.ndarray):
        self.objective, self.con, self.w = objective, con, w
        blocks = base + constraint_blocks(con, layout, w)
        self.pre = BlockPreconditioner(blocks, layout, has_equality=con.A.shape[0] > 0)

    def _gwg(self, v: np.ndarray) -> np.ndarray:
        return self.con.G.T @ (self.w * (self.con.G @ v))

    def _project(self, nu: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Preconditioned residual z and the residual update (Gould et al.): nu - v, r - A'v."""
        z, v = self.pre.solve(r)
        return z, nu - v, r - self.con.A.T @ v

    def solve(self, rhs: np.ndarray, g: np.ndarray, tol: float, start: _CG | None = None) -> _CG:
        """Projected PCG (Gould, Hribar & Nocedal 2001) until ||r||_1 <= ``tol``.

        Without ``start`` the first iterate is the preconditioner's solution (A x = g); with
        ``start`` (same matrix and g) its residual is shifted by the change of right-hand side.
        """
        if start is None:
            x, nu = self.pre.solve(rhs, g)
            px = self.objective.matvec(x)
            r = px + self._gwg(x) + self.con.A.T @ nu - rhs
        else:
            x, nu, px = start.x.copy(), start.nu.copy(), start.px.copy()
            r = start.r + start.rhs - rhs
        z, nu, r = self._project(nu, r)
        rz = float(r @ z)
        p = -z
        it = 0
        while np.abs(r).sum() > tol and it < CG_MAX_ITER:
            pp = self.objective.matvec(p)
            hp = pp + self._gwg(p)
            curvature = float(p @ hp)
            if curvature <= 0:
                break
            alpha = rz / curvature
            x += alpha * p
            px += alpha * pp
            r += alpha * hp
            z, nu, r = self._project(nu, r)
            rz, rz_old = float(r @ z), rz
            p = -z + (rz / rz_old) * p
            it += 1
        return _CG(x=x, nu=nu, r=r, px=px, rhs=rhs, iterations=it)


def _max_step(v: np.ndarray, dv: np.ndarray) -> float:
    """Largest t <= 1 with v + t dv >= 0 (v > 0)."""
    neg = dv < 0
    return float(min(1.0, np.min(-v[neg] / dv[neg], initial=1.0)))


@dataclass
class SolverStats:
    """Work done by :func:`solve_structured`: interior-point iterations, conjugate-gradient
    iterations (one product with Q_y each), the certified relative gap (f(x) - LB) / max(|f(x)|, 1e-12)
    and the largest violation of a (unit-norm) constraint row at the returned point."""

    iterations: int
    cg_iterations: int
    rel_gap_bound: float
    violation: float


def _interior_point(inst: QPInstance, layout: FrameLayout) -> np.ndarray:
    """A point strictly inside the feasible set when gamma < eta: z_i = 1/m_f and, coupled,
    y_j = t/m_f (then P_i y = t |S_i| z_i and c_j y_j = t sum_{i: j in S_i} z_i), else y_j = t,
    with t = (gamma + eta) / 2."""
    t = (inst.gamma + inst.eta) / 2
    x = np.zeros(layout.n)
    per_frame = 1.0 / np.maximum((layout.z_slot < layout.n).sum(axis=1), 1)
    for slot, value in ((layout.z_slot, per_frame), (layout.y_slot, t * (per_frame if inst.coupled else 1.0))):
        mask = slot < layout.n
        x[slot[mask]] = np.broadcast_to(np.reshape(value, (-1, 1)), slot.shape)[mask]
    return x


def _coneqp_start(newton: _Newton, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                             np.ndarray, int]:
    """CVXOPT coneqp's initial point (for gamma = eta, where no interior point exists): x of
    min 1/2 x'Px + q'x + 1/2 ||s||^2 s.t. G x + s = h, A x = b; s = h - G x and lambda = -s,
    each shifted into the positive orthant. Returns (x, s, lambda, nu, P x, CG iterations)."""
    con = newton.con
    rhs = -q + con.G.T @ con.h
    init = newton.solve(rhs, con.b, 1e-3 * np.abs(rhs).sum())
    s = con.h - con.G @ init.x
    lam = -s
    s = s + (1.0 - s.min() if s.min() <= 0 else 0.0)
    lam = lam + (1.0 - lam.min() if lam.min() <= 0 else 0.0)
    return init.x, s, lam, init.nu, init.px, init.iterations


def _lower_bound(x: np.ndarray, px: np.ndarray, q: np.ndarray, lam: np.ndarray, nu: np.ndarray,
                 con: Constraints, box_rows: np.ndarray) -> float:
    """LB of the module docstring: a lower bound on the optimum for any x, lambda >= 0, nu
    (``box_rows``: G's rows of the bounds 0 <= x <= 1, kept as the box, not dualised)."""
    grad = px + q
    lam_rest = np.where(box_rows, 0.0, lam)
    d = grad + con.G.T @ lam_rest + con.A.T @ nu
    f = 0.5 * x @ px + q @ x
    return float(f - grad @ x - lam_rest @ con.h - nu @ con.b + np.minimum(d, 0.0).sum())


def solve_structured(inst: QPInstance, rel_gap: float = 1e-6, feas_tol: float = 1e-9, max_iter: int = 100,
                     cg_forcing: float = 0.3) -> tuple[Solution, SolverStats]:
    """Solve ``inst``'s relaxed QP (:mod:`weakseg.methods.fc.problem`) by the structured interior point.

    Args:
        inst: the problem (any variant).
        rel_gap: stop when the certified gap f(x) - LB <= rel_gap |f(x)| (+ 1e-12 on the
            internally scaled objective), so the objective is within ``rel_gap`` (relative)
            of the optimum.
        feas_tol: largest violation of a constraint row scaled to unit norm (G x - h, |A x - b|)
            when stopping.
        max_iter: interior-point iterations before giving up.
        cg_forcing: each conjugate-gradient solve stops when its residual (which becomes part
            of the next dual residual) has 1-norm <= cg_forcing * max(min(||r_d||_1, s'lambda),
            rel_gap |f|): loose while far from the optimum, tight near it (inexact Newton).

    Returns:
        (solution, stats). ``solution`` as :func:`weakseg.methods.fc.problem.solve` returns it:
        y ``(Ny,)`` (0 for superpixels in no box when coupled) and z ``(Nz,)`` clipped to
        [0, 1], the objective (float64 products), status "optimal", the wall time of the whole
        solve; ``n_variables`` / ``n_constraints`` count this solver's variables and rows
        (bounds and equality rows included), not cvxpy's.

    Raises:
        RuntimeError: when ``max_iter`` iterations do not reach the certificate.
    """
    start_time = time.perf_counter()
    layout = frame_layout(inst)
    con = constraints(inst, layout)
    objective = Objective(inst, layout)
    base = objective.frame_blocks()
    n, m, q = layout.n, con.m, objective.q
    G, h, A, b = con.G, con.h, con.A, con.b
    box_rows = np.zeros(m, bool)
    box_rows[:n] = True                                            # -x <= 0
    box_rows[con.upper_row[con.upper_row < m]] = True              # y <= 1 (superpixel-only)

    x = _interior_point(inst, layout)
    s = h - G @ x
    cg_total = 0
    if s.min() > 0:
        lam, nu, px = MU0 / s, np.zeros(A.shape[0]), objective.matvec(x)
    else:
        x, s, lam, nu, px, cg_total = _coneqp_start(_Newton(objective, con, layout, base, np.ones(m)), q)
    exact = False
    for it in range(max_iter):
        if exact:
            px = objective.matvec(x, exact=True)
        rd = px + q + A.T @ nu + G.T @ lam
        rp = A @ x - b
        rg = G @ x + s - h
        mu = float(s @ lam) / m
        f = 0.5 * x @ px + q @ x
        violation = max(float(np.max(G @ x - h, initial=0.0)), float(np.max(np.abs(rp), initial=0.0)))
        gap = f - _lower_bound(x, px, q, lam, nu, con, box_rows)
        if not exact and violation <= feas_tol and gap <= EXACT_FROM * rel_gap * abs(f) + ABS_GAP:
            exact = True                  # near the end: float64 products for P x from now on
            px = objective.matvec(x, exact=True)
            rd = px + q + A.T @ nu + G.T @ lam
            f = 0.5 * x @ px + q @ x
            gap = f - _lower_bound(x, px, q, lam, nu, con, box_rows)
        if exact and violation <= feas_tol and gap <= rel_gap * abs(f) + ABS_GAP:
            break
        # Mehrotra predictor-corrector; the corrector's CG starts from the predictor's solution.
        newton = _Newton(objective, con, layout, base, lam / s)
        tol = cg_forcing * max(min(float(np.abs(rd).sum()), mu * m), rel_gap * abs(f))
        rc = -s * lam
        aff = newton.solve(-rd - G.T @ ((rc + lam * rg) / s), -rp, tol)
        ds = -rg - G @ aff.x
        dl = (rc - lam * ds) / s
        t = min(_max_step(s, ds), _max_step(lam, dl))
        sigma = (float((s + t * ds) @ (lam + t * dl)) / m / mu) ** 3
        rc = -s * lam + sigma * mu - ds * dl
        cor = newton.solve(-rd - G.T @ ((rc + lam * rg) / s), -rp, tol, start=aff)
        ds = -rg - G @ cor.x
        dl = (rc - lam * ds) / s
        t = STEP_FRACTION * min(_max_step(s, ds), _max_step(lam, dl))
        x, s, lam, nu, px = x + t * cor.x, s + t * ds, lam + t * dl, nu + t * cor.nu, px + t * cor.px
        cg_total += aff.iterations + cor.iterations
    else:
        raise RuntimeError(f"Foreground Clustering QP not solved by the structured solver in {max_iter} "
                           f"iterations: relative gap {gap / max(abs(f), ABS_GAP):.3g}, violation {violation:.3g}")
    y = None
    if inst.has_y:
        y = np.zeros(inst.n_y)
        y[layout.y_keep] = np.clip(x[:layout.n_y], 0.0, 1.0)
    solution = Solution(y=y, z=np.clip(x[layout.n_y:], 0.0, 1.0) if inst.has_z else None,
                        objective=float(f / objective.scale), status="optimal",
                        seconds=time.perf_counter() - start_time, n_variables=n, n_constraints=m + A.shape[0])
    return solution, SolverStats(iterations=it, cg_iterations=cg_total,
                                 rel_gap_bound=float(gap / max(abs(f), ABS_GAP)), violation=violation)
