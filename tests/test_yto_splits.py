"""Readers of the CoLo-CAM / TCAM YouTube-Objects splits (wsolevaluation metadata format)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from weakseg.data.index import DatasetError
from weakseg.data.yto_splits import SPLIT_COLUMNS, read_class_ids, read_split, read_splits, split_counts

V22_VAL = "cow/video-0003/shot-000012/00000420.jpg"
V10_VAL = "cow/data/0007/shots/004/frame0101.jpg"
V22_TEST = "horse/video-0001/shot-000002/00000031.jpg"
TINY = {
    "class_id.yaml": "{cow: 0, horse: 1}\n",
    "train/image_ids.txt": "cow/video-0001/shot-000005\nhorse/data/0002/shots/017\n",
    "train/class_labels.txt": "cow/video-0001/shot-000005,0\nhorse/data/0002/shots/017,1\n",
    "train/image_sizes.txt": "",
    "train/localization.txt": "",
    "val/image_ids.txt": f"{V22_VAL}\n{V10_VAL}\n",
    "val/class_labels.txt": f"{V10_VAL},0\n{V22_VAL},0\n",
    "val/image_sizes.txt": f"{V22_VAL},1280,720\n{V10_VAL},480,360\n",
    "val/localization.txt": f"{V22_VAL},10,20,300,400\n{V10_VAL},1.5,2.25,100.75,50\n{V22_VAL},0,0,1280,720\n",
    "test/image_ids.txt": f"{V22_TEST}\n",
    "test/class_labels.txt": f"{V22_TEST},1\n",
    "test/image_sizes.txt": f"{V22_TEST},640,480\n",
    "test/localization.txt": "",
}


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A split folder in the authors' format mixing both id layouts: 2 train shots, 2 val frames (one
    with two boxes), 1 test frame without boxes."""
    for name, text in TINY.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_tiny_val_rows_are_exact(tiny: Path) -> None:
    val = read_split(tiny / "val")
    assert tuple(val.columns) == SPLIT_COLUMNS
    records = val.drop(columns="boxes").to_dict("records")
    assert records == [
        {"image_id": V22_VAL, "class_name": "cow", "video": "cow/video-0003", "shot": "cow/video-0003/shot-000012",
         "frame": "00000420.jpg", "class_id": 0, "width": 1280, "height": 720},
        {"image_id": V10_VAL, "class_name": "cow", "video": "cow/data/0007", "shot": "cow/data/0007/shots/004",
         "frame": "frame0101.jpg", "class_id": 0, "width": 480, "height": 360},
    ]
    np.testing.assert_array_equal(val["boxes"][0], [[10, 20, 300, 400], [0, 0, 1280, 720]])
    np.testing.assert_array_equal(val["boxes"][1], [[1.5, 2.25, 100.75, 50]])
    assert val["boxes"][1].dtype == np.float64


def test_tiny_train_lists_shots_without_sizes_or_boxes(tiny: Path) -> None:
    train = read_split(tiny / "train")
    assert train["image_id"].tolist() == train["shot"].tolist() == ["cow/video-0001/shot-000005",
                                                                    "horse/data/0002/shots/017"]
    assert train["video"].tolist() == ["cow/video-0001", "horse/data/0002"]
    assert train["frame"].isna().all() and train["width"].isna().all() and str(train["width"].dtype) == "Int64"
    assert [b.shape for b in train["boxes"]] == [(0, 4), (0, 4)]


def test_tiny_counts(tiny: Path) -> None:
    assert split_counts(tiny) == {
        "train": {"classes": 2, "videos": 2, "shots": 2, "frames": 0, "boxes": 0},
        "val": {"classes": 1, "videos": 2, "shots": 2, "frames": 2, "boxes": 3},
        "test": {"classes": 1, "videos": 1, "shots": 1, "frames": 1, "boxes": 0},
    }
    assert read_class_ids(tiny) == {"cow": 0, "horse": 1}


def _corrupt(folder: Path, name: str, text: str | None) -> None:
    path = folder / name
    if text is None:
        path.unlink()
    else:
        path.write_text(text)


@pytest.mark.parametrize("name, text, message", [
    ("val/localization.txt", None, r"val/localization\.txt: missing; a split folder holds image_ids\.txt"),
    ("val/image_sizes.txt", f"{V22_VAL},1280,720\n{V10_VAL},480\n",
     r"val/image_sizes\.txt:2: .*expected <image_id>,<width>,<height>"),
    ("val/image_sizes.txt", f"{V22_VAL},1280,720\n{V10_VAL},480,0\n", r"val/image_sizes\.txt:2: .*not positive"),
    ("val/image_sizes.txt", f"{V22_VAL},1280,720\n", r"val/image_sizes\.txt: no line for 1 ids .*frame0101"),
    ("val/localization.txt", f"{V22_VAL},10,20,3x0,400\n", r"val/localization\.txt:1: .*<x0>,<y0>,<x1>,<y1>"),
    ("val/localization.txt", f"{V22_VAL},10,20,5,400\n", r"val/localization\.txt:1: .* x1 < x0"),
    ("val/localization.txt", "cow/video-0009/shot-000001/1.jpg,1,2,3,4\n",
     r"val/localization\.txt:1: .*id not in .*image_ids\.txt"),
    ("val/class_labels.txt", f"{V10_VAL},0\n{V10_VAL},0\n", r"val/class_labels\.txt:2: .*second line for this id"),
    ("val/class_labels.txt", f"{V10_VAL},0\n", r"val/class_labels\.txt: no line for 1 ids"),
    ("val/class_labels.txt", f"{V10_VAL},0\n{V22_VAL},1\n", r"val/class_labels\.txt: .* has class id 1, .* 'cow' 0"),
    ("val/image_ids.txt", f"{V22_VAL}\n\n{V10_VAL}\n", r"val/image_ids\.txt:2: empty line"),
    ("val/image_ids.txt", f"{V22_VAL}\n{V22_VAL}\n", r"val/image_ids\.txt:2: .* listed twice"),
    ("val/image_ids.txt", f"{V22_VAL}\ncow/0007/frame0101.jpg\n", r"val/image_ids\.txt:2: .* neither a YTOv1\.0 id"),
    ("class_id.yaml", "[cow, horse]\n", r"class_id\.yaml: expected a non-empty mapping"),
])
def test_malformed_files_name_file_and_line(tiny: Path, name: str, text: str | None, message: str) -> None:
    _corrupt(tiny, name, text)
    with pytest.raises(DatasetError, match=message):
        read_splits(tiny)


@pytest.fixture(scope="module")
def yto_splits(realdata: Path) -> Path:
    """The authors' split files in the real data samples; skip when absent."""
    root = realdata / "youtube_objects_splits"
    if not root.is_dir():
        pytest.skip(f"{root} not found")
    return root


# The notes' counts (train shots, val/test frames and boxes); videos as in CoLo-CAM Sec. 4:
# YTOv1 128 training videos (50 of them validation) and 27 test; YTOv2.2 106 (30) and 49.
REAL_COUNTS = {
    "YouTube-Objects-v1.0": {
        "train": {"classes": 10, "videos": 78, "shots": 2768, "frames": 0, "boxes": 0},
        "val": {"classes": 10, "videos": 50, "shots": 325, "frames": 325, "boxes": 347},
        "test": {"classes": 10, "videos": 27, "shots": 346, "frames": 346, "boxes": 396},
    },
    "YouTube-Objects-v2.2": {
        "train": {"classes": 10, "videos": 76, "shots": 1289, "frames": 0, "boxes": 0},
        "val": {"classes": 10, "videos": 30, "shots": 177, "frames": 1177, "boxes": 1177},
        "test": {"classes": 10, "videos": 49, "shots": 334, "frames": 1781, "boxes": 2667},
    },
}


@pytest.mark.parametrize("version", sorted(REAL_COUNTS))
def test_real_split_counts(yto_splits: Path, version: str) -> None:
    assert split_counts(yto_splits / version) == REAL_COUNTS[version]


@pytest.mark.parametrize("version", sorted(REAL_COUNTS))
def test_real_splits_share_no_video(yto_splits: Path, version: str) -> None:
    splits = read_splits(yto_splits / version)
    videos = {split: set(table["video"]) for split, table in splits.items()}
    assert not videos["train"] & videos["val"] and not videos["train"] & videos["test"]
    assert not videos["val"] & videos["test"]
    assert read_class_ids(yto_splits / version) == {c: i for i, c in enumerate(
        ["aeroplane", "bird", "boat", "car", "cat", "cow", "dog", "horse", "motorbike", "train"])}


def test_real_first_test_row(yto_splits: Path) -> None:
    test = read_split(yto_splits / "YouTube-Objects-v2.2" / "test")
    first = test.iloc[0]
    assert (first.image_id, first.class_id, first.width, first.height) == (
        "aeroplane/video-0002/shot-000002/00002166.jpg", 0, 1280, 720)
    np.testing.assert_array_equal(first.boxes, [[266, 217, 1052, 423]])
    assert isinstance(test, pd.DataFrame) and test["image_id"].is_unique
