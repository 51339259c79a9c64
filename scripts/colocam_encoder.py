"""Snakemake entry point: the frozen classifier's stage maps of the central training frames, cached for decoder
training (colocam.decoder.encoder_cache; weakseg.methods.colocam)."""

import torch

from weakseg.features.device import pick_device
from weakseg.methods.colocam.classifier_training import compute_encoder_maps, frozen_classifier_and_shots
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
wc = sm.wildcards
with logged(sm.log[0], f"colocam_encoder {wc.dataset}/{wc.backbone}"):
    torch.set_num_threads(sm.threads)
    cfg = sm.params.cfg
    device = pick_device(cfg["device"])
    model, shots, store = frozen_classifier_and_shots(sm.input.index, sm.input.classifier, cfg, device)
    compute_encoder_maps(model, wc.backbone, shots, store, cfg["decoder"]["shot_fraction"], sm.output[0], device)
