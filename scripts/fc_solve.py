"""Snakemake entry point: the Foreground Clustering QPs of one variant on one dataset (weakseg.methods.fc)."""

from pathlib import Path

from weakseg.data.index import Dataset
from weakseg.methods.fc.run import solve_groups_of_units
from weakseg.methods.fc.variants import variant
from weakseg.preprocess.store import load_unit, save_unit
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
wc = sm.wildcards
with logged(sm.log[0], f"fc_solve {wc.dataset}/{wc.variant}") as log:
    products = {key: {Path(p).parent.name: load_unit(p) for p in sm.input[key]}
                for key in ("superpixels", "boxes", "saliency", "dsift")}
    items, fields, stats = solve_groups_of_units(
        Dataset(Path(sm.input.index).parent), sm.params.groups, products, load_unit(sm.input.features),
        variant(wc.variant, sm.params.variant), sm.params.params)
    save_unit(sm.output[0], items, fields, {"variant": wc.variant, "qps": stats})
    log.info("%d QPs, %d key frames, %.1f s solving", len(stats), len(items), sum(s["seconds"] for s in stats))
