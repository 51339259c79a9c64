"""Snakemake entry point: train CoLo-CAM's frame classifier g on one dataset's training frames
(weakseg.methods.colocam)."""

from pathlib import Path

import torch

from weakseg.data.index import Dataset
from weakseg.features.device import pick_device
from weakseg.methods.colocam.classifier_training import train_classifier
from weakseg.methods.colocam.frames import training_shots
from weakseg.methods.colocam.inputs import FrameStore
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
wc = sm.wildcards
with logged(sm.log[0], f"colocam_classifier {wc.dataset}/{wc.backbone}") as log:
    torch.set_num_threads(sm.threads)
    cfg = sm.params.cfg
    ds = Dataset(Path(sm.input.index).parent)
    shots = training_shots(ds.index, cfg["train_splits"], ds.classes)
    train_classifier(shots, ds.classes, FrameStore(ds, cfg["input_size"]), wc.backbone, cfg["classifier"], 0,
                     sm.output[0], log, pick_device(cfg["device"]))
