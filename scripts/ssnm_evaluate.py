"""Snakemake entry point: P and J of every seed's model of one SSNM variant on one co-segmentation dataset."""

from pathlib import Path

import torch

from weakseg.data.index import Dataset
from weakseg.evaluation import evaluate_models
from weakseg.features.device import pick_device
from weakseg.io import write_parquet
from weakseg.methods.ssnm.run import evaluate, load_model
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
wc = sm.wildcards
with logged(sm.log[0], f"ssnm_evaluate {wc.dataset}/{wc.variant}") as log:
    torch.set_num_threads(sm.threads)
    cfg = sm.params.cfg
    device = pick_device(cfg["device"])
    ds = Dataset(Path(sm.input.index).parent)
    rows = evaluate_models(sm.input.models, lambda p: load_model(p, cfg, device),
                           lambda model, state: evaluate(model, ds, cfg, device), log)
    log.info("P %.1f J %.1f (mean over images and seeds)", 100 * rows["precision"].mean(), 100 * rows["jaccard"].mean())
    write_parquet(sm.output[0], rows)
