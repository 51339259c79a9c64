"""Snakemake entry point: the dataset summary table (weakseg.tables.data_summary)."""

from pathlib import Path

from weakseg.tables.data_summary import summarise, write_summary
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
with logged(sm.log[0], "data_summary"):
    df = summarise(sm.params.profile_map, {d: Path(p) for d, p in sm.params.datasets.items()})
    write_summary(df, sm.params.profile, Path(sm.output.csv), Path(sm.output.md), Path(sm.output.png))
