"""Training-shot pruning and frame sampling of M-CNN (Sec. 4.2, "Motion segmentation").

Two pruning steps run before training: shots with fewer than 20 frames (twice the SGD
batch size) are discarded, and so are shots without relevant motion, i.e. shots without
a run of at least 20 contiguous frames whose motion foreground covers between 2.5 % and
50 % of the frame. Where several valid runs exist (motion segmentation fails in the
middle of a shot and recovers), the longest one is kept. Ten frames are then sampled
uniformly from the kept run of every remaining shot; they form one SGD mini-batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

SHOT_COLUMNS: tuple[str, ...] = ("item", "split", "video", "shot", "frame", "labels")


def valid_run(fg_fraction: np.ndarray, min_frames: int = 20, min_fg: float = 0.025,
              max_fg: float = 0.5) -> tuple[int, int] | None:
    """The longest run of contiguous frames with motion foreground in ``[min_fg, max_fg]`` (Sec. 4.2).

    Args:
        fg_fraction: float (T,), fraction of each frame's area assigned to motion foreground,
            frames in shot order.
        min_frames: a run (and the shot) needs at least this many frames.
        min_fg, max_fg: inclusive bounds on the foreground fraction of every frame of the run.

    Returns:
        ``(start, stop)``, frame positions ``start..stop-1`` of the longest valid run (the
        earliest one on ties), or None when the shot has fewer than ``min_frames`` frames or
        no valid run reaches ``min_frames``.
    """
    frac = np.asarray(fg_fraction, dtype=np.float64)
    if frac.ndim != 1 or not np.isfinite(frac).all():
        raise ValueError(f"fg_fraction must be a finite 1-D array (T,); got shape {frac.shape}")
    if min_frames < 1:
        raise ValueError(f"min_frames must be >= 1; got {min_frames}")
    if len(frac) < min_frames:
        return None
    ok = np.concatenate([[False], (frac >= min_fg) & (frac <= max_fg), [False]])
    edges = np.flatnonzero(np.diff(ok.astype(np.int8)))
    starts, stops = edges[0::2], edges[1::2]
    if not len(starts):
        return None
    best = int(np.argmax(stops - starts))  # first maximum: the earliest run on ties
    if stops[best] - starts[best] < min_frames:
        return None
    return int(starts[best]), int(stops[best])


def sample_frames(start: int, stop: int, n: int = 10) -> np.ndarray:
    """``n`` frame positions spread uniformly over ``[start, stop)`` (Sec. 4.2: 10 per shot).

    Positions are ``round(linspace(start, stop - 1, n))``: distinct, increasing, the first
    is ``start`` and (for ``n >= 2``) the last is ``stop - 1``. Returns int64 (n,).
    """
    if n < 1 or start < 0 or stop - start < n:
        raise ValueError(f"sample_frames needs n >= 1 and a range [start, stop) of at least n frames; "
                         f"got start={start}, stop={stop}, n={n}")
    return np.floor(np.linspace(start, stop - 1, n) + 0.5).astype(np.int64)


@dataclass(frozen=True)
class TrainingShot:
    """One kept shot: its video, labels (union over its frames, sorted) and sampled frames.

    ``items`` and ``frame_numbers`` are the sampled frames in frame order (the ``frame``
    values of the index, not positions).
    """

    video: str
    shot: str
    labels: tuple[str, ...]
    items: tuple[str, ...]
    frame_numbers: tuple[int, ...]


def _shot_rows(index: pd.DataFrame, splits: Sequence[str]) -> pd.DataFrame:
    missing = [c for c in SHOT_COLUMNS if c not in index.columns]
    if missing:
        raise ValueError(f"index is missing columns {missing}; expected at least {list(SHOT_COLUMNS)}")
    rows = index[index["split"].isin(list(splits)) & index["shot"].notna()]
    return rows.sort_values(["shot", "frame"], kind="stable")


def _fractions(items: Sequence[str], fg_fraction: Mapping[str, float]) -> np.ndarray:
    missing = [i for i in items if i not in fg_fraction]
    if missing:
        raise ValueError(f"fg_fraction has no value for frame item {missing[0]!r} "
                         f"({len(missing)} frames of its shot missing)")
    return np.array([fg_fraction[i] for i in items], dtype=np.float64)


def prune_shots(index: pd.DataFrame, fg_fraction: Mapping[str, float], splits: Sequence[str],
                min_frames: int = 20, min_fg: float = 0.025, max_fg: float = 0.5,
                n_frames: int = 10) -> tuple[list[TrainingShot], dict[str, int]]:
    """Both pruning steps of Sec. 4.2 and the uniform sampling of ``n_frames`` per kept shot.

    Args:
        index: canonical index (:mod:`weakseg.data.index`), at least the columns
            ``item, split, video, shot, frame, labels``. Rows of the ``splits`` with a shot
            id are used (still images have none); a shot's frames are ordered by ``frame``.
        fg_fraction: frame item -> motion-foreground fraction of the frame, for every frame
            of the selected shots; a missing item is a ValueError naming it.
        splits: the splits whose shots are considered, e.g. ``["train"]``.
        min_frames, min_fg, max_fg: see :func:`valid_run`.
        n_frames: frames sampled from each kept run (:func:`sample_frames`).

    Returns:
        The kept shots sorted by shot id, and counts ``{"shots": all shots, "too_short":
        fewer than min_frames frames, "no_motion_run": long enough but without a valid run,
        "kept": ...}``.
    """
    if n_frames > min_frames:
        raise ValueError(f"n_frames ({n_frames}) must not exceed min_frames ({min_frames}): "
                         "a kept run must hold n_frames distinct frames")
    kept: list[TrainingShot] = []
    counts = {"shots": 0, "too_short": 0, "no_motion_run": 0, "kept": 0}
    for shot, rows in _shot_rows(index, splits).groupby("shot", sort=True):
        counts["shots"] += 1
        videos = rows["video"].unique()
        if len(videos) != 1:
            raise ValueError(f"index: shot {shot!r} spans videos {sorted(map(str, videos))}; expected one")
        items = list(rows["item"])
        run = valid_run(_fractions(items, fg_fraction), min_frames, min_fg, max_fg)
        if len(items) < min_frames:
            counts["too_short"] += 1
        elif run is None:
            counts["no_motion_run"] += 1
        else:
            pos = sample_frames(*run, n=n_frames)
            kept.append(TrainingShot(
                video=str(videos[0]), shot=str(shot),
                labels=tuple(sorted({lab for labs in rows["labels"] for lab in labs})),
                items=tuple(items[p] for p in pos),
                frame_numbers=tuple(int(rows["frame"].iloc[p]) for p in pos),
            ))
            counts["kept"] += 1
    return kept, counts
