"""The K-Means plan and its registry: every path gives scikit-learn's result.

Paths are chosen by forcing plan fields (``kmeans_plan.forced``), never by
patching module constants. Every algorithm of the registry x dtype x
dense/sparse x serial/parallel x BLAS/direct must give the labels and centres
of scikit-learn's Lloyd from the same initial centres, and the same result on
1 and N numba threads.
"""

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.cluster import KMeans as SKKMeans
from sklearn.cluster import kmeans_plusplus as sk_kmeans_plusplus
from sklearn.datasets import make_blobs

from clusterlab import KMeans, kmeans_plusplus
from clusterlab._core import kmeans_plan
from clusterlab._core.kmeans_run import DRIVERS


def overlapping(n=3000, d=10, k=12, seed=0, dtype=np.float64):
    X, _ = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=3.0,
                      center_box=(-10, 10), random_state=seed)
    return X.astype(dtype)


def sk_fit(X, init, max_iter=30):
    return SKKMeans(init.shape[0], init=init, n_init=1, max_iter=max_iter, tol=0,
                    algorithm="lloyd").fit(X)


@pytest.mark.parametrize("algorithm", sorted(DRIVERS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
# the BLAS variants compile the GEMM kernels of every algorithm: full tier only
@pytest.mark.parametrize("gemm", [False, pytest.param(True, marks=pytest.mark.slow)],
                         ids=["direct", "blas"])
def test_every_dense_path_gives_sklearn_result(algorithm, dtype, parallel, gemm):
    X = overlapping(dtype=dtype)
    init = X[::250][:12].copy()
    ref = sk_fit(X, init)
    with kmeans_plan.forced(parallel=parallel, gemm=gemm):
        ours = KMeans(12, init=init, n_init=1, max_iter=30, tol=0, algorithm=algorithm).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    rtol = 1e-6 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=rtol,
                               atol=rtol)
    np.testing.assert_allclose(ours.inertia_, ref.inertia_, rtol=rtol)
    assert ours.cluster_centers_.dtype == dtype


@pytest.mark.slow  # Hamerly's GEMM passes: ~50 s to compile (quick tier: see tests/conftest.py)
@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
def test_hamerly_blas_rescans_give_sklearn_result(parallel):
    # from KMEANS_GEMM_RESCAN_MIN_K centres on, Hamerly's re-scans (and its
    # tightening, cut short by plan.tighten_min_pass) go through BLAS
    X = overlapping(n=6000, d=8, k=40, seed=2, dtype=np.float32)
    init = X[::150][:40].copy()
    ref = sk_fit(X, init)
    with kmeans_plan.forced(parallel=parallel, gemm=True):
        plan = kmeans_plan.make_plan(X, 40, "hamerly")
        assert plan.gemm_rescan
        ours = KMeans(40, init=init, n_init=1, max_iter=30, tol=0, algorithm="hamerly").fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.inertia_, ref.inertia_, rtol=1e-4)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
def test_sparse_path_gives_sklearn_result(dtype, parallel):
    X = overlapping(dtype=dtype)
    X[np.abs(X) < 4] = 0.0
    init = X[::250][:12].copy()
    ref = sk_fit(sp.csr_matrix(X), init)
    with kmeans_plan.forced(parallel=parallel):
        ours = KMeans(12, init=init, n_init=1, max_iter=30, tol=0).fit(sp.csr_matrix(X))
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    rtol = 1e-6 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(ours.inertia_, ref.inertia_, rtol=rtol)


def _fit_on_all_threads_then_one(fit):
    """``fit()`` on the parallel plan with numba's threads, then with one thread."""
    results = []
    old = numba.get_num_threads()
    try:
        for threads in (old, 1):
            numba.set_num_threads(threads)
            with kmeans_plan.forced(parallel=True):
                results.append(fit())
    finally:
        numba.set_num_threads(old)
    return results


def _assert_identical_fits(a, b):
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a.inertia_ == b.inertia_ and a.n_iter_ == b.n_iter_


@pytest.mark.slow  # compiles every driver's parallel kernels (quick tier: see tests/conftest.py)
@pytest.mark.parametrize("algorithm", sorted(DRIVERS))
def test_same_result_on_one_and_n_threads(algorithm):
    # the same compiled row-group kernel runs on 1 or N threads: bit-identical results
    X = overlapping(n=9000, dtype=np.float32)
    a, b = _fit_on_all_threads_then_one(
        lambda: KMeans(12, n_init=2, random_state=3, max_iter=40, tol=0,
                       algorithm=algorithm).fit(X))
    _assert_identical_fits(a, b)


def test_wide_rows_are_shared_between_threads_below_one_row_group():
    # a few thousand wide rows: groups sized by work (KMEANS_GROUP_WORK), at most 16
    b = kmeans_plan.pass_bounds(4000, 10, 784)
    assert len(b) - 1 == 16 and np.all(np.diff(b) >= 64)
    assert len(kmeans_plan.pass_bounds(2000, 5, 2)) == 2            # little work: one group
    assert len(kmeans_plan.pass_bounds(1797, 30, 64)) == 2          # digits, k=30: one group
    assert len(kmeans_plan.pass_bounds(100, 50, 784)) == 2          # < 128 rows: one group
    big = kmeans_plan.pass_bounds(10**6, 16, 64)                    # many rows: by rows
    np.testing.assert_array_equal(big, kmeans_plan.row_bounds(10**6, 16, 64))
    # seeding keeps the row rule (its draws depend on the groups' sums)
    assert len(kmeans_plan.row_bounds(4000, 10, 784)) == 2
    assert kmeans_plan.make_plan(np.zeros((4000, 784), np.float32), 10, "lloyd").bounds.size == 17


@pytest.mark.slow  # parallel kernels (quick tier: see tests/conftest.py)
@pytest.mark.parametrize("algorithm", ["lloyd", "elkan"])
def test_same_result_on_one_and_n_threads_for_wide_rows(algorithm):
    X = overlapping(n=2500, d=400, k=8, seed=2, dtype=np.float32)
    assert len(kmeans_plan.pass_bounds(*X.shape[:1], 8, 400)) > 2
    a, b = _fit_on_all_threads_then_one(
        lambda: KMeans(8, n_init=1, random_state=1, max_iter=30, tol=0,
                       algorithm=algorithm).fit(X))
    _assert_identical_fits(a, b)
    ref = SKKMeans(8, n_init=1, random_state=1, max_iter=30, tol=0).fit(X.astype(np.float64))
    np.testing.assert_allclose(a.inertia_, ref.inertia_, rtol=1e-4)


@pytest.mark.parametrize("seeding", ["float32", "buffered", "columnar", "pruned"])
@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
def test_every_seeding_kernel_picks_sklearn_centres(seeding, parallel):
    dtype = np.float32 if seeding == "float32" else np.float64
    X = overlapping(n=2000, d=9, k=30, seed=4, dtype=dtype)
    ref = sk_kmeans_plusplus(X.astype(np.float64), 30, random_state=7)[1]
    with kmeans_plan.forced(seeding=seeding, parallel=parallel):
        ours = kmeans_plusplus(X, 30, random_state=7)[1]
    if dtype == np.float64:
        np.testing.assert_array_equal(ours, ref)
    else:  # float32 rows: the exact float64 kernels' picks
        with kmeans_plan.forced(seeding="buffered", parallel=parallel):
            exact = kmeans_plusplus(X, 30, random_state=7)[1]
        np.testing.assert_array_equal(ours, exact)


@pytest.mark.parametrize("shape, k, dtype, expected", [
    ((2000, 2), 5, np.float64, "lloyd"),         # the seed's blobs: a small problem
    ((20000, 8), 10, np.float64, "hamerly"),     # just above KMEANS_BOUNDS_MIN_WORK
    ((100, 3), 1, np.float64, "lloyd"),          # one cluster
    ((60000, 784), 10, np.float32, "elkan"),     # MNIST-shaped
    ((10**6, 16), 64, np.float32, "hamerly"),    # BLAS re-scans
    ((10**5, 4), 200, np.float64, "yinyang"),    # many centres, too few features for BLAS
])
def test_plan_picks_by_shape(shape, k, dtype, expected):
    X = np.lib.stride_tricks.as_strided(np.zeros(1, dtype), shape=shape, strides=(0, 0))
    plan = kmeans_plan.make_plan(X, k, "auto")
    assert plan.algorithm == expected
    assert plan.bounds[0] == 0 and plan.bounds[-1] == shape[0]
    assert plan.algorithm in DRIVERS


def test_gemm_only_when_the_work_pays_for_its_compilation():
    def plan(n, d, k, dtype=np.float64):
        X = np.lib.stride_tricks.as_strided(np.zeros(1, dtype), shape=(n, d), strides=(0, 0))
        return kmeans_plan.make_plan(X, k, "auto")

    # digits-shaped: a shape that suits BLAS, too little work to pay for compiling it
    assert not plan(1797, 64, 50).gemm
    assert plan(20000, 64, 50).gemm and plan(20000, 64, 50).algorithm == "hamerly"
    assert plan(60000, 784, 10, np.float32).gemm
    with kmeans_plan.forced(gemm=True):
        assert plan(1797, 64, 50).gemm


def test_plan_for_sparse_input_is_csr_lloyd():
    X = sp.random(100, 5, density=0.3, format="csr", random_state=0)
    plan = kmeans_plan.make_plan(X, 3, "elkan")
    assert plan.sparse and plan.algorithm == "lloyd" and plan.seeding == "sparse"
    assert not plan.gemm


def test_forced_fields_apply_inside_the_block_only():
    X = overlapping(n=500, d=4, k=3)
    with kmeans_plan.forced(parallel=True, gemm=True, seeding="pruned"):
        plan = kmeans_plan.make_plan(X, 3, "lloyd")
        assert plan.parallel and plan.seeding_parallel and plan.gemm
        assert plan.seeding == "pruned"
    plan = kmeans_plan.make_plan(X, 3, "lloyd")
    assert not plan.parallel and not plan.gemm and plan.seeding == "buffered"
    with pytest.raises(TypeError, match="unknown plan fields"):
        with kmeans_plan.forced(no_such_field=1):
            pass


# ----------------------------------------------------------------------------
# 'auto' and its probe: a bounded algorithm only when bounds will prune


def unstructured(n=5000, d=400, k=8, spread=0.05, seed=0):
    # overlapping clusters (benchmarks' "unstructured" cases): centres N(0, spread^2)
    # per feature, each row its centre + N(0, 1) noise; bounds prune nothing
    rng = np.random.default_rng(seed)
    centers = rng.normal(0.0, spread, size=(k, d))
    return (centers[rng.integers(k, size=n)] + rng.normal(size=(n, d))).astype(np.float32)


def test_median_relative_gap_matches_brute_force():
    X = unstructured(n=4096, d=16, k=5, spread=0.7)
    C = X[:5].astype(np.float64) + 0.25
    S = X[::8][:512].astype(np.float64)
    D = np.sqrt(((S[:, None, :] - C[None]) ** 2).sum(-1))
    D.sort(axis=1)
    expected = np.median((D[:, 1] - D[:, 0]) / D[:, 0])
    got = kmeans_plan.median_relative_gap(X, C, n_rows=512)
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    assert kmeans_plan.median_relative_gap(X, C[:1]) == np.inf


def test_probe_picks_lloyd_only_where_bounds_cannot_prune():
    X = unstructured()
    init = X[::700][:8].copy()
    plan = kmeans_plan.make_plan(X, 8, "auto")
    assert plan.algorithm == "elkan" and plan.probe
    assert kmeans_plan.median_relative_gap(X, init) < 0.015
    assert kmeans_plan.for_centers(plan, X, init).algorithm == "lloyd"
    # separated blobs of the same shape: the bounded algorithm stays
    B, _ = make_blobs(n_samples=5000, n_features=400, centers=8, random_state=0)
    B = B.astype(np.float32)
    assert kmeans_plan.for_centers(plan, B, B[::700][:8]).algorithm == "elkan"
    # an explicit algorithm, a forced probe=False, or small data: no probe
    assert not kmeans_plan.make_plan(X, 8, "elkan").probe
    assert not kmeans_plan.make_plan(X[:1000], 8, "auto").probe
    with kmeans_plan.forced(probe=False):
        plan = kmeans_plan.make_plan(X, 8, "auto")
    assert kmeans_plan.for_centers(plan, X, init).algorithm == "elkan"


def test_probe_asks_more_of_hamerly_beside_tiled_lloyd_at_few_centres():
    # at 16-47 centres on BLAS, Lloyd's tiled passes beat Hamerly unless the
    # clusters are well apart (KMEANS_PROBE_TILED_MIN_GAP); from 48 centres,
    # and without tiles, the usual threshold
    def shaped(n, d, k):
        X = np.lib.stride_tricks.as_strided(np.zeros(1, np.float32), shape=(n, d),
                                            strides=(0, 0))
        return kmeans_plan.make_plan(X, k, "auto")

    plan = shaped(100000, 16, 24)
    assert plan.algorithm == "hamerly" and plan.gemm and plan.tiled and plan.probe
    assert kmeans_plan.probe_min_gap(plan, 24) == 0.2
    assert kmeans_plan.probe_min_gap(shaped(100000, 16, 48), 48) == 0.015
    import dataclasses

    assert kmeans_plan.probe_min_gap(dataclasses.replace(plan, tiled=False), 24) == 0.015
    X = unstructured(n=6000, d=16, k=24, spread=0.7, seed=1)  # gap ~0.07
    init = X[::250][:24].copy()
    assert 0.015 < kmeans_plan.median_relative_gap(X, init) < 0.2
    assert kmeans_plan.for_centers(plan, X, init).algorithm == "lloyd"
    B, _ = make_blobs(n_samples=6000, n_features=16, centers=24, random_state=0)
    B = B.astype(np.float32)
    seeds, _ = kmeans_plusplus(B, 24, random_state=0)  # one per blob: gap ~3
    assert kmeans_plan.for_centers(plan, B, seeds).algorithm == "hamerly"


@pytest.mark.slow  # the probe's GEMM Lloyd and Elkan's GEMM first pass: ~15 s to compile (quick tier: see tests/conftest.py)
@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
@pytest.mark.parametrize("probe", [True, False], ids=["probe", "no-probe"])
def test_auto_on_unstructured_data_gives_sklearn_result(parallel, probe):
    # the probe's Lloyd and the bounded algorithm it replaces: scikit-learn's result
    X = unstructured()
    init = X[::700][:8].copy()
    ref = sk_fit(X, init, max_iter=15)
    with kmeans_plan.forced(parallel=parallel, probe=probe):
        ours = KMeans(8, init=init, n_init=1, max_iter=15, tol=0).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-4,
                               atol=1e-4)
    np.testing.assert_allclose(ours.inertia_, ref.inertia_, rtol=1e-4)
    assert ours.n_iter_ == ref.n_iter_


@pytest.mark.slow  # compiles the parallel kernels (quick tier: see tests/conftest.py)
def test_auto_with_probe_same_result_on_one_and_n_threads():
    X = unstructured(n=6000)
    a, b = _fit_on_all_threads_then_one(
        lambda: KMeans(8, n_init=2, random_state=3, max_iter=20, tol=0).fit(X))
    _assert_identical_fits(a, b)


@pytest.mark.slow  # the BLAS Lloyd kernels (7 s to compile), like the GEMM module's tests
@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
def test_blas_lloyd_running_sums_with_relocation_and_weights(parallel):
    # Lloyd on BLAS keeps running cluster statistics moved by the rows that
    # change label; an empty cluster (a far initial centre) is relocated, which
    # forces a full recount, and fractional weights must not leave drift behind
    X = unstructured(n=3000, d=64, k=6, spread=0.3, seed=5)
    w = np.random.default_rng(1).uniform(0.1, 2.0, size=X.shape[0]).astype(np.float32)
    init = X[::500][:6].copy()
    init[2] += 50.0  # no row is nearest to it: relocated on the first iteration
    ref = SKKMeans(6, init=init, n_init=1, max_iter=25, tol=0, algorithm="lloyd").fit(
        X, sample_weight=w)
    with kmeans_plan.forced(parallel=parallel, gemm=True):
        ours = KMeans(6, init=init, n_init=1, max_iter=25, tol=0, algorithm="lloyd").fit(
            X, sample_weight=w)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-4,
                               atol=1e-4)
    np.testing.assert_allclose(ours.inertia_, ref.inertia_, rtol=1e-4)
    assert ours.n_iter_ == ref.n_iter_


@pytest.mark.slow  # the BLAS Lloyd kernels, like the running-sums test above
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
def test_blas_lloyd_on_tiles_is_the_copying_pass(dtype, parallel, capsys):
    # plan.tiled keeps X transposed tile by tile (written by the first pass)
    # instead of copying each block in every pass: the same products, so the
    # same fit bit for bit -- with weights, a relocated empty cluster, rows in
    # a last short block and every group, and the progress printed (the
    # estimates the tiled loop computes only for verbose output)
    X = unstructured(n=4100, d=20, k=5, spread=0.5, seed=7).astype(dtype)
    w = np.random.default_rng(2).uniform(0.1, 2.0, size=X.shape[0])
    init = X[::800][:5].copy()
    init[3] += 40.0  # no row is nearest to it: relocated on the first iteration
    fits, printed = [], []
    for tiled in (False, True):
        with kmeans_plan.forced(parallel=parallel, gemm=True, tiled=tiled):
            assert kmeans_plan.make_plan(X, 5, "lloyd").tiled == tiled
            fits.append(KMeans(5, init=init, n_init=1, max_iter=15, tol=0, verbose=1,
                               algorithm="lloyd").fit(X, sample_weight=w))
        printed.append(capsys.readouterr().out)
    _assert_identical_fits(*fits)
    assert printed[0] == printed[1] and "Iteration 0, inertia" in printed[0]
    ref = SKKMeans(5, init=init, n_init=1, max_iter=15, tol=0, algorithm="lloyd").fit(
        X, sample_weight=w)
    np.testing.assert_array_equal(fits[1].labels_, ref.labels_)


@pytest.mark.slow  # the BLAS Lloyd kernels, like the test above
def test_tiles_give_way_to_copies_when_memory_is_short(monkeypatch):
    # the tiles are a speed choice: when their array cannot be allocated,
    # every pass copies its blocks as before -- the same fit, no MemoryError
    X = unstructured(n=4100, d=20, k=5, spread=0.5, seed=7)
    init = X[::800][:5].copy()

    def fit():
        with kmeans_plan.forced(gemm=True, tiled=True):
            return KMeans(5, init=init, n_init=1, max_iter=6, tol=0, algorithm="lloyd").fit(X)

    ref = fit()  # every kernel compiled before numpy's empty is patched
    real_empty = np.empty

    def empty(shape, *args, **kwargs):
        if shape == X.size:
            raise MemoryError("Unable to allocate the tiles")
        return real_empty(shape, *args, **kwargs)

    monkeypatch.setattr(np, "empty", empty)
    _assert_identical_fits(fit(), ref)


def test_tiles_only_where_blocks_are_copied_and_within_budget(monkeypatch):
    from clusterlab import _config

    def plan(n, d, k, dtype=np.float32, algorithm="lloyd"):
        X = np.lib.stride_tricks.as_strided(np.zeros(1, dtype), shape=(n, d), strides=(0, 0))
        return kmeans_plan.make_plan(X, k, algorithm)

    assert plan(200000, 16, 4).gemm and plan(200000, 16, 4).tiled
    assert not plan(60000, 784, 10).tiled  # wide rows: BLAS reads the blocks as they are
    assert not plan(2000, 16, 4).tiled  # no BLAS path on small data
    monkeypatch.setattr(_config, "KMEANS_TILED_MAX_BYTES", 200000 * 16 * 4 - 1)
    assert plan(200000, 16, 4).gemm and not plan(200000, 16, 4).tiled
    with kmeans_plan.forced(tiled=False, gemm=True):
        assert not plan(1000, 16, 4).tiled
