"""PASCAL07-6x2 (the co-localization subset of PASCAL VOC 2007) in the official VOC layout.

``<root>`` is a ``VOC2007`` folder with ``JPEGImages/``, ``Annotations/`` (XML) and
``ImageSets/Main/6x2_<class>_<left|right>.txt``: 12 class x viewpoint groups (Foreground
Clustering Sec. 6.1: 6 classes, 463 images). Every listed image becomes one item of its
group (an image listed in two groups is one item in each); its boxes are the XML objects
of the group's class, converted from VOC's 1-based inclusive corners to continuous
corners (x_min - 1, y_min - 1, x_max, y_max). Split: ``test`` (co-localization runs on
every image). Images are copied byte for byte.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd

from weakseg.data.index import DatasetError, DatasetMeta
from weakseg.data.writer import DatasetWriter
from weakseg.progress import progress

CLASSES: tuple[str, ...] = ("aeroplane", "bicycle", "boat", "bus", "horse", "motorbike")
VIEWS: tuple[str, ...] = ("left", "right")


def voc_boxes(xml_path: Path, cls: str) -> list[list[float]]:
    """Boxes of class ``cls`` in a VOC annotation, as continuous corners."""
    if not xml_path.is_file():
        raise DatasetError(f"{xml_path}: annotation not found")
    try:
        objects = ET.parse(xml_path).findall("object")
    except ET.ParseError as err:
        raise DatasetError(f"{xml_path}: not valid XML ({err})") from err
    boxes = []
    for obj in objects:
        if obj.findtext("name") != cls:
            continue
        x0, y0, x1, y1 = (float(obj.findtext(f"bndbox/{k}")) for k in ("xmin", "ymin", "xmax", "ymax"))
        boxes.append([x0 - 1, y0 - 1, x1, y1])
    return boxes


def convert_pascal07_6x2(root: Path, out: Path, name: str) -> pd.DataFrame:
    """Write PASCAL07-6x2 from the VOC2007 folder ``root`` into the canonical dataset ``out``."""
    lists = root / "ImageSets" / "Main"
    meta = DatasetMeta(name=name, kind="groups", classes=CLASSES, mask_encoding="none",
                       source=f"PASCAL07-6x2 (VOC2007 layout) at {root}")
    writer = DatasetWriter(out, meta)
    jobs = []
    for cls in CLASSES:
        for view in VIEWS:
            listing = lists / f"6x2_{cls}_{view}.txt"
            if not listing.is_file():
                raise DatasetError(f"{listing}: group list not found (expected the 12 6x2_<class>_<view>.txt files)")
            jobs += [(cls, view, image_id) for image_id in listing.read_text().split()]
    for cls, view, image_id in progress(jobs, desc="pascal07_6x2", unit="img"):
        boxes = voc_boxes(root / "Annotations" / f"{image_id}.xml", cls)
        if not boxes:
            raise DatasetError(f"{root / 'Annotations' / f'{image_id}.xml'}: no {cls} object, "
                               f"but the image is listed in 6x2_{cls}_{view}.txt")
        group = f"{cls}_{view}"
        writer.add(item=f"{group}/{image_id}", split="test", image_file=root / "JPEGImages" / f"{image_id}.jpg",
                   labels=[cls], cls=cls, group=group, has_object=True, box_annotated=True, boxes=boxes,
                   box_labels=[cls] * len(boxes), mask=None)
    return writer.finalize()
