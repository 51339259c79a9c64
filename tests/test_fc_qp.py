"""Known-answer tests for Foreground Clustering's QP: matrices (Eqs. 4-6), constraints
(Eqs. 8-11, toy example of Sec. 8.1), the cvxpy solve and the rounding (Sec. 8.2)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from weakseg.methods.fc.matrices import (
    centring,
    discriminative_kernel,
    discriminative_linear,
    histogram_matching,
    normalised_laplacian,
    saliency_cost,
    similarity_laplacian,
    similarity_weights,
    trace_normalise,
)
from weakseg.methods.fc.problem import (
    Frame,
    QPInstance,
    build_problem,
    constraint_matrices,
    frame_slices,
    solve,
)
from weakseg.methods.fc.rounding import choose_box, ncut_score, round_superpixels

GAMMA, ETA = 0.3, 0.9
TOL = 1e-6

# Sec. 8.1: 5 superpixels, box 1 = {1, 3, 4}, box 2 = {1, 2, 4} (1-based) -> 0-based rows.
TOY = Frame(5, np.array([[1, 0, 1, 1, 0],
                         [1, 1, 0, 1, 0]], dtype=bool))


def min_eig_ratio(a: np.ndarray) -> float:
    """Smallest eigenvalue relative to the largest magnitude (>= -1e-9 for a PSD matrix)."""
    eig = np.linalg.eigvalsh(a)
    return eig.min() / max(np.abs(eig).max(), 1e-300)


# ---------------------------------------------------------------- constraints (Sec. 8.1)


def test_toy_example_constraint_rows():
    a_y, a_z = constraint_matrices(TOY, GAMMA, ETA)
    # Eq. (8), lower bounds: gamma*3 z1 <= y1 + y3 + y4 ; gamma*3 z2 <= y1 + y2 + y4.
    # Eq. (8), upper bounds: y1 + y3 + y4 <= eta*3 z1 ; y1 + y2 + y4 <= eta*3 z2.
    # (Sec. 8.1 writes (1 - gamma) for the upper bound, Eq. 8 writes eta: we follow Eq. 8.)
    # Eq. (9): 2 y1 <= z1 + z2 ; y2 <= z2 ; y3 <= z1 ; 2 y4 <= z1 + z2 ; y5 in no box: 0 <= 0.
    expected_y = np.array([
        [-1, 0, -1, -1, 0],
        [-1, -1, 0, -1, 0],
        [1, 0, 1, 1, 0],
        [1, 1, 0, 1, 0],
        [2, 0, 0, 0, 0],
        [0, 1, 0, 0, 0],
        [0, 0, 1, 0, 0],
        [0, 0, 0, 2, 0],
        [0, 0, 0, 0, 0],
    ], dtype=float)
    expected_z = np.array([
        [GAMMA * 3, 0],
        [0, GAMMA * 3],
        [-ETA * 3, 0],
        [0, -ETA * 3],
        [-1, -1],
        [0, -1],
        [-1, 0],
        [-1, -1],
        [0, 0],
    ])
    np.testing.assert_array_equal(a_y, expected_y)
    np.testing.assert_allclose(a_z, expected_z, rtol=0, atol=1e-15)


def test_toy_example_feasible_and_infeasible_points():
    a_y, a_z = constraint_matrices(TOY, GAMMA, ETA)
    # Box 1 foreground with superpixel 3 only: 0.9 <= 1 <= 2.7, y3 <= z1, box 2 empty.
    good_y, good_z = np.array([0, 0, 1, 0, 0.0]), np.array([1, 0.0])
    assert np.all(a_y @ good_y + a_z @ good_z <= 0)
    # Superpixel 1 is in both boxes: 2 y1 <= z1 + z2 forbids y1 = 1 with one box (Eq. 9).
    bad_y = np.array([1, 0, 1, 0, 0.0])
    assert np.any(a_y @ bad_y + a_z @ good_z > 0)


def test_toy_superpixel_in_no_box_is_background():
    # y5 is rewarded most, but it is in no box, so the coupled QP must keep it at 0.
    inst = QPInstance([TOY], Q_y=0.1 * np.eye(5), c_y=np.array([-1, -1, -1, -1, -5.0]),
                      Q_z=0.1 * np.eye(2), coupled=True)
    sol = solve(inst)
    assert sol.y[4] <= TOL
    assert sol.y[:4].max() > 0.1


# ---------------------------------------------------------------- matrices (Eqs. 4-6)


@pytest.mark.parametrize("n,d", [(6, 20), (20, 6)])  # Woodbury (n < d) and direct (n >= d) forms
def test_discriminative_linear_matches_eq4(n, d):
    rng = np.random.default_rng(n)
    X = rng.normal(size=(n, d)) + 3.0
    beta = 0.7
    xc = centring(n) @ X
    direct = np.eye(n) - xc @ np.linalg.inv(xc.T @ xc + beta * np.eye(d)) @ xc.T
    np.testing.assert_allclose(discriminative_linear(X, beta), direct, atol=1e-10)


def test_discriminative_kernel_is_centred_linear():
    rng = np.random.default_rng(1)
    n = 9
    X = rng.normal(size=(n, 4))
    d_lin = discriminative_linear(X, 0.5)
    d_ker = discriminative_kernel(X @ X.T, 0.5)
    pi = centring(n)
    np.testing.assert_allclose(d_ker, pi @ d_lin @ pi, atol=1e-12)
    np.testing.assert_allclose(d_lin - d_ker, np.full((n, n), 1.0 / n), atol=1e-12)
    np.testing.assert_allclose(d_ker @ np.ones(n), 0, atol=1e-12)


def test_similarity_laplacian_matches_eq5_by_hand():
    p = np.array([[0, 0], [3, 4], [0, 10.0]])
    c = np.array([[0, 0, 0], [1, 0, 0], [0, 0, 2.0]])
    lp, lc = 0.01, 0.5
    w01, w02, w12 = np.exp(-lp * 25 - lc * 1), np.exp(-lp * 100 - lc * 4), np.exp(-lp * 45 - lc * 5)
    w = np.array([[0, w01, w02], [w01, 0, w12], [w02, w12, 0]])
    np.testing.assert_allclose(similarity_weights(p, c, lp, lc), w, rtol=1e-12)
    q = np.diag(1 / np.sqrt(w.sum(axis=1)))
    np.testing.assert_allclose(similarity_laplacian(p, c, lp, lc), np.eye(3) - q @ w @ q, atol=1e-12)


def test_normalised_laplacian_isolated_node_is_unpenalised():
    w = np.array([[0, 2, 0], [2, 0, 0], [0, 0, 0.0]])
    np.testing.assert_allclose(normalised_laplacian(w), [[1, -1, 0], [-1, 1, 0], [0, 0, 0]], atol=1e-12)


def test_quadratic_matrices_are_psd():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 12))
    A = rng.random((30, 50))
    chi2_like = A @ A.T                     # any Gram matrix is a valid kernel
    hists = [rng.integers(0, 20, size=(n, 27)) for n in (7, 11, 5)]
    matrices = {
        "D linear (n > d)": discriminative_linear(X, 0.3),
        "D linear (n < d)": discriminative_linear(X[:8], 0.3),
        "D kernel": discriminative_kernel(chi2_like, 0.3),
        "Laplacian": similarity_laplacian(rng.uniform(0, 100, (30, 2)), rng.uniform(0, 20, (30, 3))),
        "F": histogram_matching(hists),
    }
    for name, m in matrices.items():
        np.testing.assert_allclose(m, m.T, atol=1e-12, err_msg=name)
        assert min_eig_ratio(m) >= -1e-9, name


def test_histogram_matching_equals_pairwise_brute_force():
    rng = np.random.default_rng(3)
    hists = [rng.integers(0, 30, size=(n, 8)) for n in (4, 6, 5)]
    F = histogram_matching(hists)
    assert F.shape == (15, 15)
    for _ in range(3):
        ys = [rng.random(len(h)) for h in hists]
        fg = [h.T @ y / h.sum() for h, y in zip(hists, ys)]     # foreground histogram, fraction of frame
        brute = sum(np.sum((fg[i] - fg[j]) ** 2) for i in range(3) for j in range(i + 1, 3))
        y = np.concatenate(ys)
        assert y @ F @ y == pytest.approx(brute, rel=1e-10)
    np.testing.assert_array_equal(histogram_matching(hists[:1]), np.zeros((4, 4)))


def test_saliency_cost_and_trace_normalise_values():
    np.testing.assert_allclose(saliency_cost(np.array([1.0, np.exp(-2), 0.0, 1.5])),
                               [0, 2, -np.log(1e-3), 0], atol=1e-12)
    np.testing.assert_allclose(trace_normalise(np.diag([1.0, 3.0])), np.diag([0.25, 0.75]))
    zero = np.array([[1.0, 2.0], [2.0, -1.0]])
    np.testing.assert_array_equal(trace_normalise(zero), zero)


# ---------------------------------------------------------------- the QP


def random_frames(rng: np.random.Generator, n_frames: int, n: int, m: int) -> list[Frame]:
    """Frames whose random boxes cover superpixels 0..n-3 (the last two are in no box)."""
    frames = []
    for _ in range(n_frames):
        mem = np.zeros((m, n), dtype=bool)
        for i in range(m):
            mem[i, rng.choice(n - 2, rng.integers(2, n - 2), replace=False)] = True
        frames.append(Frame(n, mem))
    return frames


def random_psd(rng: np.random.Generator, k: int) -> np.ndarray:
    a = rng.normal(size=(k, k))
    return trace_normalise(a @ a.T)


def assert_feasible(inst: QPInstance, sol) -> None:
    """Every constraint of the module docstring of problem.py, checked numerically."""
    for frame, (ys, zs) in zip(inst.frames, frame_slices(inst)):
        if inst.has_z:
            z = sol.z[zs]
            assert np.all((z >= -TOL) & (z <= 1 + TOL))
            assert z.sum() == pytest.approx(1, abs=TOL)                                 # (11)
        if inst.has_y:
            y = sol.y[ys]
            assert np.all((y >= -TOL) & (y <= 1 + TOL))
        if inst.coupled:
            a_y, a_z = constraint_matrices(frame, inst.gamma, inst.eta)
            assert np.all(a_y @ y + a_z @ z <= TOL)                                     # (8), (9)
            assert np.all(y[~frame.membership.any(axis=0)] <= TOL)                      # in no box
        elif inst.has_y:
            n = frame.n_superpixels
            assert inst.gamma * n - TOL <= y.sum() <= inst.eta * n + TOL               # size bounds


def test_solve_coupled_is_feasible():
    rng = np.random.default_rng(4)
    frames = random_frames(rng, 3, 10, 5)
    inst = QPInstance(frames, Q_y=random_psd(rng, 30), c_y=-rng.random(30),
                      Q_z=random_psd(rng, 15), c_z=rng.random(15), coupled=True)
    sol = solve(inst)
    assert sol.status == "optimal"
    assert (sol.n_variables, sol.y.shape, sol.z.shape) == (45, (30,), (15,))
    assert_feasible(inst, sol)
    assert sol.objective == pytest.approx(sol.y @ inst.Q_y @ sol.y + inst.c_y @ sol.y
                                          + sol.z @ inst.Q_z @ sol.z + inst.c_z @ sol.z, abs=1e-6)


def test_solve_box_only_saliency_is_the_lp_argmin():
    # LP(Sal.): with only the box saliency term, each frame's solution is the vertex of
    # its simplex at the least costly box.
    rng = np.random.default_rng(5)
    frames = random_frames(rng, 3, 8, 6)
    c_z = rng.random(18)
    inst = QPInstance(frames, c_z=c_z, coupled=False)
    sol = solve(inst)
    assert sol.y is None
    assert_feasible(inst, sol)
    for _, zs in frame_slices(inst):
        expected = np.zeros(6)
        expected[np.argmin(c_z[zs])] = 1
        np.testing.assert_allclose(sol.z[zs], expected, atol=1e-6)


def test_solve_box_only_quadratic_is_feasible():
    rng = np.random.default_rng(6)
    inst = QPInstance(random_frames(rng, 2, 8, 6), Q_z=random_psd(rng, 12), c_z=rng.random(12), coupled=False)
    assert_feasible(inst, solve(inst))


def test_solve_superpixel_only_size_bounds():
    # With only a linear reward, the y-only QP takes the eta * n most rewarded superpixels.
    rng = np.random.default_rng(7)
    frames = random_frames(rng, 2, 10, 3)
    c_y = -rng.random(20)
    inst = QPInstance(frames, c_y=c_y, coupled=False)
    sol = solve(inst)
    assert sol.z is None
    assert_feasible(inst, sol)
    for ys, _ in frame_slices(inst):
        expected = np.zeros(10)
        expected[np.argsort(c_y[ys])[:9]] = 1          # eta * n = 9 superpixels
        np.testing.assert_allclose(sol.y[ys], expected, atol=1e-6)
    quad = QPInstance(frames, Q_y=random_psd(rng, 20), c_y=c_y, coupled=False)
    assert_feasible(quad, solve(quad))


@pytest.mark.filterwarnings("ignore:Solution may be inaccurate")
def test_solve_reports_unsolved_status():
    inst = QPInstance([TOY], Q_y=np.eye(5), c_y=-np.ones(5), Q_z=np.eye(2), coupled=True)
    with pytest.raises(RuntimeError, match="user_limit"):
        solve(inst, max_iter=1)


def test_bad_instances_raise():
    with pytest.raises(ValueError, match="Q_y must have shape"):
        QPInstance([TOY], Q_y=np.eye(4), c_z=np.zeros(2))
    with pytest.raises(ValueError, match="coupled=True needs both"):
        QPInstance([TOY], Q_y=np.eye(5), coupled=True)
    with pytest.raises(ValueError, match="5 superpixels"):
        Frame(5, np.zeros((2, 4), dtype=bool))
    with pytest.raises(ValueError, match="bool"):
        Frame(5, np.zeros((2, 5)))


def planted_instance(seed: int, n_frames: int = 4, m: int = 10, n: int = 12, d: int = 512):
    """Frames with one planted box each, weighted as the paper (Sec. 5) and the authors' code.

    Planted box: 4 superpixels among 0..9 (10, 11 are in no box), features = a shared unit
    direction u plus small noise; its superpixels are salient (M = 0.9, else 0.1), share
    a feature direction v and a colour histogram. Other boxes: random 3-5 superpixels and
    random features. Box saliency is noisy: the planted box has M ~ 0.6, others U(0.2, 0.8),
    so the most salient box (LP(Sal.)) is usually wrong.
    """
    rng = np.random.default_rng(seed)
    u, v = (w / np.linalg.norm(w) for w in rng.normal(size=(2, d)))
    frames, planted, box_feats, sp_feats, hists, laplacians, sp_sal, box_sal = [], [], [], [], [], [], [], []
    for _ in range(n_frames):
        p, fg = int(rng.integers(m)), rng.choice(10, 4, replace=False)
        mem = np.zeros((m, n), dtype=bool)
        mem[p, fg] = True
        for i in set(range(m)) - {p}:
            mem[i, rng.choice(10, rng.integers(3, 6), replace=False)] = True
        frames.append(Frame(n, mem))
        planted.append(p)
        bf = rng.normal(size=(m, d))
        bf[p] = u + 0.3 * rng.normal(size=d) / np.sqrt(d)
        box_feats.append(bf / np.linalg.norm(bf, axis=1, keepdims=True))
        sf = rng.normal(size=(n, d))
        sf[fg] = v + 0.3 * rng.normal(size=(4, d)) / np.sqrt(d)
        sp_feats.append(sf / np.linalg.norm(sf, axis=1, keepdims=True))
        h = rng.integers(0, 5, size=(n, 20)).astype(float)
        h[fg] = 0
        h[fg, :2] = 10
        hists.append(h)
        laplacians.append(similarity_laplacian(rng.uniform(0, 100, (n, 2)), rng.uniform(0, 10, (n, 3))))
        sp_sal.append(np.where(np.isin(np.arange(n), fg), 0.9, 0.1))
        box_sal.append(np.where(np.arange(m) == p, rng.uniform(0.55, 0.65), rng.uniform(0.2, 0.8, m)))
    n_y, n_z = n_frames * n, n_frames * m
    xs = np.vstack(sp_feats)
    mu, kappa, alpha, lam, nu, ridge = 0.01, 10.0, 0.1, 10.0, 0.001, 0.01
    q_y = (trace_normalise(discriminative_kernel(xs @ xs.T, ridge * n_y))
           + kappa * trace_normalise(histogram_matching(hists))
           + alpha * trace_normalise(scipy.linalg.block_diag(*laplacians)))
    s_y, s_z = saliency_cost(np.concatenate(sp_sal)), saliency_cost(np.concatenate(box_sal))
    inst = QPInstance(frames, Q_y=q_y, c_y=mu * s_y / s_y.sum(),
                      Q_z=lam * trace_normalise(discriminative_linear(np.vstack(box_feats), ridge * n_z)),
                      c_z=lam * nu * s_z / s_z.sum(), coupled=True)
    return inst, planted


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_full_model_finds_planted_boxes(seed):
    inst, planted = planted_instance(seed)
    sol = solve(inst)
    assert_feasible(inst, sol)
    assert [choose_box(sol.z[zs]) for _, zs in frame_slices(inst)] == planted
    # The instance is not solved by box saliency alone (LP(Sal.)).
    assert [int(np.argmin(inst.c_z[zs])) for _, zs in frame_slices(inst)] != planted


def test_build_problem_parts():
    inst = QPInstance([TOY], c_z=np.zeros(2), coupled=False)
    problem, y, z = build_problem(inst)
    assert y is None and z.shape == (2,)
    assert problem.is_dcp()


# ---------------------------------------------------------------- rounding (Sec. 8.2)


def test_choose_box_is_argmax():
    assert choose_box(np.array([0.1, 0.5, 0.2, 0.5])) == 1


def test_ncut_score_by_hand():
    w = np.array([[0, 3, 1, 0],
                  [3, 0, 0, 1],
                  [1, 0, 0, 2],
                  [0, 1, 2, 0.0]])
    # A = {0, 1}: cut = w02 + w13 = 2; assoc(A) = 4 + 4; assoc(B) = 3 + 3.
    assert ncut_score(np.array([1, 1, 0, 0], bool), w) == pytest.approx(2 / 8 + 2 / 6)
    # A = {0, 2}: cut = w01 + w23 = 5; assoc(A) = assoc(B) = 7.
    assert ncut_score(np.array([1, 0, 1, 0], bool), w) == pytest.approx(10 / 7)
    assert ncut_score(np.ones(4, bool), w) == np.inf
    assert ncut_score(np.zeros(4, bool), w) == np.inf


def test_round_superpixels_recovers_high_y_cluster():
    # Clusters {0, 1, 2} and {3..7}: weight 1 inside, 0.01 across. The chosen box holds
    # superpixels 0..5; superpixel 6 (outside the box) has the highest y but must stay
    # background. Normalised candidate y: (1, .5, .556 | .333, .444, .111): a fixed 0.5
    # threshold would drop superpixel 1; the normalised cut keeps the whole cluster.
    cluster = np.array([0, 0, 0, 1, 1, 1, 1, 1])
    w = np.where(cluster[:, None] == cluster[None, :], 1.0, 0.01)
    np.fill_diagonal(w, 0)
    y = np.array([0.9, 0.45, 0.5, 0.3, 0.4, 0.1, 1.0, 0.2])
    candidates = np.array([1, 1, 1, 1, 1, 1, 0, 0], bool)
    np.testing.assert_array_equal(round_superpixels(y, candidates, w), cluster == 0)


def test_round_superpixels_degenerate_cases():
    w = np.ones((4, 4)) - np.eye(4)
    box = np.array([1, 1, 0, 0], bool)
    np.testing.assert_array_equal(round_superpixels(np.array([0.2, 0.2, 0.9, 0.0]), box, w), box)
    np.testing.assert_array_equal(round_superpixels(np.ones(4), np.zeros(4, bool), w), np.zeros(4, bool))
