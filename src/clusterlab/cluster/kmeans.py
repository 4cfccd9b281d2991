"""K-Means clustering: :class:`KMeans`, :func:`k_means`, :func:`kmeans_plusplus`.

The same API, defaults, attributes, warnings and errors as scikit-learn 1.9's
``sklearn.cluster.KMeans``; the iterations run in numba kernels
(:mod:`clusterlab._kernels.kmeans`). ``MiniBatchKMeans`` lives in
:mod:`clusterlab.cluster.minibatch`.
"""

import contextlib
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
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted

from clusterlab import _config
from clusterlab._core import kmeans_plan as _plan
from clusterlab._core import kmeans_run as _run
from clusterlab._core import kmeans_setup as _setup
from clusterlab._core.kmeans_seeding import kmeans_plusplus as _kmeans_plusplus
from clusterlab._dask import fit_kmeans as fit_kmeans_dask
from clusterlab._dask import forget_feature_names, is_dask_array, predict_blocks, warn_if_dask
from clusterlab._kernels import distances as _dk
from clusterlab._kernels.gemm import passes as _g_passes
from clusterlab._kernels.kmeans import columnar as _columnar
from clusterlab._validation import (canonical_sparse, check_n_clusters, check_sample_weight,
                                   check_table_fits)

__all__ = ["KMeans", "k_means", "kmeans_plusplus"]


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "sample_weight": ["array-like", None],
        "x_squared_norms": ["array-like", None],
        "random_state": ["random_state"],
        "n_local_trials": [Interval(Integral, 1, None, closed="left"), None],
    },
    prefer_skip_nested_validation=True,
)
def kmeans_plusplus(X, n_clusters, *, sample_weight=None, x_squared_norms=None,
                    random_state=None, n_local_trials=None):
    """Choose initial centres with the greedy k-means++ heuristic.

    The first centre is drawn with probability proportional to the sample
    weight; each next one is the best (lowest potential) of
    ``n_local_trials`` candidates drawn with probability proportional to
    ``w_i D(x_i)^2``, as scikit-learn's ``kmeans_plusplus``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Data to pick the centres from (float32 kept as float32).
    n_clusters : int
        Number of centres.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the samples; ``None`` means equal weights.
    x_squared_norms : array-like of shape (n_samples,), default=None
        Accepted for scikit-learn compatibility (its length is checked); the
        kernels compute distances directly and do not need it.
    random_state : int, RandomState instance or None, default=None
        Seed of the random draws.
    n_local_trials : int, default=None
        Candidates tried per centre; ``None`` means ``2 + int(ln(n_clusters))``.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
        The chosen rows of ``X``.
    indices : ndarray of shape (n_clusters,)
        Their row indices in ``X``.

    Notes
    -----
    Time O(n_clusters * n_local_trials * n * d) in one fused, parallel pass
    over X per chosen centre (plus one pass to update the distances); memory
    O(n) for the squared distances to the nearest chosen centre. Sampling
    uses per-group sums, so no O(n) cumulative sum is built per draw.

    References
    ----------
    Arthur, D. and Vassilvitskii, S. "k-means++: the advantages of careful
    seeding", SODA 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import kmeans_plusplus
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]], dtype=float)
    >>> centers, indices = kmeans_plusplus(X, n_clusters=2, random_state=0)
    >>> centers.shape, sorted(X[indices, 0].tolist())
    ((2, 2), [1.0, 10.0])
    """
    warn_if_dask(X, "kmeans_plusplus")
    X = canonical_sparse(check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32],
                                     order="C"))
    sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
    check_n_clusters(n_clusters, X.shape[0])
    if x_squared_norms is not None:
        x_squared_norms = check_array(x_squared_norms, dtype=X.dtype, ensure_2d=False)
        if x_squared_norms.shape[0] != X.shape[0]:
            raise ValueError(
                f"The length of x_squared_norms {x_squared_norms.shape[0]} should "
                f"be equal to the length of n_samples {X.shape[0]}."
            )
    random_state = check_random_state(random_state)
    return _kmeans_plusplus(X, n_clusters, sample_weight, random_state, n_local_trials)


class KMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """K-Means clustering (Lloyd, Elkan and Hamerly iterations on numba kernels).

    A drop-in for ``sklearn.cluster.KMeans`` (scikit-learn 1.9 API): same
    parameters, defaults, fitted attributes, warnings and errors; all exact
    algorithms give the same labels and centres as scikit-learn's Lloyd for
    the same initial centres.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    init : {'k-means++', 'k-means||', 'random'}, callable or array-like of shape \
            (n_clusters, n_features), default='k-means++'
        'k-means++': greedy k-means++ seeding (:func:`kmeans_plusplus`);
        'k-means||': scalable k-means++ (Bahmani et al. 2012), used on dask
        arrays (where 'k-means++' also means it); on numpy input the same as
        'k-means++';
        'random': ``n_clusters`` distinct rows drawn with probability
        proportional to the sample weights; an array: the initial centres;
        a callable ``init(X, n_clusters, random_state)`` returning them.
    n_init : 'auto' or int, default='auto'
        Number of runs from different seeds; the best inertia is kept.
        'auto' means 1 for 'k-means++' or an array, 10 for 'random' or a callable.
    max_iter : int, default=300
        Maximum iterations of one run.
    tol : float, default=1e-4
        Convergence when the squared centre shift (summed over clusters) is at
        most ``tol`` times the mean feature variance of X.
    verbose : int, default=0
        Print progress.
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation. The same seed gives the same result on
        every run and every thread count.
    copy_x : bool, default=True
        Kept for compatibility: clusterlab never modifies X (it does not
        centre the data in place), so both values leave X untouched.
    algorithm : {'auto', 'lloyd', 'elkan', 'hamerly', 'yinyang'}, default='auto'
        'lloyd': a full pass over X per iteration; 'elkan': triangle-inequality
        bounds to every centre (memory O(n k)); 'hamerly': one upper and one
        lower bound per point (memory O(n)); 'yinyang': one lower bound per
        group of about ten centres (memory O(n k / 10)). The bound-based
        algorithms update the cluster sums only with the points that change
        label. 'auto' picks by shape: Lloyd for k = 1 and for small problems
        (n_samples * n_clusters * n_features < 2**20); Elkan for at most 20
        centres in at least 128 features (MNIST-like) when its O(n k) bounds
        take at most 512 MiB; plain Lloyd when the BLAS path below applies with
        fewer than 16 centres (its pass then costs what Hamerly's bounds do);
        Hamerly for k < 100 or when the BLAS path applies; Yinyang otherwise;
        but plain Lloyd whenever a probe of the nearest-centre gaps on a few
        rows says the bounds cannot prune (docs/kmeans.md). 'full' is accepted
        with a FutureWarning and means 'lloyd'. Sparse
        input always runs Lloyd (the same result), and so does 'elkan' or
        'yinyang' whose bounds would take more than half the memory the
        process may still allocate (with a UserWarning when named).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Centres, in the dtype of X.
    labels_ : ndarray of shape (n_samples,), int32
        Cluster of each training point.
    inertia_ : float
        Weighted sum of squared distances to the closest centre.
    n_iter_ : int
        Iterations of the best run.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when X has string column names.

    See Also
    --------
    kmeans_plusplus, k_means, clusterlab.MiniBatchKMeans

    Notes
    -----
    Per iteration, Lloyd costs O(n k d) time; Hamerly O(n) bound updates plus
    O(k d) for each point whose bounds do not prove its label, plus O(k^2 d);
    Elkan the same with O(n k) bound updates. Memory: O(n) for labels and
    bounds (O(n k) for Elkan) plus O(G k d) partial sums, G row groups bounded
    by ``clusterlab._config.WORKING_MEMORY_BYTES``. X is never modified. Some
    paths keep one reorganised copy of it, each within 512 MiB of X: Lloyd
    on BLAS products with at most 64 features and 256 centres (X transposed
    block by block), Elkan (a 16-bit copy) and k-means++ on few features (X
    transposed) -- about what scikit-learn's ``copy_x=True`` copy costs.

    With enough features and centres (``clusterlab._kernels.gemm.blocks.gemm_pays``)
    the distances to every centre -- a Lloyd step, the first assignment of
    Hamerly and Yinyang, and Hamerly's re-scans from 32 centres on -- come
    from BLAS,
    ``||x||^2 + ||c||^2 - 2 x.c`` in 256-row blocks, in the dtype of X. That
    identity cancels and float32 rounds, so every centre whose approximate
    distance lies within twice a proven error bound of the smallest is
    re-computed exactly: labels are those of the exact kernels (tested on data
    at 1e7 from the origin), and bounds derived from the approximations are
    widened by the error bound.

    References
    ----------
    Lloyd, S. "Least squares quantization in PCM", 1982. Elkan, C. "Using the
    triangle inequality to accelerate k-means", ICML 2003. Hamerly, G.
    "Making k-means even faster", SDM 2010. Ding, Y. et al. "Yinyang K-Means",
    ICML 2015. Raff, E. "Exact acceleration of K-Means++ and K-Means||", IJCAI
    2021 (pruned seeding). Higham, N. "Accuracy and Stability of Numerical
    Algorithms", 2002 (the error bound of the BLAS path).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import KMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]], dtype=float)
    >>> km = KMeans(n_clusters=2, random_state=0).fit(X)
    >>> sorted(km.cluster_centers_.tolist())
    [[1.0, 2.0], [10.0, 2.0]]
    >>> bool(km.predict([[0, 0], [12, 3]])[0] == km.labels_[0])
    True
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means++", "k-means||", "random"}), callable, "array-like"],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "copy_x": ["boolean"],
        "algorithm": [StrOptions({"auto", "lloyd", "elkan", "hamerly", "yinyang", "full"},
                               deprecated={"full"})],
    }

    def __init__(self, n_clusters=8, *, init="k-means++", n_init="auto", max_iter=300,
                 tol=1e-4, verbose=0, random_state=None, copy_x=True, algorithm="auto"):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x
        self.algorithm = algorithm

    def __getstate__(self):
        from clusterlab._dask import computed_state

        return computed_state(super().__getstate__())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- fitting -----------------------------------------------------------------

    def _validate_center_shape(self, X, centers):
        _setup.check_center_shape(centers, self.n_clusters, X.shape[1])

    def _init_centroids(self, X, x_squared_norms=None, init=None, random_state=None,
                        sample_weight=None, init_size=None, n_centroids=None, origin=None):
        """Initial centres, with scikit-learn's private signature (code written
        against ``sklearn.cluster.KMeans._init_centroids`` runs unchanged;
        ``x_squared_norms`` is accepted and not needed). ``origin``: see
        :func:`clusterlab._core.kmeans_setup.init_centers`."""
        return _setup.init_centers(
            X, self.n_clusters if n_centroids is None else n_centroids,
            self.init if init is None else init, check_random_state(random_state),
            sample_weight, init_size=init_size, check_shape=n_centroids is None,
            origin=origin)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute the k-means clustering.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (float32 stays float32; CSR accepted). Never modified.
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the points (non-negative). Not used by an array or
            callable ``init``.

        Returns
        -------
        self : KMeans
        """
        if is_dask_array(X):  # handed to the distributed implementation (clusterlab.distributed)
            n_init = _setup.resolve_n_init(self.n_init, self.init, self.__class__.__name__,
                                           stacklevel=3)
            fitted = fit_kmeans_dask(X, sample_weight, n_clusters=self.n_clusters,
                                     init=self.init, n_init=n_init, max_iter=self.max_iter,
                                     tol=self.tol, verbose=self.verbose,
                                     random_state=self.random_state,
                                     caller=self.__class__.__name__)
            for name, value in fitted.items():
                setattr(self, name, value)
            forget_feature_names(self)
            self._n_features_out = self.n_clusters
            return self
        warn_if_dask(X, type(self).__name__)  # a dask DataFrame: computed here
        X, random_state, sample_weight = _setup.fit_inputs(self, X, sample_weight)
        self._n_init = _setup.resolve_n_init(self.n_init, self.init, self.__class__.__name__)
        plan = _plan.make_plan(X, self.n_clusters, self.algorithm)

        init = self.init
        if _setup.is_array_init(init):
            init = _setup.check_init_array(init, self.n_clusters, X.shape[1], X.dtype)
        tol = _setup.tolerance(X, self.tol, plan.bounds)

        # scikit-learn centres dense X before seeding: a callable init sees it centred
        origin = X.mean(axis=0) if callable(init) and not sp.issparse(X) else None
        best_inertia, best_labels = None, None
        for _ in range(self._n_init):
            centers_init = self._init_centroids(X, init=init, random_state=random_state,
                                                sample_weight=sample_weight, origin=origin)
            if self.verbose:
                print("Initialization complete")
            labels, inertia, centers, n_iter = _run.run(
                X, sample_weight, centers_init, plan, self.max_iter, tol, self.verbose)
            if best_inertia is None or (
                inertia < best_inertia
                and not _setup.is_same_clustering(labels, best_labels, self.n_clusters)
            ):
                best_labels, best_centers = labels, centers
                best_inertia, best_n_iter = inertia, n_iter

        _setup.warn_if_fewer_clusters(_setup.count_distinct(best_labels, self.n_clusters),
                                      self.n_clusters)
        self.cluster_centers_ = best_centers
        self._n_features_out = self.cluster_centers_.shape[0]
        self.labels_ = best_labels
        self.inertia_ = best_inertia
        self.n_iter_ = best_n_iter
        return self

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit and return the cluster of each training point (``labels_``)."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit and return the distances of X to the centres (see :meth:`transform`)."""
        if is_dask_array(X):
            return self.fit(X, sample_weight=sample_weight).transform(X)
        self.fit(X, sample_weight=sample_weight)
        return self._transform(self._check_test_data(X))

    # -- inference ---------------------------------------------------------------

    def _validate_X(self, X, reset):
        return _setup.validate_input(self, X, reset)

    def _check_test_data(self, X):
        return self._validate_X(X, reset=False)

    def _labels_and_min_sq(self, X):
        n = X.shape[0]
        labels = np.empty(n, dtype=np.int32)
        min_sq = np.empty(n, dtype=np.float64)
        centers = self.cluster_centers_
        if sp.issparse(X):
            # a block of rows at a time: (rows, k) within the working memory (the whole
            # n x k table for 200000 rows and 2000 centres did not fit in 3 GB)
            step = max(1, _config.WORKING_MEMORY_BYTES // (8 * max(1, centers.shape[0])))
            for i0 in range(0, n, step):
                i1 = min(n, i0 + step)
                d2 = self._sq_distances(X[i0:i1])
                labels[i0:i1] = np.argmin(d2, axis=1)
                min_sq[i0:i1] = d2[np.arange(i1 - i0), labels[i0:i1]]
        elif _plan.use_gemm(centers.shape[1], centers.shape[0], X.dtype, n):
            # the nearest centre from BLAS products (exact labels, exact
            # distances to them): MNIST-shaped 60000 x 784, k=10, the whole
            # predict 45 -> 26 ms (scikit-learn: 35 ms)
            centers = np.ascontiguousarray(centers, dtype=np.float64)
            bounds = _plan.pass_bounds(n, centers.shape[0], centers.shape[1])
            parallel = _plan.use_parallel(_plan.pass_work(n, *centers.shape))
            with _config.single_threaded_blas() if parallel else contextlib.nullcontext():
                _g_passes.gemm_nearest(X, centers, bounds, labels, min_sq, parallel)
        elif _plan.use_parallel(_plan.pass_work(n, *centers.shape)):
            chunk = min(_config.KMEANS_GROUP_ROWS, _config.chunk_rows(centers.shape[0], 8))
            _dk.nearest_center(X, centers, chunk, labels, min_sq)
        elif _columnar.columnar_pays.py_func(X.shape[1], centers.shape[0]):
            # the kernel of the fit's own passes and final labels for these shapes
            # (every algorithm computes its distances with it on one thread): the
            # same distances as the fit's, and on a first run nothing more to
            # compile (the README's four points: 0.7 s less)
            _columnar.columnar_nearest(X, np.ascontiguousarray(centers, dtype=np.float64),
                                       labels, min_sq)
        else:
            _dk.nearest_center_range(X, centers, 0, n, labels, min_sq)
        return labels, min_sq

    def _sq_distances(self, X):
        n = X.shape[0]
        centers = self.cluster_centers_
        # float64 when either is (float32 rows against float64 centres: float64
        # distances, as scikit-learn's)
        out = np.empty((n, centers.shape[0]), dtype=np.result_type(X.dtype, centers.dtype))
        if sp.issparse(X):
            x_sq = np.empty(n)
            _dk.csr_row_sq_norms(X.data, X.indptr, x_sq)
            c_sq = np.empty(centers.shape[0])
            _dk.dense_row_sq_norms(centers, c_sq)
            _dk.csr_pairwise_sq_dist(X.data, X.indices, X.indptr, x_sq, centers, c_sq, out)
        else:
            _dk.pairwise_sq_dist(X, centers, out,
                                 _plan.use_parallel(_plan.pass_work(n, *centers.shape)))
        return out

    def predict(self, X):
        """Index of the closest centre for each row of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,), int32
        """
        check_is_fitted(self)
        if is_dask_array(X):
            return predict_blocks(self, "predict", X)
        X = self._check_test_data(X)
        return self._labels_and_min_sq(X)[0]

    def transform(self, X):
        """Euclidean distance of each row of X to every centre.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_clusters)
            float32 when both X and the centres are float32, else float64 (as
            scikit-learn).

        Notes
        -----
        Time O(n k d); the output is O(n k).
        """
        check_is_fitted(self)
        if is_dask_array(X):
            return predict_blocks(self, "transform", X)
        X = self._check_test_data(X)
        return self._transform(X)

    def _transform(self, X):
        check_table_fits(X.shape[0], self.cluster_centers_.shape[0], 8,
                         f"{type(self).__name__}.transform")
        out = self._sq_distances(X)
        np.sqrt(out, out=out)
        return out.astype(np.result_type(X.dtype, self.cluster_centers_.dtype), copy=False)

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the (weighted) inertia of X on the fitted centres.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        X = self._check_test_data(X)
        sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
        _, min_sq = self._labels_and_min_sq(X)
        return -float(np.dot(min_sq, sample_weight.astype(np.float64)))


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "sample_weight": ["array-like", None],
        "return_n_iter": [bool],
    },
    prefer_skip_nested_validation=False,
)
def k_means(X, n_clusters, *, sample_weight=None, init="k-means++", n_init="auto",
            max_iter=300, verbose=False, tol=1e-4, random_state=None, copy_x=True,
            algorithm="auto", return_n_iter=False):
    """Run K-Means and return centres, labels and inertia (functional API of :class:`KMeans`).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_clusters : int
    sample_weight : array-like of shape (n_samples,), default=None
    init, n_init, max_iter, verbose, tol, random_state, copy_x, algorithm
        As :class:`KMeans`.
    return_n_iter : bool, default=False
        Also return the number of iterations of the best run.

    Returns
    -------
    centroid : ndarray of shape (n_clusters, n_features)
    label : ndarray of shape (n_samples,)
    inertia : float
    best_n_iter : int, only if ``return_n_iter``

    Notes
    -----
    Same complexity as :class:`KMeans`.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import k_means
    >>> X = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> centers, labels, inertia = k_means(X, 2, random_state=0)
    >>> round(inertia, 6)
    0.01
    """
    est = KMeans(n_clusters=n_clusters, init=init, n_init=n_init, max_iter=max_iter,
                 verbose=verbose, tol=tol, random_state=random_state, copy_x=copy_x,
                 algorithm=algorithm).fit(X, sample_weight=sample_weight)
    if return_n_iter:
        return est.cluster_centers_, est.labels_, est.inertia_, est.n_iter_
    return est.cluster_centers_, est.labels_, est.inertia_

