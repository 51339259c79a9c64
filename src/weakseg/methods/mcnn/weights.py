"""Class balancing of M-CNN's loss (Sec. 4.2, "Training").

The loss term of eq. (1) of object class ``l``, with ``num_l`` training samples, is
weighted by ``min_j num_j / num_l`` over the object classes ``j = 1..L``: the rarest class
gets weight 1, a class with twice as many samples weight 1/2. The paper gives background
no weight; it is 1.0 (:func:`weight_vector`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def class_weights(counts: Mapping[str, int]) -> dict[str, float]:
    """``{class: min_j num_j / num_class}`` over the object classes of ``counts``.

    Args:
        counts: object class -> number of training samples labelled with it (e.g. kept
            shots); background must not be among them (its weight, 1.0, is the caller's).

    Returns:
        Weights in (0, 1] in the order of ``counts``; empty for empty counts. A zero or
        negative count is a ValueError naming the class.
    """
    for name, num in counts.items():
        if not num > 0:
            raise ValueError(f"counts[{name!r}] = {num}: every class needs a positive number of training samples")
    if not counts:
        return {}
    rarest = min(counts.values())
    return {name: float(rarest / num) for name, num in counts.items()}


def weight_vector(classes: Sequence[str], counts: Mapping[str, int]) -> np.ndarray:
    """Per-label loss weights, float64 (1 + len(classes),): 1.0 for background at position 0,
    then :func:`class_weights` of ``classes`` (the minimum is taken over these classes only)."""
    missing = [c for c in classes if c not in counts]
    if missing:
        raise ValueError(f"counts has no entry for classes {missing}; expected one per class of {list(classes)}")
    weights = class_weights({c: counts[c] for c in classes})
    return np.array([1.0] + [weights[c] for c in classes], dtype=np.float64)
