"""Write a dataset in the canonical format (see :mod:`weakseg.data.index`), atomically.

Images and masks go to ``<root>/.partial/`` first; :meth:`DatasetWriter.finalize`
moves them into place, then writes ``meta.json`` and, last, ``index.parquet``. The
index is the dataset's completion marker: a killed job never leaves an index that
names missing files.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from weakseg.data.index import INDEX_COLUMNS, DatasetMeta, read_image, validate_index
from weakseg.io import write_json, write_parquet

IMAGE_SUFFIX = ".jpg"
JPEG_QUALITY = 92


class DatasetWriter:
    """Collect items of one dataset and write them in the canonical format."""

    def __init__(self, root: str | Path, meta: DatasetMeta) -> None:
        self.root = Path(root)
        self.meta = meta
        self.partial = self.root / ".partial"
        if self.partial.exists():
            shutil.rmtree(self.partial)
        self.rows: list[dict[str, Any]] = []

    def add(self, *, item: str, split: str, image: np.ndarray | None = None, image_file: Path | None = None,
            labels: list[str], cls: str | None, group: str | None = None, video: str | None = None,
            shot: str | None = None, frame: int = -1, has_object: bool, box_annotated: bool,
            boxes: list[list[float]], box_labels: list[str], mask: np.ndarray | None) -> None:
        """Add one item: ``image`` RGB uint8 (H, W, 3) to encode, or ``image_file`` to copy
        byte for byte (real datasets); ``mask`` uint8 (H, W) or None."""
        if (image is None) == (image_file is None):
            raise ValueError(f"item {item!r}: give exactly one of image and image_file")
        if image_file is not None:
            image = read_image(Path(image_file))
            image_rel = f"images/{item}{Path(image_file).suffix.lower()}"
            (self.partial / image_rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(image_file, self.partial / image_rel)
        else:
            image_rel = f"images/{item}{IMAGE_SUFFIX}"
            _imwrite(self.partial / image_rel, cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                     [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        mask_rel = None
        if mask is not None:
            mask_rel = f"masks/{item}.png"
            _imwrite(self.partial / mask_rel, mask, [])
        self.rows.append({
            "item": item, "split": split, "image": image_rel, "height": int(image.shape[0]),
            "width": int(image.shape[1]), "labels": list(labels), "class": cls, "group": group,
            "video": video, "shot": shot, "frame": int(frame), "has_object": bool(has_object),
            "box_annotated": bool(box_annotated), "boxes": [list(map(float, b)) for b in boxes],
            "box_labels": list(box_labels), "mask": mask_rel,
        })

    def finalize(self) -> pd.DataFrame:
        """Move files into place and write meta.json, then index.parquet; returns the index."""
        df = pd.DataFrame(self.rows, columns=list(INDEX_COLUMNS))
        validate_index(df, self.meta, str(self.root / "index.parquet"))
        for sub in ("images", "masks"):
            target = self.root / sub
            if target.exists():
                shutil.rmtree(target)
            if (self.partial / sub).exists():
                (self.partial / sub).rename(target)
        shutil.rmtree(self.partial, ignore_errors=True)
        write_json(self.root / "meta.json", self.meta.to_json())
        write_parquet(self.root / "index.parquet", df)
        return df


def _imwrite(path: Path, array: np.ndarray, params: list[int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), array, params):
        raise OSError(f"{path}: OpenCV could not write the file")
