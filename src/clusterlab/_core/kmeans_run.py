"""One K-Means run from initial centres, through a registry of drivers.

:data:`DRIVERS` maps each algorithm of :class:`~.kmeans_plan.KMeansPlan` to
one short function that calls its kernel loop; :func:`run` picks the driver
from the plan (CSR input: the sparse Lloyd driver) and returns
``labels, inertia, centres (X.dtype), n_iter``. ``KMeans``, ``BisectingKMeans``
and the local re-clustering of the Dask seeding all fit through it.
"""

import numpy as np

from clusterlab import _config
from clusterlab._core.kmeans_plan import for_centers
from clusterlab._kernels import distances as _dk
from clusterlab._kernels.kmeans import bounded as _k_bounded
from clusterlab._kernels.kmeans import csr as _k_csr
from clusterlab._kernels.kmeans import lloyd as _k_lloyd


def center_groups(centers):
    """Partition the initial centres into about k / 10 groups for Yinyang.

    Five Lloyd iterations on the centres themselves, from evenly spaced
    centres (deterministic). The grouping only affects speed, never the result.
    Returns ``group_of`` (k,), ``members`` (k,) sorted by group then index, and
    ``group_start`` (Gc + 1,).
    """
    if centers is None:
        z = np.zeros(1, dtype=np.int64)
        return z, z, np.zeros(2, dtype=np.int64)
    k, d = centers.shape
    n_cg = max(1, k // 10)
    group_of = np.zeros(k, dtype=np.int64)
    if n_cg > 1:
        init = centers[np.linspace(0, k - 1, n_cg).astype(np.int64)].copy()
        labels = np.empty(k, dtype=np.int32)
        out = np.empty_like(init)
        _k_lloyd.lloyd_run(centers, np.ones(k), init, np.array([0, k], dtype=np.int64), k, 5,
                           0.0, 0, labels, out, False)
        _, group_of = np.unique(labels, return_inverse=True)  # drop empty groups
        group_of = group_of.astype(np.int64)
    members = np.argsort(group_of, kind="stable").astype(np.int64)
    counts = np.bincount(group_of)
    group_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return group_of, members, group_start


def _run_csr(X, sample_weight, centers0, plan, max_iter, tol, verbose, labels, centers):
    x_sq = np.empty(X.shape[0])
    _dk.csr_row_sq_norms(X.data, X.indptr, x_sq)
    return _k_csr.csr_lloyd_run(X.data, X.indices, X.indptr, x_sq, sample_weight, centers0,
                                plan.bounds, max_iter, tol, verbose, labels, centers,
                                plan.parallel)


def _run_lloyd(X, sample_weight, centers0, plan, max_iter, tol, verbose, labels, centers):
    bounds = plan.bounds
    chunk = int(bounds[1] - bounds[0]) if bounds.shape[0] > 2 else max(1, X.shape[0])
    return _k_lloyd.lloyd_run(X, sample_weight, centers0, bounds, chunk, max_iter, tol, verbose,
                              labels, centers, plan.parallel, plan.gemm, plan.tiled)


def _bounded(mode):
    def driver(X, sample_weight, centers0, plan, max_iter, tol, verbose, labels, centers):
        group_of, members, group_start = center_groups(centers0 if mode == 2 else None)
        return _k_bounded.bounded_run(
            mode, X, sample_weight, centers0, plan.bounds, max_iter, tol, verbose, labels,
            centers, plan.parallel, group_of, members, group_start, plan.gemm,
            plan.gemm_rescan, interval_copy_bytes=plan.interval_copy_bytes,
            tighten_min_pass=plan.tighten_min_pass)
    driver.__name__ = f"_run_bounded_{mode}"
    return driver


#: One driver per algorithm; each returns ``(inertia, n_iter)`` and fills
#: ``labels`` and ``centers``.
DRIVERS = {
    "lloyd": _run_lloyd,
    "hamerly": _bounded(0),
    "elkan": _bounded(1),
    "yinyang": _bounded(2),
}


def run(X, sample_weight, centers_init, plan, max_iter, tol, verbose):
    """One run from ``centers_init``: returns labels, inertia, centres (X.dtype), n_iter."""
    n_samples = X.shape[0]
    k, d = centers_init.shape
    centers0 = np.ascontiguousarray(centers_init, dtype=np.float64)
    if plan.probe:  # 'auto': a bounded algorithm only if its bounds will prune
        plan = for_centers(plan, X, centers0)
    labels = np.empty(n_samples, dtype=np.int32)
    centers = np.empty((k, d), dtype=np.float64)
    driver = _run_csr if plan.sparse else DRIVERS[plan.algorithm]
    args = (X, sample_weight, centers0, plan, max_iter, tol, int(verbose), labels, centers)
    if plan.gemm and plan.parallel:
        # numba's threads call BLAS: one BLAS thread each
        with _config.single_threaded_blas():
            inertia, n_iter = driver(*args)
    else:
        inertia, n_iter = driver(*args)
    return labels, float(inertia), centers.astype(X.dtype, copy=False), int(n_iter)
