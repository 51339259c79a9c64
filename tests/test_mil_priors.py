"""MIL/LSE (Pinheiro & Collobert, CVPR 2015): aggregations and objective (Sec. 3.1), priors (Sec. 3.2.1)
and the threshold grid search (Sec. 4.2), on hand-made arrays and against brute-force oracles."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from weakseg.methods.mil.aggregation import (
    AGGREGATIONS,
    aggregate,
    aggregate_lse,
    aggregate_max,
    aggregate_sum,
    image_log_likelihood,
)
from weakseg.methods.mil.priors import (
    grid_search_thresholds,
    image_level_prior,
    objectness_from_boxes,
    objectness_from_masks,
    smoothed_labels,
    superpixel_vote,
    threshold_ap_curves,
)
from weakseg.metrics import confusion_matrix, voc_ap_per_class

# --------------------------------------------------------------------------
# Aggregation and eq. 3
# --------------------------------------------------------------------------


def _planes(seed: int = 0) -> torch.Tensor:
    """Random float64 score planes (B=2, K=3, h=4, w=5), all values distinct."""
    return torch.from_numpy(np.random.default_rng(seed).normal(0.0, 2.0, (2, 3, 4, 5)))


def test_lse_tends_to_max_as_r_grows_and_to_mean_as_r_tends_to_0():
    s = _planes()
    max_, mean = s.amax(dim=(2, 3)), s.mean(dim=(2, 3))
    # max - log(hw)/r <= LSE <= max, so r = 1e3 is within log(20)/1e3 = 3e-3 of the max
    assert torch.allclose(aggregate_lse(s, r=1e3), max_, atol=3.1e-3)
    assert torch.all(aggregate_lse(s, r=1e3) <= max_ + 1e-12)
    # LSE = mean + r var / 2 + O(r^2): within 1e-3 of the mean for r = 1e-4 (var ~ 4)
    assert torch.allclose(aggregate_lse(s, r=1e-4), mean, atol=1e-3)
    assert not torch.allclose(aggregate_lse(s, r=1e-4), max_, atol=0.5)
    mid = aggregate_lse(s, r=5.0)
    assert torch.all((mean < mid) & (mid < max_))


def test_aggregations_on_a_hand_example():
    s = torch.tensor([[[[0.0, math.log(3.0)]]]], dtype=torch.float64)  # (1, 1, 1, 2)
    assert aggregate_sum(s).item() == pytest.approx(math.log(3.0))
    assert aggregate_max(s).item() == pytest.approx(math.log(3.0))
    assert aggregate_lse(s, r=1.0).item() == pytest.approx(math.log(2.0))  # log((1 + 3) / 2)
    assert aggregate("lse", s, r=2.0).item() == pytest.approx(0.5 * math.log(5.0))  # log((1 + 9) / 2) / 2
    assert set(AGGREGATIONS) == {"sum", "max", "lse"}
    assert aggregate("sum", s).shape == (1, 1)
    with pytest.raises(ValueError, match="name must be one of"):
        aggregate("mean", s)


@pytest.mark.parametrize("name", ["sum", "max", "lse"])
def test_aggregation_gradients_match_finite_differences(name):
    s = _planes(1).requires_grad_(True)  # distinct values: the max is not at a tie
    assert torch.autograd.gradcheck(lambda x: aggregate(name, x, r=5.0), (s,), eps=1e-6, atol=1e-6)


def test_image_log_likelihood_eq3_on_a_hand_example():
    scores = torch.tensor([[0.0, math.log(3.0)], [math.log(2.0), math.log(2.0)]], dtype=torch.float64)
    out = image_log_likelihood(scores, torch.tensor([1, 0]))
    assert torch.allclose(out, torch.tensor([math.log(3 / 4), math.log(1 / 2)], dtype=torch.float64))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        image_log_likelihood(scores, torch.tensor([2, 0]))


# --------------------------------------------------------------------------
# Image-level prior and SP-sppxl
# --------------------------------------------------------------------------

# Three classes (0 = background) on 2 x 2 pixels, written per pixel then moved to (K, H, W).
PIXEL_PROBS = np.array([[[0.1, 0.6, 0.3], [0.7, 0.2, 0.1]],
                        [[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]]).transpose(2, 0, 1)
IMAGE_PROBS = np.array([0.2, 0.5, 0.3])


def test_image_level_prior_eq7_on_a_hand_example():
    expected = np.array([[[0.02, 0.30, 0.09], [0.14, 0.10, 0.03]],
                         [[0.04, 0.15, 0.15], [0.02, 0.05, 0.24]]]).transpose(2, 0, 1)
    np.testing.assert_allclose(image_level_prior(PIXEL_PROBS, IMAGE_PROBS), expected, atol=1e-15)
    with pytest.raises(ValueError, match=r"image_probs must have shape \(3,\)"):
        image_level_prior(PIXEL_PROBS, IMAGE_PROBS[:2])


def test_superpixel_vote_takes_the_majority_and_the_smallest_label_on_ties():
    labels = np.array([[2, 1, 2, 2],
                       [0, 3, 1, 2]])
    superpixels = np.array([[5, 5, 7, 7],
                            [-4, 5, 7, 7]])
    # superpixel 5: labels 2, 1, 3 (a three-way tie -> 1); 7: 2, 2, 1, 2 -> 2; -4: 0
    expected = np.array([[1, 1, 2, 2],
                         [0, 1, 2, 2]])
    np.testing.assert_array_equal(superpixel_vote(labels, superpixels), expected)


# --------------------------------------------------------------------------
# Objectness
# --------------------------------------------------------------------------


def test_objectness_of_two_overlapping_boxes_by_hand():
    # A covers rows 0-1, columns 0-2 (score 2 -> 0 after min-max); B rows 1-3, columns 2-4 (6 -> 1)
    boxes = np.array([[0.0, 0.0, 3.0, 2.0], [2.0, 1.0, 5.0, 4.0]])
    expected = np.array([[0, 0, 0, 0, 0],
                         [0, 0, 0.5, 1, 1],
                         [0, 0, 1, 1, 1],
                         [0, 0, 1, 1, 1]])
    np.testing.assert_allclose(objectness_from_boxes(boxes, np.array([2.0, 6.0]), (4, 5)), expected, atol=1e-12)
    # equal scores all normalise to 1: the union of the boxes is 1
    inside = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 0, 1, 1, 1], [0, 0, 1, 1, 1]])
    np.testing.assert_allclose(objectness_from_boxes(boxes, np.array([3.0, 3.0]), (4, 5)), inside, atol=1e-12)
    masks = np.zeros((2, 4, 5), bool)
    masks[0, 0:2, 0:3] = masks[1, 1:4, 2:5] = True
    np.testing.assert_allclose(objectness_from_masks(masks, np.array([2.0, 6.0])), expected, atol=1e-12)


@pytest.mark.parametrize("box, columns", [
    ([0.5, 0.0, 2.5, 1.0], [0, 1]),  # centres 0.5 and 1.5 are in [0.5, 2.5); 2.5 is not
    ([0.6, 0.0, 2.6, 1.0], [1, 2]),
    ([0.0, 0.0, 0.5, 1.0], []),  # the centre 0.5 is not < 0.5
    ([-3.0, -1.0, 9.0, 2.0], [0, 1, 2, 3]),  # clipped to the image
])
def test_boxes_contain_the_pixels_whose_centre_they_contain(box, columns):
    expected = np.zeros((1, 4))
    expected[0, columns] = 1.0
    np.testing.assert_array_equal(objectness_from_boxes(np.array([box]), np.array([0.3]), (1, 4)), expected)


def test_box_objectness_matches_a_pixel_by_pixel_oracle():
    rng = np.random.default_rng(3)
    h, w, m = 13, 17, 40
    start = rng.uniform(-3, 18, (m, 2))
    boxes = np.concatenate([start, start + rng.uniform(0, 6, (m, 2))], axis=1)  # [x0, y0, x1, y1]
    scores = rng.normal(size=m)
    rows, cols = np.mgrid[0:h, 0:w] + 0.5
    masks = np.stack([(b[0] <= cols) & (cols < b[2]) & (b[1] <= rows) & (rows < b[3]) for b in boxes])
    norm = (scores - scores.min()) / (scores.max() - scores.min())
    sums, counts = np.zeros((h, w)), np.zeros((h, w))
    for mask, s in zip(masks, norm):
        sums[mask] += s
        counts[mask] += 1
    oracle = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
    assert (counts == 0).any() and (counts >= 3).any()
    np.testing.assert_allclose(objectness_from_boxes(boxes, scores, (h, w)), oracle, atol=1e-12)
    np.testing.assert_allclose(objectness_from_masks(masks, scores), oracle, atol=1e-12)


# --------------------------------------------------------------------------
# SP-bb labelling and the threshold grid search
# --------------------------------------------------------------------------


def test_ilp_then_sp_bb_on_a_hand_example():
    y_prime = image_level_prior(PIXEL_PROBS, IMAGE_PROBS)
    # normalised scores A 1, B 0, C 0.5 -> objectness [[1.5/3, 1.5/2], [0.5/2, 0.5/1]]
    boxes = np.array([[0.0, 0.0, 2.0, 1.0], [0.0, 0.0, 1.0, 2.0], [0.0, 0.0, 2.0, 2.0]])
    objectness = objectness_from_boxes(boxes, np.array([10.0, 0.0, 5.0]), (2, 2))
    np.testing.assert_allclose(objectness, [[0.5, 0.75], [0.25, 0.5]], atol=1e-12)
    # candidates (object classes only; the (1, 0) tie 0.15 / 0.15 goes to class 1) and their scores:
    # (0, 0) 1: 0.3 * 0.5 = 0.15; (0, 1) 1: 0.1 * 0.75 = 0.075 (background's 0.14 is larger but not
    # in C); (1, 0) 1: 0.15 * 0.25 = 0.0375; (1, 1) 2: 0.24 * 0.5 = 0.12. thresholds[0] is unused.
    np.testing.assert_array_equal(smoothed_labels(y_prime, objectness, np.array([0.99, 0.07, 0.13])),
                                  [[1, 1], [0, 0]])
    np.testing.assert_array_equal(smoothed_labels(y_prime, objectness, np.array([0.99, 0.07, 0.11])),
                                  [[1, 1], [0, 2]])
    # the comparison is strict: a score equal to its threshold is background
    np.testing.assert_array_equal(smoothed_labels(y_prime, np.ones((2, 2)), np.array([0.0, 0.3, 1.0])),
                                  [[0, 0], [0, 0]])


def _validation_set(seed: int, quantised: bool, n_classes: int = 5, n_images: int = 6):
    """Random (y', objectness) pairs and ground truths correlated with the candidates; class
    ``n_classes - 1`` never appears in the ground truth, and about 10% of pixels are void.
    ``quantised``: y' in multiples of 1/20 and objectness 1, so that scores hit grid values exactly."""
    rng = np.random.default_rng(seed)
    inputs, gts = [], []
    for _ in range(n_images):
        y = rng.dirichlet(np.ones(n_classes), size=(12, 10)).transpose(2, 0, 1)
        obj = rng.uniform(0.2, 1.0, (12, 10))
        if quantised:
            y, obj = np.round(y * 20) / 20, np.ones((12, 10))
        gt = np.where(rng.uniform(size=(12, 10)) < 0.6, y[1:].argmax(axis=0) + 1, rng.integers(0, 3, (12, 10)))
        gt[gt == n_classes - 1] = 0
        gt[rng.uniform(size=gt.shape) < 0.1] = 255
        inputs.append((y, obj))
        gts.append(gt)
    return inputs, gts


@pytest.mark.parametrize("quantised", [False, True])
def test_grid_search_matches_a_brute_force_loop_over_the_grid(quantised):
    n_classes = 5
    inputs, gts = _validation_set(7, quantised, n_classes)
    grid = np.arange(13) / 20
    brute = np.empty((n_classes, grid.size))
    for t, delta in enumerate(grid):
        conf = sum(confusion_matrix(smoothed_labels(y, obj, np.full(n_classes, delta)), gt, n_classes)
                   for (y, obj), gt in zip(inputs, gts))
        brute[:, t] = voc_ap_per_class(conf)
    curves = threshold_ap_curves(inputs, gts, grid, n_classes)
    np.testing.assert_allclose(curves[1:], brute[1:], atol=1e-12)
    assert np.isnan(curves[0]).all()
    expected = np.zeros(n_classes)
    for k in range(1, n_classes):
        best = -1.0
        for t, ap in enumerate(np.nan_to_num(brute[k])):
            if ap >= best:  # ties -> the largest threshold
                best, expected[k] = ap, grid[t]
    found = grid_search_thresholds(inputs, gts, grid, n_classes)
    np.testing.assert_array_equal(found, expected)
    assert found[n_classes - 1] == grid[-1]  # absent from the ground truth: the largest threshold
    assert 0 < found[1] < grid[-1]  # an interior optimum: the search is not trivial


# --------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------


@pytest.mark.parametrize("call, message", [
    (lambda: aggregate_lse(_planes(), r=0.0), "r must be a finite number > 0"),
    (lambda: aggregate_sum(torch.zeros(2, 3, 4)), r"s must be a float tensor of score planes \(B, K, h, w\)"),
    (lambda: smoothed_labels(np.ones((3, 2, 2)), np.ones((2, 2)), np.ones(2)), r"thresholds must have shape \(3,\)"),
    (lambda: smoothed_labels(np.ones((3, 2, 2)), np.ones((2, 3)), np.ones(3)), "objectness must cover the same"),
    (lambda: objectness_from_boxes(np.array([[2.0, 0, 1, 1]]), np.ones(1), (2, 2)), "boxes must have x_max >= x_min"),
    (lambda: objectness_from_masks(np.ones((1, 2, 2)), np.ones(1)), r"masks must be a bool array of shape \(M, H, W\)"),
    (lambda: superpixel_vote(np.full((2, 2), -1), np.zeros((2, 2), int)), "labels must be >= 0"),
    (lambda: grid_search_thresholds([], [], np.array([0.2, 0.1]), 3), "grid must be a non-empty strictly increasing"),
    (lambda: grid_search_thresholds([(np.ones((3, 2, 2)), np.ones((2, 2)))], [np.full((2, 2), 3)], np.ones(1), 3),
     r"gt_masks values must lie in \[0, 3\)"),
])
def test_bad_inputs_raise_naming_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()
