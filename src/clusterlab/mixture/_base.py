"""The EM / variational loop shared by GaussianMixture and BayesianGaussianMixture.

:class:`BaseMixture` owns validation, initialisation (with scikit-learn's use
of the random stream, so that the same ``random_state`` gives the same
starting point), the ``n_init`` / ``max_iter`` / ``tol`` / ``warm_start``
loop, convergence warnings, verbose output, prediction, scoring and
sampling. A subclass supplies a handful of methods:

``_check_parameters(X)``
    validate its own parameters against ``X``;
``_initialize_from_stats(X, nk, means, covariances, checked)``
    set the starting model from the first Gaussian estimates;
``_m_step(nk, means, covariances)``
    update the model from the Gaussian estimates of one pass;
``_log_const()``
    the part of each component's weighted log-probability that does not
    depend on ``x`` (``log w_k + log det U_k - d/2 log 2 pi`` for EM);
``_lower_bound(mean_log_norm, entropy_sum)``
    the quantity the loop maximises;
``_get_parameters()`` / ``_set_parameters(params)``.

Each EM iteration is one fused pass of :func:`clusterlab._kernels.mixture.gmm_pass`
over the data (E-step with the current model and the sufficient statistics of
the next M-step together), followed by a tiny O(k d^3) update in numpy; full
covariances on many features and few rows run the E-step and the statistics
over all rows by BLAS instead. The per-fit buffers and statistics are
:class:`._context._FitContext`.
"""

import contextlib
import math
import warnings
from abc import ABCMeta, abstractmethod
from numbers import Integral, Real
from time import time

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import _config
from .._validation import check_magnitude
from .._dask import is_dask_array, predict_blocks, warn_if_dask
from .._kernels import mixture as _kmix
from ._context import _FitContext, _plan_chunks  # noqa: F401 - the Dask EM imports both here

LOG_2PI = math.log(2.0 * math.pi)

_ILL_DEFINED_COVARIANCE = (
    "Fitting the mixture model failed because some components have ill-defined "
    "empirical covariance (for instance caused by singleton or collapsed samples). "
    "Try to decrease the number of components, increase reg_covar, or scale the "
    "input data."
)


def _check_shape(param, expected, name):
    if param.shape != expected:
        raise ValueError(
            f"The parameter '{name}' should have the shape of {expected}, but got "
            f"{param.shape}."
        )


# --------------------------------------------------------------------------
# Precision-Cholesky helpers (small k x d x d arrays; plain numpy / scipy)
# --------------------------------------------------------------------------


def precision_cholesky_from_covariances(covariances, covariance_type, dtype=np.float64):
    """Upper-triangular ``U`` with ``U U^T = inv(covariance)`` for each component.

    Raises ``ValueError`` when a covariance is not positive definite.
    """
    message = _ILL_DEFINED_COVARIANCE
    if dtype == np.float32:
        message += (" The numerical accuracy can also be improved by passing float64 "
                    "data instead of float32.")
    if covariance_type in ("full", "tied"):
        covs = np.asarray(covariances, dtype=np.float64)
        covs = np.ascontiguousarray(covs if covariance_type == "full" else covs[np.newaxis])
        out = np.empty_like(covs)
        if covs.shape[-1] >= _config.MIXTURE_LAPACK_MIN_FEATURES:
            _lapack_precision_cholesky(covs, out, message)
        else:
            _stacked_precision_cholesky(covs, out, message)
        return out if covariance_type == "full" else out[0]
    covariances = np.asarray(covariances, dtype=np.float64)
    if np.any(covariances <= 0.0) or not np.all(np.isfinite(covariances)):
        raise ValueError(message)
    return 1.0 / np.sqrt(covariances)


@contextlib.contextmanager
def _load_read_once(n_features):
    """On as many features as make the passes (``MIXTURE_WIDE_BLAS_MIN_FEATURES``)
    or the factorisations (``MIXTURE_LAPACK_MIN_FEATURES``) size BLAS by the
    free cores: :func:`clusterlab._config.one_load_reading`, and numpy's own
    BLAS (where it is not the library of the passes' products) on one thread
    (:func:`clusterlab._config.one_blas_pool`: its spinning threads slowed the
    next pass 2x). Else nothing (nothing reads the load, BLAS runs on one
    thread beside the passes anyway)."""
    if n_features >= min(_config.MIXTURE_LAPACK_MIN_FEATURES,
                         _config.MIXTURE_WIDE_BLAS_MIN_FEATURES):
        with _config.one_load_reading(), _config.one_blas_pool():
            yield
    else:
        yield


def wide_factorization_blas(n_features):
    """:func:`clusterlab._config.factorization_blas` from
    ``MIXTURE_LAPACK_MIN_FEATURES`` features on (LAPACK's factorisations
    synchronise their BLAS threads; a busy core stalls them), else nothing (a
    small factorisation runs on one thread anyway, and reading the load costs
    ~4 ms)."""
    if n_features >= _config.MIXTURE_LAPACK_MIN_FEATURES:
        return _config.factorization_blas()
    return contextlib.nullcontext()


def _stacked_precision_cholesky(covs, out, message):
    """``out[k] = inv(L_k)^T`` for the lower Cholesky factors ``L_k`` of a stack
    of small covariances: numpy factorises the whole stack in one call and
    LAPACK's triangular inverse (``trtri``) inverts each factor. ~16 us for 5
    components on 2 features, 44 us for 16 on 20 (a jitted loop took 0.3 and
    27 us, and 0.4 s to compile on a new user's first mixture)."""
    from scipy.linalg import lapack

    try:  # not positive definite, or not finite (NaN fails the factorisation)
        lower = np.linalg.cholesky(covs)
    except np.linalg.LinAlgError:
        raise ValueError(message) from None
    if not np.all(np.isfinite(lower)):
        raise ValueError(message)
    for k in range(lower.shape[0]):
        inverse, info = lapack.dtrtri(lower[k], lower=1)
        if info != 0:
            raise ValueError(message)
        out[k] = inverse.T


def _lapack_precision_cholesky(covs, out, message):
    """:func:`_stacked_precision_cholesky` one component at a time through
    scipy's LAPACK (scikit-learn's computation): on many features the blocked factorisation is
    far faster than the kernel's loops (784 features, 10 components: 1.96 s ->
    ~0.1 s). The factor is inverted by LAPACK's triangular inverse (``trtri``:
    a third of the flops of scikit-learn's triangular solve against the
    identity; 784 features: 23 against 36 ms a component)."""
    from scipy.linalg import lapack

    # BLAS on the free cores only: a factorisation synchronises its threads at
    # every block, and with a busy core each sync waits for it (1500 x 256,
    # k=8, two busy processes beside it: 173 ms a factorisation on two
    # threads, ~2 ms on one; quiet, two threads are 1.3x faster from 256
    # features on)
    with _config.factorization_blas():
        for k, cov in enumerate(covs):
            # LAPACK's factorisation, as scipy.linalg.cholesky calls it but without
            # its scan of the input (784 features, two threads: 10.8 -> 6.8 ms a
            # component with the inverse); refused as there: not positive
            # definite (info > 0, LAPACK stops at a diagonal <= 0 or NaN) or not
            # finite
            lower, info = lapack.dpotrf(cov, lower=1, clean=1)
            if info != 0 or not np.isfinite(lower).all():
                raise ValueError(message)
            inverse, info = lapack.dtrtri(lower, lower=1, overwrite_c=1)
            if info != 0:  # a zero on the diagonal: not invertible
                raise ValueError(message)
            out[k] = inverse.T


def precision_cholesky_from_precisions(precisions, covariance_type):
    """Upper-triangular ``U`` with ``U U^T = precision`` (from user precisions)."""
    precisions = np.asarray(precisions, dtype=np.float64)
    if covariance_type in ("full", "tied"):
        precs = precisions if covariance_type == "full" else precisions[np.newaxis]
        out = np.empty_like(precs)
        with wide_factorization_blas(precs.shape[-1]):
            for k, prec in enumerate(precs):
                # reversing rows and columns turns a lower Cholesky factor into an upper one
                out[k] = np.linalg.cholesky(prec[::-1, ::-1])[::-1, ::-1]
        return out if covariance_type == "full" else out[0]
    return np.sqrt(precisions)


def precisions_from_cholesky(prec_chol, covariance_type):
    """``U U^T`` per component (full/tied), ``U**2`` otherwise."""
    if covariance_type == "full":
        if prec_chol.shape[-1] >= _config.MIXTURE_LAPACK_MIN_FEATURES:
            return np.matmul(prec_chol, np.swapaxes(prec_chol, 1, 2))
        return np.einsum("kij,klj->kil", prec_chol, prec_chol)
    if covariance_type == "tied":
        return prec_chol @ prec_chol.T
    return prec_chol**2


def log_det_cholesky(prec_chol, covariance_type, n_features):
    """``log det U_k`` per component (a scalar for tied)."""
    prec_chol = np.asarray(prec_chol, dtype=np.float64)
    if covariance_type == "full":
        return np.sum(np.log(np.diagonal(prec_chol, axis1=1, axis2=2)), axis=1)
    if covariance_type == "tied":
        return float(np.sum(np.log(np.diag(prec_chol))))
    if covariance_type == "diag":
        return np.sum(np.log(prec_chol), axis=1)
    return n_features * np.log(prec_chol)


def pack_model(means, prec_chol, covariance_type):
    """The kernel's ``(means, prec)`` layout (see :mod:`clusterlab._kernels.mixture`)."""
    means = np.ascontiguousarray(means, dtype=np.float64)
    prec_chol = np.asarray(prec_chol, dtype=np.float64)
    if covariance_type == "full":
        prec = prec_chol
    elif covariance_type == "tied":
        prec = prec_chol[np.newaxis]
    elif covariance_type == "diag":
        prec = (prec_chol**2)[:, np.newaxis, :]
    else:
        prec = (prec_chol**2)[:, np.newaxis, np.newaxis]
    return means, np.ascontiguousarray(prec)


class BaseMixture(DensityMixin, BaseEstimator, metaclass=ABCMeta):
    """Base class for mixture models: the shared EM/VI loop (not public)."""

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0.0, None, closed="left")],
        "reg_covar": [Interval(Real, 0.0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "init_params": [StrOptions({"kmeans", "random", "random_from_data", "k-means++"})],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "verbose_interval": [Interval(Integral, 1, None, closed="left")],
        "covariance_type": [StrOptions({"full", "tied", "diag", "spherical"})],
    }

    # ------------------------------------------------------------------ hooks
    @abstractmethod
    def _check_parameters(self, X):
        """Validate subclass parameters against X; return a dict of checked values."""

    @abstractmethod
    def _initialize_from_stats(self, X, nk, means, covariances, checked):
        """Set the starting model (nk/means/covariances may be None if not needed)."""

    @abstractmethod
    def _m_step(self, nk, means, covariances):
        """Update the model from one pass's Gaussian estimates."""

    @abstractmethod
    def _log_const(self):
        """(k,) float64: the x-independent part of each weighted log-probability."""

    @abstractmethod
    def _lower_bound(self, mean_log_norm, entropy_sum):
        """The objective after an M-step (log-likelihood or ELBO)."""

    @abstractmethod
    def _get_parameters(self):
        pass

    @abstractmethod
    def _set_parameters(self, params):
        pass

    def _needs_initial_resp(self, checked):
        return True

    def _initial_resp_needed(self):
        """Whether a fit from scratch starts from n x k responsibilities."""
        return True

    def _init_values(self, X):
        """What :meth:`_initialize` starts from (no shape checks there, as in
        scikit-learn: ``resp`` may have another number of components)."""
        return self._check_parameters(X)

    # ----------------------------------------------------------------- init
    def _initial_resp(self, X, random_state):
        """Initial responsibilities, consuming ``random_state`` as scikit-learn does."""
        n_samples = X.shape[0]
        k = self.n_components
        if self.init_params == "kmeans":
            labels = self._kmeans_labels(X, random_state)
            resp = np.zeros((n_samples, k))
            resp[np.arange(n_samples), labels] = 1.0
        elif self.init_params == "random":
            resp = random_state.uniform(size=(n_samples, k))
            resp /= resp.sum(axis=1)[:, np.newaxis]
        elif self.init_params == "random_from_data":
            resp = np.zeros((n_samples, k))
            indices = random_state.choice(n_samples, size=k, replace=False)
            resp[indices, np.arange(k)] = 1.0
        else:  # "k-means++"
            from ..cluster.kmeans import kmeans_plusplus

            resp = np.zeros((n_samples, k))
            _, indices = kmeans_plusplus(X, k, random_state=random_state)
            resp[indices, np.arange(k)] = 1.0
        return resp

    def _kmeans_labels(self, X, random_state):
        from ..cluster.kmeans import KMeans

        return KMeans(n_clusters=self.n_components, n_init=1,
                      random_state=random_state).fit(X).labels_

    def _initialize(self, X, resp):
        """Set the starting model from responsibilities ``resp`` (scikit-learn's
        private signature, kept so code written against it runs unchanged)."""
        resp = np.asarray(resp)
        ctx = self._context_of(X, resp.shape[1])
        checked = self._init_values(ctx.X)
        if self._needs_initial_resp(checked):
            nk, means, covariances = ctx.stats_from_resp(resp, self.reg_covar)
        else:
            nk = means = covariances = None
        self._initialize_from_stats(ctx.X, nk, means, covariances, checked)

    def _context_of(self, X, n_components):
        # the fit context of data handed to a private scikit-learn-style method
        X = np.asarray(X)
        self._fit_dtype = X.dtype
        return _FitContext(X, n_components, self.covariance_type)

    def _initialize_parameters(self, ctx, random_state, checked=None):
        """Initial model from ``random_state``; ``ctx`` may also be the data
        itself (scikit-learn's private ``_initialize_parameters(X, random_state)``)."""
        if not isinstance(ctx, _FitContext):
            ctx = self._context_of(ctx, self.n_components)
            random_state = check_random_state(random_state)
        if checked is None:
            checked = self._check_parameters(ctx.X)
        if self._needs_initial_resp(checked):
            resp = self._initial_resp(ctx.X, random_state)
            nk, means, covariances = ctx.stats_from_resp(resp, self.reg_covar)
        else:
            nk = means = covariances = None
        self._initialize_from_stats(ctx.X, nk, means, covariances, checked)

    # ------------------------------------------------------------- kernel io
    def _kernel_model(self):
        k, d = self.means_.shape
        expected = {"full": (k, d, d), "tied": (d, d), "diag": (k, d),
                    "spherical": (k,)}[self.covariance_type]
        if self.precisions_cholesky_.shape != expected:
            raise ValueError(
                f"covariance_type is {self.covariance_type!r}, but the fitted precisions have "
                f"shape {self.precisions_cholesky_.shape} (another covariance_type or "
                "n_components was set after fit): fit the model again.")
        means, prec = pack_model(self.means_, self.precisions_cholesky_, self.covariance_type)
        return means, prec, np.ascontiguousarray(self._log_const(), dtype=np.float64)

    def _em_pass(self, ctx):
        means, prec, log_const = self._kernel_model()
        if ctx.wide:  # the E-step and the statistics over all rows at once, by BLAS
            resp = ctx.resp_rows()
            log_norm, entropy = ctx.wide_estep(means, prec, log_const, resp)
            ctx.wide_stats(resp)
            return log_norm / ctx.X.shape[0], entropy
        _kmix.gmm_pass(ctx.X, _kmix.MODE_EM, ctx.cov_code, means, prec, log_const, ctx.shift,
                       ctx.rows, ctx.parallel, ctx.nk, ctx.sx, ctx.sxx, ctx.log_norm,
                       ctx.entropy)
        n_samples = ctx.X.shape[0]
        return float(ctx.log_norm.sum()) / n_samples, float(ctx.entropy.sum())

    def _score_rows(self, X, want_resp=False):
        """``(log p(x), labels, resp or None)`` for validated, contiguous X."""
        means, prec, log_const = self._kernel_model()
        n_samples, n_features = X.shape
        k = means.shape[0]  # the fitted components (n_components may have been set since)
        log_norm = np.empty(n_samples)
        labels = np.empty(n_samples, dtype=np.int64)
        resp = np.empty((n_samples if want_resp else 0, k))
        a = n_features if self.covariance_type == "full" else 1
        _kmix.gmm_pass(X, _kmix.MODE_SCORE, _kmix.COV_CODES[self.covariance_type], means, prec,
                       log_const, means.mean(axis=0), _config.MIXTURE_CHUNK_ROWS,
                       n_samples >= _config.MIXTURE_PARALLEL_MIN_ROWS, np.zeros((0, k)),
                       np.zeros((0, k, n_features)), np.zeros((0, k, a, n_features)),
                       log_norm=log_norm, labels=labels, resp_out=resp)
        return log_norm, labels, (resp if want_resp else None)

    # ------------------------------------------------------------------- fit
    def _validate_fit_data(self, X):
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
        check_magnitude(X, self)  # covariances are squares of the data's units
        if X.shape[0] < self.n_components:
            raise ValueError(
                "Expected n_samples >= n_components but got "
                f"n_components = {self.n_components}, n_samples = {X.shape[0]}; "
                "use fewer components or pass more samples."
            )
        self._check_model_memory(X.shape[1], X.shape[0])
        return np.ascontiguousarray(X)

    #: (d x d) stacks a fit holds at its peak for full covariances: covariances,
    #: precisions, their Cholesky factors, the previous model, the statistics and
    #: their temporaries (measured: ~6.5 at 500 components of 200 features)
    _STACKS_AT_PEAK = 8

    def _check_model_memory(self, n_features, n_samples=0):
        """A clear ``MemoryError`` before the fit when its k x d x d parameter
        stacks (full covariances; d x d for tied), or its initial responsibilities
        (n x k), cannot fit the memory this process may still allocate (numpy's
        bare one came after the work)."""
        from clusterlab import _config

        per = {"full": self.n_components * n_features ** 2, "tied": n_features ** 2}.get(
            self.covariance_type, self.n_components * n_features)
        need = 8 * per * self._STACKS_AT_PEAK
        resp = 8 * n_samples * self.n_components if self._initial_resp_needed() else 0
        name = type(self).__name__
        _config.refuse_beyond_memory(resp, lambda avail: (
            f"{name}(n_components={self.n_components}, init_params={self.init_params!r}) "
            f"starts from a {n_samples} x {self.n_components} matrix of responsibilities "
            f"({resp / 2**30:.1f} GiB), more than the {avail / 2**30:.1f} GiB this process may "
            "still allocate. Pass means_init (the responsibilities then come from the model), "
            "fewer components, or fit on a sample."), floor=_config.MEMORY_CHECK_FLOOR_BYTES)
        _config.refuse_beyond_memory(need, lambda avail: (
            f"{name}(n_components={self.n_components}, covariance_type="
            f"{self.covariance_type!r}) on {n_features} features holds "
            f"{self.n_components} x {n_features} x {n_features} parameter stacks: about "
            f"{need / 2**30:.1f} GiB at its peak, more than the {avail / 2**30:.1f} GiB this "
            "process may still allocate. Use covariance_type='diag' or 'spherical', fewer "
            "components, or fewer features (e.g. sklearn.decomposition.PCA)."),
            floor=_config.MEMORY_CHECK_FLOOR_BYTES)

    def fit(self, X, y=None):
        """Estimate the model parameters with the EM algorithm.

        The model is fitted ``n_init`` times and the run with the largest
        likelihood (or lower bound) is kept. Each run alternates E- and
        M-steps at most ``max_iter`` times, stopping when the objective
        changes by less than ``tol``; otherwise a ``ConvergenceWarning`` is
        raised. With ``warm_start=True`` a second call continues from the
        previous solution (``n_init`` is then ignored).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        self : object
            The fitted mixture.
        """
        self.fit_predict(X, y)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_predict(self, X, y=None):
        """Fit the model to ``X`` and return the most probable component of each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Component labels (the same as ``fit(X).predict(X)``).
        """
        warn_if_dask(X, type(self).__name__)
        X = self._validate_fit_data(X)
        self._fit_dtype = X.dtype
        with _load_read_once(X.shape[1]):
            checked = self._check_parameters(X)
            ctx = _FitContext(X, self.n_components, self.covariance_type)

            do_init = not (self.warm_start and hasattr(self, "converged_"))
            self._run_em(ctx, do_init,
                         lambda random_state: self._initialize_parameters(ctx, random_state,
                                                                          checked),
                         lambda: self._em_pass(ctx))
            labels = self._score_rows(X)[1]
        self._to_dtype(X.dtype)
        return labels

    def _run_em(self, ctx, do_init, initialize, em_pass):
        """:meth:`_em_restarts`; on many features (where the passes and the
        factorisations size BLAS by the free cores) with the load read once for
        the whole fit (:func:`clusterlab._config.one_load_reading`)."""
        with _load_read_once(self.n_features_in_):  # set by both callers before EM
            return self._em_restarts(ctx, do_init, initialize, em_pass)

    def _em_restarts(self, ctx, do_init, initialize, em_pass):
        """EM with ``n_init`` restarts, as scikit-learn's ``fit_predict`` (shared
        by in-memory and distributed fits, which differ only in their passes).

        ``initialize(random_state)`` sets initial parameters; ``em_pass()``
        runs one E-step over the data, filling ``ctx``'s statistics, and
        returns ``(mean_log_norm, entropy_sum)``. Sets the best run's
        parameters, ``n_iter_``, ``lower_bound_``, ``lower_bounds_`` and
        ``converged_`` (warning when it did not converge).
        """
        n_init = self.n_init if do_init else 1
        max_lower_bound = -np.inf
        best_lower_bounds = []
        best_params = None
        best_n_iter = 0
        self.converged_ = False
        random_state = check_random_state(self.random_state)
        if not do_init:
            self._to_float64()

        for init in range(n_init):
            self._print_verbose_msg_init_beg(init)
            if do_init:
                initialize(random_state)
            lower_bound = -np.inf if do_init else self.lower_bound_
            current_lower_bounds = []
            if self.max_iter == 0:
                best_params = self._get_parameters()
                best_n_iter = 0
                continue
            converged = False
            n_iter = 0
            for n_iter in range(1, self.max_iter + 1):
                prev_lower_bound = lower_bound
                mean_log_norm, entropy_sum = em_pass()
                nk, means, covariances = ctx.gaussian_parameters(self.reg_covar)
                self._m_step(nk, means, covariances)
                lower_bound = self._lower_bound(mean_log_norm, entropy_sum)
                current_lower_bounds.append(lower_bound)
                change = lower_bound - prev_lower_bound
                self._print_verbose_msg_iter_end(n_iter, change)
                if abs(change) < self.tol:
                    converged = True
                    break
            self._print_verbose_msg_init_end(lower_bound, converged)
            if lower_bound > max_lower_bound or max_lower_bound == -np.inf:
                max_lower_bound = lower_bound
                best_params = self._get_parameters()
                best_n_iter = n_iter
                best_lower_bounds = current_lower_bounds
                self.converged_ = converged

        if not self.converged_ and self.max_iter > 0:
            warnings.warn(
                "Best performing initialization did not converge. Try different init "
                "parameters, or increase max_iter, tol, or check for degenerate data.",
                ConvergenceWarning,
            )
        self._set_parameters(best_params)
        self.n_iter_ = best_n_iter
        self.lower_bound_ = max_lower_bound
        self.lower_bounds_ = best_lower_bounds

    def _to_float64(self):
        """Widen the fitted parameters before a warm-started fit continues."""
        self._set_parameters(tuple(_astype(p, np.float64) for p in self._get_parameters()))

    def _to_dtype(self, dtype):
        """Store the fitted arrays in the input's dtype (float32 in -> float32 out)."""
        for name in self._dtype_attributes:
            value = getattr(self, name, None)
            if value is not None:
                setattr(self, name, _astype(value, dtype))

    _dtype_attributes = ("weights_", "means_", "covariances_", "precisions_",
                         "precisions_cholesky_")

    # -------------------------------------------------------------- predict
    def _validate_predict_data(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        check_magnitude(X, self, tiny=False)
        return np.ascontiguousarray(X)

    def _out_dtype(self, X):
        """The dtype of per-row results: float32 when X and the model are both
        float32, else float64 (scikit-learn's arithmetic of the two)."""
        return np.result_type(X.dtype, self.means_.dtype)

    def score_samples(self, X):
        """Log of the probability density (or its variational estimate) at each sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        log_prob : ndarray of shape (n_samples,)
        """
        if is_dask_array(X):
            check_is_fitted(self)
            return predict_blocks(self, "score_samples", X)
        X = self._validate_predict_data(X)
        return self._score_rows(X)[0].astype(self._out_dtype(X), copy=False)

    def score(self, X, y=None):
        """Average log-likelihood of the samples of ``X`` under the model.

        Returns
        -------
        log_likelihood : float
            The mean of :meth:`score_samples` as scikit-learn computes it: in
            X's dtype (a float32 mean for float32 data), returned as a float.
        """
        X = self._validate_predict_data(X)
        return float(self._score_rows(X)[0].astype(self._out_dtype(X), copy=False).mean())

    def predict(self, X):
        """Most probable component of each sample.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        if is_dask_array(X):
            check_is_fitted(self)
            return predict_blocks(self, "predict", X)
        X = self._validate_predict_data(X)
        return self._score_rows(X)[1]

    def predict_proba(self, X):
        """Posterior probability of each component for each sample.

        Returns
        -------
        resp : ndarray of shape (n_samples, n_components)
        """
        if is_dask_array(X):
            check_is_fitted(self)
            return predict_blocks(self, "predict_proba", X)
        X = self._validate_predict_data(X)
        return self._score_rows(X, want_resp=True)[2].astype(self._out_dtype(X), copy=False)

    def sample(self, n_samples=1):
        """Draw samples from the fitted mixture.

        Samples come grouped by component, in component order (the number per
        component is drawn from a multinomial with the mixture weights), as in
        scikit-learn. The generator is ``check_random_state(self.random_state)``.

        Parameters
        ----------
        n_samples : int, default=1

        Returns
        -------
        X : ndarray of shape (n_samples, n_features)
            In the dtype of ``means_`` (float32 after a float32 fit; scikit-learn
            always returns float64).
        y : ndarray of shape (n_samples,), int64
            The component of each sample.
        """
        check_is_fitted(self)
        if not isinstance(n_samples, Integral) or n_samples < 1:
            raise ValueError(
                f"Invalid value for 'n_samples': {n_samples!r}. The sampling requires "
                "at least one sample; pass an integer >= 1."
            )
        _, n_features = self.means_.shape
        rng = check_random_state(self.random_state)
        weights = np.asarray(self.weights_, dtype=np.float64)
        counts = rng.multinomial(n_samples, weights / weights.sum())
        means = np.asarray(self.means_, dtype=np.float64)
        covs = np.asarray(self.covariances_, dtype=np.float64)
        parts = []
        for k, (mean, count) in enumerate(zip(means, counts)):
            if self.covariance_type == "full":
                parts.append(rng.multivariate_normal(mean, covs[k], int(count)))
            elif self.covariance_type == "tied":
                parts.append(rng.multivariate_normal(mean, covs, int(count)))
            else:
                parts.append(mean + rng.standard_normal(size=(int(count), n_features))
                             * np.sqrt(covs[k]))
        X = np.vstack(parts).astype(self.means_.dtype, copy=False)
        y = np.concatenate([np.full(int(c), k, dtype=np.int64)
                            for k, c in enumerate(counts)])
        return X, y

    # --------------------------------------------------------------- verbose
    def _print_verbose_msg_init_beg(self, n_init):
        if self.verbose >= 1:
            print(f"Initialization {n_init}")
        if self.verbose >= 2:
            self._init_prev_time = time()
            self._iter_prev_time = self._init_prev_time

    def _print_verbose_msg_iter_end(self, n_iter, diff_ll):
        if n_iter % self.verbose_interval == 0:
            if self.verbose == 1:
                print(f"  Iteration {n_iter}")
            elif self.verbose >= 2:
                now = time()
                print(f"  Iteration {n_iter}\t time lapse {now - self._iter_prev_time:.5f}s"
                      f"\t ll change {diff_ll:.5f}")
                self._iter_prev_time = now

    def _print_verbose_msg_init_end(self, lower_bound, converged):
        msg = "converged" if converged else "did not converge"
        if self.verbose == 1:
            print(f"Initialization {msg}.")
        elif self.verbose >= 2:
            elapsed = time() - self._init_prev_time
            print(f"Initialization {msg}. time lapse {elapsed:.5f}s\t lower bound "
                  f"{lower_bound:.5f}.")


def _astype(value, dtype):
    if isinstance(value, tuple):
        return tuple(_astype(v, dtype) for v in value)
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(dtype, copy=False)
    return value
