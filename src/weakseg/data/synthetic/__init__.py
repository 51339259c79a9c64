"""The embedded synthetic benchmark: the default dataset profile, built from a seed.

A plain model of the phenomena the papers rely on (class-specific shape, texture and
colour; cluttered backgrounds sharing colours with objects; object and camera motion;
absent objects; outliers; viewpoints). It is never tuned to make a method win.
``generate`` writes one dataset of ``config['synthetic']['datasets']`` in the canonical
format of :mod:`weakseg.data.index`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from weakseg.data.index import DatasetMeta
from weakseg.data.synthetic.appearance import class_appearance, palette, stable_seed
from weakseg.data.synthetic.images import ImagesSpec, generate_images
from weakseg.data.synthetic.scene import BackgroundStyle
from weakseg.data.synthetic.video import VideoSpec, generate_videos
from weakseg.data.writer import DatasetWriter

KIND_OF_LAYOUT = {"video": ("video", "binary"), "groups": ("groups", "binary"),
                  "scenes": ("semantic", "semantic"), "classification": ("classification", "none")}


def _tuples(d: dict[str, Any]) -> dict[str, Any]:
    """YAML lists -> tuples, so that the frozen specs are hashable and immutable."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}


def generate(name: str, synthetic_cfg: dict[str, Any], root: str | Path) -> pd.DataFrame:
    """Generate dataset ``name`` of the ``synthetic`` config section into ``root``.

    Deterministic in ``synthetic_cfg['seed']`` and ``name``: the same config gives the
    same images, masks and index. Returns the index.
    """
    datasets = synthetic_cfg["datasets"]
    if name not in datasets:
        raise KeyError(f"synthetic.datasets has no dataset {name!r}; defined: {sorted(datasets)}")
    knobs = dict(datasets[name])
    layout = knobs.pop("layout")
    seed = int(synthetic_cfg["seed"])
    pool = palette(seed, int(synthetic_cfg["palette_size"]))
    style = BackgroundStyle(**_tuples(synthetic_cfg["background"]))
    appearance_classes = list(knobs["classes"])
    kind, encoding = KIND_OF_LAYOUT[layout]
    meta = DatasetMeta(name=name, kind=kind, classes=tuple(knobs["classes"]), mask_encoding=encoding,
                       source=f"synthetic (weakseg {__name__}, seed {seed})")
    appearances = {c: class_appearance(c, seed, pool) for c in appearance_classes}
    rng = np.random.default_rng(stable_seed(name, seed))
    writer = DatasetWriter(root, meta)
    if layout == "video":
        generate_videos(VideoSpec(**_tuples(knobs)), appearances, pool, style, rng, writer)
    else:
        generate_images(ImagesSpec(layout=layout, **_tuples(knobs)), appearances, pool, style, rng, writer)
    return writer.finalize()
