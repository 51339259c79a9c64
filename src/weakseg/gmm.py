"""Colour Gaussian mixture models: the appearance terms of GrabCut-style segmentation.

Shared by FST motion segmentation (:mod:`weakseg.preprocess.motion`; Papazoglou &
Ferrari, ICCV 2013, Sec. 4) and M-CNN label inference and co-localization (Tokmakov et
al., ECCV 2016, Sec. 3.2, 4.2, 4.5), which all follow GrabCut (Rother et al., SIGGRAPH
2004): RGB colours, 5 full-covariance components per model.

One representation, :class:`ColourGMM` (a batch of M mixtures, evaluated by
:meth:`ColourGMM.nll`), and two ways to fit it:

* :func:`fit_gmm` -- one mixture by EM (scikit-learn, k-means++ initialisation) on a
  subsample of the pixels; per-sample weights by weighted resampling. FST and
  co-localization use it.
* GrabCut's hard EM over sufficient statistics, for many related models at once: every
  pixel belongs to one component (k-means at the start, :func:`kmeans_components`, then
  its most likely component under the current model, GrabCut Sec. 3 step 1);
  :func:`component_stats` sums count, colour and colour outer product per (group,
  component) -- a group being e.g. a frame -- and :meth:`ComponentStats.mix` combines the
  groups with any ``(M, G)`` weight matrix into M models at the cost of a matrix product
  (GrabCut step 2). This is how M-CNN (Sec. 4.2, "following [14]") learns the models of
  every frame of a batch from all its frames weighted by temporal distance
  (:func:`temporal_weights`), at every SGD step, without re-running EM.

Conventions: colours float RGB in [0, 1], last axis 3 (any float ``(..., 3)`` works);
``reg_covar`` (1e-3, scikit-learn's value as FST used it) is added to every covariance's
diagonal; components that received no pixels get weight 0 (log weight -inf).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

N_COMPONENTS = 5     # GrabCut's K
REG_COVAR = 1e-3     # added to covariance diagonals (colours in [0, 1])
_LOG_2PI = np.log(2.0 * np.pi)


@dataclass(frozen=True)
class ColourGMM:
    """M Gaussian mixtures of C full-covariance components over D-dimensional colours.

    Attributes:
        log_weights: float ``(M, C)`` log mixing weights (-inf for an empty component).
        means: float ``(M, C, D)``.
        precision_chol: float ``(M, C, D, D)``, upper-triangular P with ``P P^T`` = the
            inverse covariance (scikit-learn's ``precisions_cholesky_``).
    """

    log_weights: np.ndarray
    means: np.ndarray
    precision_chol: np.ndarray

    @property
    def n_models(self) -> int:
        return self.means.shape[0]

    def component_log_prob(self, colours: np.ndarray) -> np.ndarray:
        """``log pi_c + log N(z | mu_c, Sigma_c)`` of each sample under each component of its model.

        Args:
            colours: float ``(M, N, D)``: N samples per model (``(N, D)`` when M = 1).

        Returns:
            float ``(M, C, N)``.
        """
        colours = np.asarray(colours, dtype=np.float64)
        if colours.ndim == 2:
            colours = colours[None]
        m, c, d = self.means.shape
        if colours.ndim != 3 or colours.shape[0] != m or colours.shape[2] != d:
            raise ValueError(f"colours must have shape ({m}, N, {d}) (one row of samples per model); "
                             f"got {colours.shape}")
        # The operations and their order are scikit-learn's (``_estimate_log_gaussian_prob``),
        # so a model from fit_gmm scores exactly as ``GaussianMixture.score_samples``.
        log_det = np.sum(np.log(np.diagonal(self.precision_chol, axis1=2, axis2=3)), axis=2)  # (M, C)
        out = np.empty((m, c, colours.shape[1]))
        for k in range(c):
            prec = self.precision_chol[:, k]                                 # (M, D, D)
            y = colours @ prec - (self.means[:, k, None, :] @ prec)          # (M, N, D)
            sq = y[..., 0] ** 2
            for a in range(1, d):
                sq += y[..., a] ** 2
            out[:, k] = -0.5 * (d * _LOG_2PI + sq) + log_det[:, k, None]
        return out + self.log_weights[:, :, None]

    def nll(self, colours: np.ndarray) -> np.ndarray:
        """Negative log-likelihood of each sample under its model: float ``(M, N)`` (see
        :meth:`component_log_prob` for ``colours``)."""
        return mixture_nll(self.component_log_prob(colours))


def mixture_nll(component_log_prob: np.ndarray) -> np.ndarray:
    """``-log sum_c exp(component_log_prob[:, c])``: float ``(M, N)`` from ``(M, C, N)``.

    The log1p form of ``scipy.special.logsumexp`` (and scikit-learn's), with the same
    result to the last bit, at less than half its cost on these shapes.
    """
    a = np.asarray(component_log_prob)
    if a.ndim != 3:
        raise ValueError(f"component_log_prob must have shape (M, C, N); got {a.shape}")
    amax = a.max(axis=1, keepdims=True)
    is_max = a == amax
    count = is_max.sum(axis=1, keepdims=True, dtype=a.dtype)
    terms = np.exp(a - np.where(np.isfinite(amax), amax, 0.0))
    terms[is_max] = 0.0
    rest = terms.sum(axis=1, keepdims=True)
    rest = np.where(rest == 0, rest, rest / count)
    return -(np.log1p(rest) + np.log(count) + amax)[:, 0]


def _check_colours(colours: np.ndarray) -> np.ndarray:
    colours = np.asarray(colours, dtype=np.float64)
    if colours.ndim != 2 or colours.shape[1] != 3:
        raise ValueError(f"colours must have shape (N, 3) (RGB in [0, 1]); got {colours.shape}")
    return colours


def _sample(n: int, max_samples: int, sample_weight: np.ndarray | None, seed: int) -> np.ndarray | None:
    """Indices of at most ``max_samples`` of ``n`` samples (None = all): uniformly without
    replacement, or with probability proportional to ``sample_weight``, with replacement."""
    if sample_weight is None and n <= max_samples:
        return None
    rng = np.random.default_rng(seed)
    if sample_weight is None:
        return rng.choice(n, max_samples, replace=False)
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n,) or np.any(w < 0) or not np.isfinite(w).all() or w.sum() <= 0:
        raise ValueError(f"sample_weight must be ({n},) finite, non-negative, not all 0; got shape {w.shape}")
    return rng.choice(n, max_samples, replace=True, p=w / w.sum())


def fit_gmm(colours: np.ndarray, sample_weight: np.ndarray | None = None, *, n_components: int = N_COMPONENTS,
            max_samples: int = 10000, seed: int = 0, reg_covar: float = REG_COVAR) -> ColourGMM:
    """One colour GMM fitted by EM (scikit-learn ``GaussianMixture``, full covariances, k-means++).

    Unweighted: fitted on all samples, or on ``max_samples`` drawn without replacement.
    Weighted: on ``max_samples`` drawn with replacement with probability proportional to
    ``sample_weight`` (a sample of weight 0 is never drawn). Deterministic given ``seed``.

    Args:
        colours: float ``(N, 3)``, N >= ``n_components``.
        sample_weight: optional float ``(N,)``, non-negative.

    Returns:
        :class:`ColourGMM` with M = 1.
    """
    colours = _check_colours(colours)
    if len(colours) < n_components:
        raise ValueError(f"colours: need at least n_components={n_components} samples; got {len(colours)}")
    chosen = _sample(len(colours), max_samples, sample_weight, seed)
    gmm = GaussianMixture(n_components, covariance_type="full", reg_covar=reg_covar,
                          init_params="k-means++", random_state=seed)
    gmm.fit(colours if chosen is None else colours[chosen])
    return ColourGMM(np.log(gmm.weights_)[None], gmm.means_[None], gmm.precisions_cholesky_[None])


def kmeans_components(colours: np.ndarray, n_components: int = N_COMPONENTS, *, seed: int = 0,
                      max_samples: int = 2000) -> np.ndarray:
    """GrabCut's initial component of every sample: k-means (scikit-learn, one k-means++ run
    on at most ``max_samples`` samples drawn with ``seed``), then the nearest centre.

    Args:
        colours: float ``(N, 3)``, N >= ``n_components``.

    Returns:
        int64 ``(N,)`` in ``0..n_components-1``.
    """
    colours = _check_colours(colours)
    if len(colours) < n_components:
        raise ValueError(f"colours: need at least n_components={n_components} samples; got {len(colours)}")
    chosen = _sample(len(colours), max_samples, None, seed)
    # one thread: on <= 2000 samples, OpenMP threads cost more than they save, and 30-100x more on a busy
    # machine (bench/bench_mcnn_labels.py: 0.6-2.1 s per call with the default threads vs 0.016-0.048 s)
    with threadpool_limits(1):
        km = KMeans(n_components, n_init=1, random_state=seed).fit(colours if chosen is None else colours[chosen])
        return km.predict(colours).astype(np.int64)


@dataclass(frozen=True)
class ComponentStats:
    """Sufficient statistics of hard-assigned samples per (group, component).

    Attributes:
        count: float ``(G, C)`` (sum of sample weights).
        total: float ``(G, C, D)`` sum of colours.
        outer: float ``(G, C, D, D)`` sum of colour outer products.
    """

    count: np.ndarray
    total: np.ndarray
    outer: np.ndarray

    def mix(self, weights: np.ndarray) -> ComponentStats:
        """Statistics of M weighted unions of the groups: model m = sum_g ``weights[m, g]`` group g.

        Args:
            weights: float ``(M, G)``, non-negative.
        """
        weights = np.asarray(weights, dtype=np.float64)
        if weights.ndim != 2 or weights.shape[1] != self.count.shape[0] or np.any(weights < 0):
            raise ValueError(f"weights must be non-negative of shape (M, {self.count.shape[0]}); got {weights.shape}")
        return ComponentStats(weights @ self.count, np.einsum("mg,gcd->mcd", weights, self.total),
                              np.einsum("mg,gcde->mcde", weights, self.outer))

    def gmm(self, reg_covar: float = REG_COVAR) -> ColourGMM:
        """Maximum-likelihood mixture of each group (GrabCut step 2), covariances + ``reg_covar`` I.

        Raises ValueError if a group has no samples at all.
        """
        totals = self.count.sum(axis=1)
        if np.any(totals <= 0):
            raise ValueError(f"groups {np.flatnonzero(totals <= 0).tolist()} have no samples; cannot fit a GMM")
        d = self.total.shape[2]
        safe = np.maximum(self.count, 1e-12)[..., None]
        mean = self.total / safe
        cov = self.outer / safe[..., None] - mean[..., :, None] * mean[..., None, :]
        cov = np.where((self.count > 0)[..., None, None], cov, 0.0) + reg_covar * np.eye(d)
        chol = np.linalg.cholesky(cov)                                        # lower L, cov = L L^T
        precision_chol = np.swapaxes(np.linalg.inv(chol), -1, -2)           # (L^-1)^T
        with np.errstate(divide="ignore"):
            log_weights = np.log(self.count / totals[:, None])
        return ColourGMM(log_weights, mean, precision_chol)


def component_stats(colours: np.ndarray, components: np.ndarray, groups: np.ndarray, n_groups: int,
                    n_components: int = N_COMPONENTS) -> ComponentStats:
    """:class:`ComponentStats` of samples with known component and group (vectorised ``bincount``).

    Args:
        colours: float ``(N, D)``.
        components: integer ``(N,)`` in ``0..n_components-1``.
        groups: integer ``(N,)`` in ``0..n_groups-1`` (e.g. the frame of each pixel).
    """
    colours = np.asarray(colours, dtype=np.float64)
    n, d = colours.shape
    if np.shape(components) != (n,) or np.shape(groups) != (n,):
        raise ValueError(f"components and groups must have shape ({n},); got {np.shape(components)}, "
                         f"{np.shape(groups)}")
    cells = n_groups * n_components
    index = np.asarray(groups, dtype=np.int64) * n_components + np.asarray(components, dtype=np.int64)
    if n and (index.min() < 0 or index.max() >= cells):
        raise ValueError(f"components must be in 0..{n_components - 1} and groups in 0..{n_groups - 1}")
    count = np.bincount(index, minlength=cells).astype(np.float64)
    total = np.stack([np.bincount(index, colours[:, a], minlength=cells) for a in range(d)], axis=1)
    outer = np.empty((cells, d, d))
    for a in range(d):
        for b in range(a, d):
            outer[:, a, b] = outer[:, b, a] = np.bincount(index, colours[:, a] * colours[:, b], minlength=cells)
    return ComponentStats(count.reshape(n_groups, n_components), total.reshape(n_groups, n_components, d),
                          outer.reshape(n_groups, n_components, d, d))


def temporal_weights(frame_numbers: np.ndarray) -> np.ndarray:
    """``w[t, s] = 1 / (1 + |f_t - f_s|)``: frame s's weight in frame t's appearance model.

    M-CNN Sec. 4.2 (following FST): the GMMs of frame t are learned from all frames of the
    batch, "weighting each of them inversely according to their distance from t". The
    paper gives no formula; the +1 gives the frame itself weight 1.

    Args:
        frame_numbers: integer ``(T,)``, the frames' positions in the shot.

    Returns:
        float ``(T, T)``.
    """
    f = np.asarray(frame_numbers)
    if f.ndim != 1 or not np.issubdtype(f.dtype, np.integer):
        raise ValueError(f"frame_numbers must be an integer array of shape (T,); got {f.dtype} {f.shape}")
    return 1.0 / (1.0 + np.abs(f[:, None] - f[None, :]).astype(np.float64))
