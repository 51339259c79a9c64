"""Snakemake entry point: build one paper table (weakseg.tables.build + render)."""

from pathlib import Path

import pandas as pd

from weakseg.data.index import Dataset
from weakseg.evaluation import skipped_notes
from weakseg.io import write_json
from weakseg.tables.build import DatasetRef, build_table
from weakseg.tables.render import write_table
from weakseg.tables.specs import load_paper
from weakseg.workflow import config_hash, logged, versions

sm = snakemake  # noqa: F821 (injected by Snakemake)
with logged(sm.log[0], f"table {sm.wildcards.paper}/{sm.wildcards.table}") as log:
    paper = load_paper(sm.wildcards.paper)
    spec = paper.tables[sm.wildcards.table]
    evaluations = {(variant, bench): pd.read_parquet(path) for variant, bench, path in sm.params.evals}
    datasets = {}
    for _, bench, _ in sm.params.evals:
        ds = Dataset(sm.params.datasets[bench])
        datasets[bench] = DatasetRef(name=ds.meta.name, classes=ds.classes)
    unavailable = dict(sm.params.unavailable)
    df = build_table(spec, paper, evaluations, datasets, unavailable)
    skipped = [f"{r.label}: not measured, {unavailable[r.variant]}." for r in spec.measured_rows()
               if r.variant in unavailable]
    write_table(spec, paper, df, sm.params.profile, Path(sm.output.csv), Path(sm.output.md), Path(sm.output.png),
                extra_notes=[*sm.params.notes, *skipped, *skipped_notes(evaluations)])
    write_json(sm.output.provenance, {"profile": sm.params.profile, "seed": sm.params.config["synthetic"]["seed"],
                                      "config_sha256": config_hash(sm.params.config), "versions": versions()})
    log.info("%d cells, %d measured", len(df), int(df["measured"].notna().sum()))
