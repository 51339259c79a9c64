"""Converters from the official layouts of real benchmarks into the canonical format.

``ADAPTERS`` maps a format name (config ``real_datasets.<name>.format``) to a function
``convert(root, out, name) -> index`` reading the official layout under ``root``:

* ``voc07_6x2``: PASCAL07-6x2 co-localization groups, VOC2007 layout (:mod:`.pascal07_6x2`);
* ``voc_coseg``: PASCAL-VOC co-segmentation set, ``images/<Class>/`` + ``masks/<Class>/``
  (:mod:`.voc_coseg`);
* ``msrc_coseg``: MSRC-v2 co-segmentation class folders with ``GroundTruth/`` masks, or one
  such class folder (:mod:`.msrc`).

The real-datasets issue (#9) adds the other benchmarks here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from weakseg.data.adapters.msrc import convert_msrc_coseg
from weakseg.data.adapters.pascal07_6x2 import convert_pascal07_6x2
from weakseg.data.adapters.voc_coseg import convert_voc_coseg

ADAPTERS: dict[str, Callable[[Path, Path, str], pd.DataFrame]] = {
    "voc07_6x2": convert_pascal07_6x2,
    "voc_coseg": convert_voc_coseg,
    "msrc_coseg": convert_msrc_coseg,
}


def convert(fmt: str, root: str | Path, out: str | Path, name: str) -> pd.DataFrame:
    """Convert the dataset at ``root`` (official layout ``fmt``) into ``out``."""
    if fmt not in ADAPTERS:
        raise ValueError(f"unknown real dataset format {fmt!r}; known: {sorted(ADAPTERS)}")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not found; set the dataset's root in config 'real_datasets.{name}.root'")
    return ADAPTERS[fmt](root, Path(out), name)
