"""Contrast-sensitive Potts models and their minimisation by graph cuts (shared by FST and M-CNN).

The pairwise term of GrabCut (Rother et al., SIGGRAPH 2004, eq. 5), FST (Papazoglou &
Ferrari, ICCV 2013, Sec. 4) and M-CNN (Tokmakov et al., ECCV 2016, Sec. 3.2, eq. 3)::

    psi_ij(x_i, x_j) = lam * (1 - Delta_ij) * [x_i != x_j] * exp(-scale ||z_i - z_j||^2) / dist(i, j)

where ``scale = gamma / mean_sq``, ``mean_sq`` the mean squared colour difference of
neighbouring pixels (:func:`contrast_scale`; with ``gamma = 0.5`` this is GrabCut's
``beta = 1 / (2 <||z_i - z_j||^2>)``), and ``Delta_ij = 1`` when both pixels lie in a
"relaxed" region (M-CNN eq. 3: the band around a motion segment's boundary).

Graphs are stored as :class:`PairwiseEdges` over flat node indices; grids of frames
``(T, H, W)`` are 8-connected within each frame (:func:`grid_edges`), superpixel graphs
come from a list of neighbour pairs (:func:`pair_edges`). Minimisers (PyMaxflow):

* :func:`binary_cut` -- exact minimum of a two-label energy (Boykov & Jolly, ICCV 2001),
  on any node shape (a grid stack, or ``(S,)`` superpixels), with any extra edges (FST's
  temporal edges along the flow).
* :func:`alpha_expansion` -- K > 2 labels (Boykov, Veksler & Zabih, PAMI 2001), with a
  different Potts weight on every edge (PyMaxflow's ``fastmin.aexpansion_grid`` takes one
  pairwise matrix for all edges). Each expansion move is a submodular binary problem
  solved exactly; the result is within a factor 2 of the optimum for Potts energies.

Conventions: colours float ``(..., 3)`` (RGB in [0, 1] in this library); unary costs
``(K, *shape)`` or one array per label, float; node ``i`` of a ``shape`` array is its
C-order flat index.
"""

from __future__ import annotations

from dataclasses import dataclass

import maxflow
import numpy as np

# (dy, dx) of each 8-neighbour pair, listed once: right, down, down-right, down-left.
NEIGHBOUR_OFFSETS: tuple[tuple[int, int], ...] = ((0, 1), (1, 0), (1, 1), (1, -1))


@dataclass(frozen=True)
class PairwiseEdges:
    """Undirected Potts edges: cost ``weight[e]`` when nodes ``first[e]`` and ``second[e]`` differ.

    Attributes:
        first, second: int64 ``(E,)`` flat node indices.
        weight: float64 ``(E,)`` non-negative Potts weights.
    """

    first: np.ndarray
    second: np.ndarray
    weight: np.ndarray

    @classmethod
    def concat(cls, *parts: PairwiseEdges) -> PairwiseEdges:
        """All edges of ``parts``, in order (no parts: no edges)."""
        return cls(np.concatenate([np.zeros(0, np.int64), *(p.first for p in parts)]),
                   np.concatenate([np.zeros(0, np.int64), *(p.second for p in parts)]),
                   np.concatenate([np.zeros(0), *(p.weight for p in parts)]))

    def check(self, n_nodes: int) -> None:
        """Raise ValueError unless the arrays are (E,), indices in ``[0, n_nodes)``, weights >= 0."""
        sizes = {np.shape(self.first), np.shape(self.second), np.shape(self.weight)}
        if len(sizes) != 1 or len(next(iter(sizes))) != 1:
            raise ValueError(f"edges: first, second and weight must be 1-D arrays of one length (E,); got {sizes}")
        if self.first.size and (min(self.first.min(), self.second.min()) < 0
                                or max(self.first.max(), self.second.max()) >= n_nodes):
            raise ValueError(f"edges: node indices must be in [0, {n_nodes})")
        if np.any(self.weight < 0) or not np.all(np.isfinite(self.weight)):
            raise ValueError("edges: weights must be finite and non-negative (Potts)")


def contrast(a: np.ndarray, b: np.ndarray, scale: float) -> np.ndarray:
    """``exp(-scale ||a - b||^2)`` over the last (colour) axis."""
    return np.exp(-scale * np.sum((a - b) ** 2, axis=-1))


def grid_sq_differences(colours: np.ndarray) -> np.ndarray:
    """Squared colour differences ``||z_i - z_j||^2`` of horizontal and vertical neighbours, flat.

    Args:
        colours: float ``(T, H, W, C)``.

    Returns:
        float ``(T (H (W - 1) + (H - 1) W),)``; the input of :func:`contrast_scale`
        (4-neighbours, as FST's ``beta``).
    """
    return np.concatenate([np.sum(np.diff(colours, axis=ax) ** 2, axis=-1).ravel() for ax in (1, 2)])


def contrast_scale(sq_differences: np.ndarray, gamma: float = 0.5, normalise: bool = True) -> float:
    """The factor of ``||z_i - z_j||^2`` in the contrast term.

    ``gamma / mean(sq_differences)`` when ``normalise`` (GrabCut's normalisation: with
    gamma = 0.5 it is GrabCut's ``beta = 1 / (2 <||z_i - z_j||^2>)``; the mean is floored
    at 1e-8 for uniform images), else ``gamma`` itself (M-CNN eq. 3 read literally).
    """
    if not normalise:
        return float(gamma)
    return gamma / max(float(np.mean(sq_differences)), 1e-8)


def _offset_slices(h: int, w: int, dy: int, dx: int) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
    """(rows, cols) slices of the pixels and of their ``(dy, dx)`` neighbours (dy >= 0)."""
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    return (slice(0, h - dy), xs), (slice(dy, h), xd)


def grid_edges(colours: np.ndarray, lam: float, scale: float, relaxed: np.ndarray | None = None) -> PairwiseEdges:
    """Contrast-sensitive Potts edges between the 8-neighbours of every frame (M-CNN eq. 3).

    ``w_ij = lam / dist(i, j) * exp(-scale ||z_i - z_j||^2)``, set to 0 where both pixels
    are ``relaxed`` (``Delta_ij = 1``). Edges are listed by offset (:data:`NEIGHBOUR_OFFSETS`),
    then in C order of the first pixel.

    Args:
        colours: float ``(T, H, W, C)``.
        lam: Potts weight (lambda of eq. 3; GrabCut's 50 for colours in [0, 1]).
        scale: see :func:`contrast_scale`.
        relaxed: optional bool ``(T, H, W)``, the region of ``Delta``.

    Returns:
        :class:`PairwiseEdges` over the flat indices of ``(T, H, W)``.
    """
    if colours.ndim != 4:
        raise ValueError(f"colours must have shape (T, H, W, C); got {colours.shape}")
    t, h, w = colours.shape[:3]
    if relaxed is not None and (relaxed.shape != (t, h, w) or relaxed.dtype != np.bool_):
        raise ValueError(f"relaxed must be a bool array of shape {(t, h, w)}; got {relaxed.dtype} {relaxed.shape}")
    nodes = np.arange(t * h * w, dtype=np.int64).reshape(t, h, w)
    parts = []
    for dy, dx in NEIGHBOUR_OFFSETS:
        src, dst = _offset_slices(h, w, dy, dx)
        src, dst = (slice(None), *src), (slice(None), *dst)
        cap = lam / np.hypot(dy, dx) * contrast(colours[src], colours[dst], scale)
        if relaxed is not None:
            cap = np.where(relaxed[src] & relaxed[dst], 0.0, cap)
        parts.append(PairwiseEdges(nodes[src].ravel(), nodes[dst].ravel(), cap.ravel()))
    return PairwiseEdges.concat(*parts)


def pair_edges(colours: np.ndarray, pairs: np.ndarray, lam: float, gamma: float = 0.5,
               normalise: bool = True) -> PairwiseEdges:
    """Contrast-sensitive Potts edges between listed neighbours, e.g. adjacent superpixels.

    ``w_e = lam * exp(-scale ||z_a - z_b||^2)`` with ``scale`` from :func:`contrast_scale`
    over these pairs (dist = 1: adjacent regions).

    Args:
        colours: float ``(S, C)`` (e.g. mean colour of each superpixel).
        pairs: integer ``(E, 2)`` node pairs.
    """
    pairs = np.asarray(pairs)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or not np.issubdtype(pairs.dtype, np.integer):
        raise ValueError(f"pairs must be an integer array of shape (E, 2); got {pairs.dtype} {pairs.shape}")
    if pairs.size and (pairs.min() < 0 or pairs.max() >= len(colours)):
        raise ValueError(f"pairs must index the {len(colours)} rows of colours")
    a, b = colours[pairs[:, 0]], colours[pairs[:, 1]]
    scale = contrast_scale(np.sum((a - b) ** 2, axis=-1), gamma, normalise) if len(pairs) else gamma
    return PairwiseEdges(pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64), lam * contrast(a, b, scale))


def potts_energy(labels: np.ndarray, unary: np.ndarray, edges: PairwiseEdges) -> float:
    """``sum_i unary[labels_i, i] + sum_e weight_e [labels_first != labels_second]``.

    Args:
        labels: integer ``shape`` in ``0..K-1``.
        unary: float ``(K, *shape)``.
    """
    x = np.asarray(labels).ravel()
    u = unary.reshape(unary.shape[0], -1)
    return float(u[x, np.arange(x.size)].sum() + edges.weight[x[edges.first] != x[edges.second]].sum())


def binary_cut(cost0: np.ndarray, cost1: np.ndarray, edges: PairwiseEdges) -> np.ndarray:
    """Exact minimiser of ``sum_i cost_{y_i}(i) + sum_e w_e [y_first != y_second]`` (one max-flow).

    Args:
        cost0, cost1: float arrays of one shape (a frame stack ``(T, H, W)``, superpixels
            ``(S,)``, ...): the cost of label 0 / 1 at each node (any real values).
        edges: Potts edges over the flat node indices (e.g. :func:`grid_edges`, plus any
            extra edges: :meth:`PairwiseEdges.concat`).

    Returns:
        bool array of that shape, True = label 1.
    """
    if np.shape(cost0) != np.shape(cost1):
        raise ValueError(f"cost0 and cost1 must have one shape; got {np.shape(cost0)} and {np.shape(cost1)}")
    edges.check(int(np.prod(np.shape(cost0))))
    graph = maxflow.Graph[float](int(np.prod(np.shape(cost0))), edges.weight.size)
    nodes = graph.add_grid_nodes(np.shape(cost0))
    graph.add_edges(edges.first, edges.second, edges.weight, edges.weight)
    low = np.minimum(cost0, cost1)  # a per-node constant does not change the minimiser
    # A node on the sink side (segment True = label 1) cuts its source edge, of capacity cost1.
    graph.add_grid_tedges(nodes, cost1 - low, cost0 - low)
    graph.maxflow()
    return graph.get_grid_segments(nodes)


def _expansion_move(unary: np.ndarray, edges: PairwiseEdges, labels: np.ndarray, alpha: int) -> np.ndarray:
    """Optimal alpha-expansion of ``labels`` (flat): bool (N,), True = the node switches to ``alpha``.

    Binary variable y_i (1 = take alpha). An edge of weight w costs A = w[x_i != x_j],
    B = w[x_i != alpha] (only j moves), C = w[x_j != alpha] (only i moves), D = 0, written
    as ``A + (C - A) y_i - C y_j + (B + C - A)(1 - y_i) y_j``; B + C >= A (triangle
    inequality of Potts) makes the last term a non-negative edge i -> j.
    """
    n = labels.size
    xi, xj, w = labels[edges.first], labels[edges.second], edges.weight
    a, b, c = w * (xi != xj), w * (xi != alpha), w * (xj != alpha)
    linear = (unary[alpha] - unary[labels, np.arange(n)]
              + np.bincount(edges.first, c - a, minlength=n) - np.bincount(edges.second, c, minlength=n))
    pair = b + c - a
    keep = pair > 0
    graph = maxflow.Graph[float](n, int(keep.sum()))
    nodes = graph.add_grid_nodes(n)
    graph.add_edges(edges.first[keep], edges.second[keep], pair[keep], np.zeros(int(keep.sum())))
    graph.add_grid_tedges(nodes, np.maximum(linear, 0.0), np.maximum(-linear, 0.0))
    graph.maxflow()
    return graph.get_grid_segments(nodes)


def alpha_expansion(unary: np.ndarray, edges: PairwiseEdges, labels: np.ndarray | None = None,
                    max_cycles: int = 10) -> np.ndarray:
    """Approximate minimiser of a Potts energy with K labels by alpha-expansion (Boykov et al. 2001).

    ``E(x) = sum_i unary[x_i, i] + sum_e w_e [x_first != x_second]`` with per-edge weights.
    Cycles over alpha = 0, 1, ..., K-1, 0, ..., keeping every move that lowers E, until no
    label's expansion lowers it any more (K moves in a row without change, counting the
    last successful one) or after ``max_cycles * K`` moves. The result is then a local
    minimum with respect to expansion moves, within a factor 2 of the global one.

    Args:
        unary: float ``(K, *shape)``, the cost of each label at each node.
        edges: Potts edges over the flat node indices of ``shape``.
        labels: optional integer ``shape`` starting labelling (default: argmin of ``unary``).
        max_cycles: at most this many cycles over the labels.

    Returns:
        int64 ``shape`` in ``0..K-1``.
    """
    if unary.ndim < 2:
        raise ValueError(f"unary must have shape (K, *shape); got {unary.shape}")
    k, shape = unary.shape[0], unary.shape[1:]
    u = unary.reshape(k, -1).astype(np.float64, copy=False)
    edges.check(u.shape[1])
    if labels is None:
        x = np.argmin(u, axis=0)
    else:
        if np.shape(labels) != shape:
            raise ValueError(f"labels must have shape {shape}; got {np.shape(labels)}")
        x = np.asarray(labels, dtype=np.int64).ravel().copy()
    energy = potts_energy(x, u, edges)
    settled = 0  # labels whose expansion cannot lower E from the current x
    for move in range(max_cycles * k):
        if settled == k:
            break
        alpha = move % k
        moved = np.where(_expansion_move(u, edges, x, alpha), alpha, x)
        new = potts_energy(moved, u, edges)
        if new < energy - 1e-9 * max(1.0, abs(energy)):
            x, energy, settled = moved, new, 1
        else:
            settled += 1
    return x.reshape(shape).astype(np.int64)
