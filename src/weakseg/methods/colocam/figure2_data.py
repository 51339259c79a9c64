"""The points of Figure 2 (Sec. 4.3 b-d) from the sweeps' evaluations, training histories and the loss timing.

Panels: (a) CorLoc vs n for CoLo-CAM (``colocam_n<n>``) and TCAM (``tcam_n<n>``, pl_window = n); (b) CorLoc vs the
adaptive lambda_c (``colocam_lc<l>``); (c) CorLoc vs n with the constant (``colocam_const_n<n>``) and the adaptive
weight, with log |R_c| (mean of the raw eq. 4 over the last training epoch) on the right axis; (d) time of eq. 4,
forward + backward, vs n. CorLoc is Table 1's Avg: the mean over classes of the per-class CorLoc (per-class
threshold protocol), one point per trained seed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from weakseg.methods.colocam.cost import median_seconds
from weakseg.methods.colocam.decoder_training import CRF_KERNELS
from weakseg.methods.colocam.figure2_sweep import sweep
from weakseg.tables.figure_specs import FIGURE2_CAPTIONS  # noqa: F401 (re-exported)


def class_mean_corloc(ev: pd.DataFrame) -> pd.Series:
    """Table 1's Avg per seed: mean over classes of the % of correct frames (``correct``, per-class protocol)."""
    seeds = ev["seed"] if "seed" in ev.columns else pd.Series(0, index=ev.index)
    per_class = ev.assign(seed=seeds).groupby(["seed", "class"])["correct"].mean() * 100
    return per_class.groupby(level="seed").mean()


def figure_points(cfg: Mapping[str, Any], evaluations: Mapping[str, pd.DataFrame],
                  histories: Mapping[str, Sequence[Sequence[dict[str, float]]]], loss_time: pd.DataFrame) -> pd.DataFrame:
    """Points for :func:`weakseg.methods.colocam.figure2.plot_figure2`: columns panel, series, x, y, y2.

    ``evaluations[variant]``: its per-frame records; ``histories[variant]``: the training history of each seed;
    ``loss_time``: columns n, ms, kernel (``colocam.loss.kernel``, in the series' label: :func:`coloc_loss_times`).
    """
    rows = []
    for panel, series, x, name in sweep(cfg):
        y2 = float("nan")
        if panel == "c":
            raw = [h[-1]["coloc_raw"] for h in histories[name] if h and "coloc_raw" in h[-1]]
            y2 = math.log(abs(float(np.mean(raw)))) if raw and np.mean(raw) != 0 else float("nan")
        for y in class_mean_corloc(evaluations[name]):
            rows.append({"panel": panel, "series": series, "x": x, "y": float(y), "y2": y2})
    rows += [{"panel": "d", "series": f"loss time ({kernel})", "x": float(n), "y": float(ms), "y2": float("nan")}
             for n, ms, kernel in zip(loss_time["n"], loss_time["ms"], loss_time["kernel"])]
    return pd.DataFrame(rows, columns=["panel", "series", "x", "y", "y2"])


def coloc_loss_times(ns: Sequence[int], resolution: Sequence[int], sigma_rgb: float, repeats: int,
                     device: torch.device, kernel: str = "exact") -> pd.DataFrame:
    """Median wall time (ms) of eq. 4 forward + backward on n random frames at ``resolution`` (Fig. 2 d), for each
    n of ``ns``, summed as training sums it (``kernel``: config ``colocam.loss.kernel``, exact or grid): columns
    n, pixels, ms, kernel."""
    if kernel not in CRF_KERNELS:
        raise ValueError(f"config colocam.loss.kernel is {kernel!r}; allowed: {sorted(CRF_KERNELS)}")
    coloc = CRF_KERNELS[kernel][1]
    gen = torch.Generator().manual_seed(0)
    rows = []
    h, w = resolution
    for n in ns:
        logits = torch.randn(n, 2, h, w, generator=gen).to(device).requires_grad_(True)
        images = torch.randint(0, 256, (n, 3, h, w), generator=gen).float().to(device)

        def step() -> None:
            logits.grad = None
            coloc(torch.softmax(logits, dim=1), images, sigma_rgb).backward()
        rows.append({"n": int(n), "pixels": int(n * h * w), "ms": 1000 * median_seconds(step, repeats=repeats),
                     "kernel": kernel})
    return pd.DataFrame(rows)
