"""Snakemake entry point: convert a real benchmark from its official layout (weakseg.data.adapters)."""

from pathlib import Path

from weakseg.data.adapters import convert
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
with logged(sm.log[0], f"real_dataset {sm.wildcards.dataset}") as log:
    real = sm.params.real
    index = convert(real.fmt, real.root, Path(sm.output.index).parent, real.name, **real.converter_options())
    log.info("%d items, %d groups, %d videos, %d boxes, %d masks", len(index), index["group"].nunique(),
             index["video"].nunique(), int(index["boxes"].map(len).sum()), int(index["mask"].notna().sum()))
