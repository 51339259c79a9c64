"""Co-segmentation converters (PASCAL-VOC co-seg, MSRC): tiny layouts written here with known
foreground pixels, and the real samples in ../shared/realdata when present."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from weakseg.data.adapters import convert
from weakseg.data.adapters.msrc import convert_msrc_coseg
from weakseg.data.adapters.voc_coseg import VOC_CLASSES
from weakseg.data.index import Dataset, DatasetError

H, W = 6, 8


def _mask_with_odd_values() -> tuple[np.ndarray, np.ndarray]:
    """A (H, W, 3) 0/255 mask with odd values at the threshold, and its expected binary mask."""
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[1:3, 2:5] = 255          # 6 foreground pixels
    rgb[0, 0] = 3                # faint: background
    rgb[4, 0] = 127              # at the threshold: background
    rgb[4, 1] = (128, 0, 0)      # one channel >= 128: foreground
    rgb[5, 7] = (0, 250, 0)      # one channel 250: foreground
    expected = np.zeros((H, W), np.uint8)
    expected[1:3, 2:5] = 1
    expected[4, 1] = expected[5, 7] = 1
    return rgb, expected


def _write(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)


def _pair(image: Path, mask: Path, seed: int, mask_shape: tuple[int, int] = (H, W)) -> np.ndarray:
    """Write a random image (H, W) and the odd-valued mask (of ``mask_shape``); return the expected mask."""
    _write(image, np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8))
    rgb, expected = _mask_with_odd_values()
    _write(mask, cv2.resize(rgb, mask_shape[::-1], interpolation=cv2.INTER_NEAREST))
    return expected


def _voc_layout(root: Path) -> dict[str, np.ndarray]:
    """images/<Folder>/img_NNNN.jpg + masks/<Folder>/img_NNNN.png for Aero (2), Table (1), Bus (1)."""
    names = [("Aero", "img_1001"), ("Aero", "img_1002"), ("Table", "img_0007"), ("Bus", "img_0003")]
    return {f"{folder}/{stem}": _pair(root / "images" / folder / f"{stem}.jpg",
                                      root / "masks" / folder / f"{stem}.png", seed)
            for seed, (folder, stem) in enumerate(names)}


def test_voc_coseg_converts_groups_labels_and_thresholded_masks(tmp_path):
    expected = _voc_layout(tmp_path / "src")
    index = convert("voc_coseg", tmp_path / "src", tmp_path / "out", "vc")
    assert index["item"].tolist() == ["aeroplane/img_1001", "aeroplane/img_1002", "bus/img_0003",
                                      "diningtable/img_0007"]
    assert index["group"].tolist() == index["class"].tolist() == ["aeroplane", "aeroplane", "bus", "diningtable"]
    assert [list(labels) for labels in index["labels"]] == [["aeroplane"], ["aeroplane"], ["bus"], ["diningtable"]]
    assert set(index["split"]) == {"test"} and index["has_object"].all() and not index["box_annotated"].any()
    assert index["boxes"].map(len).sum() == 0 and (index["frame"] == -1).all()
    assert (index["height"] == H).all() and (index["width"] == W).all()
    ds = Dataset(tmp_path / "out")
    assert ds.meta.classes == VOC_CLASSES and ds.meta.kind == "groups" and ds.meta.mask_encoding == "binary"
    np.testing.assert_array_equal(ds.mask("aeroplane/img_1001"), expected["Aero/img_1001"])
    assert ds.mask("diningtable/img_0007").sum() == 8
    src = tmp_path / "src" / "images" / "Table" / "img_0007.jpg"
    assert (tmp_path / "out" / ds.row("diningtable/img_0007")["image"]).read_bytes() == src.read_bytes()


def _break_voc(root: Path, how: str) -> None:
    aero = root / "images" / "Aero"
    if how == "missing mask":
        (root / "masks" / "Aero" / "img_1002.png").unlink()
    elif how == "size mismatch":
        _pair(aero / "img_1002.jpg", root / "masks" / "Aero" / "img_1002.png", 0, mask_shape=(H, W + 1))
    elif how == "unreadable image":
        (aero / "img_1002.jpg").write_bytes(b"not a jpeg")
    elif how == "unknown folder":
        aero.rename(root / "images" / "Aeroplanes")
    elif how == "orphan mask":
        (aero / "img_1002.jpg").unlink()


@pytest.mark.parametrize("how, message", [
    ("missing mask", r"Aero/img_1002\.png: mask not found for image .*Aero/img_1002\.jpg"),
    ("size mismatch", r"Aero/img_1002\.png: mask is 9x6, image is 8x6"),
    ("unreadable image", r"Aero/img_1002\.jpg: cannot read image"),
    ("unknown folder", r"images/Aeroplanes: unknown class folder 'Aeroplanes'; known: \['Aero', 'Bicycle'"),
    ("orphan mask", r"Aero/img_1002\.png: mask without an image"),
])
def test_voc_coseg_bad_layouts_name_the_file(tmp_path, how, message):
    _voc_layout(tmp_path / "src")
    _break_voc(tmp_path / "src", how)
    with pytest.raises(DatasetError, match=message):
        convert("voc_coseg", tmp_path / "src", tmp_path / "out", "vc")
    assert not (tmp_path / "out" / "index.parquet").exists()


def _msrc_class(folder: Path, stems: list[str]) -> dict[str, np.ndarray]:
    """<folder>/<stem>.bmp + <folder>/GroundTruth/<stem>.bmp, plus a file that is not an image name."""
    (folder / "GroundTruth").mkdir(parents=True)
    (folder / "notes.txt").write_text("ignored")
    return {stem: _pair(folder / f"{stem}.bmp", folder / "GroundTruth" / f"{stem}.bmp", seed)
            for seed, stem in enumerate(stems)}


def test_msrc_root_of_class_folders_gives_one_group_per_class_in_numeric_order(tmp_path):
    expected = _msrc_class(tmp_path / "src" / "Cow", ["5_10_s", "5_2_s", "5_1_s"])
    _msrc_class(tmp_path / "src" / "sheep", ["6_3_s"])
    index = convert("msrc_coseg", tmp_path / "src", tmp_path / "out", "ms")
    assert index["item"].tolist() == ["cow/5_1_s", "cow/5_2_s", "cow/5_10_s", "sheep/6_3_s"]
    assert index["group"].tolist() == ["cow", "cow", "cow", "sheep"]
    assert [list(labels) for labels in index["labels"]] == [["cow"]] * 3 + [["sheep"]]
    assert index["has_object"].all() and not index["box_annotated"].any() and set(index["split"]) == {"test"}
    ds = Dataset(tmp_path / "out")
    assert ds.meta.classes == ("cow", "sheep") and ds.meta.mask_encoding == "binary"
    np.testing.assert_array_equal(ds.mask("cow/5_10_s"), expected["5_10_s"])
    source = cv2.cvtColor(cv2.imread(str(tmp_path / "src" / "Cow" / "5_10_s.bmp")), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(ds.image("cow/5_10_s"), source)


@pytest.mark.parametrize("folder, cls, expected", [("msrc_cow", None, "cow"), ("group5", "cow", "cow"),
                                                   ("Horse", None, "horse")])
def test_msrc_single_class_folder_is_named_by_cls_or_its_folder(tmp_path, folder, cls, expected):
    _msrc_class(tmp_path / folder, ["5_1_s", "5_2_s"])
    index = convert_msrc_coseg(tmp_path / folder, tmp_path / "out", "ms", cls=cls)
    assert index["item"].tolist() == [f"{expected}/5_1_s", f"{expected}/5_2_s"]
    assert Dataset(tmp_path / "out").meta.classes == (expected,)


def test_msrc_bad_layouts_name_the_file(tmp_path):
    cow = tmp_path / "src" / "cow"
    _msrc_class(cow, ["5_1_s", "5_2_s"])
    _pair(cow / "5_2_s.bmp", cow / "GroundTruth" / "5_2_s.bmp", 0, mask_shape=(H + 1, W))
    with pytest.raises(DatasetError, match=r"cow/GroundTruth/5_2_s\.bmp: mask is 8x7, image is 8x6"):
        convert("msrc_coseg", tmp_path / "src", tmp_path / "out", "ms")
    (cow / "GroundTruth" / "5_2_s.bmp").unlink()
    with pytest.raises(DatasetError, match=r"GroundTruth/5_2_s\.bmp: mask not found for image .*cow/5_2_s\.bmp"):
        convert("msrc_coseg", tmp_path / "src", tmp_path / "out", "ms")
    with pytest.raises(ValueError, match=r"cls='cow' names the class of a single class folder"):
        convert_msrc_coseg(tmp_path / "src", tmp_path / "out", "ms", cls="cow")
    (tmp_path / "src" / "sheep").mkdir()
    with pytest.raises(DatasetError, match=r"src/sheep: no GroundTruth/ folder"):
        convert("msrc_coseg", tmp_path / "src", tmp_path / "out", "ms")
    (tmp_path / "src" / "sheep" / "GroundTruth").mkdir()
    with pytest.raises(DatasetError, match=r"src/sheep: no <N>_<M>_s\.bmp images"):
        convert("msrc_coseg", tmp_path / "src", tmp_path / "out", "ms")


def _oracle_mask(path: Path) -> np.ndarray:
    """Foreground by PIL (independent of the converter's OpenCV reader): any RGB channel >= 128."""
    return (np.asarray(Image.open(path).convert("RGB")).max(axis=2) >= 128).astype(np.uint8)


def _check_real(ds: Dataset, image_of: dict[str, Path], mask_of: dict[str, Path], oracle: list[str]) -> None:
    """Every mask binary and of its image's size (read by PIL); ``oracle`` items equal the PIL threshold."""
    for row in ds.items().itertuples(index=False):
        mask = ds.mask(row.item)
        assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 1} and mask.any(), row.item
        assert Image.open(image_of[row.item]).size == (row.width, row.height) == mask.shape[::-1], row.item
    for item in oracle:
        np.testing.assert_array_equal(ds.mask(item), _oracle_mask(mask_of[item]))


VOC_COUNTS = {"aeroplane": 66, "bicycle": 43, "bird": 77, "boat": 54, "bottle": 44, "bus": 47, "car": 63,
              "cat": 75, "chair": 48, "cow": 34, "diningtable": 14, "dog": 76, "horse": 40, "motorbike": 56,
              "person": 115, "pottedplant": 41, "sheep": 39, "sofa": 26, "train": 32, "tvmonitor": 47}
VOC_FOLDERS = {"aeroplane": "Aero", "diningtable": "Table", "motorbike": "Mbike", "pottedplant": "Plant",
               "tvmonitor": "Monitor"}


def test_voc_coseg_real_sample(realdata, tmp_path):
    root = realdata / "pascal_voc_coseg"
    start = time.perf_counter()
    index = convert("voc_coseg", root, tmp_path / "vc", "vc")
    assert time.perf_counter() - start < 60
    assert len(index) == 1037 and index["group"].nunique() == 20
    assert index.groupby("class").size().to_dict() == VOC_COUNTS and sum(VOC_COUNTS.values()) == 1037
    assert [list(labels) for labels in index["labels"]] == [[c] for c in index["class"]]
    ds = Dataset(tmp_path / "vc")
    files = {item: (VOC_FOLDERS.get(cls, cls.capitalize()), item.split("/")[1])
             for item, cls in zip(index["item"], index["class"])}
    _check_real(ds, {i: root / "images" / f / f"{s}.jpg" for i, (f, s) in files.items()},
                {i: root / "masks" / f / f"{s}.png" for i, (f, s) in files.items()},
                oracle=["aeroplane/img_1001", index["item"].iloc[-1]])
    assert ds.mask("aeroplane/img_1001").sum() == 11416 and ds.image("aeroplane/img_1001").shape == (250, 375, 3)


def test_msrc_cow_real_sample(realdata, tmp_path):
    root = realdata / "msrc_cow"
    index = convert("msrc_coseg", root, tmp_path / "ms", "ms")
    assert len(index) == 30 and set(index["group"]) == {"cow"}
    assert index["item"].tolist() == [f"cow/5_{m}_s" for m in range(1, 31)]
    ds = Dataset(tmp_path / "ms")
    assert ds.meta.classes == ("cow",)
    stems = {item: item.split("/")[1] for item in index["item"]}
    # 5_1_s has grey edge pixels (15..103 per channel), 5_12_s has 8 and 247: all resolved at 128
    _check_real(ds, {i: root / f"{s}.bmp" for i, s in stems.items()},
                {i: root / "GroundTruth" / f"{s}.bmp" for i, s in stems.items()}, oracle=["cow/5_1_s", "cow/5_12_s"])
    assert ds.mask("cow/5_1_s").sum() == 24509 and ds.mask("cow/5_12_s").sum() == 22442
