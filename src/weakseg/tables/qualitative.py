"""Qualitative figures: grids of images with their ground truth and a method's predictions.

Shared by the figure modules of the five papers (``weakseg.methods.<paper>.figures``), which pick
the items and run their method's prediction code; this module only draws. It follows the papers'
conventions (CoLo-CAM Figs. 4-5: "Bounding boxes: ground truth (green), prediction (red)"):

* images: uint8 RGB (H, W, 3);
* boxes: float ``[x0, y0, x1, y1]`` in continuous corners (a box over pixel columns 0..9 has
  x0 = 0, x1 = 10, the dataset index convention); drawn as an outline ``thickness`` pixels wide
  just inside the box, ground truth green, prediction red; a NaN box (no prediction) is not drawn;
* binary masks: the prediction as a translucent red fill with a red outline, the ground truth as a
  green outline;
* semantic label maps: int (H, W) ids ``[background, *classes]`` (0 background, 255 void) in the
  colours of the PASCAL VOC palette (background black, void VOC's cream), as the papers show
  them, over the faint image (:data:`LABEL_ALPHA`);
* heat maps (CAMs): float (H, W) in [0, 1], the jet colour map blended over the image.

Panels are composed in numpy (:func:`compose`: exact, testable pixels), upscaled by an integer
factor with nearest neighbours so that small synthetic frames stay sharp, and laid out by
matplotlib (Agg) at fixed pixel positions: the same inputs give the same PNG.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from weakseg.data.index import VOID  # noqa: E402
from weakseg.io import atomic_path  # noqa: E402

Colour = tuple[int, int, int]
GT_COLOUR: Colour = (0, 255, 0)
"""Ground truth: green (boxes, mask outlines)."""
PRED_COLOUR: Colour = (255, 0, 0)
"""Prediction: red (boxes, mask fills)."""
ALPHA = 0.45
"""Opacity of the predicted-mask fill."""
LABEL_ALPHA = 0.75
"""Opacity of semantic label colours (the image shows through faintly)."""
HEAT_ALPHA = 0.5
"""Opacity of heat-map colours."""
VOID_COLOUR: Colour = (224, 224, 192)
"""Void pixels of label maps (the PASCAL VOC ground-truth colour of void)."""
PANEL_SIDE = 192
"""Pixels the longest side of a panel is shown at in the PNG."""
COLOURS_NOTE = "Green = ground truth, red = prediction."

_GAP, _PANEL_TITLE, _HEADER, _LINE, _LEGEND_ROW, _MIN_WIDTH, _DPI = 6, 26, 44, 13, 18, 640, 100


@dataclass(frozen=True)
class Panel:
    """One image of a figure and what is drawn over it (every overlay optional, all at the image's size)."""

    image: np.ndarray                      # uint8 (H, W, 3)
    title: str = ""
    mask: np.ndarray | None = None         # bool (H, W): predicted foreground, red fill
    gt_mask: np.ndarray | None = None      # bool (H, W): ground-truth foreground, green outline
    labels: np.ndarray | None = None       # int (H, W): semantic ids, 0 background, VOID void
    heatmap: np.ndarray | None = None      # float (H, W) in [0, 1]
    gt_boxes: np.ndarray | None = None     # float (k, 4) continuous corners, green
    pred_boxes: np.ndarray | None = None   # float (k, 4) continuous corners, red; NaN rows skipped


@dataclass(frozen=True)
class QualitativeFigure:
    """Rows of panels with a title, a caption under them, and optional colour legend entries (label, RGB)."""

    title: str
    rows: tuple[tuple[Panel, ...], ...]
    caption: str
    legend: tuple[tuple[str, Colour], ...] = ()


def voc_palette(n: int = 256) -> np.ndarray:
    """uint8 (n, 3): the PASCAL VOC colour map (VOCdevkit ``VOClabelcolormap.m``: the bits of the id spread
    over R, G, B from the most significant bit down); id 1 (aeroplane) is (128, 0, 0), id 15 (person)
    (192, 128, 128)."""
    ids = np.arange(n)
    out = np.zeros((n, 3), np.int64)
    for bit in range(8):
        for channel in range(3):
            out[:, channel] |= ((ids >> (3 * bit + channel)) & 1) << (7 - bit)
    return out.astype(np.uint8)


def upscale(array: np.ndarray, factor: int) -> np.ndarray:
    """``array`` (H, W, ...) repeated ``factor`` times along both image axes (nearest neighbour)."""
    if factor < 1 or int(factor) != factor:
        raise ValueError(f"the upscaling factor must be a positive integer; got {factor}")
    return np.repeat(np.repeat(array, factor, axis=0), factor, axis=1) if factor > 1 else array


def blend(image: np.ndarray, where: np.ndarray, colour: np.ndarray | Colour, alpha: float = ALPHA) -> np.ndarray:
    """A copy of ``image`` (uint8 (H, W, 3)) with the pixels ``where`` (bool (H, W)) mixed with ``colour`` (one
    RGB, or uint8/float (H, W, 3) per pixel): ``round((1 - alpha) * image + alpha * colour)``; others unchanged."""
    where = np.asarray(where, bool)
    if where.shape != image.shape[:2]:
        raise ValueError(f"overlay of shape {where.shape} does not match the image {image.shape[:2]}")
    out = image.copy()
    colour = np.broadcast_to(np.asarray(colour, np.float64), image.shape)
    mixed = (1 - alpha) * image[where].astype(np.float64) + alpha * colour[where]
    out[where] = np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
    return out


def mask_outline(mask: np.ndarray) -> np.ndarray:
    """bool (H, W): the pixels of ``mask`` with a 4-neighbour outside it (the image border counts as outside)."""
    m = np.pad(np.asarray(mask, bool), 1)
    inner = m[1:-1, 1:-1] & m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:]
    return m[1:-1, 1:-1] & ~inner


def draw_box(image: np.ndarray, box: Sequence[float], colour: Colour, thickness: int = 1) -> np.ndarray:
    """A copy of ``image`` with the outline of ``box`` (continuous corners, rounded to whole pixels) in
    ``colour``: the first and last ``thickness`` rows and columns of the pixels the box covers, clipped to
    the image. A NaN box leaves the image unchanged."""
    out = image.copy()
    if np.isnan(np.asarray(box, np.float64)).any():
        return out
    h, w = image.shape[:2]
    x0, y0, x1, y1 = (int(round(float(v))) for v in box)
    x0, x1, y0, y1 = max(x0, 0), min(x1, w), max(y0, 0), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return out
    t = max(1, int(thickness))
    for rows, cols in ((slice(y0, min(y0 + t, y1)), slice(x0, x1)), (slice(max(y1 - t, y0), y1), slice(x0, x1)),
                       (slice(y0, y1), slice(x0, min(x0 + t, x1))), (slice(y0, y1), slice(max(x1 - t, x0), x1))):
        out[rows, cols] = colour
    return out


def heat_colours(heatmap: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3): the jet colour of each value of ``heatmap`` (float (H, W) in [0, 1])."""
    heat = np.asarray(heatmap, np.float64)
    if not np.isfinite(heat).all() or heat.min() < 0 or heat.max() > 1:
        raise ValueError(f"a heat map must hold finite values in [0, 1]; got range [{heat.min()}, {heat.max()}]")
    return np.rint(matplotlib.colormaps["jet"](heat)[..., :3] * 255).astype(np.uint8)


def label_colours(labels: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3): the VOC palette colour of each id of ``labels`` (int (H, W)), :data:`VOID_COLOUR` for void."""
    labels = np.asarray(labels)
    out = voc_palette()[np.where(labels == VOID, 0, labels).astype(np.int64) % 256]
    out[labels == VOID] = VOID_COLOUR
    return out


def compose(panel: Panel, scale: int = 1, thickness: int = 1) -> np.ndarray:
    """uint8 (scale * H, scale * W, 3): the panel's image upscaled by ``scale`` with, in this order, its heat
    map, label colours, predicted mask fill and outline, ground-truth mask outline (outlines ``scale`` pixels
    wide), ground-truth boxes and predicted boxes (``thickness`` pixels wide, on the upscaled image)."""
    image = np.asarray(panel.image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"a panel image must be uint8 (H, W, 3); got {image.dtype} {image.shape}")
    out = upscale(image, scale)
    everywhere = np.ones(out.shape[:2], bool)
    if panel.heatmap is not None:
        out = blend(out, everywhere, upscale(heat_colours(panel.heatmap), scale), HEAT_ALPHA)
    if panel.labels is not None:
        out = blend(out, everywhere, upscale(label_colours(panel.labels), scale), LABEL_ALPHA)
    if panel.mask is not None:
        out = blend(out, upscale(np.asarray(panel.mask, bool), scale), PRED_COLOUR)
        out[upscale(mask_outline(panel.mask), scale)] = PRED_COLOUR
    if panel.gt_mask is not None:
        out[upscale(mask_outline(panel.gt_mask), scale)] = GT_COLOUR
    for boxes, colour in ((panel.gt_boxes, GT_COLOUR), (panel.pred_boxes, PRED_COLOUR)):
        for box in np.asarray([] if boxes is None else boxes, np.float64).reshape(-1, 4):
            out = draw_box(out, box * scale, colour, thickness)
    return out


def panel_grid(panels: Sequence[Panel], columns: int) -> tuple[tuple[Panel, ...], ...]:
    """``panels`` in rows of ``columns`` (the last row shorter)."""
    return tuple(tuple(panels[k:k + columns]) for k in range(0, len(panels), columns))


def round_robin(rows: pd.DataFrame, classes: Sequence[str], n: int, column: str = "labels") -> list[str]:
    """Up to ``n`` items of ``rows`` chosen without looking at any prediction: the first row (index order)
    whose ``column`` (a list of class names, e.g. the image-level labels) holds ``classes[0]``, then the
    first for ``classes[1]``, ... then the second row of each class, and so on; a row is chosen once."""
    per_class = {c: [] for c in classes}
    for item, labels in zip(rows["item"], rows[column]):
        for c in labels:
            if c in per_class:
                per_class[c].append(item)
    chosen: list[str] = []
    depth = 0
    while len(chosen) < n and any(len(items) > depth for items in per_class.values()):
        for c in classes:
            if len(chosen) < n and len(per_class[c]) > depth and per_class[c][depth] not in chosen:
                chosen.append(per_class[c][depth])
        depth += 1
    return chosen


def binary_mask(mask: np.ndarray | None) -> np.ndarray | None:
    """bool (H, W) foreground (not background, not void) of a dataset mask, or None."""
    return None if mask is None else (mask > 0) & (mask != VOID)


def class_legend(classes: Sequence[str], label_maps: Sequence[np.ndarray]) -> tuple[tuple[str, Colour], ...]:
    """Legend entries (class name, palette colour) of the ids 1..len(classes) present in ``label_maps``
    (ids of ``[background, *classes]``)."""
    present = set()
    for labels in label_maps:
        present |= {int(k) for k in np.unique(labels)}
    palette = voc_palette()
    return tuple((classes[k - 1], tuple(int(v) for v in palette[k])) for k in sorted(present)
                 if 1 <= k <= len(classes))


def _wrapped(text: str, width: int, lines: int) -> str:
    """``text`` wrapped to ``width`` characters, its own line breaks kept, at most ``lines`` lines."""
    return "\n".join([w for part in text.split("\n") for w in textwrap.wrap(part, width)][:lines])


def _display_size(image: np.ndarray, side: int) -> tuple[int, int]:
    h, w = image.shape[:2]
    f = side / max(h, w)
    return max(1, round(h * f)), max(1, round(w * f))


def render(figure: QualitativeFigure, path: str | Path, panel_side: int = PANEL_SIDE) -> tuple[int, int]:
    """Write ``figure`` as a PNG (atomically) and return its (height, width) in pixels.

    Each panel is composed at the largest integer scale that keeps its longest side within
    ``panel_side`` (at least 1), with boxes about 2 displayed pixels wide, and shown in a cell of
    ``panel_side`` pixels on its longest side under its title; the figure's title is on top, the caption
    (and the legend, if any) under the grid.
    """
    if not figure.rows or not any(figure.rows):
        raise ValueError(f"figure {figure.title!r} has no panel to draw")
    panels = [p for row in figure.rows for p in row]
    cell_h = max(_display_size(p.image, panel_side)[0] for p in panels)
    cell_w = max(_display_size(p.image, panel_side)[1] for p in panels)
    columns = max(len(row) for row in figure.rows)
    width = max(_MIN_WIDTH, columns * (cell_w + _GAP) + _GAP)
    caption = textwrap.wrap(figure.caption, width=max(40, width // 6))
    legend_rows = math.ceil(len(figure.legend) / 8)
    grid_h = len(figure.rows) * (cell_h + _PANEL_TITLE + _GAP)
    height = _HEADER + grid_h + _GAP + len(caption) * _LINE + legend_rows * _LEGEND_ROW + 2 * _GAP
    fig = plt.figure(figsize=(width / _DPI, height / _DPI), dpi=_DPI)
    fig.text(0.5, 1 - 8 / height, _wrapped(figure.title, max(40, width // 9), 2), ha="center", va="top", fontsize=9,
             weight="bold")
    left0 = (width - columns * (cell_w + _GAP) + _GAP) / 2
    for r, row in enumerate(figure.rows):
        top = _HEADER + r * (cell_h + _PANEL_TITLE + _GAP) + _PANEL_TITLE
        for c, panel in enumerate(row):
            side = max(panel.image.shape[:2])
            scale = max(1, panel_side // side)
            thickness = max(1, round(2 * side * scale / panel_side))
            left = left0 + c * (cell_w + _GAP)
            ax = fig.add_axes((left / width, 1 - (top + cell_h) / height, cell_w / width, cell_h / height))
            composed = compose(panel, scale, thickness)
            ax.imshow(composed, interpolation="nearest" if max(composed.shape[:2]) <= panel_side else "antialiased")
            ax.set_axis_off()
            ax.set_title(_wrapped(panel.title, max(12, cell_w // 5), 2), fontsize=6.5, pad=2)
    y = _HEADER + grid_h + _GAP
    if caption:
        fig.text(_GAP / width, 1 - y / height, "\n".join(caption), ha="left", va="top", fontsize=7.5,
                 linespacing=1.1)
    if figure.legend:
        handles = [Patch(facecolor=np.asarray(rgb) / 255, edgecolor="black", label=name) for name, rgb in figure.legend]
        fig.legend(handles=handles, loc="lower center", ncol=min(8, len(handles)), fontsize=7, frameon=False,
                   bbox_to_anchor=(0.5, _GAP / height), handlelength=1.2, columnspacing=1.0)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=_DPI, metadata={"Software": None})
    plt.close(fig)
    return height, width
