"""The structured solver of Foreground Clustering's relaxed QP (Sec. 4.1, Eqs. 7-11) against
known optima, the frame structure it relies on, and cvxpy + Clarabel on every variant."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from test_fc_qp import TOY, assert_feasible, planted_instance, random_frames, random_psd

from weakseg.methods.fc.problem import Frame, QPInstance, constraint_matrices, frame_slices, solve
from weakseg.methods.fc.structured_precond import BlockPreconditioner, constraint_blocks
from weakseg.methods.fc.structured_solver import solve_structured
from weakseg.methods.fc.structured_system import Objective, constraints, frame_layout

REL_GAP = 1e-4      # agreement with Clarabel's objective


def rel_gap(ours: float, reference: float) -> float:
    return abs(ours - reference) / abs(reference)


def objective_of(inst: QPInstance, y: np.ndarray | None, z: np.ndarray | None) -> float:
    """Objective (7) of the point (y, z), as the module docstring of problem.py writes it."""
    total = 0.0
    for v, q, c in ((y, inst.Q_y, inst.c_y), (z, inst.Q_z, inst.c_z)):
        total += (v @ q @ v if q is not None else 0.0) + (c @ v if c is not None else 0.0)
    return total


# ---------------------------------------------------------------- known optima


def test_coupled_hand_made_optimum():
    # Box A = {0, 1}, box B = {2, 3}, superpixel 4 in no box (rewarded most, must stay 0).
    # z_A = a: (9) y_0, y_1 <= a, (8) y_0 + y_1 <= 2 eta a = 1.8 a (binding, eta < 1), B alike
    # with 1 - a. f(a) = -1.8 + 0.0162 (a^2 + (1 - a)^2) + (1 - a) decreases on [0, 1]:
    # a = 1, y = (0.9, 0.9, 0, 0, 0), f = -1.8 + 0.01 * 2 * 0.81 = -1.7838.
    frame = Frame(5, np.array([[1, 1, 0, 0, 0], [0, 0, 1, 1, 0]], dtype=bool))
    inst = QPInstance([frame], Q_y=0.01 * np.eye(5), c_y=np.array([-1, -1, -1, -1, -5.0]),
                      c_z=np.array([0.0, 1.0]), coupled=True, gamma=0.3, eta=0.9)
    sol, stats = solve_structured(inst)
    assert sol.status == "optimal" and stats.rel_gap_bound <= 1e-6
    assert sol.objective == pytest.approx(-1.7838, rel=1e-6)
    np.testing.assert_allclose(sol.y, [0.9, 0.9, 0, 0, 0], atol=1e-4)
    np.testing.assert_allclose(sol.z, [1, 0], atol=1e-5)
    assert_feasible(inst, sol)


def test_box_saliency_lp_is_the_argmin_per_frame():
    # LP(Sal.): the optimum is the least costly box of each frame, value = sum of the minima.
    rng = np.random.default_rng(5)
    inst = QPInstance(random_frames(rng, 3, 8, 6), c_z=rng.random(18), coupled=False)
    sol, _ = solve_structured(inst)
    assert sol.y is None
    minima = [inst.c_z[zs].min() for _, zs in frame_slices(inst)]
    assert sol.objective == pytest.approx(sum(minima), rel=1e-6)
    for _, zs in frame_slices(inst):
        assert sol.z[zs][np.argmin(inst.c_z[zs])] == pytest.approx(1, abs=1e-5)


def test_superpixel_lp_takes_the_eta_share_most_rewarded():
    rng = np.random.default_rng(7)
    frames = random_frames(rng, 2, 10, 3)
    c_y = -rng.random(20)
    sol, _ = solve_structured(QPInstance(frames, c_y=c_y, coupled=False))
    for ys in (slice(0, 10), slice(10, 20)):
        expected = np.zeros(10)
        expected[np.argsort(c_y[ys])[:9]] = 1              # eta * n = 9 superpixels
        np.testing.assert_allclose(sol.y[ys], expected, atol=1e-5)


# ---------------------------------------------------------------- the frame structure


def test_layout_drops_superpixels_in_no_box_only_when_coupled():
    coupled = QPInstance([TOY, TOY], Q_y=np.eye(10), c_z=np.zeros(4), coupled=True)
    layout = frame_layout(coupled)
    np.testing.assert_array_equal(layout.y_keep, [0, 1, 2, 3, 5, 6, 7, 8])
    np.testing.assert_array_equal(layout.slots, [[0, 1, 2, 3, 8, 9], [4, 5, 6, 7, 10, 11]])
    alone = frame_layout(QPInstance([TOY], Q_y=np.eye(5), coupled=False))
    np.testing.assert_array_equal(alone.y_keep, np.arange(5))
    assert alone.z_slot.shape == (1, 0)


def test_constraint_rows_are_eqs_8_9_scaled_to_unit_norm():
    # Same feasible set as problem.constraint_matrices: G x - h = row_scale * (A_y y + A_z z)
    # on the rows of (8)-(9) that are not 0 <= 0, plus -x <= 0.
    inst = QPInstance([TOY], Q_y=np.eye(5), c_z=np.zeros(2), coupled=True, gamma=0.3, eta=0.9)
    con = constraints(inst, frame_layout(inst))
    a_y, a_z = constraint_matrices(TOY, 0.3, 0.9)
    rows = np.hstack([a_y[:8, :4], a_z[:8]])               # y_5's row 0 <= 0 and column dropped
    np.testing.assert_allclose(np.linalg.norm(con.G.toarray(), axis=1), 1.0)
    np.testing.assert_allclose(con.G.toarray()[6:] / con.row_scale[6:, None], rows, atol=1e-12)
    np.testing.assert_allclose(con.G.toarray()[:6], -np.eye(6))
    np.testing.assert_array_equal(con.h, 0)
    np.testing.assert_array_equal(con.A.toarray(), [[0, 0, 0, 0, 1, 1]])


@pytest.mark.parametrize("coupled,has_z", [(True, True), (False, False), (False, True)])
def test_constraint_blocks_are_the_frame_blocks_of_gwg(coupled, has_z):
    rng = np.random.default_rng(1)
    frames = random_frames(rng, 3, 9, 4)
    inst = QPInstance(frames, Q_y=None if has_z and not coupled else random_psd(rng, 27),
                      c_z=rng.random(12) if has_z else None, coupled=coupled)
    layout = frame_layout(inst)
    con = constraints(inst, layout)
    w = rng.random(con.m)
    dense = (con.G.T @ sp.diags(w) @ con.G).toarray()
    blocks = constraint_blocks(con, layout, w)
    inside = np.zeros_like(dense, dtype=bool)
    for f, slot in enumerate(layout.slots):
        real = slot < layout.n
        np.testing.assert_allclose(blocks[f][np.ix_(real, real)], dense[np.ix_(slot[real], slot[real])], atol=1e-12)
        inside[np.ix_(slot[real], slot[real])] = True
    np.testing.assert_array_equal(dense[~inside], 0)       # G'WG is block diagonal by frame


def test_block_preconditioner_solves_each_frame_kkt_exactly():
    rng = np.random.default_rng(2)
    inst = QPInstance(random_frames(rng, 2, 7, 3), Q_y=random_psd(rng, 14), c_y=-rng.random(14),
                      Q_z=random_psd(rng, 6), coupled=True)
    layout = frame_layout(inst)
    con = constraints(inst, layout)
    w = rng.random(con.m) + 0.1
    blocks = Objective(inst, layout).frame_blocks() + constraint_blocks(con, layout, w)
    pre = BlockPreconditioner(blocks, layout, has_equality=True)
    r, g = rng.normal(size=layout.n), rng.normal(size=2)
    u, v = pre.solve(r, g)
    for f, slot in enumerate(layout.slots):
        real = slot[slot < layout.n]
        k = blocks[f][np.ix_(slot < layout.n, slot < layout.n)]
        a = con.A.toarray()[f, real]
        kkt = np.block([[k, a[:, None]], [a[None, :], np.zeros((1, 1))]])
        expected = np.linalg.solve(kkt, np.append(r[real], g[f]))
        np.testing.assert_allclose(np.append(u[real], v[f]), expected, rtol=1e-8, atol=1e-10)


# ---------------------------------------------------------------- agreement with cvxpy + Clarabel


def variant_instances() -> dict[str, QPInstance]:
    rng = np.random.default_rng(4)
    frames = random_frames(rng, 3, 10, 5)
    return {
        "coupled": QPInstance(frames, Q_y=random_psd(rng, 30), c_y=-rng.random(30), Q_z=random_psd(rng, 15),
                              c_z=rng.random(15), coupled=True),
        "coupled_gamma0_eta1": QPInstance(frames, Q_y=random_psd(rng, 30), c_y=-rng.random(30),
                                          Q_z=random_psd(rng, 15), coupled=True, gamma=0.0, eta=1.0),
        "coupled_gamma_eq_eta": QPInstance(frames, Q_y=random_psd(rng, 30), c_y=-rng.random(30),
                                           Q_z=random_psd(rng, 15), c_z=rng.random(15), coupled=True,
                                           gamma=0.5, eta=0.5),
        "z_only": QPInstance(frames, Q_z=random_psd(rng, 15), c_z=rng.random(15), coupled=False),
        "y_only": QPInstance(frames, Q_y=random_psd(rng, 30), c_y=-rng.random(30), coupled=False),
        "full_model": planted_instance(0)[0],
    }


@pytest.mark.parametrize("name", list(variant_instances()))
def test_agrees_with_clarabel_and_is_feasible(name):
    inst = variant_instances()[name]
    reference = solve(inst, solver="CLARABEL")
    sol, stats = solve_structured(inst)
    assert rel_gap(sol.objective, reference.objective) <= REL_GAP
    assert_feasible(inst, sol)                              # every constraint to 1e-6
    assert stats.rel_gap_bound <= 1e-6
    assert objective_of(inst, sol.y, sol.z) == pytest.approx(sol.objective, rel=1e-7, abs=1e-9)


def test_full_model_finds_the_planted_boxes():
    from weakseg.methods.fc.rounding import choose_box

    inst, planted = planted_instance(1)
    sol, _ = solve_structured(inst)
    assert [choose_box(sol.z[zs]) for _, zs in frame_slices(inst)] == planted


def test_solve_dispatches_structured():
    inst = variant_instances()["coupled"]
    sol = solve(inst, solver="STRUCTURED", rel_gap=1e-8)
    assert sol.status == "optimal" and sol.y.shape == (30,) and sol.z.shape == (15,)
    assert rel_gap(sol.objective, solve(inst).objective) <= 1e-6


def test_reports_no_convergence():
    with pytest.raises(RuntimeError, match="not solved by the structured solver in 2 iterations"):
        solve_structured(variant_instances()["coupled"], max_iter=2)
