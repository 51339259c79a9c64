"""Snakemake entry point: one preprocessing product on one unit (weakseg.preprocess.run)."""

import time
from pathlib import Path

from weakseg.data.index import Dataset
from weakseg.preprocess.run import run_product
from weakseg.preprocess.store import load_unit, save_unit
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
wc = sm.wildcards
with logged(sm.log[0], f"{wc.product} {wc.dataset}/{wc.unit}") as log:
    start = time.time()
    deps = {key: load_unit(path) for key, path in sm.params.deps.items()}
    items, fields, attrs = run_product(Dataset(Path(sm.input.index).parent), sm.params.unit_items, sm.params.cfg, deps)
    save_unit(sm.output[0], items, fields, {**attrs, "product": wc.product})
    seconds = time.time() - start
    log.info("%d items in %.1f s (%.1f items/s)", len(items), seconds, len(items) / max(seconds, 1e-9))
