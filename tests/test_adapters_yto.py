"""YouTube-Objects converter (formats yto_v1, yto_v22): tiny official layouts written here with
known frames, sizes and boxes, and the authors' real split files over a fake frames tree."""

from __future__ import annotations

import os
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from weakseg.data.adapters import convert
from weakseg.data.index import Dataset, DatasetError
from weakseg.data.yto_splits import read_splits


def _frame(path: Path, width: int, height: int, value: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((height, width, 3), value, np.uint8))


def _split_files(splits: Path, classes: str, rows: dict[str, list[tuple[str, int, tuple[int, int] | None,
                                                                        list[tuple[float, ...]]]]]) -> None:
    """Write class_id.yaml and train/val/test in the wsolevaluation format from
    split -> [(id, class id, (width, height) or None, boxes)]."""
    splits.mkdir(parents=True, exist_ok=True)
    (splits / "class_id.yaml").write_text(classes)
    for split, entries in rows.items():
        (splits / split).mkdir()
        (splits / split / "image_ids.txt").write_text("".join(f"{i}\n" for i, _, _, _ in entries))
        (splits / split / "class_labels.txt").write_text("".join(f"{i},{c}\n" for i, c, _, _ in entries))
        (splits / split / "image_sizes.txt").write_text(
            "".join(f"{i},{s[0]},{s[1]}\n" for i, _, s, _ in entries if s is not None))
        (splits / split / "localization.txt").write_text(
            "".join(f"{i},{','.join(map(str, b))}\n" for i, _, _, boxes in entries for b in boxes))


# class ids out of file order: classes follow the ids, cow (0) before horse (1)
CLASSES = "{horse: 1, cow: 0}\n"

V1_TRAIN = {  # shot -> frame files (written 8x8); notes.txt is not a frame
    "cow/data/0001/shots/001": ["frame0010.jpg", "frame0003.jpg", "frame0001.jpg", "notes.txt"],
    "horse/data/0002/shots/005": ["frame0002.png", "frame0001.jpg"],
    "cow/data/0001/shots/002": ["frame0007.jpg"],
}
V1_VAL = "cow/data/0003/shots/001/frame0101.jpg"
V1_TEST = ["horse/data/0004/shots/002/frame0007.jpg", "horse/data/0004/shots/001/frame0031.jpg"]


def _v1_layout(root: Path, splits: Path) -> None:
    """YTOv1.0: 3 train shots (6 frames), 1 val frame 8x6 with one overrunning box, 2 test frames
    10x8 (two boxes, then one)."""
    for shot, files in V1_TRAIN.items():
        for name in files:
            if name.endswith("txt"):
                (root / shot / name).write_text("not a frame")
            else:
                _frame(root / shot / name, 8, 8)
    _frame(root / V1_VAL, 8, 6)
    for frame in V1_TEST:
        _frame(root / frame, 10, 8)
    _split_files(splits, CLASSES, {
        "train": [(shot, 1 if shot.startswith("horse") else 0, None, []) for shot in V1_TRAIN],
        "val": [(V1_VAL, 0, (8, 6), [(1.5, 2.25, 9.5, 6.0)])],
        "test": [(V1_TEST[0], 1, (10, 8), [(0, 0, 4.5, 3), (5, 1, 10, 8)]), (V1_TEST[1], 1, (10, 8), [(2, 3, 7, 5)])],
    })


def test_v1_tiny_layout_is_converted_exactly(tmp_path):
    root = tmp_path / "frames"
    _v1_layout(root, root / "splits")  # the default split folder <root>/splits
    index = convert("yto_v1", root, tmp_path / "out", "yto1")
    assert index["item"].tolist() == [
        "cow/data/0001/shots/001/frame0001", "cow/data/0001/shots/001/frame0003", "cow/data/0001/shots/001/frame0010",
        "horse/data/0002/shots/005/frame0001", "horse/data/0002/shots/005/frame0002",
        "cow/data/0001/shots/002/frame0007",
        "cow/data/0003/shots/001/frame0101",
        "horse/data/0004/shots/002/frame0007", "horse/data/0004/shots/001/frame0031",
    ]
    assert index["split"].tolist() == ["train"] * 6 + ["val"] + ["test"] * 2
    assert index["frame"].tolist() == [1, 3, 10, 1, 2, 7, 101, 7, 31]
    assert index["class"].tolist() == ["cow"] * 3 + ["horse"] * 2 + ["cow"] * 2 + ["horse"] * 2
    assert [list(labels) for labels in index["labels"]] == [[c] for c in index["class"]]
    assert index["video"].tolist() == ["cow/data/0001"] * 3 + ["horse/data/0002"] * 2 + [
        "cow/data/0001", "cow/data/0003", "horse/data/0004", "horse/data/0004"]
    assert index["shot"].tolist() == [i.rsplit("/", 1)[0] for i in index["item"]]
    assert index["width"].tolist() == [8] * 6 + [8, 10, 10] and index["height"].tolist() == [8] * 6 + [6, 8, 8]
    assert index["box_annotated"].tolist() == [False] * 6 + [True] * 3 and index["has_object"].all()
    assert index["image"].iloc[4] == "images/horse/data/0002/shots/005/frame0002.png"
    ds = Dataset(tmp_path / "out")
    assert ds.meta.classes == ("cow", "horse") and ds.meta.kind == "video" and ds.meta.mask_encoding == "none"
    np.testing.assert_array_equal(ds.boxes("cow/data/0003/shots/001/frame0101"), [[1.5, 2.25, 8, 6]])  # clipped
    np.testing.assert_array_equal(ds.boxes("horse/data/0004/shots/002/frame0007"), [[0, 0, 4.5, 3], [5, 1, 10, 8]])
    assert ds.row("horse/data/0004/shots/002/frame0007")["box_labels"].tolist() == ["horse", "horse"]
    assert len(ds.boxes("cow/data/0001/shots/001/frame0003")) == 0
    assert ds.image("cow/data/0003/shots/001/frame0101").shape == (6, 8, 3)


V22_TRAIN = {"horse/video-0002/shot-000004": ["00000120.jpg", "00000119.jpg"],
             "cow/video-0001/shot-000001": ["00000001.jpg"]}
V22_VAL = ["cow/video-0003/shot-000000/00000042.jpg", "cow/video-0003/shot-000001/00000100.jpg"]
V22_TEST = "horse/video-0001/shot-000002/00002166.jpg"


def _v22_layout(root: Path, splits: Path) -> None:
    """YTOv2.2: 2 train shots (3 frames), 2 val frames 12x8 (grey levels 10, 20), 1 test frame 8x8
    without boxes."""
    for shot, files in V22_TRAIN.items():
        for name in files:
            _frame(root / shot / name, 8, 8)
    for value, frame in zip((10, 20), V22_VAL):
        _frame(root / frame, 12, 8, value)
    _frame(root / V22_TEST, 8, 8)
    _split_files(splits, CLASSES, {
        "train": [(shot, 1 if shot.startswith("horse") else 0, None, []) for shot in V22_TRAIN],
        "val": [(V22_VAL[0], 0, (12, 8), [(1, 1, 12, 8)]), (V22_VAL[1], 0, (12, 8), [(3, 2, 9, 7)])],
        "test": [(V22_TEST, 1, (8, 8), [])],
    })


def test_v22_tiny_layout_with_a_split_folder_elsewhere(tmp_path):
    _v22_layout(tmp_path / "frames", tmp_path / "folds" / "YouTube-Objects-v2.2")
    index = convert("yto_v22", tmp_path / "frames", tmp_path / "out", "yto22",
                    splits=tmp_path / "folds" / "YouTube-Objects-v2.2")
    assert index["item"].tolist() == [
        "horse/video-0002/shot-000004/00000119", "horse/video-0002/shot-000004/00000120",
        "cow/video-0001/shot-000001/00000001",
        "cow/video-0003/shot-000000/00000042", "cow/video-0003/shot-000001/00000100",
        "horse/video-0001/shot-000002/00002166",
    ]
    assert index["split"].tolist() == ["train"] * 3 + ["val"] * 2 + ["test"]
    assert index["frame"].tolist() == [119, 120, 1, 42, 100, 2166]
    assert index["video"].tolist() == ["horse/video-0002"] * 2 + ["cow/video-0001"] + ["cow/video-0003"] * 2 + [
        "horse/video-0001"]
    assert index["has_object"].tolist() == [True] * 5 + [False]  # annotated, no box: no object
    assert index["box_annotated"].tolist() == [False] * 3 + [True] * 3
    assert index.groupby("split").size().to_dict() == {"test": 1, "train": 3, "val": 2}
    ds = Dataset(tmp_path / "out")
    np.testing.assert_array_equal(ds.boxes("cow/video-0003/shot-000000/00000042"), [[1, 1, 12, 8]])  # as given
    np.testing.assert_array_equal(ds.boxes("cow/video-0003/shot-000001/00000100"), [[3, 2, 9, 7]])
    assert ds.image("cow/video-0003/shot-000001/00000100").shape == (8, 12, 3)
    source = (tmp_path / "frames" / V22_VAL[1]).read_bytes()
    assert (tmp_path / "out" / "images" / "cow/video-0003/shot-000001/00000100.jpg").read_bytes() == source


def _break(root: Path, splits: Path, how: str) -> None:
    if how == "missing shot":
        for frame in (root / "cow/data/0001/shots/002").iterdir():
            frame.unlink()
        (root / "cow/data/0001/shots/002").rmdir()
    elif how == "empty shot":
        (root / "cow/data/0001/shots/002/frame0007.jpg").rename(root / "cow/data/0001/shots/002/frame7.jpeg")
    elif how == "size mismatch":
        _frame(root / V1_VAL, 9, 6)
    elif how == "missing frame":
        (root / V1_TEST[1]).unlink()
    elif how == "video in two splits":  # a val frame of a train video
        (splits / "val" / "image_ids.txt").write_text(f"{V1_VAL}\ncow/data/0001/shots/003/frame0001.jpg\n")
        (splits / "val" / "class_labels.txt").write_text(f"{V1_VAL},0\ncow/data/0001/shots/003/frame0001.jpg,0\n")
        (splits / "val" / "image_sizes.txt").write_text(f"{V1_VAL},8,6\ncow/data/0001/shots/003/frame0001.jpg,8,8\n")
    elif how == "other release":
        (splits / "test" / "image_ids.txt").write_text(f"{V1_TEST[0]}\n{V22_TEST}\n")
        (splits / "test" / "class_labels.txt").write_text(f"{V1_TEST[0]},1\n{V22_TEST},1\n")
        (splits / "test" / "image_sizes.txt").write_text(f"{V1_TEST[0]},10,8\n{V22_TEST},10,8\n")
        (splits / "test" / "localization.txt").write_text("")


@pytest.mark.parametrize("how, message", [
    ("missing shot", r"cow/data/0001/shots/002: shot folder listed in .*splits/train/image_ids\.txt not found"),
    ("empty shot", r"cow/data/0001/shots/002: no frame files \(.*\) in this shot folder listed in .*train"),
    ("size mismatch", r"shots/001/frame0101\.jpg: image is 9x6, .*splits/val/image_sizes\.txt gives 8x6"),
    ("missing frame", r"shots/001/frame0031\.jpg: test frame listed in .*splits/test/image_ids\.txt not found"),
    ("video in two splits", r"splits: video 'cow/data/0001' is in train and val \(1 shared videos\)"),
    ("other release", r"test/image_ids\.txt: 'horse/video-0001/.*' is not a YTOv1\.0 id, which format 'yto_v1'"),
])
def test_bad_layouts_name_the_file(tmp_path, how, message):
    root = tmp_path / "frames"
    _v1_layout(root, root / "splits")
    _break(root, root / "splits", how)
    with pytest.raises(DatasetError, match=message):
        convert("yto_v1", root, tmp_path / "out", "yto1")
    assert not (tmp_path / "out" / "index.parquet").exists()


def test_options_and_split_folder_are_checked(tmp_path):
    root = tmp_path / "frames"
    _v1_layout(root, tmp_path / "elsewhere")
    with pytest.raises(FileNotFoundError, match=r"frames/splits: split folder not found; .*real_datasets\.y\.splits"):
        convert("yto_v1", root, tmp_path / "out", "y")
    with pytest.raises(ValueError, match=r"options \['splits'\] that format 'voc_coseg' does not take; it takes \[\]"):
        convert("voc_coseg", root, tmp_path / "out", "y", splits=tmp_path / "elsewhere")
    with pytest.raises(ValueError, match=r"options \['split'\] .* 'yto_v1' does not take; it takes \['splits'\]"):
        convert("yto_v1", root, tmp_path / "out", "y", split=tmp_path / "elsewhere")


# README of ../shared/realdata: train shots, val frames, test frames, test boxes
REAL_COUNTS = {
    ("yto_v1", "YouTube-Objects-v1.0"): (2768, 325, 346, 396),
    ("yto_v22", "YouTube-Objects-v2.2"): (1289, 1177, 1781, 2667),
}


def _fake_frames(root: Path, splits: Path, fmt: str, proto: Path) -> None:
    """A frames tree for the real split ids: one 8x8 frame per train shot, and every val/test frame
    at its image_sizes.txt size. Identical files are hard links of one uniform JPEG per size, so
    the tree costs one imwrite per distinct size."""
    first = "frame0001.jpg" if fmt == "yto_v1" else "00000001.jpg"
    sources: dict[tuple[int, int], Path] = {}

    def link(target: Path, size: tuple[int, int]) -> None:
        if size not in sources:
            sources[size] = proto / f"{size[0]}x{size[1]}.jpg"
            _frame(sources[size], *size)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(sources[size], target)

    tables = read_splits(splits)
    for shot in tables["train"]["shot"]:
        link(root / shot / first, (8, 8))
    for split in ("val", "test"):
        for row in tables[split].itertuples(index=False):
            link(root / row.image_id, (int(row.width), int(row.height)))


@pytest.mark.parametrize("fmt, version", sorted(REAL_COUNTS))
def test_real_splits_reproduce_the_published_counts(realdata, tmp_path, fmt, version):
    splits = realdata / "youtube_objects_splits" / version
    if not splits.is_dir():
        pytest.skip(f"{splits} not found")
    _fake_frames(tmp_path / "frames", splits, fmt, tmp_path / "proto")
    start = time.perf_counter()
    index = convert(fmt, tmp_path / "frames", tmp_path / "out", fmt, splits=splits)
    seconds = time.perf_counter() - start
    train = index[index["split"] == "train"]
    test = index[index["split"] == "test"]
    counts = (train["shot"].nunique(), int((index["split"] == "val").sum()), len(test),
              int(test["boxes"].map(len).sum()))
    assert counts == REAL_COUNTS[fmt, version] and len(train) == counts[0], seconds
    assert index["box_annotated"].tolist() == (index["split"] != "train").tolist()
    assert Dataset(tmp_path / "out").meta.classes == ("aeroplane", "bird", "boat", "car", "cat", "cow", "dog",
                                                     "horse", "motorbike", "train")
    ds = Dataset(tmp_path / "out")
    if fmt == "yto_v22":  # the first test line, as given
        np.testing.assert_array_equal(ds.boxes("aeroplane/video-0002/shot-000002/00002166"), [[266, 217, 1052, 423]])
        assert tuple(ds.row("aeroplane/video-0002/shot-000002/00002166")[["width", "height"]]) == (1280, 720)
    else:  # x1 = 1281.97 overruns the 1280 px frame: clipped
        np.testing.assert_allclose(ds.boxes("boat/data/0003/shots/034/frame0001"),
                                   [[323.4493087557604, 0.0, 1280, 715.8917050691244]])
