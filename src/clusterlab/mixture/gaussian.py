"""Gaussian mixture fitted by expectation-maximisation."""

import math

import numpy as np
from sklearn.utils import check_array

from clusterlab._dask import is_dask_array

from ._base import (
    LOG_2PI,
    BaseMixture,
    _check_shape,
    log_det_cholesky,
    precision_cholesky_from_covariances,
    precision_cholesky_from_precisions,
    precisions_from_cholesky,
    wide_factorization_blas,
)

__all__ = ["GaussianMixture"]


def _check_weights(weights, n_components):
    weights = check_array(weights, dtype=[np.float64, np.float32], ensure_2d=False)
    _check_shape(weights, (n_components,), "weights")
    if np.any(weights < 0.0) or np.any(weights > 1.0):
        raise ValueError(
            "The parameter 'weights' should be in the range [0, 1], but got max value "
            f"{weights.max():.5f}, min value {weights.min():.5f}."
        )
    atol = 1e-6 if weights.dtype == np.float32 else 1e-8
    if not np.allclose(abs(1.0 - float(np.sum(weights))), 0.0, atol=atol):
        raise ValueError(
            "The parameter 'weights' should be normalized, but got "
            f"sum(weights) = {np.sum(weights):.5f}; divide them by their sum."
        )
    return weights


def _check_means(means, n_components, n_features):
    means = check_array(means, dtype=[np.float64, np.float32], ensure_2d=False)
    _check_shape(means, (n_components, n_features), "means")
    return means


def _check_precision_matrix(precision, covariance_type):
    positive = False
    if np.allclose(precision, precision.T):
        with wide_factorization_blas(precision.shape[-1]):
            positive = bool(np.all(np.linalg.eigvalsh(precision) > 0))
    if not positive:
        raise ValueError(
            f"'{covariance_type} precision' should be symmetric, positive-definite."
        )


def _check_precisions(precisions, covariance_type, n_components, n_features):
    precisions = check_array(precisions, dtype=[np.float64, np.float32], ensure_2d=False,
                             allow_nd=covariance_type == "full")
    expected = {
        "full": (n_components, n_features, n_features),
        "tied": (n_features, n_features),
        "diag": (n_components, n_features),
        "spherical": (n_components,),
    }[covariance_type]
    _check_shape(precisions, expected, f"{covariance_type} precision")
    if covariance_type == "full":
        for prec in precisions:
            _check_precision_matrix(prec, covariance_type)
    elif covariance_type == "tied":
        _check_precision_matrix(precisions, covariance_type)
    elif np.any(precisions <= 0.0):
        raise ValueError(f"'{covariance_type} precision' should be positive.")
    return precisions


class GaussianMixture(BaseMixture):
    """Gaussian mixture model fitted by expectation-maximisation.

    Same parameters, attributes and behaviour as
    :class:`sklearn.mixture.GaussianMixture` (scikit-learn 1.9), computed by
    fused, chunked numba kernels: each EM iteration reads the data once (the
    E-step and the statistics of the next M-step together) and never builds
    an ``n_samples x n_components x n_features`` temporary.

    Parameters
    ----------
    n_components : int, default=1
        Number of mixture components.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        'full': each component has its own covariance matrix; 'tied': all
        share one; 'diag': each has a diagonal covariance; 'spherical': each
        has a single variance.
    tol : float, default=1e-3
        Stop when the average log-likelihood improves by less than this.
    reg_covar : float, default=1e-6
        Added to the diagonal of each covariance (keeps them positive).
    max_iter : int, default=100
        EM iterations per initialisation.
    n_init : int, default=1
        Initialisations; the best (highest likelihood) is kept.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
        How the initial responsibilities are chosen ('kmeans' runs
        :class:`clusterlab.KMeans` with ``n_init=1``).
    weights_init : array-like of shape (n_components,), default=None
    means_init : array-like of shape (n_components, n_features), default=None
    precisions_init : array-like, default=None
        Initial precisions (inverse covariances); shape depends on
        ``covariance_type`` as in scikit-learn.
    random_state : int, RandomState instance or None, default=None
    warm_start : bool, default=False
        Continue from the previous fit on the next call to ``fit``.
    verbose : int, default=0
    verbose_interval : int, default=10

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_ : ndarray
        (k, d, d) full, (d, d) tied, (k, d) diag, (k,) spherical.
    precisions_ : ndarray
        Inverses of ``covariances_`` (same shapes).
    precisions_cholesky_ : ndarray
        Upper-triangular Cholesky factors of ``precisions_`` (same shapes).
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        Average log-likelihood of the best run.
    lower_bounds_ : list of float
        Its value after each iteration of the best run.
    n_features_in_ : int
    feature_names_in_ : ndarray of str (only when X has string column names)

    Notes
    -----
    Time per EM iteration: O(n k d^2) for 'full', O(n d^2 + n k d) 'tied',
    O(n k d) 'diag'/'spherical', plus O(k d^3) for the Cholesky factors.
    Memory: O(k d^2) per chunk of rows for the partial statistics (bounded by
    ``clusterlab._config.WORKING_MEMORY_BYTES``), the model's k x d x d stacks
    (a few copies at the peak), and the initial (n, k) responsibilities
    unless ``weights_init``, ``means_init`` and ``precisions_init`` are all
    given; a fit whose stacks or responsibilities cannot fit the memory left
    is refused with a MemoryError before any work. ``predict_proba`` returns
    an (n, k) array. float32 data are read as float32 and accumulated in
    float64; the fitted arrays are float32.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import GaussianMixture
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]], dtype=float)
    >>> gm = GaussianMixture(n_components=2, init_params="random_from_data",
    ...                      random_state=0).fit(X)
    >>> np.sort(gm.means_[:, 0])
    array([ 1., 10.])
    """

    _parameter_constraints: dict = {
        **BaseMixture._parameter_constraints,
        "weights_init": ["array-like", None],
        "means_init": ["array-like", None],
        "precisions_init": ["array-like", None],
    }

    def __init__(
        self,
        n_components=1,
        *,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weights_init=None,
        means_init=None,
        precisions_init=None,
        random_state=None,
        warm_start=False,
        verbose=0,
        verbose_interval=10,
    ):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval

    # ------------------------------------------------------------- hooks
    def fit(self, X, y=None):
        """Estimate the model parameters with the EM algorithm (see :class:`BaseMixture`).

        A ``dask.array.Array`` is handed to :mod:`clusterlab.distributed` (EM
        with per-chunk sufficient statistics); the fitted model is plain numpy.
        """
        if is_dask_array(X):
            from clusterlab._dask import fit_gaussian_mixture

            return fit_gaussian_mixture(self, X)
        return super().fit(X, y)

    def fit_predict(self, X, y=None):
        """Fit and return the most probable component of each sample."""
        if is_dask_array(X):
            return self.fit(X).predict(X)
        return super().fit_predict(X, y)

    def _check_parameters(self, X):
        n_features = X.shape[1]
        checked = {"weights": None, "means": None, "precisions": None}
        if self.weights_init is not None:
            checked["weights"] = _check_weights(self.weights_init, self.n_components)
        if self.means_init is not None:
            checked["means"] = _check_means(self.means_init, self.n_components, n_features)
        if self.precisions_init is not None:
            checked["precisions"] = _check_precisions(
                self.precisions_init, self.covariance_type, self.n_components, n_features)
        return checked

    def _init_values(self, X):
        return {"weights": self.weights_init, "means": self.means_init,
                "precisions": self.precisions_init}

    def _needs_initial_resp(self, checked):
        return any(v is None for v in checked.values())

    def _initial_resp_needed(self):  # (before the parameters are checked)
        return any(getattr(self, name) is None
                   for name in ("weights_init", "means_init", "precisions_init"))

    def _initialize_from_stats(self, X, nk, means, covariances, checked):
        n_samples = X.shape[0]
        if checked["weights"] is None:
            weights = nk / n_samples
        else:
            weights = np.asarray(checked["weights"], dtype=np.float64)
        self.weights_ = weights
        self.means_ = (means if checked["means"] is None
                       else np.asarray(checked["means"], dtype=np.float64))
        if checked["precisions"] is None:
            self.covariances_ = covariances
            self.precisions_cholesky_ = precision_cholesky_from_covariances(
                covariances, self.covariance_type, X.dtype)
        else:
            precisions = np.asarray(checked["precisions"], dtype=np.float64)
            self.precisions_cholesky_ = precision_cholesky_from_precisions(
                precisions, self.covariance_type)
            if self.max_iter > 0:
                # the first M-step sets the covariances before anything reads
                # them (an inverse of 8 x 256 x 256 precisions: 20 ms)
                self.covariances_ = None
            elif self.covariance_type in ("full", "tied"):
                with wide_factorization_blas(precisions.shape[-1]):
                    self.covariances_ = np.linalg.inv(precisions)
            else:
                self.covariances_ = 1.0 / precisions

    def _m_step(self, nk, means, covariances):
        self.weights_ = nk / nk.sum()
        self.means_ = means
        self.covariances_ = covariances
        self.precisions_cholesky_ = precision_cholesky_from_covariances(
            covariances, self.covariance_type, self._fit_dtype)

    def _log_const(self):
        n_features = self.means_.shape[1]
        log_det = log_det_cholesky(self.precisions_cholesky_, self.covariance_type, n_features)
        with np.errstate(divide="ignore"):
            log_weights = np.log(np.asarray(self.weights_, dtype=np.float64))
        return log_weights + log_det - 0.5 * n_features * LOG_2PI

    def _lower_bound(self, mean_log_norm, entropy_sum):
        return mean_log_norm

    def _get_parameters(self):
        return (self.weights_, self.means_, self.covariances_, self.precisions_cholesky_)

    def _set_parameters(self, params):
        self.weights_, self.means_, self.covariances_, self.precisions_cholesky_ = params
        self.precisions_ = precisions_from_cholesky(
            np.asarray(self.precisions_cholesky_), self.covariance_type)

    # ------------------------------------------------------------ criteria
    def _n_parameters(self):
        """Number of free parameters of the model."""
        n_features = self.means_.shape[1]
        k = self.n_components
        cov_params = {
            "full": k * n_features * (n_features + 1) / 2.0,
            "diag": k * n_features,
            "tied": n_features * (n_features + 1) / 2.0,
            "spherical": k,
        }[self.covariance_type]
        return int(cov_params + n_features * k + k - 1)

    def bic(self, X):
        """Bayesian information criterion on ``X`` (lower is better).

        ``-2 log L + p log n`` with ``p = _n_parameters()``.

        Returns
        -------
        bic : float
        """
        n = np.shape(X)[0]
        return -2 * self.score(X) * n + self._n_parameters() * math.log(n)

    def aic(self, X):
        """Akaike information criterion on ``X`` (lower is better): ``-2 log L + 2 p``.

        Returns
        -------
        aic : float
        """
        n = np.shape(X)[0]
        return -2 * self.score(X) * n + 2 * self._n_parameters()
