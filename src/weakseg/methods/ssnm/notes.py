"""Footnotes of the SSNM tables: what stood in for the paper's parts, and rows the machine cannot measure."""

from __future__ import annotations

from typing import Any

from weakseg.features.registry import missing_weights


def unavailable(config: dict[str, Any]) -> dict[str, str]:
    """Variants whose backbone's ImageNet weights are neither on disk nor downloadable here."""
    out = {}
    for name, v in config["ssnm"]["variants"].items():
        reason = missing_weights(v.get("backbone", config["ssnm"]["network"]["backbone"]))
        if reason:
            out[name] = reason
    return out


def table_notes(config: dict[str, Any]) -> list[str]:
    """Substitutes and settings, read from the configuration that ran."""
    s = config["ssnm"]
    net = s["network"]
    train = config["profiles"][config["dataset_profile"]].get(s["benchmarks"]["train"], "?")
    return [
        f"Backbone: {net['backbone']} ({net['weights']}) stages {net['stages']} (paper: HRNet; VGG16 for Ours-VGG16); "
        f"{net['channels']} modulated channels; SP widths {net['sem_reduced']}/{net['sem_group_reduced']}.",
        f"Trained on {train} ({s['benchmarks']['train']}), {s['steps']} Adam steps of {s['groups_per_batch']} "
        f"groups of {s['group_size']} images at {s['input_size']} px (paper: ~200,000 steps of 4 groups at 224 px, "
        "COCO-SEG, 78 categories).",
        f"Spatial masks: leading eigenvector of G by restarted Lanczos, sign rule '{net['sign_rule']}' (not in the "
        f"paper); eq. 13 weighting '{s['seg_weighting']}'; mask = sigmoid > {s['threshold']}.",
        "Each test image is segmented in a group of 5 images of its class (the class's images in order, cut in "
        "fives).",
    ]
