"""Snakemake entry point: every CPU preprocessing product of one unit (weakseg.preprocess.run)."""

from pathlib import Path

from weakseg.data.index import Dataset
from weakseg.preprocess.run import run_unit
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
wc = sm.wildcards
with logged(sm.log[0], f"preprocess {Path(sm.input.index).parent.name}/{wc.unit}") as log:
    outputs = {name: sm.output[name] for name in sm.params.products}
    stats = run_unit(Dataset(Path(sm.input.index).parent), sm.params.unit_items, sm.params.products,
                     list(sm.params.products), outputs)
    for name, (n, seconds) in stats.items():
        log.info("%s: %d items in %.2f s (%.1f items/s)", name, n, seconds, n / max(seconds, 1e-9))
