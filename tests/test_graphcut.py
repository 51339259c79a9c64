"""Shared graph cuts (weakseg.graphcut) and colour GMMs (weakseg.gmm) against brute force and known answers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from weakseg.gmm import ColourGMM, component_stats, fit_gmm, kmeans_components, temporal_weights
from weakseg.graphcut import (
    PairwiseEdges,
    alpha_expansion,
    binary_cut,
    contrast_scale,
    grid_edges,
    grid_sq_differences,
    pair_edges,
    potts_energy,
)


def _energies(labelings: np.ndarray, unary: np.ndarray, edges: PairwiseEdges) -> np.ndarray:
    """Energy of every row of ``labelings`` (L, N) under unary (K, N) and Potts ``edges``."""
    n = labelings.shape[1]
    data = unary[labelings, np.arange(n)].sum(axis=1)
    return data + ((labelings[:, edges.first] != labelings[:, edges.second]) * edges.weight).sum(axis=1)


def _all_labelings(k: int, n: int) -> np.ndarray:
    return np.array(list(itertools.product(range(k), repeat=n)))


def _random_grid(rng: np.random.Generator, h: int, w: int, lam: float) -> tuple[np.ndarray, PairwiseEdges]:
    colours = rng.uniform(0, 1, (1, h, w, 3))
    return colours, grid_edges(colours, lam, contrast_scale(grid_sq_differences(colours)))


@pytest.mark.parametrize("seed", range(8))
def test_binary_cut_reaches_the_brute_force_minimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    colours, edges = _random_grid(rng, 3, 4, lam=1.0)
    relaxed = rng.uniform(size=(1, 3, 4)) < 0.3
    edges = grid_edges(colours, 1.0, contrast_scale(grid_sq_differences(colours)), relaxed)
    unary = rng.normal(0, 1, (2, 1, 3, 4))
    cut = binary_cut(unary[0], unary[1], edges)
    assert cut.shape == (1, 3, 4) and cut.dtype == np.bool_
    flat = unary.reshape(2, -1)
    best = _energies(_all_labelings(2, 12), flat, edges).min()
    assert potts_energy(cut.astype(int), unary, edges) == pytest.approx(best, abs=1e-9)


def test_binary_cut_on_a_superpixel_graph() -> None:
    rng = np.random.default_rng(3)
    pairs = np.array([(a, b) for a in range(10) for b in range(a + 1, 10) if rng.uniform() < 0.35])
    edges = pair_edges(rng.uniform(0, 1, (10, 3)), pairs, lam=0.8)
    cost0, cost1 = rng.normal(0, 1, 10), rng.normal(0, 1, 10)
    cut = binary_cut(cost0, cost1, edges)
    assert cut.shape == (10,)
    unary = np.stack([cost0, cost1])
    best = _energies(_all_labelings(2, 10), unary, edges).min()
    assert potts_energy(cut.astype(int), unary, edges) == pytest.approx(best, abs=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_alpha_expansion_finds_the_optimum_of_easy_instances(seed: int) -> None:
    rng = np.random.default_rng(seed)
    _, edges = _random_grid(rng, 3, 3, lam=0.4)
    truth = rng.integers(0, 3, 9)
    unary = 1.0 + rng.uniform(0, 0.5, (3, 9))
    unary[truth, np.arange(9)] = rng.uniform(0, 0.5, 9)  # the true label is clearly cheapest
    unary[:, 4] = 1.0  # ... except at the centre, decided by its neighbours
    labels = alpha_expansion(unary.reshape(3, 3, 3), edges)
    assert labels.shape == (3, 3) and labels.dtype == np.int64
    best = _energies(_all_labelings(3, 9), unary, edges).min()
    assert potts_energy(labels, unary, edges) == pytest.approx(best, abs=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_alpha_expansion_is_an_expansion_local_minimum_within_twice_the_optimum(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    _, edges = _random_grid(rng, 3, 3, lam=1.5)
    unary = rng.uniform(0, 1, (3, 9))
    labels = alpha_expansion(unary.reshape(3, 3, 3), edges).ravel()
    energy = potts_energy(labels, unary, edges)
    assert energy <= 2 * _energies(_all_labelings(3, 9), unary, edges).min() + 1e-9
    switch = _all_labelings(2, 9).astype(bool)  # every expansion move, by brute force
    for alpha in range(3):
        moves = np.where(switch, alpha, labels[None])
        assert _energies(moves, unary, edges).min() >= energy - 1e-9


def test_alpha_expansion_with_two_labels_equals_the_graph_cut() -> None:
    rng = np.random.default_rng(7)
    _, edges = _random_grid(rng, 6, 7, lam=1.0)
    unary = rng.normal(0, 1, (2, 6, 7))
    cut = binary_cut(unary[0], unary[1], edges)
    expanded = alpha_expansion(unary, edges)
    assert potts_energy(expanded, unary, edges) == pytest.approx(potts_energy(cut.astype(int), unary, edges))


def test_grid_edges_weights_and_relaxed_band() -> None:
    rng = np.random.default_rng(0)
    t, h, w = 2, 4, 5
    colours = rng.uniform(0, 1, (t, h, w, 3))
    scale = contrast_scale(grid_sq_differences(colours))
    full = grid_edges(colours, 50.0, scale)
    assert full.weight.size == t * (h * (w - 1) + (h - 1) * w + 2 * (h - 1) * (w - 1))
    flat = colours.reshape(-1, 3)
    for e in (0, 17, full.weight.size - 1):  # hand formula on a few edges
        i, j = full.first[e], full.second[e]
        (ti, yi, xi), (tj, yj, xj) = np.unravel_index(i, (t, h, w)), np.unravel_index(j, (t, h, w))
        assert ti == tj and max(abs(yi - yj), abs(xi - xj)) == 1
        expected = 50.0 / np.hypot(yi - yj, xi - xj) * np.exp(-scale * np.sum((flat[i] - flat[j]) ** 2))
        assert full.weight[e] == pytest.approx(expected)
    relaxed = rng.uniform(size=(t, h, w)) < 0.5
    cut = grid_edges(colours, 50.0, scale, relaxed)
    both = relaxed.ravel()[full.first] & relaxed.ravel()[full.second]
    assert both.any() and (~both).any()
    assert np.all(cut.weight[both] == 0) and np.array_equal(cut.weight[~both], full.weight[~both])
    assert np.all(full.weight > 0)


def test_contrast_scale_is_grabcut_beta() -> None:
    colours = np.zeros((1, 2, 2, 3))
    colours[0, 0, 0] = [1.0, 0.0, 0.0]  # differences: two pairs with ||dz||^2 = 1, two with 0
    sq = grid_sq_differences(colours)
    assert sorted(sq.tolist()) == [0.0, 0.0, 1.0, 1.0]
    assert contrast_scale(sq, gamma=0.5) == pytest.approx(1.0 / (2 * 0.5))  # GrabCut: 1 / (2 <dz^2>)
    assert contrast_scale(sq, gamma=0.5, normalise=False) == 0.5


def test_bad_edges_are_rejected() -> None:
    edges = PairwiseEdges(np.array([0]), np.array([5]), np.array([1.0]))
    with pytest.raises(ValueError, match="node indices"):
        binary_cut(np.zeros(3), np.zeros(3), edges)
    with pytest.raises(ValueError, match="non-negative"):
        alpha_expansion(np.zeros((3, 2)), PairwiseEdges(np.array([0]), np.array([1]), np.array([-1.0])))


# --------------------------------------------------------------------------- GMMs


def _two_clusters(rng: np.random.Generator, n: int = 600) -> tuple[np.ndarray, np.ndarray]:
    """Reddish and bluish colours (n each), and a bool marking the bluish ones."""
    red = np.clip(rng.normal([0.8, 0.2, 0.2], 0.05, (n, 3)), 0, 1)
    blue = np.clip(rng.normal([0.2, 0.3, 0.9], 0.05, (n, 3)), 0, 1)
    return np.concatenate([red, blue]), np.r_[np.zeros(n, bool), np.ones(n, bool)]


def test_weighted_gmm_ignores_a_zero_weight_cluster() -> None:
    colours, blue = _two_clusters(np.random.default_rng(0))
    weighted = fit_gmm(colours, np.where(blue, 0.0, 1.0), n_components=3, max_samples=2000)
    assert np.all(np.abs(weighted.means[0] - [0.8, 0.2, 0.2]).max(axis=1) < 0.1)
    nll = weighted.nll(colours)[0]
    assert nll[blue].min() > nll[~blue].max() + 20
    both = fit_gmm(colours, n_components=3)
    assert np.median(both.nll(colours)[0][blue]) < np.median(nll[blue]) - 20


def test_mixed_statistics_ignore_a_zero_weight_group() -> None:
    colours, blue = _two_clusters(np.random.default_rng(1))
    components = kmeans_components(colours, 2, seed=0)
    stats = component_stats(colours, components, blue.astype(int), n_groups=2, n_components=2)
    only_red = stats.mix(np.array([[1.0, 0.0]])).gmm()
    red_stats = component_stats(colours[~blue], components[~blue], np.zeros((~blue).sum(), int), 1, 2)
    reference = red_stats.gmm()
    assert np.allclose(only_red.log_weights, reference.log_weights)
    assert np.allclose(only_red.means, reference.means)
    assert np.isneginf(only_red.log_weights).sum() == 1  # the blue component got weight 0


def test_statistics_gmm_has_the_sample_mean_and_covariance() -> None:
    rng = np.random.default_rng(2)
    colours = rng.uniform(0, 1, (500, 3))
    model = component_stats(colours, np.zeros(500, int), np.zeros(500, int), 1, 1).gmm(reg_covar=1e-3)
    expected = multivariate_normal(colours.mean(axis=0), np.cov(colours.T, bias=True) + 1e-3 * np.eye(3))
    assert np.allclose(model.nll(colours)[0], -expected.logpdf(colours))


def test_component_log_prob_matches_scipy_mixture() -> None:
    rng = np.random.default_rng(3)
    means = rng.uniform(0, 1, (2, 3))
    covs = [np.diag([0.01, 0.02, 0.03]), np.array([[0.02, 0.01, 0], [0.01, 0.03, 0], [0, 0, 0.01]])]
    weights = np.array([0.3, 0.7])
    chol = np.stack([np.linalg.inv(np.linalg.cholesky(c)).T for c in covs])
    model = ColourGMM(np.log(weights)[None], means[None], chol[None])
    x = rng.uniform(0, 1, (50, 3))
    density = sum(wk * multivariate_normal(m, c).pdf(x) for wk, m, c in zip(weights, means, covs))
    assert np.allclose(model.nll(x)[0], -np.log(density))


def test_fit_gmm_is_deterministic_given_the_seed() -> None:
    colours, _ = _two_clusters(np.random.default_rng(4), 3000)
    a, b = fit_gmm(colours, max_samples=1000, seed=5), fit_gmm(colours, max_samples=1000, seed=5)
    assert np.array_equal(a.means, b.means) and np.array_equal(a.precision_chol, b.precision_chol)


def test_temporal_weights_are_inverse_distance() -> None:
    w = temporal_weights(np.array([0, 2, 7]))
    assert np.allclose(w, [[1, 1 / 3, 1 / 8], [1 / 3, 1, 1 / 6], [1 / 8, 1 / 6, 1]])
