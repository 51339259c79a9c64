"""PASCAL VOC segmentation sets (VOC2007-VOC2012) in the official VOCdevkit layout, optionally
augmented with SBD ("VOC aug") and restricted to a class subset (M-CNN's 10 classes).

``<root>`` is the ``VOCdevkit/VOC20xx`` folder of a trainval archive (the VOC2007 test archive
extracts into the same folder and adds ``ImageSets/Segmentation/test.txt``)::

    JPEGImages/<id>.jpg              images, copied byte for byte
    SegmentationClass/<id>.png       palette PNG: index 0 background, i+1 VOC class i, 255 void
    Annotations/<id>.xml             object boxes
    ImageSets/Segmentation/<set>.txt one image id per line (``train``, ``val``; 2007 also ``test``)

Ids are ``000032`` (2007) or ``2008_000123`` (2008 on). VOC2008, 2009 and 2010 (MIL Table 2)
and VOC2012 (M-CNN) share this layout.

Rows (kind ``semantic``, mask_encoding ``semantic``): one per id of each image set in
``image_sets`` (the list order), split = the set's name, item = the id. ``labels`` are the
classes present in the mask (image-level weak labels, in class order), ``class`` / ``group`` /
``video`` / ``shot`` None, ``frame`` -1, ``has_object`` = any label. ``boxes`` are the XML
objects of every class (restricted to ``classes`` when given) as continuous corners
(``xmin - 1, ymin - 1, xmax, ymax``; :func:`weakseg.data.adapters.pascal07_6x2.voc_objects`),
``box_annotated`` True. Objects flagged ``difficult`` or ``truncated`` are kept like any other:
the canonical format has no flag to carry, the weak labels come from the mask anyway, and a
truncated box is the visible extent of a real object; VOC's own detection score ignores
``difficult`` objects, which a box protocol would have to re-read from the XML.

Masks are read as palette indices with PIL (OpenCV expands palette PNGs to colour); a
grey-level PNG of indices (mode ``L``) is read as is. Values other than 0..20 and 255, a mask
whose size differs from its image, a missing list, mask or annotation raise
:class:`DatasetError` naming the file.

``classes`` (M-CNN Sec. 4.2): "For experiments dealing with the subset of 10 classes in common
with YouTube-Objects (see the list in Table 1), we treat the remaining 10 from VOC as
irrelevant classes. In other words, we exclude all the training/validation images which
contain only the irrelevant categories. This results in 914 training and 909 validation
images. In images that contain an irrelevant class together with any of the 10 classes in
YouTube-Objects, we treat their corresponding pixels as background for evaluation." So with
``classes`` given, an image is kept iff its mask holds a pixel of one of ``classes`` (an image
of background and void only is dropped too); pixels of the other VOC classes become
background (0); meta.json classes are ``classes`` in the given order, and mask values,
labels and boxes follow them.

``sbd`` (M-CNN Sec. 4.2 and Table 3, "VOC aug.", 10,582 training images): the
``benchmark_RELEASE/dataset`` folder of SBD (Hariharan et al., ICCV 2011): ``img/<id>.jpg``,
``cls/<id>.mat`` (struct ``GTcls`` with field ``Segmentation``, uint8 (H, W), 0 background,
i+1 VOC class i; the layout torchvision.datasets.SBDataset reads), ``train.txt``, ``val.txt``.
Every SBD id (both lists) that is in none of the VOC ``image_sets`` read and not in
``ImageSets/Segmentation/val.txt`` (read even when ``val`` is not among ``image_sets``)
becomes a ``train`` row after the VOC rows, in sorted id order, with its SBD image and
mask; its boxes are read from ``<root>/Annotations/<id>.xml``, expected for every SBD image
(SBD's images come from VOC2011, SBD download page; VOC2012's detection data repeat VOC2011's,
VOC2012 devkit Sec. 2.1); a missing one raises :class:`DatasetError`. An id in both SBD and a
VOC list keeps the official VOC mask.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

from weakseg.data.adapters.pascal07_6x2 import voc_objects
from weakseg.data.adapters.voc_coseg import VOC_CLASSES
from weakseg.data.index import SPLITS, VOID, DatasetError, DatasetMeta
from weakseg.data.writer import DatasetWriter
from weakseg.progress import progress

IMAGE_SETS = "ImageSets/Segmentation"
SBD_LISTS: tuple[str, ...] = ("train", "val")
"""SBD's two lists: together all 11,355 SBD images, which the 10,582-image aug set draws on."""


def read_image_set(path: Path) -> list[str]:
    """Image ids of a VOC / SBD list file (one per line), in file order; a missing or empty file
    or a repeated id raises :class:`DatasetError` naming the file."""
    if not path.is_file():
        raise DatasetError(f"{path}: image list not found")
    ids = path.read_text().split()
    if not ids:
        raise DatasetError(f"{path}: empty image list")
    seen: set[str] = set()
    for image_id in ids:
        if image_id in seen:
            raise DatasetError(f"{path}: id {image_id!r} listed twice")
        seen.add(image_id)
    return ids


def _checked(mask: np.ndarray, path: Path) -> np.ndarray:
    """``mask`` as uint8 (H, W) after checking its values are VOC indices (0..20, 255)."""
    if mask.ndim != 2:
        raise DatasetError(f"{path}: mask has shape {mask.shape}, expected (H, W) class indices")
    values = np.unique(mask)
    bad = [int(v) for v in values if not (0 <= v <= len(VOC_CLASSES) or v == VOID)]
    if bad:
        raise DatasetError(f"{path}: mask values {bad[:5]} are not VOC class indices "
                           f"(0 background, 1..{len(VOC_CLASSES)}, {VOID} void)")
    return mask.astype(np.uint8)


def read_voc_mask(path: Path) -> np.ndarray:
    """A ``SegmentationClass`` PNG as uint8 (H, W) VOC indices: palette indices of a mode ``P``
    PNG (or the values of a mode ``L`` PNG); an RGB-coloured mask raises :class:`DatasetError`."""
    try:
        with Image.open(path) as img:
            if img.mode not in ("P", "L"):
                raise DatasetError(f"{path}: mask is a mode {img.mode!r} image; expected the palette "
                                   f"(mode 'P') PNG of SegmentationClass, whose indices are the classes")
            mask = np.asarray(img)
    except OSError as err:
        raise DatasetError(f"{path}: cannot read mask ({err})") from err
    return _checked(mask, path)


def read_sbd_mask(path: Path) -> np.ndarray:
    """``GTcls.Segmentation`` of an SBD ``cls/<id>.mat`` as uint8 (H, W) VOC indices."""
    from scipy.io import loadmat

    try:
        gt = loadmat(path, squeeze_me=True)["GTcls"]
        mask = np.asarray(gt["Segmentation"].item())
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise DatasetError(f"{path}: not an SBD class annotation (expected struct GTcls with field "
                           f"Segmentation): {err!r}") from err
    return _checked(mask, path)


def subset_lut(classes: Sequence[str]) -> np.ndarray:
    """(256,) uint8 map of VOC mask values to ``classes`` values: 0 -> 0, void -> void, VOC class
    ``c`` -> ``classes.index(c) + 1`` if in ``classes`` else 0 (background)."""
    lut = np.zeros(256, np.uint8)
    lut[VOID] = VOID
    for i, cls in enumerate(classes):
        lut[VOC_CLASSES.index(cls) + 1] = i + 1
    return lut


def _check_options(classes: Sequence[str], image_sets: Sequence[str]) -> None:
    unknown = [c for c in classes if c not in VOC_CLASSES]
    if not classes or unknown or len(set(classes)) != len(classes):
        raise ValueError(f"classes={list(classes)}: expected distinct VOC classes (unknown: {unknown}); "
                         f"VOC classes are {list(VOC_CLASSES)}")
    bad = [s for s in image_sets if s not in SPLITS]
    if not image_sets or bad or len(set(image_sets)) != len(image_sets):
        raise ValueError(f"image_sets={list(image_sets)}: expected distinct names of "
                         f"{IMAGE_SETS}/<name>.txt among the splits {list(SPLITS)}")


def _jobs(root: Path, image_sets: Sequence[str], sbd: Path | None) -> list[dict[str, Any]]:
    """One job per candidate row: item, split, image / mask file, mask reader, the list naming it."""
    jobs: list[dict[str, Any]] = []
    listed: dict[str, Path] = {}
    for split in image_sets:
        lst = root / IMAGE_SETS / f"{split}.txt"
        for image_id in read_image_set(lst):
            if image_id in listed:
                raise DatasetError(f"{lst}: id {image_id!r} is also listed in {listed[image_id]}")
            listed[image_id] = lst
            jobs.append({"item": image_id, "split": split, "image": root / "JPEGImages" / f"{image_id}.jpg",
                         "mask": root / "SegmentationClass" / f"{image_id}.png", "read": read_voc_mask,
                         "listed_in": str(lst)})
    if sbd is not None:
        held_out = set(read_image_set(root / IMAGE_SETS / "val.txt"))
        sbd_ids = {i for name in SBD_LISTS for i in read_image_set(sbd / f"{name}.txt")}
        for image_id in sorted(sbd_ids - set(listed) - held_out):
            jobs.append({"item": image_id, "split": "train", "image": sbd / "img" / f"{image_id}.jpg",
                         "mask": sbd / "cls" / f"{image_id}.mat", "read": read_sbd_mask,
                         "listed_in": f"{sbd / 'train.txt'} or {sbd / 'val.txt'}"})
    return jobs


def convert_voc_seg(root: Path, out: Path, name: str, classes: Sequence[str] | None = None,
                    sbd: Path | None = None, image_sets: Sequence[str] = ("train", "val")) -> pd.DataFrame:
    """Write a VOC segmentation set at ``root`` (``VOCdevkit/VOC20xx``) into the canonical dataset ``out``.

    Args:
        root: the ``VOC20xx`` folder (layout in the module docstring).
        out: output dataset folder.
        name: dataset name (meta.json, messages).
        classes: keep only images with a pixel of these VOC classes, other classes become
            background (M-CNN Sec. 4.2 rule, module docstring); default all 20 VOC classes.
        sbd: SBD's ``benchmark_RELEASE/dataset`` folder: add the SBD images outside the VOC
            lists and VOC ``val`` as ``train`` rows (the "VOC aug" training set).
        image_sets: lists of ``ImageSets/Segmentation`` to read; each becomes the split of its name.

    Returns:
        The index written (module docstring).

    Raises:
        ValueError: bad ``classes`` or ``image_sets``.
        DatasetError: a missing or repeated list entry, image, mask or annotation; a mask that is
            not palette indices, holds values other than 0..20 / 255, or differs in size from its
            image; an XML object of an unknown class (the message names the file).
    """
    root = Path(root)
    sbd = None if sbd is None else Path(sbd)
    kept = tuple(VOC_CLASSES if classes is None else classes)
    _check_options(kept, image_sets)
    lut = subset_lut(kept)
    source = f"PASCAL VOC segmentation ({root.name} layout, image sets {list(image_sets)}) at {root}"
    if sbd is not None:
        source += f", plus SBD (benchmark_RELEASE/dataset layout) at {sbd}"
    if classes is not None:
        source += f", restricted to {len(kept)} classes by the M-CNN Sec. 4.2 rule"
    meta = DatasetMeta(name=name, kind="semantic", classes=kept, mask_encoding="semantic", source=source)
    jobs = _jobs(root, image_sets, sbd)
    writer = DatasetWriter(out, meta)
    for job in progress(jobs, desc=name, unit="img"):
        if not job["mask"].is_file():
            raise DatasetError(f"{job['mask']}: mask not found for image {job['item']!r} listed in {job['listed_in']}")
        mask = lut[job["read"](job["mask"])]
        present = [int(v) for v in np.unique(mask) if 0 < v < VOID]
        if classes is not None and not present:
            continue
        xml = root / "Annotations" / f"{job['item']}.xml"
        objects = voc_objects(xml)
        strange = sorted({c for c, _ in objects} - set(VOC_CLASSES))
        if strange:
            raise DatasetError(f"{xml}: object classes {strange} are not VOC classes")
        objects = [(c, box) for c, box in objects if c in kept]
        writer.add(item=job["item"], split=job["split"], image_file=job["image"],
                   labels=[kept[v - 1] for v in present], cls=None, has_object=bool(present),
                   box_annotated=True, boxes=[box for _, box in objects], box_labels=[c for c, _ in objects],
                   mask=mask)
        written = (writer.rows[-1]["height"], writer.rows[-1]["width"])
        if written != mask.shape:
            raise DatasetError(f"{job['mask']}: mask is {mask.shape[1]}x{mask.shape[0]}, image {job['image']} "
                               f"is {written[1]}x{written[0]}")
    return writer.finalize()
