"""The PASCAL-VOC co-segmentation set (Faktor & Irani 2013; SSNM Sec. 4) in its released layout.

``<root>/images/<Folder>/img_NNNN.jpg`` with ``<root>/masks/<Folder>/img_NNNN.png``: 1037
downscaled VOC2010 images in 20 class folders. The folders use short names (``Aero``,
``Mbike``, ``Monitor``, ``Plant``, ``Table``, the others the capitalised VOC name); they
map to the canonical VOC class names in ``FOLDER_CLASSES``, and an unknown folder stops
the conversion. Every class folder becomes one group named by its class; every image one
item ``<class>/<stem>`` (e.g. ``aeroplane/img_1001``), split ``test`` (co-segmentation
runs on every image), labels ``[class]``, ``has_object`` True, ``box_annotated`` False (the
set gives no boxes; none are derived). Images are copied byte for byte.

Masks: the released masks are RGB PNGs of 0/255; a pixel is foreground when any colour
channel is > 127 (``FOREGROUND_THRESHOLD``). They are written with ``mask_encoding``
``binary``: uint8 (H, W), 0 background, 1 foreground; the set has no void label.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from weakseg.data.index import DatasetError, DatasetMeta, read_image
from weakseg.data.writer import DatasetWriter
from weakseg.progress import progress

VOC_CLASSES: tuple[str, ...] = (
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
)
FOLDER_CLASSES: dict[str, str] = {
    "Aero": "aeroplane", "Bicycle": "bicycle", "Bird": "bird", "Boat": "boat", "Bottle": "bottle",
    "Bus": "bus", "Car": "car", "Cat": "cat", "Chair": "chair", "Cow": "cow", "Table": "diningtable",
    "Dog": "dog", "Horse": "horse", "Mbike": "motorbike", "Person": "person", "Plant": "pottedplant",
    "Sheep": "sheep", "Sofa": "sofa", "Train": "train", "Monitor": "tvmonitor",
}
FOREGROUND_THRESHOLD = 127
"""A mask pixel is foreground when any colour channel is > 127 (i.e. >= 128)."""


def binary_mask(path: Path, shape: tuple[int, int], threshold: int = FOREGROUND_THRESHOLD) -> np.ndarray:
    """Read a foreground mask file (grey or colour, uint8) as a binary uint8 (H, W) mask: 1 where any
    colour channel is > ``threshold``, else 0. ``shape`` is the image's (H, W); a mask of
    another size raises :class:`DatasetError` naming the file."""
    raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if raw is None:
        raise DatasetError(f"{path}: cannot read mask (missing, truncated or not an image)")
    if raw.dtype != np.uint8:
        raise DatasetError(f"{path}: mask is {raw.dtype}, expected 8-bit values (0 background, 255 foreground)")
    grey = raw if raw.ndim == 2 else raw[..., :3].max(axis=2)
    if grey.shape != tuple(shape):
        raise DatasetError(f"{path}: mask is {grey.shape[1]}x{grey.shape[0]}, image is {shape[1]}x{shape[0]}")
    return (grey > threshold).astype(np.uint8)


def add_coseg_item(writer: DatasetWriter, cls: str, image_file: Path, mask_file: Path) -> None:
    """Add one image of the co-segmentation group ``cls`` as item ``<cls>/<image stem>`` with its
    binary mask (see :func:`binary_mask`); a missing mask or an unreadable image raises
    :class:`DatasetError` naming the file."""
    if not mask_file.is_file():
        raise DatasetError(f"{mask_file}: mask not found for image {image_file}")
    mask = binary_mask(mask_file, read_image(image_file).shape[:2])
    writer.add(item=f"{cls}/{image_file.stem}", split="test", image_file=image_file, labels=[cls], cls=cls,
               group=cls, has_object=True, box_annotated=False, boxes=[], box_labels=[], mask=mask)


def voc_coseg_folders(root: Path) -> dict[str, Path]:
    """The class folders under ``<root>/images``: canonical VOC class -> folder."""
    images = root / "images"
    if not images.is_dir():
        raise DatasetError(f"{images}: not found; expected images/<Class>/img_NNNN.jpg and masks/<Class>/img_NNNN.png")
    folders = {}
    for folder in sorted(p for p in images.iterdir() if p.is_dir()):
        if folder.name not in FOLDER_CLASSES:
            raise DatasetError(f"{folder}: unknown class folder {folder.name!r}; known: {sorted(FOLDER_CLASSES)}")
        folders[FOLDER_CLASSES[folder.name]] = folder
    if not folders:
        raise DatasetError(f"{images}: no class folders; expected images/<Class>/img_NNNN.jpg")
    return folders


def convert_voc_coseg(root: Path, out: Path, name: str) -> pd.DataFrame:
    """Write the PASCAL-VOC co-segmentation set at ``root`` into the canonical dataset ``out``."""
    meta = DatasetMeta(name=name, kind="groups", classes=VOC_CLASSES, mask_encoding="binary",
                       source=f"PASCAL-VOC co-segmentation set (Faktor & Irani 2013 layout) at {root}")
    writer = DatasetWriter(out, meta)
    jobs = []
    for cls, folder in voc_coseg_folders(root).items():
        masks = root / "masks" / folder.name
        image_files = sorted(folder.glob("*.jpg"))
        if not image_files:
            raise DatasetError(f"{folder}: no .jpg images")
        orphans = sorted({p.stem for p in masks.glob("*.png")} - {p.stem for p in image_files})
        if orphans:
            raise DatasetError(f"{masks / orphans[0]}.png: mask without an image in {folder}")
        jobs += [(cls, image_file, masks / f"{image_file.stem}.png") for image_file in image_files]
    for cls, image_file, mask_file in progress(jobs, desc="voc_coseg", unit="img"):
        add_coseg_item(writer, cls, image_file, mask_file)
    return writer.finalize()
