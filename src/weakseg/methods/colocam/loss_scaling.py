"""CoLo-CAM's loss weights and bandwidths at the loss resolution: the paper sizes them for 224 x 224 frames
(Sec. 4.1); sums over pixel pairs scale with the squared pixel count. Torch-free (the tables' footnotes read
them at DAG time)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PAPER_FRAME = 224  # Sec. 4.1: the paper's frames are 224 x 224 where it sizes lambda_c


def pixel_ratio(loss_cfg: Mapping[str, Any]) -> float:
    """``224^2 / N``: pixels of the paper's frame (Sec. 4.1) per pixel at the loss resolution (N = h * w)."""
    h, w = loss_cfg["resolution"]
    return PAPER_FRAME**2 / (h * w)


def constant_lambda_c(loss_cfg: Mapping[str, Any]) -> float:
    """Fig. 2(c)'s constant weight of R_c: the paper's bound at 224 x 224 (``constant_lambda_c_224``, Sec. 3.3:
    "below 2e-9") times ``(224^2 / N)^2``, since R_c sums over pairs of pixels."""
    return float(loss_cfg["constant_lambda_c_224"]) * pixel_ratio(loss_cfg) ** 2


def crf_at_resolution(loss_cfg: Mapping[str, Any]) -> tuple[float, float, float]:
    """(sigma_xy, sigma_rgb, weight) of eq. 2 at the loss resolution: the paper's values (Sec. 4.1, at 224 x 224)
    with the spatial bandwidth scaled with the frame side and the weight with the number of pixel pairs, so the
    term has the paper's size relative to the others."""
    crf, ratio = loss_cfg["crf"], pixel_ratio(loss_cfg)
    return float(crf["sigma_xy"]) / ratio**0.5, float(crf["sigma_rgb"]), float(crf["weight"]) * ratio**2
