"""Scored object proposals: boxes and segments.

Which paper needs what:

* Foreground Clustering (Sharma et al.), Sec. 5: "we generate 30 bounding boxes for each
  image" with Objectness (Alexe et al., ref. 1); the box saliency term of Eq. 7 takes
  ``s = -log(M)`` of a score in (0, 1].
* Pinheiro & Collobert (CVPR 2015), Sec. 3.2 SP-bb: 10^4 BING boxes per image, "each
  bounding box having a score", "normalized to fit the [0, 1] interval"; a pixel's object
  probability is the mean score of the boxes that contain it. SP-seg: the same with MCG
  segments and their scores.

Neither Objectness, BING (its OpenCV port needs trained model files) nor MCG is available
here, so the methods below are substitutes; the ``method`` name is stored with every
product so the tables can say which one ran.

Box methods (:data:`BOX_PROPOSALS`):

* ``selective_search`` -- Uijlings et al. (IJCV 2013), OpenCV contrib. Its score is
  derived from OpenCV's output rank (see :func:`selective_search`).
* ``edge_boxes`` -- Zitnick & Dollar, "Edge Boxes" (ECCV 2014), OpenCV contrib, whose
  per-box objectness score is the paper's own. The structured-forest edge model is not
  shipped, so the edge map is a colour-gradient map (see :func:`edge_boxes`).

Segment method (:data:`SEGMENT_PROPOSALS`):

* ``hierarchical_merge`` -- the selective-search grouping on pixels: Felzenszwalb
  superpixels merged greedily by mean Lab colour (scikit-image RAG); every region of the
  hierarchy is a candidate, scored by its lifetime (see :func:`hierarchical_merge`).

Conventions: images are RGB ``uint8`` ``(H, W, 3)``; boxes are ``float32`` ``(N, 4)``
``[x_min, y_min, x_max, y_max]`` with continuous corners (a box over pixel columns 0..9
has ``x_min = 0, x_max = 10``); masks are ``bool`` ``(N, H, W)``; scores are ``float32``
``(N,)`` in (0, 1], sorted in descending order (ties keep the method's order).
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

import cv2
import numpy as np
import skimage.color
import skimage.graph

from weakseg.checks import check_rgb_image
from weakseg.metrics import box_iou
from weakseg.preprocess.superpixels import segment

DUPLICATE_IOU = 0.95
"""Proposals overlapping a better-scored kept one by IoU above this are dropped."""

MIN_SCORE = 1e-6
"""Floor of every score, so that ``-log(score)`` (Foreground Clustering, Eq. 7) is finite."""

_LIBC = ctypes.CDLL(None)  # the process's C library, whose rand() OpenCV's selective search calls


# --------------------------------------------------------------------------
# Box methods: f(image, *, n, min_size, **params) -> (boxes (R, 4), scores (R,))
# --------------------------------------------------------------------------


def _xywh_to_corners(rects: np.ndarray) -> np.ndarray:
    """OpenCV integer rects ``(R, 4)`` ``(x, y, w, h)`` -> float64 continuous corners."""
    rects = np.asarray(rects, dtype=np.float64).reshape(-1, 4)
    return np.concatenate([rects[:, :2], rects[:, :2] + rects[:, 2:]], axis=1)


_SELECTIVE_SEARCH_MODES = {
    "fast": "switchToSelectiveSearchFast",        # HSV + Lab, k = base_k, +inc_k, +2 inc_k
    "quality": "switchToSelectiveSearchQuality",  # 5 colour spaces, 5 values of k
    "single": "switchToSingleStrategy",           # HSV, one k, one strategy
}


def selective_search(image: np.ndarray, *, n: int, min_size: int, mode: str = "fast",
                     **switch_params) -> tuple[np.ndarray, np.ndarray]:
    """Selective search boxes (Uijlings et al., IJCV 2013), scored by OpenCV's rank.

    OpenCV ranks every region of its merge hierarchies by ``RND * level`` (``level`` is
    the height in the hierarchy, 1 for the initial Felzenszwalb segments, ``RND`` from
    the C library's ``rand()``), sorts ascending and drops repeated rectangles: it counts
    from the *bottom* of the hierarchy (its source notes the inversion), so its first
    boxes are the small initial segments. Uijlings et al. rank by hierarchy position
    counted from the *top* (the whole image is position 1), so the boxes are taken here
    in reverse OpenCV order, large merged regions first. On 24 real PASCAL07-6x2 images
    the first 30 boxes in OpenCV's order cover an object (IoU > 0.5) in 33% of the
    images, the first 30 in reverse order in 88%. The score of the box at 0-based rank
    ``r`` of ``R`` is ``1 - r / R``, in ``[1/R, 1]``: a rank-derived substitute for the
    Objectness / BING scores of the papers, not a calibrated probability. The rank
    noise is made reproducible by :func:`box_proposals`, which seeds ``rand()``.

    Args:
        image: RGB ``uint8`` ``(H, W, 3)``.
        n, min_size: unused here; every box is returned and filtered by the caller.
        mode: ``"fast"`` (default), ``"quality"`` or ``"single"`` (one strategy).
        **switch_params: keyword arguments of the OpenCV switch method of ``mode``:
            ``base_k``, ``inc_k``, ``sigma`` (fast, quality; defaults 150, 150, 0.8) or
            ``k``, ``sigma`` (single; defaults 200, 0.8).

    Returns:
        float64 ``(R, 4)`` boxes and ``(R,)`` scores, in reverse OpenCV order.
    """
    if mode not in _SELECTIVE_SEARCH_MODES:
        raise ValueError(f"unknown selective search mode {mode!r}; known: {sorted(_SELECTIVE_SEARCH_MODES)}")
    search = cv2.ximgproc.segmentation.createSelectiveSearchSegmentation()
    search.setBaseImage(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    getattr(search, _SELECTIVE_SEARCH_MODES[mode])(**switch_params)
    boxes = _xywh_to_corners(search.process())[::-1]
    scores = 1.0 - np.arange(len(boxes), dtype=np.float64) / max(len(boxes), 1)
    return boxes, scores


def gradient_edges(image: np.ndarray, sigma: float = 1.0, canny_low: float = 10.0,
                   canny_high: float = 30.0) -> tuple[np.ndarray, np.ndarray]:
    """Thin colour edges and their orientation, the inputs of Edge Boxes.

    Stand-in for the structured-forest edges of Zitnick & Dollar: the Sobel gradient of
    the Gaussian-smoothed (``sigma``) CIELab image, taking per pixel the channel with the
    strongest gradient, kept only on Canny's non-maximum-suppressed edge pixels
    (thresholds ``canny_low``/``canny_high`` on the smoothed RGB image, L2 gradient).

    Returns:
        ``float32`` ``(H, W)`` edge strength in [0, 1] (divided by its maximum) and
        ``float32`` ``(H, W)`` orientation of the gradient (the edge normal, Edge Boxes'
        convention) in [0, pi).
    """
    smooth = cv2.GaussianBlur(image, (0, 0), sigma)
    lab = cv2.cvtColor(smooth.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    gx = cv2.Sobel(lab, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(lab, cv2.CV_32F, 0, 1)
    strongest = np.argmax(gx ** 2 + gy ** 2, axis=2)[..., None]
    gx = np.take_along_axis(gx, strongest, axis=2)[..., 0]
    gy = np.take_along_axis(gy, strongest, axis=2)[..., 0]
    magnitude = np.hypot(gx, gy) * (cv2.Canny(smooth, canny_low, canny_high, L2gradient=True) > 0)
    edges = magnitude / max(float(magnitude.max()), 1e-12)
    orientation = np.mod(np.arctan2(gy, gx), np.pi)
    return edges.astype(np.float32), orientation.astype(np.float32)


def edge_boxes(image: np.ndarray, *, n: int, min_size: int, sigma: float = 1.0,
               canny_low: float = 10.0, canny_high: float = 30.0,
               **edge_boxes_params) -> tuple[np.ndarray, np.ndarray]:
    """Edge Boxes (Zitnick & Dollar, ECCV 2014) on :func:`gradient_edges`.

    The score of a box is Edge Boxes' objectness ``h_b^in`` (the edge magnitude wholly
    enclosed by the box, minus its central part, over the perimeter), divided by the
    image's best score so that it lies in (0, 1], as Pinheiro & Collobert normalised
    BING's scores (Sec. 3.2). Deterministic.

    Args:
        image: RGB ``uint8`` ``(H, W, 3)``.
        n: number of boxes Edge Boxes returns (``maxBoxes``; it already suppresses
            overlaps above ``beta = 0.75``).
        min_size: the default ``minBoxArea`` is ``min_size ** 2``.
        sigma, canny_low, canny_high: edge map parameters, see :func:`gradient_edges`.
        **edge_boxes_params: keyword arguments of ``cv2.ximgproc.createEdgeBoxes``
            (``alpha``, ``beta``, ``minScore``, ``maxAspectRatio``, ``minBoxArea``, ...).

    Returns:
        float64 ``(R, 4)`` boxes and ``(R,)`` scores, best first.
    """
    params = {"maxBoxes": n, "minBoxArea": float(min_size ** 2), **edge_boxes_params}
    edges, orientation = gradient_edges(image, sigma, canny_low, canny_high)
    rects, scores = cv2.ximgproc.createEdgeBoxes(**params).getBoundingBoxes(edges, orientation)
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if scores.size:
        scores = scores / scores.max()
    return _xywh_to_corners(rects), scores


BOX_PROPOSALS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "selective_search": selective_search,
    "edge_boxes": edge_boxes,
}
"""Name -> ``f(image, *, n, min_size, **params) -> (boxes (R, 4), scores (R,))``, raw:
boxes may be small or repeated; :func:`box_proposals` clips, filters, sorts and dedupes."""


# --------------------------------------------------------------------------
# Shared post-processing
# --------------------------------------------------------------------------


def _check_n(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n (proposals per image) must be a positive integer; got {n!r}")


def _greedy_unique(scores: np.ndarray, n: int, iou_with: Callable[[int, list[int]], np.ndarray],
                   thresh: float = DUPLICATE_IOU) -> np.ndarray:
    """Indices of at most ``n`` candidates, best score first, none overlapping a kept one.

    Greedy non-maximum suppression that stops once ``n`` are kept. ``iou_with(i, kept)``
    returns the IoU of candidate ``i`` with each of the kept candidates. Ties in score
    keep the input order (stable sort).
    """
    kept: list[int] = []
    for i in np.argsort(-scores, kind="stable"):
        if len(kept) == n:
            break
        if not kept or iou_with(int(i), kept).max() <= thresh:
            kept.append(int(i))
    return np.asarray(kept, dtype=np.int64)


def _final_scores(scores: np.ndarray) -> np.ndarray:
    """float32 scores clipped to ``[MIN_SCORE, 1]``."""
    return np.clip(scores, MIN_SCORE, 1.0).astype(np.float32)


def box_proposals(image: np.ndarray, n: int, method: str = "selective_search", *,
                  min_size: int = 8, seed: int = 0, **params) -> tuple[np.ndarray, np.ndarray]:
    """Scored box proposals of one image (FC Sec. 5; Pinheiro & Collobert Sec. 3.2 SP-bb).

    Boxes are clipped to the image, those narrower or shorter than ``min_size`` pixels
    are dropped, then the best-scored are kept greedily, skipping any box whose IoU
    (:func:`weakseg.metrics.box_iou`) with a kept one exceeds :data:`DUPLICATE_IOU`.

    Args:
        image: RGB ``uint8`` ``(H, W, 3)``.
        n: at most this many proposals (30 for Foreground Clustering).
        method: a key of :data:`BOX_PROPOSALS`.
        min_size: minimum box width and height, in pixels.
        seed: seeds the C library's ``rand()`` (with ``seed + 1``), the random source of
            OpenCV's selective search ranking, right before the method runs; the same
            image, parameters and seed give the same proposals. ``cv2.setRNGSeed`` has
            no effect on selective search.
        **params: keyword arguments of the method (from config).

    Returns:
        ``boxes`` ``float32`` ``(N', 4)`` continuous corners inside ``[0, W] x [0, H]``
        and ``scores`` ``float32`` ``(N',)`` in (0, 1], descending, with ``N' <= n``.
    """
    if method not in BOX_PROPOSALS:
        raise ValueError(f"unknown box proposal method {method!r}; known: {sorted(BOX_PROPOSALS)}")
    check_rgb_image(image)
    _check_n(n)
    _LIBC.srand(ctypes.c_uint(int(seed) + 1))  # glibc treats srand(0) as srand(1); keep seeds distinct
    boxes, scores = BOX_PROPOSALS[method](image, n=n, min_size=min_size, **params)
    height, width = image.shape[:2]
    boxes = np.clip(boxes.reshape(-1, 4), 0.0, [width, height, width, height])
    big = (boxes[:, 2] - boxes[:, 0] >= min_size) & (boxes[:, 3] - boxes[:, 1] >= min_size)
    boxes, scores = boxes[big], np.asarray(scores, dtype=np.float64)[big]
    keep = _greedy_unique(scores, n, lambda i, kept: box_iou(boxes[i:i + 1], boxes[kept])[0])
    return boxes[keep].reshape(-1, 4).astype(np.float32), _final_scores(scores[keep])


# --------------------------------------------------------------------------
# Segment methods: f(image, **params) -> (labels (H, W), members (R, K), scores (R,))
# --------------------------------------------------------------------------


class _MergeRecorder:
    """``merge_func`` of :func:`skimage.graph.merge_hierarchical` that records the hierarchy.

    Keeps the mean-colour node attributes of :func:`skimage.graph.rag_mean_color` up to
    date and, per merge, the member superpixels of the new region and the merge weight.
    Node attribute ``"region"`` is the index of the node's current region in
    ``members``; regions ``0..K-1`` are the superpixels.
    """

    def __init__(self, rag: skimage.graph.RAG) -> None:
        self.members: list[list[int]] = [list(rag.nodes[v]["labels"]) for v in sorted(rag.nodes)]
        self.birth = [0.0] * len(self.members)
        self.death = [np.inf] * len(self.members)
        for v in rag.nodes:
            rag.nodes[v]["region"] = v

    def __call__(self, rag: skimage.graph.RAG, src: int, dst: int) -> None:
        weight = float(rag[src][dst]["weight"])
        a, b = rag.nodes[src], rag.nodes[dst]
        self.death[a["region"]] = self.death[b["region"]] = weight
        self.members.append(list(a["labels"]) + list(b["labels"]))
        self.birth.append(weight)
        self.death.append(np.inf)
        b["region"] = len(self.members) - 1
        b["total color"] = b["total color"] + a["total color"]
        b["pixel count"] = b["pixel count"] + a["pixel count"]
        b["mean color"] = b["total color"] / b["pixel count"]


def _mean_colour_distance(rag: skimage.graph.RAG, src: int, dst: int, nbr: int) -> dict[str, float]:
    """``weight_func`` of the merge: distance between the merged region's and ``nbr``'s mean colours."""
    return {"weight": float(np.linalg.norm(rag.nodes[dst]["mean color"] - rag.nodes[nbr]["mean color"]))}


def hierarchical_merge(image: np.ndarray, *, scale: float = 100.0, sigma: float = 0.8,
                       min_size: int = 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Segments of a greedy merge hierarchy of superpixels, scored by lifetime.

    A stand-in for MCG (Pinheiro & Collobert Sec. 3.2, SP-seg) built like selective
    search's grouping (Uijlings et al. 2013, Sec. 3.1): Felzenszwalb superpixels
    (``scale``, ``sigma``, ``min_size``) are merged, most similar adjacent pair first,
    until one region is left (:func:`skimage.graph.merge_hierarchical` on
    :func:`skimage.graph.rag_mean_color`); the dissimilarity of two regions is the
    Euclidean distance of their mean CIELab colours. Every region of the hierarchy except
    the root (the whole image) is a candidate.

    Score: the region's lifetime in the hierarchy, ``death - birth``, where ``birth`` is
    the dissimilarity at which the region was formed (0 for a superpixel) and ``death``
    the one at which it was merged into a larger region: a region that is uniform inside
    and contrasts with its surroundings lives long (the stability criterion of MSER,
    Matas et al. 2002, on a region hierarchy). Lifetimes are divided by the image's
    largest one and floored at :data:`MIN_SCORE` (merging by mean colour is not
    monotone, so a lifetime can be negative). A substitute for MCG's learned ranking.

    Returns:
        ``labels`` ``int32`` ``(H, W)`` superpixels ``0..K-1``; ``members`` ``bool``
        ``(R, K)``, region ``r`` being the union of superpixels ``members[r]``; ``scores``
        float64 ``(R,)`` in (0, 1].
    """
    labels = segment(image, "felzenszwalb", scale=scale, sigma=sigma, min_size=min_size)
    k = int(labels.max()) + 1
    if k == 1:
        return labels, np.zeros((0, 1), dtype=bool), np.zeros(0)
    rag = skimage.graph.rag_mean_color(skimage.color.rgb2lab(image), labels, mode="distance")
    recorder = _MergeRecorder(rag)
    skimage.graph.merge_hierarchical(labels, rag, thresh=np.inf, rag_copy=False, in_place_merge=True,
                                     merge_func=recorder, weight_func=_mean_colour_distance)
    lifetime = np.asarray(recorder.death) - np.asarray(recorder.birth)
    candidates = np.isfinite(lifetime)  # drops the root, which is never merged
    members = np.zeros((len(recorder.members), k), dtype=bool)
    for r, labs in enumerate(recorder.members):
        members[r, labs] = True
    lifetime = lifetime[candidates]
    scores = lifetime / max(float(lifetime.max(initial=0.0)), 1e-12)
    return labels, members[candidates], np.clip(scores, MIN_SCORE, 1.0)


SEGMENT_PROPOSALS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray, np.ndarray]]] = {
    "hierarchical_merge": hierarchical_merge,
}
"""Name -> ``f(image, **params) -> (labels (H, W), members (R, K) bool, scores (R,))``:
every candidate segment is a union of the ``K`` base regions of ``labels``."""


def segment_proposals(image: np.ndarray, n: int, method: str = "hierarchical_merge",
                      **params) -> tuple[np.ndarray, np.ndarray]:
    """Scored segment proposals of one image (Pinheiro & Collobert Sec. 3.2, SP-seg).

    The best-scored candidates are kept greedily, skipping any whose mask IoU with a kept
    one exceeds :data:`DUPLICATE_IOU` (computed from base-region areas). Deterministic.

    Args:
        image: RGB ``uint8`` ``(H, W, 3)``.
        n: at most this many proposals.
        method: a key of :data:`SEGMENT_PROPOSALS`.
        **params: keyword arguments of the method (from config).

    Returns:
        ``masks`` ``bool`` ``(N', H, W)`` and ``scores`` ``float32`` ``(N',)`` in (0, 1],
        descending, with ``N' <= n``.
    """
    if method not in SEGMENT_PROPOSALS:
        raise ValueError(f"unknown segment proposal method {method!r}; known: {sorted(SEGMENT_PROPOSALS)}")
    check_rgb_image(image)
    _check_n(n)
    labels, members, scores = SEGMENT_PROPOSALS[method](image, **params)
    area = np.bincount(labels.ravel(), minlength=members.shape[1]).astype(np.float64)
    region_area = members @ area

    def iou_with(i: int, kept: list[int]) -> np.ndarray:
        inter = (members[kept] & members[i]) @ area
        return inter / (region_area[kept] + region_area[i] - inter)

    keep = _greedy_unique(np.asarray(scores, dtype=np.float64), n, iou_with)
    masks = members[keep][:, labels]  # (N', H, W): base region -> member or not
    return masks.astype(bool), _final_scores(np.asarray(scores, dtype=np.float64)[keep])
