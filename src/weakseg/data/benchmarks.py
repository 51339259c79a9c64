"""The real benchmarks of the papers (``benchmarks.yaml``) and the dataset profiles.

A *benchmark* is what a paper measured on (``yto_v1``, ``voc2012``, ...); a *dataset*
is a folder in the canonical format. A dataset profile (config ``profiles``) maps each
benchmark to the dataset it is measured on: the default ``synthetic`` profile maps
them to datasets the pipeline generates.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml


@dataclass(frozen=True)
class Benchmark:
    name: str
    title: str
    kind: str
    classes: tuple[str, ...]
    counts: dict[str, int]
    source: str


@cache
def load_benchmarks() -> dict[str, Benchmark]:
    """All benchmarks of ``weakseg/data/benchmarks.yaml`` by name."""
    raw = yaml.safe_load((resources.files("weakseg.data") / "benchmarks.yaml").read_text())
    return {
        name: Benchmark(name=name, title=b["title"], kind=b["kind"], classes=tuple(b["classes"]),
                        counts=dict(b["counts"]), source=b["source"])
        for name, b in raw["benchmarks"].items()
    }


def resolve_profile(config: dict, profile: str | None = None) -> dict[str, str]:
    """Benchmark -> dataset name for ``profile`` (default: ``config['dataset_profile']``).

    Raises ValueError naming the key when the profile is missing or names an unknown
    benchmark.
    """
    profile = profile or config["dataset_profile"]
    profiles = config.get("profiles", {})
    if profile not in profiles:
        raise ValueError(f"config 'dataset_profile: {profile}' has no entry under 'profiles' "
                         f"(defined: {sorted(profiles)})")
    mapping = dict(profiles[profile])
    unknown = sorted(set(mapping) - set(load_benchmarks()))
    if unknown:
        raise ValueError(f"config 'profiles.{profile}' names unknown benchmarks {unknown}; "
                         f"known: {sorted(load_benchmarks())}")
    return mapping
