"""Unsupervised motion segmentation in the manner of FST (Papazoglou & Ferrari,
"Fast object segmentation in unconstrained video", ICCV 2013).

M-CNN (Tokmakov et al., ECCV 2016, Sec. 3.2 and 4.1) trains on these motion segments
(as soft constraints, after pruning shots by foreground size), and Foreground
Clustering (Sharma et al.) reports FST as the last column of its Table 2. The steps:

1. :func:`motion_boundaries` -- per frame, the probability that a pixel lies on a
   motion boundary, from the optical-flow gradient and orientation (FST Sec. 3.1).
2. :func:`inside_outside` -- per frame, which pixels lie inside a closed motion
   boundary, by casting rays and counting crossings (FST Sec. 3.2, "integral
   intersections").
3. :func:`segment_shot` -- per shot, colour GMM appearance models for foreground
   and background, initialised from the inside-outside maps, and a spatio-temporal
   graph cut whose temporal edges link pixels joined by the flow, alternated for a
   few iterations in the GrabCut manner (FST Sec. 4).

Differences from FST, all deliberate and documented where they occur: FST builds
appearance models per frame from the whole shot weighted by temporal distance and
propagates a location prior through the flow; here one appearance model per shot
(fitted by EM, :func:`weakseg.gmm.fit_gmm`; M-CNN's temporally weighted per-frame models
are in :mod:`weakseg.gmm` too) and a location prior from the spatially smoothed
inside-outside map of the frame itself; pixels, not superpixels.

The colour models (:mod:`weakseg.gmm`), the contrast-sensitive Potts edges and the
graph cut (:mod:`weakseg.graphcut`) are shared with M-CNN; only the temporal edges
along the flow are FST's own.

Conventions: frames RGB uint8 ``(H, W, 3)``; flows float32 ``(H, W, 2)`` as
``(dx, dy)`` with ``frame_t[y, x] ≈ frame_{t+1}[y + dy, x + dx]`` (see
:mod:`weakseg.preprocess.flow`); masks bool ``(H, W)``, True = foreground.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

import cv2
import numpy as np
from scipy.special import ndtr

from weakseg.checks import check_flow
from weakseg.gmm import fit_gmm
from weakseg.graphcut import PairwiseEdges, binary_cut, contrast, contrast_scale, grid_edges, grid_sq_differences


@dataclass(frozen=True)
class FSTParams:
    """Tunable constants of the FST-style motion segmentation.

    Motion boundaries (FST Sec. 3.1; values from the authors' code, recorded in
    shared/notes/reference-implementations.md, "FST"):

    - ``grad_mean``, ``grad_sd``: the flow-gradient magnitude goes through a normal
      CDF with mean 0.5 and sd 1.5 (code's ``normcdf(magnitude, 0.5, 1.5)``).
    - ``strong``: above 0.7 the gradient evidence alone is the boundary probability.
    - ``medium``: between 0.4 and 0.7 it is multiplied by the orientation evidence.
    - ``weak_scale``: at or below 0.4 it is scaled by 0.1 (authors' code).
    - ``orientation_lambda``: the orientation evidence is
      ``1 - exp(-lambda * dtheta^2)`` with lambda = 1 (FST Sec. 3.1; authors' code).
    - ``boundary_threshold``: boundary probabilities above 0.5 count as boundary
      pixels when casting rays (our choice: the midpoint; not stated in the notes).

    Inside-outside maps (FST Sec. 3.2; notes): ``rays`` = 8 rays per pixel, inside
    when at least ``min_votes`` = 5 rays ("more than 4") cross the boundary an odd
    number of times.

    Auto-calibration (authors' code, ``getInOutMaps`` / ``calibrateProbabilityEdge``,
    not in the paper): when a frame's inside-outside map has a quality
    (:func:`frame_quality`) below ``calibration_quality`` = 0.2, the boundary
    sensitivity is swept and the most compact result kept. The authors sweep their
    exponential's rate over 0.7..1.5; we sweep a ``gain`` on the gradient magnitude
    over ``calibration_gains`` (ours: small, low-resolution frames and smooth DIS /
    Farneback flows give gradients several times weaker than Brox-Malik flow at
    full resolution). An empty tuple turns calibration off.

    Appearance and graph cut (FST Sec. 4; GrabCut, Rother et al. 2004, which FST and
    M-CNN Sec. 3.2 follow):

    - ``gmm_components``: 5 Gaussians per colour model, as in GrabCut.
    - ``gmm_samples``: at most this many pixels per model are used to fit it
      (ours, for speed).
    - ``location_sigma``, ``location_weight``, ``location_floor``: the location prior
      is the inside-outside map blurred with a Gaussian of this sigma (pixels),
      clipped to [floor, 1 - floor], entering the unary as ``-weight * log``
      (ours; FST propagates its location model through the flow instead).
    - ``spatial_weight``: weight of the contrast-sensitive Potts term between
      8-neighbours, ``w * exp(-beta ||z_i - z_j||^2) / dist(i, j)`` with
      ``beta = 1 / (2 E||z_i - z_j||^2)`` (GrabCut's gamma = 50; M-CNN eq. 3;
      :func:`weakseg.graphcut.grid_edges`).
    - ``temporal_weight``: the same term between pixels joined by the flow of
      consecutive frames (FST Sec. 4, temporal smoothness; ours = spatial weight).
    - ``seed``: random state of the GMM fits and pixel subsampling.
    """

    grad_mean: float = 0.5
    grad_sd: float = 1.5
    strong: float = 0.7
    medium: float = 0.4
    weak_scale: float = 0.1
    orientation_lambda: float = 1.0
    boundary_threshold: float = 0.5
    rays: int = 8
    min_votes: int = 5
    calibration_quality: float = 0.2
    calibration_gains: tuple[float, ...] = (2.0, 4.0, 8.0, 16.0)
    gmm_components: int = 5
    gmm_samples: int = 10000
    location_sigma: float = 3.0
    location_weight: float = 1.0
    location_floor: float = 0.05
    spatial_weight: float = 50.0
    temporal_weight: float = 50.0
    seed: int = 0


def fst_params(**params) -> FSTParams:
    """:class:`FSTParams` with ``params`` replacing the defaults; unknown names raise ValueError."""
    known = [f.name for f in fields(FSTParams)]
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ValueError(f"unknown FST parameters {unknown}; known: {known}")
    return replace(FSTParams(), **params)


def _gradient_magnitude(flow: np.ndarray) -> np.ndarray:
    """Frobenius norm of the flow Jacobian (central differences), float (H, W)."""
    grads = [g for c in (0, 1) for g in np.gradient(flow[..., c])]
    return np.sqrt(sum(g * g for g in grads))


def _orientation_difference(flow: np.ndarray) -> np.ndarray:
    """Largest angle (radians, in [0, pi]) between a pixel's flow and its 4-neighbours' flows."""
    angle = np.arctan2(flow[..., 1], flow[..., 0])
    padded = np.pad(angle, 1, mode="edge")
    neighbours = [padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2], padded[1:-1, 2:]]
    diffs = [np.abs(np.angle(np.exp(1j * (angle - n)))) for n in neighbours]
    return np.max(diffs, axis=0)


def motion_boundaries(flow: np.ndarray, params: FSTParams | None = None, gain: float = 1.0) -> np.ndarray:
    """Motion-boundary probability of every pixel (FST Sec. 3.1).

    ``b_m = Phi((gain |grad f| - mean) / sd)`` (normal CDF of the flow-gradient magnitude);
    ``b_theta = 1 - exp(-lambda * dtheta^2)`` (largest orientation difference to a
    4-neighbour); the boundary is ``b_m`` where ``b_m > strong``, ``b_m * b_theta``
    where ``medium < b_m <= strong`` and ``weak_scale * b_m`` elsewhere. A uniform
    flow (pure camera translation) has no boundary anywhere.

    Args:
        flow: float ``(H, W, 2)`` as ``(dx, dy)``.
        params: constants (default :class:`FSTParams`).
        gain: sensitivity (1 = FST's constants; see :func:`frame_motion_mask`).

    Returns:
        float32 ``(H, W)`` in [0, 1].
    """
    p = params or FSTParams()
    flow = check_flow(flow)
    b_mag = ndtr((gain * _gradient_magnitude(flow) - p.grad_mean) / p.grad_sd)
    b_rot = 1.0 - np.exp(-p.orientation_lambda * _orientation_difference(flow) ** 2)
    out = p.weak_scale * b_mag
    medium = (b_mag > p.medium) & (b_mag <= p.strong)
    out[medium] = b_mag[medium] * b_rot[medium]
    strong = b_mag > p.strong
    out[strong] = b_mag[strong]
    return out.astype(np.float32)


# --------------------------------------------------------------------------
# Inside-outside maps (FST Sec. 3.2)
# --------------------------------------------------------------------------


def _crossings(boundary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boundary crossings of the rays from each pixel towards lower / higher index along axis 0.

    A crossing is one run of consecutive boundary pixels (a thick boundary counts
    once); the run a pixel sits on is not counted. Cumulative counts of run ends
    and run starts (FST's "integral intersections") make this O(H W).
    """
    before_pix = np.pad(boundary, ((1, 0), (0, 0)))[:-1]
    after_pix = np.pad(boundary, ((0, 1), (0, 0)))[1:]
    starts = (boundary & ~before_pix).astype(np.int32)
    ends = (boundary & ~after_pix).astype(np.int32)
    cum_ends = np.cumsum(ends, axis=0)
    cum_starts = np.cumsum(starts, axis=0)
    return cum_ends - ends, cum_starts[-1:] - cum_starts


def _sheared_index(h: int, w: int, anti: bool) -> tuple[np.ndarray, np.ndarray]:
    """Index (rows, cols) into an (h, h + w - 1) array whose columns are the image's diagonals."""
    rows = np.arange(h)[:, None]
    cols = np.arange(w)[None, :] + (rows if anti else h - 1 - rows)
    return np.broadcast_to(rows, (h, w)), cols


def _diagonal_crossings(boundary: np.ndarray, anti: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_crossings` along the diagonals (``anti=False``: x - y constant; else x + y)."""
    h, w = boundary.shape
    rows, cols = _sheared_index(h, w, anti)
    sheared = np.zeros((h, h + w - 1), bool)
    sheared[rows, cols] = boundary
    before, after = _crossings(sheared)
    return before[rows, cols], after[rows, cols]


def inside_votes(boundary: np.ndarray, rays: int = 8, threshold: float = 0.5) -> np.ndarray:
    """Number of rays from each pixel that cross the boundary an odd number of times.

    The ray-casting point-in-polygon test of FST Sec. 3.2: a ray from a point inside
    a closed curve crosses it an odd number of times. Rays go left, right, up, down
    and (``rays=8``) along the four diagonals to the image border.

    Args:
        boundary: ``(H, W)`` bool boundary pixels, or float boundary probabilities
            (pixels above ``threshold`` are boundary).
        rays: 4 or 8.
        threshold: binarisation level of a float map.

    Returns:
        int ``(H, W)`` in ``[0, rays]``.
    """
    boundary = np.asarray(boundary)
    if boundary.ndim != 2:
        raise ValueError(f"boundary must be a 2-D (H, W) map; got shape {boundary.shape}")
    if rays not in (4, 8):
        raise ValueError(f"rays must be 4 or 8; got {rays}")
    b = boundary if boundary.dtype == np.bool_ else boundary > threshold
    counts = [*_crossings(b), *(c.T for c in _crossings(b.T))]
    if rays == 8:
        counts += [*_diagonal_crossings(b, anti=False), *_diagonal_crossings(b, anti=True)]
    return np.sum([c % 2 for c in counts], axis=0)


def inside_outside(boundary: np.ndarray, rays: int = 8, min_votes: int = 5,
                   threshold: float = 0.5) -> np.ndarray:
    """FST's inside-outside map: pixels with at least ``min_votes`` inside votes (Sec. 3.2).

    Args:
        boundary: ``(H, W)`` bool boundary, or float probabilities binarised at ``threshold``.
        rays: 4 or 8 (FST: 8).
        min_votes: votes needed (FST: "more than 4" of 8, i.e. 5).

    Returns:
        bool ``(H, W)``, True inside a closed boundary.
    """
    if not 1 <= min_votes <= rays:
        raise ValueError(f"min_votes must be in [1, rays={rays}]; got {min_votes}")
    return inside_votes(boundary, rays, threshold) >= min_votes


def frame_quality(mask: np.ndarray) -> float:
    """Size over spread of an inside-outside map: ``N / (var_y^2 + var_x^2)`` (authors' code).

    FST's code (``getFrameQuality``) rates a map by how much it looks like a single
    compact blob; an empty or single-pixel map scores 0.
    """
    ys, xs = np.nonzero(mask)
    spread = float(np.var(ys)) ** 2 + float(np.var(xs)) ** 2 if len(ys) else 0.0
    return len(ys) / spread if spread > 0 else 0.0


def _inside_at(flow: np.ndarray, p: FSTParams, gain: float) -> np.ndarray:
    """Inside-outside map of the motion boundaries of ``flow`` at sensitivity ``gain``."""
    return inside_outside(motion_boundaries(flow, p, gain), p.rays, p.min_votes, p.boundary_threshold)


def calibrated_gain(flow: np.ndarray, params: FSTParams | None = None) -> float:
    """Boundary sensitivity for one frame, auto-calibrated as in the authors' code.

    1 when the inside-outside map at FST's constants has :func:`frame_quality` of at
    least ``calibration_quality``; otherwise the gain among 1 and
    ``calibration_gains`` whose map has the highest quality (see :class:`FSTParams`).
    """
    p = params or FSTParams()
    if frame_quality(_inside_at(flow, p, 1.0)) >= p.calibration_quality:
        return 1.0
    return max((1.0, *p.calibration_gains), key=lambda g: frame_quality(_inside_at(flow, p, g)))


def frame_motion_mask(flow: np.ndarray, params: FSTParams | None = None) -> np.ndarray:
    """FST's initial foreground estimate of one frame: the inside-outside map of its
    motion boundaries at the :func:`calibrated_gain` (FST Sec. 3).

    Args:
        flow: float ``(H, W, 2)`` as ``(dx, dy)``.

    Returns:
        bool ``(H, W)``.
    """
    p = params or FSTParams()
    return _inside_at(flow, p, calibrated_gain(flow, p))


# --------------------------------------------------------------------------
# Appearance models and spatio-temporal graph cut (FST Sec. 4)
# --------------------------------------------------------------------------


def _location_prior(inside: np.ndarray, p: FSTParams) -> np.ndarray:
    """Per-frame foreground probability from the inside-outside maps, float (T, H, W)."""
    blurred = np.stack([cv2.GaussianBlur(m.astype(np.float32), (0, 0), p.location_sigma) for m in inside])
    return np.clip(blurred, p.location_floor, 1.0 - p.location_floor)


def _unaries(colours: np.ndarray, labels: np.ndarray, location: np.ndarray,
             p: FSTParams) -> tuple[np.ndarray, np.ndarray]:
    """Costs (T, H, W) of labelling each pixel background / foreground: GMM NLL + location NLL."""
    flat = colours.reshape(-1, 3)
    cost = []
    for value, prior in ((False, 1.0 - location), (True, location)):
        gmm = fit_gmm(flat[labels.ravel() == value], n_components=p.gmm_components, max_samples=p.gmm_samples,
                      seed=p.seed)
        nll = gmm.nll(flat)[0].reshape(labels.shape)
        cost.append(nll - p.location_weight * np.log(prior))
    low = np.minimum(*cost)  # a per-pixel constant does not change the minimiser
    return cost[0] - low, cost[1] - low


def _temporal_edges(colours: np.ndarray, flows: np.ndarray, scale: float, weight: float) -> PairwiseEdges:
    """Contrast-sensitive Potts edges from each pixel of frame t to where the flow takes it in t+1
    (FST Sec. 4), over the flat indices of ``(T, H, W)``."""
    t, h, w = colours.shape[:3]
    nodes = np.arange(t * h * w, dtype=np.int64).reshape(t, h, w)
    ys, xs = np.mgrid[0:h, 0:w]
    parts = []
    for k in range(t - 1):
        xd = np.rint(xs + flows[k, ..., 0]).astype(int)
        yd = np.rint(ys + flows[k, ..., 1]).astype(int)
        ok = (xd >= 0) & (xd < w) & (yd >= 0) & (yd < h)
        cap = weight * contrast(colours[k][ok], colours[k + 1][yd[ok], xd[ok]], scale)
        parts.append(PairwiseEdges(nodes[k][ok], nodes[k + 1][yd[ok], xd[ok]], cap))
    return PairwiseEdges.concat(*parts)


def _check_shot(frames: Sequence[np.ndarray], flows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frames as float (T, H, W, 3) in [0, 1] and flows as float32 (T, H, W, 2), validated."""
    kinds = sorted({(np.shape(f), str(np.asarray(f).dtype)) for f in frames})
    if len(kinds) != 1 or len(kinds[0][0]) != 3 or kinds[0][0][2] != 3 or kinds[0][1] != "uint8":
        raise ValueError(f"frames must be one or more RGB uint8 (H, W, 3) of one size; got (shape, dtype) {kinds}")
    stack = np.stack(frames)
    flows = np.asarray(flows, np.float32)
    if flows.shape != stack.shape[:3] + (2,):
        raise ValueError(f"flows must have shape (T, H, W, 2) = {stack.shape[:3] + (2,)} "
                         f"(one per frame, see flow.shot_flows); got {flows.shape}")
    return stack.astype(np.float64) / 255.0, flows


def segment_shot(frames: Sequence[np.ndarray], flows: np.ndarray, iterations: int = 4,
                 **params) -> np.ndarray:
    """FST-style foreground segmentation of one shot.

    Initial labels are the inside-outside maps of the motion boundaries of every
    frame (Sec. 3, :func:`frame_motion_mask`). Then ``iterations`` times (4: notes,
    "FST"; M-CNN Sec. 4.2 also runs 4): fit foreground/background colour GMMs to the
    current labels over the whole shot, and relabel all frames jointly by a graph cut
    with unaries = GMM negative log-likelihood + location prior, and
    contrast-sensitive Potts edges within frames and along the flow between
    consecutive frames (Sec. 4).

    When a label has fewer than ``10 * gmm_components`` pixels (no closed motion
    boundary anywhere, or everything inside), its colour model is undefined and the
    current labelling is returned: a shot without motion segments gives empty masks.

    Args:
        frames: ``T`` RGB uint8 frames ``(H, W, 3)``.
        flows: float ``(T, H, W, 2)``, flow ``t -> t+1`` for ``t < T-1`` (as
            :func:`weakseg.preprocess.flow.shot_flows`); the last one only feeds the
            last frame's motion boundaries.
        iterations: appearance-model / graph-cut rounds (0 returns the inside-outside maps).
        params: overrides of :class:`FSTParams` fields.

    Returns:
        bool ``(T, H, W)``, True = foreground.
    """
    p = fst_params(**params)
    colours, flows = _check_shot(frames, flows)
    labels = np.stack([frame_motion_mask(f, p) for f in flows])
    location = _location_prior(labels, p)
    scale = contrast_scale(grid_sq_differences(colours))  # GrabCut's beta (gamma = 0.5)
    edges = PairwiseEdges.concat(grid_edges(colours, p.spatial_weight, scale),
                                 _temporal_edges(colours, flows, scale, p.temporal_weight))
    for _ in range(iterations):
        fg = int(labels.sum())
        if min(fg, labels.size - fg) < 10 * p.gmm_components:
            break
        cost_bg, cost_fg = _unaries(colours, labels, location, p)
        labels = binary_cut(cost_bg, cost_fg, edges)  # True = foreground
    return labels
