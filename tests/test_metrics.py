"""Hand-computed tests for weakseg.metrics.

Every expected value is derived in a comment from small literal arrays.
"""

import math

import numpy as np
import pytest

from weakseg.metrics import (
    box_correct,
    box_iou,
    confusion_matrix,
    corloc,
    foreground_iou,
    iou_per_class,
    mask_jaccard,
    mask_precision,
    mean_iou,
    pixel_accuracy_per_class,
    voc_ap_per_class,
)

# ---------------------------------------------------------------- box_iou


def test_box_iou_half_overlap_continuous():
    # a covers x in [0,10), b covers x in [5,15), both y in [0,10).
    # inter = 5*10 = 50, areas 100 + 100, union = 150 -> IoU = 50/150 = 1/3.
    a = np.array([[0.0, 0.0, 10.0, 10.0]])
    b = np.array([[5.0, 0.0, 15.0, 10.0]])
    iou = box_iou(a, b)
    assert iou.shape == (1, 1)
    assert iou[0, 0] == pytest.approx(1.0 / 3.0)


def test_box_iou_pairwise_shape_and_values():
    # a0 = [0,0,10,10] (area 100), a1 = [0,0,2,2] (area 4)
    # b0 = [0,0,10,10] -> IoU(a0,b0)=1, IoU(a1,b0)=4/100
    # b1 = [20,20,30,30] disjoint from both -> 0
    # b2 = [0,0,10,5] (area 50): IoU(a0,b2)=50/100=0.5; IoU(a1,b2)=4/50
    a = np.array([[0, 0, 10, 10], [0, 0, 2, 2]], dtype=float)
    b = np.array([[0, 0, 10, 10], [20, 20, 30, 30], [0, 0, 10, 5]], dtype=float)
    expected = np.array([[1.0, 0.0, 0.5], [0.04, 0.0, 0.08]])
    np.testing.assert_allclose(box_iou(a, b), expected)


def test_box_iou_plus_one_changes_answer():
    # Same coordinates as the 1/3 case: [0,0,10,10] vs [5,0,15,10].
    # plus_one: areas 11*11 = 121 each; inter width 10-5+1 = 6, height 11 -> 66.
    # union = 121 + 121 - 66 = 176 -> IoU = 66/176 = 0.375 (not 1/3).
    a = np.array([[0.0, 0.0, 10.0, 10.0]])
    b = np.array([[5.0, 0.0, 15.0, 10.0]])
    assert box_iou(a, b, plus_one=True)[0, 0] == pytest.approx(66.0 / 176.0)
    assert box_iou(a, b, plus_one=False)[0, 0] == pytest.approx(1.0 / 3.0)


def test_box_iou_plus_one_touching_boxes_do_not_overlap():
    # Inclusive corners: [0,0,9,9] covers columns 0..9 and [10,0,19,9] covers 10..19.
    # inter width = 9 - 10 + 1 = 0 -> IoU 0.
    # Without plus_one, the continuous boxes [0,10) and [10,20) also give 0.
    a = np.array([[0.0, 0.0, 9.0, 9.0]])
    b = np.array([[10.0, 0.0, 19.0, 9.0]])
    assert box_iou(a, b, plus_one=True)[0, 0] == 0.0


def test_box_iou_plus_one_single_pixel_box_has_area_one():
    # [3,3,3,3] inclusive = one pixel (area 1). It lies inside [0,0,9,9] (area 100).
    # IoU = 1/100. With plus_one=False it is a zero-area box -> IoU 0.
    a = np.array([[3.0, 3.0, 3.0, 3.0]])
    b = np.array([[0.0, 0.0, 9.0, 9.0]])
    assert box_iou(a, b, plus_one=True)[0, 0] == pytest.approx(0.01)
    assert box_iou(a, b, plus_one=False)[0, 0] == 0.0


def test_box_iou_empty_boxes_give_zero_not_nan():
    # Two identical zero-area boxes: union 0 -> defined as IoU 0 (no NaN, no warning).
    a = np.array([[5.0, 5.0, 5.0, 5.0], [0.0, 0.0, 0.0, 10.0]])
    b = np.array([[5.0, 5.0, 5.0, 5.0]])
    with np.errstate(all="raise"):
        iou = box_iou(a, b)
    assert iou.shape == (2, 1)
    assert not np.any(np.isnan(iou))
    np.testing.assert_array_equal(iou, [[0.0], [0.0]])


def test_box_iou_zero_rows_give_empty_matrix():
    # N=0 or M=0 is a valid shape -> (0, M) / (N, 0) result.
    a = np.zeros((0, 4))
    b = np.array([[0.0, 0.0, 1.0, 1.0]])
    assert box_iou(a, b).shape == (0, 1)
    assert box_iou(b, a).shape == (1, 0)


@pytest.mark.parametrize(
    "bad",
    [
        np.array([0.0, 0.0, 1.0, 1.0]),  # 1-D, not (N, 4)
        np.array([[0.0, 0.0, 1.0]]),  # 3 columns
        np.zeros((1, 4, 1)),  # 3-D
    ],
)
def test_box_iou_wrong_shape_raises(bad):
    ok = np.array([[0.0, 0.0, 1.0, 1.0]])
    with pytest.raises(ValueError, match=r"shape \(N, 4\)"):
        box_iou(bad, ok)
    with pytest.raises(ValueError, match=r"b must have shape"):
        box_iou(ok, bad)


def test_box_iou_inverted_box_raises():
    ok = np.array([[0.0, 0.0, 1.0, 1.0]])
    with pytest.raises(ValueError, match=r"a\[0\] has x_max < x_min"):
        box_iou(np.array([[5.0, 0.0, 4.0, 1.0]]), ok)
    with pytest.raises(ValueError, match=r"b\[1\] has y_max < y_min"):
        box_iou(ok, np.array([[0.0, 0.0, 1.0, 1.0], [0.0, 3.0, 1.0, 2.0]]))


def test_box_iou_nonfinite_raises():
    with pytest.raises(ValueError, match="non-finite"):
        box_iou(np.array([[0.0, 0.0, np.nan, 1.0]]), np.array([[0.0, 0.0, 1.0, 1.0]]))


# ---------------------------------------------------------------- box_correct

# gt [0,0,10,10] (area 100), pred [0,0,10,5] (area 50, inside gt):
# IoU = 50/100 = 0.5 exactly (exact in binary floating point).
GT_10 = np.array([[0.0, 0.0, 10.0, 10.0]])
PRED_HALF = np.array([0.0, 0.0, 10.0, 5.0])


def test_box_correct_strict_vs_nonstrict_at_exactly_half():
    assert box_iou(PRED_HALF[None], GT_10)[0, 0] == 0.5
    # Foreground Clustering: IoU > .5 -> 0.5 is NOT correct.
    assert box_correct(PRED_HALF, GT_10, strict=True) is False
    # wsolevaluation / CoLo-CAM code: IoU >= 0.5 -> correct.
    assert box_correct(PRED_HALF, GT_10, strict=False) is True


def test_box_correct_strict_vs_nonstrict_at_exactly_half_plus_one():
    # Inclusive: gt [0,0,9,9] area 10*10=100, pred [0,0,9,4] area 10*5=50 -> IoU 0.5.
    gt = np.array([[0.0, 0.0, 9.0, 9.0]])
    pred = np.array([0.0, 0.0, 9.0, 4.0])
    assert box_correct(pred, gt, strict=True, plus_one=True) is False
    assert box_correct(pred, gt, strict=False, plus_one=True) is True
    # Continuous convention on the same numbers: areas 81 and 36, inter 36 -> 36/81 < .5.
    assert box_correct(pred, gt, strict=False, plus_one=False) is False


def test_box_correct_plus_one_flips_decision():
    # gt [0,0,10,10], pred [0,0,10,5] (pred inside gt, so inter = pred area), strict:
    # continuous: 50/100 = 0.5, not > .5 -> incorrect;
    # plus_one: pred area 11*6 = 66, gt area 11*11 = 121 -> 66/121 = 0.545 -> correct.
    gt = np.array([[0.0, 0.0, 10.0, 10.0]])
    assert box_correct(np.array([0.0, 0.0, 10.0, 5.0]), gt, plus_one=False) is False
    assert box_correct(np.array([0.0, 0.0, 10.0, 5.0]), gt, plus_one=True) is True


def test_box_correct_any_of_multiple_gts():
    # Two gt objects; pred equals the second exactly (IoU 1) and misses the first (IoU 0).
    gts = np.array([[0.0, 0.0, 10.0, 10.0], [50.0, 50.0, 60.0, 60.0]])
    pred = np.array([50.0, 50.0, 60.0, 60.0])
    assert box_correct(pred, gts) is True
    # pred overlapping neither enough: [0,0,10,4] -> 0.4 with first, 0 with second.
    assert box_correct(np.array([0.0, 0.0, 10.0, 4.0]), gts) is False


def test_box_correct_threshold_parameter():
    # IoU 0.5 passes a 0.3 threshold and fails a 0.7 threshold.
    assert box_correct(PRED_HALF, GT_10, threshold=0.3) is True
    assert box_correct(PRED_HALF, GT_10, threshold=0.7) is False


def test_box_correct_none_prediction_is_incorrect():
    assert box_correct(None, GT_10) is False


def test_box_correct_single_gt_as_1d():
    # A single (4,) gt box is accepted: identical box -> IoU 1.
    assert box_correct(np.array([0.0, 0.0, 10.0, 10.0]), np.array([0.0, 0.0, 10.0, 10.0]))


def test_box_correct_no_gt_raises():
    with pytest.raises(ValueError, match="no ground-truth boxes"):
        box_correct(PRED_HALF, np.zeros((0, 4)))
    with pytest.raises(ValueError, match="no ground-truth boxes"):
        box_correct(None, [])


def test_box_correct_bad_pred_or_threshold_raises():
    with pytest.raises(ValueError, match=r"pred must have shape \(4,\)"):
        box_correct(np.array([[0.0, 0.0, 1.0, 1.0]]), GT_10)
    with pytest.raises(ValueError, match=r"threshold must be in \[0, 1\]"):
        box_correct(PRED_HALF, GT_10, threshold=50)


# ---------------------------------------------------------------- corloc


def test_corloc_percentage():
    # 3 of 4 correct -> 75.0 %
    assert corloc([True, False, True, True]) == pytest.approx(75.0)
    # 0/1 integers accepted: 1 of 3 -> 33.33 %
    assert corloc(np.array([0, 1, 0])) == pytest.approx(100.0 / 3.0)
    assert corloc([False]) == 0.0
    assert corloc([True, True]) == 100.0


def test_corloc_errors():
    with pytest.raises(ValueError, match="empty"):
        corloc([])
    with pytest.raises(ValueError, match="booleans"):
        corloc([0, 2, 1])
    with pytest.raises(ValueError, match="1-D"):
        corloc([[True, False]])


# ---------------------------------------------------------------- binary masks

# 3x3 example:
#   gt:             pred:
#   1 1 0           1 0 0
#   1 1 255         1 1 1     <- (1,2) is void in gt: ignored even though pred=1
#   0 0 0           0 1 0
GT_BIN = np.array([[1, 1, 0], [1, 1, 255], [0, 0, 0]], dtype=np.uint8)
PRED_BIN = np.array([[1, 0, 0], [1, 1, 1], [0, 1, 0]], dtype=np.uint8)
# Non-void pixels: 8. gt fg = {(0,0),(0,1),(1,0),(1,1)} (4 px).
# pred fg (non-void) = {(0,0),(1,0),(1,1),(2,1)} (4 px).
# intersection = {(0,0),(1,0),(1,1)} = 3; union = {(0,0),(0,1),(1,0),(1,1),(2,1)} = 5.
# J = 3/5 = 0.6.
# Correct pixels (non-void): (0,0) 1=1, (0,1) 0!=1, (0,2) 0=0, (1,0) ok, (1,1) ok,
# (2,0) ok, (2,1) 1!=0, (2,2) ok -> 6 of 8 -> P = 0.75.


def test_mask_jaccard_hand_computed_with_void():
    assert mask_jaccard(PRED_BIN, GT_BIN) == pytest.approx(0.6)


def test_mask_precision_hand_computed_with_void():
    assert mask_precision(PRED_BIN, GT_BIN) == pytest.approx(0.75)


def test_void_pixel_really_ignored():
    # Flipping the prediction at the void pixel (1,2) must not change either score.
    flipped = PRED_BIN.copy()
    flipped[1, 2] = 0
    assert mask_jaccard(flipped, GT_BIN) == pytest.approx(0.6)
    assert mask_precision(flipped, GT_BIN) == pytest.approx(0.75)
    # Control: if (1,2) were real background (gt 0), pred=1 there would be a FP:
    # union 6, inter 3 -> J = 0.5; correct 6 of 9 -> P = 2/3.
    gt_novoid = GT_BIN.copy()
    gt_novoid[1, 2] = 0
    assert mask_jaccard(PRED_BIN, gt_novoid) == pytest.approx(0.5)
    assert mask_precision(PRED_BIN, gt_novoid) == pytest.approx(2.0 / 3.0)


def test_mask_both_empty_gives_one():
    # No foreground in either (void present but ignored): J = 1.0, P = 1.0 (all bg correct).
    gt = np.array([[0, 255], [0, 0]])
    pred = np.zeros((2, 2), dtype=bool)
    assert mask_jaccard(pred, gt) == 1.0
    assert mask_precision(pred, gt) == 1.0


def test_mask_disjoint_gives_zero_jaccard():
    # gt fg at (0,0) only, pred fg at (1,1) only: inter 0, union 2 -> J = 0.
    # Correct: (0,1) and (1,0) -> P = 2/4 = 0.5.
    gt = np.array([[1, 0], [0, 0]])
    pred = np.array([[False, False], [False, True]])
    assert mask_jaccard(pred, gt) == 0.0
    assert mask_precision(pred, gt) == pytest.approx(0.5)


def test_foreground_iou_equals_mask_jaccard():
    assert foreground_iou(PRED_BIN, GT_BIN) == pytest.approx(0.6)
    assert foreground_iou(PRED_BIN, GT_BIN) == mask_jaccard(PRED_BIN, GT_BIN)


@pytest.mark.parametrize("fn", [mask_jaccard, mask_precision, foreground_iou])
def test_mask_shape_mismatch_names_both_shapes(fn):
    with pytest.raises(ValueError, match=r"pred \(2, 3\) vs gt \(3, 2\)"):
        fn(np.zeros((2, 3), dtype=np.uint8), np.zeros((3, 2), dtype=np.uint8))


@pytest.mark.parametrize("fn", [mask_jaccard, mask_precision])
def test_mask_bad_values_raise(fn):
    with pytest.raises(ValueError, match=r"pred must be a binary mask"):
        fn(np.array([[0, 2]]), np.array([[0, 1]]))
    with pytest.raises(ValueError, match=r"pred must be a binary mask"):
        fn(np.array([[0, 255]]), np.array([[0, 1]]))  # void is not a prediction
    with pytest.raises(ValueError, match=r"gt must be a binary mask"):
        fn(np.array([[0, 1]]), np.array([[0, 3]]))
    with pytest.raises(ValueError, match="no non-void pixels"):
        fn(np.array([[0, 1]]), np.array([[255, 255]]))


# ---------------------------------------------------------------- confusion matrix

# 3 classes (0 = background, 1, 2), void = 255.
#   gt:            pred:
#   0 0 1          0 1 1
#   1 2 255        1 0 2      <- (1,2) void: pred 2 there is ignored
# Pairs (gt, pred): (0,0) (0,1) (1,1) (1,1) (2,0)
# conf rows = gt, cols = pred:
#   gt0: [1, 1, 0]
#   gt1: [0, 2, 0]
#   gt2: [1, 0, 0]
GT_SEM = np.array([[0, 0, 1], [1, 2, 255]])
PRED_SEM = np.array([[0, 1, 1], [1, 0, 2]])
CONF = np.array([[1, 1, 0], [0, 2, 0], [1, 0, 0]], dtype=np.int64)


def test_confusion_matrix_hand_computed():
    conf = confusion_matrix(PRED_SEM, GT_SEM, 3)
    assert conf.dtype == np.int64
    assert conf.shape == (3, 3)
    np.testing.assert_array_equal(conf, CONF)
    # 6 pixels, 1 void -> 5 counted.
    assert conf.sum() == 5


def test_confusion_matrix_ignore_index_none_counts_everything_valid():
    # With no ignore, gt 255 is an out-of-range label -> error.
    with pytest.raises(ValueError, match="gt has values outside"):
        confusion_matrix(PRED_SEM, GT_SEM, 3, ignore_index=None)


def test_confusion_matrix_custom_ignore_index():
    # gt without void; ignore_index=0 drops every gt-background pixel.
    # gt [[0,0,1],[1,2,0]] vs PRED_SEM -> kept pairs (gt,pred): (1,1) (1,1) (2,0).
    gt = np.array([[0, 0, 1], [1, 2, 0]])
    conf = confusion_matrix(PRED_SEM, gt, 3, ignore_index=0)
    np.testing.assert_array_equal(conf, [[0, 0, 0], [0, 2, 0], [1, 0, 0]])


def test_confusion_matrix_errors():
    with pytest.raises(ValueError, match=r"pred has values outside \[0, 3\)"):
        confusion_matrix(np.array([[0, 3]]), np.array([[0, 1]]), 3)
    with pytest.raises(ValueError, match=r"pred has values outside \[0, 3\)"):
        confusion_matrix(np.array([[0, -1]]), np.array([[0, 1]]), 3)
    with pytest.raises(ValueError, match=r"pred has values outside"):
        confusion_matrix(np.array([[0, 255]]), np.array([[0, 255]]), 3)
    with pytest.raises(ValueError, match=r"gt has values outside"):
        confusion_matrix(np.array([[0, 1]]), np.array([[0, 7]]), 3)
    with pytest.raises(ValueError, match=r"pred \(1, 2\) vs gt \(2, 1\)"):
        confusion_matrix(np.zeros((1, 2), int), np.zeros((2, 1), int), 3)
    with pytest.raises(ValueError, match="integer labels"):
        confusion_matrix(np.zeros((1, 2)), np.zeros((1, 2), int), 3)
    with pytest.raises(ValueError, match="num_classes"):
        confusion_matrix(np.zeros((1, 2), int), np.zeros((1, 2), int), 0)


# ---------------------------------------------------------------- per-class scores

# From CONF:
#   class 0: TP 1, FN 1 (row sum 2 - 1), FP 1 (col sum 2 - 1) -> IoU 1/3, acc 1/2
#   class 1: TP 2, FN 0, FP 1 (col sum 3 - 2)                  -> IoU 2/3, acc 1
#   class 2: TP 0, FN 1, FP 0                                  -> IoU 0,   acc 0


def test_iou_per_class_hand_computed():
    np.testing.assert_allclose(iou_per_class(CONF), [1 / 3, 2 / 3, 0.0])


def test_voc_ap_per_class_is_iou():
    # Pinheiro & Collobert footnote 4: AP = TP / (TP + FP + FN).
    np.testing.assert_array_equal(voc_ap_per_class(CONF), iou_per_class(CONF))


def test_pixel_accuracy_per_class_hand_computed():
    np.testing.assert_allclose(pixel_accuracy_per_class(CONF), [0.5, 1.0, 0.0])


def test_mean_iou_with_and_without_background():
    # all classes: (1/3 + 2/3 + 0)/3 = 1/3
    # without background, classes 1..2: (2/3 + 0)/2 = 1/3 (same by coincidence), so also
    # classes [0, 1]: (1/3 + 2/3)/2 = 0.5 and classes [1]: 2/3.
    assert mean_iou(CONF) == pytest.approx(1 / 3)
    assert mean_iou(CONF, classes=range(1, 3)) == pytest.approx(1 / 3)
    assert mean_iou(CONF, classes=[0, 1]) == pytest.approx(0.5)
    assert mean_iou(CONF, classes=[1]) == pytest.approx(2 / 3)


def test_absent_class_is_nan_and_skipped_in_mean():
    # 4 classes; class 3 never appears in gt or pred -> NaN IoU and NaN accuracy.
    conf = np.zeros((4, 4), dtype=np.int64)
    conf[:3, :3] = CONF
    iou = iou_per_class(conf)
    assert math.isnan(iou[3])
    np.testing.assert_allclose(iou[:3], [1 / 3, 2 / 3, 0.0])
    assert math.isnan(pixel_accuracy_per_class(conf)[3])
    # nanmean skips it: still 1/3 over classes 0..2.
    assert mean_iou(conf) == pytest.approx(1 / 3)


def test_predicted_only_class_has_zero_iou_and_nan_accuracy():
    # Class 1 is predicted for 1 pixel but never in gt:
    # conf = [[1, 1], [0, 0]] -> class 1: TP 0, FP 1, FN 0 -> IoU 0 (not NaN);
    # accuracy TP/(TP+FN) = 0/0 -> NaN (no gt pixels).
    conf = np.array([[1, 1], [0, 0]])
    np.testing.assert_allclose(iou_per_class(conf), [0.5, 0.0])
    acc = pixel_accuracy_per_class(conf)
    assert acc[0] == pytest.approx(0.5)
    assert math.isnan(acc[1])


def test_mean_iou_all_nan_returns_nan_without_warning():
    import warnings

    conf = np.zeros((2, 2), dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(mean_iou(conf))


def test_end_to_end_confusion_to_iou():
    # Two images accumulated: the VOC protocol sums confusion matrices, then divides.
    # img A: gt [[1,1]], pred [[1,0]] -> pairs (1,1), (1,0)
    # img B: gt [[0,0]], pred [[0,0]] -> pairs (0,0), (0,0)
    # total conf = [[2,0],[1,1]]: class0 IoU = 2/(2+1+0) = 2/3, class1 IoU = 1/(1+0+1) = 1/2
    conf = confusion_matrix(np.array([[1, 0]]), np.array([[1, 1]]), 2) + confusion_matrix(
        np.array([[0, 0]]), np.array([[0, 0]]), 2
    )
    np.testing.assert_array_equal(conf, [[2, 0], [1, 1]])
    np.testing.assert_allclose(iou_per_class(conf), [2 / 3, 1 / 2])
    assert mean_iou(conf) == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_conf_validation_errors():
    with pytest.raises(ValueError, match="square"):
        iou_per_class(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="square"):
        pixel_accuracy_per_class(np.zeros(3))
    with pytest.raises(ValueError, match="negative"):
        iou_per_class(np.array([[1, -1], [0, 1]]))
    with pytest.raises(ValueError, match=r"indices in \[0, 3\)"):
        mean_iou(CONF, classes=[0, 3])
    with pytest.raises(ValueError, match="non-empty"):
        mean_iou(CONF, classes=[])


def test_confusion_matrix_is_fast_enough_on_voc_sized_image():
    # 500x500 with 21 classes: sanity check of shape/total, bincount path.
    rng = np.random.default_rng(0)
    gt = rng.integers(0, 21, size=(500, 500))
    gt[:10] = 255
    pred = rng.integers(0, 21, size=(500, 500))
    conf = confusion_matrix(pred, gt, 21)
    assert conf.shape == (21, 21)
    assert conf.sum() == 500 * 490
