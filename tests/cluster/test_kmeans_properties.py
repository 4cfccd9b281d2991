"""Hypothesis properties of KMeans (exact algorithms, fixed initial centres)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clusterlab import KMeans
from clusterlab._core import kmeans_plan
from clusterlab._kernels import distances as k_distances
from clusterlab._kernels.kmeans import bounded as k_bounded
from clusterlab._kernels.kmeans import columnar as k_columnar
from clusterlab._kernels.kmeans import common as k_common
from clusterlab._kernels.kmeans import elkan as k_elkan
from clusterlab._kernels.kmeans import hamerly as k_hamerly
from clusterlab._kernels.kmeans import lloyd as k_lloyd
from clusterlab._kernels.kmeans import sums as k_sums

ALGORITHMS = st.sampled_from(["lloyd", "elkan", "hamerly", "yinyang"])


@st.composite
def problems(draw, min_k=2, max_k=5):
    """Small, well-spread data sets (few ties) with k distinct initial rows."""
    seed = draw(st.integers(0, 2**31 - 1))
    n = draw(st.integers(12, 60))
    d = draw(st.integers(1, 4))
    k = draw(st.integers(min_k, max_k))
    rng = np.random.RandomState(seed)
    centers = rng.uniform(-10, 10, size=(k, d))
    X = centers[rng.randint(k, size=n)] + rng.normal(scale=2.0, size=(n, d))
    init_idx = rng.choice(n, k, replace=False)
    return X, X[init_idx].copy(), rng, init_idx


@given(problems(), ALGORITHMS)
def test_relabelling_invariance(problem, algorithm):
    X, init, rng, init_idx = problem
    perm = rng.permutation(init.shape[0])
    a = KMeans(init.shape[0], init=init, n_init=1, algorithm=algorithm).fit(X)
    b = KMeans(init.shape[0], init=init[perm], n_init=1, algorithm=algorithm).fit(X)
    # permuting the initial rows permutes the centres and relabels the points
    np.testing.assert_allclose(b.cluster_centers_, a.cluster_centers_[perm], atol=1e-9)
    inv = np.argsort(perm)
    np.testing.assert_array_equal(inv[a.labels_], b.labels_)
    np.testing.assert_allclose(a.inertia_, b.inertia_, rtol=1e-10)


@given(problems(), ALGORITHMS)
def test_integer_weights_equal_duplication(problem, algorithm):
    X, init, rng, init_idx = problem
    w = rng.randint(0, 4, size=X.shape[0])
    w[init_idx] = np.maximum(w[init_idx], 1)  # no initial centre of zero weight
    weighted = KMeans(init.shape[0], init=init, n_init=1, algorithm=algorithm,
                      tol=0).fit(X, sample_weight=w.astype(float))
    dup = KMeans(init.shape[0], init=init, n_init=1, algorithm=algorithm,
                 tol=0).fit(np.repeat(X, w, axis=0))
    np.testing.assert_allclose(weighted.cluster_centers_, dup.cluster_centers_, atol=1e-8)
    np.testing.assert_allclose(weighted.inertia_, dup.inertia_, rtol=1e-8, atol=1e-10)
    # each weighted row has the label of its copies
    np.testing.assert_array_equal(weighted.labels_[w > 0], dup.labels_[np.cumsum(w)[w > 0] - 1])


@given(problems(), ALGORITHMS, st.floats(-100, 100), st.floats(-100, 100))
def test_translation_invariance(problem, algorithm, s0, s1):
    X, init, _, _ = problem
    shift = np.resize(np.array([s0, s1]), X.shape[1])
    a = KMeans(init.shape[0], init=init, n_init=1, algorithm=algorithm).fit(X)
    b = KMeans(init.shape[0], init=init + shift, n_init=1, algorithm=algorithm).fit(X + shift)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(b.cluster_centers_ - shift, a.cluster_centers_, atol=1e-7)


@given(problems(), ALGORITHMS)
def test_float32_agrees_with_float64(problem, algorithm):
    X, init, _, _ = problem
    a = KMeans(init.shape[0], init=init, n_init=1, algorithm=algorithm).fit(X)
    b = KMeans(init.shape[0], init=init.astype(np.float32), n_init=1,
               algorithm=algorithm).fit(X.astype(np.float32))
    assert b.cluster_centers_.dtype == np.float32
    # same partition except where a point is within float32 rounding of a tie
    assert np.mean(a.labels_ == b.labels_) >= 0.95
    if np.array_equal(a.labels_, b.labels_):
        np.testing.assert_allclose(b.inertia_, a.inertia_, rtol=1e-4)


@given(problems(), st.sampled_from(["k-means++", "random"]), st.integers(0, 1000))
def test_same_seed_same_result(problem, init_method, seed):
    X, init, _, _ = problem
    k = init.shape[0]
    a = KMeans(k, init=init_method, n_init=2, random_state=seed).fit(X)
    b = KMeans(k, init=init_method, n_init=2, random_state=seed).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    assert a.inertia_ == b.inertia_


@given(problems(), ALGORITHMS)
def test_all_exact_algorithms_equal_lloyd(problem, algorithm):
    X, init, _, _ = problem
    a = KMeans(init.shape[0], init=init, n_init=1, algorithm="lloyd", tol=0).fit(X)
    b = KMeans(init.shape[0], init=init, n_init=1, algorithm=algorithm, tol=0).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, atol=1e-9)
    assert a.n_iter_ == b.n_iter_


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 700), d=st.integers(1, 16),
       k=st.integers(1, 12), dtype=st.sampled_from([np.float64, np.float32]),
       dup=st.booleans())
def test_columnar_lloyd_kernel_matches_a_reference(seed, n, d, k, dtype, dup):
    # Lloyd's kernel for few features (and, up to 16 features, for 8 centres or
    # more) works on blocks copied feature by feature; it must give the nearest
    # centre (lowest index on exact ties: duplicated centres), its squared
    # distance, and the per-cluster weighted sums -- and the row-by-row
    # kernel's labels (its distances to the last bit or so: contracted differently)
    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(n, d)) * 3 + 100).astype(dtype)
    C = rng.normal(size=(k, d)) * 3 + 100
    if dup and k > 1:
        C[-1] = C[0]
    w = rng.uniform(0.5, 2.0, n)
    labels = np.empty(n, np.int32)
    msd = np.empty(n)
    sums = np.zeros((k, d))
    weights = np.zeros(k)
    inertia = k_lloyd.lloyd_stats_range(X, w, C, 0, n, labels, msd, sums, weights)
    D = ((X.astype(np.float64)[:, None, :] - C[None]) ** 2).sum(-1)
    np.testing.assert_allclose(msd, D.min(1), rtol=1e-12)
    ok = D[np.arange(n), labels] <= D.min(1) * (1 + 1e-12)
    assert ok.all()
    if dup and k > 1:
        assert not np.any(labels == k - 1)  # the duplicate of centre 0 never wins
    ref_sums = np.zeros((k, d))
    np.add.at(ref_sums, labels, w[:, None] * X.astype(np.float64))
    np.testing.assert_allclose(sums, ref_sums, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(weights, np.bincount(labels, weights=w, minlength=k), rtol=1e-12)
    np.testing.assert_allclose(inertia, np.sum(w * msd), rtol=1e-12)
    assert k_columnar.columnar_pays.py_func(d, k) == (d <= 8 or (d <= 16 and k >= 8))
    row_labels, row_msd = np.empty(n, np.int32), np.empty(n)
    k_lloyd._lloyd_stats_direct(X, w, C, 0, n, row_labels, row_msd, np.zeros((k, d)),
                                np.zeros(k))
    np.testing.assert_array_equal(labels, row_labels)
    np.testing.assert_allclose(msd, row_msd, rtol=1e-13)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 700), d=st.integers(1, 40),
       dtype=st.sampled_from([np.float64, np.float32]),
       scale=st.sampled_from([1.0, 1e-150, 1e-300, 1e150, 1e300]),
       centres=st.sampled_from(["apart", "same", "close"]), on_bisector=st.booleans())
def test_two_centre_lloyd_kernel_is_the_direct_kernel_bit_for_bit(seed, n, d, dtype, scale,
                                                                  centres, on_bisector):
    # Lloyd's pass for two centres labels rows by the side of the bisector and
    # leaves the rows within its error bound to the direct kernel's distances:
    # labels, distances, sums, weights and inertia are the direct kernel's bit
    # for bit -- rows exactly on the bisector (ties: centre 0), duplicated or
    # nearly equal centres, magnitudes whose squares underflow or overflow
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * 3
    C = rng.normal(size=(2, d)) * 3
    if centres == "same":
        C[1] = C[0]
    elif centres == "close":
        C[1] = C[0] * (1 + 1e-15) + 1e-300
    if on_bisector:  # every third row on the bisector, or as near as rounding allows
        w = C[1] - C[0]
        v = X[::3] - (C[0] + C[1]) / 2
        if w @ w > 0:
            v -= np.outer(v @ w / (w @ w), w)
        X[::3] = (C[0] + C[1]) / 2 + v
    X = (X * scale).astype(dtype)
    C = C * scale
    if dtype == np.float32:
        X[~np.isfinite(X)] = 0.0  # 1e300 does not fit a float32
    wts = rng.choice([0.0, 0.5, 1.0, 2.0], n).astype(dtype)

    def run(kernel, *estimates):
        out = (np.empty(n, np.int32), np.full(n, -7.0), np.zeros((2, d)), np.zeros(2))
        with np.errstate(all="ignore"):
            inertia = kernel(X, wts, C, 0, n, *out, *estimates)
        return out + (inertia,)

    ref = run(k_lloyd._lloyd_stats_direct)
    got = run(k_lloyd._lloyd_stats_two, True)
    for a, b in zip(ref, got):
        np.testing.assert_array_equal(a, b)
    quiet = run(k_lloyd._lloyd_stats_two, False)  # without estimates: no distances
    for a, b in zip(ref[:1] + ref[2:4], quiet[:1] + quiet[2:4]):
        np.testing.assert_array_equal(a, b)
    assert (quiet[1] == -7.0).all() and quiet[4] == 0.0
    if not k_columnar.columnar_pays.py_func(d, 2):  # the dispatch takes it
        for a, b in zip(ref, run(k_lloyd.lloyd_stats_range)):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_two_centre_lloyd_relocates_as_with_distances(dtype):
    # an initial centre far from every row: its cluster empties on the first
    # pass and takes the farthest row; the two-centre pass leaves no distances
    # without verbose, so Lloyd computes them for the relocation: the same fit
    # as with verbose (distances from the pass), and as Elkan's
    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(size=(150, 12)), rng.normal(size=(50, 12)) + 6]).astype(dtype)
    init = np.vstack([X[:1].astype(np.float64), np.full((1, 12), 1e3)])
    quiet = KMeans(2, init=init, n_init=1, algorithm="lloyd", tol=0).fit(X)
    loud = KMeans(2, init=init, n_init=1, algorithm="lloyd", tol=0, verbose=1).fit(X)
    elkan = KMeans(2, init=init, n_init=1, algorithm="elkan", tol=0).fit(X)
    np.testing.assert_array_equal(quiet.labels_, loud.labels_)
    np.testing.assert_array_equal(quiet.cluster_centers_, loud.cluster_centers_)
    np.testing.assert_array_equal(quiet.labels_, elkan.labels_)
    np.testing.assert_allclose(quiet.cluster_centers_, elkan.cluster_centers_, atol=1e-9)
    assert len(np.unique(quiet.labels_)) == 2


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 600), d=st.integers(1, 8),
       k=st.integers(1, 10), dtype=st.sampled_from([np.float64, np.float32]),
       dup=st.booleans(), elkan=st.booleans())
def test_columnar_first_scan_matches_a_reference(seed, n, d, k, dtype, dup, elkan):
    # The first assignment of Hamerly (distance to the nearest and second
    # nearest) and Elkan (distance to every centre) for few features.

    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(n, d)) * 3 - 50).astype(dtype)
    C = rng.normal(size=(k, d)) * 3 - 50
    if dup and k > 1:
        C[-1] = C[0]
    labels = np.empty(n, np.int32)
    upper = np.empty(n)
    lower = np.empty(0 if elkan else n)
    lb = np.empty((n if elkan else 0, k))
    k_bounded._full_scan_range(X, C, 0, n, labels, upper, lower, lb)
    D = np.sqrt(((X.astype(np.float64)[:, None, :] - C[None]) ** 2).sum(-1))
    np.testing.assert_allclose(upper, D.min(1), rtol=1e-12)
    assert np.all(D[np.arange(n), labels] <= D.min(1) * (1 + 1e-12))
    if dup and k > 1:
        assert not np.any(labels == k - 1)
    if elkan:
        np.testing.assert_allclose(lb, D, rtol=1e-12)
    elif k > 1:
        np.testing.assert_allclose(lower, np.sort(D, 1)[:, 1], rtol=1e-12)
    else:
        assert np.all(lower == np.inf)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 700), d=st.integers(1, 8),
       k=st.integers(1, 10), dtype=st.sampled_from([np.float64, np.float32]),
       dup=st.booleans())
def test_columnar_rescan_matches_a_reference(seed, n, d, k, dtype, dup):
    # Hamerly's re-scan of a list of rows (gathered into blocks for few features):
    # new label (lowest index on ties), exact upper / lower distances, and the
    # old label of relabelled rows in moved_from; other rows untouched.

    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(n, d)) * 3).astype(dtype)
    C = rng.normal(size=(k, d)) * 3
    if dup and k > 1:
        C[-1] = C[0]
    labels = rng.integers(0, k, n).astype(np.int32)
    old_labels = labels.copy()
    upper = np.full(n, -1.0)
    lower = np.full(n, -1.0)
    moved = np.full(n, -1, np.int32)
    rows = np.sort(rng.choice(n, size=rng.integers(0, n + 1), replace=False)).astype(np.int64)
    n_changed = k_hamerly.direct_rescan_rows(X, rows, 0, rows.shape[0], C, labels, upper, lower,
                                             moved)
    D = np.sqrt(((X.astype(np.float64)[:, None, :] - C[None]) ** 2).sum(-1))
    other = np.setdiff1d(np.arange(n), rows)
    assert np.all(upper[other] == -1.0) and np.all(labels[other] == old_labels[other])
    if rows.shape[0]:
        np.testing.assert_allclose(upper[rows], D[rows].min(1), rtol=1e-12)
        assert np.all(D[rows, labels[rows]] <= D[rows].min(1) * (1 + 1e-12))
        second = np.sort(D[rows], 1)[:, 1] if k > 1 else np.full(rows.shape[0], np.inf)
        np.testing.assert_allclose(lower[rows], second, rtol=1e-12)
    changed = labels != old_labels
    assert n_changed == changed.sum()
    np.testing.assert_array_equal(moved[changed], old_labels[changed])
    assert np.all(moved[~changed] == -1)
    if dup and k > 1:
        assert not np.any(labels[rows] == k - 1)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 3000), d=st.integers(1, 20),
       k=st.integers(1, 12), n_groups=st.integers(1, 9))
def test_grouped_moves_equal_serial_moves(seed, n, d, k, n_groups):
    # The incremental cluster sums: per-group deltas (serial or on threads,
    # bitwise the same) agree with the serial row-order update to rounding,
    # counts exactly, and an emptied cluster is exactly zero.

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * 5
    w = rng.uniform(0.5, 2.0, n)
    old = rng.integers(0, k, n).astype(np.int32)
    new = old.copy()
    moving = rng.random(n) < 0.3
    new[moving] = rng.integers(0, k, moving.sum())
    if k > 1:
        new[new == k - 1] = 0  # cluster k - 1 may be emptied
    moved_from = np.where(new != old, old, -1).astype(np.int32)
    sums0 = np.zeros((k, d))
    np.add.at(sums0, old, w[:, None] * X)
    weights0 = np.bincount(old, weights=w, minlength=k)
    counts0 = np.bincount(old, minlength=k).astype(np.int64)
    bounds = np.unique(np.linspace(0, n, n_groups + 1).astype(np.int64))
    G = bounds.shape[0] - 1
    results = []
    for grouped, parallel in [(False, False), (True, False), (True, True)]:
        sums, weights, counts = sums0.copy(), weights0.copy(), counts0.copy()
        if grouped:
            k_sums.apply_moves_grouped(X, w, new, moved_from, bounds, sums, weights, counts,
                                   np.empty((G, k, d)), np.empty((G, k)),
                                   np.empty((G, k), np.int64), parallel)
        else:
            k_sums.apply_moves(X, w, new, moved_from, sums, weights, counts)
        results.append((sums, weights, counts))
    ref_sums = np.zeros((k, d))
    np.add.at(ref_sums, new, w[:, None] * X)
    for sums, weights, counts in results:
        np.testing.assert_array_equal(counts, np.bincount(new, minlength=k))
        np.testing.assert_allclose(sums, ref_sums, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(weights, np.bincount(new, weights=w, minlength=k),
                                   rtol=1e-9, atol=1e-9)
        assert np.all(sums[counts == 0] == 0.0) and np.all(weights[counts == 0] == 0.0)
    for a, b in zip(results[1], results[2]):
        np.testing.assert_array_equal(a, b)


def _sixteen_bit_copy(X):
    # the int16 copy Elkan's E-steps read, filled row by row as the first
    # assignment does

    Q, qerr, offset, scale = k_elkan.interval_rows(X, 1 << 40)
    for i in range(X.shape[0]):
        k_elkan._quantize_row(X, i, Q, qerr, offset, scale)
    return Q, qerr, offset, scale


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), d=st.integers(1, 300),
       scale=st.sampled_from([1e-30, 1e-3, 1.0, 1e3, 1e15]),
       offset=st.sampled_from([0.0, 1.0, 1e4]),
       rows=st.sampled_from(["float32", "int16 of float32", "int16 of float64"]))
def test_float32_distance_interval_brackets_the_exact_distance(seed, d, scale, offset, rows):
    # Elkan computes distances as intervals from one float32 pass (over the
    # float32 rows, or over a 16-bit copy of the rows): the exact distance to
    # the float64 centre must lie inside, and the interval must be tight.

    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(20, d)) + offset) * scale
    if rows == "int16 of float64":
        X *= 1 + 1e-9  # not float32 values
    else:
        X = X.astype(np.float32)
    if rows == "float32":
        X32, xerr, z_offset, z_scale = X, np.empty(0), 0.0, 1.0
    else:
        X32, xerr, z_offset, z_scale = _sixteen_bit_copy(X)
        assert X32.dtype == np.int16
        # every coordinate within half a unit of its exact image (the 20
        # rows are all sampled, nothing is clipped), and xerr bounds the rest
        image = (X.astype(np.float64) - z_offset) / z_scale
        assert np.abs(image - X32).max() <= 0.5 + 1e-3
        resid = np.linalg.norm(image - X32, axis=1)
        assert np.all(resid <= xerr) and np.all(xerr <= resid * (1 + 1e-9) + 1e-9)
    C = (rng.normal(size=(3, d)) + offset) * scale * (1 + 1e-9)  # not float32 values
    C32, cerr = k_elkan.interval_centers(C, z_offset, z_scale)
    gamma = k_elkan.float32_sum_gamma(d)
    exact = np.sqrt(((X.astype(np.float64)[:, None, :] - C[None]) ** 2).sum(-1))
    for i in range(20):
        for j in range(3):
            lo, hi = k_elkan.approx_dist_bounds(X32, i, C32, j, cerr, gamma, xerr, z_scale)
            assert lo <= exact[i, j] * (1 + 1e-15) + 1e-300
            assert exact[i, j] <= hi * (1 + 1e-15)
            if 1e-10 < scale < 1e10:  # and tight: float32 rounding of the data and sum
                slack = np.linalg.norm(C[j]) + np.linalg.norm(X[i])
                quantum = 0.0 if rows == "float32" else 2.01 * (xerr[i] + cerr[j]) * z_scale
                assert hi - lo <= 1e-4 * exact[i, j] + 1e-6 * slack + quantum


@pytest.mark.slow  # compiles the GEMM first-assignment kernels (quick tier: see tests/conftest.py)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("parallel", [False, True])
def test_elkan_first_assignment_writes_the_16bit_copy(parallel, dtype):
    # the first assignment fills the 16-bit copy as it reads each row, the
    # same copy as row by row; its labels are the exact nearest centres, and
    # on float64 rows (whose intervals come from that copy) everything equals
    # the assignment handed the filled copy

    rng = np.random.default_rng(3)
    n, d, k = 500, 40, 6
    X = (rng.normal(size=(n, d)) * (1 + 1e-9)).astype(dtype)
    C = X[rng.choice(n, k, replace=False)].astype(np.float64)
    bounds = np.array([0, 170, 333, n])
    w = rng.uniform(0.5, 2.0, n)

    def first(X32, xerr, fill, offset, scale):
        labels = np.empty(n, np.int32)
        upper, lb = np.empty(n), np.empty((n, k))
        sums, weights, counts = np.zeros((k, d)), np.zeros(k), np.zeros(k, np.int64)
        g = (np.empty((3, k, d)), np.empty((3, k)), np.empty((3, k), np.int64))
        k_elkan.elkan_first_interval(X, X32, xerr, C, bounds, labels, upper, lb, w, sums, weights,
                                counts, *g, parallel, fill, offset, scale)
        return labels, upper, lb, sums

    Q, qerr, offset, scale = k_elkan.interval_rows(X, 1 << 40)
    filled = first(Q, qerr, True, offset, scale)
    Q_ref, qerr_ref, _, _ = _sixteen_bit_copy(X)
    np.testing.assert_array_equal(Q, Q_ref)
    np.testing.assert_array_equal(qerr, qerr_ref)
    if dtype == np.float64:
        given_copy = first(Q.copy(), qerr.copy(), False, offset, scale)
        for a, b in zip(filled, given_copy):
            np.testing.assert_array_equal(a, b)
    exact = ((X.astype(np.float64)[:, None, :] - C[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(filled[0], exact.argmin(1))
    assert np.all(filled[2] <= np.sqrt(exact) * (1 + 1e-12))  # lower bounds
    nearest = np.sqrt(exact.min(1))  # upper bounds, within the copy's rounding
    assert np.all(nearest * (1 - 1e-12) <= filled[1])
    assert np.all(filled[1] <= nearest * (1 + 1e-4) + 4.02 * qerr.max() * scale)


@pytest.mark.slow  # compiles the GEMM first-assignment kernels (quick tier: see tests/conftest.py)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("parallel", [False, True])
def test_elkan_first_assignment_through_blas(parallel, dtype):
    # with many features the first assignment takes its intervals from BLAS
    # products: the exact nearest centres (rows on a bisector are decided on
    # exact squared distances; a row whose float32 products overflow is
    # computed exactly), valid bounds, and the same 16-bit copy and sums as
    # the direct intervals
    from clusterlab import _config

    rng = np.random.default_rng(8)
    n, d, k = 600, 200, 5
    C = rng.normal(size=(k, d)) * 5
    X = C[rng.integers(k, size=n)] + rng.normal(size=(n, d)) * 4
    X[:40] = (C[0] + C[1]) / 2 + 1e-9 * rng.normal(size=(40, d))  # near ties
    X[50] *= 1e37  # float32 products overflow
    X = X.astype(dtype)
    bounds = np.array([0, 200, 401, n])
    w = rng.uniform(0.5, 2.0, n)

    def first(use_gemm):
        labels = np.empty(n, np.int32)
        upper, lb = np.empty(n), np.empty((n, k))
        sums, weights, counts = np.zeros((k, d)), np.zeros(k), np.zeros(k, np.int64)
        g = (np.empty((3, k, d)), np.empty((3, k)), np.empty((3, k), np.int64))
        Q, qerr, offset, scale = k_elkan.interval_rows(X, 1 << 40)
        with _config.single_threaded_blas():
            k_elkan.elkan_first_interval(X, Q, qerr, C, bounds, labels, upper, lb, w, sums,
                                         weights, counts, *g, parallel, True, offset, scale,
                                         use_gemm)
        return labels, upper, lb, sums, weights, Q, qerr

    got = first(True)
    direct = first(False)
    exact = ((X.astype(np.float64)[:, None, :] - C[None]) ** 2).sum(-1)
    np.testing.assert_array_equal(got[0], exact.argmin(1))
    np.testing.assert_array_equal(got[0], direct[0])
    assert np.all(got[2] <= np.sqrt(exact) * (1 + 1e-12))
    assert np.all(np.sqrt(exact.min(1)) <= got[1] * (1 + 1e-12))
    for a, b in zip(got[3:], direct[3:]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow  # 9000 x 20, k=7 runs on threads: the parallel compilations (quick tier: 15 s)
@pytest.mark.parametrize("case", ["outlier outside the sample", "narrow range far from 0",
                                  "constant feature block", "huge values"])
def test_elkan_16bit_copy_exact_on_awkward_ranges(case):
    # the 16-bit copy's range comes from a sample of rows: values outside it
    # are clipped, ranges tiny against the offset round coarsely. The
    # intervals stay bounds, so Elkan still gives Lloyd's labels and inertia.
    rng = np.random.default_rng(11)
    n, d = 9000, 20
    X = rng.normal(size=(n, d))
    if case == "outlier outside the sample":
        X[1] *= 1e6  # n // 4096 = 2: odd rows are not sampled
    elif case == "narrow range far from 0":
        X = 1e6 + 1e-2 * X  # the float32 offset is off the midpoint by 3 % of the range
    elif case == "constant feature block":
        X[:, :10] = 3.0
    else:
        X *= 1e150
    init = X[rng.choice(n, 7, replace=False)]
    ref = KMeans(7, init=init, n_init=1, algorithm="lloyd", max_iter=30, tol=0).fit(X)
    got = KMeans(7, init=init, n_init=1, algorithm="elkan", max_iter=30, tol=0).fit(X)
    np.testing.assert_array_equal(got.labels_, ref.labels_)
    np.testing.assert_allclose(got.inertia_, ref.inertia_, rtol=1e-10)
    assert got.n_iter_ == ref.n_iter_


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("parallel", [False, True])
def test_elkan_interval_near_ties_decided_exactly(parallel, dtype, monkeypatch):
    # Rows almost on the bisector of two centres: their float32 intervals
    # overlap and the float64 distances must decide (the same labels as Lloyd).
    from clusterlab._core import kmeans_plan

    monkeypatch.setitem(kmeans_plan.FORCED, "parallel", parallel)
    rng = np.random.default_rng(5)
    d, n = 200, 3000
    c0 = rng.normal(size=d) * 10
    c1 = c0 + rng.normal(size=d)
    mid = (c0 + c1) / 2
    normal = (c1 - c0) / np.linalg.norm(c1 - c0)
    side = rng.normal(size=(n, d))
    side -= np.outer(side @ normal, normal)  # in the bisecting hyperplane
    X = mid + side + np.outer(rng.choice([-1e-5, 1e-5, 0.0], n), normal)
    X = X.astype(dtype)
    init = np.stack([c0, c1, c0 + 30])
    kw = dict(init=init, n_init=1, max_iter=1, tol=0)
    elkan = KMeans(3, algorithm="elkan", **kw).fit(X)
    lloyd = KMeans(3, algorithm="lloyd", **kw).fit(X)
    np.testing.assert_array_equal(elkan.labels_, lloyd.labels_)


def test_elkan_float64_compares_squared_distances_as_lloyd():
    # Rows on the bisector of two centres: some pairs of squared distances
    # differ in the last bit yet have the same square root. Elkan's float64
    # step must decide on the squares, as Lloyd's argmin does.

    rng = np.random.default_rng(5)
    d, n = 200, 3000
    c0 = rng.normal(size=d) * 10
    c1 = c0 + rng.normal(size=d)
    normal = (c1 - c0) / np.linalg.norm(c1 - c0)
    side = rng.normal(size=(n, d))
    side -= np.outer(side @ normal, normal)
    X = (c0 + c1) / 2 + side + np.outer(rng.choice([-1e-5, 1e-5, 0.0], n), normal)
    C = np.stack([c0, c1, c0 + 30])
    sq = np.array([[k_distances.sq_dist_rows(X, i, C, j) for j in range(3)] for i in range(n)])
    merged = (np.sqrt(sq[:, 0]) == np.sqrt(sq[:, 1])) & (sq[:, 0] != sq[:, 1])
    assert merged.any()  # the data do exercise the case
    for start in (0, 1):
        labels = np.full(n, start, np.int32)
        upper = np.full(n, np.inf)
        lb = np.zeros((n, 3))
        moved = np.empty(n, np.int32)
        k_elkan.elkan_assign_range(X, C, np.zeros(3), np.zeros((3, 3)), np.zeros(3), 0, n, labels,
                              upper, lb, moved, np.empty((0, 0), np.float32), np.empty(0),
                              np.empty((0, 0), np.float32), np.empty(0), 0.0, 1.0)
        np.testing.assert_array_equal(labels, sq.argmin(1))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), offset=st.sampled_from([0.0, 3.0, 1e2, 1e6]),
       spread=st.sampled_from([1e-3, 1.0, 1e3]))
def test_inertia_from_cluster_sums(seed, offset, spread):
    # the bounded runs take the final inertia from the cluster sums and the
    # rows' squared norms; where that subtraction would cancel more than 10
    # bits it declines (None) and the distances are summed directly

    rng = np.random.default_rng(seed)
    n, d, k = 300, 5, 4
    X = offset + spread * rng.normal(size=(n, d))
    w = rng.uniform(0.0, 2.0, n)
    labels = rng.integers(k, size=n)
    C = offset + spread * rng.normal(size=(k, d))
    sums = np.zeros((k, d))
    np.add.at(sums, labels, w[:, None] * X)
    weights = np.bincount(labels, weights=w, minlength=k)
    exact = float(np.sum(w * ((X - C[labels]) ** 2).sum(1)))
    x_sq_w = float(np.sum(w * (X ** 2).sum(1)))
    got = k_common.inertia_from_sums(x_sq_w, sums, weights, C)
    if exact > x_sq_w * 2.0 ** -9:
        assert got is not None
    if got is not None:
        np.testing.assert_allclose(got, exact, rtol=1e-10)
    else:
        assert exact <= x_sq_w * 2.0 ** -10 * (1 + 1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("budget", [0, 1 << 40])
def test_elkan_with_and_without_the_16bit_copy(dtype, budget, monkeypatch):
    # beyond the copy's memory budget Elkan takes its intervals from float32
    # rows as they are, or float64 distances: the same labels either way

    monkeypatch.setitem(kmeans_plan.FORCED, "interval_copy_bytes", budget)
    rng = np.random.default_rng(21)
    C = rng.normal(size=(6, 150)) * 3
    X = (C[rng.integers(6, size=3000)] + rng.normal(size=(3000, 150)) * 2).astype(dtype)
    init = X[:6].astype(np.float64)
    ref = KMeans(6, init=init, n_init=1, algorithm="lloyd", max_iter=25, tol=0).fit(X)
    got = KMeans(6, init=init, n_init=1, algorithm="elkan", max_iter=25, tol=0).fit(X)
    np.testing.assert_array_equal(got.labels_, ref.labels_)
    np.testing.assert_allclose(got.inertia_, ref.inertia_, rtol=1e-6 if dtype == np.float32 else 1e-10)
    assert got.n_iter_ == ref.n_iter_


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 11), st.integers(9, 40),
       st.sampled_from([np.float32, np.float64]))
def test_nearest_of_row_is_first_minimum_of_the_distances(seed, k, d, dtype):
    # the nearest-centre kernel (Lloyd's E-step, predict) keeps its distances
    # in registers below four centres and takes a select-based minimum; it
    # must equal the first minimum of sq_dist_row_to_all bit for bit,
    # exact ties (duplicated centres) going to the lowest index
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(50, d)).astype(dtype)
    centers = rng.normal(size=(k, d))
    if k > 1:
        centers[rng.randint(k)] = centers[rng.randint(k)]  # a tie
    centers[0] = X[3]  # a zero distance
    labels = np.empty(50, np.int32)
    min_sq = np.empty(50)
    k_distances.nearest_center_range(X, centers, 0, 50, labels, min_sq)
    dists = np.empty((50, k))
    for i in range(50):
        k_distances.sq_dist_row_to_all(X, i, centers, dists[i])
    np.testing.assert_array_equal(labels, np.argmin(dists, axis=1))
    np.testing.assert_array_equal(min_sq, dists.min(axis=1))


@pytest.mark.parametrize("algorithm", ["lloyd", "hamerly", "elkan"])
@pytest.mark.parametrize("d", [20, 40])
def test_duplicated_centre_loses_every_tie_to_the_first(algorithm, d):
    # the row-by-row kernels sum four centres at a time; a duplicate past the
    # last full block of four must still lose every exact tie to its first copy
    # (its cluster stays empty and is relocated, as scikit-learn's)
    from sklearn.cluster import KMeans as SKKMeans

    from clusterlab import KMeans
    from clusterlab._core import kmeans_plan

    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, d)) * 3 + 100
    init = X[rng.choice(400, 9, replace=False)].copy()
    init[8] = init[1]
    ref = SKKMeans(9, init=init, n_init=1, max_iter=1, algorithm="lloyd").fit(X)
    with kmeans_plan.forced(gemm=False):
        ours = KMeans(9, init=init, n_init=1, max_iter=1, algorithm=algorithm).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)

