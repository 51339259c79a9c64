"""Known-answer tests for weakseg.preprocess.dsift."""

from __future__ import annotations

import math

import numpy as np
import pytest

from weakseg.preprocess.dsift import (
    assign_words,
    bow_per_superpixel,
    chi2_kernel_matrix,
    dense_sift,
    fit_vocabulary,
)

# ---------------------------------------------------------------- dense_sift


@pytest.mark.parametrize("step", [4, 5])
def test_grid_spacing_is_exactly_step(step):
    img = np.zeros((40, 52, 3), dtype=np.uint8)
    points, desc = dense_sift(img, step=step, size=8.0)
    xs, ys = np.unique(points[:, 0]), np.unique(points[:, 1])
    np.testing.assert_array_equal(np.diff(xs), step)
    np.testing.assert_array_equal(np.diff(ys), step)
    # margin ceil(8/2) = 4 pixels: first pixel centre at 4.5, last pixel index <= size-1-4.
    assert xs[0] == ys[0] == 4.5
    assert xs[-1] - 0.5 <= 52 - 1 - 4 < xs[-1] - 0.5 + step
    assert ys[-1] - 0.5 <= 40 - 1 - 4 < ys[-1] - 0.5 + step
    assert points.shape == (len(xs) * len(ys), 2) and points.dtype == np.float32
    assert desc.shape == (len(points), 128) and desc.dtype == np.float32


def test_identical_patches_have_identical_descriptors():
    # A periodic image (32x32 tile): away from the border, points 32 px apart see the same pixels.
    rng = np.random.default_rng(0)
    img = np.tile(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), (3, 6, 1))
    points, desc = dense_sift(img)

    def at(x, y):
        return desc[np.flatnonzero((points[:, 0] == x) & (points[:, 1] == y))[0]]

    np.testing.assert_array_equal(at(36.5, 40.5), at(68.5, 40.5))
    np.testing.assert_array_equal(at(36.5, 40.5), at(100.5, 40.5))
    assert np.abs(at(36.5, 40.5) - at(40.5, 40.5)).sum() > 100  # a different patch differs


def test_dense_sift_rejects_bad_input():
    with pytest.raises(ValueError, match="too small"):
        dense_sift(np.zeros((8, 40, 3), dtype=np.uint8), size=8.0)
    with pytest.raises(ValueError, match="dtype"):
        dense_sift(np.zeros((40, 40, 3), dtype=np.float64))


# ---------------------------------------------------------------- vocabulary and words


def test_vocabulary_is_deterministic_with_a_seed():
    rng = np.random.default_rng(0)
    desc = rng.random((300, 128), dtype=np.float32)
    a = fit_vocabulary(desc, words=10, seed=3)
    b = fit_vocabulary(desc, words=10, seed=3)
    assert a.shape == (10, 128) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)


def test_vocabulary_finds_separated_clusters():
    # Three tight clusters around 0, 100 and 200: the three centres are recovered.
    rng = np.random.default_rng(0)
    centres = np.array([0.0, 100.0, 200.0])
    desc = (np.repeat(centres, 50)[:, None] + rng.normal(0, 1, (150, 128))).astype(np.float32)
    vocab = fit_vocabulary(desc, words=3, seed=0)
    np.testing.assert_allclose(np.sort(vocab.mean(axis=1)), centres, atol=1.0)


def test_too_few_descriptors_for_the_vocabulary():
    with pytest.raises(ValueError, match="only 5 descriptors for a vocabulary of 10 words"):
        fit_vocabulary(np.zeros((5, 128), dtype=np.float32), words=10, seed=0)


def test_assign_words_nearest_centre():
    vocab = np.stack([np.zeros(128), np.full(128, 10.0)])
    desc = np.stack([np.full(128, 1.0), np.full(128, 9.0), np.full(128, 4.0)])
    np.testing.assert_array_equal(assign_words(desc, vocab), [0, 1, 0])


# ---------------------------------------------------------------- bag of words


def test_bow_by_hand_with_an_empty_superpixel():
    # 8x8 labels: columns 0..3 -> 0, columns 4..7 -> 1, pixel (row 7, col 7) -> 2 (no grid point).
    labels = np.zeros((8, 8), dtype=np.int32)
    labels[:, 4:] = 1
    labels[7, 7] = 2
    points = np.array([[1.5, 1.5], [5.5, 1.5], [1.5, 5.5], [5.5, 5.5]], dtype=np.float32)
    words = np.array([0, 1, 2, 1])
    bow = bow_per_superpixel(points, words, labels, n_words=3)
    # sp 0 holds words {0, 2}; sp 1 holds {1, 1}; sp 2 (centroid (7.5, 7.5)) takes the word
    # of its nearest point (5.5, 5.5), i.e. 1.
    np.testing.assert_allclose(bow, [[0.5, 0, 0.5], [0, 1, 0], [0, 1, 0]])
    assert bow.dtype == np.float32


def test_bow_rejects_out_of_range_input():
    labels = np.zeros((8, 8), dtype=np.int32)
    with pytest.raises(ValueError, match="outside"):
        bow_per_superpixel(np.array([[8.5, 1.5]]), np.array([0]), labels, n_words=2)
    with pytest.raises(ValueError, match="0..1"):
        bow_per_superpixel(np.array([[1.5, 1.5]]), np.array([2]), labels, n_words=2)


def stripes_quadrants(n: int = 96, period: int = 8) -> np.ndarray:
    """Vertical stripes in the top-left and bottom-right quadrants, horizontal elsewhere."""
    idx = np.arange(n)
    vertical = np.broadcast_to(((idx // (period // 2)) % 2 * 255)[None, :], (n, n))
    horizontal = vertical.T
    half = n // 2
    grey = horizontal.copy()
    grey[:half, :half] = vertical[:half, :half]
    grey[half:, half:] = vertical[half:, half:]
    return np.repeat(grey[..., None], 3, axis=2).astype(np.uint8)


def test_same_texture_superpixels_are_closer_in_chi2_kernel():
    img = stripes_quadrants()
    labels = np.zeros(img.shape[:2], dtype=np.int32)   # 0 TL, 1 TR, 2 BL, 3 BR
    labels[:48, 48:] = 1
    labels[48:, :48] = 2
    labels[48:, 48:] = 3
    points, desc = dense_sift(img)
    vocab = fit_vocabulary(desc, words=8, seed=0)
    bow = bow_per_superpixel(points, assign_words(desc, vocab), labels, n_words=8)
    np.testing.assert_allclose(bow.sum(axis=1), 1.0, rtol=1e-6)
    k = chi2_kernel_matrix(bow)
    np.testing.assert_allclose(np.diag(k), 1.0)
    assert k[0, 3] > k[0, 1] and k[0, 3] > k[0, 2]   # vertical-vertical beats vertical-horizontal
    assert k[1, 2] > k[1, 0] and k[1, 2] > k[1, 3]   # horizontal-horizontal likewise


# ---------------------------------------------------------------- chi2 kernel


def test_chi2_kernel_known_values():
    hist = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    # chi2([1,0],[0,1]) = 1^2/1 + 1^2/1 = 2; identical rows -> 0.
    k = chi2_kernel_matrix(hist, gamma=0.5)
    np.testing.assert_allclose(k, [[1, math.exp(-1), 1], [math.exp(-1), 1, math.exp(-1)], [1, math.exp(-1), 1]])
    # default gamma: distinct pairs (0,1)=2, (0,2)=0, (1,2)=2 -> mean 4/3 -> gamma 3/4.
    np.testing.assert_allclose(chi2_kernel_matrix(hist)[0, 1], math.exp(-1.5))


def test_chi2_kernel_rejects_negative_histograms():
    with pytest.raises(ValueError, match="non-negative"):
        chi2_kernel_matrix(np.array([[1.0, -0.5], [0.0, 1.0]]))
