"""The E-step of EM-Adapt (Papandreou et al., ICCV 2015), M-CNN's image-label baseline (Sec. 2, Table 1).

Every pixel takes the label ``argmax_l (log p_l + b_l)`` over the labels present in the
image (background always present), with per-image adaptive biases ``b_l`` chosen so that
at least ``fg_fraction`` (20 %) of the pixels go to each present foreground label and at
least ``bg_fraction`` (40 %) to background.

The biases are the dual variables of the cardinality-constrained labelling problem

    max_x  sum_i log p_{x_i}(i)   s.t.  #{i : x_i = l} >= m_l  for every present label l,

a transportation problem (pixels to labels), solved here in two phases that both keep
every pixel's assigned biased score within ``EPS`` of its best one (eps-complementary
slackness) and only ever raise biases:

1. Reverse-auction bids (Bertsekas & Castanon 1989): a label short of its quota ``m_l``
   raises its bias just enough to take the missing pixels that are cheapest for it, i.e.
   to the r-th smallest margin ``(log p_{x_i}(i) + b_{x_i}) - log p_l(i)`` plus ``EPS``.
   The taken pixels may leave other labels short; sweeps repeat while they reduce the
   total shortfall. This moves the bulk of the pixels but can end in a "price war" (two
   labels trading one pixel in EPS steps), so at the first sweep without progress:
2. Successive shortest paths: over the K labels, the cheapest chain of single-pixel moves
   from a label above its quota to a short one (Bellman-Ford on the K x K matrix of
   cheapest moves); biases rise by the distance deficits (Johnson potentials) and one
   pixel moves along each edge of the chain. Each step removes one unit of shortfall.

Labels above their quota are never raised, so at the end ``b_l > 0`` only for labels
holding exactly ``m_l`` pixels: with eps-complementary slackness this makes the labelling
optimal up to ``N * EPS`` (LP duality; the constraint matrix is totally unimodular, so the
LP optimum is this integral labelling). Phase 1 sweeps each reduce the shortfall and phase
2 steps each remove one unit of it, so the loop is finite. Labels are explicit state,
so pixels with exactly tied scores (flat image regions) can be split between labels,
which a plain argmax could not do.
"""

from __future__ import annotations

import numpy as np

EPS = 1e-9
"""Bid increment: assigned biased scores are within EPS of the pixel's best biased score."""
MIN_PROB = 1e-12
"""Probabilities are clipped to [MIN_PROB, 1] before the log."""


def pixel_quotas(n_labels: int, n_pixels: int, fg_fraction: float = 0.2, bg_fraction: float = 0.4) -> np.ndarray:
    """Minimum pixel counts ``m`` per label, int64 (K,), background first.

    ``m_l = ceil(f_l * N)`` with ``f_0 = bg_fraction`` and ``f_l = fg_fraction`` for the
    ``K - 1`` foreground labels. When the fractions sum to more than 1 (five or more labels
    at the defaults) they are scaled down proportionally to sum to 1. When the rounded-up
    quotas exceed N (fractions summing to 1 with N not divisible) the labels with the
    smallest fractional parts ``f_l N - floor(f_l N)`` are rounded down instead (largest
    remainder), so the quotas always sum to at most N.
    """
    if n_labels < 1 or n_pixels < 1:
        raise ValueError(f"n_labels and n_pixels must be >= 1; got {n_labels}, {n_pixels}")
    for name, value in (("fg_fraction", fg_fraction), ("bg_fraction", bg_fraction)):
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"{name} must lie in [0, 1]; got {value}")
    frac = np.array([bg_fraction] + [fg_fraction] * (n_labels - 1), dtype=np.float64)
    frac /= max(1.0, frac.sum())
    want = frac * n_pixels
    quotas = np.ceil(want - 1e-9).astype(np.int64)
    excess = int(quotas.sum()) - n_pixels
    if excess > 0:
        rounded_up = np.flatnonzero(quotas > want)
        order = rounded_up[np.argsort(want[rounded_up] - np.floor(want[rounded_up]), kind="stable")]
        quotas[order[:excess]] -= 1
    return quotas


def _log_scores(probs: np.ndarray) -> np.ndarray:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 3 or p.shape[0] < 1:
        raise ValueError(f"probs must be (K, H, W) over [background, *present labels]; got shape {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError("probs must be finite and non-negative (softmax scores), shape (K, H, W)")
    return np.log(np.clip(p, MIN_PROB, 1.0)).reshape(p.shape[0], -1)


class _Auction:
    """Assignment state of the two phases: labels, biases and counts of one image."""

    def __init__(self, scores: np.ndarray, quotas: np.ndarray) -> None:
        self.scores = scores                        # float64 (K, N) log-probabilities
        self.quotas = quotas                        # int64 (K,)
        self.labels = scores.argmax(axis=0)         # int64 (N,)
        self.assigned = scores.max(axis=0)          # log p of each pixel's label, (N,)
        self.biases = np.zeros(len(quotas))
        self.counts = np.bincount(self.labels, minlength=len(quotas))

    def shortfall(self) -> int:
        return int(np.maximum(self.quotas - self.counts, 0).sum())

    def move(self, pixels: np.ndarray, lab: int) -> None:
        self.counts -= np.bincount(self.labels[pixels], minlength=len(self.quotas))
        self.counts[lab] += len(pixels)
        self.labels[pixels] = lab
        self.assigned[pixels] = self.scores[lab, pixels]

    def sweep(self) -> None:
        """Phase 1: every short label bids for its missing pixels (Gauss-Seidel order)."""
        for lab in np.flatnonzero(self.counts < self.quotas):
            need = self.quotas[lab] - self.counts[lab]
            if need <= 0:
                continue
            margin = self.assigned + self.biases[self.labels] - self.scores[lab]
            margin[self.labels == lab] = np.inf
            take = np.argpartition(margin, need - 1)[:need]
            self.biases[lab] = margin[take].max() + EPS
            self.move(take, lab)

    def augment(self) -> None:
        """Phase 2: one pixel of shortfall removed along the cheapest chain of moves."""
        n_labels = len(self.quotas)
        target = int(np.flatnonzero(self.counts < self.quotas)[0])
        # reduced[b, i] >= -EPS: cost of moving pixel i from its label to label b
        reduced = self.assigned + self.biases[self.labels] - (self.scores + self.biases[:, None])
        order = np.argsort(self.labels, kind="stable")
        starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]])
        cost = np.full((n_labels, n_labels), np.inf)  # cost[a, b]: cheapest pixel of label a moved to b
        filled = self.counts > 0
        cost[filled] = np.maximum(np.minimum.reduceat(reduced[:, order], starts[filled], axis=1).T, 0.0)
        np.fill_diagonal(cost, np.inf)
        dist, nxt = np.full(n_labels, np.inf), np.full(n_labels, target)
        dist[target] = 0.0
        for _ in range(n_labels - 1):  # Bellman-Ford towards the target
            via = cost + dist[None, :]
            hop = via.argmin(axis=1)
            better = via[np.arange(n_labels), hop] < dist
            dist[better], nxt[better] = via[better, hop[better]], hop[better]
        surplus = np.flatnonzero(self.counts > self.quotas)
        node = int(surplus[np.argmin(dist[surplus])])
        self.biases += np.maximum(dist[node] - dist, 0.0)
        path = []
        while node != target:
            members = order[starts[node]:starts[node] + self.counts[node]]
            path.append((members[np.argmin(reduced[nxt[node], members])], int(nxt[node])))
            node = int(nxt[node])
        for pixel, lab in path:
            self.move(np.array([pixel]), lab)


def em_adapt_assign(probs: np.ndarray, fg_fraction: float = 0.2,
                    bg_fraction: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive-bias labelling of one image (module docstring): labels and biases.

    Args:
        probs: float (K, H, W) network scores (softmax probabilities) of the labels present
            in the image, channel 0 = background, channels 1.. = the image's labels.
        fg_fraction, bg_fraction: minimum share of the pixels for each present foreground
            label and for background (:func:`pixel_quotas`).

    Returns:
        ``labels`` int64 (H, W) in 0..K-1 and ``biases`` float64 (K,) >= 0 such that every
        label holds at least its quota and ``log p_{labels}(i) + b_{labels} >= max_l (log p_l(i)
        + b_l) - EPS`` at every pixel.
    """
    scores = _log_scores(probs)
    state = _Auction(scores, pixel_quotas(scores.shape[0], scores.shape[1], fg_fraction, bg_fraction))
    previous, stalled = None, False
    while shortfall := state.shortfall():
        stalled = stalled or (previous is not None and shortfall >= previous)
        state.augment() if stalled else state.sweep()
        previous = shortfall
    return state.labels.reshape(np.shape(probs)[1:]), state.biases


def em_adapt_labels(probs: np.ndarray, fg_fraction: float = 0.2, bg_fraction: float = 0.4) -> np.ndarray:
    """EM-Adapt E-step labels, int64 (H, W) in 0..K-1, for probs float (K, H, W) over
    [background, *present labels] (see :func:`em_adapt_assign`)."""
    return em_adapt_assign(probs, fg_fraction, bg_fraction)[0]
