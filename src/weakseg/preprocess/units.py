"""Units of work: preprocessing runs one job per video (video datasets), per image group
(co-segmentation / co-localization datasets) or per chunk of images (other sets), so the
DAG parallelises and reruns only what changed."""

from __future__ import annotations

import re

import pandas as pd

CHUNK = 64  # images per unit for datasets without videos or groups


def unit_id(name: str) -> str:
    """A file-system safe unit id."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", str(name))


def dataset_units(index: pd.DataFrame, chunk: int = CHUNK) -> dict[str, list[str]]:
    """Unit id -> items (index order) for a canonical dataset index."""
    if index["video"].notna().any():
        key = index["video"]
    elif index["group"].notna().any():
        key = index["group"].fillna("ungrouped")
    else:
        key = pd.Series([f"chunk{i // chunk:04d}" for i in range(len(index))], index=index.index)
    units: dict[str, list[str]] = {}
    for k, item in zip(key, index["item"]):
        units.setdefault(unit_id(k), []).append(item)
    return units
