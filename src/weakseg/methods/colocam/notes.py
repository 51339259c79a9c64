"""Footnotes of the CoLo-CAM tables: what stood in for the paper's parts, and rows the machine cannot measure."""

from __future__ import annotations

import platform
from typing import Any

from weakseg.features.registry import missing_weights
from weakseg.methods.colocam.boxes import PROTOCOL_GLOBAL_TAU, PROTOCOL_PER_CLASS_TAU
from weakseg.methods.colocam.loss_scaling import crf_at_resolution
from weakseg.methods.colocam.variants import all_variants, variant
from weakseg.tables.specs import load_paper


def unavailable(config: dict[str, Any]) -> dict[str, str]:
    """Rows this configuration does not measure: backbones without ImageNet weights here (Table 6), and Table 7's
    m values not in ``colocam.stability.m``."""
    cfg = config["colocam"]
    known = all_variants(cfg)
    out = {}
    for name in known:
        reason = missing_weights(variant(name, cfg).backbone)
        if reason:
            out[name] = reason
    spec_variants = {r.variant for t in load_paper("colocam").tables.values() for r in t.rows if not r.paper_only}
    for name in sorted(spec_variants - set(known)):
        out[name] = (f"not run: config 'colocam.stability.m' is {cfg['stability']['m']}" if name.startswith("drop_shots_")
                     else "not declared in config 'colocam.variants'")
    return out


def table_notes(config: dict[str, Any]) -> list[str]:
    """Substitutes and settings, read from the configuration that ran."""
    c = config["colocam"]
    cl, dec, loss = c["classifier"], c["decoder"], c["loss"]
    profile = config["profiles"][config["dataset_profile"]]
    datasets = {b: profile.get(b, "?") for b in c["benchmarks"]}
    same = len(set(datasets.values())) < len(datasets)
    h, w = loss["resolution"]
    sigma_xy, sigma_rgb, weight = crf_at_resolution(loss)
    return [
        f"Classifier g: {cl['backbone']} ({cl['weights']}), output stride {cl['output_stride']}, GAP + FC, "
        f"{cl['epochs']} epochs (paper: ResNet50; authors' code: 100 epochs); pseudo-label CAMs: {cl['cam']}.",
        f"Decoder f: U-Net {dec['widths']}, {dec['epochs']} epochs (paper: 10) of batches of {dec['batch_size']} "
        f"frames at {c['input_size'][0]}x{c['input_size'][1]} (paper: 224x224 crops of 256x256 frames); "
        f"pseudo-labels '{loss['pseudo_labels']}'; frames from the central {dec['shot_fraction']:.0%} of each shot.",
        f"CRF terms (eqs. 2 and 4) computed exactly on maps and frames resized to {h}x{w} (paper: full resolution "
        f"with a permutohedral lattice); the paper's lambda {loss['crf']['weight']:g} and sigma_xy "
        f"{loss['crf']['sigma_xy']:g} (at 224x224) become {weight:.3g} and {sigma_xy:.3g} there (pixel pairs, "
        f"frame side); sigma_rgb {sigma_rgb:g}.",
        f"CorLoc (IoU >= 0.5, frames of the {c['eval_split']} split with a box): class columns and Avg use the "
        f"{PROTOCOL_PER_CLASS_TAU}; the 'one global tau' columns use the {PROTOCOL_GLOBAL_TAU}.",
        f"Times, frame rates and FLOPs measured here ({platform.processor() or platform.machine()}, device "
        f"'{c['device']}') at {c['cost']['frame_size']}x{c['cost']['frame_size']}, batch {c['cost']['batch_size']}; "
        "FLOPs by torch's FlopCounterMode, MACs = FLOPs / 2 (paper: NVIDIA P100/A100, calflops 0.3.2).",
        *([f"YTOv1 and YTOv2.2 both map to {sorted(set(datasets.values()))} in profile "
           f"'{config['dataset_profile']}': their columns measure the same models."] if same else []),
        f"Table 7: m in {c['stability']['m']}, {c['stability']['repeats']} repeats each (paper: m = 1..100, 30 "
        "repeats); cell = mean +- std over repeats.",
        "CLIP-ES (Tables 1 and 8): not run; it needs CLIP weights, which are not on this machine: paper numbers only.",
    ]
