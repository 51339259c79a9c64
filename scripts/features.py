"""Snakemake entry point: a GPU feature product (box features, feature maps) over a whole dataset."""

import time
from pathlib import Path

from weakseg.data.index import Dataset
from weakseg.preprocess.run import run_product
from weakseg.preprocess.store import load_unit, merge_units, save_unit
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
wc = sm.wildcards
with logged(sm.log[0], f"features {wc.product} {wc.dataset}") as log:
    start = time.time()
    ds = Dataset(Path(sm.input.index).parent)
    deps = {"boxes": merge_units([load_unit(p) for p in sm.input.boxes])} if "boxes" in sm.input.keys() else {}
    items, fields, attrs = run_product(ds, list(ds.index["item"]), sm.params.cfg, deps)
    save_unit(sm.output[0], items, fields, {**attrs, "product": wc.product})
    seconds = time.time() - start
    log.info("%d items in %.1f s (%.1f items/s)", len(items), seconds, len(items) / max(seconds, 1e-9))
