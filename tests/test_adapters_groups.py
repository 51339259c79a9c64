"""Converters of the co-segmentation benchmarks in their released layouts (Object Discovery,
iCoseg, MSRC-v2 database, COCO 2017 -> COCO-SEG groups): tiny layouts written here with known
masks, exact expected indexes and masks, and errors that name the bad file."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils

from weakseg.data.adapters.coco_seg import convert_coco_seg
from weakseg.data.adapters.icoseg import convert_icoseg, group_name
from weakseg.data.adapters.msrc_v2 import CLASS_COLOURS, convert_msrc_v2
from weakseg.data.adapters.object_discovery import component_boxes, convert_object_discovery
from weakseg.data.index import Dataset, DatasetError

H, W = 6, 8


def _write(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)


def _image(path: Path, seed: int, shape: tuple[int, int] = (H, W)) -> None:
    _write(path, np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8))


def _two_blobs() -> np.ndarray:
    """Binary (H, W): a 3x2 block (rows 1-2, cols 2-4) and one pixel at row 5, col 7."""
    fg = np.zeros((H, W), np.uint8)
    fg[1:3, 2:5] = 1
    fg[5, 7] = 1
    return fg


# ---------------------------------------------------------------- Object Discovery


def _discovery(data: Path) -> dict[str, np.ndarray]:
    """Data/{Airplane,Car,Horse}100 in the three value ranges of the release; returns expected masks."""
    blobs = _two_blobs()
    _image(data / "Airplane100" / "0018.jpg", 0)
    _write(data / "Airplane100" / "GroundTruth" / "0018.png", blobs * 255)        # grey 0/255
    _image(data / "Airplane100" / "0026.jpg", 1)
    _write(data / "Airplane100" / "GroundTruth" / "0026.png", np.zeros((H, W), np.uint8))  # noise image
    _image(data / "Car100" / "0008.jpg", 2)
    _write(data / "Car100" / "GroundTruth" / "0008.png", blobs)                   # grey 0/1
    _image(data / "Horse100" / "0003.jpg", 3)
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[blobs == 1] = (0, 0, 3)                                                   # faint colour, still object
    _write(data / "Horse100" / "GroundTruth" / "0003.png", rgb)
    (data.parent / "Results").mkdir(parents=True, exist_ok=True)                  # the authors' outputs: ignored
    return {"airplane/0018": blobs, "airplane/0026": np.zeros((H, W), np.uint8), "car/0008": blobs,
            "horse/0003": blobs}


def test_object_discovery_100_subsets_groups_noise_images_and_nonzero_masks(tmp_path):
    expected = _discovery(tmp_path / "src" / "Data")
    index = convert_object_discovery(tmp_path / "src", tmp_path / "out", "od")
    assert index["item"].tolist() == ["airplane/0018", "airplane/0026", "car/0008", "horse/0003"]
    assert index["group"].tolist() == index["class"].tolist() == ["airplane", "airplane", "car", "horse"]
    assert [list(labels) for labels in index["labels"]] == [["airplane"], ["airplane"], ["car"], ["horse"]]
    assert index["has_object"].tolist() == [True, False, True, True]
    assert set(index["split"]) == {"test"} and not index["box_annotated"].any() and index["boxes"].map(len).sum() == 0
    ds = Dataset(tmp_path / "out")
    assert ds.meta.classes == ("airplane", "car", "horse") and ds.meta.mask_encoding == "binary"
    for item, mask in expected.items():
        np.testing.assert_array_equal(ds.mask(item), mask)
    src = tmp_path / "src" / "Data" / "Car100" / "0008.jpg"
    assert (tmp_path / "out" / ds.row("car/0008")["image"]).read_bytes() == src.read_bytes()


def test_object_discovery_boxes_are_mask_components_above_the_area(tmp_path):
    _discovery(tmp_path / "Data")
    index = convert_object_discovery(tmp_path, tmp_path / "out", "od", box_min_area=2).set_index("item")
    assert index["box_annotated"].all()
    assert [list(b) for b in index.loc["airplane/0018", "boxes"]] == [[2.0, 1.0, 5.0, 3.0]]
    assert list(index.loc["airplane/0018", "box_labels"]) == ["airplane"]
    assert len(index.loc["airplane/0026", "boxes"]) == 0          # noise image: annotated, no object
    assert component_boxes(_two_blobs(), 0) == [[2.0, 1.0, 5.0, 3.0], [7.0, 5.0, 8.0, 6.0]]


def test_object_discovery_full_sets_leave_images_without_ground_truth_unannotated(tmp_path):
    data = tmp_path / "Data"                                    # root may be Data/ itself
    for folder in ("Airplane", "Car", "Horse"):
        _image(data / folder / "0001.jpg", 0)
        _write(data / folder / "GroundTruth" / "0001.png", _two_blobs() * 255)
        _image(data / folder / "0002.jpg", 1)
    _discovery(data)                                            # the 100-subsets beside them are not read
    index = convert_object_discovery(data, tmp_path / "out", "od", subset="full", box_min_area=0)
    assert index["item"].tolist() == ["airplane/0001", "airplane/0002", "car/0001", "car/0002",
                                      "horse/0001", "horse/0002"]
    assert index["mask"].isna().tolist() == [False, True] * 3
    assert index["has_object"].all() and index["box_annotated"].tolist() == [True, False] * 3


def _break_discovery(data: Path, how: str) -> None:
    if how == "missing mask":
        (data / "Airplane100" / "GroundTruth" / "0026.png").unlink()
    elif how == "missing class":
        (data / "Car100" / "GroundTruth" / "0008.png").unlink()
        (data / "Car100" / "GroundTruth").rmdir()
    elif how == "orphan mask":
        (data / "Horse100" / "0003.jpg").unlink()
        _image(data / "Horse100" / "0004.jpg", 4)
        _write(data / "Horse100" / "GroundTruth" / "0004.png", _two_blobs())
    elif how == "size mismatch":
        _write(data / "Car100" / "GroundTruth" / "0008.png", np.zeros((H, W + 1), np.uint8))
    elif how == "16-bit mask":
        _write(data / "Car100" / "GroundTruth" / "0008.png", np.zeros((H, W), np.uint16))


@pytest.mark.parametrize("how, message", [
    ("missing mask", r"Airplane100/GroundTruth/0026\.png: mask not found for image .*Airplane100/0026\.jpg"),
    ("missing class", r"Car100/GroundTruth: not found; expected Data/<Class>100/NNNN\.jpg"),
    ("orphan mask", r"Horse100/GroundTruth/0003\.png: mask without an image"),
    ("size mismatch", r"Car100/GroundTruth/0008\.png: mask is 9x6, image is 8x6"),
    ("16-bit mask", r"Car100/GroundTruth/0008\.png: mask is uint16, expected 8-bit"),
])
def test_object_discovery_bad_layouts_name_the_file(tmp_path, how, message):
    _discovery(tmp_path / "Data")
    _break_discovery(tmp_path / "Data", how)
    with pytest.raises(DatasetError, match=message):
        convert_object_discovery(tmp_path, tmp_path / "out", "od")
    assert not (tmp_path / "out" / "index.parquet").exists()


def test_object_discovery_rejects_an_unknown_subset(tmp_path):
    with pytest.raises(ValueError, match=r"subset='50': expected one of \['100', 'full'\]"):
        convert_object_discovery(tmp_path, tmp_path / "out", "od", subset="50")


# ---------------------------------------------------------------- iCoseg

ELEPHANTS = "021 Elephants-safari June 2008-timd2000"


def _icoseg(base: Path) -> dict[str, np.ndarray]:
    """dataset_public/{images,ground_truth}/<Folder>/ with Flickr-id names and a Thumbs.db."""
    blobs = _two_blobs()
    files = [(ELEPHANTS, "2909969005_2a0d4538d6"), (ELEPHANTS, "2909997139_6a56ef0e1d"), ("brown_bear", "bear_01")]
    for seed, (folder, stem) in enumerate(files):
        _image(base / "images" / folder / f"{stem}.jpg", seed)
        mask = np.roll(blobs, seed, axis=1) * 255
        mask[0, 0] = 127                                           # below the threshold: background
        _write(base / "ground_truth" / folder / f"{stem}.png", mask)
    (base / "images" / ELEPHANTS / "Thumbs.db").write_bytes(b"not an image")
    return {f"{group_name(folder)}/{stem}": np.roll(blobs, seed, axis=1) for seed, (folder, stem) in enumerate(files)}


def test_icoseg_every_folder_is_a_group_named_from_its_folder(tmp_path):
    expected = _icoseg(tmp_path / "src" / "dataset_public")
    index = convert_icoseg(tmp_path / "src", tmp_path / "out", "ic")
    elephants = "021_elephants_safari_june_2008_timd2000"
    assert index["item"].tolist() == [f"{elephants}/2909969005_2a0d4538d6", f"{elephants}/2909997139_6a56ef0e1d",
                                      "brown_bear/bear_01"]
    assert index["group"].tolist() == index["class"].tolist() == [elephants, elephants, "brown_bear"]
    assert [list(labels) for labels in index["labels"]] == [[elephants], [elephants], ["brown_bear"]]
    assert index["has_object"].all() and set(index["split"]) == {"test"}
    ds = Dataset(tmp_path / "out")
    assert ds.meta.classes == (elephants, "brown_bear") and ds.meta.mask_encoding == "binary"
    for item, mask in expected.items():
        np.testing.assert_array_equal(ds.mask(item), mask)


def test_icoseg_groups_option_converts_named_folders_only(tmp_path):
    expected = _icoseg(tmp_path / "dataset_public")
    index = convert_icoseg(tmp_path / "dataset_public", tmp_path / "out", "ic", groups={"elephant": ELEPHANTS})
    assert index["item"].tolist() == ["elephant/2909969005_2a0d4538d6", "elephant/2909997139_6a56ef0e1d"]
    assert Dataset(tmp_path / "out").meta.classes == ("elephant",)
    np.testing.assert_array_equal(Dataset(tmp_path / "out").mask("elephant/2909997139_6a56ef0e1d"),
                                  expected["021_elephants_safari_june_2008_timd2000/2909997139_6a56ef0e1d"])


def test_icoseg_bad_layouts_name_the_file(tmp_path):
    base = tmp_path / "dataset_public"
    _icoseg(base)
    with pytest.raises(DatasetError, match=r"images/021 Elephant: folder not found; the 'groups' option names"):
        convert_icoseg(tmp_path, tmp_path / "out", "ic", groups={"elephant": "021 Elephant"})
    (base / "ground_truth" / "brown_bear" / "bear_01.png").unlink()
    with pytest.raises(DatasetError, match=r"ground_truth/brown_bear/bear_01\.png: mask not found for image"):
        convert_icoseg(tmp_path, tmp_path / "out", "ic")
    (base / "images" / "Brown Bear").mkdir()
    with pytest.raises(DatasetError, match=r"images/brown_bear: folder name gives group 'brown_bear', already used"):
        convert_icoseg(tmp_path, tmp_path / "out", "ic")
    (base / "images" / "Brown Bear").rmdir()
    for mask in (base / "ground_truth" / ELEPHANTS).iterdir():
        mask.unlink()
    (base / "ground_truth" / ELEPHANTS).rmdir()
    (base / "ground_truth" / "brown_bear").rmdir()
    (base / "ground_truth").rmdir()
    with pytest.raises(DatasetError, match=r"dataset_public/ground_truth: not found; expected dataset_public/images"):
        convert_icoseg(tmp_path, tmp_path / "out", "ic")
    assert not (tmp_path / "out" / "index.parquet").exists()


# ---------------------------------------------------------------- MSRC-v2 database


def _gt(labels: dict[tuple[int, int, int, int], str]) -> np.ndarray:
    """An RGB ground truth (H, W, 3): grass inside a void frame, and class blocks (row0, row1, col0, col1)."""
    rgb = np.zeros((H, W, 3), np.uint8)
    rgb[1:-1, 1:-1] = CLASS_COLOURS["grass"]
    for (r0, r1, c0, c1), label in labels.items():
        rgb[r0:r1, c0:c1] = CLASS_COLOURS[label]
    return rgb


def _msrc_v2(root: Path) -> None:
    """Images/<r>_<n>_s.bmp + GroundTruth/<r>_<n>_s_GT.bmp: cow row 5 (one image without a cow),
    aeroplane row 4, bird row 12, a scene row 1 with a cow."""
    block = (2, 4, 2, 5)
    scenes = {"5_1_s": {block: "cow"}, "5_2_s": {}, "5_10_s": {block: "cow", (4, 5, 5, 7): "sheep"},
              "4_1_s": {block: "aeroplane"}, "12_1_s": {block: "bird"}, "1_1_s": {block: "cow"}}
    for seed, (stem, labels) in enumerate(scenes.items()):
        _image(root / "Images" / f"{stem}.bmp", seed)
        _write(root / "GroundTruth" / f"{stem}_GT.bmp", cv2.cvtColor(_gt(labels), cv2.COLOR_RGB2BGR))
    (root / "Images" / "readme.txt").write_text("not an image name")


def _expected_msrc(void: int, cls_block: bool) -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    mask[0, :] = mask[-1, :] = mask[:, 0] = mask[:, -1] = void
    if cls_block:
        mask[2:4, 2:5] = 1
    return mask


def test_msrc_v2_groups_are_the_class_rows_with_class_masks_and_void(tmp_path):
    _msrc_v2(tmp_path / "db")
    index = convert_msrc_v2(tmp_path / "db", tmp_path / "out", "ms", classes=("cow", "plane", "bird"))
    assert index["item"].tolist() == ["cow/5_1_s", "cow/5_2_s", "cow/5_10_s", "plane/4_1_s", "bird/12_1_s"]
    assert index["group"].tolist() == index["class"].tolist() == ["cow", "cow", "cow", "plane", "bird"]
    assert [list(labels) for labels in index["labels"]] == [["cow"]] * 3 + [["plane"], ["bird"]]
    assert index["has_object"].tolist() == [True, False, True, True, True]
    ds = Dataset(tmp_path / "out")
    assert ds.meta.classes == ("cow", "plane", "bird") and ds.meta.mask_encoding == "binary"
    np.testing.assert_array_equal(ds.mask("cow/5_1_s"), _expected_msrc(255, True))
    np.testing.assert_array_equal(ds.mask("cow/5_2_s"), _expected_msrc(255, False))
    np.testing.assert_array_equal(ds.mask("cow/5_10_s"), _expected_msrc(255, True))   # the sheep is background
    np.testing.assert_array_equal(ds.mask("plane/4_1_s"), _expected_msrc(255, True))
    source = cv2.cvtColor(cv2.imread(str(tmp_path / "db" / "Images" / "12_1_s.bmp")), cv2.COLOR_BGR2RGB)
    np.testing.assert_array_equal(ds.image("bird/12_1_s"), source)


def test_msrc_v2_void_as_background_and_rows_override(tmp_path):
    _msrc_v2(tmp_path / "db")
    index = convert_msrc_v2(tmp_path / "db", tmp_path / "out", "ms", classes=("cow",), rows={"cow": 1},
                            void="background")
    assert index["item"].tolist() == ["cow/1_1_s"]
    np.testing.assert_array_equal(Dataset(tmp_path / "out").mask("cow/1_1_s"), _expected_msrc(0, True))


def test_msrc_v2_bad_layouts_and_options(tmp_path):
    root = tmp_path / "db"
    _msrc_v2(root)
    with pytest.raises(ValueError, match=r"classes \['grass'\] have no row of their own"):
        convert_msrc_v2(root, tmp_path / "out", "ms", classes=("grass",))
    with pytest.raises(ValueError, match=r"classes \['cow', 'cat2'\]: expected distinct MSRC-v2 labels"):
        convert_msrc_v2(root, tmp_path / "out", "ms", classes=("cow", "cat2"))
    with pytest.raises(ValueError, match=r"void='ignore': expected one of \['void', 'background'\]"):
        convert_msrc_v2(root, tmp_path / "out", "ms", void="ignore")
    with pytest.raises(DatasetError, match=r"Images: no images in row 3 given for class 'cow'"):
        convert_msrc_v2(root, tmp_path / "out", "ms", classes=("cow",), rows={"cow": 3})
    bad = _gt({})
    bad[3, 3] = (1, 2, 3)
    _write(root / "GroundTruth" / "5_2_s_GT.bmp", cv2.cvtColor(bad, cv2.COLOR_RGB2BGR))
    with pytest.raises(DatasetError, match=r"5_2_s_GT\.bmp: colour \(1, 2, 3\) is not in the MSRC-v2 colour map"):
        convert_msrc_v2(root, tmp_path / "out", "ms", classes=("cow",))
    _write(root / "GroundTruth" / "5_2_s_GT.bmp", np.zeros((H + 1, W, 3), np.uint8))
    with pytest.raises(DatasetError, match=r"5_2_s_GT\.bmp: ground truth is 8x7, image is 8x6"):
        convert_msrc_v2(root, tmp_path / "out", "ms", classes=("cow",))
    (root / "GroundTruth" / "5_2_s_GT.bmp").unlink()
    with pytest.raises(DatasetError, match=r"GroundTruth/5_2_s_GT\.bmp: ground truth not found for image"):
        convert_msrc_v2(root, tmp_path / "out", "ms", classes=("cow",))
    assert not (tmp_path / "out" / "index.parquet").exists()


# ---------------------------------------------------------------- COCO 2017 -> COCO-SEG groups


def _rle(mask: np.ndarray) -> dict:
    """Compressed RLE of a binary (H, W) mask, JSON-ready."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": rle["size"], "counts": rle["counts"].decode("ascii")}


def _coco(root: Path) -> dict[str, np.ndarray]:
    """annotations/instances_{train,val}2017.json + images; returns the expected masks."""
    categories = [{"id": 1, "name": "person"}, {"id": 18, "name": "dog"}, {"id": 88, "name": "teddy bear"}]
    dog_rle = np.zeros((H, W), np.uint8)
    dog_rle[4:6, 0:2] = 1
    train_ann = [
        # image 1: two dogs (polygon + compressed RLE), a crowd of persons (uncompressed RLE) and one person
        {"id": 1, "image_id": 1, "category_id": 18, "iscrowd": 0, "segmentation": [[2, 1, 5, 1, 5, 3, 2, 3]]},
        {"id": 2, "image_id": 1, "category_id": 18, "iscrowd": 0, "segmentation": _rle(dog_rle)},
        {"id": 3, "image_id": 1, "category_id": 1, "iscrowd": 1,
         "segmentation": {"size": [H, W], "counts": [6, 2, 4, 2, 34]}},
        {"id": 4, "image_id": 1, "category_id": 1, "iscrowd": 0, "segmentation": [[1, 1, 3, 1, 3, 2, 1, 2]]},
        # image 2: a one-pixel teddy bear
        {"id": 5, "image_id": 2, "category_id": 88, "iscrowd": 0, "segmentation": _rle(_one_pixel())},
    ]
    val_ann = [{"id": 6, "image_id": 3, "category_id": 18, "iscrowd": 0, "segmentation": [[0, 0, 8, 0, 8, 6, 0, 6]]}]
    files = {"train2017": [(1, "000000000001.jpg"), (2, "000000000002.jpg"), (4, "000000000004.jpg")],
             "val2017": [(3, "000000000003.jpg")]}
    for split, anns in (("train2017", train_ann), ("val2017", val_ann)):
        images = [{"id": i, "file_name": f, "height": H, "width": W} for i, f in files[split]]
        for seed, (_, file_name) in enumerate(files[split]):
            _image(root / split / file_name, seed)
        path = root / "annotations" / f"instances_{split}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"images": images, "annotations": anns, "categories": categories}))
    dog = np.zeros((H, W), np.uint8)
    dog[1:3, 2:5] = 1
    dog[4:6, 0:2] = 1
    person = np.zeros((H, W), np.uint8)
    person[0:2, 1:3] = 255                         # the crowd region ...
    person[1, 1:3] = 1                             # ... where the single person is, foreground
    return {"dog/000000000001": dog, "person/000000000001": person, "teddy_bear/000000000002": _one_pixel(),
            "dog/000000000003": np.ones((H, W), np.uint8)}


def _one_pixel() -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    mask[3, 6] = 1
    return mask


def test_coco_seg_items_are_image_category_pairs_with_union_masks_and_crowd_void(tmp_path):
    expected = _coco(tmp_path / "coco")
    index = convert_coco_seg(tmp_path / "coco", tmp_path / "out", "cs")
    assert index["item"].tolist() == ["person/000000000001", "dog/000000000001", "teddy_bear/000000000002",
                                      "dog/000000000003"]
    assert index["split"].tolist() == ["train", "train", "train", "val"]
    assert index["group"].tolist() == index["class"].tolist() == ["person", "dog", "teddy_bear", "dog"]
    assert [list(labels) for labels in index["labels"]] == [["person"], ["dog"], ["teddy_bear"], ["dog"]]
    assert index["has_object"].all() and not index["box_annotated"].any()
    ds = Dataset(tmp_path / "out")
    assert ds.meta.classes == ("person", "dog", "teddy_bear") and ds.meta.mask_encoding == "binary"
    for item, mask in expected.items():
        np.testing.assert_array_equal(ds.mask(item), mask)
    src = tmp_path / "coco" / "train2017" / "000000000001.jpg"
    assert (tmp_path / "out" / ds.row("dog/000000000001")["image"]).read_bytes() == src.read_bytes()


def test_coco_seg_area_threshold_categories_and_splits(tmp_path):
    _coco(tmp_path / "coco")
    # person: 2/48 foreground pixels (void excluded), dog: 10/48, teddy bear: 1/48
    index = convert_coco_seg(tmp_path / "coco", tmp_path / "out", "cs", splits=("train2017",),
                             min_area_fraction=2 / 48)
    assert index["item"].tolist() == ["person/000000000001", "dog/000000000001"]
    index = convert_coco_seg(tmp_path / "coco", tmp_path / "out", "cs", categories=["dog", "teddy bear"])
    assert index["item"].tolist() == ["dog/000000000001", "teddy_bear/000000000002", "dog/000000000003"]
    assert Dataset(tmp_path / "out").meta.classes == ("dog", "teddy_bear")


def test_coco_seg_bad_layouts_and_options_name_the_problem(tmp_path):
    root = tmp_path / "coco"
    _coco(root)
    with pytest.raises(ValueError, match=r"categories \['unicorn'\] are not COCO categories"):
        convert_coco_seg(root, tmp_path / "out", "cs", categories=["unicorn"])
    with pytest.raises(ValueError, match=r"splits \['test2017'\]: expected some of \['train2017', 'val2017'\]"):
        convert_coco_seg(root, tmp_path / "out", "cs", splits=("test2017",))
    with pytest.raises(ValueError, match=r"min_area_fraction=1\.5: expected a fraction in \[0, 1\)"):
        convert_coco_seg(root, tmp_path / "out", "cs", min_area_fraction=1.5)
    _image(root / "val2017" / "000000000003.jpg", 0, shape=(H, W + 2))
    with pytest.raises(DatasetError, match=r"val2017/000000000003\.jpg: image is 10x6, its annotation says 8x6"):
        convert_coco_seg(root, tmp_path / "out", "cs")
    (root / "train2017" / "000000000002.jpg").unlink()
    with pytest.raises(DatasetError, match=r"train2017/000000000002\.jpg: cannot read image"):
        convert_coco_seg(root, tmp_path / "out", "cs")
    _coco(root)                                                     # whole again
    val = json.loads((root / "annotations" / "instances_val2017.json").read_text())
    val["annotations"][0]["segmentation"] = {"size": [H, W], "counts": 7}
    (root / "annotations" / "instances_val2017.json").write_text(json.dumps(val))
    with pytest.raises(DatasetError, match=r"instances_val2017\.json: cannot decode the segmentation of annotations"
                                           r" \[6\]"):
        convert_coco_seg(root, tmp_path / "out", "cs")
    del val["annotations"][0]["segmentation"]
    (root / "annotations" / "instances_val2017.json").write_text(json.dumps(val))
    with pytest.raises(DatasetError, match=r"instances_val2017\.json: annotation 6 has no \['segmentation'\]"):
        convert_coco_seg(root, tmp_path / "out", "cs")
    (root / "annotations" / "instances_val2017.json").write_text('{"images": [], "annotations": []}')
    with pytest.raises(DatasetError, match=r"instances_val2017\.json: missing keys \['categories'\]"):
        convert_coco_seg(root, tmp_path / "out", "cs")
    (root / "annotations" / "instances_val2017.json").write_text("{not json")
    with pytest.raises(DatasetError, match=r"instances_val2017\.json: not valid JSON"):
        convert_coco_seg(root, tmp_path / "out", "cs")
    (root / "annotations" / "instances_val2017.json").unlink()
    with pytest.raises(DatasetError, match=r"instances_val2017\.json: not found"):
        convert_coco_seg(root, tmp_path / "out", "cs")
    assert not (tmp_path / "out" / "index.parquet").exists()

