"""Snakemake entry point: train one M-CNN / EM-Adapt variant with one seed (weakseg.methods.mcnn)."""

from pathlib import Path

import torch

from weakseg.data.index import Dataset
from weakseg.features.device import pick_device
from weakseg.methods.mcnn.run import train_variant
from weakseg.preprocess.store import load_unit
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
wc = sm.wildcards
with logged(sm.log[0], f"mcnn_train {wc.variant} seed {wc.seed}") as log:
    torch.set_num_threads(sm.threads)
    cfg = sm.params.cfg
    motion = {Path(p).parent.name: load_unit(p) for p in sm.input.motion}
    images = Dataset(Path(sm.input.images).parent) if "images" in sm.input.keys() else None
    parent = sm.input.parent if "parent" in sm.input.keys() else None
    train_variant(wc.variant, cfg, int(wc.seed), Dataset(Path(sm.input.videos).parent), motion, images, parent,
                  sm.output[0], log, pick_device(cfg["device"]))
