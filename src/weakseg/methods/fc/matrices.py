"""The matrices and vectors of Foreground Clustering's objective (Sharma, Sec. 3-4, Eq. 7).

Every quadratic matrix here is symmetric positive semi-definite (PSD), so the relaxed
problem of :mod:`weakseg.methods.fc.problem` is a convex QP:

* :func:`discriminative_linear` / :func:`discriminative_kernel` -- the discriminative
  clustering matrix D of Eq. 4 (Bach & Harchaoui's DIFFRAC, ref. 2), used for superpixels
  (D_s) and boxes (D_b);
* :func:`similarity_laplacian` -- the normalised Laplacian L of Eq. 5
  (:func:`normalised_laplacian`) of the similarity weights :func:`similarity_weights`
  (also the graph on which the rounding's normalised cut, Sec. 8.2, is measured);
* :func:`histogram_matching` -- the foreground model F of Eq. 6, extended to N frames;
* :func:`saliency_cost` -- the linear cost s = -log(M) of Sec. 4.1;
* :func:`trace_normalise` -- the scaling the authors' code applies to every quadratic
  matrix before weighting them.

Arrays are ``float64``; n is the number of samples (superpixels or boxes) and d the
feature dimension.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.linalg
from scipy.sparse.csgraph import laplacian
from scipy.spatial.distance import cdist


def _symmetrise(a: np.ndarray) -> np.ndarray:
    return (a + a.T) / 2


def _check_beta(beta: float) -> float:
    if not np.isfinite(beta) or beta <= 0:
        raise ValueError(f"beta (the ridge regulariser of Eq. 1) must be a positive number; got {beta}")
    return float(beta)


def _check_matrix(a: np.ndarray, name: str, rows: int | None = None, cols: int | None = None) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] == 0 or (rows is not None and a.shape[0] != rows) \
            or (cols is not None and a.shape[1] != cols):
        want = f"({rows if rows is not None else 'n'}, {cols if cols is not None else 'd'})"
        raise ValueError(f"{name} must be a non-empty 2-D array of shape {want}; got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return a


def centring(n: int) -> np.ndarray:
    """The centring matrix Pi = I_n - 1 1' / n of Sec. 3, ``float64`` ``(n, n)``."""
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer; got {n}")
    n = int(n)
    return np.eye(n) - np.full((n, n), 1.0 / n)


def discriminative_linear(X: np.ndarray, beta: float) -> np.ndarray:
    """Discriminative clustering matrix of Eq. 4 for linear features.

    D = I_n - Xc (Xc' Xc + beta I_d)^-1 Xc' with Xc = Pi X, the centred features (Sec. 3:
    "we assume that the matrix X is centered"; centring absorbs the bias b of Eq. 1).
    When n < d it is computed through the Woodbury identity in its n x n form,
    D = beta (Xc Xc' + beta I_n)^-1; otherwise through the d x d system. Both are the
    same matrix. D is PSD with eigenvalues in (0, 1]; D 1 = 1 (the constant vector is
    not penalised beyond its norm -- :func:`discriminative_kernel` removes it).

    The authors' code scales the ridge with the number of samples (beta = n * lambda_b,
    lambda_b = 0.01); that choice is the caller's.

    Args:
        X: ``(n, d)`` features, one row per sample.
        beta: ridge regulariser beta > 0 of Eq. 1.

    Returns:
        ``float64`` ``(n, n)`` symmetric PSD matrix.
    """
    X = _check_matrix(X, "X")
    beta = _check_beta(beta)
    n, d = X.shape
    xc = X - X.mean(axis=0)
    if n < d:
        d_mat = beta * scipy.linalg.solve(xc @ xc.T + beta * np.eye(n), np.eye(n), assume_a="pos")
    else:
        d_mat = np.eye(n) - xc @ scipy.linalg.solve(xc.T @ xc + beta * np.eye(d), xc.T, assume_a="pos")
    return _symmetrise(d_mat)


def discriminative_kernel(K: np.ndarray, beta: float) -> np.ndarray:
    """Kernelised discriminative clustering matrix (Eq. 4 with a kernel, DIFFRAC ref. 2).

    D = beta Pi (Pi K Pi + beta I_n)^-1 Pi. With the linear kernel K = X X' this equals
    Pi discriminative_linear(X) Pi = discriminative_linear(X) - 1 1' / n: the same matrix
    with the constant direction projected out.

    Args:
        K: ``(n, n)`` symmetric PSD kernel (Gram) matrix, e.g. the chi-square kernel of
            dense-SIFT histograms (Sec. 5, "Features").
        beta: ridge regulariser beta > 0.

    Returns:
        ``float64`` ``(n, n)`` symmetric PSD matrix.
    """
    K = _check_matrix(K, "K")
    n = K.shape[0]
    if K.shape != (n, n):
        raise ValueError(f"K must be a square (n, n) kernel matrix; got shape {K.shape}")
    beta = _check_beta(beta)
    pi = centring(n)
    inner = scipy.linalg.solve(pi @ _symmetrise(K) @ pi + beta * np.eye(n), pi, assume_a="pos")
    return _symmetrise(beta * pi @ inner)


def similarity_weights(centroids: np.ndarray, colours: np.ndarray,
                       lambda_p: float = 0.001, lambda_c: float = 0.05) -> np.ndarray:
    """Similarity matrix W of Eq. 5 over all pairs of superpixels of ONE image.

    W_ab = exp(-lambda_p ||p_a - p_b||^2 - lambda_c ||c_a - c_b||^2) for a != b, and
    W_aa = 0 (a graph without self-loops, as in the normalised cut of ref. 41, which the
    rounding of Sec. 8.2 evaluates on W).

    Args:
        centroids: ``(n, 2)`` superpixel positions p in pixels, ``(x, y)``.
        colours: ``(n, 3)`` superpixel colour vectors c, as given: the caller passes the
            mean RGB in [0, 255] multiplied by a config scale factor (with lambda_c = 0.05
            on raw 0..255 values, colours differing by more than ~10 levels would be
            nearly unrelated).
        lambda_p, lambda_c: the paper's 0.001 and 0.05 (Sec. 3).

    Returns:
        ``float64`` ``(n, n)`` symmetric, zero diagonal, off-diagonal entries in (0, 1].
    """
    centroids = _check_matrix(centroids, "centroids", cols=2)
    colours = _check_matrix(colours, "colours", rows=centroids.shape[0], cols=3)
    if lambda_p < 0 or lambda_c < 0:
        raise ValueError(f"lambda_p and lambda_c must be >= 0; got {lambda_p}, {lambda_c}")
    exponent = lambda_p * cdist(centroids, centroids, "sqeuclidean") \
        + lambda_c * cdist(colours, colours, "sqeuclidean")
    w = np.exp(-exponent)
    np.fill_diagonal(w, 0.0)
    return w


def normalised_laplacian(W: np.ndarray) -> np.ndarray:
    """Normalised graph Laplacian of Eq. 5, L = I - Q^-1/2 W Q^-1/2, Q = diag(W 1).

    Computed by ``scipy.sparse.csgraph.laplacian(normed=True)``, which ignores W's
    diagonal (self-loops) and gives an isolated node (degree 0) an all-zero row and
    column, so that node is not penalised. L is PSD (eigenvalues in [0, 2]).

    Args:
        W: ``(n, n)`` symmetric non-negative weights.

    Returns:
        ``float64`` ``(n, n)`` symmetric PSD matrix.
    """
    W = _check_matrix(W, "W")
    if W.shape[0] != W.shape[1] or np.any(W < 0):
        raise ValueError(f"W must be a square non-negative weight matrix; got shape {W.shape}")
    return _symmetrise(laplacian(_symmetrise(W), normed=True))


def similarity_laplacian(centroids: np.ndarray, colours: np.ndarray,
                         lambda_p: float = 0.001, lambda_c: float = 0.05) -> np.ndarray:
    """L_s of Eq. 5 for one image: :func:`normalised_laplacian` of :func:`similarity_weights`
    (same arguments). Returns ``float64`` ``(n, n)`` symmetric PSD."""
    return normalised_laplacian(similarity_weights(centroids, colours, lambda_p, lambda_c))


def _frame_histogram_matrix(histogram: np.ndarray, index: int) -> np.ndarray:
    """H^i of Eq. 6: ``(B, n_i)`` bin fractions of the frame, from ``(n_i, B)`` counts."""
    h = _check_matrix(histogram, f"histograms[{index}]")
    if np.any(h < 0):
        raise ValueError(f"histograms[{index}] has negative bin counts")
    total = h.sum()
    if total <= 0:
        raise ValueError(f"histograms[{index}] is all zero; a frame must have pixels")
    return h.T / total


def histogram_matching(histograms: Sequence[np.ndarray]) -> np.ndarray:
    """Foreground model F of Eq. 6, extended to N frames (ref. 46).

    y' F y = sum over frame pairs i < j of ||H^i y^i - H^j y^j||^2, i.e.
    F = N blockdiag(H^i' H^i) - H' H with H = [H^1, ..., H^N], where H^i y^i is the colour
    histogram of frame i's foreground as a fraction of the frame's pixels (so frames of
    different sizes compare). F is PSD (a sum of squared norms); with N = 1 it is zero.

    Args:
        histograms: N arrays; ``histograms[i]`` is ``(n_i, B)`` per-superpixel bin counts
            of frame i (row j = histogram of superpixel j, e.g.
            ``SuperpixelStats.histogram`` with B = 7**3); all share B.

    Returns:
        ``float64`` ``(sum n_i, sum n_i)`` symmetric PSD matrix, frames stacked in order.
    """
    if len(histograms) == 0:
        raise ValueError("histograms must hold at least one frame")
    blocks = [_frame_histogram_matrix(h, i) for i, h in enumerate(histograms)]
    bins = {b.shape[0] for b in blocks}
    if len(bins) != 1:
        raise ValueError(f"all frames' histograms must have the same number of bins; got {sorted(bins)}")
    h_all = np.hstack(blocks)
    f = len(blocks) * scipy.linalg.block_diag(*[b.T @ b for b in blocks]) - h_all.T @ h_all
    return _symmetrise(f)


def saliency_cost(saliency: np.ndarray, eps: float = 1e-3) -> np.ndarray:
    """Linear saliency cost s = -log(M) of Sec. 4.1, with M clipped to [eps, 1].

    Args:
        saliency: normalised saliency M in [0, 1], any shape (per superpixel or per box).
        eps: floor on M so that s <= -log(eps) stays finite.

    Returns:
        ``float64`` array of ``saliency``'s shape, values in [0, -log(eps)].
    """
    m = np.asarray(saliency, dtype=np.float64)
    if not 0 < eps <= 1:
        raise ValueError(f"eps must be in (0, 1]; got {eps}")
    if np.any(np.isnan(m)):
        raise ValueError("saliency contains NaN")
    return -np.log(np.clip(m, eps, 1.0))


def trace_normalise(A: np.ndarray) -> np.ndarray:
    """A / trace(A), as the authors' code scales every quadratic matrix; a zero trace
    (e.g. F of a single frame) returns A unchanged."""
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be a square matrix; got shape {A.shape}")
    trace = np.trace(A)
    return A if trace == 0 else A / trace
