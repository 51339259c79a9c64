"""Image groups of SSNM (Sec. 4.1): N = 5 images of one co-category, drawn at random for training;
for testing, every image of a co-segmentation group is segmented inside a group of N of its
class (the group's images in index order, cut into chunks of N, the last chunk filled up with the
group's first images; those fillers are predicted again in their own chunk and not counted twice).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def class_items(index: pd.DataFrame, split: str | None = None) -> dict[str, list[str]]:
    """Class -> items (index order) of the masked images of ``split`` (all splits when None)."""
    rows = index if split is None else index[index["split"] == split]
    rows = rows[rows["mask"].notna() & rows["class"].notna()]
    return {str(c): list(g["item"]) for c, g in rows.groupby("class", sort=True)}


def sample_groups(by_class: dict[str, list[str]], categories: Sequence[str], n_groups: int, group_size: int,
                  rng: np.random.Generator) -> list[tuple[str, list[str]]]:
    """``n_groups`` training groups: a random category of ``categories``, then ``group_size`` of its
    images (without replacement when it has enough, else with)."""
    out = []
    for _ in range(n_groups):
        cls = categories[int(rng.integers(len(categories)))]
        items = by_class[cls]
        pick = rng.choice(len(items), size=group_size, replace=len(items) < group_size)
        out.append((cls, [items[i] for i in pick]))
    return out


def evaluation_chunks(items: Sequence[str], group_size: int) -> list[tuple[list[str], int]]:
    """The evaluation groups of one class: (chunk of ``group_size`` items, how many of them count).

    A class with fewer images than ``group_size`` repeats them cyclically to fill its one group.
    """
    if not items:
        return []
    out = []
    for start in range(0, len(items), group_size):
        chunk = list(items[start:start + group_size])
        counted = len(chunk)
        while len(chunk) < group_size:
            chunk.append(items[(len(chunk) - counted) % len(items)])
        out.append((chunk, counted))
    return out
