"""What each figure of the tables shows, without importing the methods (the workflow reads this at
DAG-building time, where importing torch would cost ~1 s and ~650 MB at every Snakemake start).

* :data:`QUALITATIVE`: per paper, the benchmark and the variants (name -> label) its qualitative
  figure draws (``weakseg.methods.<paper>.figures`` renders it).
* :data:`FIGURE2_CAPTIONS`: CoLo-CAM Figure 2's panels (``weakseg.methods.colocam.figure2``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QualitativeSpec:
    """The benchmark a paper's qualitative figure draws from and its variants (name -> label)."""

    benchmark: str
    variants: dict[str, str]


QUALITATIVE: dict[str, QualitativeSpec] = {
    "fc": QualitativeSpec("yto_v1", {"full": "Ours (full)"}),
    "mcnn": QualitativeSpec("voc2012", {"em_adapt_small": "EM-Adapt (small FOV)", "mcnn_voc_ytube": "M-CNN (VOC+YTube)"}),
    "ssnm": QualitativeSpec("voc_coseg", {"full": "Ours"}),
    "mil": QualitativeSpec("voc2012", {"base_ilp": "base+ILP", "ilp_seg": "base+ILP+SP-seg"}),
    "colocam": QualitativeSpec("yto_v1", {"layercam": "LayerCAM", "tcam": "TCAM", "colocam": "CoLo-CAM"}),
}

FIGURE2_CAPTIONS: dict[str, str] = {
    "a": "CoLo-CAM and TCAM CorLoc vs the number of frames n",
    "b": "CoLo-CAM CorLoc vs the adaptive lambda_c",
    "c": "constant vs adaptive lambda_c vs n, with log |R_c|",
    "d": "time of the multi-frame loss (eq. 4) vs n",
}
"""Panel letter -> caption in the tables index."""
