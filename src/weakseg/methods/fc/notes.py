"""Footnotes of the Foreground Clustering tables: what stood in for the paper's parts."""

from __future__ import annotations

from typing import Any


def table_notes(config: dict[str, Any]) -> list[str]:
    """Substitutes and subsets, read from the configuration that ran."""
    products = config["preprocess"]["products"]
    fc = config["fc"]
    used = fc["products"][config["dataset_profile"]]
    boxes, feats = products[used["boxes"]], products[used["features"]]
    saliency, sp = products[used["saliency"]], products[used["superpixels"]]
    motion_flow = products.get(saliency.get("flow", ""), {}).get("method", "none")
    return [
        f"Boxes: {boxes['per_image']} per image by {boxes['method']} (paper: Objectness).",
        f"Box features: {feats['backbone']} ({feats['weights']}), RoIAlign on the last map, L2-normalised "
        "(paper: AlexNet fc7).",
        f"Saliency: {saliency['method']} image saliency (paper: Li & Yu), motion saliency from "
        f"{motion_flow} optical flow on videos, video saliency = max of the two (Sec. 5).",
        f"Superpixels: {sp['method']} {sp.get('params', {})}"
        + (f", computed at {sp['max_side']} px and upscaled." if sp.get("max_side") else "."),
        f"Videos: FC is run on the {', '.join(fc['video_splits'])} split videos of video datasets.",
        "TJLF14 and (16)/Joulin14: re-implemented as box-only QPs over a whole class on the same "
        "features (cross-image feature similarity, resp. temporal box overlap), solved by cvxpy, not "
        "the authors' Frank-Wolfe code.",
        "FST: the FST-style motion segmentation of weakseg.preprocess.motion.",
    ]
