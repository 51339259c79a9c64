"""ImageNet-VID (ILSVRC2015 VID) snippets of the 10 YouTube-Objects classes, as M-CNN trains on them.

M-CNN (Tokmakov et al., ECCV 2016), Sec. 4.1: "For experiments with ImageNet-VID, we use 795
training videos corresponding to the 10 classes in common with YouTube-Objects. ImageNet-VID
has bounding box annotations produced semi-automatically for every frame in a video shot (2120
shots in total). We accumulate the labels over a shot and assign them as class labels for the
entire shot." A shot here is a VID *snippet* and a video its source video: the ILSVRC2015
devkit readme (Sec. 4.2.1) names train snippets ``ILSVRC2015_train_<z>`` with ``z`` =
``%05d%03d``, video id then snippet id in the video, and says snippets are shots "manually
selected or manually verified from snippets detected by shot boundary detector" (Sec. 1.2).
So no shot detection runs here: one shot per snippet, ``video`` = ``ILSVRC2015_train_<5 digits>``
(val snippets are their own video: the devkit gives that naming for train only).

Layout (``<root>``, the user's extracted ``ILSVRC2015_VID.tar.gz``, folder ``ILSVRC2015/``):

* ``Data/VID/<split>/.../<snippet>/<%06d>.JPEG`` and ``Annotations/VID/<split>/.../<snippet>/<%06d>.xml``,
  one PASCAL VOC style XML per frame (``<size>``, ``<object>`` with ``<trackid>``, ``<name>``
  = the synset's wnid, ``<bndbox>``), frames numbered from 0;
* ``ImageSets/VID/train_<k>.txt``: the train snippets holding class ``k`` (ILSVRC2015_VID_ID,
  the order of :data:`VID_SYNSETS`), lines ``<snippet path> <label>`` (path relative to
  ``Data/VID/train``, e.g. ``ILSVRC2015_VID_train_0000/ILSVRC2015_train_00000000 1``);
  ``ImageSets/VID/val.txt`` lists val frames ``<snippet path>/<%06d> <index>`` (read with
  ``val=True``).

Train snippets are those listed (label 1) in the lists of the 10 classes' synsets
(:data:`YTO_SYNSETS`); val snippets those whose annotations hold one of them. Every frame's XML
is read; a shot's labels are the YTO classes of its objects over all its frames (a train snippet
listed for a class without any object of that class raises :class:`DatasetError`, which is what
a list numbering other than :data:`VID_SYNSETS` gives). Objects of the other 20 VID synsets are
ignored (background, as M-CNN's irrelevant classes).

Rows (kind ``video``, mask_encoding ``none``, classes the 10 YTO classes), frames whose number is
a multiple of ``every`` (VID train has 1,122,397 frames in 3862 snippets, devkit Sec. 1.4;
subsampling shortens shots, and M-CNN drops shots of fewer than 20 frames), in snippet-path
order then frame order, train before val: item
``<snippet>/<%06d>``, split ``train`` / ``val``, labels = the shot's labels, class = the shot's
label with the most boxes (ties: class order), ``box_annotated`` True, boxes = the frame's
objects of the 10 classes, ``has_object`` = the frame has one. Boxes: the devkit XML numbers are
0-based pixel indices with ``xmax`` inclusive (the FGFA loader, msracver/Flow-Guided-Feature-
Aggregation lib/dataset/imagenet_vid.py, clips ``xmax`` to ``width - 1``), so the continuous box
is ``(xmin, ymin, xmax + 1, ymax + 1)``, clipped to the image. Images are copied byte for byte
and must have their XML ``<size>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from weakseg.data.adapters.youtube_objects import clip_boxes
from weakseg.data.benchmarks import load_benchmarks
from weakseg.data.index import DatasetError, DatasetMeta
from weakseg.data.writer import DatasetWriter
from weakseg.progress import progress

VID_SYNSETS: dict[str, str] = {
    "n02691156": "airplane", "n02419796": "antelope", "n02131653": "bear", "n02834778": "bicycle",
    "n01503061": "bird", "n02924116": "bus", "n02958343": "car", "n02402425": "cattle", "n02084071": "dog",
    "n02121808": "domestic_cat", "n02503517": "elephant", "n02118333": "fox", "n02510455": "giant_panda",
    "n02342885": "hamster", "n02374451": "horse", "n02129165": "lion", "n01674464": "lizard",
    "n02484322": "monkey", "n03790512": "motorcycle", "n02324045": "rabbit", "n02509815": "red_panda",
    "n02411705": "sheep", "n01726692": "snake", "n02355227": "squirrel", "n02129604": "tiger",
    "n04468005": "train", "n01662784": "turtle", "n04530566": "watercraft", "n02062744": "whale",
    "n02391049": "zebra",
}
"""The 30 VID synsets, wnid -> name, in ILSVRC2015_VID_ID order (1..30): the devkit's
``meta_vid.mat`` / ``map_vid.txt`` as listed by open-mmlab/mmtracking
tools/convert_datasets/ilsvrc/imagenet2coco_vid.py (CLASSES, CLASSES_ENCODES) and the FGFA loader."""
YTO_SYNSETS: dict[str, str] = {
    "aeroplane": "n02691156", "bird": "n01503061", "boat": "n04530566", "car": "n02958343",
    "cat": "n02121808", "cow": "n02402425", "dog": "n02084071", "horse": "n02374451",
    "motorbike": "n03790512", "train": "n04468005",
}
"""YouTube-Objects class -> VID synset: the same WordNet synset (airplane, bird, car, dog, horse,
train) or the VID synset of the YTO object (boat: watercraft; cat: domestic_cat; cow: cattle;
motorbike: motorcycle)."""
SNIPPET = re.compile(r"^ILSVRC2015_(?P<split>train|val)_(?P<video>\d{5})\d{3}$")
FRAME_XML = re.compile(r"^(?P<number>\d{6})\.xml$")


def read_train_list(path: Path) -> list[str]:
    """Snippet paths of the lines of an ``ImageSets/VID/train_<k>.txt`` labelled 1, in file order."""
    if not path.is_file():
        raise DatasetError(f"{path}: not found; expected the ILSVRC2015 VID ImageSets/VID/train_<k>.txt lists")
    snippets = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        parts = line.split()
        if len(parts) != 2 or not parts[1].lstrip("-").isdigit():
            raise DatasetError(f"{path}:{number}: {line!r} is not '<snippet path> <label>'")
        if int(parts[1]) == 1:
            snippets.append(parts[0])
    return snippets


def read_val_list(path: Path) -> list[str]:
    """Snippet paths of ``ImageSets/VID/val.txt`` (lines ``<snippet path>/<%06d> <index>``), in order."""
    if not path.is_file():
        raise DatasetError(f"{path}: not found; expected the ILSVRC2015 VID ImageSets/VID/val.txt")
    snippets: dict[str, None] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        parts = line.split()
        if len(parts) != 2 or "/" not in parts[0]:
            raise DatasetError(f"{path}:{number}: {line!r} is not '<snippet path>/<frame> <index>'")
        snippets[parts[0].rsplit("/", 1)[0]] = None
    return list(snippets)


def read_frame_xml(path: Path) -> tuple[tuple[int, int], list[tuple[str, list[float]]]]:
    """((width, height), [(YTO class, continuous box)]) of one frame annotation; objects of the
    other VID synsets are left out."""
    try:
        root = ET.parse(path).getroot()
        size = (int(root.findtext("size/width")), int(root.findtext("size/height")))
        objects = [(obj.findtext("name"), [float(obj.findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax")])
                   for obj in root.findall("object")]
    except (ET.ParseError, TypeError, ValueError) as err:
        raise DatasetError(f"{path}: not a VID frame annotation (<size> and <object> boxes) ({err})") from None
    yto = {wnid: cls for cls, wnid in YTO_SYNSETS.items()}
    kept = []
    for wnid, (x0, y0, x1, y1) in objects:
        if wnid not in VID_SYNSETS:
            raise DatasetError(f"{path}: object name {wnid!r} is not one of the 30 VID synsets")
        if x1 < x0 or y1 < y0:
            raise DatasetError(f"{path}: box xmin={x0} ymin={y0} xmax={x1} ymax={y1} has max < min")
        if wnid in yto:
            kept.append((yto[wnid], [x0, y0, x1 + 1, y1 + 1]))
    boxes = clip_boxes([box for _, box in kept], *size) if kept else []
    outside = [box for box in boxes if box[2] <= box[0] or box[3] <= box[1]]
    if outside:
        raise DatasetError(f"{path}: box {outside[0]} (continuous corners, clipped) lies outside the "
                           f"{size[0]}x{size[1]} frame")
    return size, [(cls, box) for (cls, _), box in zip(kept, boxes)]


def snippet_annotations(ann_dir: Path, listed_in: Path) -> list[tuple[int, Path]]:
    """(frame number, XML file) of a snippet's annotation folder, in frame order."""
    if not ann_dir.is_dir():
        raise DatasetError(f"{ann_dir}: annotation folder of a snippet listed in {listed_in} not found")
    frames = sorted((int(m["number"]), p) for p in ann_dir.iterdir() if (m := FRAME_XML.match(p.name)))
    if not frames:
        raise DatasetError(f"{ann_dir}: no frame annotations (%06d.xml) in this snippet listed in {listed_in}")
    return frames


def snippet_jobs(root: Path, split: str, snippet: str, listed: dict[str, Path], where: Path,
                 every: int) -> list[dict[str, Any]]:
    """Rows of one snippet (keyword arguments of ``DatasetWriter.add`` plus ``xml`` and ``size``),
    or none when it holds none of the 10 classes. ``listed``: YTO class -> the list naming the
    snippet for it; ``where``: the list quoted in other messages."""
    name = snippet.rsplit("/", 1)[-1]
    match = SNIPPET.match(name)
    if match is None or match["split"] != split:
        raise DatasetError(f"{where}: {snippet!r} is not a {split} snippet (ILSVRC2015_{split}_<8 digits>)")
    frames = [(number, xml, *read_frame_xml(xml))
              for number, xml in snippet_annotations(root / "Annotations" / "VID" / split / snippet, where)]
    counts = Counter(cls for *_, objects in frames for cls, _ in objects)
    missing = [cls for cls in listed if cls not in counts]
    if missing:
        raise DatasetError(f"{listed[missing[0]]}: snippet {snippet!r} is listed for {missing[0]} "
                           f"({YTO_SYNSETS[missing[0]]}) but none of its annotations has that synset "
                           f"(list numbering not ILSVRC2015_VID_ID?)")
    labels = [cls for cls in YTO_SYNSETS if cls in counts]
    if not labels:
        return []
    dominant = max(labels, key=lambda cls: counts[cls])  # first maximum in class order
    video = f"ILSVRC2015_train_{match['video']}" if split == "train" else name
    return [{"item": f"{name}/{number:06d}", "split": split,
             "image_file": root / "Data" / "VID" / split / snippet / f"{number:06d}.JPEG", "labels": labels,
             "cls": dominant, "video": video, "shot": name, "frame": number, "has_object": bool(objects),
             "box_annotated": True, "boxes": [box for _, box in objects], "box_labels": [cls for cls, _ in objects],
             "xml": xml, "size": size}
            for number, xml, size, objects in frames if number % every == 0]


def convert_imagenet_vid(root: Path, out: Path, name: str, every: int = 1, val: bool = False) -> pd.DataFrame:
    """Write the ImageNet-VID snippets of the 10 YouTube-Objects classes at ``root`` into ``out``.

    Args:
        root: the ``ILSVRC2015`` folder (``Data``, ``Annotations``, ``ImageSets``).
        out: output dataset folder.
        name: dataset name (meta.json, progress bars).
        every: keep frames whose number is a multiple of ``every`` (1: all frames).
        val: also convert the val snippets of the 10 classes (split ``val``).

    Returns:
        The index written (one row per kept frame; see the module docstring).

    Raises:
        DatasetError: a missing or malformed list, a listed snippet without annotations or with
            an unexpected name, a malformed XML, an object of an unknown synset, a listed class
            absent from the snippet's annotations, a missing frame image or one whose size is not
            its XML's (the message names the file).
    """
    if every < 1:
        raise ValueError(f"every must be >= 1; got {every}")
    root = Path(root)
    sets = root / "ImageSets" / "VID"
    vid_ids = {wnid: k for k, wnid in enumerate(VID_SYNSETS, start=1)}
    listed: dict[str, dict[str, Path]] = {}
    for cls, wnid in YTO_SYNSETS.items():
        listing = sets / f"train_{vid_ids[wnid]}.txt"
        for snippet in read_train_list(listing):
            listed.setdefault(snippet, {})[cls] = listing
    plan = [("train", snippet, classes, next(iter(classes.values()))) for snippet, classes in sorted(listed.items())]
    if val:
        plan += [("val", snippet, {}, sets / "val.txt") for snippet in read_val_list(sets / "val.txt")]
    jobs = [job for split, snippet, classes, where in progress(plan, desc=f"{name} annotations", unit="snippet")
            for job in snippet_jobs(root, split, snippet, classes, where, every)]
    meta = DatasetMeta(name=name, kind="video", classes=tuple(load_benchmarks()["imagenet_vid"].classes),
                       mask_encoding="none",
                       source=f"ImageNet-VID (ILSVRC2015) at {root}: snippets of the 10 YouTube-Objects classes, "
                              f"every {every} frame(s)")
    writer = DatasetWriter(out, meta)
    for job in progress(jobs, desc=name, unit="frame"):
        xml, size = job.pop("xml"), job.pop("size")
        if not job["image_file"].is_file():
            raise DatasetError(f"{job['image_file']}: frame image of {xml} not found")
        writer.add(**job, mask=None)
        written = (writer.rows[-1]["width"], writer.rows[-1]["height"])
        if written != size:
            raise DatasetError(f"{job['image_file']}: image is {written[0]}x{written[1]}, {xml} gives "
                               f"{size[0]}x{size[1]}")
    return writer.finalize()
