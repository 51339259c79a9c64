"""The canonical dataset format that every dataset (synthetic or real) is converted to.

A dataset is a folder::

    <root>/meta.json        name, kind, classes, mask encoding, source
    <root>/index.parquet    one row per image or video frame (columns below)
    <root>/images/...       image files (any format OpenCV reads)
    <root>/masks/...        PNG masks, uint8

Index columns (``INDEX_COLUMNS``):

============  =============  ============================================================
item          str            unique id, e.g. ``cat003/s01/0007`` or ``horse_left/0012``
split         str            ``train``, ``val`` or ``test``
image         str            image path relative to the root
height/width  int            image size in pixels
labels        list[str]      image-level (weak) labels: a video's label for every frame,
                             a group's label for every image of the group
class         str or None    the unit's class (video or group class); None for scenes
group         str or None    co-segmentation / co-localization group, e.g. ``horse_left``
video/shot    str or None    video and shot ids; None for still images
frame         int            frame number within the shot, -1 for still images
has_object    bool           the labelled object is visible (False: absent frame, outlier)
box_annotated bool           ``boxes`` is an annotation (an empty list then means "no object")
boxes         list[list]     ground-truth boxes ``[x_min, y_min, x_max, y_max]`` in pixels,
                             0-based, continuous corners: a box over pixel columns 0..9 has
                             x_min=0, x_max=10 (see weakseg.metrics for the +1 convention)
box_labels    list[str]      the class of each box
mask          str or None    mask path relative to the root, None where not annotated
============  =============  ============================================================

Masks: ``mask_encoding`` in meta.json is ``binary`` (0 background, 1 foreground of the
unit's class, 255 void) or ``semantic`` (0 background, i+1 for ``classes[i]``, 255 void).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

INDEX_COLUMNS: tuple[str, ...] = (
    "item", "split", "image", "height", "width", "labels", "class", "group", "video",
    "shot", "frame", "has_object", "box_annotated", "boxes", "box_labels", "mask",
)
SPLITS: tuple[str, ...] = ("train", "val", "test")
KINDS: tuple[str, ...] = ("video", "groups", "semantic", "classification")
MASK_ENCODINGS: tuple[str, ...] = ("binary", "semantic", "none")
VOID = 255


class DatasetError(ValueError):
    """A dataset on disk does not follow the canonical format; the message names the file."""


@dataclass(frozen=True)
class DatasetMeta:
    """Contents of ``meta.json``."""

    name: str
    kind: str
    classes: tuple[str, ...]
    mask_encoding: str
    source: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "classes": list(self.classes),
                "mask_encoding": self.mask_encoding, "source": self.source}


def validate_index(df: pd.DataFrame, meta: DatasetMeta, where: str) -> None:
    """Check an index against the format; raise :class:`DatasetError` naming ``where``.

    Checks columns, unique items, split names, labels and box labels among the classes,
    box shapes and that every box lies inside its image.
    """
    missing = [c for c in INDEX_COLUMNS if c not in df.columns]
    if missing:
        raise DatasetError(f"{where}: missing index columns {missing}; expected {list(INDEX_COLUMNS)}")
    if meta.kind not in KINDS:
        raise DatasetError(f"{where}: kind {meta.kind!r} is not one of {list(KINDS)}")
    if meta.mask_encoding not in MASK_ENCODINGS:
        raise DatasetError(f"{where}: mask_encoding {meta.mask_encoding!r} is not one of {list(MASK_ENCODINGS)}")
    dup = df["item"][df["item"].duplicated()]
    if len(dup):
        raise DatasetError(f"{where}: duplicate item ids, e.g. {dup.iloc[0]!r}")
    bad_split = sorted(set(df["split"]) - set(SPLITS))
    if bad_split:
        raise DatasetError(f"{where}: unknown splits {bad_split}; allowed {list(SPLITS)}")
    known = set(meta.classes) | {"background"}
    for row in df.itertuples(index=False):
        unknown = set(row.labels) - known
        if unknown:
            raise DatasetError(f"{where}: item {row.item!r} has labels {sorted(unknown)} not in meta.json classes")
        boxes = np.asarray(list(row.boxes), dtype=float).reshape(-1, 4) if len(row.boxes) else np.zeros((0, 4))
        if len(boxes) != len(row.box_labels):
            raise DatasetError(f"{where}: item {row.item!r} has {len(boxes)} boxes but {len(row.box_labels)} box labels")
        if len(boxes) and (
            (boxes[:, 0] < 0).any() or (boxes[:, 1] < 0).any() or (boxes[:, 2] > row.width).any()
            or (boxes[:, 3] > row.height).any() or (boxes[:, 2] <= boxes[:, 0]).any()
            or (boxes[:, 3] <= boxes[:, 1]).any()
        ):
            raise DatasetError(
                f"{where}: item {row.item!r} has a box outside its {row.width}x{row.height} image "
                f"or with x_max <= x_min: {boxes.tolist()}"
            )


class Dataset:
    """Read access to one canonical dataset folder.

    >>> ds = Dataset("results/data/syn_yto")   # doctest: +SKIP
    >>> ds.items(split="test").head()          # doctest: +SKIP
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        meta_path, index_path = self.root / "meta.json", self.root / "index.parquet"
        for p in (meta_path, index_path):
            if not p.is_file():
                raise DatasetError(f"{p}: not found; build the dataset first (snakemake data) or fix its root in config.yaml")
        raw = json.loads(meta_path.read_text())
        try:
            self.meta = DatasetMeta(name=raw["name"], kind=raw["kind"], classes=tuple(raw["classes"]),
                                    mask_encoding=raw["mask_encoding"], source=raw["source"])
        except KeyError as err:
            raise DatasetError(f"{meta_path}: missing key {err}") from err
        self.index = pd.read_parquet(index_path)
        validate_index(self.index, self.meta, str(index_path))
        self._position = {item: i for i, item in enumerate(self.index["item"])}

    @property
    def classes(self) -> tuple[str, ...]:
        return self.meta.classes

    def items(self, split: str | None = None) -> pd.DataFrame:
        """Rows of the index, optionally of one split."""
        if split is None:
            return self.index
        if split not in SPLITS:
            raise ValueError(f"split {split!r} is not one of {list(SPLITS)}")
        return self.index[self.index["split"] == split]

    def row(self, item: str) -> pd.Series:
        """The index row of ``item`` (a dict lookup: readers call this once per image)."""
        if item not in self._position:
            raise KeyError(f"{self.root}: no item {item!r}")
        return self.index.iloc[self._position[item]]

    def image(self, item: str) -> np.ndarray:
        """RGB image of ``item`` as uint8 (H, W, 3)."""
        return read_image(self.root / self.row(item)["image"])

    def mask(self, item: str) -> np.ndarray | None:
        """Mask of ``item`` as uint8 (H, W), or None where not annotated."""
        row = self.row(item)
        if pd.isna(row["mask"]):
            return None
        mask = read_mask(self.root / row["mask"])
        if mask.shape != (row["height"], row["width"]):
            raise DatasetError(f"{self.root / row['mask']}: mask is {mask.shape[1]}x{mask.shape[0]}, "
                               f"image is {row['width']}x{row['height']}")
        return mask

    def boxes(self, item: str) -> np.ndarray:
        """Ground-truth boxes of ``item``, float (N, 4) ``[x_min, y_min, x_max, y_max]``."""
        b = self.row(item)["boxes"]
        return np.asarray(list(b), dtype=float).reshape(-1, 4)


def read_image(path: Path) -> np.ndarray:
    """Read an image file as RGB uint8 (H, W, 3); a clear error for unreadable files."""
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise DatasetError(f"{path}: cannot read image (missing, truncated or not an image)")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def read_mask(path: Path) -> np.ndarray:
    """Read a single-channel uint8 mask (H, W)."""
    import cv2

    mask = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if mask is None:
        raise DatasetError(f"{path}: cannot read mask (missing, truncated or not an image)")
    if mask.ndim != 2:
        raise DatasetError(f"{path}: mask has {mask.shape[2]} channels, expected a single-channel PNG")
    return mask
