"""CoLo-CAM evaluation: per-frame CorLoc records under the per-class and the global threshold protocols."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter

from weakseg.methods.colocam.boxes import (
    boxes_at_thresholds,
    corloc_curves_per_class,
    corloc_global_threshold,
    corloc_per_class_best_threshold,
    max_iou_at_thresholds,
)
from weakseg.methods.colocam.evaluate import EVALUATION_COLUMNS, evaluate_localization, localization_maps_at

HALO = [2.0, 2.0, 18.0, 18.0]   # the 0.5 region, rows/cols 2..17
CORE = [6.0, 6.0, 14.0, 14.0]   # the 1.0 region, rows/cols 6..13
AWAY = [0.0, 0.0, 2.0, 2.0]     # touches nothing the map ever lights up
SMALL_IOU = 81 / 289            # core box vs halo box with inclusive corners: 9x9 / 17x17
TAUS = [0.0, 0.25, 0.5, 0.75]   # uint8 cuts 0, 63, 127, 191: the halo box at 0 and 0.25, the core box at 0.5, 0.75


@pytest.fixture
def split() -> tuple[list[str], list[str], np.ndarray, list[np.ndarray]]:
    """6 frames of 20x20, all with the same map (halo 0.5 around a core 1.0); the ground truth decides.

    Class A: two frames whose object is the halo, one whose object is the core -> best tau is a
    halo tau, CorLoc 2/3. Class B: two core frames and one missed everywhere -> best tau is a core
    tau, CorLoc 2/3. Per-class protocol: (66.7 + 66.7) / 2 = 66.7. One global tau: halo taus get
    2/6, core taus 3/6 -> 50.0.
    """
    fg = np.zeros((20, 20))
    fg[2:18, 2:18] = 0.5
    fg[6:14, 6:14] = 1.0
    items = ["a1", "a2", "a3", "b1", "b2", "b3"]
    classes = ["A", "A", "A", "B", "B", "B"]
    gts = [np.array([box]) for box in (HALO, HALO, CORE, CORE, CORE, AWAY)]
    return items, classes, np.stack([fg] * 6), gts


def test_hand_made_split_gives_both_protocols(split) -> None:
    ev = evaluate_localization(*split, thresholds=TAUS)
    assert list(ev.columns) == list(EVALUATION_COLUMNS)
    assert ev["item"].tolist() == split[0] and ev["class"].tolist() == split[1]
    np.testing.assert_allclose(ev["iou_class"], [1, 1, SMALL_IOU, 1, 1, 0])
    np.testing.assert_array_equal(ev["tau_class"], [0.0, 0.0, 0.0, 0.5, 0.5, 0.5])
    assert ev["correct"].tolist() == [True, True, False, True, True, False]
    np.testing.assert_allclose(ev["iou_global"], [SMALL_IOU, SMALL_IOU, 1, 1, 1, 0])
    np.testing.assert_array_equal(ev["tau_global"], [0.5] * 6)
    assert ev["correct_global"].tolist() == [False, False, True, True, True, False]
    assert ev["correct"].dtype == bool and ev["correct_global"].dtype == bool
    per_class = 100 * ev.groupby("class")["correct"].mean()
    assert per_class.to_dict() == pytest.approx({"A": 200 / 3, "B": 200 / 3})
    assert 100 * ev["correct_global"].mean() == pytest.approx(50.0)


def test_ties_go_to_the_first_threshold_as_in_boxes(split) -> None:
    # default (ascending) thresholds: the smallest best tau. A: every tau with cut < 127, i.e. tau <= 0.498;
    # B and global: the first tau with int(tau * 255) >= 127, 0.499
    ev = evaluate_localization(*split)
    assert ev.loc[ev["class"] == "A", "tau_class"].unique().tolist() == [0.0]
    assert ev.loc[ev["class"] == "B", "tau_class"].unique().tolist() == [pytest.approx(0.499)]
    assert ev["tau_global"].unique().tolist() == [pytest.approx(0.499)]
    # reversed order: the first in the given order, as np.argmax in boxes.py
    ev = evaluate_localization(*split, thresholds=TAUS[::-1])
    np.testing.assert_array_equal(ev["tau_class"], [0.25, 0.25, 0.25, 0.75, 0.75, 0.75])
    np.testing.assert_array_equal(ev["tau_global"], [0.75] * 6)
    assert ev["correct"].tolist() == [True, True, False, True, True, False]


def test_iou_of_exactly_half_is_correct() -> None:
    # blob over rows/cols 0..8: box [0, 0, 9, 9], 10x10 with inclusive corners; gt [0, 0, 9, 4]: 10x5 -> IoU 0.5
    fg = np.zeros((1, 20, 20))
    fg[0, :9, :9] = 1.0
    ev = evaluate_localization(["f"], ["A"], fg, [np.array([[0.0, 0.0, 9.0, 4.0]])], thresholds=[0.5])
    assert ev["iou_class"].tolist() == [0.5] and ev["iou_global"].tolist() == [0.5]
    assert ev["correct"].tolist() == [True] and ev["correct_global"].tolist() == [True]


def _ious(maps: np.ndarray, gts: list[np.ndarray]) -> np.ndarray:
    return np.stack([max_iou_at_thresholds(boxes_at_thresholds(m), g, m.shape) for m, g in zip(maps, gts)])


@pytest.mark.parametrize("fixture_name", ["split", "random_split"])
def test_means_of_correct_equal_the_box_protocols(fixture_name: str, request: pytest.FixtureRequest) -> None:
    items, classes, maps, gts = request.getfixturevalue(fixture_name)
    ev = evaluate_localization(items, classes, maps, gts)
    ious = _ious(maps, gts)
    curves = corloc_curves_per_class(ious, classes)
    per_class = 100 * ev.groupby("class")["correct"].mean()
    assert per_class.to_dict() == pytest.approx({cls: curve.max() for cls, curve in curves.items()})
    value, tau_of_class = corloc_per_class_best_threshold(ious, classes)
    assert per_class.mean() == pytest.approx(value)
    assert dict(zip(ev["class"], ev["tau_class"])) == tau_of_class
    global_value, global_tau = corloc_global_threshold(ious)
    assert 100 * ev["correct_global"].mean() == pytest.approx(global_value)
    assert set(ev["tau_global"]) == {global_tau}


@pytest.fixture
def random_split() -> tuple[list[str], list[str], np.ndarray, list[np.ndarray]]:
    """12 smooth random maps of 24x32, 3 classes, 1-2 random boxes per frame."""
    rng = np.random.default_rng(3)
    maps = np.stack([gaussian_filter(rng.random((24, 32)), 3) for _ in range(12)])
    maps = (maps - maps.min(axis=(1, 2), keepdims=True)) / np.ptp(maps, axis=(1, 2), keepdims=True)
    gts = []
    for _ in range(12):
        x0, y0 = rng.integers(0, 16, size=2)
        w, h = rng.integers(4, 16, size=2)
        gts.append(np.array([[x0, y0, min(x0 + w, 32), min(y0 + h, 24)]] * rng.integers(1, 3), dtype=float))
    return [f"f{i}" for i in range(12)], ["c0", "c1", "c2"] * 4, maps, gts


def test_a_frame_without_boxes_is_named(split) -> None:
    items, classes, maps, gts = split
    gts[4] = np.zeros((0, 4))
    with pytest.raises(ValueError, match="'b2'.*empty"):
        evaluate_localization(items, classes, maps, gts)


def test_bad_inputs_raise_clear_errors(split) -> None:
    items, classes, maps, gts = split
    bad = maps.copy()
    bad[2, 0, 0] = 1.5
    with pytest.raises(ValueError, match="'a3'"):
        evaluate_localization(items, classes, bad, gts)
    with pytest.raises(ValueError, match="maps must be a float array"):
        evaluate_localization(items, classes, maps[:5], gts)
    with pytest.raises(ValueError, match="unique"):
        evaluate_localization(["a1"] * 6, classes, maps, gts)
    with pytest.raises(ValueError, match="classes"):
        evaluate_localization(items, classes[:5], maps, gts)
    with pytest.raises(ValueError, match="'a1'.*\\(k, 4\\)"):
        evaluate_localization(items, classes, maps, [np.zeros(4)] + gts[1:])


def test_localization_maps_at_resizes_bilinearly_and_clips() -> None:
    maps = torch.tensor([[[0.0, 1.0], [0.0, 1.0]], [[-1.0, 2.0], [-1.0, 2.0]]])
    out = localization_maps_at(maps, (4, 4))
    assert out.dtype == np.float32 and out.shape == (2, 4, 4)
    np.testing.assert_allclose(out[0], [[0.0, 0.25, 0.75, 1.0]] * 4)
    np.testing.assert_allclose(out[1], [[0.0, 0.0, 1.0, 1.0]] * 4)  # -1, -0.25, 1.25, 2 clipped
    with pytest.raises(ValueError, match="size"):
        localization_maps_at(maps, (4, 0))
    with pytest.raises(ValueError, match="maps"):
        localization_maps_at(maps[0], (4, 4))

