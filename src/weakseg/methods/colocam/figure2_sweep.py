"""Figure 2's sweeps (Sec. 4.3 a-c): which CoLo-CAM variant each measured point of panels a-c is. Torch-free:
Snakemake lists the sweeps' evaluations from it at DAG time (rules/common.smk)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from weakseg.methods.colocam.variants import _fmt, canonical


def sweep(cfg: Mapping[str, Any]) -> list[tuple[str, str, float, str]]:
    """(panel, series, x, variant) of every measured point of panels a-c, variant by its canonical name."""
    fig = cfg["figure2"]
    out = []
    for n in fig["n"]:
        out += [("a", "CoLo-CAM", float(n), f"colocam_n{n}"), ("a", "TCAM", float(n), f"tcam_n{n}"),
                ("c", "adaptive", float(n), f"colocam_n{n}"), ("c", "constant", float(n), f"colocam_const_n{n}")]
    out += [("b", "CoLo-CAM (adaptive)", float(lc), f"colocam_lc{_fmt(float(lc))}") for lc in fig["lambda_c"]]
    return [(p, s, x, canonical(v, cfg)) for p, s, x, v in out]


def sweep_variants(cfg: Mapping[str, Any]) -> list[str]:
    """The variants (canonical names) Fig. 2 reads, sorted."""
    return sorted({v for *_, v in sweep(cfg)})
