"""PASCAL VOC segmentation converter (VOC2007-2012 layouts, M-CNN class subset, SBD aug set):
tiny official layouts written here with known masks and boxes, and the real VOC2007 XML
annotations in ../shared/realdata when present."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.io
import scipy.sparse
from PIL import Image

from weakseg.data.adapters.pascal07_6x2 import voc_objects
from weakseg.data.adapters.voc_coseg import VOC_CLASSES
from weakseg.data.adapters.voc_seg import convert_voc_seg, read_sbd_mask, read_voc_mask
from weakseg.data.index import Dataset, DatasetError

H, W = 6, 8
V = 255  # void
YTO = ["aeroplane", "bird", "boat", "car", "cat", "cow", "dog", "horse", "motorbike", "train"]
C = {c: i + 1 for i, c in enumerate(VOC_CLASSES)}  # VOC mask index of each class


def voc_palette() -> list[int]:
    """The VOC colour map (VOCdevkit VOClabelcolormap.m): bits of the index spread over R, G, B."""
    palette = []
    for i in range(256):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= (c & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        palette += [r, g, b]
    return palette


def _mask(*blocks: tuple[int, slice, slice], shape: tuple[int, int] = (H, W)) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    for value, rows, cols in blocks:
        mask[rows, cols] = value
    return mask


def _png(path: Path, mask: np.ndarray, mode: str = "P") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(mask, mode="L")
    if mode == "P":
        img.putpalette(voc_palette())
    elif mode == "RGB":
        img.putpalette(voc_palette())
        img = img.convert("RGB")
    img.save(path)


def _jpg(path: Path, seed: int, shape: tuple[int, int] = (H, W)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8))


def _xml(path: Path, objects: list[tuple[str, tuple[int, int, int, int], int, int]]) -> None:
    """VOC annotation with (name, 1-based inclusive (xmin, ymin, xmax, ymax), truncated, difficult)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(
        f"<object><name>{n}</name><pose>Unspecified</pose><truncated>{t}</truncated><difficult>{d}</difficult>"
        f"<bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax><ymax>{b[3]}</ymax></bndbox>"
        + ("<part><name>head</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></part>"
           if n == "person" else "")
        + "</object>"
        for n, b, t, d in objects)
    path.write_text(f"<annotation><folder>VOC2012</folder><size><width>{W}</width><height>{H}</height>"
                    f"<depth>3</depth></size><segmented>1</segmented>{body}</annotation>")


# id -> (mask, XML objects): 1-based inclusive boxes; a difficult bottle only in the XML (void in the mask)
VOC12 = {
    "2008_000001": (_mask((C["aeroplane"], slice(0, 2), slice(0, 4)), (V, slice(2, 3), slice(0, 8)),
                          (C["person"], slice(4, 6), slice(6, 8))),
                    [("aeroplane", (1, 1, 4, 2), 0, 0), ("person", (7, 5, 8, 6), 1, 0), ("bottle", (5, 4, 5, 4), 0, 1)]),
    "2008_000002": (_mask((C["person"], slice(0, 6), slice(0, 3)), (C["chair"], slice(3, 6), slice(5, 8))),
                    [("person", (1, 1, 3, 6), 0, 0), ("chair", (6, 4, 8, 6), 1, 1)]),
    "2008_000003": (_mask((C["dog"], slice(1, 5), slice(2, 7)), (V, slice(0, 1), slice(2, 7))),
                    [("dog", (3, 2, 7, 5), 0, 0)]),
    "2008_000004": (_mask((C["cat"], slice(0, 3), slice(0, 8)), (C["sofa"], slice(3, 6), slice(0, 8))),
                    [("sofa", (1, 4, 8, 6), 1, 0), ("cat", (1, 1, 8, 3), 0, 0)]),
    "2008_000005": (_mask((C["bus"], slice(0, 6), slice(0, 8))), [("bus", (1, 1, 8, 6), 1, 0)]),
}
LISTS = {"train": ["2008_000001", "2008_000002", "2008_000003"], "val": ["2008_000004", "2008_000005"]}
# SBD ids: 000004 is VOC12 val (excluded), 000001/000002 are VOC12 train (VOC mask kept)
SBD = {
    "2008_000006": (_mask((C["horse"], slice(1, 6), slice(1, 6))), [("horse", (2, 2, 6, 6), 0, 0)]),
    "2008_000007": (_mask((C["train"], slice(0, 4), slice(0, 8)), (C["cow"], slice(4, 6), slice(0, 2))),
                    [("train", (1, 1, 8, 4), 1, 0), ("cow", (1, 5, 2, 6), 0, 0), ("person", (3, 5, 4, 6), 0, 1)]),
}
SBD_LISTS = {"train": ["2008_000002", "2008_000006", "2008_000004"], "val": ["2008_000007", "2008_000001"]}


def _voc_layout(root: Path, entries: dict = VOC12, lists: dict = LISTS) -> None:
    """VOCdevkit/VOC20xx: JPEGImages, SegmentationClass (palette PNG), Annotations, ImageSets/Segmentation."""
    for seed, (image_id, (mask, objects)) in enumerate(entries.items()):
        _jpg(root / "JPEGImages" / f"{image_id}.jpg", seed)
        _png(root / "SegmentationClass" / f"{image_id}.png", mask)
        _xml(root / "Annotations" / f"{image_id}.xml", objects)
    (root / "ImageSets" / "Segmentation").mkdir(parents=True)
    for split, ids in lists.items():
        (root / "ImageSets" / "Segmentation" / f"{split}.txt").write_text("".join(f"{i}\n" for i in ids))


def _sbd_mat(path: Path, seg: np.ndarray) -> None:
    """cls/<id>.mat in SBD's layout: struct GTcls with Boundaries (20x1 cell of sparse), Segmentation
    (uint8 H x W) and CategoriesPresent."""
    path.parent.mkdir(parents=True, exist_ok=True)
    boundaries = np.empty((20, 1), dtype=object)
    for k in range(20):
        boundaries[k, 0] = scipy.sparse.csc_matrix(seg == k + 1, dtype=np.uint8)
    present = np.array([v for v in np.unique(seg) if 0 < v < V], np.uint8)
    scipy.io.savemat(path, {"GTcls": {"Boundaries": boundaries, "Segmentation": seg, "CategoriesPresent": present}})


def _sbd_layout(sbd: Path, root: Path) -> None:
    """benchmark_RELEASE/dataset: img, cls, train.txt, val.txt; XML of the SBD-only ids in the VOC root."""
    masks = {i: m for i, (m, _) in {**VOC12, **SBD}.items()}
    ids = [i for lst in SBD_LISTS.values() for i in lst]
    for seed, image_id in enumerate(ids):
        _jpg(sbd / "img" / f"{image_id}.jpg", 100 + seed)
        _sbd_mat(sbd / "cls" / f"{image_id}.mat", masks[image_id])
    for split, lst in SBD_LISTS.items():
        (sbd / f"{split}.txt").write_text("".join(f"{i}\n" for i in lst))
    for image_id, (_, objects) in SBD.items():
        _xml(root / "Annotations" / f"{image_id}.xml", objects)


def _boxes(objects: list, keep: list[str] | None = None) -> tuple[list[list[float]], list[str]]:
    """Continuous-corner boxes and labels of XML objects (every object, or those of ``keep``)."""
    kept = [(n, b) for n, b, _, _ in objects if keep is None or n in keep]
    return [[b[0] - 1.0, b[1] - 1.0, float(b[2]), float(b[3])] for _, b in kept], [n for n, _ in kept]


def _rows(index) -> dict:
    return {r.item: r for r in index.itertuples(index=False)}


def test_voc2012_layout_converts_splits_labels_boxes_and_palette_indices(tmp_path):
    root = tmp_path / "VOCdevkit" / "VOC2012"
    _voc_layout(root)
    index = convert_voc_seg(root, tmp_path / "out", "voc12")
    assert index["item"].tolist() == LISTS["train"] + LISTS["val"]
    assert index["split"].tolist() == ["train"] * 3 + ["val"] * 2
    labels = {r.item: list(r.labels) for r in index.itertuples()}
    assert labels == {"2008_000001": ["aeroplane", "person"], "2008_000002": ["chair", "person"],
                      "2008_000003": ["dog"], "2008_000004": ["cat", "sofa"], "2008_000005": ["bus"]}
    assert index["has_object"].all() and index["box_annotated"].all() and (index["frame"] == -1).all()
    assert index["class"].isna().all() and index["group"].isna().all() and index["video"].isna().all()
    rows = _rows(index)
    for image_id, (_, objects) in VOC12.items():
        boxes, box_labels = _boxes(objects)
        assert [list(b) for b in rows[image_id].boxes] == boxes and list(rows[image_id].box_labels) == box_labels
    # 2008_000001: aeroplane x 1..4, y 1..2 (1-based inclusive); difficult bottle and truncated person kept
    assert [list(b) for b in rows["2008_000001"].boxes] == [[0, 0, 4, 2], [6, 4, 8, 6], [4, 3, 5, 4]]
    ds = Dataset(tmp_path / "out")
    assert ds.meta.classes == VOC_CLASSES and ds.meta.kind == "semantic" and ds.meta.mask_encoding == "semantic"
    for image_id, (mask, _) in VOC12.items():
        np.testing.assert_array_equal(ds.mask(image_id), mask)
    assert ds.mask("2008_000001")[2].tolist() == [V] * W and ds.mask("2008_000001")[5, 7] == C["person"] == 15
    src = root / "JPEGImages" / "2008_000003.jpg"
    assert (tmp_path / "out" / ds.row("2008_000003")["image"]).read_bytes() == src.read_bytes()


def test_mcnn_subset_keeps_images_with_a_yto_class_and_makes_other_classes_background(tmp_path):
    root = tmp_path / "VOC2012"
    _voc_layout(root)
    index = convert_voc_seg(root, tmp_path / "out", "voc12_yto", classes=YTO)
    # 2008_000002 (person, chair) and 2008_000005 (bus) hold only irrelevant classes: excluded
    assert index["item"].tolist() == ["2008_000001", "2008_000003", "2008_000004"]
    assert index["split"].tolist() == ["train", "train", "val"]
    assert [list(x) for x in index["labels"]] == [["aeroplane"], ["dog"], ["cat"]]
    rows = _rows(index)
    assert [list(b) for b in rows["2008_000001"].boxes] == [[0, 0, 4, 2]]
    assert list(rows["2008_000004"].box_labels) == ["cat"]
    ds = Dataset(tmp_path / "out")
    assert ds.meta.classes == tuple(YTO)
    # aeroplane -> 1, person -> background, void stays; dog -> 7; cat -> 5, sofa -> background
    expected = _mask((1, slice(0, 2), slice(0, 4)), (V, slice(2, 3), slice(0, 8)))
    np.testing.assert_array_equal(ds.mask("2008_000001"), expected)
    np.testing.assert_array_equal(ds.mask("2008_000003"), _mask((7, slice(1, 5), slice(2, 7)),
                                                                 (V, slice(0, 1), slice(2, 7))))
    np.testing.assert_array_equal(ds.mask("2008_000004"), _mask((5, slice(0, 3), slice(0, 8))))


def test_sbd_aug_set_is_sbd_plus_voc_train_minus_voc_val(tmp_path):
    root, sbd = tmp_path / "VOC2012", tmp_path / "benchmark_RELEASE" / "dataset"
    _voc_layout(root)
    _sbd_layout(sbd, root)
    index = convert_voc_seg(root, tmp_path / "out", "voc12_aug", sbd=sbd)
    train = index.loc[index["split"] == "train", "item"].tolist()
    sbd_ids = set(SBD_LISTS["train"]) | set(SBD_LISTS["val"])
    assert set(train) == (sbd_ids | set(LISTS["train"])) - set(LISTS["val"])
    assert train == LISTS["train"] + ["2008_000006", "2008_000007"] and len(index) == 7
    assert index.loc[index["split"] == "val", "item"].tolist() == LISTS["val"]
    rows = _rows(index)
    assert list(rows["2008_000007"].labels) == ["cow", "train"]
    boxes, box_labels = _boxes(SBD["2008_000007"][1])
    assert [list(b) for b in rows["2008_000007"].boxes] == boxes and list(rows["2008_000007"].box_labels) == box_labels
    ds = Dataset(tmp_path / "out")
    np.testing.assert_array_equal(ds.mask("2008_000006"), SBD["2008_000006"][0])
    np.testing.assert_array_equal(ds.mask("2008_000001"), VOC12["2008_000001"][0])  # VOC mask (with void) kept
    assert (tmp_path / "out" / ds.row("2008_000006")["image"]).read_bytes() == \
        (sbd / "img" / "2008_000006.jpg").read_bytes()
    # the same layout with the M-CNN subset: SBD's horse and train/cow images are kept (cow, train in YTO)
    sub = convert_voc_seg(root, tmp_path / "sub", "voc12_aug_yto", classes=YTO, sbd=sbd)
    assert sub["item"].tolist() == ["2008_000001", "2008_000003", "2008_000004", "2008_000006", "2008_000007"]
    assert list(_rows(sub)["2008_000007"].box_labels) == ["train", "cow"]
    # the VOC val ids stay out of the aug training set when val itself is not converted
    only_train = convert_voc_seg(root, tmp_path / "train", "voc12_aug_train", sbd=sbd, image_sets=["train"])
    assert only_train["item"].tolist() == train and set(only_train["split"]) == {"train"}


def test_sbd_fixture_matches_torchvision_reading_of_the_mat_layout(tmp_path):
    seg = SBD["2008_000007"][0]
    _sbd_mat(tmp_path / "x.mat", seg)
    mat = scipy.io.loadmat(tmp_path / "x.mat")  # torchvision.datasets.SBDataset._get_segmentation_target
    np.testing.assert_array_equal(mat["GTcls"][0]["Segmentation"][0], seg)
    np.testing.assert_array_equal(read_sbd_mask(tmp_path / "x.mat"), seg)


def test_voc2007_layout_with_the_test_list(tmp_path):
    entries = {"000032": VOC12["2008_000001"], "000033": VOC12["2008_000003"], "000042": VOC12["2008_000005"]}
    root = tmp_path / "VOCdevkit" / "VOC2007"
    _voc_layout(root, entries, {"train": ["000032"], "val": ["000033"], "test": ["000042"]})
    index = convert_voc_seg(root, tmp_path / "out", "voc07", image_sets=["train", "val", "test"])
    assert index["item"].tolist() == ["000032", "000033", "000042"]
    assert index["split"].tolist() == ["train", "val", "test"]
    assert list(_rows(index)["000042"].labels) == ["bus"]


def test_palette_indices_are_read_not_colours(tmp_path):
    mask = _mask((C["tvmonitor"], slice(0, 2), slice(0, 2)), (V, slice(5, 6), slice(0, 8)))
    _png(tmp_path / "p.png", mask)
    assert Image.open(tmp_path / "p.png").mode == "P"
    assert Image.open(tmp_path / "p.png").convert("RGB").getpixel((0, 0)) == (0, 64, 128)  # tvmonitor colour
    np.testing.assert_array_equal(read_voc_mask(tmp_path / "p.png"), mask)
    _png(tmp_path / "l.png", mask, mode="L")
    np.testing.assert_array_equal(read_voc_mask(tmp_path / "l.png"), mask)


def _break(root: Path, sbd: Path, how: str) -> None:
    seg, ann = root / "SegmentationClass", root / "Annotations"
    if how == "missing list":
        (root / "ImageSets" / "Segmentation" / "val.txt").unlink()
    elif how == "missing mask":
        (seg / "2008_000003.png").unlink()
    elif how == "mask size":
        _png(seg / "2008_000003.png", np.zeros((H, W + 1), np.uint8))
    elif how == "class 21":
        _png(seg / "2008_000003.png", _mask((21, slice(0, 1), slice(0, 1)), (C["dog"], slice(2, 3), slice(0, 8))))
    elif how == "rgb mask":
        _png(seg / "2008_000003.png", VOC12["2008_000003"][0], mode="RGB")
    elif how == "missing xml":
        (ann / "2008_000003.xml").unlink()
    elif how == "unknown object":
        _xml(ann / "2008_000003.xml", [("unicorn", (1, 1, 2, 2), 0, 0)])
    elif how == "box outside":
        _xml(ann / "2008_000003.xml", [("dog", (1, 1, 9, 6), 0, 0)])
    elif how == "listed twice":
        (root / "ImageSets" / "Segmentation" / "val.txt").write_text("2008_000004\n2008_000003\n")
    elif how == "missing image":
        (root / "JPEGImages" / "2008_000003.jpg").unlink()
    elif how == "missing sbd list":
        (sbd / "val.txt").unlink()
    elif how == "bad sbd mat":
        scipy.io.savemat(sbd / "cls" / "2008_000006.mat", {"Segmentation": SBD["2008_000006"][0]})
    elif how == "sbd mask size":
        _sbd_mat(sbd / "cls" / "2008_000006.mat", np.zeros((H + 1, W), np.uint8))
    elif how == "missing sbd mask":
        (sbd / "cls" / "2008_000007.mat").unlink()


@pytest.mark.parametrize("how, message", [
    ("missing list", r"ImageSets/Segmentation/val\.txt: image list not found"),
    ("missing mask", r"SegmentationClass/2008_000003\.png: mask not found for image '2008_000003' listed in "
                     r".*ImageSets/Segmentation/train\.txt"),
    ("mask size", r"2008_000003\.png: mask is 9x6, image .*JPEGImages/2008_000003\.jpg is 8x6"),
    ("class 21", r"2008_000003\.png: mask values \[21\] are not VOC class indices"),
    ("rgb mask", r"2008_000003\.png: mask is a mode 'RGB' image; expected the palette"),
    ("missing xml", r"Annotations/2008_000003\.xml: annotation not found"),
    ("unknown object", r"Annotations/2008_000003\.xml: object classes \['unicorn'\] are not VOC classes"),
    ("box outside", r"item '2008_000003' has a box outside its 8x6 image"),
    ("listed twice", r"val\.txt: id '2008_000003' is also listed in .*train\.txt"),
    ("missing image", r"JPEGImages/2008_000003\.jpg: cannot read image"),
    ("missing sbd list", r"dataset/val\.txt: image list not found"),
    ("bad sbd mat", r"cls/2008_000006\.mat: not an SBD class annotation \(expected struct GTcls"),
    ("sbd mask size", r"cls/2008_000006\.mat: mask is 8x7, image .*img/2008_000006\.jpg is 8x6"),
    ("missing sbd mask", r"cls/2008_000007\.mat: mask not found for image '2008_000007' listed in .*train\.txt or"),
])
def test_bad_layouts_name_the_file(tmp_path, how, message):
    root, sbd = tmp_path / "VOC2012", tmp_path / "dataset"
    _voc_layout(root)
    _sbd_layout(sbd, root)
    _break(root, sbd, how)
    with pytest.raises(DatasetError, match=message):
        convert_voc_seg(root, tmp_path / "out", "voc12", sbd=sbd)
    assert not (tmp_path / "out" / "index.parquet").exists()


def test_bad_options_are_named(tmp_path):
    _voc_layout(tmp_path / "VOC2012")
    with pytest.raises(ValueError, match=r"classes=\['plane'\]: expected distinct VOC classes \(unknown: \['plane'\]"):
        convert_voc_seg(tmp_path / "VOC2012", tmp_path / "out", "x", classes=["plane"])
    with pytest.raises(ValueError, match=r"image_sets=\['trainval'\]"):
        convert_voc_seg(tmp_path / "VOC2012", tmp_path / "out", "x", image_sets=["trainval"])


# Real VOC2007 annotations (PASCAL07-6x2 sample): 000328 has 8 objects, a truncated and a difficult horse
REAL_000328 = [("horse", [57, 146, 257, 265]), ("horse", [0, 108, 50, 229]), ("horse", [304, 97, 440, 236]),
               ("horse", [280, 132, 316, 204]), ("person", [115, 61, 174, 226]), ("person", [169, 82, 209, 148]),
               ("person", [361, 69, 414, 204]), ("person", [280, 93, 327, 180])]


def test_real_voc2007_annotations_give_the_boxes(realdata, tmp_path):
    voc = realdata / "pascal07_6x2" / "VOCdevkit" / "VOC2007"
    root = tmp_path / "VOC2007"
    sizes = {"000017": (364, 480), "000328": (332, 500)}
    for image_id, shape in sizes.items():
        for sub, ext in (("JPEGImages", "jpg"), ("Annotations", "xml")):
            (root / sub).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(voc / sub / f"{image_id}.{ext}", root / sub / f"{image_id}.{ext}")
        _png(root / "SegmentationClass" / f"{image_id}.png",
             _mask((C["horse"], slice(100, 200), slice(100, 250)), shape=shape))
    (root / "ImageSets" / "Segmentation").mkdir(parents=True)
    (root / "ImageSets" / "Segmentation" / "val.txt").write_text("000017\n000328\n")
    index = convert_voc_seg(root, tmp_path / "out", "voc07", image_sets=["val"])
    rows = _rows(index)
    assert (rows["000017"].height, rows["000017"].width) == (364, 480)
    # 000017.xml: person (185,62)-(279,199), horse (90,78)-(403,336), 1-based inclusive
    assert [list(b) for b in rows["000017"].boxes] == [[184, 61, 279, 199], [89, 77, 403, 336]]
    assert [(n, list(b)) for n, b in zip(rows["000328"].box_labels, rows["000328"].boxes)] == REAL_000328
    assert (tmp_path / "out" / rows["000328"].image).read_bytes() == (voc / "JPEGImages" / "000328.jpg").read_bytes()
    # every real annotation parses to VOC classes, every box inside its image
    for xml in sorted((voc / "Annotations").glob("*.xml")):
        width, height = Image.open(voc / "JPEGImages" / f"{xml.stem}.jpg").size
        for cls, (x0, y0, x1, y1) in voc_objects(xml):
            assert cls in VOC_CLASSES and 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, xml.name
