"""Foreground Clustering solves: key frames in, a box and a mask per frame out.

Box = argmax z per frame (Sec. 4.1). Mask: the superpixel values y (the superpixel
saliency for variants without a superpixel part, i.e. a saliency-only labelling) are
rounded by the normalised-cut rule of Sec. 8.2 among the superpixels of the chosen box
(all superpixels of the frame for variants without boxes).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from weakseg.data.index import Dataset
from weakseg.methods.fc.assemble import assemble, frame_similarity
from weakseg.methods.fc.frames import FrameInputs, load_frames
from weakseg.methods.fc.problem import Solution, frame_slices, solve
from weakseg.methods.fc.rounding import choose_box, round_superpixels
from weakseg.methods.fc.variants import Variant
from weakseg.preprocess.store import UnitData, merge_units
from weakseg.progress import progress

log = logging.getLogger(__name__)


@dataclass
class FramePrediction:
    item: str
    box: np.ndarray             # float32 (4,), NaN for variants without boxes
    mask: np.ndarray            # bool (H, W)
    z: np.ndarray               # float (m,) box values (empty without boxes)
    y: np.ndarray               # float (n,) superpixel values (empty without superpixels)


def solve_frames(frames: Sequence[FrameInputs], variant: Variant, params: Mapping[str, Any],
                 shots: Sequence[str | None]) -> tuple[list[FramePrediction], Solution]:
    """Assemble and solve the QP of ``variant`` over ``frames``; round each frame."""
    instance = assemble(frames, variant, params, shots)
    solution = solve(instance, solver=params["solver"])
    log.info("QP %s: %d frames, %d variables, %d constraints, %s in %.2f s (objective %.6g)", variant.name,
             len(frames), solution.n_variables, solution.n_constraints, solution.status, solution.seconds,
             solution.objective)
    predictions = []
    for frame, (ys, zs) in zip(frames, frame_slices(instance)):
        z = solution.z[zs] if solution.z is not None else np.zeros(0)
        y = solution.y[ys] if solution.y is not None else np.zeros(0)
        if len(z):
            k = choose_box(z)
            box, candidates = frame.boxes[k].astype(np.float32), frame.membership[k]
        else:
            box, candidates = np.full(4, np.nan, np.float32), np.ones(frame.n_superpixels, bool)
        values = y if len(y) else frame.sp_saliency
        foreground = round_superpixels(values, candidates, frame_similarity(frame, params), params["thresholds"])
        predictions.append(FramePrediction(frame.item, box, foreground[frame.labels], z, y))
    return predictions, solution


def solve_groups_of_units(ds: Dataset, groups: Mapping[str, Sequence[str]],
                          products: Mapping[str, Mapping[str, UnitData]], features: UnitData, variant: Variant,
                          params: Mapping[str, Any]) -> tuple[list[str], dict[str, list[np.ndarray]], list[dict]]:
    """Solve one QP per group (name -> dataset units), frames in shot and frame order.

    ``products[key][unit]`` is the unit file of the product used as ``key`` (superpixels,
    boxes, saliency, dsift). Returns the key frames, their stored fields (box, mask as
    uint8, z, y) and per-QP statistics (size, status, seconds) for the log and the file.
    """
    items: list[str] = []
    fields: dict[str, list[np.ndarray]] = {"box": [], "mask": [], "z": [], "y": []}
    stats = []
    index = ds.index.set_index("item")
    for name, units in progress(groups.items(), desc=f"fc {variant.name}", unit="qp"):
        merged = {key: merge_units([by_unit[u] for u in units]) for key, by_unit in products.items()}
        rows = index.loc[merged["boxes"].items].sort_values(["shot", "frame"], kind="stable")
        saliency_field = "video" if "video" in merged["saliency"].fields else "image"
        frames = load_frames(list(rows.index), merged, features, saliency_field, params["box_coverage"])
        shots = [None if pd.isna(s) else s for s in rows["shot"]]
        predictions, solution = solve_frames(frames, variant, params, shots)
        items += [p.item for p in predictions]
        for p in predictions:
            fields["box"].append(p.box)
            fields["mask"].append(p.mask.astype(np.uint8))
            fields["z"].append(p.z)
            fields["y"].append(p.y)
        stats.append({"group": name, "frames": len(frames), "variables": solution.n_variables,
                      "constraints": solution.n_constraints, "status": solution.status,
                      "seconds": round(solution.seconds, 4)})
    return items, fields, stats
