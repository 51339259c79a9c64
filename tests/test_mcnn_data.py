"""M-CNN data selection and label step: shot pruning and sampling (Sec. 4.2), class weights
(Sec. 4.2), fine-tuning shot selection (Sec. 3.3) and the EM-Adapt E-step (Sec. 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from weakseg.methods.mcnn.em_adapt import EPS, MIN_PROB, em_adapt_assign, em_adapt_labels, pixel_quotas
from weakseg.methods.mcnn.finetune import select_shots, shot_overlap
from weakseg.methods.mcnn.shots import TrainingShot, prune_shots, sample_frames, valid_run
from weakseg.methods.mcnn.weights import class_weights, weight_vector

# ---------------------------------------------------------------- pruning (Sec. 4.2)


def _fractions(*runs: tuple[int, float]) -> np.ndarray:
    """Concatenated runs of (length, foreground fraction)."""
    return np.concatenate([np.full(n, f) for n, f in runs])


def test_valid_run_drops_a_19_frame_shot_and_keeps_a_20_frame_one():
    assert valid_run(_fractions((19, 0.1))) is None
    assert valid_run(_fractions((20, 0.1))) == (0, 20)


def test_valid_run_keeps_the_longest_run_when_motion_fails_in_the_middle():
    frac = _fractions((22, 0.1), (3, 0.01), (25, 0.3))
    assert valid_run(frac) == (25, 50)
    frac = _fractions((30, 0.2), (2, 0.7), (21, 0.2))
    assert valid_run(frac) == (0, 30)


def test_valid_run_ties_go_to_the_earliest_run():
    assert valid_run(_fractions((20, 0.1), (5, 0.0), (20, 0.1))) == (0, 20)


def test_valid_run_drops_shots_without_motion_or_with_too_much_foreground():
    assert valid_run(_fractions((40, 0.6))) is None
    assert valid_run(_fractions((40, 0.0))) is None
    assert valid_run(_fractions((15, 0.1), (1, 0.9), (15, 0.1))) is None  # two runs, both too short


def test_valid_run_bounds_are_inclusive():
    frac = np.tile([0.025, 0.5], 10)
    assert valid_run(frac) == (0, 20)
    assert valid_run(np.r_[frac[:-1], 0.5000001]) is None
    assert valid_run(np.r_[0.0249999, frac[1:]]) is None


def test_valid_run_rejects_bad_input():
    with pytest.raises(ValueError, match="fg_fraction"):
        valid_run(np.full((20, 2), 0.1))
    with pytest.raises(ValueError, match="fg_fraction"):
        valid_run(np.r_[np.full(20, 0.1), np.nan])


def test_sample_frames_spreads_ten_distinct_frames_over_the_run():
    assert sample_frames(0, 20).tolist() == [0, 2, 4, 6, 8, 11, 13, 15, 17, 19]
    assert sample_frames(0, 25).tolist() == [0, 3, 5, 8, 11, 13, 16, 19, 21, 24]
    assert sample_frames(5, 15).tolist() == list(range(5, 15))
    assert sample_frames(3, 9, n=1).tolist() == [3]
    for start, stop in [(0, 10), (7, 31), (2, 100), (0, 11)]:
        s = sample_frames(start, stop)
        assert len(s) == 10 and s[0] == start and s[-1] == stop - 1 and (np.diff(s) > 0).all()
    with pytest.raises(ValueError, match="at least n frames"):
        sample_frames(0, 9)


def _shot_rows(video: str, shot: str, n: int, labels: list[str], split: str = "train", first: int = 100) -> list[dict]:
    return [{"item": f"{shot}/{first + t:04d}", "split": split, "video": video, "shot": shot,
             "frame": first + t, "labels": labels} for t in range(n)]


@pytest.fixture()
def small_index() -> tuple[pd.DataFrame, dict[str, float]]:
    """Four train shots (kept, 19 frames, 0.6 everywhere, dip in the middle), a test shot and
    a still image, rows shuffled; frame numbers start at 100."""
    rows = (_shot_rows("v1", "v1/s00", 25, ["cat"]) + _shot_rows("v1", "v1/s01", 19, ["cat"])
            + _shot_rows("v2", "v2/s00", 30, ["dog"]) + _shot_rows("v2", "v2/s01", 40, ["dog", "car"])
            + _shot_rows("v3", "v3/s00", 30, ["cat"], split="test"))
    rows.append({"item": "img001", "split": "train", "video": None, "shot": None, "frame": -1, "labels": ["cat"]})
    frac = {r["item"]: 0.1 for r in rows}
    frac.update({r["item"]: 0.6 for r in rows if r["shot"] == "v2/s00"})
    for t in range(40):  # v2/s01: valid 100..111, no motion 112..114, valid 115..139 (the longest run)
        frac[f"v2/s01/{100 + t:04d}"] = 0.0 if 12 <= t < 15 else 0.2
    index = pd.DataFrame(rows).sample(frac=1.0, random_state=0).reset_index(drop=True)
    return index, frac


def test_prune_shots_counts_and_kept_shots(small_index):
    index, frac = small_index
    kept, counts = prune_shots(index, frac, ["train"])
    assert counts == {"shots": 4, "too_short": 1, "no_motion_run": 1, "kept": 2}
    assert [s.shot for s in kept] == ["v1/s00", "v2/s01"]
    first = kept[0]
    assert first == TrainingShot(
        video="v1", shot="v1/s00", labels=("cat",),
        items=tuple(f"v1/s00/{100 + p:04d}" for p in [0, 3, 5, 8, 11, 13, 16, 19, 21, 24]),
        frame_numbers=(100, 103, 105, 108, 111, 113, 116, 119, 121, 124),
    )
    second = kept[1]
    assert second.labels == ("car", "dog")
    assert second.frame_numbers == tuple(100 + 15 + p for p in sample_frames(0, 25))
    assert second.items == tuple(f"v2/s01/{f:04d}" for f in second.frame_numbers)


def test_prune_shots_split_selection_and_missing_fractions(small_index):
    index, frac = small_index
    _, counts = prune_shots(index, frac, ["train", "test"])
    assert counts == {"shots": 5, "too_short": 1, "no_motion_run": 1, "kept": 3}
    del frac["v2/s00/0107"]
    with pytest.raises(ValueError, match="v2/s00/0107"):
        prune_shots(index, frac, ["train"])
    with pytest.raises(ValueError, match="labels"):
        prune_shots(index.drop(columns=["labels"]), frac, ["train"])


# ---------------------------------------------------------------- class balancing (Sec. 4.2)


def test_class_weights_hand_computed():
    assert class_weights({"cat": 10, "dog": 40, "car": 20}) == {"cat": 1.0, "dog": 0.25, "car": 0.5}
    assert class_weights({"boat": 7}) == {"boat": 1.0}
    assert class_weights({}) == {}
    with pytest.raises(ValueError, match="'dog'"):
        class_weights({"cat": 3, "dog": 0})
    with pytest.raises(ValueError, match="'cat'"):
        class_weights({"cat": -1})


def test_weight_vector_puts_background_first_and_balances_the_listed_classes():
    counts = {"cat": 10, "dog": 40, "car": 5}
    np.testing.assert_allclose(weight_vector(["dog", "cat"], counts), [1.0, 0.25, 1.0])
    np.testing.assert_allclose(weight_vector(["cat", "dog", "car"], counts), [1.0, 0.5, 0.125, 1.0])
    with pytest.raises(ValueError, match="horse"):
        weight_vector(["cat", "horse"], counts)


# ---------------------------------------------------------------- fine-tuning selection (Sec. 3.3)


def test_shot_overlap_hand_computed():
    pred = np.zeros((3, 4, 4), bool)
    motion = np.zeros((3, 4, 4), bool)
    pred[0, 0, :] = True          # 4 px
    motion[0, 0, 2:] = True       # 2 px inside pred, plus 2 px outside
    motion[0, 1, :2] = True       # IoU = 2 / 6
    pred[1, 1:3, 1:3] = True      # frame 1: identical masks, IoU 1
    motion[1, 1:3, 1:3] = True    # frame 2: both empty, IoU 0 by convention
    assert shot_overlap(pred, motion) == pytest.approx((2 / 6 + 1 + 0) / 3)
    assert shot_overlap(np.zeros((2, 4, 4), bool), np.zeros((2, 4, 4), bool)) == 0.0
    assert shot_overlap(pred[1:2], motion[1:2]) == 1.0
    with pytest.raises(ValueError, match="bool"):
        shot_overlap(pred.astype(np.uint8), motion)
    with pytest.raises(ValueError, match="shape"):
        shot_overlap(pred, motion[:2])


def test_select_shots_threshold_and_ties():
    overlaps = {
        "v1": {"s2": 0.5, "s1": 0.5, "s3": 0.1},   # tie -> smallest shot id
        "v2": {"a": 0.19, "b": 0.05},              # best below 0.2 -> left out
        "v3": {"b": 0.2, "a": 0.0},                # exactly 0.2 is enough
        "v4": {},
        "v0": {"x": 0.9, "y": 0.3},
    }
    chosen = select_shots(overlaps)
    assert chosen == {"v0": "x", "v1": "s1", "v3": "b"}
    assert list(chosen) == ["v0", "v1", "v3"]
    assert select_shots(overlaps, min_overlap=0.6) == {"v0": "x"}
    with pytest.raises(ValueError, match="'v1'"):
        select_shots({"v1": {"s1": float("nan")}})


# ---------------------------------------------------------------- EM-Adapt E-step (Sec. 2)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=0))
    return e / e.sum(axis=0)


def _biased(probs: np.ndarray, biases: np.ndarray) -> np.ndarray:
    return np.log(np.clip(probs, MIN_PROB, 1.0)) + biases[:, None, None]


def test_pixel_quotas():
    assert pixel_quotas(2, 100).tolist() == [40, 20]
    assert pixel_quotas(1, 7).tolist() == [3]                    # ceil(2.8)
    assert pixel_quotas(3, 101).tolist() == [41, 21, 21]         # ceil of 40.4 and 20.2
    assert pixel_quotas(4, 9216).tolist() == [3687, 1843, 1843, 1843]  # sum 1: largest remainder
    assert pixel_quotas(6, 140).tolist() == [40, 20, 20, 20, 20, 20]   # sum 1.4: scaled by 1/1.4
    with pytest.raises(ValueError, match="fg_fraction"):
        pixel_quotas(2, 100, fg_fraction=1.5)


@pytest.mark.parametrize("n_labels", [1, 2, 3, 4, 6])
def test_em_adapt_meets_the_quotas_with_a_biased_argmax_on_random_maps(n_labels):
    rng = np.random.default_rng(n_labels)
    for scale in (0.5, 3.0):
        z = rng.normal(0, scale, (n_labels, 24, 32))
        z[0] += rng.normal(0, 2)  # the network may favour or disfavour background
        probs = _softmax(z)
        labels, biases = em_adapt_assign(probs)
        assert labels.shape == (24, 32) and labels.dtype == np.int64
        counts = np.bincount(labels.ravel(), minlength=n_labels)
        frac = np.array([0.4] + [0.2] * (n_labels - 1))
        frac /= max(1.0, frac.sum())
        assert (counts >= np.floor(frac * labels.size)).all()
        assert (counts >= pixel_quotas(n_labels, labels.size)).all()
        if n_labels <= 3:  # fractions sum below 1: "at least" holds with no rounding down
            assert (counts >= frac * labels.size - 1e-9).all()
        scores = _biased(probs, biases)
        chosen = np.take_along_axis(scores, labels[None], axis=0)[0]
        assert (chosen >= scores.max(axis=0) - 2 * EPS).all()
        assert (biases >= 0).all() and ((biases == 0) | (counts == pixel_quotas(n_labels, labels.size))).all()
        np.testing.assert_array_equal(em_adapt_labels(probs), labels)


def test_em_adapt_is_the_optimal_constrained_labelling():
    """Brute-force oracle: the LP max sum log p s.t. label counts >= quotas (integral optimum)."""
    rng = np.random.default_rng(7)
    n_labels, h, w = 4, 8, 9
    n = h * w
    for _ in range(3):
        probs = _softmax(rng.normal(0, 1.5, (n_labels, h, w)))
        scores = np.log(probs).reshape(n_labels, n)
        labels = em_adapt_labels(probs).ravel()
        one_label = np.kron(np.ones(n_labels), np.eye(n))            # sum_l x[l, i] = 1
        counts = -np.kron(np.eye(n_labels), np.ones(n))               # -sum_i x[l, i] <= -m_l
        lp = linprog(-scores.ravel(), A_ub=counts, b_ub=-pixel_quotas(n_labels, n), A_eq=one_label,
                     b_eq=np.ones(n), bounds=(0, 1), method="highs")
        assert lp.status == 0
        assert scores[labels, np.arange(n)].sum() == pytest.approx(-lp.fun, abs=1e-7)


def test_em_adapt_on_a_planted_map():
    """Background 0.9 (labels 1, 2: 0.05) everywhere except a 12-pixel block where label 1 has
    0.7 and a 10-pixel stripe where label 2 rises to the right; 10 x 10 image, quotas 40 / 20 / 20.
    Optimal: label 1 keeps its block and label 2 its stripe (cheaper than the 0.9/0.05 pixels),
    each completes its quota with tied background pixels."""
    probs = np.zeros((3, 10, 10))
    probs[0], probs[1], probs[2] = 0.9, 0.05, 0.05
    probs[:, 2:5, 2:6] = np.array([0.2, 0.7, 0.1])[:, None, None]    # 12 px: label 1 wins by argmax
    ramp = np.linspace(0.06, 0.5, 10)                                 # row 8: label 2 grows to the right
    probs[0, 8], probs[1, 8], probs[2, 8] = 0.5 - ramp / 2, 0.001, ramp
    labels, biases = em_adapt_assign(probs)
    counts = np.bincount(labels.ravel(), minlength=3)
    assert counts.tolist() == [60, 20, 20]
    assert (labels[2:5, 2:6] == 1).all()           # the object block stays label 1 ...
    assert (labels[8] == 2).all()                  # ... label 2 takes its whole stripe first
    assert biases[0] == 0 and biases[1] > 0 and biases[2] > 0
    # the rest of each quota comes from the tied background pixels (flat region split by the auction)
    assert ((labels == 1) & (probs[1] == 0.05)).sum() == 8
    assert ((labels == 2) & (probs[2] == 0.05)).sum() == 10


def test_em_adapt_two_labels_takes_the_highest_likelihood_ratios():
    """Two labels: foreground must get the 20 % of pixels with the largest log p1 - log p0,
    background the 40 % with the smallest, whatever the network prefers."""
    rng = np.random.default_rng(3)
    p_fg = rng.permutation(np.linspace(0.01, 0.99, 200)).reshape(10, 20)
    for shift in (-0.4, 0.4):   # network says almost no foreground / almost all foreground
        p1 = np.clip(p_fg + shift, 0.001, 0.999)
        labels = em_adapt_labels(np.stack([1 - p1, p1]))
        ratio = np.log(p1) - np.log(1 - p1)
        order = np.argsort(-ratio.ravel(), kind="stable")
        expected_fg = max(40, int((ratio > 0).sum()))
        expected_fg = min(expected_fg, 200 - 80)
        assert labels.sum() == expected_fg
        assert labels.ravel()[order[:expected_fg]].all() and not labels.ravel()[order[expected_fg:]].any()


def test_em_adapt_splits_exact_ties_and_meets_tight_quotas():
    labels = em_adapt_labels(np.full((4, 10, 10), 0.25))        # fractions sum to 1
    assert np.bincount(labels.ravel(), minlength=4).tolist() == [40, 20, 20, 20]
    labels = em_adapt_labels(np.full((6, 7, 10), 1 / 6))         # sum 1.4: scaled down
    assert np.bincount(labels.ravel(), minlength=6).tolist() == [20, 10, 10, 10, 10, 10]


def test_em_adapt_rejects_bad_scores():
    with pytest.raises(ValueError, match="probs"):
        em_adapt_labels(np.ones((10, 10)))
    with pytest.raises(ValueError, match="probs"):
        em_adapt_labels(np.full((2, 4, 4), np.nan))
