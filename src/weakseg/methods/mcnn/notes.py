"""Footnotes of the M-CNN tables: what stood in for the paper's parts, and rows the profile cannot measure."""

from __future__ import annotations

from typing import Any

from weakseg.data.benchmarks import resolve_profile


def unavailable(config: dict[str, Any]) -> dict[str, str]:
    """Variants whose training images come from a benchmark the active profile does not map."""
    mapped = resolve_profile(config)
    return {name: f"needs benchmark {v['images']!r}, which profile {config['dataset_profile']!r} does not map "
                  f"(the real profile maps it to the VOC 2012 + SBD set)"
            for name, v in config["mcnn"]["variants"].items() if v.get("images") and v["images"] not in mapped}


def table_notes(config: dict[str, Any]) -> list[str]:
    """Substitutes and settings, read from the configuration that ran."""
    m = config["mcnn"]
    net = m["network"]
    motion = m["products"].get(config["dataset_profile"], {}).get("motion", "?")
    sp = config["preprocess"]["products"].get(m["colocalization"]["superpixels"], {})
    return [
        f"Network: {net['backbone']} ({net['weights']}) cut after stage {net['stage']}, dilated to output stride 8, "
        f"DeepLab head with {net['head_channels']} channels, fc6 kernel/dilation per FOV {net['fov']} at a 321-px "
        f"crop, scaled to the {net['crop']}-px training crop (paper: DeepLab VGG16, 1024 channels).",
        f"Motion segments: product {motion!r}, the FST-style segmentation of weakseg.preprocess.motion "
        "(paper: Papazoglou & Ferrari [14] with its own flow).",
        f"Training: {m['seeds']} model(s) per variant (paper: 5), epochs {m['epochs']} (paper: a fixed number of "
        f"iterations), videos of splits {m['train_splits']}; shots pruned as Sec. 4.2 "
        f"({m['pruning']['min_frames']} frames, {m['pruning']['min_fg']}-{m['pruning']['max_fg']} foreground).",
        f"Co-localization: superpixels {sp.get('method', '?')} {sp.get('params', {})}, GMMs from pixels with "
        f"p >= {m['colocalization']['params'].get('high')} / <= {m['colocalization']['params'].get('low')} "
        f"(the paper: 'high predictions'); frames of the {', '.join(m['colocalization']['splits'])} split videos.",
        "EM-Adapt: its adaptive-bias label step re-implemented on the same network and data (the paper ran the "
        "authors' Caffe code).",
    ]
