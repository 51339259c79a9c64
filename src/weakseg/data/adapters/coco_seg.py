"""COCO-SEG-style co-category groups (SSNM's training set) from the official COCO 2017 layout.

SSNM (Sec. 4.1) trains on "the COCO-SEG dataset released by (Wang et al. 2019)" (Wang, Zha,
Liu, Xie, "Robust deep co-saliency detection with group semantic", AAAI 2019): "200,000
images belonging to L = 78 groups, among which each image has a manually labeled binary mask
with co-category label information". The construction rule (which categories, which images,
any object-size threshold, the split) is given in Wang et al. 2019, whose text was not
available here; this converter implements the rule the numbers imply and leaves its free
parameters as options:

* COCO 2017 has 118,287 train + 5,000 val images, fewer than 200,000, so a COCO-SEG item is
  an (image, category) pair: every category present in an image makes one item of that
  category's group, and an image with several categories appears in several groups;
* its mask is the union of the image's instance masks of that category (``1``); crowd
  regions (``iscrowd`` 1) of the category that no single instance covers are void (``255``),
  every other pixel ``0`` (``mask_encoding`` ``binary``);
* ``min_area_fraction`` drops pairs whose foreground (value 1) covers less than that fraction
  of the image's pixels (default 0: no size filter), ``categories`` restricts the groups (default: the 80
  COCO categories; COCO-SEG has 78, which two it lacks was not found).

``<root>`` holds ``annotations/instances_<split>.json`` and the images ``<split>/<file_name>``
for each split of ``splits`` (``train2017`` -> split ``train``, ``val2017`` -> ``val``).
Items ``<group>/<image stem>`` (e.g. ``dog/000000000139``), group and class = the category
name with spaces as ``_`` (``teddy_bear``), labels ``[group]``, ``has_object`` True, no boxes;
images are copied byte for byte (once per item: an image in three groups is stored three
times). Masks are decoded from polygons and RLE with ``pycocotools.mask``. A missing or
malformed annotation file, a missing image or one whose size differs from its annotation
raises :class:`DatasetError` naming the file.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pycocotools import mask as mask_utils

from weakseg.data.index import VOID, DatasetError, DatasetMeta, read_image
from weakseg.data.writer import DatasetWriter
from weakseg.progress import progress

SPLITS: dict[str, str] = {"train2017": "train", "val2017": "val"}


def load_instances(path: Path) -> dict[str, Any]:
    """The parsed ``instances_<split>.json``; a missing, unparsable or incomplete file raises
    :class:`DatasetError` naming it."""
    if not path.is_file():
        raise DatasetError(f"{path}: not found; expected annotations/instances_<split>.json of COCO 2017")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DatasetError(f"{path}: not valid JSON ({err})") from err
    missing = [key for key in ("images", "annotations", "categories") if key not in data]
    if missing:
        raise DatasetError(f"{path}: missing keys {missing}; expected a COCO instances file")
    return data


def _require(entry: dict[str, Any], keys: Sequence[str], path: Path, what: str) -> dict[str, Any]:
    """``entry`` itself; a missing key raises :class:`DatasetError` naming the file and the entry."""
    missing = [key for key in keys if key not in entry]
    if missing:
        raise DatasetError(f"{path}: {what} {entry.get('id')!r} has no {missing}")
    return entry


def decode_segmentation(segmentation: Any, height: int, width: int) -> np.ndarray:
    """One annotation's ``segmentation`` (polygon list, uncompressed or compressed RLE) as a bool
    (H, W) mask."""
    if isinstance(segmentation, list):
        rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, height, width))
    elif isinstance(segmentation.get("counts"), list):
        rle = mask_utils.frPyObjects(segmentation, height, width)
    else:
        rle = segmentation
    return mask_utils.decode(rle).astype(bool)


def category_mask(annotations: Sequence[dict[str, Any]], height: int, width: int) -> np.ndarray:
    """Binary uint8 (H, W) mask of one category in one image: 1 = union of its non-crowd instances,
    255 = crowd regions not covered by an instance, 0 elsewhere."""
    mask = np.zeros((height, width), np.uint8)
    crowd = np.zeros((height, width), bool)
    for ann in annotations:
        region = decode_segmentation(ann["segmentation"], height, width)
        if ann.get("iscrowd", 0):
            crowd |= region
        else:
            mask[region] = 1
    mask[crowd & (mask == 0)] = VOID
    return mask


def group_of(category: str) -> str:
    """Group / class name of a COCO category: spaces as ``_``."""
    return category.replace(" ", "_")


def annotations_by_image(path: Path, data: dict[str, Any], keep: set[int]) -> dict[int, dict[int, list]]:
    """Image id -> category id -> the annotations of ``data`` (read from ``path``) whose category is in ``keep``."""
    by_image: dict[int, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for ann in data["annotations"]:
        _require(ann, ("image_id", "category_id", "segmentation"), path, "annotation")
        if ann["category_id"] in keep:
            by_image[ann["image_id"]][ann["category_id"]].append(ann)
    return by_image


def convert_coco_seg(root: Path, out: Path, name: str, splits: Sequence[str] = tuple(SPLITS),
                     categories: Sequence[str] | None = None, min_area_fraction: float = 0.0) -> pd.DataFrame:
    """Write the (image, category) groups of COCO 2017 at ``root`` into the canonical dataset ``out``."""
    unknown_splits = sorted(set(splits) - set(SPLITS))
    if unknown_splits or not splits:
        raise ValueError(f"splits {list(splits)}: expected some of {list(SPLITS)}")
    if not 0.0 <= min_area_fraction < 1.0:
        raise ValueError(f"min_area_fraction={min_area_fraction}: expected a fraction in [0, 1)")
    paths = {split: root / "annotations" / f"instances_{split}.json" for split in splits}
    data = {split: load_instances(path) for split, path in paths.items()}
    names = {c["id"]: c["name"] for split in splits for c in data[split]["categories"]}
    wanted = list(names.values()) if categories is None else list(categories)
    unknown = sorted(set(wanted) - set(names.values()))
    if unknown:
        raise ValueError(f"categories {unknown} are not COCO categories; known: {sorted(names.values())}")
    keep = {cid for cid, category in names.items() if category in wanted}
    meta = DatasetMeta(name=name, kind="groups", classes=tuple(group_of(names[cid]) for cid in sorted(keep)),
                       mask_encoding="binary", source=f"COCO 2017 {list(splits)} at {root}: (image, category) "
                                                      f"pairs, min_area_fraction {min_area_fraction}")
    writer = DatasetWriter(out, meta)
    for split, path in paths.items():
        by_image = annotations_by_image(path, data[split], keep)
        images = [img for img in data[split]["images"]
                  if _require(img, ("id", "file_name", "height", "width"), path, "image")["id"] in by_image]
        for img in progress(images, desc=f"coco_seg {split}", unit="img"):
            image = root / split / img["file_name"]
            height, width = read_image(image).shape[:2]
            if (height, width) != (img["height"], img["width"]):
                raise DatasetError(f"{image}: image is {width}x{height}, "
                                   f"its annotation says {img['width']}x{img['height']}")
            for cid, anns in sorted(by_image[img["id"]].items()):
                try:
                    mask = category_mask(anns, height, width)
                except (TypeError, ValueError, AttributeError) as err:
                    raise DatasetError(f"{path}: cannot decode the segmentation of annotations "
                                       f"{[a.get('id') for a in anns]} ({err})") from err
                if not (mask == 1).any() or (mask == 1).mean() < min_area_fraction:
                    continue
                group = group_of(names[cid])
                writer.add(item=f"{group}/{image.stem}", split=SPLITS[split], image_file=image, labels=[group],
                           cls=group, group=group, has_object=True, box_annotated=False, boxes=[], box_labels=[],
                           mask=mask)
    return writer.finalize()
