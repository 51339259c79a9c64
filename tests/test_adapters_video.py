"""ImageNet-VID, ImageNet classification (Pinheiro & Collobert) and YouTube-Objects masks (Jain &
Grauman) converters: tiny official layouts written here, with known frames, labels, boxes and masks."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from weakseg.data.adapters.imagenet_cls import SYNSET_FILE, convert_imagenet_cls, ilsvrc2012_synsets, voc_synsets
from weakseg.data.adapters.imagenet_vid import VID_SYNSETS, YTO_SYNSETS, convert_imagenet_vid
from weakseg.data.adapters.voc_coseg import VOC_CLASSES
from weakseg.data.adapters.yto_masks import convert_yto_masks
from weakseg.data.index import Dataset, DatasetError
from weakseg.data.yto_splits import ID_LAYOUTS

YTO = ("aeroplane", "bird", "boat", "car", "cat", "cow", "dog", "horse", "motorbike", "train")


def _image(path: Path, width: int, height: int, value: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), np.full((height, width, 3), value, np.uint8))


# ---------------------------------------------------------------- ImageNet-VID

def _xml(path: Path, width: int, height: int, objects: list[tuple[str, tuple[int, int, int, int]]]) -> None:
    body = "".join(f"<object><trackid>{i}</trackid><name>{wnid}</name><bndbox><xmax>{b[2]}</xmax><xmin>{b[0]}</xmin>"
                   f"<ymax>{b[3]}</ymax><ymin>{b[1]}</ymin></bndbox><occluded>0</occluded><generated>0</generated>"
                   f"</object>" for i, (wnid, b) in enumerate(objects))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<annotation><folder>x</folder><filename>{path.stem}</filename><size><width>{width}</width>"
                    f"<height>{height}</height></size>{body}</annotation>")


DOG, CAT, BICYCLE, BOAT, HORSE, ZEBRA = "n02084071", "n02121808", "n02834778", "n04530566", "n02374451", "n02391049"
VID_TRAIN = {  # snippet path -> frames: [objects (wnid, xmin, ymin, xmax, ymax)], frame size 10x8
    "ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000000": [
        [(DOG, (1, 1, 3, 4)), (BICYCLE, (0, 0, 9, 7))], [(DOG, (2, 1, 4, 5)), (CAT, (5, 0, 9, 7))], []],
    "ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000001": [[(DOG, (0, 0, 9, 7))]],  # same video, second shot
    "ILSVRC2015_VID_train_0001/ILSVRC2015_train_00001000": [[(BOAT, (3, 2, 9, 7))], [(BOAT, (4, 2, 9, 7))]],
}
VID_VAL = {"ILSVRC2015_val_00000000": [[(HORSE, (0, 1, 5, 6))]], "ILSVRC2015_val_00001000": [[(ZEBRA, (0, 0, 3, 3))]]}


def _vid_layout(root: Path) -> None:
    """Two train videos (three snippets: dog+cat, dog, watercraft), a snippet listed only for
    antelope (never read), and two val snippets (horse; zebra only)."""
    for split, snippets in (("train", VID_TRAIN), ("val", VID_VAL)):
        for snippet, frames in snippets.items():
            for n, objects in enumerate(frames):
                _xml(root / "Annotations/VID" / split / snippet / f"{n:06d}.xml", 10, 8, objects)
                _image(root / "Data/VID" / split / snippet / f"{n:06d}.JPEG", 10, 8, 10 * n)
    sets = root / "ImageSets/VID"
    sets.mkdir(parents=True)
    ids = {wnid: k for k, wnid in enumerate(VID_SYNSETS, start=1)}
    lists = {k: "" for k in range(1, 31)}
    lists[ids[DOG]] = ("ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000001 1\n"
                       "ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000000 1\n")
    lists[ids[CAT]] = "ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000000 1\n"
    lists[ids[BOAT]] = "ILSVRC2015_VID_train_0001/ILSVRC2015_train_00001000 1\n"
    lists[ids["n02419796"]] = "ILSVRC2015_VID_train_0002/ILSVRC2015_train_00002000 1\n"  # antelope: not converted
    for k, text in lists.items():
        (sets / f"train_{k}.txt").write_text(text)
    (sets / "val.txt").write_text("ILSVRC2015_val_00000000/000000 1\nILSVRC2015_val_00001000/000000 2\n")


def test_vid_tiny_layout_is_converted_exactly(tmp_path):
    _vid_layout(tmp_path / "ILSVRC2015")
    index = convert_imagenet_vid(tmp_path / "ILSVRC2015", tmp_path / "out", "vid", val=True)
    assert index["item"].tolist() == [
        "ILSVRC2015_train_00000000/000000", "ILSVRC2015_train_00000000/000001", "ILSVRC2015_train_00000000/000002",
        "ILSVRC2015_train_00000001/000000", "ILSVRC2015_train_00001000/000000", "ILSVRC2015_train_00001000/000001",
        "ILSVRC2015_val_00000000/000000",
    ]
    assert index["split"].tolist() == ["train"] * 6 + ["val"]
    assert index["video"].tolist() == ["ILSVRC2015_train_00000"] * 4 + ["ILSVRC2015_train_00001"] * 2 + [
        "ILSVRC2015_val_00000000"]
    assert index["shot"].tolist() == [i.split("/")[0] for i in index["item"]]
    assert index["frame"].tolist() == [0, 1, 2, 0, 0, 1, 0]
    assert [list(x) for x in index["labels"]] == [["cat", "dog"]] * 3 + [["dog"]] + [["boat"]] * 2 + [["horse"]]
    assert index["class"].tolist() == ["dog"] * 4 + ["boat"] * 2 + ["horse"]  # dog: 2 boxes in the shot, cat 1
    assert index["has_object"].tolist() == [True, True, False, True, True, True, True]
    assert index["box_annotated"].all()
    ds = Dataset(tmp_path / "out")
    assert ds.meta.classes == YTO and ds.meta.kind == "video" and ds.meta.mask_encoding == "none"
    np.testing.assert_array_equal(ds.boxes("ILSVRC2015_train_00000000/000000"), [[1, 1, 4, 5]])  # bicycle left out
    np.testing.assert_array_equal(ds.boxes("ILSVRC2015_train_00000000/000001"), [[2, 1, 5, 6], [5, 0, 10, 8]])
    assert ds.row("ILSVRC2015_train_00000000/000001")["box_labels"].tolist() == ["dog", "cat"]
    np.testing.assert_array_equal(ds.boxes("ILSVRC2015_train_00000001/000000"), [[0, 0, 10, 8]])  # xmax = W - 1
    assert len(ds.boxes("ILSVRC2015_train_00000000/000002")) == 0
    source = tmp_path / "ILSVRC2015/Data/VID/train/ILSVRC2015_VID_train_0001/ILSVRC2015_train_00001000/000001.JPEG"
    assert (tmp_path / "out/images/ILSVRC2015_train_00001000/000001.jpeg").read_bytes() == source.read_bytes()


def test_vid_every_kth_frame(tmp_path):
    _vid_layout(tmp_path / "ILSVRC2015")
    index = convert_imagenet_vid(tmp_path / "ILSVRC2015", tmp_path / "out", "vid", every=2)
    assert index["item"].tolist() == ["ILSVRC2015_train_00000000/000000", "ILSVRC2015_train_00000000/000002",
                                      "ILSVRC2015_train_00000001/000000", "ILSVRC2015_train_00001000/000000"]
    # labels still accumulate over every frame of the shot: the cat is in the dropped frame 1
    assert [list(x) for x in index["labels"]][:2] == [["cat", "dog"]] * 2


def _break_vid(root: Path, how: str) -> None:
    snippet = "ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000000"
    if how == "unknown synset":
        _xml(root / "Annotations/VID/train" / snippet / "000001.xml", 10, 8, [("n99999999", (0, 0, 1, 1))])
    elif how == "size mismatch":
        _xml(root / "Annotations/VID/train" / snippet / "000002.xml", 12, 8, [])
    elif how == "missing image":
        (root / "Data/VID/train" / snippet / "000002.JPEG").unlink()
    elif how == "class not in snippet":  # listed for bird, holds no bird
        (root / "ImageSets/VID/train_5.txt").write_text(f"{snippet} 1\n")
    elif how == "missing annotations":
        (root / "ImageSets/VID/train_5.txt").write_text("ILSVRC2015_VID_train_0003/ILSVRC2015_train_00003000 1\n")
    elif how == "bad list line":
        (root / "ImageSets/VID/train_26.txt").write_text(f"{snippet}\n")
    elif how == "box outside":
        _xml(root / "Annotations/VID/train" / snippet / "000002.xml", 10, 8, [(DOG, (10, 0, 12, 3))])
    elif how == "bad xml":
        (root / "Annotations/VID/train" / snippet / "000000.xml").write_text("<annotation><size>")


@pytest.mark.parametrize("how, message", [
    ("unknown synset", r"ILSVRC2015_train_00000000/000001\.xml: object name 'n99999999' is not one of the 30 VID"),
    ("size mismatch", r"000002\.JPEG: image is 10x8, .*ILSVRC2015_train_00000000/000002\.xml gives 12x8"),
    ("missing image", r"ILSVRC2015_train_00000000/000002\.JPEG: frame image of .*000002\.xml not found"),
    ("class not in snippet", r"ImageSets/VID/train_5\.txt: snippet '.*_00000000' is listed for bird \(n01503061\) "
                             r"but none of its annotations"),
    ("missing annotations", r"ILSVRC2015_train_00003000: annotation folder of a snippet listed in .*train_5\.txt"),
    ("bad list line", r"ImageSets/VID/train_26\.txt:1: '.*' is not '<snippet path> <label>'"),
    ("box outside", r"000002\.xml: box \[10\.0, 0\.0, 10\.0, 4\.0\] .* lies outside the 10x8 frame"),
    ("bad xml", r"ILSVRC2015_train_00000000/000000\.xml: not a VID frame annotation"),
])
def test_vid_bad_layouts_name_the_file(tmp_path, how, message):
    root = tmp_path / "ILSVRC2015"
    _vid_layout(root)
    _break_vid(root, how)
    with pytest.raises(DatasetError, match=message):
        convert_imagenet_vid(root, tmp_path / "out", "vid")
    assert not (tmp_path / "out" / "index.parquet").exists()


def test_vid_class_mapping_is_the_devkit_order():
    assert list(VID_SYNSETS)[0] == "n02691156" and len(VID_SYNSETS) == 30
    ids = {VID_SYNSETS[w]: k for k, w in enumerate(VID_SYNSETS, start=1)}  # map_vid.txt: "n02691156 1 airplane"
    assert (ids["airplane"], ids["bird"], ids["dog"], ids["motorcycle"], ids["watercraft"], ids["zebra"]) == (
        1, 5, 9, 19, 28, 30)
    assert tuple(YTO_SYNSETS) == YTO
    assert {VID_SYNSETS[w] for w in YTO_SYNSETS.values()} == {
        "airplane", "bird", "watercraft", "car", "domestic_cat", "cattle", "dog", "horse", "motorcycle", "train"}


# ---------------------------------------------------------------- ImageNet classification (ILSVRC-2012)

def _ilsvrc_layout(root: Path, extra: dict[str, int]) -> None:
    """One 6x4 image per ILSVRC-2012 synset (hard links of one JPEG), ``extra`` more for some."""
    proto = root / "proto.JPEG"
    _image(proto, 6, 4)
    for wnid in ilsvrc2012_synsets():
        (root / "train" / wnid).mkdir(parents=True)
        for n in range(1 + extra.get(wnid, 0)):
            os.link(proto, root / "train" / wnid / f"{wnid}_{n + 1}.JPEG")


AIRLINER, WARPLANE, TABBY, SCOOTER, TENCH = "n02690373", "n04552348", "n02123045", "n03791053", "n01440764"


def test_imagenet_cls_selection_and_labels(tmp_path):
    _ilsvrc_layout(tmp_path / "ilsvrc", {AIRLINER: 2, TABBY: 4})
    index = convert_imagenet_cls(tmp_path / "ilsvrc", tmp_path / "out", "in", max_per_class=3, background=5)
    mapping, excluded = voc_synsets()
    per_class = index[index["class"] != "background"].groupby("class").size().to_dict()
    # min(3, images): aeroplane 3 of airliner's 3 + warplane's 1, cat 3 of tabby's 5 + 4 others, dog 3 of 118
    assert per_class == {"aeroplane": 3, "bicycle": 2, "bird": 3, "boat": 3, "bottle": 3, "bus": 3, "car": 3, "cat": 3,
                         "chair": 3, "cow": 1, "diningtable": 1, "dog": 3, "horse": 1, "motorbike": 1, "person": 3,
                         "pottedplant": 1, "sheep": 1, "sofa": 1, "train": 3, "tvmonitor": 3}
    background = index[index["class"] == "background"]
    assert len(background) == 5 and not background["has_object"].any() and index["has_object"].sum() == 45
    wnids = index["item"].str.split("/").str[1]
    assert all(mapping[w] == c for w, c in zip(wnids, index["class"]) if c != "background")
    assert not set(wnids[index["class"] == "background"]) & (set(mapping) | excluded)
    assert [list(x) for x in index["labels"]] == [[c] for c in index["class"]]
    assert index["item"].iloc[0].startswith("train/") and (index["split"] == "train").all()
    assert index["group"].isna().all() and not index["box_annotated"].any() and index["mask"].isna().all()
    ds = Dataset(tmp_path / "out")
    assert ds.meta.kind == "classification" and ds.meta.classes == VOC_CLASSES
    assert ds.image(index["item"].iloc[0]).shape == (4, 6, 3)
    # seeded: the same call draws the same images; another background count leaves the objects alone
    again = convert_imagenet_cls(tmp_path / "ilsvrc", tmp_path / "out2", "in", max_per_class=3, background=5)
    assert again["item"].tolist() == index["item"].tolist()
    fewer = convert_imagenet_cls(tmp_path / "ilsvrc", tmp_path / "out3", "in", max_per_class=3, background=2)
    assert fewer["item"].tolist()[:45] == index["item"].tolist()[:45] and len(fewer) == 47
    other = convert_imagenet_cls(tmp_path / "ilsvrc", tmp_path / "out4", "in", max_per_class=3, background=5, seed=1)
    assert set(other["item"][other["class"] == "background"]) != set(background["item"])


def test_imagenet_cls_all_images_and_val(tmp_path):
    root = tmp_path / "ilsvrc"
    _ilsvrc_layout(root, {})
    for wnid, n in ((AIRLINER, 1), (TENCH, 2), ("n01443537", 3), (SCOOTER, 4)):
        _image(root / "val" / wnid / f"ILSVRC2012_val_{n:08d}.JPEG", 6, 4)
    index = convert_imagenet_cls(root, tmp_path / "out", "in", background=338, val=True)
    train = index[index["split"] == "train"]
    assert (train["class"] != "background").sum() == 243 and (train["class"] == "background").sum() == 338
    val = index[index["split"] == "val"]
    # val background at the train rate 338/676 of its pool of 2 (tench, goldfish): 1; the scooter is never background
    assert val["item"].iloc[0] == f"val/{AIRLINER}/ILSVRC2012_val_00000001" and val["class"].tolist()[0] == "aeroplane"
    assert len(val) == 2 and val["class"].iloc[1] == "background"
    assert val["item"].iloc[1] in (f"val/{TENCH}/ILSVRC2012_val_00000002", "val/n01443537/ILSVRC2012_val_00000003")


def _break_ilsvrc(root: Path, how: str) -> None:
    if how == "missing train":
        (root / "train").rename(root / "training")
    elif how == "not a synset":
        (root / "train" / "n99999999").mkdir()
    elif how == "bad name":
        os.link(root / "proto.JPEG", root / "train" / TENCH / "tench_2.JPEG")
    elif how == "wrong synset prefix":
        os.link(root / "proto.JPEG", root / "train" / TENCH / f"{AIRLINER}_7.JPEG")
    elif how == "empty synset":
        (root / "train" / TENCH / f"{TENCH}_1.JPEG").unlink()
    elif how == "missing synsets":
        for path in (root / "train" / TENCH).iterdir():
            path.unlink()
        (root / "train" / TENCH).rmdir()


@pytest.mark.parametrize("how, message", [
    ("missing train", r"ilsvrc/train: not found; expected train/<wnid>/ folders"),
    ("not a synset", r"train/n99999999: 'n99999999' is not an ILSVRC-2012 synset"),
    ("bad name", r"train/n01440764/tench_2\.JPEG: not an image name of this layout"),
    ("wrong synset prefix", r"train/n01440764/n02690373_7\.JPEG: not an image name of this layout"),
    ("empty synset", r"train/n01440764: empty synset folder"),
    ("missing synsets", r"ilsvrc/train: 1 of the 1000 ILSVRC-2012 synset folders are missing, e\.g\. n01440764"),
])
def test_imagenet_cls_bad_layouts_name_the_file(tmp_path, how, message):
    root = tmp_path / "ilsvrc"
    _ilsvrc_layout(root, {})
    _break_ilsvrc(root, how)
    with pytest.raises(DatasetError, match=message):
        convert_imagenet_cls(root, tmp_path / "out", "in", background=1)


def test_voc_synset_file_matches_the_ilsvrc2012_list():
    """Every wnid of the shipped mapping is an ILSVRC-2012 class with the lemma written beside it
    (timm's ImageNet-1k list); object synsets are disjoint from each other and from the excluded ones."""
    from importlib import resources

    from timm.data import ImageNetInfo

    raw = yaml.safe_load((resources.files("weakseg.data") / SYNSET_FILE).read_text())
    assert tuple(raw["classes"]) == VOC_CLASSES
    info = ImageNetInfo()
    known = set(ilsvrc2012_synsets())
    entries = [(w, lemma) for c in raw["classes"].values() for w, lemma in c["synsets"].items()]
    entries += list(raw["not_background"]["synsets"].items())
    assert len(entries) == len({w for w, _ in entries}) == 243 + 81
    for wnid, lemma in entries:
        assert wnid in known and info.label_name_to_description(wnid).split(",")[0] == lemma, wnid
    for cls in raw["classes"].values():
        assert set(cls.get("extra", {})) <= set(cls["synsets"])
    mapping, _ = voc_synsets()
    assert (mapping[AIRLINER], mapping[WARPLANE], mapping[TABBY], mapping["n02085620"]) == (
        "aeroplane", "aeroplane", "cat", "dog")


# ---------------------------------------------------------------- YouTube-Objects masks (Jain & Grauman)

def _mask(path: Path, blocks: list[tuple[int, int]], size: int = 16) -> None:
    """A grey JPEG label, 255 on the 8x8 blocks (row, col) given, 0 elsewhere (block-aligned: no JPEG ringing)."""
    m = np.zeros((size, size), np.uint8)
    for r, c in blocks:
        m[8 * r:8 * r + 8, 8 * c:8 * c + 8] = 255
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), m)


AERO_SHOT, COW_SHOT = "aeroplane/data/0001/shots/001", "cow/data/0019/shots/001"


def _masks_layout(root: Path, frames: Path | None = None) -> None:
    """Two annotated shots: aeroplane (frames 1 and 11; frame 11 without foreground) and cow
    (frame 21); every release image uniform grey 10 x frame number. ``frames``: a YTOv1.0 tree of
    frames 1..12 of the aeroplane shot at twice the size and frames 20..21 of the cow shot at the
    masks' size."""
    for cls in YTO:
        (root / cls / "data").mkdir(parents=True, exist_ok=True)
    for shot, labels in ((AERO_SHOT, {1: [(0, 1)], 11: []}), (COW_SHOT, {21: [(1, 0), (1, 1)]})):
        for n, blocks in labels.items():
            _mask(root / shot / "labels" / f"{n:05d}.jpg", blocks)
            _image(root / shot / "images" / f"{n:05d}.png", 16, 16, 10 * n)
    if frames is not None:
        for n in range(1, 13):
            _image(frames / AERO_SHOT / f"frame{n:04d}.jpg", 32, 32, 10 * n)
        for n in (20, 21):
            _image(frames / COW_SHOT / f"frame{n:04d}.jpg", 16, 16, 10 * n)


def test_yto_masks_annotated_frames(tmp_path):
    _masks_layout(tmp_path / "youtube_masks")
    (tmp_path / "youtube_masks" / "Images").mkdir()  # other entries of the root are ignored
    index = convert_yto_masks(tmp_path / "youtube_masks", tmp_path / "out", "ytm")
    assert index["item"].tolist() == [f"{AERO_SHOT}/frame0001", f"{AERO_SHOT}/frame0011", f"{COW_SHOT}/frame0021"]
    assert all(ID_LAYOUTS["v1.0"].match(f"{item}.jpg") for item in index["item"])  # the YTOv1.0 converter's ids
    assert (index["split"] == "test").all() and index["class"].tolist() == ["aeroplane", "aeroplane", "cow"]
    assert index["video"].tolist() == ["aeroplane/data/0001"] * 2 + ["cow/data/0019"]
    assert index["shot"].tolist() == [AERO_SHOT] * 2 + [COW_SHOT] and index["frame"].tolist() == [1, 11, 21]
    assert index["has_object"].tolist() == [True, False, True] and index["box_annotated"].all()
    ds = Dataset(tmp_path / "out")
    assert ds.meta.classes == YTO and ds.meta.mask_encoding == "binary"
    expected = np.zeros((16, 16), np.uint8)
    expected[0:8, 8:16] = 1
    np.testing.assert_array_equal(ds.mask(f"{AERO_SHOT}/frame0001"), expected)
    assert ds.mask(f"{AERO_SHOT}/frame0011").sum() == 0 and len(ds.boxes(f"{AERO_SHOT}/frame0011")) == 0
    np.testing.assert_array_equal(ds.boxes(f"{AERO_SHOT}/frame0001"), [[8, 0, 16, 8]])
    np.testing.assert_array_equal(ds.boxes(f"{COW_SHOT}/frame0021"), [[0, 8, 16, 16]])
    assert ds.row(f"{COW_SHOT}/frame0021")["box_labels"].tolist() == ["cow"]
    png = tmp_path / "youtube_masks" / COW_SHOT / "images" / "00021.png"
    assert (tmp_path / "out/images" / COW_SHOT / "frame0021.png").read_bytes() == png.read_bytes()


def test_yto_masks_with_the_v1_frames(tmp_path):
    _masks_layout(tmp_path / "youtube_masks", tmp_path / "v1")
    index = convert_yto_masks(tmp_path / "youtube_masks", tmp_path / "out", "ytm", frames=tmp_path / "v1")
    assert index["frame"].tolist() == list(range(1, 13)) + [20, 21]
    assert index["item"].tolist() == [f"{AERO_SHOT}/frame{n:04d}" for n in range(1, 13)] + [
        f"{COW_SHOT}/frame0020", f"{COW_SHOT}/frame0021"]
    annotated = [n in (1, 11, 21) for n in index["frame"]]
    assert index["box_annotated"].tolist() == annotated and (index["mask"].notna()).tolist() == annotated
    assert index["has_object"].tolist() == [n != 11 for n in index["frame"]]
    assert (index["width"] == 16).all() and (index["height"] == 16).all()  # the 32x32 frames brought to 16x16
    ds = Dataset(tmp_path / "out")
    assert abs(int(ds.image(f"{AERO_SHOT}/frame0005")[8, 8, 0]) - 50) <= 1
    np.testing.assert_array_equal(ds.boxes(f"{COW_SHOT}/frame0021"), [[0, 8, 16, 16]])
    v1 = tmp_path / "v1" / COW_SHOT / "frame0020.jpg"
    assert (tmp_path / "out/images" / COW_SHOT / "frame0020.jpg").read_bytes() == v1.read_bytes()  # same size: copied


def _break_masks(root: Path, frames: Path, how: str) -> None:
    labels = root / AERO_SHOT / "labels"
    if how == "missing class":
        (root / "train" / "data").rmdir()
    elif how == "no labels folder":
        (root / "car/data/0002/shots/001/images").mkdir(parents=True)
    elif how == "missing png":
        (root / AERO_SHOT / "images" / "00011.png").unlink()
    elif how == "size mismatch":
        _image(root / AERO_SHOT / "images" / "00011.png", 16, 12)
    elif how == "bad label name":
        _mask(labels / "x11.jpg", [])
    elif how == "unpaired numbering":
        (frames / AERO_SHOT / "frame0011.jpg").unlink()
    elif how == "another frame":
        _image(frames / AERO_SHOT / "frame0011.jpg", 32, 32, 250)
    elif how == "shot sizes differ":
        _mask(labels / "00011.jpg", [], size=8)
        _image(root / AERO_SHOT / "images" / "00011.png", 8, 8)
    elif how == "aspect":
        _image(frames / AERO_SHOT / "frame0003.jpg", 32, 20)


@pytest.mark.parametrize("how, message", [
    ("missing class", r"youtube_masks/train/data: not found"),
    ("no labels folder", r"car/data/0002/shots/001/labels: not found"),
    ("missing png", r"shots/001/images/00011\.png: annotated frame of .*labels/00011\.jpg not found"),
    ("size mismatch", r"labels/00011\.jpg: mask is 16x16, image is 16x12"),
    ("bad label name", r"labels/x11\.jpg: label file name is not <frame number>\.jpg"),
    ("unpaired numbering", r"shots/001/labels: frame 11 has a label but no frame in .*v1/aeroplane/data/0001"),
    ("another frame", r"frame0011\.jpg: differs from the annotated frame .*00011\.png by 140\.0 grey levels"),
    ("shot sizes differ", r"images/00011\.png: annotated frame is 8x8, other frames of its shot are 16x16"),
    ("aspect", r"frame0003\.jpg: frame is 32x20, the masks of its shot are 16x16"),
])
def test_yto_masks_bad_layouts_name_the_file(tmp_path, how, message):
    root, frames = tmp_path / "youtube_masks", tmp_path / "v1"
    _masks_layout(root, frames)
    _break_masks(root, frames, how)
    with pytest.raises(DatasetError, match=message):
        convert_yto_masks(root, tmp_path / "out", "ytm", frames=frames)
    assert not (tmp_path / "out" / "index.parquet").exists()
