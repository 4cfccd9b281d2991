"""MiniBatchKMeans: scikit-learn as the oracle, the update rule, memmaps, bad input."""

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import MiniBatchKMeans as SkMiniBatchKMeans
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab import MiniBatchKMeans
from clusterlab._kernels import minibatch as kernels
from clusterlab.datasets import make_mnist_like, to_memmap

SEED_INIT = np.array([[-3, 3], [-3, 2], [-3, 1], [-1, 2], [0, 2]], dtype=float)
RTOL = {np.float64: 1e-6, np.float32: 1e-4}


@pytest.fixture(autouse=True)
def _one_openmp_thread():
    # scikit-learn's OpenMP threads crawl on a shared 2-core machine; the
    # results do not depend on the thread count
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        yield


def _overlapping(n=3000, d=6, k=7, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=2.0, size=(k, d))
    X = centers[rng.integers(k, size=n)] + rng.normal(size=(n, d))
    return X.astype(dtype)


def _assert_same_fit(ours, ref, dtype):
    assert ours.n_steps_ == ref.n_steps_
    assert getattr(ours, "n_iter_", None) == getattr(ref, "n_iter_", None)
    assert ours.cluster_centers_.dtype == dtype
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_,
                               rtol=RTOL[dtype], atol=RTOL[dtype])
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=RTOL[dtype])
    if hasattr(ref, "labels_"):
        np.testing.assert_array_equal(ours.labels_, ref.labels_)


# ----------------------------------------------------------------------------
# scikit-learn as the oracle: same data, init and seed -> same fit
# ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("init", ["array", "k-means++", "random"])
@pytest.mark.parametrize("weighted", [False, True])
def test_fit_matches_sklearn(five_blobs, dtype, init, weighted):
    X = five_blobs.astype(dtype)
    sw = np.random.default_rng(1).uniform(0.2, 3.0, len(X)) if weighted else None
    kw = dict(n_clusters=5, random_state=42, batch_size=128, n_init=3)
    kw["init"] = SEED_INIT if init == "array" else init
    if init == "array":
        kw["n_init"] = 1
    ours = MiniBatchKMeans(**kw).fit(X, sample_weight=sw)
    ref = SkMiniBatchKMeans(**kw).fit(X, sample_weight=sw)
    _assert_same_fit(ours, ref, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reassignment_tol_and_ewa_inertia_match_sklearn(dtype):
    # many centres on overlapping data with a high ratio: centres get reassigned
    X = _overlapping(dtype=dtype)
    init = X[:12].copy()
    kw = dict(n_clusters=12, init=init, batch_size=64, reassignment_ratio=0.5,
              random_state=3, max_iter=3, tol=1e-4, max_no_improvement=None)
    ours = MiniBatchKMeans(**kw).fit(X)
    ref = SkMiniBatchKMeans(**kw).fit(X)
    _assert_same_fit(ours, ref, dtype)
    # no labels: inertia_ is the smoothed batch inertia
    kw.update(compute_labels=False, tol=0.0, max_no_improvement=5)
    ours = MiniBatchKMeans(**kw).fit(X)
    ref = SkMiniBatchKMeans(**kw).fit(X)
    assert not hasattr(ours, "labels_")
    _assert_same_fit(ours, ref, dtype)


def test_verbose_prints_progress(five_blobs, capsys):
    MiniBatchKMeans(5, init=SEED_INIT, batch_size=500, max_iter=2, verbose=1,
                    random_state=0).fit(five_blobs)
    out = capsys.readouterr().out
    assert "Minibatch step 1/" in out and "ewa inertia" in out


def test_sparse_csr_matches_dense_and_sklearn():
    X = _overlapping(n=800, d=10)
    X[np.abs(X) < 1.0] = 0.0
    Xs = sp.csr_matrix(X)
    kw = dict(n_clusters=4, random_state=0, batch_size=100, init="random", n_init=2)
    ours = MiniBatchKMeans(**kw).fit(Xs)
    dense = MiniBatchKMeans(**kw).fit(X)
    ref = SkMiniBatchKMeans(**kw).fit(Xs)
    _assert_same_fit(ours, ref, np.float64)
    np.testing.assert_allclose(ours.cluster_centers_, dense.cluster_centers_, rtol=1e-12)
    np.testing.assert_array_equal(ours.predict(Xs), ref.predict(Xs))
    np.testing.assert_allclose(ours.transform(Xs), ref.transform(Xs), rtol=1e-9)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_partial_fit_matches_sklearn(dtype):
    X = _overlapping(n=1200, dtype=dtype)
    rng = np.random.default_rng(5)
    ours = MiniBatchKMeans(n_clusters=6, random_state=7, reassignment_ratio=0.2)
    ref = SkMiniBatchKMeans(n_clusters=6, random_state=7, reassignment_ratio=0.2)
    for start in range(0, len(X), 100):
        batch = X[start:start + 100]
        sw = rng.uniform(0.5, 2.0, len(batch))
        ours.partial_fit(batch, sample_weight=sw)
        ref.partial_fit(batch, sample_weight=sw)
    _assert_same_fit(ours, ref, dtype)
    np.testing.assert_allclose(ours._counts, ref._counts, rtol=RTOL[dtype])


def test_predict_transform_score_match_sklearn(five_blobs):
    kw = dict(n_clusters=5, init=SEED_INIT, n_init=1, random_state=0)
    ours = MiniBatchKMeans(**kw).fit(five_blobs)
    ref = SkMiniBatchKMeans(**kw).fit(five_blobs)
    Xt = five_blobs[::7] + 0.05
    np.testing.assert_array_equal(ours.predict(Xt), ref.predict(Xt))
    assert ours.predict(Xt).dtype == np.int32
    np.testing.assert_allclose(ours.transform(Xt), ref.transform(Xt), rtol=1e-9)
    sw = np.linspace(0.1, 2.0, len(Xt))
    assert ours.score(Xt, sample_weight=sw) == pytest.approx(ref.score(Xt, sample_weight=sw),
                                                             rel=1e-9)
    # transform -> inertia, score == -inertia (EXPECTED.md's K-Means facts)
    d = ours.transform(five_blobs)
    own = d[np.arange(len(d)), ours.labels_]
    assert np.sum(own ** 2) == pytest.approx(ours.inertia_, rel=1e-9)
    assert ours.score(five_blobs) == pytest.approx(-ours.inertia_, rel=1e-12)
    np.testing.assert_array_equal(ours.fit_predict(five_blobs), ref.fit_predict(five_blobs))
    np.testing.assert_allclose(MiniBatchKMeans(**kw).fit_transform(five_blobs),
                               ref.fit_transform(five_blobs), rtol=1e-9)


def test_feature_names_and_get_feature_names_out(five_blobs):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(five_blobs, columns=["a", "b"])
    km = MiniBatchKMeans(3, random_state=0, n_init=1).fit(df)
    assert list(km.feature_names_in_) == ["a", "b"]
    assert km.n_features_in_ == 2
    assert list(km.get_feature_names_out()) == [f"minibatchkmeans{i}" for i in range(3)]


# ----------------------------------------------------------------------------
# the seed's figure (EXPECTED.md)
# ----------------------------------------------------------------------------
def test_seed_five_blobs_inertia(five_blobs):
    km = MiniBatchKMeans(n_clusters=5, n_init=3, random_state=42).fit(five_blobs)
    assert km.inertia_ == pytest.approx(211.6, rel=0.01)


# ----------------------------------------------------------------------------
# kernels and properties
# ----------------------------------------------------------------------------
@given(st.integers(1, 3000), st.integers(1, 300), st.integers(0, 2**31 - 1),
       st.booleans())
def test_batch_draws_equal_randomstate_choice(n, size, seed, uniform):
    rng = np.random.default_rng(seed)
    w = np.ones(n) if uniform else rng.exponential(size=n) * (rng.random(n) < 0.7)
    if w.sum() == 0:
        w[0] = 1.0
    p = w / w.sum()
    expected = np.random.RandomState(seed).choice(n, size, p=p, replace=True)
    cdf = np.cumsum(p.astype(np.float64))
    cdf /= cdf[-1]
    for draw in (kernels.sample_from_cdf, kernels.sample_from_cdf_numpy):
        got = np.empty(size, dtype=np.int64)
        draw(cdf, np.random.RandomState(seed).random_sample(size), got)
        np.testing.assert_array_equal(got, expected)


@given(st.integers(2, 6), st.integers(1, 5), st.integers(0, 10_000),
       st.sampled_from([np.float64, np.float32]))
def test_single_step_is_the_running_mean(k, d, seed, dtype):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, d)).astype(dtype)
    sw = rng.uniform(0.1, 3.0, 40).astype(dtype)
    init = rng.normal(size=(k, d)).astype(dtype)
    km = MiniBatchKMeans(k, init=init, reassignment_ratio=0.0, random_state=0)
    km.partial_fit(X[:20], sample_weight=sw[:20])
    km.partial_fit(X[20:], sample_weight=sw[20:])
    # reference: assign each batch to the current centres, then move every
    # centre to the weighted mean of all rows it has received so far
    centers = init.astype(np.float64)
    total = np.zeros((k, d))
    count = np.zeros(k)
    for sl in (slice(0, 20), slice(20, 40)):
        xb, wb = X[sl].astype(np.float64), sw[sl].astype(np.float64)
        lab = np.argmin(((xb[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)
        for c in range(k):
            m = lab == c
            if m.any():
                total[c] = centers[c] * count[c] + (wb[m, None] * xb[m]).sum(0)
                count[c] += wb[m].sum()
                centers[c] = total[c] / count[c]
    tol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(km.cluster_centers_, centers, rtol=tol, atol=tol)
    np.testing.assert_allclose(km._counts, count, rtol=tol)
    assert km.n_steps_ == 2


@given(st.integers(0, 1000))
def test_same_seed_same_result_and_float32_agrees(seed):
    X = _overlapping(n=400, d=3, k=4, seed=seed % 7)
    kw = dict(n_clusters=4, batch_size=50, random_state=seed, max_iter=5)
    a = MiniBatchKMeans(**kw).fit(X)
    b = MiniBatchKMeans(**kw).fit(X)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    c = MiniBatchKMeans(**kw).fit(X.astype(np.float32))
    assert c.cluster_centers_.dtype == np.float32
    assert c.inertia_ == pytest.approx(a.inertia_, rel=1e-3)


@given(st.integers(1, 300), st.integers(1, 12), st.integers(1, 9), st.integers(0, 2**31 - 1),
       st.booleans(), st.sampled_from([np.float32, np.float64]), st.booleans())
@settings(max_examples=60, deadline=None)
def test_numpy_labels_equal_the_kernel_bit_for_bit(n, d, k, seed, grid, dtype, weighted):
    # small inputs label with numpy's element-wise operations in the kernel's
    # order: the same labels, row inertias and sum, ties on integer grids included
    rng = np.random.default_rng(seed)
    X = (rng.integers(-2, 3, size=(n, d)) if grid else rng.normal(size=(n, d)) * 1e3)
    X = X.astype(dtype)
    centers = np.ascontiguousarray(X[rng.integers(0, n, size=k)])
    sw = (rng.uniform(0, 3, n) if weighted else np.ones(n)).astype(dtype)
    center_sq = np.einsum("ij,ij->i", centers, centers)
    dots = X @ centers.T
    out = []
    for fn in (kernels.labels_inertia_numpy, kernels.labels_inertia_dots.serial):
        lab, ri = np.empty(n, np.int32), np.empty(n)
        total = fn(X, sw, centers, center_sq, dots, lab, ri)
        out.append((lab, ri, np.float64(total)))
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


def test_kernels_keep_float32_and_full_pass_equals_batches():
    X = _overlapping(n=20000, d=5, k=3, dtype=np.float32)
    centers = X[:3].copy()
    sw = np.ones(len(X), dtype=np.float32)
    lab1, ri1 = np.empty(len(X), np.int32), np.empty(len(X))
    lab2, ri2 = np.empty(len(X), np.int32), np.empty(len(X))
    a = kernels.labels_inertia(X, sw, centers, lab1, ri1, parallel=False)
    # in chunks of 1000 rows (20 BLAS products): the same labels, the same sum
    b = kernels.labels_inertia(X, sw, centers, lab2, ri2, parallel=False, chunk=1000)
    np.testing.assert_array_equal(lab1, lab2)
    np.testing.assert_array_equal(ri1, ri2)
    assert b == pytest.approx(a, rel=1e-13)
    # the nearest centre up to float32 rounding of ||c||^2 - 2 x.c (as
    # scikit-learn assigns), its distance computed exactly in float64
    d = ((X[:, None, :].astype(np.float64) - centers[None]) ** 2).sum(-1)
    chosen = d[np.arange(len(X)), lab1]
    np.testing.assert_allclose(chosen, d.min(axis=1), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ri1, chosen, rtol=1e-12)
    assert a == pytest.approx(chosen.sum(), rel=1e-12)


def test_float32_stays_float32(five_blobs):
    X = five_blobs.astype(np.float32)
    km = MiniBatchKMeans(5, random_state=0, n_init=1).fit(X)
    assert km.cluster_centers_.dtype == np.float32
    assert km.transform(X).dtype == np.float32
    assert km._counts.dtype == np.float32
    assert km.predict(X).dtype == np.int32


# ----------------------------------------------------------------------------
# inputs are never modified
# ----------------------------------------------------------------------------
def test_inputs_not_modified(five_blobs):
    X = five_blobs.copy()
    sw = np.linspace(0.5, 1.5, len(X))
    init = SEED_INIT.copy()
    X0, sw0, init0 = X.copy(), sw.copy(), init.copy()
    km = MiniBatchKMeans(5, init=init, random_state=0, reassignment_ratio=0.5,
                         batch_size=64).fit(X, sample_weight=sw)
    km.partial_fit(X[:100], sample_weight=sw[:100])
    km.predict(X), km.transform(X), km.score(X, sample_weight=sw)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(sw, sw0)
    np.testing.assert_array_equal(init, init0)
    assert not np.shares_memory(km.cluster_centers_, init)


# ----------------------------------------------------------------------------
# bad input: a clear error for each
# ----------------------------------------------------------------------------
def _with(X, i, j, v):
    X = X.copy()
    X[i, j] = v
    return X


@pytest.mark.parametrize("make_X, match", [
    (lambda X: _with(X, 3, 1, np.nan), "NaN"),
    (lambda X: _with(X, 3, 0, np.inf), "infinity"),
    (lambda X: X[:0], "0 sample"),
    (lambda X: X[:, 0], "2D array"),
    (lambda X: X[:3], "n_samples=3 should be >= n_clusters=5"),
])
def test_bad_X_raises(five_blobs, make_X, match):
    with pytest.raises(ValueError, match=match):
        MiniBatchKMeans(5).fit(make_X(five_blobs))


@pytest.mark.parametrize("params, match", [
    (dict(n_clusters=0), "n_clusters"),
    (dict(init="kmeans"), "init"),
    (dict(batch_size=0), "batch_size"),
    (dict(n_init="three"), "n_init"),
    (dict(reassignment_ratio=-1.0), "reassignment_ratio"),
    (dict(max_no_improvement=-1), "max_no_improvement"),
    (dict(tol=-1.0), "tol"),
    (dict(init=np.zeros((4, 2))), r"shape of the initial centers \(4, 2\)"),
    (dict(init=np.zeros((5, 3))), "number of features"),
])
def test_bad_params_raise(five_blobs, params, match):
    kw = dict(n_clusters=5)
    kw.update(params)
    with pytest.raises(ValueError, match=match):
        MiniBatchKMeans(**kw).fit(five_blobs)


@pytest.mark.parametrize("sw, match", [
    (-np.ones(2000), "(?i)negative"),
    (np.ones(1999), "1999"),
    (np.full(2000, np.nan), "NaN"),
])
def test_bad_sample_weight_raises(five_blobs, sw, match):
    with pytest.raises(ValueError, match=match):
        MiniBatchKMeans(5).fit(five_blobs, sample_weight=sw)


def test_predict_before_fit_and_wrong_width(five_blobs):
    km = MiniBatchKMeans(3)
    for method in (km.predict, km.transform, km.score):
        with pytest.raises(NotFittedError):
            method(five_blobs)
    km.fit(five_blobs)
    for method in (km.predict, km.transform, km.score, km.partial_fit):
        with pytest.raises(ValueError, match="features"):
            method(np.ones((4, 3)))


def test_warnings_like_sklearn(five_blobs):
    with pytest.warns(RuntimeWarning, match="performing only one init"):
        MiniBatchKMeans(5, init=SEED_INIT, n_init=3).fit(five_blobs)
    with pytest.warns(RuntimeWarning, match="init_size=2 should be larger"):
        MiniBatchKMeans(5, init_size=2, n_init=1).fit(five_blobs)


# ----------------------------------------------------------------------------
# memory maps
# ----------------------------------------------------------------------------
def test_memmap_fit_equals_in_memory_fit(tmp_path):
    X = _overlapping(n=5000, d=8, dtype=np.float32)
    Xm = to_memmap(X, str(tmp_path / "x.mmap"))
    kw = dict(n_clusters=6, batch_size=200, random_state=0, n_init=2, tol=1e-5)
    a = MiniBatchKMeans(**kw).fit(Xm)
    b = MiniBatchKMeans(**kw).fit(X)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.inertia_ == b.inertia_
    np.testing.assert_array_equal(a.predict(Xm), b.predict(X))
    np.testing.assert_array_equal(a.transform(Xm), b.transform(X))


def test_memmap_with_nan_is_rejected(tmp_path):
    X = _overlapping(n=300, d=3, dtype=np.float32)
    X[250, 2] = np.nan
    Xm = to_memmap(X, str(tmp_path / "nan.mmap"))
    with pytest.raises(ValueError, match="NaN"):
        MiniBatchKMeans(3).fit(Xm)


_RSS_SCRIPT = textwrap.dedent("""
    import re, sys, threading, time
    import numpy as np
    from clusterlab import MiniBatchKMeans

    def anon_kib():
        with open("/proc/self/status") as fh:
            return int(re.search(r"RssAnon:\\s+(\\d+)", fh.read()).group(1))

    path, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    X = np.memmap(path, dtype=np.float32, mode="r", shape=(n, d))
    # compile (or load from cache) every kernel on a small memmap-backed slice first
    MiniBatchKMeans(10, batch_size=100, max_iter=1, random_state=0).fit(X[:20000])
    base = anon_kib()
    peak = [base]
    done = threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], anon_kib())
            time.sleep(0.002)

    t = threading.Thread(target=watch)
    t.start()
    km = MiniBatchKMeans(10, batch_size=1024, max_iter=1, random_state=0).fit(X)
    done.set()
    t.join()
    peak[0] = max(peak[0], anon_kib())
    print((peak[0] - base) / 1024.0, km.n_steps_, km.labels_.shape[0])
""")


@pytest.mark.slow  # 600 MB memory-mapped, read-only, in a second process
def test_memmap_private_memory_stays_bounded(tmp_path):
    n, d = 200_000, 784
    path = str(tmp_path / "big.mmap")
    out = np.memmap(path, dtype=np.float32, mode="w+", shape=(n, d))
    rng = np.random.default_rng(0)
    protos = rng.uniform(0, 255, size=(10, d)).astype(np.float32)
    block = protos[rng.integers(10, size=20_000)] + rng.normal(0, 40, (20_000, d)).astype(
        np.float32)
    for start in range(0, n, 20_000):  # the content matters little; the size does
        out[start:start + 20_000] = np.roll(block, start // 20_000, axis=0)
    out.flush()
    del out
    res = subprocess.run([sys.executable, "-c", _RSS_SCRIPT, path, str(n), str(d)],
                         capture_output=True, text=True, check=True, env=dict(os.environ))
    growth_mib, n_steps, n_labels = res.stdout.split()
    array_mib = n * d * 4 / 2**20  # 598 MiB
    # batches, one chunk of the labels pass, labels_, weights, the sampling cdf:
    # tens of MiB, whatever the file size
    assert float(growth_mib) < 0.1 * array_mib, res.stdout
    assert int(n_steps) == n // 1024 and int(n_labels) == n


@pytest.fixture(scope="module")
def mnist_memmap(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("mnist") / "mnist.mmap")
    return to_memmap(make_mnist_like(60000, 784, random_state=0), path)


def test_seed_memmap_workflow(mnist_memmap):
    # the seed's call, unchanged, on an MNIST-shaped float32 memmap
    km = MiniBatchKMeans(n_clusters=10, batch_size=10, n_init=3, random_state=42)
    km.fit(mnist_memmap)
    assert km.cluster_centers_.shape == (10, 784)
    assert km.cluster_centers_.dtype == np.float32
    assert km.labels_.shape == (60000,)
    assert km.n_steps_ < (100 * 60000) // 10  # stopped early on the smoothed inertia
    # the model is a useful quantiser: far better than a single centre
    single = ((np.asarray(mnist_memmap[:5000], dtype=np.float64)
               - mnist_memmap[:5000].mean(0)) ** 2).sum() * 12
    assert km.inertia_ < single
    # and it is scikit-learn's fit on the same data (same batches, same steps)
    ref_steps = SkMiniBatchKMeans(n_clusters=10, batch_size=10, n_init=3, random_state=42,
                                  max_iter=1, max_no_improvement=None)
    ours = MiniBatchKMeans(**ref_steps.get_params())
    X_small = np.asarray(mnist_memmap[:3000])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_steps.fit(X_small)
    ours.fit(X_small)
    _assert_same_fit(ours, ref_steps, np.float32)


# ----------------------------------------------------------------------------
# scikit-learn's estimator checks
# ----------------------------------------------------------------------------
_SAMPLE_WEIGHT_REASON = (
    "batches are drawn with probability proportional to sample_weight, so a weight "
    "of 2 is not the same random stream as a repeated row (scikit-learn marks the same "
    "checks xfail for its MiniBatchKMeans)"
)


@parametrize_with_checks(
    [MiniBatchKMeans(n_clusters=2, n_init=2, max_iter=5, batch_size=10)],
    expected_failed_checks=lambda est: {
        "check_sample_weight_equivalence_on_dense_data": _SAMPLE_WEIGHT_REASON,
        "check_sample_weight_equivalence_on_sparse_data": _SAMPLE_WEIGHT_REASON,
    },
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_huge_values_refused_clearly_and_large_ones_seed_like_sklearn():
    # squared norms of rows near 1e200 overflow: every distance would be +inf
    # or NaN (scikit-learn returns a model built on them); refused with the
    # reason. Values whose squares stay finite seed as scikit-learn does.
    X = np.random.RandomState(0).randn(40, 3)
    with pytest.raises(ValueError, match="overflow float64"):
        MiniBatchKMeans(3, n_init=1, random_state=0).fit(X * 1e200)
    ours = MiniBatchKMeans(3, n_init=1, random_state=0).fit(X * 1e150)
    ref = SkMiniBatchKMeans(3, n_init=1, random_state=0).fit(X * 1e150)
    np.testing.assert_allclose(ours.cluster_centers_[0], ref.cluster_centers_[0])


@pytest.mark.parametrize("name", ["KMeans", "MiniBatchKMeans", "BisectingKMeans"])
def test_transform_dtype_is_the_promoted_one_as_sklearn(name):
    # MiniBatchKMeans and BisectingKMeans returned X's dtype: float32 distances,
    # computed in float32, to float64 centres (scikit-learn: float64)
    import sklearn.cluster
    from sklearn.datasets import make_blobs

    import clusterlab

    X = make_blobs(60, n_features=3, centers=3, random_state=0)[0]
    for fit_dtype, query_dtype in ((np.float64, np.float32), (np.float32, np.float64),
                                   (np.float32, np.float32)):
        ours, ref = (getattr(mod, name)(3, n_init=1, random_state=0).fit(X.astype(fit_dtype))
                     for mod in (clusterlab, sklearn.cluster))
        got, want = ours.transform(X.astype(query_dtype)), ref.transform(X.astype(query_dtype))
        assert got.dtype == want.dtype
        if fit_dtype == np.float64:  # the same centres: the same distances
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("form", ["dense", "csr", "weights", "partial"])
def test_centres_are_sklearns_bit_for_bit(dtype, form):
    # the update c <- (c * count + sum w x) / (count + sum w) in scikit-learn's
    # order of operations (the old centre scaled first, each row added to it in
    # X's dtype, then one reciprocal): with any other order the centres drift by
    # an ulp, and on near-ties (many centres, few rows) a row later falls to the
    # other centre and the fits part (inertia 1.106 against scikit-learn's 1.150
    # on these 50 rows with 17 centres). (Not with more centres than distinct
    # rows in k-means++'s sample: scikit-learn's choice there follows the
    # rounding of its BLAS distances between equal rows.)
    from sklearn.datasets import make_blobs

    X = (make_blobs(50, n_features=3, centers=3, random_state=0)[0] / 5).astype(dtype)
    w = np.random.default_rng(0).random(50).astype(dtype) * 3
    configs = ((5, 25), (9, 25)) if form == "partial" else ((17, 16), (35, 1024), (44, 1024))
    if form == "csr":
        # scikit-learn's sparse assignment sums each row's products over its
        # stored entries one by one, ours reads them from a BLAS product of the
        # densified rows: rows exactly between two equal centres (35 and 44
        # centres on 50 rows) may fall to the other one
        configs = configs[:1]
    for k, batch_size in configs:
        kw = dict(n_clusters=k, n_init=1, random_state=0, batch_size=batch_size)
        ours, ref = MiniBatchKMeans(**kw), SkMiniBatchKMeans(**kw)
        if form == "partial":
            for start in range(0, 50, batch_size):
                ours.partial_fit(X[start:start + batch_size])
                ref.partial_fit(X[start:start + batch_size])
                np.testing.assert_array_equal(ours.cluster_centers_, ref.cluster_centers_)
        else:
            Xf = sp.csr_matrix(X) if form == "csr" else X
            sw = w if form == "weights" else None
            ours.fit(Xf, sample_weight=sw)
            ref.fit(Xf, sample_weight=sw)
            assert ours.n_iter_ == ref.n_iter_ and ours.n_steps_ == ref.n_steps_
            np.testing.assert_array_equal(ours.labels_, ref.labels_)
        np.testing.assert_array_equal(ours.cluster_centers_, ref.cluster_centers_)


def test_float32_assignment_is_sklearns_on_near_ties():
    # the expansion |c|^2 - 2 x.c is compared in the rows' dtype, as scikit-learn's
    # GEMM gives it: numba computed float32 rows' values in float64 (an integer 2),
    # and rows on a 4 x 4 grid with more centres than grid points (near-equal
    # centres, near-ties everywhere) fell to other centres in these four draws
    rng = np.random.default_rng(1)
    for trial in range(27):
        d = int(rng.integers(2, 6))
        X = (rng.integers(0, 4, size=(300, d)) + rng.normal(0, 1e-3, (300, d))).astype(np.float32)
        k = int(rng.integers(3, 30))
        if trial not in (3, 13, 24, 26):
            continue
        kw = dict(n_clusters=k, n_init=1, random_state=trial, batch_size=1024)
        ours, ref = MiniBatchKMeans(**kw).fit(X), SkMiniBatchKMeans(**kw).fit(X)
        np.testing.assert_array_equal(ours.cluster_centers_, ref.cluster_centers_)
        np.testing.assert_array_equal(ours.labels_, ref.labels_)
