"""Snakemake entry point: Figure 2 a-d of CoLo-CAM (PNG) and its points (CSV) from the sweeps
(weakseg.methods.colocam)."""

from pathlib import Path

import pandas as pd

from weakseg.io import atomic_path
from weakseg.methods.colocam.figure2 import plot_figure2
from weakseg.methods.colocam.figure2_data import figure_points
from weakseg.methods.colocam.figure2_sweep import sweep_variants
from weakseg.training import load
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
with logged(sm.log[0], "colocam_figure2") as log:
    cfg = sm.params.cfg
    evaluations = {v: pd.read_parquet(p) for v, p in zip(sweep_variants(cfg), sm.input.evals)}
    histories: dict[str, list] = {}
    for path in sm.input.models:
        histories.setdefault(Path(path).parent.name, []).append(load(path)["history"])
    points = figure_points(cfg, evaluations, histories, pd.read_csv(sm.input.loss_time))
    log.info("\n%s", points.to_string(index=False))
    with atomic_path(sm.output.csv) as tmp:
        points.to_csv(tmp, index=False)
    plot_figure2(points, {p: out for p, out in zip("abcd", sm.output.png)})
