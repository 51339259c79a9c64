"""Training frames of CoLo-CAM: shots, central range, n-frame sampling (Tab. 5), shot dropping (Tab. 7)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from weakseg.methods.colocam.frames import (
    STRATEGIES,
    Shot,
    central_range,
    drop_shots,
    previous_positions,
    sample_frames,
    training_shots,
)


def _row(item, split, cls, video, shot, frame):
    return {"item": item, "split": split, "class": cls, "video": video, "shot": shot, "frame": frame}


def _index() -> pd.DataFrame:
    rows = [
        _row("dog01/s02/0005", "train", "dog", "dog01", "s02", 5),
        _row("cat01/s01/0010", "train", "cat", "cat01", "s01", 10),
        _row("cat01/s01/0002", "train", "cat", "cat01", "s01", 2),
        _row("dog01/s01/0001", "val", "dog", "dog01", "s01", 1),
        _row("cat01/s01/0005", "train", "cat", "cat01", "s01", 5),
        _row("dog01/s02/0003", "train", "dog", "dog01", "s02", 3),
        _row("cat09/s01/0000", "test", "cat", "cat09", "s01", 0),
        _row("still/0001", "train", None, None, None, -1),
        # the same shot id in another video is another shot
        _row("dog02/s01/0000", "train", "dog", "dog02", "s01", 0),
    ]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- training_shots


def test_training_shots_sorted_with_frames_in_order():
    shots = training_shots(_index(), ["train"], ["cat", "dog"])
    assert shots == [
        Shot("cat01", "s01", "cat", ("cat01/s01/0002", "cat01/s01/0005", "cat01/s01/0010")),
        Shot("dog01", "s02", "dog", ("dog01/s02/0003", "dog01/s02/0005")),
        Shot("dog02", "s01", "dog", ("dog02/s01/0000",)),
    ]


def test_training_shots_several_splits():
    shots = training_shots(_index(), ["train", "val"], ["cat", "dog"])
    assert [(s.video, s.shot) for s in shots] == [("cat01", "s01"), ("dog01", "s01"), ("dog01", "s02"),
                                                  ("dog02", "s01")]


def test_training_shots_mixed_classes_names_item():
    index = _index()
    index.loc[index["item"] == "cat01/s01/0005", "class"] = "dog"
    with pytest.raises(ValueError, match=r"mixes classes: item 'cat01/s01/0005' is 'dog'"):
        training_shots(index, ["train"], ["cat", "dog"])


def test_training_shots_unknown_class_names_item():
    with pytest.raises(ValueError, match=r"item 'dog01/s02/0003' has class 'dog', not one of \['cat'\]"):
        training_shots(_index(), ["train"], ["cat"])


def test_training_shots_none_found_names_splits():
    index = _index()
    with pytest.raises(ValueError, match=r"no shot in splits \['val', 'test'\]"):
        training_shots(index[index["split"] == "train"], ["val", "test"], ["cat", "dog"])


def test_training_shots_repeated_frame_and_missing_column():
    index = pd.concat([_index(), pd.DataFrame([_row("cat01/s01/0005b", "train", "cat", "cat01", "s01", 5)])])
    with pytest.raises(ValueError, match=r"item 'cat01/s01/0005b' repeats a frame number of shot 's01'"):
        training_shots(index, ["train"], ["cat", "dog"])
    with pytest.raises(ValueError, match=r"missing columns \['frame'\]"):
        training_shots(_index().drop(columns="frame"), ["train"], ["cat", "dog"])
    index = _index()
    index.loc[index["item"] == "dog02/s01/0000", "video"] = None
    with pytest.raises(ValueError, match=r"item 'dog02/s01/0000' has a shot id but no video"):
        training_shots(index, ["train"], ["cat", "dog"])


# ---------------------------------------------------------------- central_range


@pytest.mark.parametrize("length, expected", [(10, (2, 8)), (1, (0, 1)), (2, (0, 1)), (3, (0, 2)),
                                              (7, (1, 5)), (100, (20, 80)), (101, (20, 81))])
def test_central_range_known_answers(length, expected):
    assert central_range(length) == expected


def test_central_range_other_fraction_and_errors():
    assert central_range(10, 1.0) == (0, 10)
    assert central_range(10, 0.01) == (4, 5)  # at least one frame
    with pytest.raises(ValueError, match="length must be >= 1"):
        central_range(0)
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\]"):
        central_range(10, 0.0)


# ---------------------------------------------------------------- sample_frames


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_short_shot_returns_all_frames(strategy):
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(sample_frames(4, 4, strategy, rng), [0, 1, 2, 3])
    np.testing.assert_array_equal(sample_frames(4, 9, strategy, rng), [0, 1, 2, 3])
    np.testing.assert_array_equal(sample_frames(20, 9, strategy, rng, window=(5, 8)), [5, 6, 7])


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_counts_distinct_sorted_inside_window(strategy):
    rng = np.random.default_rng(1)
    for _ in range(200):
        pos = sample_frames(30, 5, strategy, rng, window=(6, 24))
        assert pos.dtype == np.int64 and pos.shape == (5,)
        assert (np.diff(pos) > 0).all()  # sorted, no repetition
        assert pos.min() >= 6 and pos.max() < 24


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_seeded_draws_are_reproducible(strategy):
    a = [sample_frames(50, 4, strategy, np.random.default_rng(7)) for _ in range(2)]
    np.testing.assert_array_equal(a[0], a[1])


def test_adjacent_contiguous_and_last_frame_uniform():
    rng = np.random.default_rng(2)
    last = Counter()
    for _ in range(4000):
        pos = sample_frames(10, 3, "adjacent", rng)
        np.testing.assert_array_equal(pos, np.arange(pos[-1] - 2, pos[-1] + 1))
        last[int(pos[-1])] += 1
    assert sorted(last) == [2, 3, 4, 5, 6, 7, 8, 9]  # t in [n-1, L-1]
    assert all(400 < c < 600 for c in last.values())  # 500 expected each


def test_adjacent_in_window_offsets():
    rng = np.random.default_rng(3)
    seen = {tuple(sample_frames(10, 2, "adjacent", rng, window=(2, 5))) for _ in range(200)}
    assert seen == {(2, 3), (3, 4)}


def test_interval_one_frame_per_array_split_interval():
    rng = np.random.default_rng(4)
    slots = [set(), set(), set()]
    for _ in range(300):
        pos = sample_frames(7, 3, "interval", rng)
        for slot, p in zip(slots, pos):
            slot.add(int(p))
    assert slots == [{0, 1, 2}, {3, 4}, {5, 6}]  # np.array_split: the first 7 % 3 intervals are longer


def test_interval_in_window():
    rng = np.random.default_rng(5)
    slots = [set(), set()]
    for _ in range(200):
        for slot, p in zip(slots, sample_frames(20, 2, "interval", rng, window=(10, 14))):
            slot.add(int(p))
    assert slots == [{10, 11}, {12, 13}]


def test_gaussian_concentrates_near_middle():
    rng = np.random.default_rng(6)
    draws = np.array([sample_frames(101, 1, "gaussian", rng, sigma_fraction=0.1)[0] for _ in range(2000)])
    assert abs(draws.mean() - 50) < 3
    assert 8.5 < draws.std() < 11.5  # s = 0.1 * 101 = 10.1 frames


def test_gaussian_tiny_sigma_takes_the_middle_frames():
    rng = np.random.default_rng(8)
    np.testing.assert_array_equal(sample_frames(101, 3, "gaussian", rng, sigma_fraction=1e-3), [49, 50, 51])
    np.testing.assert_array_equal(sample_frames(100, 2, "gaussian", rng, sigma_fraction=1e-3), [49, 50])
    np.testing.assert_array_equal(
        sample_frames(100, 2, "gaussian", rng, sigma_fraction=1e-3, window=(10, 20)), [14, 15])


def test_sample_frames_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"strategy 'uniform' is not one of \['adjacent', 'interval', 'gaussian'\]"):
        sample_frames(10, 2, "uniform", rng)
    with pytest.raises(ValueError, match="n must be >= 1; got 0"):
        sample_frames(10, 0, "adjacent", rng)
    with pytest.raises(ValueError, match="length must be >= 1"):
        sample_frames(0, 1, "adjacent", rng)
    with pytest.raises(ValueError, match="sigma_fraction must be > 0"):
        sample_frames(10, 2, "gaussian", rng, sigma_fraction=0.0)
    with pytest.raises(ValueError, match=r"window must satisfy .* length=10; got \(4, 4\)"):
        sample_frames(10, 2, "interval", rng, window=(4, 4))
    with pytest.raises(ValueError, match="window must satisfy"):
        sample_frames(10, 2, "interval", rng, window=(2, 11))


# ---------------------------------------------------------------- drop_shots


def _shots() -> list[Shot]:
    sizes = {"cat": 5, "dog": 4, "horse": 3}
    return [Shot(f"{c}{i:02d}", "s01", c, (f"{c}{i:02d}/s01/0000",)) for c, k in sizes.items() for i in range(k)]


def test_drop_shots_per_class_counts_and_order():
    shots = _shots()
    kept = drop_shots(shots, 2, np.random.default_rng(0))
    assert Counter(s.cls for s in kept) == {"cat": 3, "dog": 2, "horse": 1}
    assert kept == [s for s in shots if s in kept]  # input order kept
    assert drop_shots(shots, 0, np.random.default_rng(0)) == shots


def test_drop_shots_deterministic_and_uniform():
    shots = _shots()
    a = drop_shots(shots, 2, np.random.default_rng(11))
    assert a == drop_shots(shots, 2, np.random.default_rng(11))
    dropped = Counter()
    for seed in range(1000):
        kept = set(drop_shots(shots, 1, np.random.default_rng(seed)))
        dropped.update(s.video for s in shots if s not in kept)
    assert sum(dropped.values()) == 3000
    for s in shots:  # each shot of a class of k is dropped with probability 1/k
        k = {"cat": 5, "dog": 4, "horse": 3}[s.cls]
        assert abs(dropped[s.video] / 1000 - 1 / k) < 0.06


def test_drop_shots_errors():
    with pytest.raises(ValueError, match="removing 3 shots would leave class 'horse' with none; it has 3"):
        drop_shots(_shots(), 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="m must be >= 0"):
        drop_shots(_shots(), -1, np.random.default_rng(0))


# ---------------------------------------------------------------- previous_positions


def test_previous_positions():
    np.testing.assert_array_equal(previous_positions(5, 3), [3, 4, 5])
    np.testing.assert_array_equal(previous_positions(1, 3), [0, 1])
    np.testing.assert_array_equal(previous_positions(0, 1), [0])
    with pytest.raises(ValueError, match="t >= 0 and n >= 1; got t=-1, n=2"):
        previous_positions(-1, 2)
