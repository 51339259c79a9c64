"""PASCAL07-6x2 (the co-localization subset of PASCAL VOC 2007) in the official VOC layout.

``<root>`` is a ``VOC2007`` folder with ``JPEGImages/``, ``Annotations/`` (XML) and
``ImageSets/Main/6x2_<class>_<left|right>.txt`` (or the group lists elsewhere, option ``lists``,
also as the ``.mat`` files of huyvvo/OSD): 12 class x viewpoint groups (Foreground
Clustering Sec. 6.1: 6 classes, 463 images). Every listed image becomes one item of its
group (an image listed in two groups is one item in each); its boxes are the XML objects
of the group's class, converted from VOC's 1-based inclusive corners to continuous
corners (x_min - 1, y_min - 1, x_max, y_max). Split: ``test`` (co-localization runs on
every image). Images are copied byte for byte.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io

from weakseg.data.index import DatasetError, DatasetMeta
from weakseg.data.writer import DatasetWriter
from weakseg.progress import progress

CLASSES: tuple[str, ...] = ("aeroplane", "bicycle", "boat", "bus", "horse", "motorbike")
VIEWS: tuple[str, ...] = ("left", "right")


def voc_objects(xml_path: Path) -> list[tuple[str, list[float]]]:
    """(class name, box) of every ``<object>`` in a VOC annotation, in file order.

    Boxes are float ``[x_min, y_min, x_max, y_max]`` continuous corners: VOC's 1-based inclusive
    corners become ``(xmin - 1, ymin - 1, xmax, ymax)``. Every object is returned, whatever its
    ``difficult`` / ``truncated`` flags; person-layout ``<part>`` boxes are not objects.
    """
    if not xml_path.is_file():
        raise DatasetError(f"{xml_path}: annotation not found")
    try:
        objects = ET.parse(xml_path).findall("object")
    except ET.ParseError as err:
        raise DatasetError(f"{xml_path}: not valid XML ({err})") from err
    found = []
    for obj in objects:
        corners = [obj.findtext(f"bndbox/{k}") for k in ("xmin", "ymin", "xmax", "ymax")]
        if None in corners:
            raise DatasetError(f"{xml_path}: object {obj.findtext('name')!r} has no complete <bndbox>")
        x0, y0, x1, y1 = map(float, corners)
        found.append((obj.findtext("name"), [x0 - 1, y0 - 1, x1, y1]))
    return found


def voc_boxes(xml_path: Path, cls: str) -> list[list[float]]:
    """Boxes of class ``cls`` in a VOC annotation, as continuous corners (see :func:`voc_objects`)."""
    return [box for name, box in voc_objects(xml_path) if name == cls]


def group_ids(lists: Path, cls: str, view: str) -> tuple[Path, list[str]]:
    """The image ids of group ``<cls>_<view>``, in list order, and the file they come from.

    ``lists`` holds either the VOC-style ``6x2_<cls>_<view>.txt`` (one id per line) or the
    ``<cls>_<view>.mat`` of huyvvo/OSD's ``VOC2007_6x2_imglist`` (variable ``id``: an (n, 1) cell
    array of id strings); the ``.txt`` wins when both are there.
    """
    txt, mat = lists / f"6x2_{cls}_{view}.txt", lists / f"{cls}_{view}.mat"
    if txt.is_file():
        return txt, txt.read_text().split()
    if mat.is_file():
        try:
            cells = scipy.io.loadmat(mat)["id"]
        except (ValueError, KeyError, OSError) as err:
            raise DatasetError(f"{mat}: not a group list with variable 'id' ({err})") from err
        return mat, [str(np.asarray(cell).item()) for cell in cells.ravel()]
    raise DatasetError(f"{txt}: group list not found (expected the 12 6x2_<class>_<view>.txt files, "
                       f"or OSD's {mat.name}, in {lists})")


def convert_pascal07_6x2(root: Path, out: Path, name: str, lists: Path | None = None) -> pd.DataFrame:
    """Write PASCAL07-6x2 from the VOC2007 folder ``root`` into the canonical dataset ``out``; the group
    lists are in ``lists`` (default ``<root>/ImageSets/Main``; see :func:`group_ids`)."""
    lists = Path(lists) if lists is not None else root / "ImageSets" / "Main"
    meta = DatasetMeta(name=name, kind="groups", classes=CLASSES, mask_encoding="none",
                       source=f"PASCAL07-6x2 (VOC2007 layout) at {root}")
    writer = DatasetWriter(out, meta)
    jobs = []
    for cls in CLASSES:
        for view in VIEWS:
            listing, ids = group_ids(lists, cls, view)
            jobs += [(cls, view, listing.name, image_id) for image_id in ids]
    for cls, view, listing, image_id in progress(jobs, desc="pascal07_6x2", unit="img"):
        boxes = voc_boxes(root / "Annotations" / f"{image_id}.xml", cls)
        if not boxes:
            raise DatasetError(f"{root / 'Annotations' / f'{image_id}.xml'}: no {cls} object, "
                               f"but the image is listed in {listing}")
        group = f"{cls}_{view}"
        writer.add(item=f"{group}/{image_id}", split="test", image_file=root / "JPEGImages" / f"{image_id}.jpg",
                   labels=[cls], cls=cls, group=group, has_object=True, box_annotated=True, boxes=boxes,
                   box_labels=[cls] * len(boxes), mask=None)
    return writer.finalize()
