"""K-Means over dask arrays: k-means|| seeding and Lloyd as one map-reduce per iteration.

Each Lloyd iteration is one pass over the row blocks: every block (on a worker)
labels its rows with the nearest current centre and returns its partial
statistics -- weighted sums per cluster (float64, ``k x d``), weights per
cluster and its inertia (:func:`clusterlab._kernels.kmeans.lloyd.kmeans_partial_stats`,
the kernel of the in-memory :class:`clusterlab.KMeans`). The client adds the
partial statistics in block order, divides, and broadcasts the new centres with
the next pass. If a cluster ends up empty, one extra pass finds the rows farthest
from their centres and relocates the empty clusters onto them, as in memory.

References
----------
Bahmani, Moseley, Vattani, Kumar, Vassilvitskii (2012). "Scalable K-Means++".
Proceedings of the VLDB Endowment 5(7).
"""


import numpy as np
from sklearn.utils import check_random_state

from clusterlab import _config
from clusterlab._core import kmeans_setup
from clusterlab._validation import check_weighted_draw
from clusterlab.distributed import _utils

#: Rounds of oversampling in k-means|| (Bahmani et al. find 5 rounds enough in practice).
KMEANS_PARALLEL_ROUNDS = 5


# --------------------------------------------------------------------------- per-block tasks
# These run on the workers. They receive one row block (numpy), never the whole array.


def _assign(xb, centers):
    from clusterlab._kernels.distances import nearest_center

    _utils.ensure_numba_threads()
    xb = np.ascontiguousarray(xb)
    n = xb.shape[0]
    labels = np.empty(n, dtype=np.int32)
    min_sq = np.empty(n, dtype=np.float64)
    if n:
        nearest_center(xb, np.ascontiguousarray(centers), _config.chunk_rows(centers.shape[0]),
                       labels, min_sq)
    return labels, min_sq


def _lloyd_block(xb, wb, index, centers):
    """Partial Lloyd statistics of one block: ``(sums, weights, inertia)``.

    Calls :func:`clusterlab._kernels.kmeans.lloyd.kmeans_partial_stats`, the per-chunk
    E-step + M-step statistics kernel shared with the in-memory Lloyd.
    """
    from clusterlab._kernels.kmeans.lloyd import kmeans_partial_stats

    _utils.ensure_numba_threads()
    xb = np.ascontiguousarray(xb)
    n = xb.shape[0]
    k, d = centers.shape
    if n == 0:
        return np.zeros((k, d)), np.zeros(k), 0.0
    w = np.ones(n, dtype=xb.dtype) if wb is None else np.ascontiguousarray(wb)
    sums, weights, inertia, _ = kmeans_partial_stats(xb, w, centers, _config.chunk_rows(k))
    return sums, weights, float(inertia)


def _far_rows_block(xb, wb, index, centers, offsets, n_far):
    """The block's ``n_far`` rows farthest from their nearest centre (empty-cluster seeds).

    Returns ``(sq_dist, global_index, row, label, weight)`` arrays.
    """
    xb = np.ascontiguousarray(xb)
    n = xb.shape[0]
    if n == 0:
        return None
    labels, min_sq = _assign(xb, centers)
    w = np.ones(n, dtype=xb.dtype) if wb is None else np.asarray(wb)
    m = min(n_far, n)
    far = np.argpartition(min_sq, n - m)[n - m:]
    return min_sq[far], far.astype(np.int64) + offsets[index], xb[far], labels[far], w[far]


def _labels_block(xb, centers):
    return _assign(xb, centers)[0]


def _inertia_block(xb, wb, index, centers):
    """The block's inertia and how many of its rows each centre labels."""
    labels, min_sq = _assign(xb, centers)
    counts = np.bincount(np.asarray(labels, dtype=np.intp), minlength=centers.shape[0])
    if wb is None:
        return float(min_sq.sum()), counts
    return float(np.dot(min_sq, np.asarray(wb, dtype=np.float64))), counts


def _kmeans_parallel_round(xb, wb, index, candidates, offsets, seed, oversampling, budget):
    """One k-means|| round on one block.

    Returns the block's cost ``sum w d^2(x, C)`` and the ``budget`` rows with the
    smallest ``u / (w d^2)`` (``u`` a hashed uniform of the global row index): a
    row is sampled iff ``u < l w d^2 / phi``, i.e. iff ``u / (w d^2) < l / phi``;
    ``phi`` is known only once all blocks are done, so each block sends its best
    ``budget`` ratios and the client applies the threshold (and asks a block again
    if all of its ``budget`` rows pass, which does not happen for sane budgets).
    """
    xb = np.ascontiguousarray(xb)
    _, min_sq = _assign(xb, candidates)
    w = np.ones(xb.shape[0]) if wb is None else np.asarray(wb, dtype=np.float64)
    weighted = min_sq * w
    cost = float(weighted.sum())
    gidx = np.arange(xb.shape[0], dtype=np.int64) + offsets[index]
    u = _utils.hashed_uniform(gidx, seed)
    with np.errstate(divide="ignore"):
        ratio = np.where(weighted > 0, u / np.where(weighted > 0, weighted, 1.0), np.inf)
    m = min(budget, xb.shape[0])
    pick = np.argpartition(ratio, m - 1)[:m] if m < xb.shape[0] else np.arange(xb.shape[0])
    pick = pick[np.isfinite(ratio[pick])]
    pick = pick[np.lexsort((gidx[pick], ratio[pick]))]
    return cost, ratio[pick], gidx[pick], xb[pick]


def _candidate_weights_block(xb, wb, index, candidates):
    labels, _ = _assign(xb, candidates)
    w = None if wb is None else np.asarray(wb, dtype=np.float64)
    return np.bincount(labels, weights=w, minlength=candidates.shape[0]).astype(np.float64)


def _rows_block(xb, wb, index, wanted_local):
    rows = wanted_local[index]
    if rows is None or len(rows) == 0:
        return None
    return np.asarray(xb)[rows]


# --------------------------------------------------------------------------- client side


def _fetch_rows(X, indices, blocks=None):
    """Rows ``indices`` (global, any order) of a dask array, as numpy, in the given order."""
    indices = np.asarray(indices, dtype=np.int64)
    order = np.argsort(indices, kind="stable")
    sorted_idx = indices[order]
    rows = np.asarray(X[sorted_idx].compute())
    out = np.empty_like(rows)
    out[order] = rows
    return out


def kmeans_parallel_init(X, n_clusters, *, sample_weight=None, random_state=None,
                         oversampling_factor=2.0, n_rounds=KMEANS_PARALLEL_ROUNDS,
                         n_local_trials=5, _blocks=None, _weight_sum=None):
    """Seed K-Means on a dask array with k-means|| (Bahmani et al. 2012).

    1. One centre drawn with probability proportional to ``sample_weight``.
    2. ``n_rounds`` rounds: each row is kept independently with probability
       ``min(1, l * w * d^2(x, C) / phi)`` where ``l = oversampling_factor *
       n_clusters`` and ``phi = sum w d^2(x, C)`` -- one pass per round.
    3. One pass weighs every candidate by the weight of the rows closest to it.
    4. Locally: weighted k-means++ (:func:`clusterlab.kmeans_plusplus`) on the
       ~``1 + n_rounds * l`` weighted candidates, refined by a weighted Lloyd run on
       them (:class:`clusterlab.KMeans`), as in step 8 of the paper; the best of
       ``n_local_trials`` such local runs (lowest weighted inertia) is kept.

    The random draw of step 2 uses a hash of the global row index, so the
    seeding does not depend on how ``X`` is chunked.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
    n_clusters : int
    sample_weight : dask.array.Array of shape (n_samples,), optional
    random_state : int, RandomState instance or None
    oversampling_factor : float, default=2.0
        ``l / n_clusters``.
    n_rounds : int, default=5
    n_local_trials : int, default=5
        Local k-means++ + Lloyd restarts on the weighted candidates.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features), float64

    Notes
    -----
    Time: ``n_rounds + 1`` passes, each ``O(n * |C| * d)`` with ``|C| <= 1 +
    n_rounds * l``; memory on the client ``O(n_rounds * l * d)``; per task one
    block plus ``O(block rows)`` scratch.
    """
    from clusterlab._core import kmeans_plan, kmeans_run
    from clusterlab._core.kmeans_seeding import kmeans_plusplus

    X = _utils.check_dask_array(X)
    sample_weight = _utils.check_dask_weights(sample_weight, X)
    rs = check_random_state(random_state)
    if _blocks is None:
        _blocks = _utils.row_blocks(X, sample_weight)
    x_blocks, w_blocks, offsets = _blocks
    n_samples = X.shape[0]
    # 1. first centre, drawn proportionally to the weights
    if sample_weight is None:
        first = int(rs.randint(n_samples))
    else:
        block_w = np.asarray(
            _utils.map_blocks_compute(lambda xb, wb, i: float(np.sum(wb, dtype=np.float64)),
                                      x_blocks, w_blocks), dtype=np.float64)
        target = rs.uniform() * block_w.sum()
        cum = np.cumsum(block_w)
        b = int(min(np.searchsorted(cum, target, side="right"), len(cum) - 1))
        while block_w[b] <= 0:
            b -= 1
        wb = np.asarray(sample_weight.blocks[b].compute(), dtype=np.float64)
        within = target - (cum[b] - block_w[b])
        local = int(min(np.searchsorted(np.cumsum(wb), within, side="right"), len(wb) - 1))
        while wb[local] <= 0:
            local -= 1
        first = int(offsets[b]) + local
    candidates = _fetch_rows(X, [first]).astype(np.float64)
    ell = oversampling_factor * n_clusters
    budget = int(np.ceil(2 * ell + 10 * np.sqrt(ell) + 10))
    seed_base = int(rs.randint(np.iinfo(np.int32).max))
    # 2. oversampling rounds
    for r in range(n_rounds):
        seed = seed_base * 1000003 + r
        parts = _utils.map_blocks_compute(_kmeans_parallel_round, x_blocks, w_blocks, candidates,
                                          offsets, seed, ell, budget)
        phi = float(_utils.ordered_sum([p[0] for p in parts]))
        if phi <= 0:
            break  # every row sits on a candidate
        threshold = ell / phi
        new_rows = []
        new_idx = []
        for i, (_, ratio, gidx, rows) in enumerate(parts):
            keep = ratio < threshold
            if keep.all() and len(ratio) == budget:
                # this block would give more than its budget: ask it for everything under the
                # threshold (exact; rare)
                _, ratio, gidx, rows = dask_compute_one(
                    _kmeans_parallel_round, x_blocks[i], w_blocks[i], i, candidates, offsets,
                    seed, ell, int(X.chunks[0][i]))
                keep = ratio < threshold
            new_rows.append(rows[keep])
            new_idx.append(gidx[keep])
        if new_rows:
            idx = np.concatenate(new_idx)
            rows = np.concatenate(new_rows).astype(np.float64)
            order = np.argsort(idx, kind="stable")
            candidates = np.vstack([candidates, rows[order]])
    # 3. weigh the candidates
    cand_weights = _utils.ordered_sum(
        _utils.map_blocks_compute(_candidate_weights_block, x_blocks, w_blocks, candidates))
    keep = cand_weights > 0
    candidates = candidates[keep]
    cand_weights = cand_weights[keep]
    if candidates.shape[0] <= n_clusters:
        # no more candidates than clusters (tiny or highly duplicated data): complete with
        # random rows
        if candidates.shape[0] == n_clusters:
            return candidates
        extra = rs.choice(n_samples, size=n_clusters - candidates.shape[0], replace=False)
        return np.vstack([candidates, _fetch_rows(X, extra).astype(np.float64)])
    # 4. recluster the weighted candidates locally
    # (several local restarts: the candidates are few, and one unlucky k-means++ draw on
    # them would otherwise decide the distributed fit's local optimum)
    best = None
    candidates = np.ascontiguousarray(candidates, dtype=np.float64)
    cand_weights = np.ascontiguousarray(cand_weights, dtype=np.float64)
    plan = kmeans_plan.make_plan(candidates, n_clusters, "auto")
    tol = kmeans_setup.tolerance(candidates, 1e-4, plan.bounds)
    for _ in range(n_local_trials):
        init, _ = kmeans_plusplus(candidates, n_clusters, cand_weights, rs)
        _, inertia, centers, _ = kmeans_run.run(candidates, cand_weights, init, plan, 300, tol,
                                                0)
        if best is None or inertia < best[0]:
            best = (inertia, centers)
    return np.asarray(best[1], dtype=np.float64)


def dask_compute_one(func, *args):
    import dask

    return dask.compute(dask.delayed(func, pure=False)(*args))[0]


def _random_init(X, n_clusters, sample_weight, rs, weight_sum):
    """``init='random'``: n_clusters distinct rows, drawn like the in-memory estimator.

    Draws ``rs.choice(n_samples, n_clusters, replace=False, p=w / w.sum())`` so the
    same ``random_state`` picks the same rows as ``KMeans(init='random').fit(X)`` on
    numpy. Holds the ``n_samples`` probabilities on the client (8 bytes a row).
    """
    n = X.shape[0]
    if sample_weight is None:
        w = np.ones(n, dtype=X.dtype)  # the in-memory estimator's unit weights
    else:
        w = np.asarray(sample_weight.compute(), dtype=X.dtype)
    check_weighted_draw(w, n_clusters)
    p = w / w.sum()
    seeds = rs.choice(n, size=n_clusters, replace=False, p=p)
    return _fetch_rows(X, seeds).astype(np.float64)


def _check_init_array(init, n_clusters, n_features, dtype=np.float64):
    # rounded to the data's dtype first, as the in-memory estimator does
    init = np.asarray(init, dtype=dtype).astype(np.float64)
    kmeans_setup.check_center_shape(init, n_clusters, n_features)
    if not np.all(np.isfinite(init)):
        raise ValueError("init contains NaN or infinity; pass finite initial centres.")
    return np.ascontiguousarray(init)


def _relocate_empty(centers_sums, weights, far):
    """Seed each empty cluster with one of the rows farthest from their centre (in place).

    ``far`` = candidates of all blocks. The farthest rows are taken in order of
    decreasing distance (ties: lower global index first); each is moved from its
    old cluster's sums into the empty cluster, as the in-memory Lloyd does.
    """
    empty = np.flatnonzero(weights == 0)
    if len(empty) == 0 or not far:
        return
    dist = np.concatenate([f[0] for f in far])
    gidx = np.concatenate([f[1] for f in far])
    rows = np.concatenate([f[2] for f in far]).astype(np.float64)
    labels = np.concatenate([f[3] for f in far])
    w = np.concatenate([f[4] for f in far]).astype(np.float64)
    if not (dist > 0).any():  # every row on its centre: nothing to relocate (scikit-learn)
        return
    order = np.lexsort((gidx, -dist))[: len(empty)]
    for cluster, j in zip(empty, order):
        old = labels[j]
        centers_sums[old] -= rows[j] * w[j]
        weights[old] -= w[j]
        centers_sums[cluster] = rows[j] * w[j]
        weights[cluster] = w[j]


def lloyd(X, centers_init, *, sample_weight=None, max_iter=300, tol=0.0, verbose=0,
          _blocks=None):
    """Distributed Lloyd from given centres; one pass per iteration.

    Convergence rule (the in-memory one): stop when the labels no longer change
    -- detected as centres that did not move at all, since unchanged labels give
    bit-identical sums -- or when the squared centre shift summed over clusters is
    ``<= tol`` (``tol`` already scaled by the data variance).

    Returns ``(centers, inertia, n_iter, n_nonempty)``: ``n_nonempty`` clusters label
    a row under the final centres (scikit-learn's "fewer distinct clusters" count).
    """
    from clusterlab._kernels.kmeans.common import average_centers, convergence

    if _blocks is None:
        _blocks = _utils.row_blocks(X, sample_weight)
    x_blocks, w_blocks, offsets = _blocks
    centers = np.array(centers_init, dtype=np.float64, copy=True)
    strict = False
    inertia = None
    weights = None
    n_iter = 0
    for i in range(max_iter):
        n_iter = i + 1
        parts = _utils.map_blocks_compute(_lloyd_block, x_blocks, w_blocks, centers)
        sums = _utils.ordered_sum([p[0] for p in parts])
        weights = _utils.ordered_sum([p[1] for p in parts])
        inertia = float(_utils.ordered_sum([p[2] for p in parts]))
        labelled = int(np.count_nonzero(weights > 0))  # before any relocation
        if np.any(weights == 0):
            # rare: one more pass to find the rows farthest from their centres
            n_empty = int(np.count_nonzero(weights == 0))
            far = _utils.map_blocks_compute(_far_rows_block, x_blocks, w_blocks, centers,
                                            offsets, n_empty)
            _relocate_empty(sums, weights, [f for f in far if f is not None])
        new_centers = np.empty_like(centers)
        shift = float(average_centers(sums, weights, centers, new_centers,
                                      np.empty(centers.shape[0])))
        if verbose:
            print(f"Iteration {i}, inertia {inertia}.")
        unchanged = np.array_equal(new_centers, centers)
        centers = new_centers
        stop = convergence(i, unchanged, shift, tol, verbose)
        if stop:
            strict = stop == "strict"
            break
    if not strict:
        # the centres moved in the last iteration: the inertia (and the clusters that
        # label a row) must be measured against them
        parts = _utils.map_blocks_compute(_inertia_block, x_blocks, w_blocks, centers)
        inertia = float(_utils.ordered_sum([p[0] for p in parts]))
        labelled = int(np.count_nonzero(sum(p[1] for p in parts)))
    return centers, inertia, n_iter, labelled


def fit_kmeans(X, sample_weight, *, n_clusters, init, n_init, max_iter, tol, verbose,
               random_state, caller="KMeans"):
    """Distributed K-Means of the dask array ``X`` with resolved parameters.

    ``n_init`` is resolved (an int: :func:`clusterlab._core.kmeans_setup.resolve_n_init`),
    ``tol`` is relative (times the mean feature variance, as in memory).
    ``init='k-means++'`` and ``'k-means||'`` seed with :func:`kmeans_parallel_init`;
    ``'random'``, a callable and an explicit array are honoured as in memory (a
    callable gets the rows centred on their mean, lazily, as a dask array, and
    its centres are shifted back).
    Every iteration is one Lloyd map-reduce (Elkan's bounds would need per-row
    state kept between passes).

    Returns
    -------
    dict
        The fitted attributes for the estimator to store: ``cluster_centers_``
        (numpy, dtype of ``X``), ``labels_`` (a lazy dask array), ``inertia_``,
        ``n_iter_``, ``n_features_in_``.

    Notes
    -----
    Time per iteration ``O(n k d)`` spread over the workers, one pass over the
    data; client memory ``O(n_blocks * k * d)``. ``init='random'`` holds
    ``n_samples`` draw probabilities on the client (as the in-memory estimator).
    """
    X = _utils.check_dask_array(X, caller=caller)
    sw = _utils.check_dask_weights(sample_weight, X)
    n_samples, n_features = X.shape
    k = n_clusters
    if n_samples < k:
        raise ValueError(f"n_samples={n_samples} should be >= n_clusters={k}.")
    blocks = _utils.row_blocks(X, sw)
    try:
        mean, var, weight_sum = _utils.column_moments(X, sw, blocks=blocks, caller=caller)
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - a worker failure, reported clearly
        _utils.warn_or_raise_compute(exc, "the first pass over the data")
    tol = float(np.mean(var) * tol) if tol else 0.0
    is_array_init = not isinstance(init, str) and not callable(init)
    rs = check_random_state(random_state)
    best = None
    for _ in range(n_init):
        try:
            if is_array_init:
                centers0 = _check_init_array(init, k, n_features, X.dtype)
            elif callable(init):
                # as in memory (and scikit-learn): the callable sees the rows
                # centred on their mean and its centres are read in those
                # coordinates (here a lazy dask array of the centred rows)
                origin = mean.astype(X.dtype)
                centers0 = _check_init_array(np.asarray(init(X - origin, k, random_state=rs)),
                                             k, n_features, X.dtype)
                centers0 += origin
            elif init == "random":
                centers0 = _random_init(X, k, sw, rs, weight_sum)
            else:  # 'k-means++' and 'k-means||'
                centers0 = kmeans_parallel_init(X, k, sample_weight=sw, random_state=rs,
                                                _blocks=blocks)
            result = lloyd(X, centers0, sample_weight=sw, max_iter=max_iter, tol=tol,
                           verbose=verbose, _blocks=blocks)
        except ValueError:
            raise
        except Exception as exc:  # noqa: BLE001
            _utils.warn_or_raise_compute(exc, "the distributed K-Means fit")
        if best is None or result[1] < best[1]:
            best = result
    centers, inertia, n_iter, n_nonempty = best
    kmeans_setup.warn_if_fewer_clusters(n_nonempty, k)
    centers = centers.astype(X.dtype)
    return {
        "cluster_centers_": centers,
        "labels_": X.map_blocks(_labels_block, centers, drop_axis=1, dtype=np.int32,
                                meta=np.empty((0,), dtype=np.int32)),
        "inertia_": float(inertia),
        "n_iter_": int(n_iter),
        "n_features_in_": int(n_features),
    }
