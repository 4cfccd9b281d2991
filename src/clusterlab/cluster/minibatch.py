"""Mini-batch K-Means with scikit-learn's API, on numba kernels.

The estimator reads its data only through row gathers and row chunks, so a
read-only :class:`numpy.memmap` far larger than memory can be fitted: the
private memory it allocates is O(batch_size * n_features + init_size *
n_features + n_clusters * n_features) plus a few length-``n_samples``
vectors (sample weights, the sampling distribution, ``labels_``).
"""

import mmap
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from clusterlab import _config
from clusterlab._core import kmeans_setup as _setup
from clusterlab._kernels import minibatch as _k
from clusterlab._kernels.distances import all_finite_flat
from clusterlab._validation import (canonical_sparse, check_finite, check_magnitude,
                                    check_n_clusters, check_sample_weight, check_table_fits,
                                    check_weighted_draw)
from clusterlab._dask import is_dask_array, predict_blocks, warn_if_dask

__all__ = ["MiniBatchKMeans"]

def _kmeans_plusplus():
    """The project's greedy k-means++ (``clusterlab.cluster.kmeans``)."""
    from clusterlab.cluster.kmeans import kmeans_plusplus

    return kmeans_plusplus


def _is_memmap(X):
    """True for a :class:`numpy.memmap` or a view of one."""
    obj = X
    for _ in range(32):
        if isinstance(obj, (np.memmap, mmap.mmap)):
            return True
        obj = getattr(obj, "base", None)
        if obj is None:
            return False
    return False


def _is_arraylike_init(init):
    return not isinstance(init, str) and not callable(init) and hasattr(init, "__len__")


class _Rows:
    """Read access to a validated ``X`` by row gathers and row chunks.

    ``kind`` is ``"dense"`` for an in-memory, writable, C-contiguous array of
    the working dtype (chunks are views); ``"mapped"`` for a memory map, a
    read-only array or another dtype (chunks and gathers are copies of a few
    rows, never of the whole array); ``"sparse"`` for CSR (rows densified).
    """

    def __init__(self, X, dtype):
        self.X = X
        self.dtype = np.dtype(dtype)
        self.n, self.d = X.shape
        if sp.issparse(X):
            self.kind = "sparse"
        elif (not _is_memmap(X) and X.dtype == self.dtype and X.flags.c_contiguous
              and X.flags.writeable):
            self.kind = "dense"
        else:
            self.kind = "mapped"
        budget = None
        if self.kind != "dense":
            # chunks of a memory map (or sparse rows) are private copies:
            # keep them small, the passes over a file are I/O-bound anyway
            budget = _config.WORKING_MEMORY_BYTES // 8
        self.chunk = _config.chunk_rows(max(self.d, 1), self.dtype.itemsize, budget=budget)

    def take(self, idx):
        """Rows ``idx`` (in that order) as a new C-contiguous array."""
        idx = np.asarray(idx, dtype=np.intp)
        if self.kind == "dense":
            return self.X[idx]
        if self.kind == "sparse":
            return np.ascontiguousarray(self.X[idx].toarray(), dtype=self.dtype)
        # read the file in increasing offsets, then put the rows back in order
        order = np.argsort(idx, kind="stable")
        out = np.empty((idx.shape[0], self.d), dtype=self.dtype)
        out[order] = self.X[idx[order]]
        return out

    def block(self, start, stop):
        if self.kind == "dense":
            return self.X[start:stop]
        if self.kind == "sparse":
            return np.ascontiguousarray(self.X[start:stop].toarray(), dtype=self.dtype)
        return np.array(self.X[start:stop], dtype=self.dtype, order="C", copy=True)

    def blocks(self, chunk=None):
        """Yield ``(start, stop, block)`` over all rows, ``chunk`` rows at a time.

        For a memory map the rows are copied into one buffer reused for every
        chunk, so a block is only valid until the next one is requested.
        """
        chunk = self.chunk if chunk is None else max(1, min(chunk, self.chunk))
        buf = None
        if self.kind == "mapped":
            buf = np.empty((min(chunk, self.n), self.d), dtype=self.dtype)
        for start in range(0, self.n, chunk):
            stop = min(start + chunk, self.n)
            if buf is None:
                yield start, stop, self.block(start, stop)
            else:
                block = buf[:stop - start]
                np.copyto(block, self.X[start:stop], casting="unsafe")
                yield start, stop, block


class MiniBatchKMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin,
                      BaseEstimator):
    """Mini-batch K-Means clustering.

    Same parameters, defaults, attributes and random stream as
    :class:`sklearn.cluster.MiniBatchKMeans` (1.9): given the same data,
    ``init`` and ``random_state`` it draws the same mini-batches and reaches
    the same centres (up to floating-point rounding). The step runs on numba
    kernels and the data are read by row gathers and chunks only, so a
    read-only :class:`numpy.memmap` is fitted without loading it.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters (centres) to form.
    init : {'k-means++', 'random'}, callable or array of shape (n_clusters, n_features), \
            default='k-means++'
        Initialisation, computed on a random sample of ``init_size`` rows:
        greedy k-means++, ``n_clusters`` rows drawn with probability
        proportional to ``sample_weight``, ``init(X, n_clusters,
        random_state=RandomState)``, or explicit centres.
    max_iter : int, default=100
        Maximum number of passes over the data (``max_iter * n_samples //
        batch_size`` steps) before stopping, independent of early stopping.
    batch_size : int, default=1024
        Rows per mini-batch (drawn with replacement, with probability
        proportional to ``sample_weight``).
    verbose : int, default=0
        Print the progress of every step.
    compute_labels : bool, default=True
        Compute ``labels_`` and ``inertia_`` on the full data at the end of
        ``fit`` (one chunked pass).
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation, the batches and the reassignments.
    tol : float, default=0.0
        Stop when the squared change of the centres in one step is below
        ``tol`` times the mean per-feature variance of ``X``. 0 disables it.
    max_no_improvement : int or None, default=10
        Stop after this many consecutive steps without improvement of the
        exponentially weighted average of the batch inertia. None disables it.
    init_size : int or None, default=None
        Rows sampled for the initialisation (and for choosing the best of
        ``n_init`` initialisations); ``3 * batch_size`` by default, at least
        ``3 * n_clusters``.
    n_init : 'auto' or int, default='auto'
        Number of initialisations tried (on ``init_size`` rows); the best on
        a validation sample is kept. 'auto' is 1 for 'k-means++' and an
        explicit array, 3 for 'random' and a callable.
    reassignment_ratio : float, default=0.01
        Centres whose accumulated weight falls below this fraction of the
        largest are moved to random rows of the current batch (every
        ``10 * n_clusters`` samples, or whenever a centre has no weight).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Centres, in the dtype of ``X`` (float32 stays float32).
    labels_ : ndarray of shape (n_samples,), int32
        Nearest centre of every training row (if ``compute_labels``).
    inertia_ : float
        Weighted sum of squared distances of the training rows to their
        nearest centre if ``compute_labels``; otherwise the estimate from
        the weighted average of the batch inertias.
    n_iter_ : int
        Passes over the data, ``ceil(n_steps_ * batch_size / n_samples)``.
    n_steps_ : int
        Mini-batch steps performed.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when ``X`` has string column names.

    See Also
    --------
    clusterlab.KMeans : full-batch K-Means.

    Notes
    -----
    One step costs O(batch_size * n_clusters * n_features) time (one BLAS
    product ``X_batch @ centers.T`` on one thread, then one numba pass that
    picks the nearest centres and accumulates the update) plus
    O(n_clusters * n_features); a fit costs O(n_steps * batch_size *
    n_clusters * n_features) plus one O(n_samples * n_clusters * n_features)
    chunked pass for ``labels_`` (parallel over rows). Batches are drawn in
    O(batch_size) for near-uniform weights (O(batch_size log n_samples) at
    worst) from a cumulative distribution computed once (scikit-learn
    recomputes it, an O(n_samples) pass, every step), which is where most
    of the speed-up on large data comes from.

    Memory: O((batch_size + init_size) * n_features + n_clusters *
    n_features) for the batches and centres, plus O(n_samples) for the
    sample weights, the sampling distribution and ``labels_``, plus one chunk
    of at most ``clusterlab._config.WORKING_MEMORY_BYTES`` for the passes over
    the data. ``X`` itself is never copied when it is a memory map or an
    in-memory C-contiguous float array.

    The update is Sculley's (2010) with per-centre counts: a centre that
    receives the rows ``x_i`` (weights ``w_i``) of a batch moves to
    ``(c * count + sum w_i x_i) / (count + sum w_i)``. Sums are accumulated
    in float64.

    References
    ----------
    D. Sculley, "Web-scale k-means clustering", WWW 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import MiniBatchKMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [4, 2], [4, 0], [4, 4],
    ...               [4, 5], [0, 1], [2, 2], [3, 2], [5, 5], [1, -1]], dtype=float)
    >>> km = MiniBatchKMeans(n_clusters=2, batch_size=6, random_state=0, n_init="auto")
    >>> km = km.fit(X)
    >>> km.cluster_centers_.shape
    (2, 2)
    >>> km.predict([[0, 0], [4, 4]]).tolist() == km.predict([[0, 0], [4, 4]]).tolist()
    True
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means++", "random"}), callable, "array-like"],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "compute_labels": ["boolean"],
        "max_no_improvement": [Interval(Integral, 0, None, closed="left"), None],
        "init_size": [Interval(Integral, 1, None, closed="left"), None],
        "reassignment_ratio": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_clusters=8,
        *,
        init="k-means++",
        max_iter=100,
        batch_size=1024,
        verbose=0,
        compute_labels=True,
        random_state=None,
        tol=0.0,
        max_no_improvement=10,
        init_size=None,
        n_init="auto",
        reassignment_ratio=0.01,
    ):
        self.n_clusters = n_clusters
        self.init = init
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.verbose = verbose
        self.compute_labels = compute_labels
        self.random_state = random_state
        self.tol = tol
        self.max_no_improvement = max_no_improvement
        self.init_size = init_size
        self.n_init = n_init
        self.reassignment_ratio = reassignment_ratio

    def __getstate__(self):
        from clusterlab._dask import computed_state

        return computed_state(super().__getstate__())

    # ------------------------------------------------------------------
    # validation
    # ------------------------------------------------------------------
    def _validate_X(self, X, reset):
        """Validate ``X`` without copying a memory map; return a :class:`_Rows`."""
        if _is_memmap(X) and not sp.issparse(X):
            # check shape, dtype kind and feature names without converting
            # (a conversion would read the whole file into private memory);
            # finiteness is checked chunk by chunk below.
            Xv = validate_data(self, X, reset=reset, dtype=None, ensure_all_finite=False,
                               accept_sparse=False)
            if Xv.dtype.kind not in "biuf":
                raise ValueError(
                    f"MiniBatchKMeans needs numeric data, got a memory map of dtype "
                    f"{Xv.dtype}; write it as float32 or float64."
                )
            dtype = Xv.dtype if Xv.dtype in (np.float32, np.float64) else np.float64
            rows = _Rows(Xv, dtype)
            for _, _, block in rows.blocks():
                if not all_finite_flat(block.reshape(-1)):
                    raise ValueError(
                        "Input X contains NaN or infinity. MiniBatchKMeans does not accept "
                        "missing or infinite values: impute or drop them first."
                    )
            return rows
        Xv = validate_data(self, X, reset=reset, accept_sparse="csr",
                           dtype=[np.float64, np.float32], order="C",
                           accept_large_sparse=False, ensure_all_finite=False)
        Xv = canonical_sparse(Xv)
        bound = check_finite(Xv, self)  # the same pass bounds the magnitude
        check_magnitude(Xv, self, tiny=reset, bound=bound)  # new rows: distances to the centres
        return _Rows(Xv, Xv.dtype)

    def _check_test_rows(self, X):
        check_is_fitted(self)
        return self._validate_X(X, reset=False)

    def _resolve_params(self, n_samples):
        """The data-dependent settings scikit-learn derives before fitting."""
        check_n_clusters(self.n_clusters, n_samples)
        self._n_init = _setup.resolve_n_init(self.n_init, self.init, "MiniBatchKMeans",
                                             auto_runs=3, auto_single=("k-means++",))

        self._batch_size = min(self.batch_size, n_samples)
        init_size = self.init_size
        if init_size is None:
            init_size = 3 * self._batch_size
            if init_size < self.n_clusters:
                init_size = 3 * self.n_clusters
        elif init_size < self.n_clusters:
            warnings.warn(
                f"init_size={init_size} should be larger than n_clusters={self.n_clusters}. "
                "Setting it to min(3*n_clusters, n_samples)",
                RuntimeWarning,
                stacklevel=3,
            )
            init_size = 3 * self.n_clusters
        self._init_size = min(init_size, n_samples)

    def _check_init_array(self, rows):
        init = check_array(self.init, dtype=rows.dtype, copy=True, order="C")
        self._check_center_shape(init, rows.d)
        return init

    def _check_center_shape(self, centers, n_features):
        _setup.check_center_shape(centers, self.n_clusters, n_features, hint=True)

    @staticmethod
    def _tolerance(rows, tol):
        """``tol`` times the mean per-feature variance of X, in one chunked pass."""
        if tol == 0:
            return 0.0
        col_sum = np.zeros(rows.d)
        col_sq = np.zeros(rows.d)
        shift = None
        for start, _, block in rows.blocks():
            if shift is None:
                shift = np.asarray(block[0], dtype=np.float64).copy()
            _k.chunk_moments(block, col_sum, col_sq, shift)
        mean_dev = col_sum / rows.n
        var = np.maximum(col_sq / rows.n - mean_dev * mean_dev, 0.0)
        return float(np.mean(var) * tol)

    # ------------------------------------------------------------------
    # initialisation
    # ------------------------------------------------------------------
    def _init_centroids(self, rows, init, random_state, sample_weight, init_size):
        """Initial centres from a random sample of ``init_size`` rows."""
        n = rows.n
        if init_size is not None and init_size < n:
            # drawn even for an explicit array, so the random stream matches
            sample_idx = random_state.randint(0, n, init_size)
        else:
            sample_idx = None

        if _is_arraylike_init(init):
            return init.copy()
        Xs = rows.take(sample_idx if sample_idx is not None else np.arange(n))
        sws = sample_weight[sample_idx] if sample_idx is not None else sample_weight
        if isinstance(init, str) and init == "k-means++":
            # (no x_squared_norms: the seeding does not use them, and on huge
            # values they overflow and would be rejected as non-finite)
            centers, _ = _kmeans_plusplus()(
                Xs, self.n_clusters, random_state=random_state, sample_weight=sws,
            )
        elif isinstance(init, str) and init == "random":
            check_weighted_draw(sws, self.n_clusters)
            seeds = random_state.choice(Xs.shape[0], size=self.n_clusters, replace=False,
                                        p=sws / sws.sum())
            centers = Xs[seeds]
        else:  # callable
            centers = init(Xs, self.n_clusters, random_state=random_state)
            centers = check_array(centers, dtype=rows.dtype, copy=False, order="C")
            self._check_center_shape(centers, rows.d)
        return np.array(centers, dtype=rows.dtype, order="C", copy=True)

    # ------------------------------------------------------------------
    # the step
    # ------------------------------------------------------------------
    def _random_reassign(self):
        """Whether this step may reassign centres (scikit-learn's schedule)."""
        self._n_since_last_reassign += self._batch_size
        if (self._counts == 0).any() or self._n_since_last_reassign >= 10 * self.n_clusters:
            self._n_since_last_reassign = 0
            return True
        return False

    def _drawn_batch_step(self, batch, unit_weight, step, n_steps, n_samples, centers,
                          centers_new, random_state, scratch):
        """:meth:`_minibatch_step` on a batch drawn by weight (so its rows count once
        each: ``unit_weight``), the new centres written to ``centers_new``; returns
        ``(batch_inertia, converged)`` (:meth:`_mini_batch_convergence` at ``step``)."""
        n = batch.shape[0]
        batch_inertia = self._minibatch_step([(0, n, batch, unit_weight)], n, batch.__getitem__,
                                             centers, centers_new, random_state,
                                             self._random_reassign(), scratch)
        diff = float(np.sum((centers_new - centers) ** 2)) if self._tol > 0.0 else 0.0
        return batch_inertia, self._mini_batch_convergence(step, n_steps, n_samples, diff,
                                                           batch_inertia)

    def _minibatch_step(self, blocks, n_rows, take, centers, centers_new, random_state,
                        random_reassign, scratch):
        """One mini-batch step; returns the batch inertia before the update.

        ``blocks`` yields ``(start, stop, X_block, sw_block)`` over the batch;
        ``take(positions)`` returns batch rows for reassignment.
        """
        sums, wib, labels, row_inertia = scratch
        _k.start_sums(centers, self._counts, sums)
        wib.fill(0.0)
        inertia = 0.0
        center_sq = np.einsum("ij,ij->i", centers, centers)
        # rows a product may hold: (rows, k) within the working memory (a block of
        # 33333 rows against 10000 centres was a 2.5 GiB product)
        step = max(1, _config.WORKING_MEMORY_BYTES // (8 * max(1, centers.shape[0])))
        for start, stop, Xb, swb in blocks:
            for s0 in range(0, stop - start, step):
                s1 = min(stop - start, s0 + step)
                Xs = Xb[s0:s1]
                # the O(m k d) part is one BLAS product, as in scikit-learn
                dots = Xs @ centers.T
                inertia += _k.assign_accumulate_dots(Xs, swb[s0:s1], centers, center_sq, dots,
                                                     labels[:s1 - s0], row_inertia[:s1 - s0],
                                                     sums, wib)
        _k.finalize_minibatch_step(centers, centers_new, self._counts, sums, wib)

        if random_reassign and self.reassignment_ratio > 0:
            counts = self._counts
            to_reassign = counts < self.reassignment_ratio * counts.max()
            # at most half of the batch becomes new centres
            if to_reassign.sum() > 0.5 * n_rows:
                keep = np.argsort(counts)[int(0.5 * n_rows):]
                to_reassign[keep] = False
            n_reassigns = int(to_reassign.sum())
            if n_reassigns:
                positions = random_state.choice(n_rows, replace=False, size=n_reassigns)
                if self.verbose:
                    print(f"[MiniBatchKMeans] Reassigning {n_reassigns} cluster centers.")
                centers_new[np.flatnonzero(to_reassign)] = take(positions)
            # a reassigned centre starts at the smallest surviving count, so
            # that it is not reassigned again at once
            counts[to_reassign] = np.min(counts[~to_reassign])
        return inertia

    def _mini_batch_convergence(self, step, n_steps, n_samples, centers_squared_diff,
                                batch_inertia):
        """Early stopping on centre change or on the smoothed batch inertia."""
        batch_inertia /= self._batch_size
        step = step + 1
        if step == 1:  # the first batch measures the initialisation
            if self.verbose:
                print(f"Minibatch step {step}/{n_steps}: mean batch inertia: {batch_inertia}")
            return False
        if self._ewa_inertia is None:
            self._ewa_inertia = batch_inertia
        else:
            alpha = min(self._batch_size * 2.0 / (n_samples + 1), 1)
            self._ewa_inertia = self._ewa_inertia * (1 - alpha) + batch_inertia * alpha
        if self.verbose:
            print(f"Minibatch step {step}/{n_steps}: mean batch inertia: {batch_inertia}, "
                  f"ewa inertia: {self._ewa_inertia}")
        if self._tol > 0.0 and centers_squared_diff <= self._tol:
            if self.verbose:
                print(f"Converged (small centers change) at step {step}/{n_steps}")
            return True
        if self._ewa_inertia_min is None or self._ewa_inertia < self._ewa_inertia_min:
            self._no_improvement = 0
            self._ewa_inertia_min = self._ewa_inertia
        else:
            self._no_improvement += 1
        if (self.max_no_improvement is not None
                and self._no_improvement >= self.max_no_improvement):
            if self.verbose:
                print(f"Converged (lack of improvement in inertia) at step {step}/{n_steps}")
            return True
        return False

    # ------------------------------------------------------------------
    # full passes
    # ------------------------------------------------------------------
    def _labels_inertia(self, rows, sample_weight, centers, want_labels=True):
        """Labels and weighted inertia of all rows, one block of ``rows`` at a time."""
        labels = np.empty(rows.n, dtype=np.int32) if want_labels else None
        m = min(rows.chunk, rows.n)
        lab_buf = np.empty(m, dtype=np.int32)
        row_inertia = np.empty(m, dtype=np.float64)
        ones = np.ones(m, dtype=rows.dtype) if sample_weight is None else None
        parallel = (rows.n * centers.shape[0] * max(rows.d, 1)
                    >= _config.MINIBATCH_PARALLEL_MIN_WORK)
        inertia = 0.0
        for start, stop, block in rows.blocks():
            k = stop - start
            sw = ones[:k] if sample_weight is None else sample_weight[start:stop]
            inertia += _k.labels_inertia(block, sw, centers, lab_buf[:k], row_inertia[:k],
                                         parallel)
            if want_labels:
                labels[start:stop] = lab_buf[:k]
        return labels, inertia

    # ------------------------------------------------------------------
    # public API
    # ------------------------------------------------------------------
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute the centres by mini-batch steps over ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix, numpy.memmap} of shape (n_samples, n_features)
            Training data. A memory map is read in batches and chunks, never
            copied whole. Sparse input must be CSR (batches are densified).
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Weights; batches are drawn with probability proportional to them.
            Not used by the initialisation when ``init`` is a callable or an
            array.

        Returns
        -------
        self : MiniBatchKMeans
        """
        if is_dask_array(X):  # the same algorithm streamed over the row blocks
            from clusterlab._dask import fit_minibatch_kmeans

            return fit_minibatch_kmeans(self, X, y=y, sample_weight=sample_weight)
        warn_if_dask(X, type(self).__name__)  # a dask DataFrame: computed here
        rows = self._validate_X(X, reset=True)
        n_samples, n_features = rows.n, rows.d
        self._resolve_params(n_samples)
        self._tol = self._tolerance(rows, self.tol)
        random_state = check_random_state(self.random_state)
        sample_weight = check_sample_weight(sample_weight, rows.X, dtype=rows.dtype)

        init = self.init
        if _is_arraylike_init(init):
            init = self._check_init_array(rows)

        validation_idx = random_state.randint(0, n_samples, self._init_size)
        X_valid = rows.take(validation_idx)
        sw_valid = np.ascontiguousarray(sample_weight[validation_idx])
        lab_valid = np.empty(X_valid.shape[0], dtype=np.int32)
        ri_valid = np.empty(X_valid.shape[0], dtype=np.float64)

        best_inertia, init_centers = None, None
        for init_idx in range(self._n_init):
            if self.verbose:
                print(f"Init {init_idx + 1}/{self._n_init} with method {init}")
            centers = self._init_centroids(rows, init, random_state, sample_weight,
                                           self._init_size)
            inertia = _k.labels_inertia(X_valid, sw_valid, centers, lab_valid, ri_valid,
                                        parallel=False)
            if self.verbose:
                print(f"Inertia for init {init_idx + 1}/{self._n_init}: {inertia}")
            if best_inertia is None or inertia < best_inertia:
                init_centers, best_inertia = centers, inertia
        del X_valid, lab_valid, ri_valid

        centers = init_centers
        centers_new = np.empty_like(centers)
        self._counts = np.zeros(self.n_clusters, dtype=rows.dtype)
        self._ewa_inertia = None
        self._ewa_inertia_min = None
        self._no_improvement = 0
        self._n_since_last_reassign = 0

        sum_of_weights = np.sum(sample_weight)
        # numpy's RandomState.choice(n, size, p=p) draws uniform numbers and
        # inverts the cumulative distribution of p; computing that
        # distribution once (instead of once per step) draws the same
        # batches from the same random stream in O(batch_size log n).
        cdf = np.cumsum((sample_weight / sum_of_weights).astype(np.float64))
        cdf /= cdf[-1]
        batch_size = self._batch_size
        n_steps = (self.max_iter * n_samples) // batch_size
        unit_weight = np.ones(batch_size, dtype=rows.dtype)
        scratch = (np.zeros((self.n_clusters, n_features), rows.dtype),
                   np.zeros(self.n_clusters, rows.dtype),
                   np.empty(batch_size, dtype=np.int32), np.empty(batch_size))

        batch_idx = np.empty(batch_size, dtype=np.int64)
        draw = (_k.sample_from_cdf_numpy
                if n_samples <= _config.MINIBATCH_NUMPY_SEARCH_MAX_SAMPLES
                else _k.sample_from_cdf)
        i = 0
        with _config.single_threaded_blas():
            for i in range(n_steps):
                draw(cdf, random_state.random_sample(batch_size), batch_idx)
                batch_inertia, done = self._drawn_batch_step(
                    rows.take(batch_idx), unit_weight, i, n_steps, n_samples, centers,
                    centers_new, random_state, scratch)
                centers, centers_new = centers_new, centers
                if done:
                    break

        self.cluster_centers_ = centers
        self._n_features_out = self.cluster_centers_.shape[0]
        self.n_steps_ = i + 1
        self.n_iter_ = int(np.ceil(((i + 1) * batch_size) / n_samples))
        if self.compute_labels:
            self.labels_, self.inertia_ = self._labels_inertia(rows, sample_weight, centers)
        else:
            ewa = self._ewa_inertia
            if ewa is None:  # a single step: only its own batch inertia exists
                ewa = batch_inertia / batch_size
            self.inertia_ = float(ewa * sum_of_weights)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """Update the centres with one mini-batch step on ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix, numpy.memmap} of shape (n_samples, n_features)
            The mini-batch.
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows of ``X``.

        Returns
        -------
        self : MiniBatchKMeans
        """
        has_centers = hasattr(self, "cluster_centers_")
        warn_if_dask(X, f"{type(self).__name__}.partial_fit")  # a dask batch: computed here
        rows = self._validate_X(X, reset=not has_centers)
        if not hasattr(self, "_random_state"):
            self._random_state = check_random_state(self.random_state)
        sample_weight = check_sample_weight(sample_weight, rows.X, dtype=rows.dtype)
        self.n_steps_ = getattr(self, "n_steps_", 0)

        if not has_centers:
            self._resolve_params(rows.n)
            init = self.init
            if _is_arraylike_init(init):
                init = self._check_init_array(rows)
            self.cluster_centers_ = self._init_centroids(
                rows, init, self._random_state, sample_weight, self._init_size)
            self._counts = np.zeros(self.n_clusters, dtype=rows.dtype)
            self._n_since_last_reassign = 0
        elif self.cluster_centers_.dtype != rows.dtype:
            # a later batch of another dtype: compute in the model's dtype
            rows = _Rows(rows.X, self.cluster_centers_.dtype)
            sample_weight = sample_weight.astype(rows.dtype)

        centers = self.cluster_centers_
        m = min(rows.chunk, rows.n)
        # sized by the fitted centres: n_clusters may have been set since (scikit-learn
        # keeps the fitted ones too)
        scratch = (np.zeros(centers.shape, rows.dtype), np.zeros(centers.shape[0], rows.dtype),
                   np.empty(m, dtype=np.int32), np.empty(m))
        blocks = ((s, e, b, sample_weight[s:e]) for s, e, b in rows.blocks())
        with _config.single_threaded_blas():
            self._minibatch_step(blocks, rows.n, rows.take, centers, centers,
                                 self._random_state, self._random_reassign(), scratch)

        if self.compute_labels:
            self.labels_, self.inertia_ = self._labels_inertia(rows, sample_weight, centers)
        self.n_steps_ += 1
        self._n_features_out = self.cluster_centers_.shape[0]
        return self

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit, then return ``labels_`` (requires ``compute_labels=True``-like labels).

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        est = self.fit(X, sample_weight=sample_weight)
        if not self.compute_labels:
            return est.predict(X)
        return est.labels_

    def predict(self, X):
        """Index of the nearest centre of every row of ``X``.

        Returns
        -------
        labels : ndarray of shape (n_samples,), int32

        Notes
        -----
        Time O(n_samples * n_clusters * n_features); memory O(n_samples) plus
        one chunk.
        """
        if is_dask_array(X):
            check_is_fitted(self)
            return predict_blocks(self, "predict", X)
        rows = self._check_test_rows(X)
        labels, _ = self._labels_inertia(rows, None, self._centers_for(rows))
        return labels

    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit, then return the distances of ``X`` to the centres.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_clusters)
        """
        return self.fit(X, sample_weight=sample_weight).transform(X)

    def transform(self, X):
        """Euclidean distance of every row of ``X`` to every centre.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_clusters)
            float32 when both ``X`` and the centres are float32, else float64,
            computed in that dtype (as scikit-learn).

        Notes
        -----
        Time O(n_samples * n_clusters * n_features); memory: the output.
        """
        if is_dask_array(X):
            check_is_fitted(self)
            return predict_blocks(self, "transform", X)
        rows = self._check_test_rows(X)
        dtype = np.result_type(rows.dtype, self.cluster_centers_.dtype)
        centers = self.cluster_centers_.astype(dtype, copy=False)
        check_table_fits(rows.n, centers.shape[0], dtype.itemsize,
                         f"{type(self).__name__}.transform")
        out = np.empty((rows.n, centers.shape[0]), dtype=dtype)
        for start, stop, block in rows.blocks():
            _k.center_distances(block.astype(dtype, copy=False), centers, out[start:stop],
                                False)
        return out

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the weighted inertia of ``X`` under the fitted centres.

        Returns
        -------
        score : float
        """
        rows = self._check_test_rows(X)
        sw = check_sample_weight(sample_weight, rows.X, dtype=rows.dtype)
        _, inertia = self._labels_inertia(rows, sw, self._centers_for(rows), want_labels=False)
        return -inertia

    def _centers_for(self, rows):
        c = self.cluster_centers_
        return c if c.dtype == rows.dtype else c.astype(rows.dtype)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
