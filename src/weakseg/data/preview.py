"""A contact sheet of a dataset: sample images with their ground-truth boxes and mask
outlines, so a user can see what a profile's data look like."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from weakseg.data.index import VOID, Dataset
from weakseg.io import atomic_path

BOX_COLOUR = (255, 255, 0)     # RGB
MASK_COLOUR = (255, 0, 255)


def annotate(ds: Dataset, item: str) -> np.ndarray:
    """RGB uint8 (H, W, 3): the image with its boxes and the outline of its mask."""
    img = ds.image(item).copy()
    mask = ds.mask(item)
    if mask is not None:
        fg = ((mask > 0) & (mask != VOID)).astype(np.uint8)
        contours, _ = cv2.findContours(fg, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(img, contours, -1, MASK_COLOUR, 1)
    for x0, y0, x1, y1 in ds.boxes(item):
        cv2.rectangle(img, (int(x0), int(y0)), (int(x1) - 1, int(y1) - 1), BOX_COLOUR, 1)
    return img


def contact_sheet(ds: Dataset, n: int = 24, cols: int = 8, seed: int = 0) -> np.ndarray:
    """Up to ``n`` annotated items (a fixed random sample, annotated ones first), tiled."""
    df = ds.items()
    df = df.assign(annotated=df["box_annotated"] | df["mask"].notna())
    rng = np.random.default_rng(seed)
    order = df.iloc[rng.permutation(len(df))].sort_values("annotated", ascending=False, kind="stable")
    items = list(order["item"][:n])
    tiles = [annotate(ds, i) for i in items]
    h = max(t.shape[0] for t in tiles)
    w = max(t.shape[1] for t in tiles)
    tiles = [cv2.resize(t, (w, h), interpolation=cv2.INTER_AREA) for t in tiles]
    tiles += [np.full((h, w, 3), 255, np.uint8)] * (-len(tiles) % cols)
    rows = [np.concatenate(tiles[r:r + cols], axis=1) for r in range(0, len(tiles), cols)]
    return np.concatenate(rows, axis=0)


def write_contact_sheet(root: str | Path, out: str | Path, n: int = 24) -> None:
    """Write the contact sheet of the dataset at ``root`` to ``out`` (PNG, atomically)."""
    sheet = contact_sheet(Dataset(root), n)
    with atomic_path(out) as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
            raise OSError(f"{out}: OpenCV could not write the file")
