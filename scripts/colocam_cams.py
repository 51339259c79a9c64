"""Snakemake entry point: the classifier CAMs C_t (colocam.classifier.cam) of every training frame, cached for
the pseudo-labels (weakseg.methods.colocam)."""

from pathlib import Path

import torch

from weakseg.data.index import Dataset
from weakseg.features.device import pick_device
from weakseg.methods.colocam.classifier_training import compute_cams, load_classifier
from weakseg.methods.colocam.frames import training_shots
from weakseg.methods.colocam.inputs import FrameStore
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
wc = sm.wildcards
with logged(sm.log[0], f"colocam_cams {wc.dataset}/{wc.backbone}") as log:
    torch.set_num_threads(sm.threads)
    cfg = sm.params.cfg
    device = pick_device(cfg["device"])
    ds = Dataset(Path(sm.input.index).parent)
    shots = training_shots(ds.index, cfg["train_splits"], ds.classes)
    model, _ = load_classifier(sm.input.classifier, cfg["classifier"], device)
    compute_cams(model, wc.backbone, shots, ds.classes, FrameStore(ds, cfg["input_size"]), cfg["classifier"]["cam"],
                 sm.output[0], device)
