"""Snakemake entry point: generate one synthetic dataset (weakseg.data.synthetic.generate)."""

from pathlib import Path

from weakseg.data.synthetic import generate
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
with logged(sm.log[0], f"synthetic_dataset {sm.wildcards.dataset}") as log:
    index = generate(sm.wildcards.dataset, sm.params.synthetic, Path(sm.output.index).parent)
    log.info("%d items, %s", len(index), index.groupby("split").size().to_dict())
