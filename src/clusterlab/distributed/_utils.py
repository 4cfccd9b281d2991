"""Plumbing shared by the distributed estimators: input checks, per-chunk map-reduce, hashing.

Everything here imports dask; :mod:`clusterlab.distributed` imports this module
only when a dask array actually reaches one of its functions.

The map-reduce pattern used everywhere: a 2-D dask array is split into its row
blocks (:func:`row_blocks`); a pure function is applied to every block as one
``dask.delayed`` task (it runs on a worker when a ``distributed.Client`` is the
default scheduler, on a local thread otherwise); the small per-block results
(``k x d`` sums, counts, scalars) come back to the client in block order and are
added there in that fixed order (:func:`ordered_sum`), so the result does not
depend on which worker finished first, nor on how many there are.
"""

import numbers
import os

import dask
import dask.array as da
import numpy as np

from clusterlab._validation import check_magnitude


def check_dask_array(X, *, n_features=None, caller="fit"):
    """Validate a dask array for a distributed fit or prediction (lazily).

    Checks what can be checked without reading the data: 2-D, numeric, at least
    one sample and feature, the expected number of features.  Integer, bool and
    float16 input is cast to float64 (as in memory); float32/float64 are kept.  Unknown
    chunk sizes (``nan``, e.g. after boolean indexing) are computed.  Columns are
    merged into one chunk per row block, because every kernel works on whole rows.

    Finiteness is checked by :func:`column_moments` during the first pass over the
    data, not here.
    """
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-D dask array of shape (n_samples, n_features), got ndim={X.ndim} "
            f"(shape {X.shape}). Reshape your data, e.g. X.reshape(-1, 1) for a single feature."
        )
    if any(np.isnan(c) for c in X.chunks[0]):
        X = X.compute_chunk_sizes()
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise ValueError(f"dask array of dtype {X.dtype} is not numeric; pass numbers.")
    if np.issubdtype(X.dtype, np.complexfloating):
        raise ValueError("Complex data not supported; pass real numbers.")
    if X.dtype not in (np.float32, np.float64):  # float16 too, as in memory
        X = X.astype(np.float64)
    n_samples, n_feat = X.shape
    if n_samples < 1:
        raise ValueError(
            f"Found array with 0 sample(s) (shape={X.shape}) while a minimum of 1 is required "
            f"by {caller}."
        )
    if n_feat < 1:
        raise ValueError(
            f"Found array with 0 feature(s) (shape={X.shape}) while a minimum of 1 is required "
            f"by {caller}."
        )
    if n_features is not None and n_feat != n_features:
        raise ValueError(
            f"X has {n_feat} features, but the estimator was fitted with {n_features} features; "
            f"pass data with the same columns as at fit time."
        )
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    return X


def check_dask_weights(sample_weight, X):
    """``sample_weight`` as a 1-D dask array aligned with the row blocks of ``X``, or None.

    Accepts None, a scalar, a numpy array or a dask array. Negative or non-finite
    weights are detected in the first pass (:func:`column_moments`).
    """
    if sample_weight is None:
        return None
    n_samples = X.shape[0]
    if isinstance(sample_weight, numbers.Number):
        return da.full((n_samples,), float(sample_weight), dtype=X.dtype, chunks=(X.chunks[0],))
    if isinstance(sample_weight, da.Array):
        sw = sample_weight
        if sw.ndim == 1 and any(np.isnan(c) for c in sw.chunks[0]):
            # unknown chunk sizes (rows filtered by a mask, as X was): computed, as X's are
            sw = sw.compute_chunk_sizes()
    else:
        sw = np.asarray(sample_weight)
    if sw.ndim != 1:
        raise ValueError(
            f"sample_weight must be a 1-D array of length n_samples={n_samples}, "
            f"got an array of shape {sw.shape}."
        )
    if sw.shape[0] != n_samples:
        raise ValueError(
            f"sample_weight has {sw.shape[0]} entries but X has {n_samples} "
            f"samples; pass one weight per sample."
        )
    if isinstance(sw, da.Array):
        sw = sw.astype(X.dtype).rechunk((X.chunks[0],))
    else:
        sw = da.from_array(np.ascontiguousarray(sw, dtype=X.dtype), chunks=(X.chunks[0],))
    return sw


def row_blocks(X, sample_weight=None):
    """The row blocks of ``X`` (and of ``sample_weight``) as lists of delayed objects.

    Returns ``(x_blocks, w_blocks, offsets)``: ``w_blocks`` is a list of None when
    there are no weights; ``offsets[i]`` is the global index of block ``i``'s first row.
    """
    x_blocks = list(X.to_delayed().ravel())
    if sample_weight is None:
        w_blocks = [None] * len(x_blocks)
    else:
        w_blocks = list(sample_weight.to_delayed().ravel())
    offsets = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]]).astype(np.int64)
    return x_blocks, w_blocks, offsets


def map_blocks_compute(func, x_blocks, w_blocks, *args):
    """Run ``func(x_block, w_block, block_index, *args)`` on every block; return results in order.

    One ``dask.compute`` call: the tasks run on the default scheduler (the active
    ``distributed.Client``, else local threads). Small arguments in ``args`` are
    embedded in the graph once and shared by all tasks.
    """
    shared = [dask.delayed(a, traverse=False) if isinstance(a, np.ndarray) else a for a in args]
    tasks = [
        dask.delayed(func, pure=False)(xb, wb, i, *shared)
        for i, (xb, wb) in enumerate(zip(x_blocks, w_blocks))
    ]
    return list(dask.compute(*tasks))


def ensure_numba_threads():
    """Start numba's thread pool before calling a cached kernel in a fresh process.

    A serial ``njit`` kernel loaded from numba's on-disk cache that calls a
    ``parallel=True`` one aborts ("Symbol not found: allocate_sched") or crashes
    if no parallel kernel has started the pool in this process yet -- exactly the
    situation of a freshly started Dask worker. Cheap after the first call.
    """
    from numba.np.ufunc.parallel import _launch_threads

    _launch_threads()


def ordered_sum(parts):
    """Sum a list of equally shaped arrays (or scalars) in list order (deterministic)."""
    total = np.array(parts[0], dtype=np.float64, copy=True)
    for p in parts[1:]:
        total += p
    return total


def _moments_block(xb, wb, index):
    xb = np.asarray(xb)
    n = xb.shape[0]
    n_bad = int(np.count_nonzero(~np.isfinite(xb)))
    bad_w = 0
    neg_w = 0
    w_sum = float(n)
    if wb is not None:
        wb = np.asarray(wb, dtype=np.float64)
        bad_w = int(np.count_nonzero(~np.isfinite(wb)))
        neg_w = int(np.count_nonzero(wb < 0))
        w_sum = float(wb.sum())
    if n == 0 or n_bad:
        d = xb.shape[1]
        return n, np.zeros(d), np.zeros(d), n_bad, bad_w, neg_w, w_sum, 0.0
    x64 = xb.astype(np.float64)
    mean = x64.mean(axis=0)
    m2 = ((x64 - mean) ** 2).sum(axis=0)
    return n, mean, m2, n_bad, bad_w, neg_w, w_sum, float(np.max(np.abs(x64)))


def column_moments(X, sample_weight=None, blocks=None, caller=None):
    """One pass: per-feature mean and (unweighted, population) variance, with input checks.

    Merges per-block means and sums of squared deviations in block order (Chan et
    al.'s pairwise update), so the result does not depend on the scheduler.
    Raises ``ValueError`` if ``X`` holds NaN/inf, values whose squared distances
    overflow or (all of them) underflow float64 (the in-memory estimators'
    :func:`clusterlab._validation.check_magnitude`, named after ``caller``), or
    ``sample_weight`` is negative or non-finite.

    Returns ``(mean, var, weight_sum)`` as float64.
    """
    if blocks is None:
        blocks = row_blocks(X, sample_weight)
    x_blocks, w_blocks, _ = blocks
    parts = map_blocks_compute(_moments_block, x_blocks, w_blocks)
    n_bad = sum(p[3] for p in parts)
    if n_bad:
        raise ValueError(
            f"Input X contains {n_bad} NaN or infinite value(s); remove or impute them "
            f"(e.g. with sklearn.impute.SimpleImputer) before fitting."
        )
    top = max((p[7] for p in parts), default=0.0)
    check_magnitude(np.array([[top]]), caller or "fit", n_features=X.shape[1])
    if sum(p[4] for p in parts):
        raise ValueError("sample_weight contains NaN or infinity; pass finite weights.")
    if sum(p[5] for p in parts):
        raise ValueError("Negative values in data passed to sample_weight; pass weights >= 0.")
    count = 0
    mean = None
    m2 = None
    for n, mb, m2b, *_ in parts:
        if n == 0:
            continue
        if mean is None:
            count, mean, m2 = n, mb.copy(), m2b.copy()
            continue
        total = count + n
        delta = mb - mean
        mean = mean + delta * (n / total)
        m2 = m2 + m2b + delta**2 * (count * n / total)
        count = total
    weight_sum = float(ordered_sum([p[6] for p in parts]))
    if sample_weight is not None and weight_sum <= 0:
        raise ValueError("sample_weight sums to zero; at least one sample needs a positive weight.")
    return mean, m2 / count, weight_sum


def hashed_uniform(global_index, seed):
    """Uniform [0, 1) numbers keyed by (seed, global row index): splitmix64 on both.

    The same row always gets the same number for the same seed, whatever the
    chunking or the worker, which makes sampling independent of the chunk layout.
    """
    with np.errstate(over="ignore"):
        z = np.asarray(global_index, dtype=np.uint64) + np.uint64(seed) * np.uint64(
            0x9E3779B97F4A7C15
        )
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def strip_lazy_state(estimator):
    """A shallow copy of a fitted estimator without its lazy (dask) attributes.

    Used before shipping a model into ``map_blocks`` tasks: a dask ``labels_``
    would drag the whole training graph along.
    """
    # built by hand: copy.copy would go through __getstate__, which computes them
    est = type(estimator).__new__(type(estimator))
    est.__dict__.update({name: value for name, value in vars(estimator).items()
                         if not isinstance(value, da.Array)})
    return est


class ComputeFailed(RuntimeError):
    """A distributed computation failed; the message says during what (raised
    once: a step inside another, e.g. the K-Means that initialises a mixture,
    is not wrapped again)."""


def warn_or_raise_compute(exc, what):
    """Re-raise a failure of a distributed computation with what was being done."""
    if isinstance(exc, ComputeFailed):
        raise exc
    raise ComputeFailed(
        f"The distributed computation failed during {what}: {type(exc).__name__}: {exc}. "
        f"No model was stored; check the workers (memory limit, crashes) and fit again."
    ) from exc


def saved_state(estimator):
    """The estimator's attributes (arrays copied), for :func:`restore_state`."""
    return {name: (value.copy() if isinstance(value, np.ndarray) else value)
            for name, value in vars(estimator).items()}


def restore_state(estimator, state):
    """Put back what :func:`saved_state` saved: a fit that fails part-way leaves
    the estimator as it was (unfitted, or its previous model)."""
    vars(estimator).clear()
    vars(estimator).update(state)


class MemmapSource:
    """Array-like over a raw memmap file that pickles as its path (for ``da.from_array``)."""

    def __init__(self, path, dtype, shape):
        self.path = str(path)
        self.dtype = np.dtype(dtype)
        self.shape = tuple(int(s) for s in shape)
        self.ndim = len(self.shape)

    def __getitem__(self, key):
        mm = np.memmap(self.path, dtype=self.dtype, mode="r", shape=self.shape)
        return np.array(mm[key], copy=True)


def from_memmap(path, dtype, shape, chunks=None):
    """See :func:`clusterlab.distributed.from_memmap`."""
    source = MemmapSource(path, dtype, shape)
    if chunks is None:
        row_bytes = max(1, int(np.prod(source.shape[1:])) * source.dtype.itemsize)
        chunks = max(1, (64 * 2**20) // row_bytes)
    if isinstance(chunks, (int, np.integer)):
        chunks = (int(chunks),) + tuple(source.shape[1:])
    return da.from_array(source, chunks=chunks, asarray=False, fancy=False,
                         meta=np.empty((0,) * source.ndim, dtype=source.dtype),
                         name="memmap-" + dask.base.tokenize(
                             source.path, os.path.getmtime(source.path), source.dtype,
                             source.shape, chunks))


__all__ = [
    "check_dask_array",
    "check_dask_weights",
    "column_moments",
    "ensure_numba_threads",
    "from_memmap",
    "hashed_uniform",
    "map_blocks_compute",
    "ordered_sum",
    "row_blocks",
    "strip_lazy_state",
]
