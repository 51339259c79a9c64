"""SSNM modulators (Sec. 3.2-3.3): the spatial eigenvector masks against dense oracles and planted
clusters, the gradient of l_spa against finite differences, HSP shapes and the BCE of eq. 12."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from weakseg.methods.ssnm.semantic import HierarchicalSOP, SemanticModulator, semantic_loss
from weakseg.methods.ssnm.spatial import (
    SpatialModulator,
    modulation_maps,
    orient,
    position_vectors,
    spatial_loss,
    spatial_masks,
)


def _planted_group(seed: int = 0, noise: float = 0.1) -> tuple[torch.Tensor, np.ndarray]:
    """Features (3, 8, 8, 8) float64 of a group of N=3 8x8 images, d=8: a rectangle per image (away from
    the border) with vector a + noise, the rest b + noise, a and b non-negative; and the blobs (3, 8, 8) bool."""
    rng = np.random.default_rng(seed)
    a, b = np.abs(rng.normal(size=8)), np.abs(rng.normal(size=8))
    blob = np.zeros((3, 8, 8), dtype=bool)
    for n, (y, x, hh, ww) in enumerate([(2, 2, 3, 4), (3, 4, 4, 3), (1, 3, 3, 3)]):
        blob[n, y:y + hh, x:x + ww] = True
    features = np.where(blob[:, None], a[None, :, None, None], b[None, :, None, None])
    return torch.from_numpy(features + noise * rng.normal(size=features.shape)), blob


def _relu_features(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    """Non-negative (post-ReLU-like) float64 features: every off-diagonal G_ij <= 0."""
    return torch.relu(torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64))


def _dense_g(features: torch.Tensor) -> np.ndarray:
    """The explicit whN x whN matrix G = X'X - 1 of one group (N, d, h, w)."""
    x = position_vectors(features[None])[0].numpy()
    return x.T @ x - 1.0


def test_eigenvector_mask_separates_two_feature_clusters_planted_in_a_toy_group():
    features, blob = _planted_group()
    for rule in ("border", "minority"):
        masks = spatial_masks(features, sign_rule=rule).masks
        assert masks.shape == (3, 8, 8)
        np.testing.assert_array_equal(masks.numpy() > 0, blob)
        assert float(masks.square().sum()) == pytest.approx(1.0, abs=1e-9)
    maps = modulation_maps(spatial_masks(features).masks)
    np.testing.assert_allclose(maps.abs().amax(dim=(1, 2)).numpy(), 1.0)
    np.testing.assert_array_equal(maps.numpy() > 0, blob)
    # a float32 batch of two groups, the second mirrored left-right with other a, b and noise
    other, other_blob = _planted_group(seed=2)
    masks = spatial_masks(torch.stack([features, other.flip(-1)]).float()).masks
    assert masks.dtype == torch.float32 and masks.shape == (2, 3, 8, 8)
    np.testing.assert_array_equal(masks.numpy() > 0, np.stack([blob, other_blob[..., ::-1]]))


def test_the_matrix_free_eigen_solve_matches_a_dense_eigendecomposition_on_a_small_group():
    features = _relu_features((2, 3, 16, 6, 6), seed=0)
    result = spatial_masks(features, tol=1e-10)
    for b in range(2):
        values, vectors = np.linalg.eigh(_dense_g(features[b]))
        m = values.size
        # the case the solver must handle: the only negative eigenvalue dominates in magnitude, so
        # plain power iteration on G would converge to it; the spectrum lies in [-whN, whN]
        assert -values[0] > 5 * values[-1] > 0 and values[1] > -1e-9 and values[0] >= -m
        assert float(result.eigenvalue[b]) == pytest.approx(values[-1], rel=1e-5)
        np.testing.assert_allclose(np.abs(result.masks[b].numpy().ravel()), np.abs(vectors[:, -1]), atol=1e-6)
        alone = spatial_masks(features[b], tol=1e-10)
        np.testing.assert_allclose(alone.masks.numpy(), result.masks[b].numpy(), atol=1e-6)
    again = spatial_masks(features, tol=1e-10)
    assert torch.equal(again.masks, result.masks) and again.iterations == result.iterations
    assert bool((result.residual <= 1e-10 * result.eigenvalue).all())


def test_sign_rules_border_then_minority_then_largest_entry():
    border_negative = -torch.ones(1, 1, 4, 4)
    border_negative[0, 0, 1:3, 1:3] = 3.0
    torch.testing.assert_close(orient(border_negative, "border"), border_negative)
    torch.testing.assert_close(orient(-border_negative, "border"), border_negative)
    # border mean 0: the minority rule decides (9 positive, 7 negative -> flip)
    balanced = torch.tensor([[1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 2.0, -1.0], [-1.0, 2.0, -1.0, -1.0],
                             [-1.0, -1.0, -1.0, 1.0]])[None, None]
    torch.testing.assert_close(orient(balanced, "border"), -balanced)
    # border mean < 0 keeps the sign; minority alone ignores the border and flips (24 positive, 12 negative)
    majority = torch.ones(1, 1, 6, 6)
    majority[0, 0, 0, :] = majority[0, 0, -1, :] = majority[0, 0, 1:-1, 0] = -1.0
    majority[0, 0, 1:-1, -1] = 0.1
    torch.testing.assert_close(orient(majority, "border"), majority)
    torch.testing.assert_close(orient(majority, "minority"), -majority)
    # 2 positive, 2 negative: the largest |entry| becomes positive
    tie = torch.tensor([[0.5, -3.0], [1.0, -0.2]])[None, None]
    torch.testing.assert_close(orient(tie, "minority"), -tie)
    with pytest.raises(ValueError, match="sign_rule"):
        orient(tie, "center")


def test_gradient_of_l_spa_matches_finite_differences_of_minus_lambda_max():
    features = _relu_features((2, 3, 3, 3), seed=3) + 0.1
    m = 2 * 3 * 3
    masks = spatial_masks(features, tol=1e-12)
    leaf = features.clone().requires_grad_(True)
    loss = spatial_loss(leaf, masks.masks)
    assert loss.item() == pytest.approx(-float(masks.eigenvalue) / m, rel=1e-10)
    assert -1.0 <= loss.item() <= 0.0
    loss.backward()

    def minus_lambda(f: torch.Tensor) -> float:
        return -float(spatial_masks(f, tol=1e-12).eigenvalue) / m

    eps, numeric = 1e-6, torch.zeros_like(features)
    for index in np.ndindex(*features.shape):
        step = torch.zeros_like(features)
        step[index] = eps
        numeric[index] = (minus_lambda(features + step) - minus_lambda(features - step)) / (2 * eps)
    torch.testing.assert_close(leaf.grad, numeric, rtol=1e-5, atol=1e-7)
    assert float(leaf.grad.abs().max()) > 1e-3


def test_spatial_modulator_returns_per_image_maps_and_batched_losses():
    features, blob = _planted_group()
    batch = torch.stack([features, features.flip(-1)])
    maps, loss = SpatialModulator()(batch)
    assert maps.shape == (2, 3, 8, 8) and loss.shape == (2,)
    np.testing.assert_array_equal(maps[1].numpy() > 0, blob[..., ::-1])
    torch.testing.assert_close(loss[0], loss[1])
    with pytest.raises(ValueError, match=r"features must be .*\(N, d, h, w\)"):
        spatial_masks(torch.zeros(3, 8, 8))
    with pytest.raises(ValueError, match=r"masks must have shape \(3, 8, 8\)"):
        spatial_loss(features, maps)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_hsp_output_shapes_for_n_images(n):
    torch.manual_seed(0)
    module = SemanticModulator(in_channels=12, out_channels=10, num_categories=4, reduced_channels=6,
                               group_reduced_channels=5).double()
    phi = torch.randn(2, n, 12, 4, 5, dtype=torch.float64)
    gamma, logits = module(phi)
    assert gamma.shape == (2, 10) and logits.shape == (2, 4)
    assert bool(torch.isfinite(gamma).all()) and bool(torch.isfinite(logits).all())
    # the groups are independent, and gamma depends on the input: not only the FC bias (also for N = 1,
    # where a centred covariance over one position would leave the bias alone)
    torch.testing.assert_close(module(phi[:1])[0], gamma[:1])
    assert (gamma[0] - gamma[1]).abs().max().item() > 1e-5
    assert (gamma - module.hsp.group_sp.fc.bias).abs().max().item() > 1e-5
    # second-order statistics over the N images ignore their order
    torch.testing.assert_close(module.hsp(phi.flip(1)), gamma)
    with pytest.raises(ValueError, match=r"phi must be .*\(B, N, d, h, w\) with d = 12"):
        HierarchicalSOP(12, 10)(phi[0])


def test_bce_of_eq_12_on_a_hand_example():
    logits = torch.tensor([[0.0, math.log(3.0)], [math.log(3.0), 0.0]])  # sigmoid: [0.5, 0.75], [0.75, 0.5]
    labels = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    first = (-math.log(0.5) - math.log(0.25)) / 2
    second = (-math.log(0.75) - math.log(0.5)) / 2
    assert float(semantic_loss(logits[0], labels[0])) == pytest.approx(first, rel=1e-6)
    assert float(semantic_loss(logits, labels)) == pytest.approx((first + second) / 2, rel=1e-6)
    with pytest.raises(ValueError, match="labels"):
        semantic_loss(logits, torch.full((2, 2), 0.5))
