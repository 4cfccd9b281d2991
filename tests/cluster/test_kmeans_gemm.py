"""Fast paths of KMeans that must not change a result: the BLAS ("GEMM") distance
path and the pruned k-means++ seeding.

``clusterlab._kernels.gemm`` computes ``||x||^2 + ||c||^2 - 2 x.c`` through a
matrix product and re-checks near ties exactly. These tests pin that the
shortcut never changes a result: against scikit-learn, against the direct
kernels on hostile data (far from the origin, float32, duplicated centres),
and that every bound it hands to the bounded algorithms is valid.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import KMeans as SKKMeans
from sklearn.datasets import make_blobs

from clusterlab import KMeans
from clusterlab._kernels import distances as k_distances
from clusterlab._kernels.gemm import blocks as g_blocks
from clusterlab._kernels.gemm import passes as g_passes
from clusterlab._kernels.kmeans import common as k_common
from clusterlab._kernels.kmeans import hamerly as k_hamerly
from clusterlab._kernels.kmeans import kpp as k_kpp
from clusterlab._kernels.kmeans import kpp32 as k_kpp32
from clusterlab._kernels.kmeans import kpp_columnar as k_kpp_columnar
from clusterlab._core import kmeans_plan, kmeans_seeding

# The GEMM kernels and their bound variants are the slowest to compile (minutes
# on a cold cache over this module): the quick tier leaves them to the full one
# (tests/conftest.py).
pytestmark = pytest.mark.slow

EXACT = ["lloyd", "elkan", "hamerly", "yinyang"]


def blobs(n=3000, d=24, k=40, seed=0, dtype=np.float64, offset=0.0, std=2.0):
    X, _ = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=std,
                      center_box=(-10, 10), random_state=seed)
    return (X + offset).astype(dtype)


def init_rows(X, k, seed=0):
    rng = np.random.RandomState(seed)
    return X[rng.choice(X.shape[0], k, replace=False)].copy()


@pytest.fixture(autouse=True)
def gemm_on(monkeypatch):
    """The GEMM path whatever the work: these shapes are below
    KMEANS_GEMM_MIN_WORK, which would give them the direct kernels."""
    monkeypatch.setitem(kmeans_plan.FORCED, "gemm", True)


@pytest.fixture
def no_gemm(monkeypatch):
    """Run a block with the GEMM path switched off (the direct kernels only)."""
    def off():
        monkeypatch.setitem(kmeans_plan.FORCED, "gemm", False)
    return off


@pytest.fixture(params=[False, True], ids=["serial", "parallel"])
def parallel(request, monkeypatch):
    # the parallel path (numba threads each calling single-threaded BLAS) on small data
    monkeypatch.setitem(kmeans_plan.FORCED, "parallel", request.param)
    return request.param


def test_gemm_path_taken_for_these_shapes():
    assert g_blocks.gemm_pays(24, 40, np.float64)
    assert g_blocks.gemm_pays(784, 10, np.float32)
    assert g_blocks.gemm_pays(784, 10, np.float64)
    assert not g_blocks.gemm_pays(128, 10, np.float64)  # a skinny float64 product loses
    assert not g_blocks.gemm_pays(2, 5)  # the seed's blobs stay on the direct kernels
    # float32 from four centres with 8-32 features, from eight with more
    assert g_blocks.gemm_pays(16, 4, np.float32)
    assert g_blocks.gemm_pays(8, 8, np.float32)
    assert not g_blocks.gemm_pays(16, 3, np.float32)
    assert not g_blocks.gemm_pays(64, 4, np.float32)
    assert not g_blocks.gemm_pays(16, 4, np.float64)


@pytest.mark.parametrize("algorithm", EXACT + ["auto"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_oracle_against_sklearn(algorithm, dtype, weighted, parallel):
    X = blobs(dtype=dtype)
    init = init_rows(X, 40)
    sw = np.random.RandomState(1).uniform(0.5, 2.0, X.shape[0]) if weighted else None
    ours = KMeans(40, init=init, n_init=1, algorithm=algorithm, tol=0, max_iter=50)
    ours.fit(X, sample_weight=sw)
    ref = SKKMeans(40, init=init, n_init=1, tol=0, max_iter=50).fit(X, sample_weight=sw)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    rtol = 1e-6 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(ours.inertia_, ref.inertia_, rtol=rtol)
    assert ours.n_iter_ == ref.n_iter_


def _fit_with_and_without_gemm(X, k, init_seed, algorithm, max_iter, no_gemm):
    """Fit with the BLAS path, then with the direct kernels only; assert the
    same labels, centres and iteration count; return both fits."""
    init = init_rows(X, k, seed=init_seed)
    kw = dict(init=init, n_init=1, algorithm=algorithm, tol=0, max_iter=max_iter)
    with_gemm = KMeans(k, **kw).fit(X)
    no_gemm()
    direct = KMeans(k, **kw).fit(X)
    np.testing.assert_array_equal(with_gemm.labels_, direct.labels_)
    np.testing.assert_array_equal(with_gemm.cluster_centers_, direct.cluster_centers_)
    assert with_gemm.n_iter_ == direct.n_iter_
    return with_gemm, direct


@pytest.mark.parametrize("min_pass", [0.0, 1.01])
def test_hamerly_tightening_cut_short_keeps_the_labels(min_pass, no_gemm, parallel,
                                                       monkeypatch):
    # Hamerly's tightening stops in a row range once too few tightened rows
    # pass (checked every 256 rows); 1.01 stops it at the first check, so
    # the untightened rows (loose upper bounds) go straight to the BLAS
    # re-scan. 0 tightens every failed row. Same fit as the direct kernels.
    monkeypatch.setitem(kmeans_plan.FORCED, "tighten_min_pass", min_pass)
    X = blobs(n=12000, d=16, k=36, seed=5, dtype=np.float32)
    with_gemm, direct = _fit_with_and_without_gemm(X, 36, 2, "hamerly", 25, no_gemm)
    np.testing.assert_allclose(with_gemm.inertia_, direct.inertia_, rtol=1e-12)


@pytest.mark.parametrize("n_far", [1, 3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_hamerly_top_mover_test_keeps_the_labels(dtype, n_far, no_gemm, parallel):
    # One (three) initial centre(s) far from the data move ~10x more than any
    # other in the first iterations: Hamerly's tightening then checks those
    # centres on their own (the other centres' bound drops by their largest
    # shift only). Same fit as scikit-learn's Lloyd, with and without BLAS.
    X = blobs(n=8000, d=16, k=36, seed=7, dtype=np.float64).astype(dtype)
    init = init_rows(X, 36, seed=4).astype(np.float64)
    for q, c in enumerate([5, 17, 30][:n_far]):
        init[c] = X.mean(0) + 40.0 * (1 + 0.3 * q) * (-1) ** q
    kw = dict(init=init, n_init=1, tol=0, max_iter=30)
    ref = SKKMeans(36, **kw).fit(X)
    with_gemm = KMeans(36, algorithm="hamerly", **kw).fit(X)
    np.testing.assert_array_equal(with_gemm.labels_, ref.labels_)
    assert with_gemm.n_iter_ == ref.n_iter_
    no_gemm()
    direct = KMeans(36, algorithm="hamerly", **kw).fit(X)
    np.testing.assert_array_equal(direct.labels_, ref.labels_)
    np.testing.assert_array_equal(direct.cluster_centers_, with_gemm.cluster_centers_)


@pytest.mark.parametrize("algorithm", EXACT)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("offset", [0.0, 1e4, 1e7])
def test_same_labels_as_direct_kernels_far_from_origin(algorithm, dtype, offset, no_gemm,
                                                       parallel):
    # Far from the origin ||x||^2 + ||c||^2 - 2 x.c cancels: most rows must be
    # re-checked exactly, and the labels must not move.
    # k >= 32: Hamerly re-scans go through GEMM too
    X = blobs(n=2000, d=16, k=36, seed=4, dtype=np.float64, offset=offset)
    with_gemm, direct = _fit_with_and_without_gemm(X.astype(dtype), 36, 3, algorithm, 30,
                                                   no_gemm)
    # the GEMM paths know the rows' squared norms and take the inertia from
    # the cluster sums (direct paths sum the distances): equal to rounding
    np.testing.assert_allclose(with_gemm.inertia_, direct.inertia_, rtol=1e-12)


@pytest.mark.parametrize("algorithm", EXACT)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_wide_rows_use_short_blocks_and_keep_the_labels(algorithm, dtype, no_gemm, parallel):
    # 600 features: product blocks of 64 (float32) or 32 (float64) rows, and
    # 1000 rows are not a multiple of either; k >= 32 so Hamerly re-scans
    # gathered rows through BLAS too. Labels as the direct kernels'.
    assert g_blocks.block_rows(np.empty((1, 600), np.float32)) == 64
    assert g_blocks.block_rows(np.empty((1, 600), np.float64)) == 32
    assert g_blocks.block_rows(np.empty((1, 16), np.float32)) == g_blocks.BLOCK_ROWS
    X = blobs(n=1000, d=600, k=33, seed=8, dtype=np.float64, offset=50.0, std=6.0)
    _fit_with_and_without_gemm(X.astype(dtype), 33, 2, algorithm, 20, no_gemm)


@pytest.mark.parametrize("algorithm", EXACT)
@pytest.mark.parametrize("scale, dtype", [(1e-30, np.float32), (1e19, np.float32),
                                          (1e152, np.float64)])
def test_underflow_and_overflow_fall_back_to_exact(algorithm, scale, dtype, no_gemm):
    # Tiny values underflow in the product (the error bound has an absolute
    # term for it); huge ones overflow it (non-finite values are never
    # trusted): either way the labels are the direct kernels'. (float64 values
    # small enough to underflow are refused by the estimator:
    # tests/test_bad_inputs.py::test_magnitudes_beyond_float64_are_refused.)
    X = (blobs(n=1500, d=16, k=36, seed=6) * scale).astype(dtype)
    init = init_rows(X, 36, seed=1)
    kw = dict(init=init, n_init=1, algorithm=algorithm, tol=0, max_iter=15)
    with np.errstate(all="ignore"):
        with_gemm = KMeans(36, **kw).fit(X)
        no_gemm()
        direct = KMeans(36, **kw).fit(X)
    np.testing.assert_array_equal(with_gemm.labels_, direct.labels_)
    assert with_gemm.n_iter_ == direct.n_iter_


def test_duplicated_centres_tie_to_lowest_index(parallel):
    X = blobs(n=1500, d=12, k=20, seed=2)
    init = init_rows(X, 20)
    init[7] = init[3]  # an exact tie for every row nearest to it
    for algorithm in EXACT:
        km = KMeans(20, init=init, n_init=1, algorithm=algorithm, max_iter=1).fit(X)
        ref = SKKMeans(20, init=init, n_init=1, max_iter=1).fit(X)
        np.testing.assert_array_equal(km.labels_, ref.labels_)


#: rows of either dtype, small to large, near and far from the origin
_SCALED = dict(seed=st.integers(0, 10_000), scale=st.sampled_from([1e-3, 1.0, 1e3]),
               offset=st.sampled_from([0.0, 50.0, 1e5]), f32=st.booleans())


def _scaled_rows(rng, n, d, scale, offset, f32):
    return (rng.normal(size=(n, d)) * scale + offset).astype(np.float32 if f32 else np.float64)


def _assert_recount(X, w, labels, sums, weights, counts, rtol, weights_atol):
    """Cluster statistics equal to a full recount from the labels: the weighted
    sums of the rows (atol scaled by the largest), the weights, the counts of
    non-zero-weight rows."""
    k = sums.shape[0]
    ref_sums = np.zeros_like(sums)
    np.add.at(ref_sums, labels, w[:, None] * X.astype(np.float64))
    np.testing.assert_allclose(sums, ref_sums, rtol=rtol, atol=rtol * np.abs(ref_sums).max())
    np.testing.assert_allclose(weights, np.bincount(labels, w, minlength=k), rtol=rtol,
                               atol=weights_atol)
    np.testing.assert_array_equal(counts, np.bincount(labels[w != 0], minlength=k))


@settings(max_examples=25, deadline=None)
@given(**_SCALED)
def test_bounds_from_gemm_scan_are_valid(seed, scale, offset, f32):
    rng = np.random.default_rng(seed)
    n, d, k = 300, 10, 12
    X = _scaled_rows(rng, n, d, scale, offset, f32)
    C = (X[rng.choice(n, k, replace=False)].astype(np.float64)
         + rng.normal(size=(k, d)) * scale * 0.1)
    exact = ((X.astype(np.float64)[:, None, :] - C[None]) ** 2).sum(-1)
    x_sq = g_blocks.row_sq_norms(X, np.array([0, n], np.int64), False)
    ops = g_blocks.gemm_operands(X, C)
    labels = np.empty(n, np.int32)
    upper, lower = np.empty(n), np.empty(n)
    group_of = np.arange(k, dtype=np.int64) % 3
    glb = np.empty((n, 3))
    w = rng.random(n)
    w[:5] = 0.0

    def scan(lower, glb):
        # the scan also writes the row norms and the cluster statistics
        x_sq_out = np.empty(n)
        sums, weights, counts = np.zeros((k, d)), np.zeros(k), np.zeros(k, np.int64)
        g_passes.gemm_full_scan_range(X, x_sq_out, w, C, *ops, 0, n, labels, upper, lower,
                                      group_of, glb, sums, weights, counts)
        np.testing.assert_array_equal(x_sq_out, x_sq)
        _assert_recount(X, w, labels, sums, weights, counts, rtol=1e-12, weights_atol=0.0)

    # Hamerly bounds
    scan(lower, np.empty((0, 3)))
    true_d = np.sqrt(exact)
    np.testing.assert_array_equal(true_d[np.arange(n), labels], true_d.min(1))
    # the label is the lowest index among exact minima of the direct kernel
    assert np.all(upper >= true_d[np.arange(n), labels] * (1 - 1e-12))
    others = true_d.copy()
    others[np.arange(n), labels] = np.inf
    assert np.all(lower <= others.min(1) * (1 + 1e-12))
    # Yinyang group bounds
    scan(np.empty(0), glb)
    for g in range(3):
        in_g = others[:, group_of == g]
        assert np.all(glb[:, g] <= in_g.min(1) * (1 + 1e-12))


@settings(max_examples=25, deadline=None)
@given(**_SCALED, tiled=st.booleans())
def test_gemm_lloyd_pass_labels_estimates_and_moves(seed, scale, offset, f32, tiled):
    # Lloyd's BLAS pass: exact labels (lowest index on ties), estimates of the
    # squared distances within their bound (float32 rows: swept in float32,
    # so within error_bound + sweep_error), and with ``delta`` the moves of the
    # rows that changed label give the statistics of a full recount. With
    # ``tiled``, the first pass writes X transposed tile by tile (blocks of
    # block_rows rows, the last one shorter) and the second reads only those
    # tiles; without estimates, min_sq_dist is left alone and the pass returns 0.
    rng = np.random.default_rng(seed)
    n, d, k = 600, 10, 6
    X = _scaled_rows(rng, n, d, scale, offset, f32)
    w = rng.random(n)
    w[:5] = 0.0
    x_sq = g_blocks.row_sq_norms(X, np.array([0, n], np.int64), False)
    Xd = X.astype(np.float64)
    XT = np.full(n * d if tiled else 0, np.nan, X.dtype)

    def run(C, labels, sums, weights, counts, delta, mode, estimates=True):
        ops = g_blocks.gemm_operands(X, C)
        min_sq = np.full(n, -7.0)
        inertia = g_passes.gemm_lloyd_range(X, XT, mode, x_sq, w, C, *ops, 0, n, labels,
                                            min_sq, sums, weights, counts, delta, estimates)
        exact = ((Xd[:, None, :] - C[None]) ** 2).sum(-1)
        np.testing.assert_array_equal(labels, np.argmin(exact, axis=1))
        if not estimates:
            assert inertia == 0.0 and np.all(min_sq == -7.0)
            return
        c_max = ops[2][0]
        xn = np.sqrt(x_sq)
        bound = (ops[2][1] * xn * c_max + ops[2][2] * (xn + c_max) ** 2 + ops[2][3]
                 + ops[2][4] * (c_max ** 2 + xn * c_max + 1e-37))
        assert np.all(np.abs(min_sq - exact[np.arange(n), labels]) <= bound)
        np.testing.assert_allclose(inertia, np.dot(w, min_sq), rtol=1e-9)

    C0 = Xd[rng.choice(n, k, replace=False)] + rng.normal(size=(k, d)) * scale * 0.1
    labels = np.empty(n, np.int32)
    sums, weights, counts = np.zeros((k, d)), np.zeros(k), np.zeros(k, np.int64)
    run(C0, labels, sums, weights, counts, False, 1 if tiled else 0)
    if tiled:
        br = g_blocks.block_rows(X)
        for s in range(0, n, br):
            e = min(n, s + br)
            np.testing.assert_array_equal(XT[s * d:e * d].reshape(d, e - s), X[s:e].T)
    C1 = C0 + rng.normal(size=(k, d)) * scale * 0.3  # centres moved: some rows change label
    run(C1, labels, sums, weights, counts, True, 2 if tiled else 0, estimates=not tiled)
    _assert_recount(X, w, labels, sums, weights, counts, rtol=1e-9, weights_atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.sampled_from([1e-20, 1e-3, 1.0, 1e3, 1e15]),
       offset=st.sampled_from([0.0, 3.0, 1e4]), k=st.integers(1, 9), m=st.integers(1, 40),
       transposed=st.booleans())
def test_float32_sweep_within_its_error_bound(seed, scale, offset, k, m, transposed):
    # block_top2_f32 keeps the two smallest fl32(fl32(||c||^2) - 2 p) and the
    # index of the smallest; each is within sweep_error of ||c||^2 - 2p
    # computed in float64 from the same float32 products p.
    rng = np.random.default_rng(seed)
    d = 7
    block = ((rng.normal(size=(m, d)) + offset) * scale).astype(np.float32)
    C = (rng.normal(size=(k, d)) + offset) * scale
    Cx, csq, consts = g_blocks.gemm_operands(block, C)
    if consts[4] == 0:  # squared centre norms beyond float32's range: the float64 sweep
        assert consts[0] ** 2 >= 1e37
        return
    out = np.empty((k, m), np.float32)
    f1, f2 = np.empty(m, np.float32), np.empty(m, np.float32)
    g1 = np.empty(m, np.int32)
    # the product through a transposed copy of the block (block_products) or not
    T = np.empty((d, m if transposed else 0), np.float32)
    g_blocks.block_top2_f32(block, Cx, csq, out, f1, f2, g1, T, True)
    if transposed:
        np.testing.assert_array_equal(T, block.T)
    vals = csq[:, None] - 2.0 * out.astype(np.float64)  # (k, m)
    xsq = (block.astype(np.float64) ** 2).sum(1)
    err = consts[4] * (consts[0] ** 2 + np.sqrt(xsq) * consts[0] + 1e-37) / 2  # no safety factor
    srt = np.sort(vals, axis=0)
    assert np.all(np.abs(f1 - srt[0]) <= err)
    if k > 1:
        assert np.all(np.abs(f2 - srt[1]) <= err)
        # the index points at a value within twice the bound of the smallest
        assert np.all(vals[g1, np.arange(m)] <= srt[0] + 2 * err)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.sampled_from([1e-30, 1e-3, 1.0, 1e3, 1e15]),
       offset=st.sampled_from([0.0, 3.0, 1e4]),
       d=st.one_of(st.integers(1, 70), st.integers(250, 600)), k=st.integers(1, 70),
       m=st.integers(1, 41), f32=st.booleans())
def test_products_in_the_kernel_within_the_blas_error_bound(seed, scale, offset, d, k, m,
                                                           f32):
    # the products are computed in the kernel (tile_products on a transposed
    # block, narrow_products by rows for few centres) instead of by BLAS; each is a
    # sum of the d products in some order, within the bound error_bound
    # assumes of BLAS, gamma_(d+1) |x| |c| (plus underflow), for any k, m and d
    # (centre groups of five with a rest, an odd last row; rows of 2 KiB and more:
    # the first five centres streamed row by row)
    dtype = np.float32 if f32 else np.float64
    rng = np.random.default_rng(seed)
    block = ((rng.normal(size=(m, d)) + offset) * scale).astype(dtype)
    Cx = ((rng.normal(size=(k, d)) + offset) * scale).astype(dtype)
    exact = Cx.astype(np.float64) @ block.astype(np.float64).T
    u = 2.0 ** -24 if f32 else 2.0 ** -53
    gamma = (d + 1) * u / (1 - (d + 1) * u)
    norms = np.sqrt((Cx.astype(np.float64) ** 2).sum(1))[:, None] * np.sqrt(
        (block.astype(np.float64) ** 2).sum(1))[None, :]
    bound = gamma * norms + 2 * (d + 2) * float(np.finfo(dtype).tiny)
    in_range = norms < (1e37 if f32 else 1e300)
    narrow = np.full((k, m + 2), np.nan, dtype)
    g_blocks.narrow_products(block, Cx, narrow)
    T = np.zeros((d, m + 3), dtype)  # wider than the block: a shorter last block
    T[:, :m] = block.T
    small = np.full((k, m + 2), np.nan, dtype)
    g_blocks.tile_products(Cx, T, m, small)
    for out in (narrow, small):
        assert np.all(np.isnan(out[:, m:]))  # nothing written beyond the m rows
        err = np.abs(out[:, :m].astype(np.float64) - exact)
        assert np.all(err[in_range] <= bound[in_range])
    # the dispatcher picks one of them (or BLAS) and gives its values
    kind = g_blocks.product_kind(d, k, block.itemsize, True)
    out = np.empty((k, m), dtype)
    g_blocks.block_products(block, Cx, out, np.empty((d, m), dtype), True)
    if kind == 1:
        np.testing.assert_array_equal(out, small[:, :m])
    elif kind == 2:
        np.testing.assert_array_equal(out, narrow[:, :m])


def test_product_kinds_by_shape():
    # the kernel's loops take every transposed block, and rows with few
    # centres from 32 features (float32) or 16 (float64); BLAS the rest
    kind = g_blocks.product_kind
    assert kind(16, 4, 4, True) == 1 and kind(16, 4, 4, False) == 0
    assert kind(784, 10, 4, False) == 2 and kind(784, 10, 8, False) == 2
    assert kind(32, 20, 4, True) == 1 and kind(16, 64, 8, True) == 1
    assert kind(32, 20, 4, False) == 2 and kind(16, 64, 4, False) == 0
    assert kind(784, 64, 4, False) == 0 and kind(784, 16, 8, False) == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rescan_in_place_as_gathered(dtype):
    # Hamerly re-scans a range in place when nearly all its rows failed:
    # the same labels, bounds and moves as gathering every row
    rng = np.random.default_rng(3)
    n, d, k = 1000, 16, 40
    X = (rng.normal(size=(n, d)) * 3 + 7).astype(dtype)
    C = rng.normal(size=(k, d)) * 3 + 7
    x_sq = g_blocks.row_sq_norms(X, np.array([0, n], np.int64), False)
    ops = g_blocks.gemm_operands(X, C)
    old = rng.integers(0, k, n).astype(np.int32)
    w = rng.random(n)
    w[::7] = 0.0
    results = []
    for kind in ("rows", "span"):
        labels, upper, lower = old.copy(), np.zeros(n), np.zeros(n)
        moved = np.full(n, -1, np.int32)
        # the relabelled rows' statistics are moved during the re-scan
        sums, weights, counts = np.zeros((k, d)), np.zeros(k), np.zeros(k, np.int64)
        stats = (w, sums, weights, counts)
        if kind == "rows":
            n_ch = g_passes.gemm_rescan_rows(X, x_sq, np.arange(n), n, C, *ops, labels, upper,
                                             lower, moved, *stats)
        else:
            n_ch = g_passes.gemm_rescan_span(X, x_sq, 0, n, C, *ops, labels, upper, lower,
                                             moved, *stats)
        results.append((n_ch, labels, upper, lower, moved, sums, weights, counts))
    assert results[0][0] == results[1][0] == np.count_nonzero(results[0][1] != old)
    for a, b in zip(results[0][1:], results[1][1:]):
        np.testing.assert_array_equal(a, b)
    new_labels = results[1][1]
    exact = ((X.astype(np.float64)[:, None] - C[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(new_labels, exact.argmin(1))

    def stats_of(lab):
        s_ = np.zeros((k, d))
        np.add.at(s_, lab, w[:, None] * X.astype(np.float64))
        return (s_, np.bincount(lab, w, minlength=k),
                np.bincount(lab[w != 0], minlength=k))
    for got, after, before in zip(results[1][5:], stats_of(new_labels), stats_of(old)):
        np.testing.assert_allclose(got, after - before, atol=1e-9 * np.abs(after).max())
    # without statistics ((0, d) sums) nothing else changes
    labels, upper, lower = old.copy(), np.zeros(n), np.zeros(n)
    none = (np.empty(0), np.empty((0, d)), np.empty(0), np.empty(0, np.int64))
    g_passes.gemm_rescan_span(X, x_sq, 0, n, C, *ops, labels, upper, lower,
                              np.full(n, -1, np.int32), *none)
    np.testing.assert_array_equal(labels, new_labels)


def _kpp_kernel(name):
    """Plan fields that make kmeans_plusplus run the named seeding kernel (float32:
    float32 rows only; other data falls through to the buffered kernel)."""
    return {"seeding": name}


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(2, 40), d=st.sampled_from([1, 3, 20]),
       offset=st.sampled_from([0.0, 1e3]), weighted=st.booleans(), par=st.booleans(),
       kernel=st.sampled_from(["buffered", "pruned", "columnar"]))
def test_kmeans_plusplus_kernels_pick_what_sklearn_picks(seed, k, d, offset, weighted, par,
                                                         kernel):
    # Three seeding kernels: the buffered one, the pruned one (rows skipped by
    # the triangle inequality) and the columnar one (a transposed copy of X).
    # All must give the potentials, hence the picks, of the unpruned greedy
    # k-means++ (float64).
    from sklearn.cluster import kmeans_plusplus as sk_kpp

    from clusterlab import kmeans_plusplus

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(600, d)) * rng.uniform(0.5, 3, size=d) + offset
    X[:200] += 6.0  # two dense regions, so that many rows are pruned
    sw = rng.uniform(0.1, 2.0, 600) if weighted else None
    with kmeans_plan.forced(parallel=par, **_kpp_kernel(kernel)):
        ours = kmeans_plusplus(X, k, sample_weight=sw, random_state=seed)[1]
    ref = sk_kpp(X, k, sample_weight=sw, random_state=seed)[1]
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_all_kmeans_plusplus_kernels_give_the_same_centres(dtype, monkeypatch):
    X = blobs(n=5000, d=8, k=30, seed=9, dtype=dtype)
    from clusterlab import kmeans_plusplus

    picks = {}
    for name in ("buffered", "pruned", "columnar", "float32"):
        with kmeans_plan.forced(parallel=True, **_kpp_kernel(name)):
            picks[name] = [kmeans_plusplus(X, 30, random_state=s)[1] for s in range(3)]
    np.testing.assert_array_equal(picks["buffered"], picks["pruned"])
    np.testing.assert_array_equal(picks["buffered"], picks["columnar"])
    np.testing.assert_array_equal(picks["buffered"], picks["float32"])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 400), d=st.integers(1, 40),
       k=st.integers(1, 12), dtype=st.sampled_from([np.float64, np.float32]),
       weighted=st.booleans(), dup=st.booleans())
def test_compiled_one_group_seeding_is_the_python_loop(seed, n, d, k, dtype, weighted, dup):
    # kmeans_plusplus on one row group runs the greedy loop compiled whole
    # (kpp_greedy_one_group); it must pick what the Python loop over the
    # buffered kernel picks and leave the random state where it leaves it
    k = min(k, n)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)).astype(dtype)
    if dup:
        X[n // 2:] = X[0]  # many equal rows: ties in distances and potentials
    w = rng.uniform(0.1, 2.0, n) if weighted else np.ones(n)
    t = 2 + int(np.log(k))
    rs_new, rs_old = np.random.RandomState(seed), np.random.RandomState(seed)
    bounds = np.array([0, n], np.int64)
    with kmeans_plan.forced(seeding="buffered"):
        c_new, i_new = kmeans_seeding.kmeans_plusplus(X, k, w, rs_new, bounds=bounds)
    first = rs_old.choice(n, p=w / w.sum())
    kernel = kmeans_seeding._BufferedSeeding(X, w, t, bounds, False)
    c_old, i_old = kmeans_seeding._greedy_seeding(
        X, k, rs_old, t, first, np.empty((k, d), X.dtype), np.full(k, -1, np.intp), kernel)
    np.testing.assert_array_equal(i_new, i_old)
    np.testing.assert_array_equal(c_new, c_old)
    assert c_new.dtype == X.dtype
    assert rs_new.randint(1 << 30) == rs_old.randint(1 << 30)


def _seed_with(X, k, kernel, monkeypatch, parallel, **kw):
    for attr, value in {**_kpp_kernel(kernel), "parallel": parallel}.items():
        monkeypatch.setitem(kmeans_plan.FORCED, attr, value)
    used = []
    real = kmeans_seeding._Float32Seeding.__init__

    def spy(self, *a, **k):
        used.append(True)
        real(self, *a, **k)

    monkeypatch.setattr(kmeans_seeding._Float32Seeding, "__init__", spy)
    out = kmeans_plusplus_(X, k, **kw)
    monkeypatch.undo()
    return out, bool(used)


def kmeans_plusplus_(X, k, **kw):
    from clusterlab import kmeans_plusplus

    return kmeans_plusplus(X, k, **kw)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(21, 60), d=st.sampled_from([8, 13, 40]),
       scale=st.sampled_from([1e-30, 1.0, 1e12]), offset=st.sampled_from([0.0, 1e3]),
       weighted=st.booleans(), par=st.booleans(), dup=st.booleans())
def test_float32_kpp_kernel_picks_what_the_exact_kernels_pick(seed, k, d, scale, offset,
                                                               weighted, par, dup):
    # The float32 scoring kernel chooses with float32 potentials and their
    # error bounds, settles close calls and adopts centres exactly: its picks
    # must be the exact (float64, buffered) kernel's, on tiny values
    # (underflowing squares), large offsets and duplicated rows (exact ties).
    import warnings

    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(700, d)) * rng.uniform(0.5, 3, size=d) + offset) * scale
    X[:250] += 5.0 * scale
    if dup:
        X[300:400] = X[200:300]
    X = X.astype(np.float32)
    sw = rng.uniform(0.1, 2.0, 700) if weighted else None
    mp = pytest.MonkeyPatch()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, used = _seed_with(X, k, "float32", mp, par, sample_weight=sw, random_state=seed)
        ref, _ = _seed_with(X, k, "buffered", mp, par, sample_weight=sw, random_state=seed)
    assert used
    np.testing.assert_array_equal(ours[1], ref[1])
    np.testing.assert_array_equal(ours[0], ref[0])


def test_float32_kpp_close_calls_are_settled_exactly(monkeypatch):
    # With an error bound that makes every candidate a contender, every
    # choice is made from exact potentials: same picks as the exact kernel.
    X = blobs(n=4000, d=12, k=40, seed=5, dtype=np.float32)
    ref, _ = _seed_with(X, 40, "buffered", monkeypatch, True, random_state=2)
    monkeypatch.setattr(k_kpp32, "kpp32_rel_error", lambda n, d: 0.5)
    settled = []
    real = kmeans_seeding._Float32Seeding._exact

    def spy(self, cands, commit):
        settled.append(cands.shape[0] if not commit else 0)
        return real(self, cands, commit)

    monkeypatch.setattr(kmeans_seeding._Float32Seeding, "_exact", spy)
    for attr, value in _kpp_kernel("float32").items():
        monkeypatch.setitem(kmeans_plan.FORCED, attr, value)
    ours = kmeans_plusplus_(X, 40, random_state=2)
    assert sum(1 for s in settled if s > 1) == 39  # every step settled exactly
    np.testing.assert_array_equal(ours[1], ref[1])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), d=st.sampled_from([1, 8, 33]),
       scale=st.sampled_from([1e-25, 1e-3, 1.0, 1e15]), offset=st.sampled_from([0.0, 1e4]))
def test_float32_kpp_scores_within_their_bound(seed, d, scale, offset):
    # kpp32_score: potentials within kpp32_rel_error of the exact float64
    # sums, and a row left unflagged provably keeps its distance.
    rng = np.random.default_rng(seed)
    n = 1500
    X = ((rng.normal(size=(n, d)) + offset) * scale).astype(np.float32)
    X64 = X.astype(np.float64)
    w = rng.uniform(0.5, 2.0, n)
    C = X[rng.integers(0, n, 16)]
    # closest: exact distances to some rows, so that ties at the margin occur
    closest = ((X64 - X64[rng.integers(0, n)]) ** 2).sum(1)
    closest = np.minimum(closest, ((X64 - C[3].astype(np.float64)) ** 2).sum(1))
    XT = np.ascontiguousarray(X.T)
    bounds = np.array([0, 256, 777, n], dtype=np.int64)
    g_pots = np.empty((3, 16))
    flags = np.empty((2, n), dtype=np.uint8)
    slack = k_kpp32.kpp32_slack(d)
    k_kpp32.kpp32_score(XT, w, closest, C, slack, bounds, g_pots, flags, False)
    exact_d = ((X64[:, None, :] - C.astype(np.float64)[None]) ** 2).sum(-1)
    exact_pots = (w[:, None] * np.minimum(closest[:, None], exact_d)).sum(0)
    rel = k_kpp32.kpp32_rel_error(n, d)
    tiny = 2 * slack[1] * w.sum()
    assert np.all(np.abs(g_pots.sum(0) - exact_pots) <= rel * exact_pots + tiny)
    bits = np.unpackbits(flags.T[:, :, None], axis=2, bitorder="little").reshape(n, 16)
    unflagged = bits == 0
    assert np.all(exact_d[unflagged] >= closest[np.nonzero(unflagged)[0]])
    # the exact pass gives the exact potentials, and commits the adoption
    cands = np.arange(16, dtype=np.int64)
    out = np.empty((3, 16))
    k_kpp32.kpp32_exact(X, w, closest, C, cands, flags, bounds, out, False, False)
    np.testing.assert_allclose(out.sum(0), exact_pots, rtol=1e-12, atol=1e-300)
    new = closest.copy()
    one = np.empty((3, 1))
    k_kpp32.kpp32_exact(X, w, new, C, cands[5:6], flags, bounds, one, True, True)
    np.testing.assert_allclose(new, np.minimum(closest, exact_d[:, 5]), rtol=1e-12, atol=0)
    np.testing.assert_allclose(one.sum(), (w * new).sum(), rtol=1e-12)


def test_float32_kpp_kernel_falls_back_where_squares_could_overflow(monkeypatch):
    X = blobs(n=2000, d=10, k=30, seed=1, dtype=np.float32) * np.float32(1e17)
    ours, used = _seed_with(X, 30, "float32", monkeypatch, False, random_state=0)
    ref, _ = _seed_with(X, 30, "buffered", monkeypatch, False, random_state=0)
    assert not used
    np.testing.assert_array_equal(ours[1], ref[1])
    ours, used = _seed_with(X / np.float32(1e8), 30, "float32", monkeypatch, False,
                            random_state=0)
    assert used


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("parallel", [False, True])
def test_columnar_kpp_pass_and_search_agree_bitwise(dtype, parallel):
    # The columnar pass adopts the last choice (closest <- min(closest, d)) while
    # scoring; the search computes the same min on the fly for the rows it scans.
    # Both must see the same distances, and the scores must be the weighted sums
    # of min(closest, distance) to each candidate.
    rng = np.random.default_rng(3)
    n, d = 3000, 5
    X = (rng.normal(size=(n, d)) * 40 + 1e3).astype(dtype)
    w = rng.uniform(0.5, 2.0, n)
    XT = np.empty((d, n), dtype=dtype)
    k_kpp_columnar.transpose_rows(X, XT)
    np.testing.assert_array_equal(XT, X.T)
    bounds = np.array([0, 700, 1999, n], dtype=np.int64)
    prev = X[[17]].astype(np.float64)
    cands = X[[3, 2999, 1500]].astype(np.float64)
    closest = rng.uniform(0, 5e3, n)
    before = closest.copy()
    g_pots = np.empty((3, 3))
    k_kpp_columnar.kpp_columnar(XT, w, closest, prev, cands, bounds, g_pots, parallel)
    d_prev = ((X.astype(np.float64) - prev) ** 2).sum(1)
    np.testing.assert_allclose(closest, np.minimum(before, d_prev), rtol=1e-12)
    # bitwise: the search's per-row distance is the pass's block distance
    row_d = np.array([k_kpp._col_row_dist(XT, i, prev) for i in range(n)])
    np.testing.assert_array_equal(closest, np.minimum(before, row_d))
    for c in range(3):
        d_c = ((X.astype(np.float64) - cands[c]) ** 2).sum(1)
        expected = [np.sum(w[a:b] * np.minimum(closest, d_c)[a:b])
                    for a, b in zip(bounds[:-1], bounds[1:])]
        np.testing.assert_allclose(g_pots[:, c], expected, rtol=1e-12)
    # search before adoption sees exactly the adopted values
    g_sums = np.array([np.sum(w[a:b] * closest[a:b]) for a, b in zip(bounds[:-1], bounds[1:])])
    cum = np.cumsum(w * closest)
    mid = cum - 0.5 * w * closest  # half-way into a row: robust to summation order
    values = np.array([mid[10], mid[700], mid[2500], cum[-1] * 2])
    out = np.empty(4, dtype=np.int64)
    k_kpp_columnar.kpp_columnar_search(XT, w, before, prev, bounds, g_sums, values, out)
    ref = np.empty(4, dtype=np.int64)
    k_kpp.kpp_search(w, closest, np.empty((0, 0)), -1, bounds, g_sums, values, ref)
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(out, [10, 700, 2500, n - 1])


@pytest.mark.parametrize("shape, k, dtype, expected", [
    ((2000, 2), 5, np.float64, "lloyd"),         # the seed's blobs: a small problem
    ((20000, 8), 10, np.float64, "hamerly"),     # just above KMEANS_BOUNDS_MIN_WORK
    ((100, 3), 1, np.float64, "lloyd"),          # one cluster
    ((60000, 784), 10, np.float32, "elkan"),     # MNIST-shaped
    ((10**6, 16), 64, np.float32, "hamerly"),    # BLAS re-scans
    ((10**5, 32), 1000, np.float32, "hamerly"),  # BLAS path, many centres
    ((10**5, 4), 200, np.float64, "yinyang"),    # many centres, too few features for BLAS
    ((10**7, 200), 20, np.float32, "hamerly"),   # Elkan's n x k bounds would exceed 512 MiB
    ((200000, 16), 4, np.float32, "lloyd"),      # BLAS path, few centres: plain Lloyd
    ((200000, 16), 15, np.float32, "lloyd"),
    ((200000, 16), 16, np.float32, "hamerly"),
    ((200000, 16), 4, np.float64, "hamerly"),    # float64: no BLAS path at k=4
])
def test_auto_picks_by_shape(shape, k, dtype, expected, monkeypatch):
    monkeypatch.delitem(kmeans_plan.FORCED, "gemm")  # the plan's own choice
    X = np.lib.stride_tricks.as_strided(np.zeros(1, dtype), shape=shape, strides=(0, 0))
    assert kmeans_plan.resolve_algorithm("auto", X, k) == expected


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("offset", [0.0, 1e4, 1e7])
def test_predict_and_score_through_blas_as_direct_kernels(dtype, offset, no_gemm, parallel):
    # predict / score / fit_predict on shapes where the product pays take the
    # nearest centre from BLAS products (near ties re-checked exactly) and the
    # exact distance to it: the labels of the direct kernels and their score
    X = blobs(n=2500, d=24, k=30, seed=7, dtype=np.float64, offset=offset).astype(dtype)
    X[:20] = X[20]  # duplicated rows
    km = KMeans(30, init=init_rows(X, 30), n_init=1, max_iter=3).fit(X)
    km.cluster_centers_[1] = km.cluster_centers_[0]  # an exact tie everywhere
    Y = X[::-1].copy()
    assert g_blocks.gemm_pays(24, 30, dtype)
    labels, score = km.predict(Y), km.score(Y)
    no_gemm()
    np.testing.assert_array_equal(labels, km.predict(Y))
    np.testing.assert_allclose(score, km.score(Y), rtol=1e-12)
    assert not np.any(labels == 1)  # ties go to the lowest index


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000),
       scale=st.sampled_from([0.0, 1e-40, 1e-30, 1.0, 3.0, 1e17, 1e300, 1e308]),
       dtype=st.sampled_from([np.float32, np.float64]), fortran=st.booleans())
def test_abs_max_bound_is_a_power_of_two_above_the_largest_magnitude(seed, scale, dtype,
                                                                      fortran):
    # kpp32_safe's overflow test reads the largest exponent, not the values
    from clusterlab._kernels.distances import abs_max_bound

    rng = np.random.default_rng(seed)
    with np.errstate(over="ignore"):
        a = (rng.normal(size=(7, 5)) * scale).astype(dtype)
    a[~np.isfinite(a)] = np.finfo(dtype).max
    if fortran:
        a = np.asfortranarray(a)
    top = float(np.abs(a).max())
    bound = abs_max_bound(a)
    assert bound >= top
    if top >= 2.0 ** 1023:  # no float64 power of two above it
        assert bound == np.inf
        return
    assert np.log2(bound) == int(np.log2(bound))
    tiny = float(np.finfo(dtype).tiny)
    assert bound <= 2.0 * max(top, tiny) * (1 + 1e-12)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n_far=st.integers(0, 7), scale=st.sampled_from(
    [0.0, 0.3, 3.0, 30.0]), dtype=st.sampled_from([np.float32, np.float64]))
def test_hamerly_filter_bounds_stay_valid_with_several_movers(seed, n_far, scale, dtype):
    # The bound tests of one Hamerly E-step, tightening every failed row
    # (min_pass 0): with a few centres moving far more than the rest the
    # tightening measures the top movers exactly and lowers the bound for
    # the others by their own largest shift only. Whatever the shifts, every
    # row keeps valid bounds (upper >= distance to its centre, lower <= the
    # distance to any other centre) and every row left out of the re-scan
    # list keeps its exact nearest centre.
    rng = np.random.default_rng(seed)
    n, d, k = 400, int(rng.integers(1, 17)), int(rng.integers(2, 13))
    X = rng.normal(size=(n, d)).astype(dtype)
    C0 = rng.normal(size=(k, d)) * 1.5

    def dist(C):
        return np.sqrt(((X.astype(np.float64)[:, None, :] - C[None]) ** 2).sum(-1))

    D0 = dist(C0)
    labels = D0.argmin(1).astype(np.int32)
    part = np.sort(D0, axis=1)
    upper, lower = part[:, 0].copy(), part[:, 1].copy()
    C1 = C0 + rng.normal(size=(k, d)) * 0.05
    far = rng.choice(k, size=min(n_far, k), replace=False)
    C1[far] += rng.normal(size=(len(far), d)) * scale * rng.random((len(far), 1))
    shift = np.sqrt(((C1 - C0) ** 2).sum(1))
    half_min = np.empty(k)
    k_distances.center_half_min(C1, half_min)
    s1, a1, s2 = k_common._two_largest(shift)
    moved_from = np.zeros(n, np.int32)
    rows = np.zeros(n, np.int64)
    tab = k_hamerly.mover_bounds(C1, shift, half_min, s1, a1, s2)
    n_rescan = k_hamerly.hamerly_filter_range(X, C1, half_min, shift, tab, 0, n, labels, upper,
                                              lower, moved_from, rows, 0.0)
    D1 = dist(C1)
    own = D1[np.arange(n), labels]
    others = np.where(np.arange(k)[None] == labels[:, None], np.inf, D1).min(1)
    assert np.all(upper >= own * (1 - 1e-12))
    assert np.all(lower <= others * (1 + 1e-12) + 1e-12)
    kept = np.setdiff1d(np.arange(n), rows[:n_rescan])
    assert np.all(own[kept] <= others[kept])
    assert np.all(moved_from == -1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_hamerly_group_whose_rows_all_fail_is_rescanned_whole(dtype, no_gemm, parallel):
    # Every initial centre 30 units off in the same direction: after the
    # first update every centre has moved ~30, every row's lower bound drops
    # by that much and (almost) every row fails, so each BLAS row group skips
    # its bound pass (sampled) and re-scans all its rows in place. Same fit
    # as scikit-learn's Lloyd and as the direct kernels.
    X = blobs(n=8000, d=16, k=36, seed=3, dtype=np.float64).astype(dtype)
    init = init_rows(X, 36, seed=2).astype(np.float64) + 30.0
    kw = dict(init=init, n_init=1, tol=0, max_iter=15)
    ref = SKKMeans(36, **kw).fit(X)
    with_gemm = KMeans(36, algorithm="hamerly", **kw).fit(X)
    np.testing.assert_array_equal(with_gemm.labels_, ref.labels_)
    no_gemm()
    direct = KMeans(36, algorithm="hamerly", **kw).fit(X)
    np.testing.assert_array_equal(direct.cluster_centers_, with_gemm.cluster_centers_)
    # the sampled test itself: all rows failing / none failing
    n = 1000
    labels = np.zeros(n, np.int32)
    half_min = np.zeros(2)
    shift = np.array([0.0, 5.0])
    s1, a1, s2 = k_common._two_largest(shift)
    tab = k_hamerly.mover_bounds(np.array([[0.0], [1.0]]), shift, half_min, s1, a1, s2)
    upper, lower = np.ones(n), np.full(n, 3.0)
    assert k_hamerly._sample_fails(labels, upper, lower, tab, 0, n)
    assert not k_hamerly._sample_fails(labels, upper, np.full(n, 9.0), tab, 0, n)
