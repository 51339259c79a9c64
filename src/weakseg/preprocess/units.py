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


def unit_classes(index: pd.DataFrame, units: dict[str, list[str]]) -> dict[str, list[str]]:
    """Class -> units whose items are all of that class (videos, class groups); units of
    mixed or no class (chunks of scenes) are left out. Used by methods that solve over a
    whole class (Tang et al. 2014, Joulin et al. 2014)."""
    cls = index.set_index("item")["class"]
    out: dict[str, list[str]] = {}
    for unit, items in units.items():
        classes = set(cls.loc[items])
        if len(classes) == 1 and not pd.isna(c := classes.pop()):
            out.setdefault(str(c), []).append(unit)
    return out


def unit_splits(index: pd.DataFrame, units: dict[str, list[str]]) -> dict[str, list[str]]:
    """Unit -> the splits its items belong to (one for a video: splits are by video)."""
    split = index.set_index("item")["split"]
    return {unit: sorted(set(split.loc[items])) for unit, items in units.items()}
