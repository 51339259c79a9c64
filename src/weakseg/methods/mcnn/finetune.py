"""Shot selection for fine-tuning M-CNN (Sec. 3.3, Sec. 4.2).

One shot per video: the one whose motion segments overlap the current M-CNN prediction
most (mean per-frame intersection over union), kept only if that overlap is at least 0.2.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def shot_overlap(pred_fg: np.ndarray, motion: np.ndarray) -> float:
    """Mean over the frames of IoU(pred_fg, motion), in [0, 1].

    Args:
        pred_fg: bool (T, H, W), True where M-CNN predicts any object class.
        motion: bool (T, H, W), the motion segmentation, True = foreground.

    A frame where both masks are empty counts as IoU 0 (the paper gives no rule): the
    selection favours precise motion segments, and a shot without motion segments must
    not win by agreeing with an empty prediction.
    """
    a, b = np.asarray(pred_fg), np.asarray(motion)
    if a.dtype != bool or b.dtype != bool or a.ndim != 3 or a.shape != b.shape or not len(a):
        raise ValueError(f"pred_fg and motion must be bool arrays of one shape (T, H, W) with T >= 1; "
                         f"got {a.dtype} {a.shape} and {b.dtype} {b.shape}")
    inter = (a & b).sum(axis=(1, 2))
    union = (a | b).sum(axis=(1, 2))
    iou = np.divide(inter, union, out=np.zeros(len(a)), where=union > 0)
    return float(iou.mean())


def select_shots(overlaps: Mapping[str, Mapping[str, float]], min_overlap: float = 0.2) -> dict[str, str]:
    """The fine-tuning shot of each video (Sec. 3.3): ``{video: shot}``, videos sorted.

    Args:
        overlaps: video -> shot -> :func:`shot_overlap` of the shot.
        min_overlap: the best shot needs an overlap of at least this (Sec. 4.2: 0.2).

    The best shot is the one with the highest overlap, the smallest shot id on ties; a
    video whose best overlap is below ``min_overlap`` (or that has no shots) is left out.
    """
    chosen = {}
    for video in sorted(overlaps):
        shots = overlaps[video]
        bad = [s for s, v in shots.items() if not np.isfinite(v)]
        if bad:
            raise ValueError(f"overlaps[{video!r}][{bad[0]!r}] = {shots[bad[0]]}; overlaps must be finite")
        if not shots:
            continue
        best = min(shots, key=lambda s: (-shots[s], s))
        if shots[best] >= min_overlap:
            chosen[video] = best
    return chosen
