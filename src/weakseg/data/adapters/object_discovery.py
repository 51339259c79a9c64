"""The Object Discovery ("Internet") dataset (Rubinstein et al., CVPR 2013) in its released layout.

``ObjectDiscovery-data.zip`` unpacks to ``Data/`` (and ``Results/``, the authors' outputs,
ignored). ``<root>`` is the unpacked folder holding ``Data/``, or ``Data/`` itself:

* ``Data/<Class>100/NNNN.jpg`` with ``Data/<Class>100/GroundTruth/NNNN.png``: the 100-image
  subsets (``subset="100"``, the default); the image numbers keep the full set's numbering
  (e.g. ``Airplane100/0018.jpg``);
* ``Data/<Class>/NNNN.jpg`` with ``Data/<Class>/GroundTruth/NNNN.png``: the full sets
  (``subset="full"``).

``<Class>`` is ``Airplane``, ``Car`` and ``Horse`` (classes ``airplane``, ``car``, ``horse``).
SSNM (Sec. 4.2, Table 2) evaluates on the 100-image subsets ("3 categories ... each class has
100 images including some images with noisy labels"); Foreground Clustering (Sec. 6.1, Table
3) on "about 100 images for each class" (its author's code, Not-IITian/Icml_coseg_coloc,
names the sets ``Aero_82``, ``Car_89``, ``Horse_93``: the subsets without the noise images its
``utils/outlier_list.m`` lists). Layout sources: the download script of XiSHEN0220/SegSwap
(``unzip ObjectDiscovery-data.zip``, drop ``Results``, keep ``Data/Airplane100`` ...) and
public loaders reading ``Airplane100/0018.jpg`` with ``Airplane100/GroundTruth/0018.png``.

Each class is one group; items ``<class>/<stem>`` (e.g. ``airplane/0018``), split ``test``,
labels ``[class]``. Images are copied byte for byte.

Masks, ``mask_encoding`` ``binary`` (0 background, 1 foreground, no void): a ground-truth
pixel is foreground where any channel is non-zero, the rule of the authors' evaluation code
(public copies of ``evaluateClassUns.m``, "Credit: Ce Liu, from
http://people.csail.mit.edu/mrub/ObjectDiscovery/": ``gtMask(:,:,1) ~= 0``; Jaccard only over
images whose mask has an object). The value ranges differ between classes (the Foreground
Clustering author's ``output/eval_obj_disc.m`` compares horse masks with 255 and the others
with 1, as MATLAB reads them), so the threshold at 128 of the other converters would be wrong
here. A noise image has an all-zero mask: ``has_object`` False. In ``subset="100"`` every image
must have a mask; in ``subset="full"`` (whether every image of the full sets has ground truth
was not verified) an image without a ground-truth file gets ``mask`` None (not annotated) and
``has_object`` True (its weak label).

Boxes (for co-localization, Foreground Clustering Table 3): with ``box_min_area`` set, each
8-connected foreground component of more than ``box_min_area`` pixels gives a box, the rule of
the Foreground Clustering author's ``create_GT_obj_disc.m`` (``regionprops`` boxes of regions
with ``Area > 50``); ``box_annotated`` True (an empty list then means "no object"). Boxes are
continuous corners ``[x0, y0, x1, y1]``: a component over pixel columns 0..9 has x0=0, x1=10.
Images without a mask get no boxes (``box_annotated`` False).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from weakseg.data.adapters.voc_coseg import binary_mask
from weakseg.data.index import DatasetError, DatasetMeta, read_image
from weakseg.data.writer import DatasetWriter
from weakseg.progress import progress

CLASS_FOLDERS: dict[str, str] = {"airplane": "Airplane", "car": "Car", "horse": "Horse"}
SUBSETS: tuple[str, ...] = ("100", "full")
GROUND_TRUTH = "GroundTruth"


def component_boxes(mask: np.ndarray, min_area: int) -> list[list[float]]:
    """Boxes ``[x0, y0, x1, y1]`` (continuous corners) of the 8-connected foreground components of
    a binary (H, W) mask with more than ``min_area`` pixels, ordered by OpenCV's component label."""
    count, _, stats, _ = cv2.connectedComponentsWithStats((mask == 1).astype(np.uint8), connectivity=8)
    return [[float(x), float(y), float(x + w), float(y + h)]
            for x, y, w, h, area in stats[1:count].tolist() if area > min_area]


def discovery_folders(root: Path, subset: str) -> dict[str, Path]:
    """Class -> image folder of ``subset`` under ``<root>/Data`` (or ``<root>``)."""
    if subset not in SUBSETS:
        raise ValueError(f"subset={subset!r}: expected one of {list(SUBSETS)}")
    data = root / "Data" if (root / "Data").is_dir() else root
    suffix = "100" if subset == "100" else ""
    folders = {cls: data / f"{folder}{suffix}" for cls, folder in CLASS_FOLDERS.items()}
    for folder in folders.values():
        if not (folder / GROUND_TRUTH).is_dir():
            raise DatasetError(f"{folder / GROUND_TRUTH}: not found; expected Data/<Class>{suffix}/NNNN.jpg with "
                               f"Data/<Class>{suffix}/{GROUND_TRUTH}/NNNN.png for classes "
                               f"{list(CLASS_FOLDERS.values())}")
    return folders


def convert_object_discovery(root: Path, out: Path, name: str, subset: str = "100",
                             box_min_area: int | None = None) -> pd.DataFrame:
    """Write the Object Discovery dataset at ``root`` (``subset`` ``"100"`` or ``"full"``) into the
    canonical dataset ``out``; ``box_min_area`` (e.g. 50) adds boxes of the mask components."""
    folders = discovery_folders(root, subset)
    meta = DatasetMeta(name=name, kind="groups", classes=tuple(folders), mask_encoding="binary",
                       source=f"Object Discovery (Rubinstein et al. 2013) Data/, subset {subset}, at {root}")
    writer = DatasetWriter(out, meta)
    jobs = []
    for cls, folder in folders.items():
        images = sorted(folder.glob("*.jpg"))
        if not images:
            raise DatasetError(f"{folder}: no .jpg images")
        orphans = sorted({p.stem for p in (folder / GROUND_TRUTH).glob("*.png")} - {p.stem for p in images})
        if orphans:
            raise DatasetError(f"{folder / GROUND_TRUTH / orphans[0]}.png: mask without an image in {folder}")
        jobs += [(cls, image, folder / GROUND_TRUTH / f"{image.stem}.png") for image in images]
    for cls, image, mask_file in progress(jobs, desc=f"object_discovery {subset}", unit="img"):
        mask = None
        if mask_file.is_file():
            mask = binary_mask(mask_file, read_image(image).shape[:2], threshold=0)  # any non-zero pixel
        elif subset == "100":
            raise DatasetError(f"{mask_file}: mask not found for image {image}")
        boxes = component_boxes(mask, box_min_area) if mask is not None and box_min_area is not None else []
        writer.add(item=f"{cls}/{image.stem}", split="test", image_file=image, labels=[cls], cls=cls, group=cls,
                   has_object=mask is None or bool(mask.any()),
                   box_annotated=mask is not None and box_min_area is not None,
                   boxes=boxes, box_labels=[cls] * len(boxes), mask=mask)
    return writer.finalize()
