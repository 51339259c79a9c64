"""Snakemake entry point: inference with one MIL variant's priors on one image dataset, every seed's model
(weakseg.methods.mil): confusion rows per image."""

from pathlib import Path

import torch

from weakseg.data.index import Dataset
from weakseg.evaluation import evaluate_models
from weakseg.features.device import pick_device
from weakseg.io import write_parquet
from weakseg.methods.mil.run import evaluate, load_model
from weakseg.preprocess.store import load_unit, merge_units
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
wc = sm.wildcards
with logged(sm.log[0], f"mil_evaluate {wc.dataset}/{wc.variant}") as log:
    torch.set_num_threads(sm.threads)
    cfg = sm.params.cfg
    device = pick_device(cfg["device"])
    ds = Dataset(Path(sm.input.index).parent)
    prior = merge_units([load_unit(p) for p in sm.input.prior]) if "prior" in sm.input.keys() else None

    def with_priors(model, state):
        rows, thresholds = evaluate(model, ds, cfg, prior, device)
        log.info("seed %d: thresholds %s", state["seed"], thresholds)
        return rows

    write_parquet(sm.output[0], evaluate_models(sm.input.models, lambda p: load_model(p, cfg, device), with_priors,
                                                log))
