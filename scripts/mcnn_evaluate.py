"""Snakemake entry point: evaluate every seed's model of one M-CNN variant on one dataset
(weakseg.methods.mcnn.evaluate): IoU rows on images, co-localization CorLoc rows on videos."""

from pathlib import Path

import pandas as pd
import torch

from weakseg.data.index import Dataset
from weakseg.features.device import pick_device
from weakseg.io import write_parquet
from weakseg.methods.mcnn.evaluate import evaluate_colocalization, evaluate_segmentation, with_seed
from weakseg.methods.mcnn.run import load_model
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
wc = sm.wildcards
with logged(sm.log[0], f"mcnn_evaluate {wc.dataset}/{wc.variant}") as log:
    torch.set_num_threads(sm.threads)
    cfg = sm.params.cfg
    device = pick_device(cfg["device"])
    ds = Dataset(Path(sm.input.index).parent)
    parts = []
    for path in sm.input.models:
        model, state = load_model(path, cfg["network"], device)
        if sm.params.kind == "video":
            ev = evaluate_colocalization(model, ds, cfg["colocalization"]["splits"], cfg["colocalization"]["params"],
                                         sm.params.superpixels, device, cfg["batch_size"])
        else:
            ev = evaluate_segmentation(model, ds, cfg["eval_splits"], device, cfg["batch_size"])
        parts.append(with_seed(ev, state["seed"], state["n_train"]))
        log.info("%s: %d items evaluated", path, len(ev))
    write_parquet(sm.output[0], pd.concat(parts, ignore_index=True))
