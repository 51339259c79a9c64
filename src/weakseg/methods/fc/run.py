"""One Foreground Clustering solve: key frames in, a box and a mask per frame out.

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

from weakseg.methods.fc.assemble import assemble, frame_similarity
from weakseg.methods.fc.frames import FrameInputs
from weakseg.methods.fc.problem import Solution, frame_slices, solve
from weakseg.methods.fc.rounding import choose_box, round_superpixels
from weakseg.methods.fc.variants import Variant

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
