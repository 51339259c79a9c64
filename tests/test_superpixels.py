"""Known-answer tests for weakseg.preprocess.superpixels."""

from __future__ import annotations

import numpy as np
import pytest

from weakseg.preprocess.superpixels import (
    SUPERPIXEL_METHODS,
    segment,
    superpixel_stats,
)


def two_colour_image(height: int = 32, width: int = 48, noise: int = 10, seed: int = 0) -> np.ndarray:
    """Red left half, blue right half, with small uniform noise."""
    rng = np.random.default_rng(seed)
    img = np.zeros((height, width, 3), dtype=np.int64)
    img[:, : width // 2] = (200, 30, 30)
    img[:, width // 2:] = (30, 30, 200)
    img += rng.integers(-noise, noise + 1, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- superpixel_stats


def test_stats_two_colour_halves_by_hand():
    # 4x6 image: columns 0..2 are (10, 20, 30) -> label 0, columns 3..5 are (200, 100, 0) -> label 1.
    img = np.zeros((4, 6, 3), dtype=np.uint8)
    img[:, :3] = (10, 20, 30)
    img[:, 3:] = (200, 100, 0)
    labels = np.zeros((4, 6), dtype=np.int32)
    labels[:, 3:] = 1
    st = superpixel_stats(img, labels)
    np.testing.assert_array_equal(st.size, [12, 12])
    np.testing.assert_allclose(st.mean_colour, [[10, 20, 30], [200, 100, 0]])
    # pixel centres: left x in {0.5, 1.5, 2.5} -> 1.5; right x in {3.5, 4.5, 5.5} -> 4.5;
    # y in {0.5, .., 3.5} -> 2.0 for both.
    np.testing.assert_allclose(st.centroid, [[1.5, 2.0], [4.5, 2.0]])
    np.testing.assert_array_equal(st.edges, [[0, 1]])
    # 7 bins: (10,20,30) -> bins (0,0,0) -> flat 0;
    # (200,100,0) -> (200*7//256, 100*7//256, 0) = (5, 2, 0) -> (5*7 + 2)*7 + 0 = 259.
    assert st.histogram.shape == (2, 343)
    expected = np.zeros((2, 343), dtype=np.int32)
    expected[0, 0] = 12
    expected[1, 259] = 12
    np.testing.assert_array_equal(st.histogram, expected)
    assert (st.mean_colour.dtype, st.centroid.dtype, st.histogram.dtype, st.size.dtype, st.edges.dtype) == (
        np.float32, np.float32, np.int32, np.int32, np.int32)


def test_stats_match_per_pixel_reference():
    # Random image and labels; compare with a slow per-pixel reference computed here.
    rng = np.random.default_rng(1)
    h, w, k, bins = 7, 9, 4, 3
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    labels = rng.integers(0, k, (h, w))
    labels.ravel()[:k] = np.arange(k)  # every label used
    hist = np.zeros((k, bins ** 3), dtype=np.int64)
    colour_sum = np.zeros((k, 3))
    pos_sum = np.zeros((k, 2))
    for r in range(h):
        for c in range(w):
            lab = labels[r, c]
            rb, gb, bb = (int(v) * bins // 256 for v in img[r, c])
            hist[lab, (rb * bins + gb) * bins + bb] += 1
            colour_sum[lab] += img[r, c]
            pos_sum[lab] += (c + 0.5, r + 0.5)
    size = np.bincount(labels.ravel(), minlength=k)
    st = superpixel_stats(img, labels, bins=bins)
    np.testing.assert_array_equal(st.histogram, hist)
    np.testing.assert_array_equal(st.histogram.sum(axis=1), size)
    assert st.histogram.sum() == h * w
    np.testing.assert_allclose(st.mean_colour, colour_sum / size[:, None], rtol=1e-6)
    np.testing.assert_allclose(st.centroid, pos_sum / size[:, None], rtol=1e-6)


def test_histograms_sum_to_sizes_on_real_superpixels():
    img = two_colour_image(noise=60)
    labels = segment(img, "slic", n_segments=30)
    st = superpixel_stats(img, labels)
    np.testing.assert_array_equal(st.histogram.sum(axis=1), st.size)
    np.testing.assert_array_equal(st.size, np.bincount(labels.ravel()))
    assert st.histogram.sum() == img.shape[0] * img.shape[1]


def test_edges_are_four_connected_unique_pairs():
    # 0 and 2 touch only diagonally -> no edge; (0,1) and (1,2) touch both ways -> listed once.
    labels = np.array([[0, 1],
                       [1, 2]])
    img = np.zeros((2, 2, 3), dtype=np.uint8)
    np.testing.assert_array_equal(superpixel_stats(img, labels).edges, [[0, 1], [1, 2]])
    labels = np.array([[0, 0, 1],
                       [0, 2, 1],
                       [3, 3, 3]])
    edges = superpixel_stats(np.zeros((3, 3, 3), dtype=np.uint8), labels).edges
    np.testing.assert_array_equal(edges, [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]])


def test_stats_reject_bad_labels():
    img = np.zeros((4, 6, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="shape"):
        superpixel_stats(img, np.zeros((4, 5), dtype=np.int32))
    gappy = np.zeros((4, 6), dtype=np.int32)
    gappy[:, 3:] = 2  # label 1 unused
    with pytest.raises(ValueError, match="contiguous"):
        superpixel_stats(img, gappy)
    with pytest.raises(ValueError, match="integer"):
        superpixel_stats(img, np.zeros((4, 6), dtype=np.float32))


# ---------------------------------------------------------------- segment


@pytest.mark.parametrize("method", sorted(SUPERPIXEL_METHODS))
def test_each_method_gives_contiguous_labels_respecting_a_colour_edge(method):
    img = two_colour_image()
    labels = segment(img, method)
    assert labels.dtype == np.int32 and labels.shape == img.shape[:2]
    k = labels.max() + 1
    np.testing.assert_array_equal(np.unique(labels), np.arange(k))
    # No superpixel crosses the strong red/blue boundary at column 24.
    assert not set(np.unique(labels[:, :24])) & set(np.unique(labels[:, 24:]))
    np.testing.assert_array_equal(segment(img, method), labels)  # deterministic


def test_params_are_passed_through():
    img = two_colour_image(noise=40)
    few = segment(img, "slic", n_segments=4).max() + 1
    many = segment(img, "slic", n_segments=60).max() + 1
    assert few < many


def test_segment_relabels_contiguously_keeping_order(monkeypatch):
    # A method returning raw labels 9 (columns 0-1) and 5 (columns 2-3): 5 -> 0, 9 -> 1.
    raw = np.array([[9, 9, 5, 5]] * 3)
    monkeypatch.setitem(SUPERPIXEL_METHODS, "fake", lambda image: raw)
    labels = segment(np.zeros((3, 4, 3), dtype=np.uint8), "fake")
    np.testing.assert_array_equal(labels, [[1, 1, 0, 0]] * 3)


def test_unknown_method_lists_known_ones():
    with pytest.raises(ValueError, match=r"known: \['felzenszwalb', 'quickshift', 'slic'\]"):
        segment(two_colour_image(), "watershed")


@pytest.mark.parametrize("image, what", [
    (np.zeros((8, 8), dtype=np.uint8), "shape"),
    (np.zeros((8, 8, 4), dtype=np.uint8), "shape"),
    (np.zeros((8, 8, 3), dtype=np.float32), "dtype"),
])
def test_bad_image_is_rejected(image, what):
    with pytest.raises(ValueError, match=what):
        segment(image, "slic")
    with pytest.raises(ValueError, match=what):
        superpixel_stats(image, np.zeros(image.shape[:2], dtype=np.int32))


def test_max_side_segments_a_downscaled_copy_at_full_resolution():
    from weakseg.preprocess.superpixels import segment

    image = np.zeros((80, 120, 3), np.uint8)
    image[:, 60:] = (200, 30, 30)
    labels = segment(image, "slic", max_side=40, n_segments=2, compactness=10)
    assert labels.shape == (80, 120) and labels.min() == 0
    assert len(np.unique(labels)) == labels.max() + 1
    assert len(np.unique(labels[:, :55])) == 1 and len(np.unique(labels[:, 65:])) == 1
    assert labels[0, 0] != labels[0, -1]
