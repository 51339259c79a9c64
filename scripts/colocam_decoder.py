"""Snakemake entry point: train the decoder of one CoLo-CAM variant and seed (eq. 5; weakseg.methods.colocam)."""

from pathlib import Path

import torch

from weakseg.data.index import Dataset
from weakseg.features.device import pick_device
from weakseg.methods.colocam.classifier_training import EncoderMaps, load_cams
from weakseg.methods.colocam.decoder_training import train_decoder
from weakseg.methods.colocam.frames import training_shots
from weakseg.methods.colocam.inputs import FrameStore
from weakseg.methods.colocam.variants import Variant
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
wc = sm.wildcards
with logged(sm.log[0], f"colocam_decoder {wc.dataset}/{wc.variant} seed {wc.seed}") as log:
    torch.set_num_threads(sm.threads)
    cfg = sm.params.cfg
    v = Variant(**{**cfg["variant"], "terms": tuple(cfg["variant"]["terms"])})
    ds = Dataset(Path(sm.input.index).parent)
    shots = training_shots(ds.index, cfg["train_splits"], ds.classes)
    train_decoder(v, shots, load_cams(sm.input.cams), FrameStore(ds, cfg["input_size"]), sm.input.classifier, cfg,
                  int(wc.seed), sm.output[0], log, pick_device(cfg["device"]),
                  EncoderMaps(sm.input.encoder) if "encoder" in sm.input.keys() else None)
