"""Snakemake entry point: the frozen classifier's stage maps of the central training frames, cached for decoder
training (colocam.decoder.encoder_cache; weakseg.methods.colocam)."""

from pathlib import Path

import torch

from weakseg.data.index import Dataset
from weakseg.features.device import pick_device
from weakseg.methods.colocam.classifier_training import compute_encoder_maps, load_classifier
from weakseg.methods.colocam.frames import training_shots
from weakseg.methods.colocam.inputs import FrameStore
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
wc = sm.wildcards
with logged(sm.log[0], f"colocam_encoder {wc.dataset}/{wc.backbone}"):
    torch.set_num_threads(sm.threads)
    cfg = sm.params.cfg
    device = pick_device(cfg["device"])
    ds = Dataset(Path(sm.input.index).parent)
    shots = training_shots(ds.index, cfg["train_splits"], ds.classes)
    model, _ = load_classifier(sm.input.classifier, cfg["classifier"], device)
    compute_encoder_maps(model, wc.backbone, shots, FrameStore(ds, cfg["input_size"]),
                         cfg["decoder"]["shot_fraction"], sm.output[0], device)
