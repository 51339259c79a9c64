"""Snakemake entry point: the classifier CAMs C_t (colocam.classifier.cam) of every training frame, cached for
the pseudo-labels (weakseg.methods.colocam)."""

import torch

from weakseg.features.device import pick_device
from weakseg.methods.colocam.classifier_training import compute_cams, frozen_classifier_and_shots
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
wc = sm.wildcards
with logged(sm.log[0], f"colocam_cams {wc.dataset}/{wc.backbone}"):
    torch.set_num_threads(sm.threads)
    cfg = sm.params.cfg
    device = pick_device(cfg["device"])
    model, shots, store = frozen_classifier_and_shots(sm.input.index, sm.input.classifier, cfg, device)
    compute_cams(model, wc.backbone, shots, store.ds.classes, store, cfg["classifier"]["cam"], sm.output[0], device)
