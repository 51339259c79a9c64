"""Footnotes of the Pinheiro & Collobert tables: what stood in for the paper's parts."""

from __future__ import annotations

from typing import Any


def table_notes(config: dict[str, Any]) -> list[str]:
    """Substitutes and settings, read from the configuration that ran."""
    m = config["mil"]
    net = m["network"]
    products = config["preprocess"]["products"]
    used = m["products"].get(config["dataset_profile"], {})
    sp, boxes, segs = (products.get(used.get(k, ""), {}) for k in ("superpixels", "boxes", "segments"))
    train = config["profiles"][config["dataset_profile"]].get(m["benchmarks"]["train"], "?")
    return [
        f"Frozen extractor: {net['backbone']} ({net['weights']}) up to stage {net['stage']}, output stride "
        f"{net['output_stride']} (paper: OverFeat's first layers); trainable layers {net['channels']} + |C|+1 "
        f"(paper: 1024, 768, 512), padded 3x3.",
        f"Trained on {train} ({m['benchmarks']['train']}), {m['epochs']} epochs of {m['input_size']}-px jittered "
        "images (paper: ~760,000 ImageNet images at 400 px for about a week); LSE r = "
        f"{m['lse_r']}. Per-pixel probabilities by bilinear upsampling of the score planes (paper: "
        "shift-and-stitch).",
        f"SP-sppxl: {sp.get('method', '?')} superpixels {sp.get('params', {})} (Felzenszwalb, as the paper). "
        f"SP-bb: {boxes.get('per_image', '?')} {boxes.get('method', '?')} boxes per image (paper: 10^4 BING "
        f"boxes). SP-seg: {segs.get('per_image', '?')} {segs.get('method', '?')} segments (paper: MCG). "
        f"delta_k by a {m['threshold_grid']}-point grid search on the val split.",
        "Table 2: the val split of the VOC-like set stands for VOC 2008, 2009 and 2010 alike; ILP + SP-sppxl.",
    ]
