"""Variational Bayesian Gaussian mixture."""

import math
from numbers import Real

import numpy as np
from scipy.special import betaln, digamma, gammaln
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import (
    LOG_2PI,
    BaseMixture,
    _check_shape,
    log_det_cholesky,
    precision_cholesky_from_covariances,
    precisions_from_cholesky,
)
from .gaussian import _check_precision_matrix

__all__ = ["BayesianGaussianMixture"]


def _log_dirichlet_norm(concentration):
    return gammaln(np.sum(concentration)) - np.sum(gammaln(concentration))


def _log_wishart_norm(dof, log_det_precisions_chol, n_features):
    # the constant log(pi) term is left out, as in scikit-learn
    dof = np.asarray(dof, dtype=np.float64)
    return -(
        dof * log_det_precisions_chol
        + dof * n_features * 0.5 * math.log(2.0)
        + np.sum(gammaln(0.5 * (dof - np.arange(n_features)[:, np.newaxis])), axis=0)
    )


class BayesianGaussianMixture(BaseMixture):
    """Gaussian mixture fitted by variational inference.

    Same parameters, attributes and behaviour as
    :class:`sklearn.mixture.BayesianGaussianMixture` (scikit-learn 1.9): a
    Dirichlet-process (stick-breaking) or Dirichlet prior on the weights, a
    Gaussian prior on the means and a Wishart prior on the precisions. With
    more components than needed, the weights of the unneeded ones go to
    about zero. The E-step and the statistics of the next update are one
    fused, chunked numba pass over the data (shared with
    :class:`~clusterlab.GaussianMixture`).

    Parameters
    ----------
    n_components : int, default=1
        Upper bound on the number of components.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
    tol : float, default=1e-3
        Stop when the lower bound improves by less than this.
    reg_covar : float, default=1e-6
    max_iter : int, default=100
    n_init : int, default=1
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
    weight_concentration_prior_type : {'dirichlet_process', 'dirichlet_distribution'}, \
default='dirichlet_process'
    weight_concentration_prior : float or None, default=None
        ``1 / n_components`` when None.
    mean_precision_prior : float or None, default=None
        1 when None.
    mean_prior : array-like of shape (n_features,), default=None
        The data mean when None.
    degrees_of_freedom_prior : float or None, default=None
        ``n_features`` when None; must be greater than ``n_features - 1``.
    covariance_prior : float or array-like, default=None
        The data covariance (variance for diag/spherical) when None.
    random_state : int, RandomState instance or None, default=None
    warm_start : bool, default=False
    verbose : int, default=0
    verbose_interval : int, default=10

    Attributes
    ----------
    weights_, means_, covariances_, precisions_, precisions_cholesky_ : ndarray
        As in :class:`~clusterlab.GaussianMixture`.
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        Lower bound on the log evidence (up to a constant) of the best run.
    lower_bounds_ : list of float
    weight_concentration_prior_ : float
    weight_concentration_ : ndarray or tuple of two ndarrays
        Dirichlet parameters, or the two Beta parameters of each stick.
    mean_precision_prior_ : float
    mean_precision_ : ndarray of shape (n_components,)
    mean_prior_ : ndarray of shape (n_features,)
    degrees_of_freedom_prior_ : float
    degrees_of_freedom_ : ndarray of shape (n_components,) (a float for tied)
    covariance_prior_ : float or ndarray
    n_features_in_ : int

    Notes
    -----
    Time per iteration as :class:`~clusterlab.GaussianMixture` (O(n k d^2)
    for 'full'), plus O(k d^3) for the Cholesky factors; memory O(k d^2) per
    chunk of rows for the partial statistics, the model's k x d x d stacks and
    the initial (n, k) responsibilities (refused with a MemoryError before any
    work when they cannot fit the memory left).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import BayesianGaussianMixture
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [4, 2], [12, 4], [10, 7]], dtype=float)
    >>> bgm = BayesianGaussianMixture(n_components=2, random_state=42,
    ...                               init_params="random_from_data").fit(X)
    >>> bgm.weights_.shape
    (2,)
    """

    _parameter_constraints: dict = {
        **BaseMixture._parameter_constraints,
        "weight_concentration_prior_type": [
            StrOptions({"dirichlet_process", "dirichlet_distribution"})
        ],
        "weight_concentration_prior": [None, Interval(Real, 0.0, None, closed="neither")],
        "mean_precision_prior": [None, Interval(Real, 0.0, None, closed="neither")],
        "mean_prior": [None, "array-like"],
        "degrees_of_freedom_prior": [None, Interval(Real, 0.0, None, closed="neither")],
        "covariance_prior": [None, "array-like", Interval(Real, 0.0, None, closed="neither")],
    }

    _dtype_attributes = BaseMixture._dtype_attributes + ("mean_precision_", "mean_prior_",
                                                         "degrees_of_freedom_",
                                                         "covariance_prior_",
                                                         "weight_concentration_")

    def __init__(
        self,
        *,
        n_components=1,
        covariance_type="full",
        tol=1e-3,
        reg_covar=1e-6,
        max_iter=100,
        n_init=1,
        init_params="kmeans",
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=None,
        mean_precision_prior=None,
        mean_prior=None,
        degrees_of_freedom_prior=None,
        covariance_prior=None,
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
        self.weight_concentration_prior_type = weight_concentration_prior_type
        self.weight_concentration_prior = weight_concentration_prior
        self.mean_precision_prior = mean_precision_prior
        self.mean_prior = mean_prior
        self.degrees_of_freedom_prior = degrees_of_freedom_prior
        self.covariance_prior = covariance_prior
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval

    # --------------------------------------------------------- priors
    def _check_parameters(self, X):
        n_features = X.shape[1]
        X64 = np.asarray(X, dtype=np.float64)
        self.weight_concentration_prior_ = (
            1.0 / self.n_components if self.weight_concentration_prior is None
            else self.weight_concentration_prior)
        self.mean_precision_prior_ = (
            1.0 if self.mean_precision_prior is None else self.mean_precision_prior)
        if self.mean_prior is None:
            self.mean_prior_ = X64.mean(axis=0)
        else:
            self.mean_prior_ = check_array(self.mean_prior, dtype=[np.float64, np.float32],
                                           ensure_2d=False).astype(np.float64)
            _check_shape(self.mean_prior_, (n_features,), "means")
        if self.degrees_of_freedom_prior is None:
            self.degrees_of_freedom_prior_ = n_features
        elif self.degrees_of_freedom_prior > n_features - 1.0:
            self.degrees_of_freedom_prior_ = self.degrees_of_freedom_prior
        else:
            raise ValueError(
                f"The parameter 'degrees_of_freedom_prior' should be greater than "
                f"{n_features - 1}, but got {self.degrees_of_freedom_prior:.3f}."
            )
        kind = self.covariance_type
        if self.covariance_prior is None:
            if kind in ("full", "tied"):
                self.covariance_prior_ = np.atleast_2d(np.cov(X64.T))
            elif kind == "diag":
                self.covariance_prior_ = np.var(X64, axis=0, ddof=1)
            else:
                self.covariance_prior_ = float(np.var(X64, axis=0, ddof=1).mean())
        elif kind in ("full", "tied"):
            prior = check_array(self.covariance_prior, dtype=[np.float64, np.float32],
                                ensure_2d=False).astype(np.float64)
            _check_shape(prior, (n_features, n_features), f"{kind} covariance_prior")
            _check_precision_matrix(prior, kind)
            self.covariance_prior_ = prior
        elif kind == "diag":
            prior = check_array(self.covariance_prior, dtype=[np.float64, np.float32],
                                ensure_2d=False).astype(np.float64)
            _check_shape(prior, (n_features,), f"{kind} covariance_prior")
            if np.any(prior <= 0.0):
                raise ValueError(f"'{kind} precision' should be positive.")
            self.covariance_prior_ = prior
        else:
            prior = self.covariance_prior
            if not isinstance(prior, Real):
                raise ValueError(
                    "covariance_prior must be a positive float for covariance_type="
                    f"'spherical', got {prior!r}."
                )
            self.covariance_prior_ = float(prior)
        return {}

    # --------------------------------------------------------- updates
    def _initialize_from_stats(self, X, nk, means, covariances, checked):
        self._update(nk, means, covariances)

    def _m_step(self, nk, means, covariances):
        self._update(nk, means, covariances)

    def _update(self, nk, xk, sk):
        self._estimate_weights(nk)
        self._estimate_means(nk, xk)
        self._estimate_precisions(nk, xk, sk)

    def _estimate_weights(self, nk):
        if self.weight_concentration_prior_type == "dirichlet_process":
            tail = np.hstack((np.cumsum(nk[::-1])[-2::-1], 0))
            self.weight_concentration_ = (1.0 + nk, self.weight_concentration_prior_ + tail)
        else:
            self.weight_concentration_ = self.weight_concentration_prior_ + nk

    def _estimate_means(self, nk, xk):
        self.mean_precision_ = self.mean_precision_prior_ + nk
        self.means_ = (self.mean_precision_prior_ * self.mean_prior_
                       + nk[:, np.newaxis] * xk) / self.mean_precision_[:, np.newaxis]

    def _estimate_precisions(self, nk, xk, sk):
        beta0 = self.mean_precision_prior_
        diff = xk - self.mean_prior_
        kind = self.covariance_type
        if kind == "full":
            self.degrees_of_freedom_ = self.degrees_of_freedom_prior_ + nk
            cov = (self.covariance_prior_[np.newaxis]
                   + nk[:, np.newaxis, np.newaxis] * sk
                   + (nk * beta0 / self.mean_precision_)[:, np.newaxis, np.newaxis]
                   * diff[:, :, np.newaxis] * diff[:, np.newaxis, :])
            cov /= self.degrees_of_freedom_[:, np.newaxis, np.newaxis]
        elif kind == "tied":
            k = self.n_components
            self.degrees_of_freedom_ = self.degrees_of_freedom_prior_ + nk.sum() / k
            cov = (self.covariance_prior_ + sk * nk.sum() / k
                   + beta0 / k * ((nk / self.mean_precision_) * diff.T) @ diff)
            cov /= self.degrees_of_freedom_
        elif kind == "diag":
            self.degrees_of_freedom_ = self.degrees_of_freedom_prior_ + nk
            cov = self.covariance_prior_ + nk[:, np.newaxis] * (
                sk + (beta0 / self.mean_precision_)[:, np.newaxis] * diff**2)
            cov /= self.degrees_of_freedom_[:, np.newaxis]
        else:
            self.degrees_of_freedom_ = self.degrees_of_freedom_prior_ + nk
            cov = self.covariance_prior_ + nk * (
                sk + beta0 / self.mean_precision_ * np.mean(diff**2, axis=1))
            cov /= self.degrees_of_freedom_
        self.covariances_ = cov
        self.precisions_cholesky_ = precision_cholesky_from_covariances(
            cov, kind, self._fit_dtype)

    # --------------------------------------------------------- E-step terms
    def _estimate_log_weights(self):
        if self.weight_concentration_prior_type == "dirichlet_process":
            a, b = (np.asarray(v, dtype=np.float64) for v in self.weight_concentration_)
            digamma_sum = digamma(a + b)
            return (digamma(a) - digamma_sum
                    + np.hstack((0, np.cumsum(digamma(b) - digamma_sum)[:-1])))
        conc = np.asarray(self.weight_concentration_, dtype=np.float64)
        return digamma(conc) - digamma(np.sum(conc))

    def _log_const(self):
        n_features = self.means_.shape[1]
        dof = np.asarray(self.degrees_of_freedom_, dtype=np.float64)
        log_det = log_det_cholesky(self.precisions_cholesky_, self.covariance_type, n_features)
        log_lambda = n_features * math.log(2.0) + np.sum(
            digamma(0.5 * (dof - np.arange(n_features)[:, np.newaxis])), axis=0)
        mean_precision = np.asarray(self.mean_precision_, dtype=np.float64)
        const = (log_det - 0.5 * n_features * LOG_2PI - 0.5 * n_features * np.log(dof)
                 + 0.5 * (log_lambda - n_features / mean_precision))
        return self._estimate_log_weights() + const

    def _lower_bound(self, mean_log_norm, entropy_sum):
        n_features = self.mean_prior_.shape[0]
        dof = np.asarray(self.degrees_of_freedom_, dtype=np.float64)
        log_det = (log_det_cholesky(self.precisions_cholesky_, self.covariance_type,
                                    n_features) - 0.5 * n_features * np.log(dof))
        if self.covariance_type == "tied":
            log_wishart = self.n_components * float(
                np.sum(_log_wishart_norm(dof, log_det, n_features)))
        else:
            log_wishart = float(np.sum(_log_wishart_norm(dof, log_det, n_features)))
        if self.weight_concentration_prior_type == "dirichlet_process":
            log_norm_weight = -float(np.sum(betaln(*self.weight_concentration_)))
        else:
            log_norm_weight = float(_log_dirichlet_norm(self.weight_concentration_))
        return (-entropy_sum - log_wishart - log_norm_weight
                - 0.5 * n_features * float(np.sum(np.log(self.mean_precision_))))

    # --------------------------------------------------------- parameters
    def _get_parameters(self):
        return (self.weight_concentration_, self.mean_precision_, self.means_,
                self.degrees_of_freedom_, self.covariances_, self.precisions_cholesky_)

    def _set_parameters(self, params):
        (self.weight_concentration_, self.mean_precision_, self.means_,
         self.degrees_of_freedom_, self.covariances_, self.precisions_cholesky_) = params
        if self.weight_concentration_prior_type == "dirichlet_process":
            a, b = (np.asarray(v, dtype=np.float64) for v in self.weight_concentration_)
            stick = b / (a + b)
            weights = a / (a + b) * np.hstack((1, np.cumprod(stick[:-1])))
        else:
            weights = np.asarray(self.weight_concentration_, dtype=np.float64)
        self.weights_ = weights / np.sum(weights)
        self.precisions_ = precisions_from_cholesky(
            np.asarray(self.precisions_cholesky_), self.covariance_type)
