"""Gaussian mixtures over dask arrays: EM with per-block sufficient statistics.

Each EM iteration is one pass over the row blocks: every block (on a worker)
runs the fused E-step + statistics kernel of the in-memory estimator,
:func:`clusterlab._kernels.mixture.gmm_pass`, with the current model and
returns its sums of responsibilities, first and second moments (about the global
data mean), log-likelihood and entropy. The client adds them in block order and
runs the estimator's own M-step (``_m_step``) inside the estimator's own EM
driver (``_run_em``: restarts, convergence test, verbose output, warning) --
the same code as in memory -- so, for the same initial parameters, the
log-likelihood sequence matches the in-memory fit to rounding.
"""

import numpy as np

from clusterlab._dask import forget_feature_names
from clusterlab.distributed import _utils


def _stat_shapes(n_components, n_features, covariance_type):
    a = n_features if covariance_type == "full" else 1
    if covariance_type == "tied":
        a = 0
    return a


def _em_block(xb, wb, index, cov_code, covariance_type, model, shift):
    """One block's E-step + sufficient statistics (reduced over its inner chunks in order)."""
    from clusterlab import _config
    from clusterlab._kernels.mixture import MODE_EM, gmm_pass
    from clusterlab.mixture._base import _plan_chunks

    _utils.ensure_numba_threads()
    xb = np.ascontiguousarray(xb)
    means, prec, log_const = model
    k, d = means.shape
    a = _stat_shapes(k, d, covariance_type)
    rows, n_chunks = _plan_chunks(xb.shape[0], k, d, covariance_type)
    nk = np.zeros((n_chunks, k))
    sx = np.zeros((n_chunks, k, d))
    sxx = np.zeros((n_chunks, k, a, d))
    ln = np.zeros(n_chunks)
    ent = np.zeros(n_chunks)
    if xb.shape[0]:
        gmm_pass(xb, MODE_EM, cov_code, means, prec, log_const, shift, rows,
                 xb.shape[0] >= _config.MIXTURE_PARALLEL_MIN_ROWS, nk, sx, sxx, ln, ent)
    return (_utils.ordered_sum(list(nk)), _utils.ordered_sum(list(sx)),
            _utils.ordered_sum(list(sxx)), float(_utils.ordered_sum(list(ln))),
            float(_utils.ordered_sum(list(ent))))


def _resp_block(xb, index, offsets, n_components, how, payload):
    """Initial responsibilities of one block (one-hot labels, chosen rows, or uniform draws)."""
    n = xb.shape[0]
    resp = np.zeros((n, n_components))
    if how == "labels":
        labels = payload[index]
        resp[np.arange(n), labels] = 1.0
    elif how == "rows":
        gidx, comp = payload
        lo, hi = offsets[index], offsets[index] + n
        mask = (gidx >= lo) & (gidx < hi)
        resp[gidx[mask] - lo, comp[mask]] = 1.0
    else:  # "random": hashed uniforms keyed by (row, component), normalised per row
        seed = payload
        gidx = (np.arange(n, dtype=np.int64)[:, None] + offsets[index]) * n_components \
            + np.arange(n_components)[None, :]
        resp = _utils.hashed_uniform(gidx, seed)
        resp /= resp.sum(axis=1)[:, None]
    return np.ascontiguousarray(resp)


def _stats_from_resp_block(xb, wb, index, cov_code, covariance_type, n_components, shift,
                           offsets, how, payload, labels_block=None):
    from clusterlab import _config
    from clusterlab._kernels.mixture import MODE_STATS, gmm_pass
    from clusterlab.mixture._base import _plan_chunks

    _utils.ensure_numba_threads()
    xb = np.ascontiguousarray(xb)
    d = xb.shape[1]
    if how == "labels":
        payload = {index: np.asarray(labels_block)}
    resp = _resp_block(xb, index, offsets, n_components, how, payload)
    a = _stat_shapes(n_components, d, covariance_type)
    rows, n_chunks = _plan_chunks(xb.shape[0], n_components, d, covariance_type)
    nk = np.zeros((n_chunks, n_components))
    sx = np.zeros((n_chunks, n_components, d))
    sxx = np.zeros((n_chunks, n_components, a, d))
    if xb.shape[0]:
        gmm_pass(xb, MODE_STATS, cov_code, np.zeros((n_components, d)),
                 np.zeros((n_components, 1, 1)), np.zeros(n_components), shift, rows,
                 xb.shape[0] >= _config.MIXTURE_PARALLEL_MIN_ROWS, nk, sx, sxx, resp_in=resp)
    return (_utils.ordered_sum(list(nk)), _utils.ordered_sum(list(sx)),
            _utils.ordered_sum(list(sxx)))


def _second_moment_block(xb, wb, index, shift):
    xs = np.asarray(xb, dtype=np.float64) - shift
    return xs.T @ xs


def _row_sum_block(xb, wb, index, shift):
    return (np.asarray(xb, dtype=np.float64) - shift).sum(axis=0)


def _make_context(X, estimator, shift, blocks):
    """A :class:`clusterlab.mixture._base._FitContext` whose statistics come from the blocks."""
    from clusterlab.mixture._base import _FitContext
    from clusterlab._kernels import mixture as _kmix

    class _DaskFitContext(_FitContext):
        def __init__(self):  # noqa: D107 - no in-memory buffers, no pass over X
            n_features = X.shape[1]
            k = estimator.n_components
            self.X = X
            self.covariance_type = estimator.covariance_type
            self.cov_code = _kmix.COV_CODES[self.covariance_type]
            self.shift = shift
            a = _stat_shapes(k, n_features, self.covariance_type)
            n_blocks = len(blocks[0])
            self.nk = np.zeros((n_blocks, k))
            self.sx = np.zeros((n_blocks, k, n_features))
            self.sxx = np.zeros((n_blocks, k, a, n_features))
            self.log_norm = np.zeros(n_blocks)
            self.entropy = np.zeros(n_blocks)
            self.eps = 10 * np.finfo(np.float64).eps  # as in memory: computed in float64
            self.wide = False  # the blocks' passes, never the in-memory BLAS path
            self._second_moment = None
            self._row_sum = None

        def _summed_once(self, name, block_fn):
            """``block_fn`` of every block summed in block order, kept as ``name``."""
            if getattr(self, name) is None:
                x_blocks, w_blocks, _ = blocks
                setattr(self, name, _utils.ordered_sum(_utils.map_blocks_compute(
                    block_fn, x_blocks, w_blocks, self.shift)))
            return getattr(self, name)

        def second_moment(self):
            return self._summed_once("_second_moment", _second_moment_block)

        def sx_total_rows(self):
            return self._summed_once("_row_sum", _row_sum_block)

        def fill(self, parts):
            for i, p in enumerate(parts):
                self.nk[i], self.sx[i], self.sxx[i] = p[0], p[1], p[2]
                if len(p) > 3:
                    self.log_norm[i], self.entropy[i] = p[3], p[4]

        def stats_from_resp(self, how, payload, reg_covar, labels=None):
            x_blocks, w_blocks, offsets = blocks
            k = estimator.n_components
            if how == "labels":
                label_blocks = list(labels.to_delayed().ravel())
                import dask

                tasks = [dask.delayed(_stats_from_resp_block, pure=False)(
                    xb, None, i, self.cov_code, self.covariance_type, k, self.shift, offsets,
                    how, None, lb) for i, (xb, lb) in enumerate(zip(x_blocks, label_blocks))]
                parts = list(dask.compute(*tasks))
            else:
                parts = _utils.map_blocks_compute(
                    _stats_from_resp_block, x_blocks, w_blocks, self.cov_code,
                    self.covariance_type, k, self.shift, offsets, how, payload)
            self.fill(parts)
            return self.gaussian_parameters(reg_covar)

    return _DaskFitContext()


def _initialize(estimator, X, ctx, random_state, checked):
    """Starting model, as the in-memory ``_initialize_parameters`` but over blocks."""
    if estimator._needs_initial_resp(checked):
        k = estimator.n_components
        how = estimator.init_params
        if how == "kmeans":
            from clusterlab.distributed.kmeans import fit_kmeans

            # KMeans(n_clusters=k, n_init=1, random_state=random_state) on the blocks
            km = fit_kmeans(X, None, n_clusters=k, init="k-means++", n_init=1, max_iter=300,
                            tol=1e-4, verbose=0, random_state=random_state)
            stats = ctx.stats_from_resp("labels", None, estimator.reg_covar,
                                        labels=km["labels_"])
        elif how == "random_from_data":
            indices = random_state.choice(X.shape[0], size=k, replace=False)
            stats = ctx.stats_from_resp("rows", (np.asarray(indices, dtype=np.int64),
                                                 np.arange(k)), estimator.reg_covar)
        elif how == "random":
            seed = int(random_state.randint(np.iinfo(np.int32).max))
            stats = ctx.stats_from_resp("random", seed, estimator.reg_covar)
        else:  # "k-means++": one data row per component, seeded by k-means|| + nearest row
            raise ValueError(
                "init_params='k-means++' is not available for dask input (it needs every "
                "row in memory); use init_params='kmeans' (distributed K-Means), "
                "'random_from_data' or 'random'."
            )
        nk, means, covariances = stats
    else:
        nk = means = covariances = None
    estimator._initialize_from_stats(X, nk, means, covariances, checked)


def fit_gaussian_mixture(estimator, X, y=None):
    """Fit ``estimator`` (a :class:`clusterlab.GaussianMixture`) on the dask array ``X``.

    The EM loop of the in-memory estimator (``n_init``, ``max_iter``, ``tol``,
    ``warm_start``, verbose output, ``ConvergenceWarning``), with the E-step and
    the sufficient statistics computed block by block on the workers.
    ``init_params='kmeans'`` (the default) initialises from the distributed
    K-Means (k-means|| seeding); ``'random_from_data'`` draws the same rows as in
    memory; ``'random'`` draws responsibilities keyed by row index (not the
    in-memory random stream); ``'k-means++'`` is refused with a ``ValueError``.
    ``weights_init``/``means_init``/``precisions_init`` are honoured: with all three
    given, the fit matches the in-memory one to rounding.

    Sets the same attributes as the in-memory fit (``weights_``, ``means_``,
    ``covariances_``, ``precisions_``, ``precisions_cholesky_``, ``converged_``,
    ``n_iter_``, ``lower_bound_``, ``lower_bounds_``, ``n_features_in_``), all
    numpy, in the dtype of ``X``.

    Notes
    -----
    One pass over the data per EM iteration, ``O(n k d^2)`` (full) spread over the
    workers; client memory ``O(n_blocks k d^2)``.
    """
    estimator._validate_params()
    X = _utils.check_dask_array(X, caller=type(estimator).__name__)
    if 0 in X.chunks[0] and X.shape[0] > 0:  # empty row blocks (rows filtered out): drop them
        X = X.rechunk((tuple(c for c in X.chunks[0] if c > 0), X.chunks[1]))
    n_samples = X.shape[0]
    if n_samples < 2:
        raise ValueError(
            f"Found array with {n_samples} sample(s) (shape={X.shape}) while a minimum of 2 is "
            f"required by {type(estimator).__name__}."
        )
    if n_samples < estimator.n_components:
        raise ValueError(
            "Expected n_samples >= n_components but got "
            f"n_components = {estimator.n_components}, n_samples = {n_samples}; "
            "use fewer components or pass more samples."
        )
    estimator._check_model_memory(X.shape[1])
    had_features = getattr(estimator, "n_features_in_", None)
    warm = estimator.warm_start and hasattr(estimator, "converged_")
    if warm and had_features is not None and had_features != X.shape[1]:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(estimator).__name__} is expecting "
            f"{had_features} features as input."
        )
    blocks = _utils.row_blocks(X)
    try:
        shift, _, _ = _utils.column_moments(X, blocks=blocks, caller=type(estimator).__name__)
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001
        _utils.warn_or_raise_compute(exc, "the first pass over the data")
    # a failure leaves the estimator as it was (unfitted, or its previous model):
    # the EM loop stores its attributes as it goes
    before = _utils.saved_state(estimator)
    estimator._fit_dtype = X.dtype
    estimator.n_features_in_ = X.shape[1]
    try:
        checked = estimator._check_parameters(X)
    except ValueError:
        _utils.restore_state(estimator, before)
        raise
    ctx = _make_context(X, estimator, np.ascontiguousarray(shift, dtype=np.float64), blocks)
    x_blocks, w_blocks, _ = blocks
    from clusterlab._kernels.mixture import COV_CODES

    cov_code = COV_CODES[estimator.covariance_type]

    def em_pass():
        model = estimator._kernel_model()
        parts = _utils.map_blocks_compute(_em_block, x_blocks, w_blocks, cov_code,
                                          estimator.covariance_type, model, ctx.shift)
        ctx.fill(parts)
        mean_log_norm = float(_utils.ordered_sum(list(ctx.log_norm))) / n_samples
        return mean_log_norm, float(_utils.ordered_sum(list(ctx.entropy)))

    try:
        estimator._run_em(ctx, not warm,
                          lambda random_state: _initialize(estimator, X, ctx, random_state,
                                                           checked),
                          em_pass)
    except Exception as exc:  # noqa: BLE001
        _utils.restore_state(estimator, before)
        if isinstance(exc, ValueError):
            raise
        _utils.warn_or_raise_compute(exc, "the distributed EM fit")
    forget_feature_names(estimator)
    estimator._to_dtype(X.dtype)
    return estimator
