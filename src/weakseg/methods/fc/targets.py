"""Which QPs a Foreground Clustering variant solves on a dataset (used by rules/fc.smk)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from weakseg.methods.fc.variants import Variant


def solve_groups(units_info: Mapping[str, Any], variant: Variant, video_splits: Sequence[str]) -> dict[str, list[str]]:
    """Solve name -> the dataset units it covers.

    ``units_info`` is a dataset's ``units.json``. On video datasets only videos of
    ``video_splits`` are used. ``scope: unit`` solves each unit alone; ``scope: class``
    solves every unit of a class together, named after the class.
    """
    units = sorted(units_info["units"])
    if units_info["kind"] == "video":
        units = [u for u in units if set(units_info["splits"][u]) & set(video_splits)]
    if variant.scope == "unit":
        return {u: [u] for u in units}
    kept = set(units)
    groups = {c: sorted(set(us) & kept) for c, us in units_info["classes"].items()}
    return {c: us for c, us in groups.items() if us}
