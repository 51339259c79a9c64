"""Snakemake entry point: evaluate every seed's model of one M-CNN variant on one dataset
(weakseg.methods.mcnn.evaluate): IoU rows on images, co-localization CorLoc rows on videos."""

from pathlib import Path

import torch

from weakseg.data.index import Dataset
from weakseg.evaluation import evaluate_models
from weakseg.features.device import pick_device
from weakseg.io import write_parquet
from weakseg.methods.mcnn.evaluate import evaluate_colocalization, evaluate_segmentation
from weakseg.methods.mcnn.run import load_model
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
wc = sm.wildcards
with logged(sm.log[0], f"mcnn_evaluate {wc.dataset}/{wc.variant}") as log:
    torch.set_num_threads(sm.threads)
    cfg = sm.params.cfg
    device = pick_device(cfg["device"])
    ds = Dataset(Path(sm.input.index).parent)

    def evaluate(model, state):
        if sm.params.kind == "video":
            rows = evaluate_colocalization(model, ds, cfg["colocalization"]["splits"],
                                           cfg["colocalization"]["params"], sm.params.superpixels, device,
                                           cfg["batch_size"])
        else:
            rows = evaluate_segmentation(model, ds, cfg["eval_splits"], device, cfg["batch_size"])
        return rows.assign(n_train=state["n_train"])   # Table 3's "# train. samples"

    rows = evaluate_models(sm.input.models, lambda p: load_model(p, cfg["network"], device), evaluate, log)
    write_parquet(sm.output[0], rows)
