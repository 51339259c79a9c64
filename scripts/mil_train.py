"""Snakemake entry point: train the MIL network with one aggregation and one seed (weakseg.methods.mil)."""

from pathlib import Path

import torch

from weakseg.data.index import Dataset
from weakseg.features.device import pick_device
from weakseg.methods.mil.run import train_model
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
wc = sm.wildcards
with logged(sm.log[0], f"mil_train {wc.aggregation} seed {wc.seed}") as log:
    torch.set_num_threads(sm.threads)
    cfg = sm.params.cfg
    segmentation_classes = Dataset(Path(sm.input.labels).parent).classes
    train_model(wc.aggregation, cfg, int(wc.seed), Dataset(Path(sm.input.index).parent), segmentation_classes,
                sm.output[0], log, pick_device(cfg["device"]))
