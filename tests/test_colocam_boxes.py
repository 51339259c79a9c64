"""CoLo-CAM's CAM box protocol: boxes per threshold, the authors' IoU, and the two CorLoc protocols."""

from __future__ import annotations

import time

import cv2
import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from weakseg.methods.colocam.boxes import (
    CAM_THRESHOLDS,
    PROTOCOL_GLOBAL_TAU,
    PROTOCOL_PER_CLASS_TAU,
    boxes_at_thresholds,
    corloc_curve,
    corloc_curves_per_class,
    corloc_global_threshold,
    corloc_per_class_best_threshold,
    max_iou_at_thresholds,
)

NAN_BOX = [np.nan] * 4


def authors_boxes(scoremap: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Oracle: wsolevaluation's ``compute_bboxes_from_scoremaps`` (largest contour), one threshold at a
    time, before the authors' clipping, with NaN for an empty map."""
    image = np.expand_dims((scoremap * 255).astype(np.uint8), 2)
    out = []
    for tau in thresholds:
        _, binary = cv2.threshold(src=image, thresh=int(tau * np.max(image)), maxval=255, type=cv2.THRESH_BINARY)
        contours = cv2.findContours(image=binary, mode=cv2.RETR_TREE, method=cv2.CHAIN_APPROX_SIMPLE)[0]
        if not contours:
            out.append(NAN_BOX)
            continue
        x, y, w, h = cv2.boundingRect(max(contours, key=cv2.contourArea))
        out.append([x, y, x + w, y + h])
    return np.array(out, dtype=np.float64)


@pytest.fixture
def two_blobs() -> np.ndarray:
    """20x30 map: a 4x4 blob of 0.9 (rows 2-5, cols 3-6) and an 8x15 blob of 0.6 (rows 10-17, cols 10-24)."""
    fg = np.zeros((20, 30))
    fg[2:6, 3:7] = 0.9
    fg[10:18, 10:25] = 0.6
    return fg


def test_largest_blob_wins_until_threshold_passes_it(two_blobs: np.ndarray) -> None:
    # uint8 levels 229 and 153; cuts int(tau * 229) = 0, 114, 160, 217, 229
    boxes = boxes_at_thresholds(two_blobs, [0.0, 0.5, 0.7, 0.95, 1.0])
    expected = [[10, 10, 25, 18], [10, 10, 25, 18], [3, 2, 7, 6], [3, 2, 7, 6], NAN_BOX]
    np.testing.assert_array_equal(boxes, expected)


def test_absolute_threshold_above_max_gives_nan(two_blobs: np.ndarray) -> None:
    boxes = boxes_at_thresholds(two_blobs, [0.5, 0.6, 0.7, 0.95], relative_to_max=False)
    np.testing.assert_array_equal(boxes, [[10, 10, 25, 18], [3, 2, 7, 6], [3, 2, 7, 6], NAN_BOX])


def test_threshold_is_relative_to_the_map_max() -> None:
    fg = np.zeros((10, 10))
    fg[1:3, 1:3] = 0.2   # uint8 51
    fg[5:9, 4:9] = 0.1   # uint8 25: a cut of int(0.4 * 51) = 20 keeps both, the larger wins
    np.testing.assert_array_equal(boxes_at_thresholds(fg, [0.4]), [[4, 5, 9, 9]])
    np.testing.assert_array_equal(boxes_at_thresholds(fg, [0.4], relative_to_max=False), [NAN_BOX])


def test_largest_means_largest_contour_area_not_most_pixels() -> None:
    fg = np.zeros((12, 30))
    fg[1, 0:25] = 1.0     # 25 pixels in a line: contour area 0
    fg[6:9, 2:5] = 1.0    # 3x3 = 9 pixels: contour area 4
    np.testing.assert_array_equal(boxes_at_thresholds(fg, [0.5]), [[2, 6, 5, 9]])


def test_all_zero_map_has_no_box() -> None:
    assert np.isnan(boxes_at_thresholds(np.zeros((8, 8)), [0.0, 0.3])).all()


@pytest.mark.parametrize("kind", ["noise", "smooth", "nested"])
def test_boxes_match_the_authors_loop(kind: str) -> None:
    rng = np.random.default_rng({"noise": 0, "smooth": 1, "nested": 2}[kind])
    if kind == "nested":   # rectangles XOR-ed into each other: blobs with holes, at several levels
        fg = np.zeros((48, 64))
        for level in (0.3, 0.6, 0.9):
            for _ in range(4):
                x, y = rng.integers(0, 56), rng.integers(0, 40)
                w, h = rng.integers(1, 20, size=2)
                fg[y:y + h, x:x + w] = np.where(fg[y:y + h, x:x + w] > 0, 0.0, level)
    else:
        fg = rng.random((48, 64))
        if kind == "smooth":
            fg = gaussian_filter(fg, 3)
        fg = (fg - fg.min()) / (fg.max() - fg.min())
    np.testing.assert_array_equal(boxes_at_thresholds(fg), authors_boxes(fg, CAM_THRESHOLDS))


def test_thousand_thresholds_on_224_map_are_fast() -> None:
    rng = np.random.default_rng(3)
    fg = gaussian_filter(rng.random((224, 224)), 8)
    fg = (fg - fg.min()) / (fg.max() - fg.min())
    start = time.perf_counter()
    boxes = boxes_at_thresholds(fg)
    assert time.perf_counter() - start < 2.0
    assert boxes.shape == (1000, 4) and not np.isnan(boxes).any()


def test_bad_maps_and_thresholds_are_refused() -> None:
    with pytest.raises(ValueError, match="fg_map must be a non-empty float array of shape"):
        boxes_at_thresholds(np.zeros((4, 4, 3)))
    with pytest.raises(ValueError, match="fg_map must hold finite values in"):
        boxes_at_thresholds(np.full((4, 4), 1.5))
    with pytest.raises(ValueError, match="thresholds must be finite values in"):
        boxes_at_thresholds(np.zeros((4, 4)), [0.5, 2.0])


def test_iou_uses_the_authors_clip_and_plus_one() -> None:
    boxes = np.array([[0, 0, 10, 10], [0, 0, 4, 2], NAN_BOX])
    # on a 10x10 map the first box is clipped to [0, 0, 9, 9]: 100 pixels with +1, as the gt
    ious = max_iou_at_thresholds(boxes, [[0, 0, 9, 9]], (10, 10))
    np.testing.assert_allclose(ious, [1.0, 15 / 100, 0.0])
    # second gt [0, 0, 1, 2]: 2x3 = 6 pixels inside the 5x3 = 15 of box 2 -> 0.4; max over gts
    ious = max_iou_at_thresholds(boxes, [[5, 0, 9, 9], [0, 0, 1, 2]], (10, 10))
    np.testing.assert_allclose(ious, [0.5, 0.4, 0.0])


def test_iou_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match=r"gt_boxes must have shape \(M, 4\) with M >= 1"):
        max_iou_at_thresholds(np.zeros((2, 4)), np.zeros((0, 4)), (10, 10))
    with pytest.raises(ValueError, match=r"boxes must have shape \(T, 4\)"):
        max_iou_at_thresholds(np.zeros((2, 3)), [[0, 0, 1, 1]], (10, 10))


TAUS = np.array([0.1, 0.2, 0.3])
# class "a": 3 frames, class "b": 1 frame; 0.5 is exactly on the IoU threshold, NaN is "no box"
IOUS = np.array([
    [0.6, 0.7, 0.1],
    [0.9, 0.5, 0.2],
    [0.3, 0.5, 0.4],
    [np.nan, 0.2, 0.8],
])
CLASSES = np.array(["a", "a", "a", "b"])


def test_corloc_curves() -> None:
    np.testing.assert_allclose(corloc_curve(IOUS), [50, 75, 25])
    np.testing.assert_allclose(corloc_curve(IOUS, strict=True), [50, 25, 25])
    curves = corloc_curves_per_class(IOUS, CLASSES)
    assert list(curves) == ["a", "b"] and type(next(iter(curves))) is str
    np.testing.assert_allclose(curves["a"], [200 / 3, 100, 0])
    np.testing.assert_allclose(curves["b"], [0, 0, 100])


def test_the_two_protocols_differ() -> None:
    value, taus = corloc_per_class_best_threshold(IOUS, CLASSES, TAUS)
    assert value == pytest.approx(100.0) and taus == {"a": 0.2, "b": 0.3}
    assert corloc_global_threshold(IOUS, TAUS) == (pytest.approx(75.0), 0.2)


def test_strict_iou_and_first_threshold_on_ties() -> None:
    value, taus = corloc_per_class_best_threshold(IOUS, CLASSES, TAUS, strict=True)
    assert value == pytest.approx((200 / 3 + 100) / 2) and taus == {"a": 0.1, "b": 0.3}
    assert corloc_global_threshold(IOUS, TAUS, strict=True) == (pytest.approx(50.0), 0.1)


def test_integer_classes_and_default_thresholds() -> None:
    ious = np.zeros((2, CAM_THRESHOLDS.size))
    ious[0, 500:] = 0.8   # class 3 correct from tau = 0.5 on
    ious[1, 100:200] = 1.0
    value, taus = corloc_per_class_best_threshold(ious, np.array([3, 7]))
    assert value == 100.0 and taus == {3: pytest.approx(0.5), 7: pytest.approx(0.1)}
    assert all(type(k) is int for k in taus)
    assert corloc_global_threshold(ious) == (50.0, pytest.approx(0.1))


def test_corloc_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match=r"thresholds must have shape \(T,\) = \(3,\)"):
        corloc_global_threshold(IOUS, [0.1, 0.2])
    with pytest.raises(ValueError, match=r"classes must have shape \(N,\) = \(4,\)"):
        corloc_per_class_best_threshold(IOUS, CLASSES[:3], TAUS)
    with pytest.raises(ValueError, match=r"ious must lie in \[0, 1\]"):
        corloc_curve(IOUS * 2)


def test_protocol_names_are_printable_and_distinct() -> None:
    assert PROTOCOL_PER_CLASS_TAU != PROTOCOL_GLOBAL_TAU
    assert "per class" in PROTOCOL_PER_CLASS_TAU and "CoLo-CAM" in PROTOCOL_PER_CLASS_TAU
    assert "one best tau" in PROTOCOL_GLOBAL_TAU and "TCAM" in PROTOCOL_GLOBAL_TAU
