"""Internal cluster-validity metrics: silhouette, Calinski-Harabasz, Davies-Bouldin.

Same names, parameters, results and errors as :mod:`sklearn.metrics`, with an
exact silhouette that never builds the ``n_samples x n_samples`` distance
matrix: a parallel numba kernel streams over the data and keeps, per sample,
only its summed distance to every cluster.

>>> import numpy as np
>>> from clusterlab.metrics import silhouette_score
>>> X = np.array([[0.0, 0.0], [0.0, 1.0], [5.0, 5.0], [5.0, 6.0]])
>>> round(silhouette_score(X, [0, 0, 1, 1]), 4)
0.8586
"""

from numbers import Integral

import numpy as np
from scipy import sparse
from sklearn.metrics.pairwise import _VALID_METRICS, pairwise_distances_chunked
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import (
    check_array,
    check_consistent_length,
    check_X_y,
)

from clusterlab import _config
from clusterlab._dask import is_dask_array, warn_if_dask
from clusterlab.metrics._dbcv import dbcv_score
from clusterlab.metrics._scaling import _power_of_two_scaled

__all__ = [
    "silhouette_samples",
    "silhouette_score",
    "calinski_harabasz_score",
    "davies_bouldin_score",
    "dbcv_score",
    "consensus_score",
]

# metric name -> code of clusterlab._kernels.silhouette.cluster_distance_sums_sorted
_FAST_METRICS = {
    "euclidean": 0,
    "l2": 0,
    "sqeuclidean": 1,
    "manhattan": 2,
    "l1": 2,
    "cityblock": 2,
    "cosine": 3,
}
# keyword arguments of sklearn's pairwise_distances_chunked that only tune speed
_SPEED_KWDS = {"n_jobs", "working_memory"}


def _check_label_table_fits(n_samples, n_labels):
    """Refuse, with the figure, a silhouette whose (n_samples, n_labels) tables of
    distance sums cannot fit: O(n k) memory, which nears O(n^2) only when the
    clusters are tiny (k close to n)."""
    from clusterlab._config import refuse_beyond_memory

    need = 3 * n_samples * n_labels * 8  # the sums, their transpose, the one-hot block
    refuse_beyond_memory(need, lambda avail: (
        f"the silhouette of {n_samples} samples in {n_labels} clusters sums every "
        f"sample's distances per cluster: {need / 2**30:.1f} GiB of tables, but about "
        f"{avail / 2**30:.1f} GiB is free. Score a sample (sample_size=...) or fewer, "
        "larger clusters."))


def _check_number_of_labels(n_labels, n_samples):
    if not 1 < n_labels < n_samples:
        raise ValueError(
            f"Number of labels is {n_labels}. Valid values are 2 to n_samples - 1 "
            "(inclusive)"
        )


def _encode(labels):
    """Labels as int64 codes 0..k-1 and the number of distinct labels."""
    le = LabelEncoder()
    codes = le.fit_transform(labels).astype(np.int64, copy=False)
    return codes, le.classes_.shape[0]


def _float_array(X):
    """float32 stays float32; everything else becomes float64."""
    if X.dtype == np.float32 or X.dtype == np.float64:
        return X
    return X.astype(np.float64)


def _check_precomputed_diagonal(X):
    """scikit-learn's checks of a precomputed distance matrix (its messages):
    square, non-negative, zero diagonal."""
    if X.shape[0] != X.shape[1]:
        raise ValueError(
            f"Precomputed metric requires shape (n_queries, n_indexed). Got {X.shape} for "
            f"{X.shape[0]} indexed.")
    data = X.data if sparse.issparse(X) else X
    if data.size and np.min(data) < 0:
        raise ValueError(
            "Negative values in data passed to `pairwise_distances`. Precomputed distance  "
            "need to have non-negative values..")
    diag = X.diagonal()
    if sparse.issparse(diag):  # pragma: no cover - scipy returns ndarray
        diag = diag.toarray()
    if X.dtype.kind == "f":
        bad = np.any(np.abs(diag) > np.finfo(X.dtype).eps * 100)
    else:
        bad = np.any(diag != 0)
    if bad:
        raise ValueError(
            "The precomputed distance matrix contains non-zero elements on the "
            "diagonal. Use np.fill_diagonal(X, 0)."
        )


def _silhouette_fast(X, codes, n_labels, metric_code):
    from clusterlab._kernels.silhouette import (
        cluster_distance_sums_gemm,
        cluster_distance_sums_sorted,
    )

    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=n_labels).astype(np.int64)
    bounds = np.zeros(n_labels + 1, dtype=np.int64)
    np.cumsum(counts, out=bounds[1:])
    sorted_codes = np.ascontiguousarray(codes[order])
    sums = np.empty((X.shape[0], n_labels), dtype=np.float64)
    min_features = (_config.SILHOUETTE_GEMM_MIN_FEATURES_FLOAT32 if X.dtype == np.float32
                    else _config.SILHOUETTE_GEMM_MIN_FEATURES)
    if metric_code != 2 and X.shape[1] >= min_features:
        # many features: BLAS products on a float64 copy sorted by cluster
        Xs = np.take(X, order, axis=0).astype(np.float64, copy=False)
        if metric_code == 3:
            _unit_vectors(Xs, axis=1)
        else:
            Xs -= Xs.mean(axis=0)
        # BLAS on the free cores: its threads synchronise at every block product
        # and stall when another process holds a core (2000 x 100 beside two busy
        # processes: 234-257 ms on two threads against 35-72 on one; quiet, two
        # threads take 23 ms against 32)
        with _config.blas_threads(_config.free_cores(samples=1)):
            cluster_distance_sums_gemm(Xs, sorted_codes, n_labels, metric_code, sums)
        del Xs
        return _sorted_silhouette(sums, sorted_codes, counts, order)
    # one gathered copy, already transposed: (n_features, n_samples), C-contiguous
    Xt = np.take(X.T, order, axis=1)
    if metric_code == 3:  # cosine: unit rows (zero rows stay zero, as in sklearn)
        # in float64 whatever the input: 1 - <x, y> cancels for close directions,
        # and float32 would lose ~1e-4 of the coefficients (scikit-learn does)
        Xt = Xt.astype(np.float64, copy=False)
        _unit_vectors(Xt, axis=0)
    cluster_distance_sums_sorted(Xt, sorted_codes, bounds, metric_code, sums)
    del Xt
    return _sorted_silhouette(sums, sorted_codes, counts, order)


def _unit_vectors(A, axis):
    """Divide the float64 array ``A`` in place by the norm of each sample, its
    features running along ``axis`` (1: samples as rows, 0: as columns); zero
    samples stay zero, as in scikit-learn's cosine distance."""
    norms = np.sqrt(np.einsum("ij,ij->i" if axis == 1 else "ij,ij->j", A, A))
    norms[norms == 0.0] = 1.0
    A /= norms[:, None] if axis == 1 else norms


def _silhouette_from_sums(sums, codes, counts, out):
    """The kernel, or its numpy twin on small inputs (the same values)."""
    from clusterlab._kernels import silhouette as _ks

    _ks.for_size(_ks.silhouette_from_sums, sums.size)(sums, codes, counts, out)


def _sorted_silhouette(sums, sorted_codes, counts, order):
    sorted_sil = np.empty(sums.shape[0], dtype=np.float64)
    _silhouette_from_sums(sums, sorted_codes, counts, sorted_sil)
    sil = np.empty_like(sorted_sil)
    sil[order] = sorted_sil
    return sil


def _silhouette_chunked(X, codes, n_labels, metric, kwds):
    """Any other metric: sklearn's chunked distances, reduced by a numba kernel."""
    from clusterlab._kernels.silhouette import cluster_distance_sums

    counts = np.bincount(codes, minlength=n_labels).astype(np.int64)
    sil = np.empty(X.shape[0], dtype=np.float64)
    start = 0
    for D_chunk in pairwise_distances_chunked(X, metric=metric, **kwds):
        if sparse.issparse(D_chunk):
            D_chunk = D_chunk.toarray()
        D_chunk = np.ascontiguousarray(_float_array(np.asarray(D_chunk)))
        n_rows = D_chunk.shape[0]
        sums = np.empty((n_rows, n_labels), dtype=np.float64)
        cluster_distance_sums(D_chunk, codes, n_labels, sums)
        _silhouette_from_sums(sums, codes[start:start + n_rows], counts,
                              sil[start:start + n_rows])
        start += n_rows
    return sil


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "labels": ["array-like"],
        "metric": [StrOptions(set(_VALID_METRICS) | {"precomputed"}), callable],
    },
    prefer_skip_nested_validation=True,
)
def silhouette_samples(X, labels, *, metric="euclidean", **kwds):
    """Silhouette coefficient of every sample, exact, in O(n_samples * n_clusters) memory.

    The coefficient of a sample is ``(b - a) / max(a, b)``, where ``a`` is its
    mean distance to the other members of its cluster and ``b`` its mean
    distance to the members of the nearest other cluster. It lies in
    [-1, 1]; samples in one-point clusters get 0 (as in scikit-learn).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features), or \
            (n_samples, n_samples) if ``metric="precomputed"``
        The samples, or their pairwise distances (with a zero diagonal).
    labels : array-like of shape (n_samples,)
        Cluster label of every sample (any hashable values).
    metric : str or callable, default="euclidean"
        ``"euclidean"`` (``"l2"``), ``"sqeuclidean"``, ``"manhattan"``
        (``"l1"``, ``"cityblock"``) and ``"cosine"`` run in clusterlab's
        streaming kernel; ``"precomputed"`` reduces the given matrix in
        parallel; any other metric accepted by
        :func:`sklearn.metrics.pairwise_distances` (or a callable) goes through
        its chunked distances, reduced by the same kernel.
    **kwds : optional keyword arguments
        Passed to the distance function for the other metrics
        (``n_jobs`` and ``working_memory`` are ignored by the fast paths).

    Returns
    -------
    silhouette : ndarray of shape (n_samples,)
        float32 for float32 input, float64 otherwise.

    Raises
    ------
    ValueError
        If the number of distinct labels is not between 2 and n_samples - 1,
        if ``X`` contains NaN or infinity, is empty or not 2-D, or if a
        precomputed matrix has a non-zero diagonal.

    Notes
    -----
    Time O(n_samples^2 * n_features) (O(n_samples^2) precomputed), parallel;
    the fast metrics compute every pair of samples once (symmetry) in
    fixed tiles (up to 5000 samples row by row on one thread), so results
    are identical for any number of threads. With many features (24 for
    float64 input, 32 for float32) the Euclidean, squared Euclidean and
    cosine distances come from BLAS products of 512-row blocks in float64,
    as scikit-learn computes them, on the data centred on its mean. Extra
    memory O(n_samples * (n_features + n_clusters)): a copy of the data
    sorted by cluster and every sample's distance sum to every cluster;
    scikit-learn's implementation holds blocks of the distance matrix (up to
    ``working_memory``, 1 GiB by default) instead.

    References
    ----------
    .. [1] Rousseeuw, P. J. (1987). "Silhouettes: a graphical aid to the
       interpretation and validation of cluster analysis". Journal of
       Computational and Applied Mathematics 20: 53-65.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.metrics import silhouette_samples
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0], [30.0]])
    >>> silhouette_samples(X, [0, 0, 1, 1, 2]).round(3).tolist()
    [0.905, 0.895, 0.895, 0.905, 0.0]
    """
    warn_if_dask(X, "silhouette_samples")
    X, labels = check_X_y(X, labels, accept_sparse=["csr"])
    if metric == "precomputed":
        _check_precomputed_diagonal(X)
    out_dtype = np.float32 if X.dtype == np.float32 else np.float64
    X = _power_of_two_scaled(X, metric)
    codes, n_labels = _encode(labels)
    n_samples = codes.shape[0]
    _check_number_of_labels(n_labels, n_samples)
    _check_label_table_fits(n_samples, n_labels)
    extra = {k: v for k, v in kwds.items() if k not in _SPEED_KWDS}

    if isinstance(metric, str) and metric in _FAST_METRICS and not extra \
            and not sparse.issparse(X):
        sil = _silhouette_fast(_float_array(X), codes, n_labels, _FAST_METRICS[metric])
    elif metric == "precomputed" and not sparse.issparse(X):
        from clusterlab._kernels.silhouette import cluster_distance_sums

        D = np.ascontiguousarray(_float_array(X))
        counts = np.bincount(codes, minlength=n_labels).astype(np.int64)
        sums = np.empty((n_samples, n_labels), dtype=np.float64)
        cluster_distance_sums(D, codes, n_labels, sums)
        sil = np.empty(n_samples, dtype=np.float64)
        _silhouette_from_sums(sums, codes, counts, sil)
    else:
        sil = _silhouette_chunked(X, codes, n_labels, metric, kwds)
    return sil.astype(out_dtype, copy=False)


def _stratified_indices(codes, n_labels, sample_size, rng):
    """``sample_size`` indices drawn per cluster, every cluster represented.

    Each cluster first gets ``min(size, 2)`` points (or 1 each when
    ``sample_size < 2 * n_labels``), the rest is shared in proportion to the
    cluster sizes (largest remainders first); points are drawn without
    replacement within each cluster.
    """
    counts = np.bincount(codes, minlength=n_labels)
    n = counts.sum()
    if sample_size >= n:
        return np.arange(n)
    if sample_size < n_labels:
        raise ValueError(
            f"sample_size={sample_size} is smaller than the number of clusters "
            f"({n_labels}); a stratified sample needs at least one point per cluster. "
            "Increase sample_size or pass stratify=False."
        )
    floor = 2 if sample_size >= 2 * n_labels else 1
    alloc = np.minimum(counts, floor)
    remaining = sample_size - alloc.sum()
    spare = counts - alloc
    if remaining > 0 and spare.sum() > 0:
        share = remaining * spare / spare.sum()
        extra = np.minimum(np.floor(share).astype(np.int64), spare)
        left = remaining - extra.sum()
        order = np.argsort(-(share - extra), kind="stable")
        for c in order:
            if left <= 0:
                break
            if extra[c] < spare[c]:
                extra[c] += 1
                left -= 1
        alloc = alloc + extra
    members = np.argsort(codes, kind="stable")
    bounds = np.r_[0, np.cumsum(counts)]
    chosen = [rng.choice(members[bounds[c]:bounds[c + 1]], size=alloc[c], replace=False)
              for c in range(n_labels)]
    return np.sort(np.concatenate(chosen))


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "labels": ["array-like"],
        "metric": [StrOptions(set(_VALID_METRICS) | {"precomputed"}), callable],
        "sample_size": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "stratify": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def silhouette_score(X, labels, *, metric="euclidean", sample_size=None, random_state=None,
                     stratify=False, **kwds):
    """Mean silhouette coefficient over all samples (or a random subset).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features), or \
            (n_samples, n_samples) if ``metric="precomputed"``
    labels : array-like of shape (n_samples,)
    metric : str or callable, default="euclidean"
        See :func:`silhouette_samples`.
    sample_size : int, default=None
        Compute the score on this many samples drawn at random (all when
        ``None``). With ``stratify=False`` the draw is scikit-learn's
        (``random_state.permutation(n_samples)[:sample_size]``), so the same
        ``random_state`` gives the same subset and score.
    random_state : int, RandomState instance or None, default=None
        Seed of the subset draw; used only with ``sample_size``.
    stratify : bool, default=False
        Draw the subset per cluster, in proportion to cluster sizes, keeping
        at least two points (one when ``sample_size < 2 * n_clusters``) of
        every cluster, so that a small cluster is never dropped (a uniform
        draw can lose a 12-point cluster among 100000 samples; see
        scikit-learn issue #11676).
    **kwds : optional keyword arguments
        Passed to the distance function.

    Returns
    -------
    silhouette : float
        In [-1, 1]; higher means denser, better separated clusters.

    Notes
    -----
    Time O(m^2 * n_features) with ``m = min(sample_size, n_samples)``;
    memory O(m * (n_features + 1)).

    Examples
    --------
    >>> from clusterlab.datasets import load_five_blobs
    >>> from sklearn.cluster import KMeans
    >>> X = load_five_blobs()
    >>> labels = KMeans(5, n_init=10, random_state=0).fit_predict(X)
    >>> round(silhouette_score(X, labels), 4)
    0.6555
    """
    warn_if_dask(X, "silhouette_score")
    X = X.compute() if is_dask_array(X) else X  # once, not again in silhouette_samples
    if sample_size is not None:
        X, labels = check_X_y(X, labels, accept_sparse=["csc", "csr"])
        rng = check_random_state(random_state)
        if stratify:
            codes, n_labels = _encode(labels)
            indices = _stratified_indices(codes, n_labels, sample_size, rng)
        else:
            indices = rng.permutation(X.shape[0])[:sample_size]
        if metric == "precomputed":
            X = X[indices][:, indices]
        else:
            X = X[indices]
        labels = np.asarray(labels)[indices]
    return float(np.mean(silhouette_samples(X, labels, metric=metric, **kwds),
                         dtype=np.float64))


def _centroid_stats(X, labels):
    """Validated float array, label codes, counts and float64 centroids."""
    from clusterlab._kernels import silhouette as _ks

    X, labels = check_X_y(X, labels)
    X = np.ascontiguousarray(_power_of_two_scaled(_float_array(X)))
    codes, n_labels = _encode(labels)
    _check_number_of_labels(n_labels, X.shape[0])
    sums = np.empty((n_labels, X.shape[1]), dtype=np.float64)
    counts = np.empty(n_labels, dtype=np.int64)
    _ks.for_size(_ks.cluster_sums, X.size)(X, codes, n_labels, sums, counts)
    return X, codes, n_labels, counts, sums / counts[:, None]


def _cluster_dispersions(X, codes, centers, sq, dist):
    """The kernel, or its numpy twin on small inputs (the same values)."""
    from clusterlab._kernels import silhouette as _ks

    _ks.for_size(_ks.cluster_dispersions, X.size)(X, codes, centers, sq, dist)


@validate_params(
    {"X": ["array-like"], "labels": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def calinski_harabasz_score(X, labels):
    """Calinski-Harabasz score (variance ratio criterion).

    The ratio of between-cluster to within-cluster dispersion, each divided
    by its degrees of freedom: ``B / (k - 1) / (W / (n - k))``. Higher is
    better; 1.0 when the within-cluster dispersion is zero (scikit-learn's
    convention).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)

    Returns
    -------
    score : float

    Notes
    -----
    Time O(n_samples * n_features), one pass for the centroids and one for
    the dispersions; memory O(n_clusters * n_features). Accumulates in float64.

    References
    ----------
    .. [1] Calinski, T. and Harabasz, J. (1974). "A dendrite method for cluster
       analysis". Communications in Statistics 3(1): 1-27.

    Examples
    --------
    >>> round(calinski_harabasz_score([[0, 0], [0, 1], [4, 4], [4, 5]], [0, 0, 1, 1]), 3)
    64.0
    """
    warn_if_dask(X, "calinski_harabasz_score")
    X, codes, n_labels, counts, centers = _centroid_stats(X, labels)
    n_samples = X.shape[0]
    mean = (centers * counts[:, None]).sum(axis=0) / n_samples
    extra_disp = float(np.sum(counts * ((centers - mean) ** 2).sum(axis=1)))
    sq = np.empty(n_labels)
    dist = np.empty(n_labels)
    _cluster_dispersions(X, codes, centers, sq, dist)
    intra_disp = float(sq.sum())
    if intra_disp == 0.0:
        return 1.0
    return float(extra_disp * (n_samples - n_labels) / (intra_disp * (n_labels - 1.0)))


@validate_params(
    {"X": ["array-like"], "labels": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def davies_bouldin_score(X, labels):
    """Davies-Bouldin score: mean over clusters of the worst similarity ratio.

    For clusters ``i`` and ``j`` with mean distances ``s_i``, ``s_j`` of their
    points to their centroids and centroid distance ``d_ij``, the ratio is
    ``(s_i + s_j) / d_ij``; the score averages each cluster's largest ratio.
    Lower is better, 0 is the minimum (returned too when every ``s_i`` or
    every centroid distance is zero, as in scikit-learn).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,)

    Returns
    -------
    score : float

    Notes
    -----
    Time O(n_samples * n_features + n_clusters^2 * n_features); memory
    O(n_clusters * n_features) beside the data: the centres' distances are
    computed a block of rows at a time (8 MiB).

    References
    ----------
    .. [1] Davies, D. L. and Bouldin, D. W. (1979). "A cluster separation
       measure". IEEE Transactions on Pattern Analysis and Machine
       Intelligence PAMI-1(2): 224-227.

    Examples
    --------
    >>> round(davies_bouldin_score([[0, 1], [1, 1], [3, 4]], [0, 0, 1]), 4)
    0.128
    """
    warn_if_dask(X, "davies_bouldin_score")
    X, codes, n_labels, counts, centers = _centroid_stats(X, labels)
    sq = np.empty(n_labels)
    dist = np.empty(n_labels)
    _cluster_dispersions(X, codes, centers, sq, dist)
    intra = dist / counts
    # the centres' distances a block of rows at a time (the k x k x d differences at
    # once took 2.4 GiB for 8000 clusters of 5 features); the same sums, in order
    d = centers.shape[1]
    block = max(1, min(n_labels, (1 << 23) // max(1, 8 * n_labels * d)))
    worst = np.empty(n_labels)
    farthest = 0.0
    for i0 in range(0, n_labels, block):
        i1 = min(n_labels, i0 + block)
        diff = centers[i0:i1, None, :] - centers[None, :, :]
        centroid_dist = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
        farthest = max(farthest, float(centroid_dist.max()))
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (intra[i0:i1, None] + intra[None, :]) / np.where(centroid_dist == 0.0,
                                                                     np.inf, centroid_dist)
        ratio[np.arange(i1 - i0), np.arange(i0, i1)] = -np.inf
        worst[i0:i1] = np.max(ratio, axis=1)
    # (np.allclose(x, 0) of every distance: the largest within its absolute tolerance)
    if np.allclose(intra, 0.0) or farthest <= 1e-8:
        return 0.0
    return float(np.mean(worst))


def _bicluster_indicators(pair):
    from sklearn.utils.validation import check_array, check_consistent_length

    check_consistent_length(*pair)
    rows, cols = (check_array(x, ensure_2d=False) for x in pair)
    return rows, cols


@validate_params(
    {"a": [tuple], "b": [tuple], "similarity": [callable, StrOptions({"jaccard"})]},
    prefer_skip_nested_validation=True,
)
def consensus_score(a, b, *, similarity="jaccard"):
    """Similarity of two sets of biclusters, as :func:`sklearn.metrics.consensus_score`.

    The biclusters of ``a`` and ``b`` are paired one to one so that the sum of
    their similarities is largest (Hungarian algorithm); the score is that sum
    divided by the size of the larger set: 1 for identical sets, 0 for
    disjoint ones.

    Parameters
    ----------
    a : tuple (rows, columns)
        Row and column indicators of the first set, each of shape
        (n_biclusters, n_rows) / (n_biclusters, n_columns) (e.g. a fitted
        model's ``biclusters_``).
    b : tuple (rows, columns)
        The second set.
    similarity : 'jaccard' or callable, default='jaccard'
        Similarity of two biclusters; a callable gets
        ``(a_rows, a_cols, b_rows, b_cols)`` of one bicluster each.

    Returns
    -------
    consensus_score : float

    Notes
    -----
    With 'jaccard', the n_a x n_b similarities come from two matrix products
    (the intersection of biclusters i and j is the product of their shared
    rows and shared columns) -- O(n_a n_b (rows + columns)) -- then the
    assignment costs O(max(n_a, n_b)^3).

    References
    ----------
    Hochreiter, S. et al. "FABIA: factor analysis for bicluster acquisition",
    Bioinformatics 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.metrics import consensus_score
    >>> rows = np.array([[True, True, False], [False, False, True]])
    >>> cols = np.array([[True, False], [False, True]])
    >>> consensus_score((rows, cols), (rows[::-1], cols[::-1]))
    1.0
    """
    from scipy.optimize import linear_sum_assignment

    a_rows, a_cols = _bicluster_indicators(a)
    b_rows, b_cols = _bicluster_indicators(b)
    if a_rows.shape[1:] != b_rows.shape[1:] or a_cols.shape[1:] != b_cols.shape[1:]:
        raise ValueError(
            f"the two sets of biclusters index matrices of different shapes: rows "
            f"{a_rows.shape[1:]} and {b_rows.shape[1:]}, columns {a_cols.shape[1:]} and "
            f"{b_cols.shape[1:]} (indicators of shape (n_biclusters, n_rows) and "
            "(n_biclusters, n_columns) of the same matrix).")
    if similarity == "jaccard":
        ar, ac = a_rows.astype(np.float64), a_cols.astype(np.float64)
        br, bc = b_rows.astype(np.float64), b_cols.astype(np.float64)
        inter = (ar @ br.T) * (ac @ bc.T)
        a_size = ar.sum(axis=1) * ac.sum(axis=1)
        b_size = br.sum(axis=1) * bc.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            matrix = inter / (a_size[:, None] + b_size[None, :] - inter)
    else:
        matrix = np.array([[similarity(a_rows[i], a_cols[i], b_rows[j], b_cols[j])
                            for j in range(b_rows.shape[0])]
                           for i in range(a_rows.shape[0])])
    row_ind, col_ind = linear_sum_assignment(1.0 - matrix)
    return float(matrix[row_ind, col_ind].sum() / max(len(a[0]), len(b[0])))
