"""Snakemake entry point: CorLoc records of one CoLo-CAM variant on a dataset's eval split (both threshold
protocols, every seed) with the cost columns of Tables 1 and 4 (weakseg.methods.colocam)."""

from pathlib import Path

import torch

from weakseg.data.index import Dataset
from weakseg.evaluation import ABSENT_OBJECT, evaluate_models, note_skipped
from weakseg.features.device import pick_device
from weakseg.io import write_parquet
from weakseg.methods.colocam.classifier_training import load_classifier
from weakseg.methods.colocam.decoder_training import load_decoder
from weakseg.methods.colocam.inputs import FrameStore
from weakseg.methods.colocam.run import COST_COLUMNS, evaluate_variant, measure_cost, scored_frames
from weakseg.methods.colocam.variants import Variant
from weakseg.workflow import logged

sm = snakemake  # noqa: F821 (injected by Snakemake)
wc = sm.wildcards
with logged(sm.log[0], f"colocam_evaluate {wc.dataset}/{wc.variant}") as log:
    torch.set_num_threads(sm.threads)
    cfg = sm.params.cfg
    device = pick_device(cfg["device"])
    v = Variant(**{**cfg["variant"], "terms": tuple(cfg["variant"]["terms"]), "name": wc.variant})
    ds = Dataset(Path(sm.input.index).parent)
    rows, absent = scored_frames(ds, cfg["eval_split"], log)
    store = FrameStore(ds, cfg["input_size"])
    if v.trained:
        model = None  # every seed's decoder is loaded by evaluate_models; the cost reloads seed 0 only if needed
        records = evaluate_models(sm.input.models,
                                  lambda p: load_decoder(p, sm.input.classifier, cfg, device),
                                  lambda net, state: evaluate_variant(v, net, ds, rows, store, device), log)
    else:
        model, _ = load_classifier(sm.input.classifier, cfg["classifier"], device)
        records = evaluate_variant(v, model, ds, rows, store, device)
    if wc.variant in cfg["cost"]["variants"]:
        if model is None:
            model, _ = load_decoder(sm.input.models[0], sm.input.classifier, cfg, device)
        cost = measure_cost(v, model, cfg["cost"], cfg["loss"], wc.variant in cfg["cost"]["train_step_variants"],
                            device)
        log.info("cost: %s", {k: round(x, 4) for k, x in cost.items()})
        records = records.assign(**cost)
    records = records.reindex(columns=[*records.columns, *(c for c in COST_COLUMNS if c not in records.columns)])
    write_parquet(sm.output[0], note_skipped(records, {ABSENT_OBJECT: absent}))
