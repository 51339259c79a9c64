"""Snakemake entry point: one Foreground Clustering QP (weakseg.methods.fc.run)."""

from pathlib import Path

import numpy as np

from weakseg.data.index import Dataset
from weakseg.methods.fc.frames import load_frames
from weakseg.methods.fc.run import solve_frames
from weakseg.methods.fc.variants import variant
from weakseg.preprocess.store import load_unit, merge_units, save_unit
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
wc = sm.wildcards
with logged(sm.log[0], f"fc_solve {wc.dataset}/{wc.variant}/{wc.unit}") as log:
    ds = Dataset(Path(sm.input.index).parent)
    units = {key: merge_units([load_unit(p) for p in sm.input[key]]) for key in ("superpixels", "boxes", "saliency", "dsift")}
    rows = ds.index.set_index("item").loc[units["boxes"].items].sort_values(["shot", "frame"], kind="stable")
    items = list(rows.index)
    saliency_field = "video" if "video" in units["saliency"].fields else "image"
    frames = load_frames(items, units, load_unit(sm.input.features), saliency_field, sm.params.params["box_coverage"])
    shots = [None if s != s else s for s in rows["shot"]]  # NaN (still images) -> None
    predictions, solution = solve_frames(frames, variant(wc.variant, sm.params.variant), sm.params.params, shots)
    save_unit(sm.output[0], items, {
        "box": [p.box for p in predictions], "mask": [p.mask.astype(np.uint8) for p in predictions],
        "z": [p.z for p in predictions], "y": [p.y for p in predictions],
    }, {"variant": wc.variant, "saliency": saliency_field, "n_variables": solution.n_variables,
        "n_constraints": solution.n_constraints, "seconds": solution.seconds, "status": solution.status,
        "objective": solution.objective})
    log.info("%d key frames; QP solved in %.2f s", len(items), solution.seconds)
