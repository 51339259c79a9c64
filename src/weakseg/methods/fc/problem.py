"""The relaxed quadratic program of Foreground Clustering (Sharma, Sec. 4.1, Eqs. 7-11).

Variables, stacked frame by frame: y in [0, 1]^Ny (superpixels, Ny = sum of the frames'
superpixel counts) and z in [0, 1]^Nz (boxes, Nz = sum of the frames' box counts).
Objective (Eq. 7, already weighted by the caller):

    min  y' Q_y y + c_y' y + z' Q_z z + c_z' z

with Q_y = D_s + kappa F_s + alpha L_s, c_y = mu s_s, Q_z = lambda D_b (+ any box
Laplacian), c_z = lambda nu s_b. Constraints, per frame (:func:`build_problem`):

* z-part present: (11) sum_i z_i = 1 (one foreground box per frame).
* coupled (y and z both present): substituting x_i = P_i y (Eq. 10),
  (8)  gamma |S_i| z_i <= sum_{j in S_i} y_j <= eta |S_i| z_i   for every box i;
  (9)  c_j y_j <= sum_{i: j in S_i} z_i  with c_j = #boxes containing superpixel j
       (x_ij = y_j for every box i containing j, as in the toy example of Sec. 8.1);
  and y_j = 0 for every superpixel in no box. Derivation: (9) states that "a superpixel
  is in the foreground [...] only [for] the foreground box that contains it", i.e.
  y_j <= sum_{i: j in S_i} z_i; for a superpixel in no box the right side is the empty
  sum 0, so y_j <= 0. The c_j-weighted form written in the paper degenerates to 0 <= 0
  when c_j = 0, hence the explicit bound. Note that with integer z and c_j >= 2, (9)
  caps y_j at 1/c_j; this is why Sec. 4.1 normalises y before rounding.
* y-part only (superpixel-only variant, "QP(Seg.)"): gamma n_f <= sum_j y_j <= eta n_f.
  OUR CHOICE: the paper does not define QP(Seg.)'s constraints; we bound the foreground
  proportion as Joulin et al. 2010 (discriminative cosegmentation, ref. 14) do, with the
  same gamma and eta as Eq. 8, which excludes the trivial all-background solution.

Solved with cvxpy (Clarabel interior point by default; the authors used MATLAB's
quadprog interior point), or with solver "STRUCTURED" by the dedicated interior point of
:mod:`weakseg.methods.fc.structured_solver`, which exploits the frame structure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

ACCEPTED_STATUSES = (cp.OPTIMAL, cp.OPTIMAL_INACCURATE)
STRUCTURED = "STRUCTURED"   # solve()'s name for the dedicated solver


@dataclass(frozen=True)
class Frame:
    """One image (frame) of the problem.

    Attributes:
        n_superpixels: n, the frame's number of superpixels.
        membership: ``bool`` ``(m, n)``; ``membership[i, j]`` is True iff superpixel j
            belongs to box i (j is in the set S_i of Sec. 4.1). m may be 0 only for the
            superpixel-only variant.
    """

    n_superpixels: int
    membership: np.ndarray

    def __post_init__(self) -> None:
        m = np.asarray(self.membership)
        if m.dtype != bool or m.ndim != 2:
            raise ValueError(f"membership must be a bool (m, n) array; got dtype {m.dtype} shape {m.shape}")
        if m.shape[1] != self.n_superpixels:
            raise ValueError(f"membership has {m.shape[1]} columns but the frame has "
                             f"{self.n_superpixels} superpixels")

    @property
    def n_boxes(self) -> int:
        """m, the frame's number of boxes."""
        return int(self.membership.shape[0])


@dataclass
class QPInstance:
    """A relaxed Foreground Clustering problem (see the module docstring).

    The y-part exists iff ``Q_y`` or ``c_y`` is given, the z-part iff ``Q_z`` or ``c_z`` is.
    Shapes: ``Q_y`` ``(Ny, Ny)``, ``c_y`` ``(Ny,)``, ``Q_z`` ``(Nz, Nz)``, ``c_z`` ``(Nz,)``
    with Ny = sum of ``n_superpixels`` and Nz = sum of boxes over ``frames``; quadratic
    matrices must be symmetric PSD (they are symmetrised; PSD is not re-checked).
    ``coupled`` adds constraints (8)-(10) and requires both parts.
    """

    frames: list[Frame]
    Q_y: np.ndarray | None = None
    c_y: np.ndarray | None = None
    Q_z: np.ndarray | None = None
    c_z: np.ndarray | None = None
    coupled: bool = True
    gamma: float = 0.3
    eta: float = 0.9
    n_y: int = field(init=False)
    n_z: int = field(init=False)

    def __post_init__(self) -> None:
        if not self.frames:
            raise ValueError("a QPInstance needs at least one frame")
        self.n_y = sum(f.n_superpixels for f in self.frames)
        self.n_z = sum(f.n_boxes for f in self.frames)
        self.Q_y = _check_quadratic(self.Q_y, self.n_y, "Q_y")
        self.Q_z = _check_quadratic(self.Q_z, self.n_z, "Q_z")
        self.c_y = _check_linear(self.c_y, self.n_y, "c_y")
        self.c_z = _check_linear(self.c_z, self.n_z, "c_z")
        if not (self.has_y or self.has_z):
            raise ValueError("a QPInstance needs a y-part (Q_y or c_y) or a z-part (Q_z or c_z)")
        if self.coupled and not (self.has_y and self.has_z):
            raise ValueError("coupled=True needs both the y-part (Q_y/c_y) and the z-part (Q_z/c_z)")
        if not 0 <= self.gamma <= self.eta <= 1:
            raise ValueError(f"need 0 <= gamma <= eta <= 1; got gamma={self.gamma}, eta={self.eta}")
        if self.has_z and any(f.n_boxes == 0 for f in self.frames):
            raise ValueError("every frame needs at least one box when the z-part exists (Eq. 11)")

    @property
    def has_y(self) -> bool:
        return self.Q_y is not None or self.c_y is not None

    @property
    def has_z(self) -> bool:
        return self.Q_z is not None or self.c_z is not None


def _check_quadratic(q: np.ndarray | None, n: int, name: str) -> np.ndarray | None:
    if q is None:
        return None
    q = np.asarray(q, dtype=np.float64)
    if q.shape != (n, n):
        raise ValueError(f"{name} must have shape ({n}, {n}) (the frames' total); got {q.shape}")
    if not np.all(np.isfinite(q)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return (q + q.T) / 2


def _check_linear(c: np.ndarray | None, n: int, name: str) -> np.ndarray | None:
    if c is None:
        return None
    c = np.asarray(c, dtype=np.float64)
    if c.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) (the frames' total); got {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return c


@dataclass
class Solution:
    """Solver output. ``y`` ``(Ny,)`` / ``z`` ``(Nz,)`` are clipped to [0, 1] (None for an
    absent part); ``objective`` is the optimal value; ``seconds`` the wall time of
    ``Problem.solve`` (cvxpy compilation + solver; the whole solve for "STRUCTURED");
    ``n_constraints`` counts scalar constraint rows including the variable bounds."""

    y: np.ndarray | None
    z: np.ndarray | None
    objective: float
    status: str
    seconds: float
    n_variables: int
    n_constraints: int


def frame_slices(inst: QPInstance) -> list[tuple[slice, slice]]:
    """Per frame, (slice of y, slice of z) into the stacked variables."""
    out, y0, z0 = [], 0, 0
    for f in inst.frames:
        out.append((slice(y0, y0 + f.n_superpixels), slice(z0, z0 + f.n_boxes)))
        y0, z0 = y0 + f.n_superpixels, z0 + f.n_boxes
    return out


def constraint_matrices(frame: Frame, gamma: float, eta: float) -> tuple[np.ndarray, np.ndarray]:
    """The coupling inequalities of one frame as A_y y + A_z z <= 0 (Eqs. 8-10).

    Rows 0..m-1: lower bounds of (8), gamma |S_i| z_i - sum_{j in S_i} y_j <= 0;
    rows m..2m-1: upper bounds of (8), sum_{j in S_i} y_j - eta |S_i| z_i <= 0;
    rows 2m..2m+n-1: (9), c_j y_j - sum_{i: j in S_i} z_i <= 0.
    (Superpixels in no box give an all-zero row of (9); :func:`build_problem` fixes them
    to 0, see the module docstring.)

    Returns:
        ``A_y`` ``float64`` ``(2m + n, n)`` and ``A_z`` ``float64`` ``(2m + n, m)``.
    """
    p = frame.membership.astype(np.float64)        # P: (m, n), row i = indicator of S_i
    sizes = p.sum(axis=1)                          # |S_i|
    counts = p.sum(axis=0)                         # c_j
    a_y = np.vstack([-p, p, np.diag(counts)])
    a_z = np.vstack([np.diag(gamma * sizes), np.diag(-eta * sizes), -p.T])
    return a_y, a_z


def _frame_sums(sizes: list[int]) -> sp.csr_matrix:
    """``(F, sum sizes)`` sparse matrix summing each frame's block of a stacked vector."""
    rows = np.repeat(np.arange(len(sizes)), sizes)
    return sp.csr_matrix((np.ones(len(rows)), (rows, np.arange(len(rows)))), shape=(len(sizes), len(rows)))


def _objective_term(v: cp.Variable, q: np.ndarray | None, c: np.ndarray | None) -> cp.Expression:
    term = cp.Constant(0.0)
    if q is not None:
        term = term + cp.quad_form(v, cp.psd_wrap(q))
    if c is not None:
        term = term + c @ v
    return term


def _coupling_constraint(inst: QPInstance, y: cp.Variable, z: cp.Variable) -> cp.Constraint:
    """Eqs. (8)-(9) of all frames, one sparse block-diagonal system."""
    blocks = [constraint_matrices(f, inst.gamma, inst.eta) for f in inst.frames]
    a_y = sp.block_diag([sp.csr_matrix(b[0]) for b in blocks], format="csr")
    a_z = sp.block_diag([sp.csr_matrix(b[1]) for b in blocks], format="csr")
    return a_y @ y + a_z @ z <= 0


def _y_upper_bound(inst: QPInstance) -> np.ndarray:
    """1 per superpixel, or 0 for superpixels in no box when coupled (see module docstring)."""
    if not inst.coupled:
        return np.ones(inst.n_y)
    return np.concatenate([f.membership.any(axis=0) for f in inst.frames]).astype(np.float64)


def build_problem(inst: QPInstance) -> tuple[cp.Problem, cp.Variable | None, cp.Variable | None]:
    """The cvxpy problem of ``inst`` (objective and constraints in the module docstring).

    Returns:
        (problem, y, z); y (``(Ny,)``) or z (``(Nz,)``) is None when its part is absent.
    """
    y = cp.Variable(inst.n_y, name="y") if inst.has_y else None
    z = cp.Variable(inst.n_z, name="z") if inst.has_z else None
    objective = cp.Constant(0.0)
    constraints: list[cp.Constraint] = []
    if z is not None:
        objective = objective + _objective_term(z, inst.Q_z, inst.c_z)
        constraints += [z >= 0, z <= 1, _frame_sums([f.n_boxes for f in inst.frames]) @ z == 1]
    if y is not None:
        objective = objective + _objective_term(y, inst.Q_y, inst.c_y)
        constraints += [y >= 0, y <= _y_upper_bound(inst)]
    if inst.coupled:
        constraints.append(_coupling_constraint(inst, y, z))
    elif y is not None:
        sizes = np.array([f.n_superpixels for f in inst.frames], dtype=np.float64)
        foreground = _frame_sums([f.n_superpixels for f in inst.frames]) @ y
        constraints += [foreground >= inst.gamma * sizes, foreground <= inst.eta * sizes]
    return cp.Problem(cp.Minimize(objective), constraints), y, z


def solve(inst: QPInstance, solver: str = "CLARABEL", **solver_options) -> Solution:
    """Build and solve ``inst``'s relaxed QP.

    Args:
        inst: the problem.
        solver: a cvxpy solver name ("CLARABEL", "OSQP", ...), or "STRUCTURED" for
            :func:`weakseg.methods.fc.structured_solver.solve_structured` (no cvxpy).
        **solver_options: passed to ``cvxpy.Problem.solve`` (to ``solve_structured``).

    Raises:
        RuntimeError: naming the status when it is neither optimal nor optimal_inaccurate.
    """
    if solver == STRUCTURED:
        from weakseg.methods.fc.structured_solver import solve_structured  # imports this module

        return solve_structured(inst, **solver_options)[0]
    problem, y, z = build_problem(inst)
    start = time.perf_counter()
    problem.solve(solver=solver, **solver_options)
    seconds = time.perf_counter() - start
    if problem.status not in ACCEPTED_STATUSES:
        raise RuntimeError(f"Foreground Clustering QP not solved by {solver}: status {problem.status!r}")
    return Solution(
        y=None if y is None else np.clip(y.value, 0.0, 1.0),
        z=None if z is None else np.clip(z.value, 0.0, 1.0),
        objective=float(problem.value),
        status=problem.status,
        seconds=seconds,
        n_variables=int(sum(v.size for v in problem.variables())),
        n_constraints=int(sum(c.size for c in problem.constraints)),
    )
