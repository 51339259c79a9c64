"""Snakemake entry point: per-item evaluation of one Foreground Clustering variant (weakseg.evaluation)."""

from pathlib import Path

import numpy as np

from weakseg.data.index import Dataset
from weakseg.evaluation import evaluate_boxes, evaluate_masks, merge_evaluations
from weakseg.io import write_parquet
from weakseg.preprocess.store import load_unit, merge_units
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
wc = sm.wildcards
with logged(sm.log[0], f"fc_evaluate {wc.dataset}/{wc.variant}") as log:
    ds = Dataset(Path(sm.input.index).parent)
    predictions = merge_units([load_unit(p) for p in sm.input.predictions])
    masked = set(ds.index.loc[ds.index["mask"].notna(), "item"])
    masks = {i: predictions.get("mask", i).astype(bool) for i in predictions.items if i in masked}
    parts = [evaluate_masks(ds, masks)]
    if sm.params.source is None:  # the FC QPs; a source product (FST) has masks only
        boxes = {i: None if np.isnan(b := predictions.get("box", i)).any() else b for i in predictions.items}
        parts.append(evaluate_boxes(ds, boxes, threshold=0.5, strict=True))  # CorLoc: IoU > .5 (Sec. 6)
    evaluation = merge_evaluations(*parts)
    write_parquet(sm.output[0], evaluation)
    log.info("%d items evaluated", len(evaluation))
