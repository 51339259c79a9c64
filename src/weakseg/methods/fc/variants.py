"""Every baseline and ablation of Foreground Clustering's tables as terms of objective (7).

==================  =====================================================================
term                in objective (7) (Sec. 4.1) or the cited baselines
==================  =====================================================================
sp_discriminative   y' D_s y, eq. 4 on chi-square-kernelised dense SIFT
foreground          kappa y' F y, the histogram matching of eq. 6
laplacian           alpha y' L_s y, eq. 5
sp_saliency         mu y' s_s
box_discriminative  lambda z' D_b z, eq. 4 on L2-normalised CNN box features
box_saliency        lambda nu z' s_b
box_similarity      a normalised Laplacian over the boxes of different images by feature
                    similarity (Tang et al. 2014's cross-image term)
box_temporal        a normalised Laplacian joining boxes of consecutive key frames of a shot
                    by their overlap (Joulin et al. 2014's temporal consistency)
==================  =====================================================================

The superpixel part exists when a superpixel term is on, the box part when a box term is
on; constraints (8)-(10) couple them when both exist. ``scope: class`` solves one QP over
every unit of a class (the co-localization baselines), ``unit`` one per video or group.
A variant with ``source`` evaluates a preprocessing product as it is (FST's row).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SP_TERMS = frozenset({"sp_discriminative", "foreground", "laplacian", "sp_saliency"})
BOX_TERMS = frozenset({"box_discriminative", "box_saliency", "box_similarity", "box_temporal"})


@dataclass(frozen=True)
class Variant:
    name: str
    terms: frozenset[str]
    scope: str = "unit"
    source: str | None = None

    @property
    def has_superpixels(self) -> bool:
        return bool(self.terms & SP_TERMS)

    @property
    def has_boxes(self) -> bool:
        return bool(self.terms & BOX_TERMS)

    @property
    def coupled(self) -> bool:
        return self.has_superpixels and self.has_boxes


def variant(name: str, cfg: Mapping[str, Any]) -> Variant:
    """The variant ``name`` of config ``fc.variants``."""
    unknown = set(cfg["terms"]) - SP_TERMS - BOX_TERMS
    if unknown:
        raise ValueError(f"config 'fc.variants.{name}.terms' has unknown terms {sorted(unknown)}; "
                         f"known: {sorted(SP_TERMS | BOX_TERMS)}")
    v = Variant(name=name, terms=frozenset(cfg["terms"]), scope=cfg.get("scope", "unit"), source=cfg.get("source"))
    if not v.terms and v.source is None:
        raise ValueError(f"config 'fc.variants.{name}' has no terms and no source")
    return v
