"""Snakemake entry point: results/tables/index.{md,html} (weakseg.tables.index_entries)."""

from pathlib import Path

from weakseg.tables.index import index_entries
from weakseg.tables.render import write_index
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
with logged(sm.log[0], "tables_index"):
    write_index(index_entries(sm.params.enabled, sm.params.previews, sm.params.figures), sm.params.profile, Path(sm.output.md), Path(sm.output.html))
