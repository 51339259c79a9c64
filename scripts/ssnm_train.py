"""Snakemake entry point: train one SSNM variant with one seed (weakseg.methods.ssnm)."""

from pathlib import Path

import torch

from weakseg.data.index import Dataset
from weakseg.features.device import pick_device
from weakseg.methods.ssnm.run import train_variant
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
wc = sm.wildcards
with logged(sm.log[0], f"ssnm_train {wc.variant} seed {wc.seed}") as log:
    torch.set_num_threads(sm.threads)
    cfg = sm.params.cfg
    train_variant(wc.variant, cfg, int(wc.seed), Dataset(Path(sm.input.index).parent), sm.output[0], log,
                  pick_device(cfg["device"]))
