"""The dataset summary table: what each benchmark is measured on, beside the real benchmark.

For every benchmark of the active profile, counts read from the dataset's index
(videos, shots, frames, boxes, images, groups) stand beside the counts the papers
state for the real benchmark (``weakseg/data/benchmarks.yaml``). It shows how far
the synthetic default is scaled down; it is not a result of any paper.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from weakseg.data.benchmarks import load_benchmarks  # noqa: E402
from weakseg.data.index import Dataset  # noqa: E402
from weakseg.io import atomic_path, write_text  # noqa: E402

STATS: tuple[str, ...] = ("classes", "items", "videos", "train_videos", "train_shots", "val_frames",
                          "test_frames", "test_boxes", "groups", "images", "train_images", "val_images",
                          "test_images", "object_images", "background_images")


def _split(df: pd.DataFrame, split: str) -> pd.DataFrame:
    return df[df["split"] == split]


def _annotated(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["box_annotated"] & df["has_object"]]


COUNTERS: dict[str, Callable[[Dataset], int]] = {
    "classes": lambda ds: len(ds.classes),
    "items": lambda ds: len(ds.index),
    "videos": lambda ds: ds.index["video"].nunique(),
    "train_videos": lambda ds: _split(ds.index, "train")["video"].nunique(),
    "train_shots": lambda ds: _split(ds.index, "train")["shot"].nunique(),
    "val_frames": lambda ds: len(_annotated(_split(ds.index, "val"))),
    "test_frames": lambda ds: len(_annotated(_split(ds.index, "test"))),
    "test_boxes": lambda ds: int(_split(ds.index, "test")["boxes"].map(len).sum()),
    "groups": lambda ds: ds.index["group"].nunique(),
    "images": lambda ds: len(ds.index),
    "train_images": lambda ds: len(_split(ds.index, "train")),
    "val_images": lambda ds: len(_split(ds.index, "val")),
    "test_images": lambda ds: len(_split(ds.index, "test")),
    "object_images": lambda ds: int((ds.index["labels"].map(lambda l: "background" not in l)).sum()),
    "background_images": lambda ds: int((ds.index["labels"].map(lambda l: "background" in l)).sum()),
}


def summarise(profile_map: Mapping[str, str], dataset_dirs: Mapping[str, Path]) -> pd.DataFrame:
    """One line per (benchmark, statistic): the dataset's count beside the real one.

    A statistic is listed when the real benchmark states it, plus classes and items.
    """
    benchmarks = load_benchmarks()
    records = []
    for bench, name in sorted(profile_map.items()):
        ds = Dataset(dataset_dirs[name])
        real = benchmarks[bench]
        real_counts = {"classes": len(real.classes) or None, **real.counts}
        for stat in STATS:
            if stat in real_counts or stat in ("classes", "items"):
                records.append({"benchmark": bench, "title": real.title, "dataset": name, "statistic": stat,
                                "measured": COUNTERS[stat](ds), "real": real_counts.get(stat),
                                "source": real.source})
    return pd.DataFrame(records)


def write_summary(df: pd.DataFrame, profile: str, csv: Path, md: Path, png: Path) -> None:
    """CSV, Markdown (``measured / real`` per cell) and a log-scale PNG of the item counts."""
    with atomic_path(csv) as tmp:
        df.assign(profile=profile).to_csv(tmp, index=False)
    lines = [f"# Datasets of profile `{profile}` beside the real benchmarks", "",
             "measured: count in the dataset the profile maps the benchmark to; real: count the papers "
             "(or their released splits) state for the real benchmark, – where no source states it.", "", "| benchmark | dataset | statistic | measured | real |",
             "|---|---|---|---|---|"]
    for rec in df.itertuples(index=False):
        real = "–" if pd.isna(rec.real) else f"{int(rec.real):,}"
        lines.append(f"| {rec.benchmark} | {rec.dataset} | {rec.statistic} | {rec.measured:,} | {real} |")
    lines += ["", "Sources of the real counts:", ""]
    lines += [f"- {b}: {s}" for b, s in df.drop_duplicates("benchmark")[["benchmark", "source"]].itertuples(index=False)]
    write_text(md, "\n".join(lines) + "\n")
    items = df[df["statistic"] == "items"].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar(items.index, items["measured"], color="#1f77b4", label=f"{profile} items")
    ax.set_yscale("log")
    ax.set_xticks(items.index)
    ax.set_xticklabels(items["benchmark"], rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("items (images or frames)")
    ax.set_title(f"Dataset sizes, profile {profile}")
    ax.legend()
    fig.tight_layout()
    with atomic_path(png) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
