"""Converters from the official layouts of real benchmarks into the canonical format.

``ADAPTERS`` maps a format name (config ``real_datasets.<name>.format``) to a function
``convert(root, out, name, **options) -> index`` reading the official layout under ``root``;
``options`` are the converter's keyword arguments (config ``real_datasets.<name>`` minus
``format`` and ``root``):

* ``voc07_6x2``: PASCAL07-6x2 co-localization groups, VOC2007 layout (:mod:`.pascal07_6x2`);
* ``voc_seg``: PASCAL VOC 2007-2012 segmentation, ``VOCdevkit/VOC20xx`` (:mod:`.voc_seg`; options
  ``classes`` (M-CNN's class subset), ``sbd`` (SBD's dataset folder: the VOC 2012 "aug" train set),
  ``image_sets``);
* ``voc_coseg``: PASCAL-VOC co-segmentation set, ``images/<Class>/`` + ``masks/<Class>/``
  (:mod:`.voc_coseg`);
* ``msrc_coseg``: MSRC-v2 co-segmentation class folders with ``GroundTruth/`` masks, or one
  such class folder (:mod:`.msrc`; option ``cls``);
* ``msrc_v2``: the official MSRC-v2 database (``Images/``, ``GroundTruth/*_GT.bmp``), one group per
  class row (:mod:`.msrc_v2`);
* ``object_discovery``: Object Discovery / Internet, ``Data/<Class>[100]/`` (:mod:`.object_discovery`;
  option ``subset``);
* ``icoseg``: iCoseg, ``dataset_public/{images,ground_truth}/<group>/`` (:mod:`.icoseg`; option
  ``groups``);
* ``coco_seg``: COCO-SEG-style groups from COCO 2017 instances (:mod:`.coco_seg`);
* ``yto_v1`` / ``yto_v22``: YouTube-Objects v1.0 / v2.2 frames with the CoLo-CAM/TCAM splits
  (:mod:`.youtube_objects`; option ``splits``, the split folder);
* ``yto_masks``: Jain & Grauman's YouTube-Objects masks, with the v1.0 frames (:mod:`.yto_masks`;
  option ``frames``);
* ``imagenet_vid``: ILSVRC2015 VID snippets of the 10 YouTube-Objects classes (:mod:`.imagenet_vid`);
* ``imagenet_cls``: ILSVRC-2012 train synsets under the 20 VOC classes + background
  (:mod:`.imagenet_cls`).

"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from weakseg.data.adapters.coco_seg import convert_coco_seg
from weakseg.data.adapters.icoseg import convert_icoseg
from weakseg.data.adapters.imagenet_cls import convert_imagenet_cls
from weakseg.data.adapters.imagenet_vid import convert_imagenet_vid
from weakseg.data.adapters.msrc import convert_msrc_coseg
from weakseg.data.adapters.msrc_v2 import convert_msrc_v2
from weakseg.data.adapters.object_discovery import convert_object_discovery
from weakseg.data.adapters.pascal07_6x2 import convert_pascal07_6x2
from weakseg.data.adapters.voc_coseg import convert_voc_coseg
from weakseg.data.adapters.voc_seg import convert_voc_seg
from weakseg.data.adapters.youtube_objects import convert_yto_v1, convert_yto_v22
from weakseg.data.adapters.yto_masks import convert_yto_masks

ADAPTERS: dict[str, Callable[..., pd.DataFrame]] = {
    "voc07_6x2": convert_pascal07_6x2,
    "voc_coseg": convert_voc_coseg,
    "voc_seg": convert_voc_seg,
    "msrc_coseg": convert_msrc_coseg,
    "msrc_v2": convert_msrc_v2,
    "object_discovery": convert_object_discovery,
    "icoseg": convert_icoseg,
    "coco_seg": convert_coco_seg,
    "yto_v1": convert_yto_v1,
    "yto_v22": convert_yto_v22,
    "yto_masks": convert_yto_masks,
    "imagenet_vid": convert_imagenet_vid,
    "imagenet_cls": convert_imagenet_cls,
}


def adapter_options(fmt: str) -> list[str]:
    """The keyword options of format ``fmt``'s converter (its parameters after root, out, name)."""
    return list(inspect.signature(ADAPTERS[fmt]).parameters)[3:]


def convert(fmt: str, root: str | Path, out: str | Path, name: str, **options: Any) -> pd.DataFrame:
    """Convert the dataset at ``root`` (official layout ``fmt``) into ``out``.

    ``options`` go to the converter as keyword arguments; one it does not take raises
    ValueError naming it and the options the format takes.
    """
    if fmt not in ADAPTERS:
        raise ValueError(f"unknown real dataset format {fmt!r}; known: {sorted(ADAPTERS)}")
    adapter = ADAPTERS[fmt]
    accepted = adapter_options(fmt)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"config 'real_datasets.{name}' gives options {unknown} that format {fmt!r} does not take; "
                         f"it takes {accepted}")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not found; set the dataset's root in config 'real_datasets.{name}.root'")
    return adapter(root, Path(out), name, **options)
