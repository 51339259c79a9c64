"""Training frames of CoLo-CAM (Belharbi et al.): shots, n-frame sampling (Sec. 4.3 e, Tab. 5), shot dropping (Tab. 7).

CoLo-CAM trains on shots of the training videos. Every SGD sample is a set of ``n`` frames of one shot
(Sec. 3: ``F^{t,n} = {X_{t-n+1}, ..., X_t}``), whose CAMs the CoLoc term ties together. The authors' code draws
the frames from the central 60 % of a shot (:func:`central_range`). Table 5 compares three ways of choosing the
``n`` frames (:func:`sample_frames`); Table 7 retrains after removing ``m`` random shots per class
(:func:`drop_shots`). TCAM's temporal max-pooling for frame ``t`` covers :func:`previous_positions`.

All positions are 0-based indices into a shot's frames in frame order (``Shot.items``), not ``frame`` numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

STRATEGIES: tuple[str, ...] = ("adjacent", "interval", "gaussian")
SHOT_COLUMNS: tuple[str, ...] = ("item", "split", "class", "video", "shot", "frame")
DEFAULT_SIGMA_FRACTION = 0.25


@dataclass(frozen=True)
class Shot:
    """One training shot: its video, shot id, class and frame items in frame order."""

    video: str
    shot: str
    cls: str
    items: tuple[str, ...]


def training_shots(index: pd.DataFrame, splits: Sequence[str], classes: Sequence[str]) -> list[Shot]:
    """Every shot of ``splits`` in the canonical index (:mod:`weakseg.data.index`), sorted by (video, shot).

    Args:
        index: at least the columns ``item, split, class, video, shot, frame``. Rows with a shot id are used
            (still images have none); a shot is identified by (video, shot) and its frames are sorted by ``frame``.
        splits: the splits whose shots are listed, e.g. ``["train"]``.
        classes: the allowed classes; a shot's class is the ``class`` of its rows.

    Raises:
        ValueError: a missing column; a shot row without a video, a shot mixing classes, a class not in
            ``classes`` or a repeated frame number (each naming an item); no shot in ``splits``.
    """
    missing = [c for c in SHOT_COLUMNS if c not in index.columns]
    if missing:
        raise ValueError(f"index is missing columns {missing}; expected at least {list(SHOT_COLUMNS)}")
    rows = index[index["split"].isin(list(splits)) & index["shot"].notna()]
    no_video = rows["item"][rows["video"].isna()]
    if len(no_video):
        raise ValueError(f"index: item {no_video.iloc[0]!r} has a shot id but no video")
    allowed = set(classes)
    shots = []
    for (video, shot), group in rows.sort_values("frame", kind="stable").groupby(["video", "shot"], sort=True):
        cls = group["class"].iloc[0]
        for item, row_cls in zip(group["item"], group["class"]):
            if row_cls not in allowed:
                raise ValueError(f"index: item {item!r} has class {row_cls!r}, not one of {list(classes)}")
            if row_cls != cls:
                raise ValueError(f"index: shot {shot!r} of video {video!r} mixes classes: item {item!r} is "
                                 f"{row_cls!r}, its first frame {group['item'].iloc[0]!r} is {cls!r}")
        repeated = group["item"][group["frame"].duplicated()]
        if len(repeated):
            raise ValueError(f"index: item {repeated.iloc[0]!r} repeats a frame number of shot {shot!r} "
                             f"of video {video!r}")
        shots.append(Shot(video=str(video), shot=str(shot), cls=str(cls), items=tuple(group["item"])))
    if not shots:
        raise ValueError(f"index: no shot in splits {list(splits)}")
    return shots


def central_range(length: int, fraction: float = 0.6) -> tuple[int, int]:
    """``[start, stop)`` of the central ``fraction`` of a shot of ``length`` frames.

    The window holds ``size = max(1, floor(fraction * length + 0.5))`` frames (rounded half up) and starts at
    ``start = (length - size) // 2``: when ``length - size`` is odd the spare frame lies after the window.
    E.g. length 10 -> (2, 8), length 7 -> (1, 5), length 2 -> (0, 1), length 1 -> (0, 1).

    The authors' code (``get_allowed_int_idx_frames``) rounds differently and keeps ``2 * (int(0.6 L) // 2) + 1``
    frames around ``L // 2`` (7 frames (2, 9) for L = 10) and special-cases L = 2 and L = 3; ours keeps the
    stated fraction.
    """
    if length < 1:
        raise ValueError(f"length must be >= 1; got {length}")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1]; got {fraction}")
    size = max(1, int(np.floor(fraction * length + 0.5)))
    start = (length - size) // 2
    return start, start + size


def sample_frames(length: int, n: int, strategy: str, rng: np.random.Generator,
                  sigma_fraction: float = DEFAULT_SIGMA_FRACTION,
                  window: tuple[int, int] | None = None) -> np.ndarray:
    """Positions of ``n`` distinct frames of a shot of ``length`` frames (Sec. 4.3 e, Tab. 5).

    Frames are drawn from ``window = (start, stop)`` (default: the whole shot; pass :func:`central_range` for the
    authors' central 60 %). With ``W = stop - start`` window frames:

    - ``adjacent``: the last frame ``t`` is uniform over the window frames that have ``n - 1`` predecessors in
      the window (``t - start`` in ``[n - 1, W - 1]``); returns ``t - n + 1 .. t`` (Sec. 3, ``F^{t,n}``).
    - ``interval``: the window is cut into ``n`` disjoint intervals by ``np.array_split`` (the first ``W % n``
      intervals hold one frame more) and one frame is drawn uniformly from each.
    - ``gaussian``: ``n`` frames drawn without replacement, one after another, with probability proportional to
      the weights ``exp(-(p - c)^2 / (2 s^2))`` renormalised over the frames left, where ``c = (start + stop -
      1) / 2`` is the middle of the window and ``s = sigma_fraction * W``. The paper gives no standard
      deviation; ``sigma_fraction`` (default 0.25) is ours. (The authors' code uses a std in frames, default 1,
      centre ``W // 2``, and adds 1 to the pdf before normalising, which makes the draw nearly uniform.)
      Drawn by the Gumbel-top-k trick (Kool et al. 2019), the same distribution as successive weighted draws,
      which stays defined when far weights underflow.

    When ``n >= W`` the shot (window) is shorter than ``n`` and every window frame is returned (fewer than
    ``n`` positions when ``n > W``).

    Returns:
        int64 (min(n, W),), increasing positions in ``[start, stop)``.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy {strategy!r} is not one of {list(STRATEGIES)}")
    if n < 1:
        raise ValueError(f"n must be >= 1; got {n}")
    if length < 1:
        raise ValueError(f"length must be >= 1; got {length}")
    if sigma_fraction <= 0:
        raise ValueError(f"sigma_fraction must be > 0; got {sigma_fraction}")
    start, stop = (0, length) if window is None else window
    if not 0 <= start < stop <= length:
        raise ValueError(f"window must satisfy 0 <= start < stop <= length={length}; got {window}")
    width = stop - start
    if n >= width:
        return np.arange(start, stop, dtype=np.int64)
    if strategy == "adjacent":
        t = start + int(rng.integers(n - 1, width))
        return np.arange(t - n + 1, t + 1, dtype=np.int64)
    if strategy == "interval":
        chunks = np.array_split(np.arange(start, stop, dtype=np.int64), n)
        return np.array([chunk[rng.integers(len(chunk))] for chunk in chunks], dtype=np.int64)
    positions = np.arange(start, stop, dtype=np.int64)
    log_weights = -0.5 * ((positions - (start + stop - 1) / 2) / (sigma_fraction * width)) ** 2
    keys = log_weights + rng.gumbel(size=width)
    return np.sort(positions[np.argsort(-keys, kind="stable")[:n]])


def drop_shots(shots: Sequence[Shot], m: int, rng: np.random.Generator) -> list[Shot]:
    """Remove ``m`` shots per class, chosen uniformly without replacement (Sec. 4.3 g, Fig. 3, Tab. 7).

    Classes are visited in sorted order and, for each, ``rng.choice(k, m, replace=False)`` picks the shots to drop
    among the class's ``k`` shots in their input order, so a seed and an input order fix the result. The kept
    shots keep their input order.

    Raises:
        ValueError: ``m < 0``, or a class with ``k <= m`` shots (it would be left with none).
    """
    if m < 0:
        raise ValueError(f"m must be >= 0; got {m}")
    by_class: dict[str, list[int]] = {}
    for i, shot in enumerate(shots):
        by_class.setdefault(shot.cls, []).append(i)
    dropped: set[int] = set()
    for cls in sorted(by_class):
        members = by_class[cls]
        if len(members) <= m:
            raise ValueError(f"removing {m} shots would leave class {cls!r} with none; it has {len(members)}")
        dropped.update(members[j] for j in rng.choice(len(members), size=m, replace=False))
    return [shot for i, shot in enumerate(shots) if i not in dropped]


def previous_positions(t: int, n: int) -> np.ndarray:
    """Frames ``max(0, t - n + 1) .. t`` whose CAMs TCAM max-pools for frame ``t``, clipped at the shot start.

    Returns int64 (min(n, t + 1),), increasing.
    """
    if t < 0 or n < 1:
        raise ValueError(f"previous_positions needs t >= 0 and n >= 1; got t={t}, n={n}")
    return np.arange(max(0, t - n + 1), t + 1, dtype=np.int64)
