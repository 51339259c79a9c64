"""MSRC co-segmentation groups built from the official MSRC-v2 database layout.

``MSRC_ObjCategImageDatabase_v2.zip`` unpacks to ``MSRC_ObjCategImageDatabase_v2/`` with
``Images/<r>_<n>_s.bmp`` (591 images in 20 rows ``r``) and ``GroundTruth/<r>_<n>_s_GT.bmp``:
colour-coded semantic labels, one colour per class (:data:`CLASS_COLOURS`, the official
colour map as tabulated in Anton Osokin's ``createMsrcClassColorTable.m``), black = void
(unlabelled, mostly object boundaries). ``<root>`` is that folder.

SSNM (Sec. 4.2, Table 1) uses "the sub-set of MSRC ... 7 classes: bird, car, cat, cow, dog,
plane, sheep, and each class contains 10 images" (after Vicente et al. 2011 and Rubinstein et
al. 2013). Which 10 images is not derivable from the database and no public list was found;
this converter builds what is derivable: for each requested class, every image of the class's
row (the database's own grouping by subject), one item ``<class>/<r>_<n>_s`` (e.g.
``cow/5_1_s``), ordered by n, split ``test``, labels ``[class]``, group ``<class>``, no boxes;
images are copied byte for byte.

A class's row comes from ``rows`` or else from :data:`ROWS`: the rows' subjects in the order a
public README lists them ("Grassy Farmlands, Trees, Buildings, Aeroplanes, Cows, Human Faces,
Cars, Bicycles, Sheep, Flowers, Sign Boards, Birds, Books, Chairs, Cats, Dogs, Streets, Water
Bodies, People and Shores"), which agrees with the two rows known independently: row 5 is the
cow group of the ``msrc_cow`` sample (``5_N_s.bmp``) and row 6 the face group of Joulin et
al.'s co-segmentation example (ajoulin/coseg ``input/descr/face/sift/6_N_s.mat``).

Class names are the colour map's (``aeroplane``, ``bicycle``, ...), plus the aliases of
:data:`ALIASES` (``plane`` -> ``aeroplane``, SSNM's name); the group keeps the requested name.

Masks, ``mask_encoding`` ``binary``: 1 where the ground truth has the class colour, 0 on every
other class colour, and void (black) pixels 255 with ``void="void"`` (the default: void marks
pixels the annotators left unlabelled, which :mod:`weakseg.metrics` then ignores) or 0 with
``void="background"``. An image of the row without the class has an all-zero mask:
``has_object`` False. A ground-truth colour outside the colour map raises
:class:`DatasetError` naming the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from weakseg.data.adapters.msrc import IMAGE_NAME
from weakseg.data.index import VOID, DatasetError, DatasetMeta, read_image
from weakseg.data.writer import DatasetWriter
from weakseg.progress import progress

CLASS_COLOURS: dict[str, tuple[int, int, int]] = {
    "building": (128, 0, 0), "grass": (0, 128, 0), "tree": (128, 128, 0), "cow": (0, 0, 128),
    "horse": (128, 0, 128), "sheep": (0, 128, 128), "sky": (128, 128, 128), "mountain": (64, 0, 0),
    "aeroplane": (192, 0, 0), "water": (64, 128, 0), "face": (192, 128, 0), "car": (64, 0, 128),
    "bicycle": (192, 0, 128), "flower": (64, 128, 128), "sign": (192, 128, 128), "bird": (0, 64, 0),
    "book": (128, 64, 0), "chair": (0, 192, 0), "road": (128, 64, 128), "cat": (0, 192, 128),
    "dog": (128, 192, 128), "body": (64, 64, 0), "boat": (192, 64, 0),
}
"""RGB colour of each MSRC-v2 label (23 classes; horse and mountain are rare and usually dropped
from MSRC-21 benchmarks, kept here since the ground truth uses them)."""
VOID_COLOUR: tuple[int, int, int] = (0, 0, 0)
ALIASES: dict[str, str] = {"plane": "aeroplane"}
ROWS: dict[str, int] = {"aeroplane": 4, "cow": 5, "face": 6, "car": 7, "bicycle": 8, "sheep": 9, "flower": 10,
                        "sign": 11, "bird": 12, "book": 13, "chair": 14, "cat": 15, "dog": 16, "body": 19}
"""Row of each object class whose row is named after it (rows 1-3, 17, 18 and 20 are scenes:
farmland, trees, buildings, streets, water, shores; row 19 is "people", label ``body``)."""
SSNM_CLASSES: tuple[str, ...] = ("bird", "car", "cat", "cow", "dog", "plane", "sheep")
"""The classes of SSNM's MSRC subset (Sec. 4.2), SSNM's names."""
VOID_RULES: tuple[str, ...] = ("void", "background")
LABELS: tuple[str, ...] = tuple(CLASS_COLOURS)
_CODES: dict[int, int] = {(r << 16) | (g << 8) | b: i for i, (r, g, b) in enumerate(CLASS_COLOURS.values())}
_CODES[(VOID_COLOUR[0] << 16) | (VOID_COLOUR[1] << 8) | VOID_COLOUR[2]] = -1


def msrc_labels(path: Path) -> np.ndarray:
    """Decode a colour ground-truth file into an int (H, W) map: index into :data:`LABELS`, -1 void."""
    rgb = read_image(path).astype(np.int32)
    codes = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    uniq, inverse = np.unique(codes, return_inverse=True)
    unknown = [int(c) for c in uniq if int(c) not in _CODES]
    if unknown:
        colour = ((unknown[0] >> 16) & 255, (unknown[0] >> 8) & 255, unknown[0] & 255)
        raise DatasetError(f"{path}: colour {colour} is not in the MSRC-v2 colour map (void is black)")
    return np.array([_CODES[int(c)] for c in uniq])[inverse.reshape(codes.shape)]


def msrc_v2_images(root: Path) -> list[tuple[int, int, Path, Path]]:
    """(row, n, image, ground truth) of every ``Images/<r>_<n>_s.bmp``, ordered by (row, n)."""
    images, truth = root / "Images", root / "GroundTruth"
    for folder in (images, truth):
        if not folder.is_dir():
            raise DatasetError(f"{folder}: not found; expected Images/<r>_<n>_s.bmp and GroundTruth/<r>_<n>_s_GT.bmp")
    found = []
    for image in images.iterdir():
        match = IMAGE_NAME.match(image.name)
        if match:
            gt = truth / f"{image.stem}_GT.bmp"
            if not gt.is_file():
                raise DatasetError(f"{gt}: ground truth not found for image {image}")
            found.append((int(match.group(1)), int(match.group(2)), image, gt))
    if not found:
        raise DatasetError(f"{images}: no <r>_<n>_s.bmp images")
    return sorted(found)


def convert_msrc_v2(root: Path, out: Path, name: str, classes: Sequence[str] = SSNM_CLASSES,
                    rows: dict[str, int] | None = None, void: str = "void") -> pd.DataFrame:
    """Write one co-segmentation group per class of ``classes`` (the images of the class's row,
    :data:`ROWS` or ``rows``) from the MSRC-v2 database at ``root`` into the canonical dataset ``out``."""
    if void not in VOID_RULES:
        raise ValueError(f"void={void!r}: expected one of {list(VOID_RULES)}")
    label_of = {cls: ALIASES.get(cls, cls) for cls in classes}
    unknown = sorted(cls for cls, label in label_of.items() if label not in CLASS_COLOURS)
    if unknown or not classes or len(set(classes)) != len(classes):
        raise ValueError(f"classes {list(classes)}: expected distinct MSRC-v2 labels {list(LABELS)} "
                         f"or aliases {sorted(ALIASES)}")
    rows = dict(rows or {})
    extra = sorted(set(rows) - set(classes))
    if extra:
        raise ValueError(f"rows names classes {extra} that are not in classes {list(classes)}")
    row_of = {cls: rows.get(cls, ROWS.get(label_of[cls])) for cls in classes}
    rowless = sorted(cls for cls, row in row_of.items() if row is None)
    if rowless:
        raise ValueError(f"classes {rowless} have no row of their own in MSRC-v2 (known: {ROWS}); give 'rows'")
    files = msrc_v2_images(root)
    jobs = [(cls, image, gt) for cls in classes for row, _, image, gt in files if row == row_of[cls]]
    empty = sorted(cls for cls in classes if not any(job[0] == cls for job in jobs))
    if empty:
        raise DatasetError(f"{root / 'Images'}: no images in row {row_of[empty[0]]} given for class {empty[0]!r}")
    meta = DatasetMeta(name=name, kind="groups", classes=tuple(classes), mask_encoding="binary",
                       source=f"MSRC-v2 database at {root}, rows {row_of}, void -> {void}")
    writer = DatasetWriter(out, meta)
    for cls, image, gt in progress(jobs, desc="msrc_v2", unit="img"):
        labels = msrc_labels(gt)
        height, width = read_image(image).shape[:2]
        if labels.shape != (height, width):
            raise DatasetError(f"{gt}: ground truth is {labels.shape[1]}x{labels.shape[0]}, image is {width}x{height}")
        mask = (labels == LABELS.index(label_of[cls])).astype(np.uint8)
        if void == "void":
            mask[labels == -1] = VOID
        writer.add(item=f"{cls}/{image.stem}", split="test", image_file=image, labels=[cls], cls=cls, group=cls,
                   has_object=bool((mask == 1).any()), box_annotated=False, boxes=[], box_labels=[], mask=mask)
    return writer.finalize()
