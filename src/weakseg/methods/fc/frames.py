"""The per-frame inputs of Foreground Clustering, read from the preprocessing products.

For every key frame: its superpixels (labels, centroids, mean colours, histograms,
dense-SIFT bag of words), its box proposals with CNN features, and saliency averaged
over each superpixel and each box (``M`` of Sec. 4.1). Membership ``S_i``: superpixel
``j`` belongs to box ``i`` when at least ``coverage`` of its pixels lie inside the box.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from weakseg.preprocess.store import UnitData


@dataclass
class FrameInputs:
    item: str
    labels: np.ndarray          # int32 (H, W) superpixel labels 0..n-1
    centroids: np.ndarray       # float32 (n, 2) (x, y)
    colours: np.ndarray         # float32 (n, 3) mean RGB in [0, 255]
    histograms: np.ndarray      # int32 (n, B) RGB histogram counts
    bow: np.ndarray             # float32 (n, words) dense-SIFT bag of words
    sp_saliency: np.ndarray     # float32 (n,) mean saliency per superpixel, in [0, 1]
    boxes: np.ndarray           # float32 (m, 4) continuous corners
    box_saliency: np.ndarray    # float32 (m,) mean saliency per box
    box_features: np.ndarray    # float32 (m, C) L2-normalised
    membership: np.ndarray      # bool (m, n): S_i

    @property
    def n_superpixels(self) -> int:
        return len(self.centroids)


def box_membership(labels: np.ndarray, boxes: np.ndarray, coverage: float) -> np.ndarray:
    """bool (m, n): superpixel j in box i when >= ``coverage`` of its pixels are inside."""
    n = int(labels.max()) + 1
    sizes = np.bincount(labels.ravel(), minlength=n)
    out = np.zeros((len(boxes), n), bool)
    for i, (x0, y0, x1, y1) in enumerate(np.round(boxes).astype(int)):
        inside = np.bincount(labels[y0:y1, x0:x1].ravel(), minlength=n)
        out[i] = inside >= coverage * sizes
    return out


def region_means(values: np.ndarray, labels: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``values`` (H, W) per superpixel (n,) and per box (m,)."""
    n = int(labels.max()) + 1
    sums = np.bincount(labels.ravel(), weights=values.ravel(), minlength=n)
    per_sp = sums / np.maximum(np.bincount(labels.ravel(), minlength=n), 1)
    per_box = np.array([values[int(round(y0)):int(round(y1)), int(round(x0)):int(round(x1))].mean()
                        for x0, y0, x1, y1 in boxes], dtype=np.float32).reshape(len(boxes))
    return per_sp.astype(np.float32), per_box


def load_frames(items: Sequence[str], units: Mapping[str, UnitData], features: UnitData, saliency_field: str,
                coverage: float) -> list[FrameInputs]:
    """Inputs of ``items`` from the unit files of the products ``superpixels``, ``boxes``,
    ``saliency``, ``dsift`` (``units``) and the dataset's box ``features``."""
    sp, bx, sal, ds = units["superpixels"], units["boxes"], units["saliency"], units["dsift"]
    frames = []
    for item in items:
        labels = sp.get("labels", item)
        boxes = bx.get("boxes", item)
        sp_sal, box_sal = region_means(sal.get(saliency_field, item), labels, boxes)
        frames.append(FrameInputs(
            item=item, labels=labels, centroids=sp.get("centroid", item), colours=sp.get("mean_colour", item),
            histograms=sp.get("histogram", item), bow=ds.get("bow", item), sp_saliency=sp_sal, boxes=boxes,
            box_saliency=box_sal, box_features=features.get("features", item),
            membership=box_membership(labels, boxes, coverage)))
    return frames
