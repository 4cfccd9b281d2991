"""Prediction and soft clustering for a fitted :class:`~clusterlab.HDBSCAN`.

The semantics are the hdbscan library's (``prediction.py``:
``approximate_predict``, ``membership_vector``,
``all_points_membership_vectors``); the computations are clusterlab's
kernels. One deliberate difference: a new point's nearest neighbour under
mutual reachability is found *exactly* (a KD-tree search bounded by core
distances), where the library only looks among the point's
``2 * min_samples`` nearest neighbours by plain distance.
"""

import numpy as np
from scipy import sparse
from sklearn.metrics import pairwise_distances_chunked
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import _config
from .._validation import check_magnitude, is_euclidean, rescale_rows
from .._kernels import hdbscan_mst as _mst
from .._kernels import hdbscan_tree as _tk

_DBL_MAX = np.finfo(np.float64).max


def _check(est, X):
    check_is_fitted(est, "labels_")
    if est.metric == "precomputed":
        raise ValueError("predict and membership_vectors need the training data: "
                         "they are not available with metric='precomputed'.")
    X = validate_data(est, X, reset=False, accept_sparse=["csr"], dtype=np.float64,
                      ensure_all_finite=False)
    if sparse.issparse(X) and est._index is not None:
        X = X.toarray()  # the KD-tree path works on dense rows
    if sparse.issparse(X):
        X = X.tocsr()
        finite = np.isfinite(X.toarray()).all(axis=1) if X.nnz else np.ones(X.shape[0], bool)
        rowsum = np.asarray(X.sum(axis=1)).ravel()
    else:
        finite = np.isfinite(X).all(axis=1)
        rowsum = X.sum(axis=1)
    if is_euclidean(est.metric):
        check_magnitude(X if finite.all() else X[finite], est, tiny=False)
    # as in fit: rows with NaN are -3, rows with infinite values -2
    bad = np.where(np.isnan(rowsum), -3, -2)
    return X, finite, bad


def _neighbour_and_lambda(est, X):
    """Nearest training point (finite-row index) under mutual reachability and
    the lambda (1 / that distance) of each row of X."""
    k = est._min_samples
    alpha = float(est.alpha)
    brute = est.algorithm == "brute"
    core = est._core_distances
    a = 1.0 if (brute or alpha == 1.0) else alpha
    if est._index is not None:
        idx = est._index
        rd, _ = idx.knn(X, k)
        core_new = np.sqrt(rd[:, -1])
        rcore = (core[idx.perm] * a) ** 2
        rcore_q = (core_new * a) ** 2
        node_min = np.empty(idx.start.shape[0], dtype=np.float64)
        _mst.node_min_values(rcore, idx.start, idx.end, node_min)
        w = np.empty(X.shape[0], dtype=np.float64)
        j = np.empty(X.shape[0], dtype=np.int64)
        _mst.mrd_nearest(np.ascontiguousarray(X), rcore_q, idx.Xr, idx.start, idx.end,
                         idx.lo, idx.hi, rcore, node_min, w, j)
        dist = np.sqrt(w) / alpha
        nbr = idx.perm[j]
    else:
        nbr = np.empty(X.shape[0], dtype=np.int64)
        dist = np.empty(X.shape[0], dtype=np.float64)
        start = 0
        for D in pairwise_distances_chunked(rescale_rows(X, est.metric),
                                            rescale_rows(est._train, est.metric),
                                            metric=est.metric,
                                            n_jobs=est.n_jobs,
                                            working_memory=_config.WORKING_MEMORY_BYTES / 2**20,
                                            **_pairwise_params(est)):
            m = D.shape[0]
            if brute:
                D = D / alpha
            c_new = np.partition(D, k - 1, axis=1)[:, k - 1]
            Dm = D / alpha if not brute else D
            c_tr = core if brute else core * a / alpha
            c_q = c_new if brute else c_new * a / alpha
            M = np.maximum(np.maximum(Dm, c_tr[None, :]), c_q[:, None])
            best = M.min(axis=1)
            # ties: the nearer point, then the lower index
            cand = np.where(M == best[:, None], Dm, np.inf)
            nbr[start:start + m] = cand.argmin(axis=1)
            dist[start:start + m] = best
            start += m
    with np.errstate(divide="ignore"):
        lam = np.where(dist > 0.0, 1.0 / dist, _DBL_MAX)
    return nbr, lam


def _selected_maps(tree):
    """Per cluster (index c - n): the label of its selected ancestor-or-self
    and that cluster's largest direct lambda (the library's ``max_lambdas``)."""
    lab, owner = tree.label_of_cluster()
    max_lam = np.zeros(lab.shape[0], dtype=np.float64)
    has = owner >= 0
    max_lam[has] = tree.direct_max[owner[has]]
    return lab, max_lam


def approximate_predict(est, X):
    """Labels, probabilities and connecting training points (finite-row
    indices) of new points."""
    X, finite, bad = _check(est, X)
    m = X.shape[0]
    labels = np.empty(m, dtype=np.int64)
    probs = np.zeros(m, dtype=np.float64)
    nbrs = np.full(m, -1, dtype=np.int64)
    labels[~finite] = bad[~finite]
    probs[bad == -3] = np.nan
    if finite.any():
        labels[finite], probs[finite], nbrs[finite] = _predict_finite(est, X[finite])
    return labels, probs, nbrs


def _predict_finite(est, X):
    tree = est._tree
    n = tree.n
    m = X.shape[0]
    if tree.selected.shape[0] == 0:
        return (np.full(m, -1, dtype=np.int64), np.zeros(m), np.full(m, -1, dtype=np.int64))
    nbr, lam = _neighbour_and_lambda(est, X)
    lab, max_lam = _selected_maps(tree)
    labels = np.empty(m, dtype=np.int64)
    probs = np.empty(m, dtype=np.float64)
    _tk.predict_walk(tree.parent, tree.lam, tree.row_of, tree.cluster_parent, tree.cluster_birth,
                     n, nbr, lam, lab, max_lam, labels, probs)
    return labels, probs, nbr


def _exemplar_sets(est):
    tree = est._tree
    sets = tree.exemplars()
    start = np.zeros(len(sets) + 1, dtype=np.int64)
    start[1:] = np.cumsum([len(s) for s in sets])
    idx = np.concatenate(sets) if sets else np.empty(0, dtype=np.int64)
    return est._train[idx], start


def _dist_vectors(est, Q):
    E, start = _exemplar_sets(est)
    K = start.shape[0] - 1
    if est._index is not None:
        out = np.empty((Q.shape[0], K), dtype=np.float64)
        _tk.min_dist_to_sets(np.ascontiguousarray(Q, dtype=np.float64),
                             np.ascontiguousarray(E, dtype=np.float64), start, out)
    else:
        from sklearn.metrics import pairwise_distances

        D = pairwise_distances(rescale_rows(Q, est.metric), rescale_rows(E, est.metric),
                               metric=est.metric, **_pairwise_params(est))
        out = np.column_stack([D[:, start[j]:start[j + 1]].min(axis=1) for j in range(K)])
    with np.errstate(divide="ignore"):
        inv = np.where(out != 0, 1.0 / out, _DBL_MAX / K)
    return inv / inv.sum(axis=1, keepdims=True)


def _pairwise_params(est):
    """The fit's ``metric_params`` for ``pairwise_distances`` between new and
    training rows: mahalanobis given ``V`` (accepted by the fit, as in
    scikit-learn) needs ``VI`` there."""
    params = dict(est._metric_params)
    if est.metric == "mahalanobis" and "V" in params and "VI" not in params:
        params["VI"] = np.linalg.inv(np.asarray(params.pop("V"), dtype=np.float64))
    return params


def membership_vectors(est, X=None):
    """Soft membership of the training points (X None) or of new points."""
    check_is_fitted(est, "labels_")
    tree = est._tree
    n = tree.n
    K = tree.selected.shape[0]
    if X is None:
        check_is_fitted(est, "labels_")
        if est.metric == "precomputed":
            raise ValueError("membership_vectors needs the training data: it is not "
                             "available with metric='precomputed'.")
        n_total = est.labels_.shape[0]
        if K == 0:
            return np.zeros((n_total, 0))
        rows = tree.row_of
        point_cluster = tree.parent[rows]
        point_lambda = tree.lam[rows]
        heights = np.empty((n, K), dtype=np.float64)
        _tk.merge_heights(point_cluster, point_lambda, tree.selected, tree.cluster_parent,
                          tree.cluster_birth, n, heights)
        max_lambda = tree.direct_max[point_cluster - n] + 1e-8
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            scores = np.exp(-(max_lambda[:, None] / heights))
            outlier = np.exp(scores - np.nanmax(scores))
            outlier /= outlier.sum(axis=1, keepdims=True)
            dist = _dist_vectors(est, est._train)
            result = dist * outlier
            result /= result.sum(axis=1, keepdims=True)
            nearest = tree.selected[heights.argmax(axis=1)]
            denom = np.maximum(tree.direct_max[nearest - n], point_lambda)
            result *= (heights.max(axis=1) / denom)[:, None]
        if est._finite_index is None:
            return result
        full = np.zeros((n_total, K), dtype=np.float64)
        full[est._finite_index] = result
        full[est.labels_ == -3] = np.nan
        return full
    X, finite, bad = _check(est, X)
    if not finite.all():
        out = np.zeros((X.shape[0], K), dtype=np.float64)
        out[bad == -3] = np.nan
        if finite.any():
            out[finite] = _membership_new(est, X[finite])
        return out
    return _membership_new(est, X)


def _membership_new(est, X):
    tree = est._tree
    n = tree.n
    K = tree.selected.shape[0]
    m = X.shape[0]
    if K == 0:
        return np.zeros((m, 0))
    nbr, lam = _neighbour_and_lambda(est, X)
    rows = tree.row_of[nbr]
    point_cluster = tree.parent[rows]
    row_lam = tree.lam[rows]
    lam = np.where(row_lam <= lam, row_lam, lam)
    heights32 = np.empty((m, K), dtype=np.float64)
    _tk.merge_heights(point_cluster, lam.astype(np.float32).astype(np.float64), tree.selected,
                      tree.cluster_parent, tree.cluster_birth, n, heights32)
    heights = np.empty((m, K), dtype=np.float64)
    _tk.merge_heights(point_cluster, lam, tree.selected, tree.cluster_parent,
                      tree.cluster_birth, n, heights)
    max_lambda = tree.direct_max[point_cluster - n]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        den = max_lambda[:, None] - heights32
        den = np.where(den <= 0, 1e-8, den)
        scores = max_lambda[:, None] / den
        outlier = np.exp(scores - np.nanmax(scores, axis=1, keepdims=True))
        outlier /= outlier.sum(axis=1, keepdims=True)
        dist = _dist_vectors(est, X)
        result = dist ** 0.5 * outlier ** 2.0
        result /= result.sum(axis=1, keepdims=True)
        nearest = tree.selected[heights.argmax(axis=1)]
        denom = np.maximum(lam, tree.direct_max[nearest - n]) + 1e-8
        result *= (heights.max(axis=1) / denom)[:, None]
    return result
