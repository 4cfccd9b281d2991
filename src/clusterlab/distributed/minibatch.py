"""Mini-batch K-Means over dask arrays: the in-memory update rule, streamed block by block.

The client pulls one row block at a time (the next one is computed on the
workers while the current one is used: at most two blocks are ever held on the
client) and runs mini-batch steps on it with the in-memory estimator's own step
(``MiniBatchKMeans._minibatch_step``: :func:`clusterlab._kernels.minibatch.assign_accumulate_dots`
+ :func:`~clusterlab._kernels.minibatch.finalize_minibatch_step`, the same random
reassignment and the same early stopping on the smoothed batch inertia).

What differs from the in-memory fit is where batches come from: in memory each
batch is drawn from all rows; here each batch is drawn (with replacement,
proportionally to ``sample_weight``) from the current block, and every block
receives a number of steps proportional to its share of the total weight, so
one epoch over the blocks performs about ``n_samples / batch_size`` steps as in
memory. The initialisation is identical (same ``init_size`` rows drawn from the
whole array with the same random stream).
"""

import sys

import numpy as np
from sklearn.utils import check_random_state

from clusterlab import _config
from clusterlab._dask import forget_feature_names
from clusterlab.distributed import _utils
from clusterlab.distributed.kmeans import _fetch_rows


class _DaskRows:
    """The subset of ``cluster.minibatch._Rows`` that the initialisation uses."""

    def __init__(self, X):
        self.X = X
        self.n, self.d = X.shape
        self.dtype = X.dtype

    def take(self, idx):
        return np.ascontiguousarray(_fetch_rows(self.X, idx), dtype=self.dtype)


class _LazyWeights:
    """``sample_weight[idx]`` fetched from a dask array on demand."""

    def __init__(self, sw, dtype):
        self.sw = sw
        self.dtype = dtype

    def __getitem__(self, idx):
        idx = np.asarray(idx, dtype=np.int64)
        order = np.argsort(idx, kind="stable")
        vals = np.asarray(self.sw[idx[order]].compute(), dtype=self.dtype)
        out = np.empty_like(vals)
        out[order] = vals
        return out


def _stream_blocks(x_blocks, w_blocks):
    """Yield ``(i, x_block, w_block)`` as numpy, prefetching the next block.

    With a distributed client as the active scheduler, block ``i + 1`` is
    submitted before block ``i`` is handed out; otherwise blocks are computed
    one at a time on the local scheduler.
    """
    import dask

    client = None
    if "distributed" in sys.modules and dask.config.get("scheduler", None) == "dask.distributed":
        from distributed import default_client

        try:
            client = default_client()
        except ValueError:
            client = None
    n = len(x_blocks)
    if client is None:
        for i in range(n):
            yield (i,) + tuple(dask.compute(x_blocks[i], w_blocks[i]))
        return
    pending = client.compute([x_blocks[0], w_blocks[0]]) if n else None
    for i in range(n):
        current = pending
        pending = client.compute([x_blocks[i + 1], w_blocks[i + 1]]) if i + 1 < n else None
        xb, wb = client.gather(current)
        del current
        yield i, xb, wb


def _block_labels_inertia(xb, wb, index, centers):
    from clusterlab._kernels.minibatch import labels_inertia

    _utils.ensure_numba_threads()
    xb = np.ascontiguousarray(xb)
    n = xb.shape[0]
    w = np.ones(n, dtype=xb.dtype) if wb is None else np.ascontiguousarray(wb, dtype=xb.dtype)
    labels = np.empty(n, dtype=np.int32)
    row_inertia = np.empty(n, dtype=np.float64)
    if n == 0:
        return 0.0
    return float(labels_inertia(xb, w, centers, labels, row_inertia))


def _labels_block(xb, centers):
    from clusterlab._kernels.minibatch import labels_inertia

    _utils.ensure_numba_threads()
    xb = np.ascontiguousarray(xb)
    n = xb.shape[0]
    labels = np.empty(n, dtype=np.int32)
    if n:
        labels_inertia(xb, np.ones(n, dtype=xb.dtype), centers, labels, np.empty(n))
    return labels


def _merge_small_blocks(X, batch_size):
    """``X`` with its row blocks merged to at least ``batch_size`` rows when
    some hold fewer than half a batch. Each step draws its batch from one
    block, and every block gets at least one step an epoch: blocks of 10
    rows under batches of 1024 made an "epoch" of as many steps as blocks,
    each batch 1024 draws from 10 rows, and early stopping ended the fit in
    the first blocks (the rest of the data never read)."""
    sizes = [c for c in X.chunks[0] if c > 0]
    if not sizes or min(sizes) >= batch_size // 2:
        return X
    return X.rechunk({0: max(batch_size, max(sizes))})


def fit_minibatch_kmeans(estimator, X, y=None, sample_weight=None):
    """Fit ``estimator`` (a :class:`clusterlab.MiniBatchKMeans`) on the dask array ``X``.

    Sets ``cluster_centers_`` (dtype of ``X``), ``labels_`` (a lazy dask array,
    if ``compute_labels``), ``inertia_``, ``n_iter_``, ``n_steps_``,
    ``n_features_in_``. See the module docstring for what is and is not the same
    as the in-memory fit.

    Notes
    -----
    Time: ``O(n_steps * batch_size * k * d)`` on the client plus reading the
    blocks (``max_iter`` epochs at most, fewer on early stopping); memory on the
    client: two row blocks plus ``O(batch_size + k d)``. Choose blocks that fit
    the client's memory comfortably.
    """
    estimator._validate_params()
    X = _utils.check_dask_array(X, caller=type(estimator).__name__)
    X = _merge_small_blocks(X, min(int(estimator.batch_size), X.shape[0]))
    sw = _utils.check_dask_weights(sample_weight, X)
    if sw is not None and hasattr(sw, "rechunk") and sw.chunks[0] != X.chunks[0]:
        sw = sw.rechunk((X.chunks[0],))
    before = _utils.saved_state(estimator)
    try:
        return _fit_streamed(estimator, X, sw)
    except ValueError:
        _utils.restore_state(estimator, before)
        raise
    except Exception as exc:  # noqa: BLE001 - a worker failure, reported clearly
        _utils.restore_state(estimator, before)
        _utils.warn_or_raise_compute(exc, "the distributed mini-batch K-Means fit")


def _fit_streamed(estimator, X, sw):
    """The body of :func:`fit_minibatch_kmeans` (which puts the estimator back
    as it was when this raises)."""
    n_samples, n_features = X.shape
    blocks = _utils.row_blocks(X, sw)
    x_blocks, w_blocks, _ = blocks
    try:
        _, var, weight_sum = _utils.column_moments(X, sw, blocks=blocks,
                                                     caller=type(estimator).__name__)
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001
        _utils.warn_or_raise_compute(exc, "the first pass over the data")
    estimator._resolve_params(n_samples)
    estimator._tol = float(np.mean(var) * estimator.tol) if estimator.tol else 0.0
    rs = check_random_state(estimator.random_state)
    dtype = X.dtype
    rows = _DaskRows(X)
    if sw is None:
        weights = np.ones(n_samples, dtype=dtype) if n_samples <= estimator._init_size else \
            _OnesView(dtype)
        block_w = np.asarray(X.chunks[0], dtype=np.float64)
    else:
        weights = _LazyWeights(sw, dtype) if n_samples > estimator._init_size else \
            np.asarray(sw.compute(), dtype=dtype)
        block_w = np.asarray(_utils.map_blocks_compute(
            lambda xb, wb, i: float(np.sum(wb, dtype=np.float64)), x_blocks, w_blocks))

    init = estimator.init
    if not isinstance(init, str) and not callable(init):
        init = estimator._check_init_array(rows)

    validation_idx = rs.randint(0, n_samples, estimator._init_size)
    X_valid = rows.take(validation_idx)
    sw_valid = np.ascontiguousarray(weights[validation_idx], dtype=dtype)
    from clusterlab._kernels import minibatch as _k

    lab_valid = np.empty(X_valid.shape[0], dtype=np.int32)
    ri_valid = np.empty(X_valid.shape[0], dtype=np.float64)
    best_inertia, centers = None, None
    for init_idx in range(estimator._n_init):
        if estimator.verbose:
            print(f"Init {init_idx + 1}/{estimator._n_init} with method {init}")
        cand = estimator._init_centroids(rows, init, rs, weights, estimator._init_size)
        inertia = _k.labels_inertia(X_valid, sw_valid, cand, lab_valid, ri_valid)
        if best_inertia is None or inertia < best_inertia:
            centers, best_inertia = cand, inertia
    del X_valid

    centers = np.ascontiguousarray(centers, dtype=dtype)
    centers_new = np.empty_like(centers)
    k = estimator.n_clusters
    estimator._counts = np.zeros(k, dtype=dtype)
    estimator._ewa_inertia = None
    estimator._ewa_inertia_min = None
    estimator._no_improvement = 0
    estimator._n_since_last_reassign = 0
    batch_size = estimator._batch_size
    n_steps = (estimator.max_iter * n_samples) // batch_size
    steps_per_epoch = max(1, n_samples // batch_size)
    # each block's share of an epoch's steps, by weight (at least one step for a weighted block)
    share = block_w / block_w.sum()
    block_steps = np.where(share > 0, np.maximum(1, np.round(share * steps_per_epoch)), 0)
    block_steps = block_steps.astype(np.int64)
    unit_weight = np.ones(batch_size, dtype=dtype)
    scratch = (np.zeros((k, n_features), dtype), np.zeros(k, dtype),
               np.empty(batch_size, dtype=np.int32), np.empty(batch_size))
    step = 0
    batch_inertia = 0.0
    done = False
    with _config.single_threaded_blas():
        while not done and step < n_steps:
            for i, xb, wb in _stream_blocks(x_blocks, w_blocks):
                if block_steps[i] == 0:
                    continue
                xb = np.ascontiguousarray(xb, dtype=dtype)
                # the in-memory estimator's batch distribution, restricted to this block
                wb = np.ones(xb.shape[0], dtype=dtype) if wb is None else \
                    np.asarray(wb, dtype=dtype)
                cdf = np.cumsum((wb / np.sum(wb)).astype(np.float64))
                cdf /= cdf[-1]
                for _ in range(int(block_steps[i])):
                    idx = cdf.searchsorted(rs.random_sample(batch_size), side="right")
                    batch_inertia, done = estimator._drawn_batch_step(
                        xb[idx], unit_weight, step, n_steps, n_samples, centers, centers_new,
                        rs, scratch)
                    centers, centers_new = centers_new, centers
                    step += 1
                    if done or step >= n_steps:
                        break
                if done or step >= n_steps:
                    break
    labels = inertia = None
    if estimator.compute_labels:  # every pass over the data before anything is stored
        labels = X.map_blocks(_labels_block, centers, drop_axis=1, dtype=np.int32,
                              meta=np.empty((0,), dtype=np.int32))
        inertia = float(_utils.ordered_sum(_utils.map_blocks_compute(
            _block_labels_inertia, x_blocks, w_blocks, centers)))
    estimator.cluster_centers_ = centers
    estimator._n_features_out = k
    estimator.n_features_in_ = n_features
    forget_feature_names(estimator)
    estimator.n_steps_ = step
    estimator.n_iter_ = int(np.ceil((step * batch_size) / n_samples))
    if estimator.compute_labels:
        estimator.labels_ = labels
        estimator.inertia_ = inertia
    else:
        ewa = estimator._ewa_inertia
        if ewa is None:
            ewa = batch_inertia / batch_size
        estimator.inertia_ = float(ewa * weight_sum)
    return estimator


class _OnesView:
    """Unit weights of any length (``sample_weight[idx]`` without an n-long array)."""

    def __init__(self, dtype):
        self.dtype = dtype

    def __getitem__(self, idx):
        return np.ones(len(idx), dtype=self.dtype)
