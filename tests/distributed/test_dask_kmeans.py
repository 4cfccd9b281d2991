"""Distributed K-Means on a real LocalCluster (2 worker processes over TCP) and on local threads."""

import pickle
import subprocess
import sys
import textwrap

import dask
import dask.array as da
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs

from clusterlab.cluster.kmeans import KMeans
from clusterlab.distributed import is_dask_array, kmeans_parallel_init, predict_blocks

SEED_INIT = np.array([[-3, 3], [-3, 2], [-3, 1], [-1, 2], [0, 2]], dtype=float)


def _blobs(n=3000, d=4, k=5, seed=0, std=1.5):
    X, _ = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=std, random_state=seed)
    return X


# ------------------------------------------------------------------ dask is optional


def test_import_clusterlab_does_not_import_dask():
    code = textwrap.dedent("""
        import sys, numpy as np
        import clusterlab
        from clusterlab.distributed import is_dask_array
        from clusterlab.cluster import kmeans, minibatch
        from clusterlab.mixture import gaussian
        assert not is_dask_array(np.zeros((3, 2)))
        assert "dask" not in sys.modules, sorted(m for m in sys.modules if "dask" in m)
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_is_dask_array():
    X = np.zeros((4, 2))
    assert not is_dask_array(X)
    assert is_dask_array(da.from_array(X))
    assert not is_dask_array(da.from_array(X).compute())


# ------------------------------------------------------------------ oracle: the in-memory fit


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-6), (np.float32, 1e-4)])
def test_same_init_same_model_as_in_memory(dask_client, dask_fit, dtype, tol):
    X = _blobs(seed=1).astype(dtype)
    init = X[[0, 10, 20, 30, 40]].astype(np.float64)
    dX = da.from_array(X, chunks=700)
    ours = dask_fit(KMeans(5, init=init, n_init=1, max_iter=50), dX)
    ref = KMeans(5, init=init, n_init=1, max_iter=50).fit(X)
    assert ours.cluster_centers_.dtype == dtype
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=tol, atol=tol)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=tol)
    assert ours.n_iter_ == ref.n_iter_
    assert ours.n_features_in_ == X.shape[1]
    assert isinstance(ours.labels_, da.Array)
    np.testing.assert_array_equal(ours.labels_.compute(), ref.labels_)


def test_seed_five_blobs_expected_inertia(dask_client, dask_fit, five_blobs):
    # EXPECTED.md: inertia 211.59853725816836 with this init (the best known optimum)
    dX = da.from_array(five_blobs, chunks=450)
    km = dask_fit(KMeans(5, init=SEED_INIT, n_init=1), dX)
    assert km.inertia_ == pytest.approx(211.59853725816836, rel=1e-9)
    # score(X) == -inertia and transform agrees with the inertia
    assert km.score(five_blobs) == pytest.approx(-km.inertia_, rel=1e-9)
    labels = km.labels_.compute()
    dist = predict_blocks(km, "transform", dX).compute()
    assert np.sum(dist[np.arange(len(labels)), labels] ** 2) == pytest.approx(km.inertia_,
                                                                              rel=1e-9)


def test_tol_rule_and_max_iter_as_in_memory(dask_client, dask_fit):
    X = _blobs(seed=3, std=4.0)  # overlapping: Lloyd needs many iterations
    init = X[:5]
    dX = da.from_array(X, chunks=1000)
    for kw in ({"tol": 1e-2}, {"tol": 0.0, "max_iter": 4}, {"tol": 1e-4}):
        ours = dask_fit(KMeans(5, init=init, n_init=1, **kw), dX)
        ref = KMeans(5, init=init, n_init=1, **kw).fit(X)
        assert ours.n_iter_ == ref.n_iter_, kw
        np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-6,
                                   atol=1e-6)
        assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-6)


def test_random_init_draws_the_same_rows_as_in_memory(dask_client, dask_fit):
    X = _blobs(seed=4)
    dX = da.from_array(X, chunks=800)
    ours = dask_fit(KMeans(5, init="random", n_init=2, random_state=7), dX)
    ref = KMeans(5, init="random", n_init=2, random_state=7).fit(X)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-6,
                               atol=1e-6)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-6)


def test_sample_weight_as_in_memory_and_as_duplication(dask_client, dask_fit):
    X = _blobs(n=1200, seed=5)
    w = np.random.default_rng(0).integers(0, 4, size=X.shape[0]).astype(float)
    init = X[w > 0][:5]
    ours = dask_fit(KMeans(5, init=init, n_init=1), da.from_array(X, chunks=500),
                    sample_weight=w)
    ref = KMeans(5, init=init, n_init=1).fit(X, sample_weight=w)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-6,
                               atol=1e-6)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-6)
    dup = dask_fit(KMeans(5, init=init, n_init=1),
                   da.from_array(np.repeat(X, w.astype(int), axis=0), chunks=700))
    np.testing.assert_allclose(dup.cluster_centers_, ours.cluster_centers_, rtol=1e-6,
                               atol=1e-6)
    # weights given as a dask array with other chunks
    ours2 = dask_fit(KMeans(5, init=init, n_init=1), da.from_array(X, chunks=500),
                     sample_weight=da.from_array(w, chunks=333))
    np.testing.assert_allclose(ours2.cluster_centers_, ours.cluster_centers_, rtol=1e-12)


def test_empty_cluster_is_relocated_like_in_memory(dask_client, dask_fit):
    X = _blobs(n=600, seed=6)
    init = np.vstack([X[:4], [[1e3] * X.shape[1]]])  # the last centre attracts nobody
    ours = dask_fit(KMeans(5, init=init, n_init=1), da.from_array(X, chunks=170))
    ref = KMeans(5, init=init, n_init=1).fit(X)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-6,
                               atol=1e-6)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=1e-6)


# ------------------------------------------------------------------ chunking


@pytest.mark.parametrize("init", ["explicit", "k-means||"])
def test_chunking_does_not_change_the_result(dask_client, dask_fit, init):
    X = _blobs(n=2000, seed=8)
    init_arg = X[:5] if init == "explicit" else "k-means++"
    results = []
    for chunks in [(2000,), 250, (1, 999, 17, 983)]:
        km = dask_fit(KMeans(5, init=init_arg, n_init=1, random_state=3),
                      da.from_array(X, chunks=(chunks, 4)))
        results.append(km)
    for km in results[1:]:
        np.testing.assert_allclose(km.cluster_centers_, results[0].cluster_centers_,
                                   rtol=1e-6, atol=1e-6)
        assert km.inertia_ == pytest.approx(results[0].inertia_, rel=1e-6)


@settings(max_examples=10, deadline=None)
@given(cuts=st.lists(st.integers(1, 599), max_size=6, unique=True))
def test_any_chunk_layout_gives_the_same_model(cuts):
    X = _blobs(n=600, d=3, seed=9)
    edges = [0] + sorted(cuts) + [600]
    chunks = tuple(b - a for a, b in zip(edges[:-1], edges[1:]))
    from clusterlab.distributed import fit_kmeans

    with dask.config.set(scheduler="sync"):
        ours = fit_kmeans(KMeans(4, init=X[:4], n_init=1), da.from_array(X, chunks=(chunks, 3)))
    ref = KMeans(4, init=X[:4], n_init=1).fit(X)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-6,
                               atol=1e-6)


# ------------------------------------------------------------------ k-means||


def test_kmeans_parallel_quality_within_5_percent_of_kmeans_plusplus(dask_fit):
    X = _blobs(n=4000, d=5, k=8, seed=10, std=1.0)
    dX = da.from_array(X, chunks=1000)
    with dask.config.set(scheduler="sync"):  # the result does not depend on the scheduler
        ours = [dask_fit(KMeans(8, random_state=s), dX).inertia_ for s in range(3)]
    ref = [KMeans(8, init="k-means++", n_init=1, random_state=s).fit(X).inertia_
           for s in range(3)]
    assert np.mean(ours) <= 1.05 * np.mean(ref), (ours, ref)


def test_kmeans_parallel_seeding_is_reproducible_and_good(dask_client):
    X = _blobs(n=3000, d=3, k=6, seed=11, std=0.5)
    dX = da.from_array(X, chunks=500)
    a = kmeans_parallel_init(dX, 6, random_state=0)
    b = kmeans_parallel_init(dX, 6, random_state=0)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (6, 3)
    # the seeding alone is already close to the optimum (the true blob means)
    _, y = make_blobs(n_samples=3000, n_features=3, centers=6, cluster_std=0.5, random_state=11)
    truth = np.array([X[y == j].mean(axis=0) for j in range(6)])

    def inertia(c):
        return ((X[:, None, :] - c[None]) ** 2).sum(-1).min(axis=1).sum()

    assert inertia(a) <= 1.05 * inertia(truth)


# ------------------------------------------------------------------ predictions


def test_predictions_are_lazy_and_match_numpy(dask_client, dask_call):
    X = _blobs(n=900, seed=12)
    km = KMeans(5, n_init=1, random_state=0).fit(X)
    dX = da.from_array(X, chunks=400)
    for method in ("predict", "transform"):
        out = dask_call(km, method, dX)
        assert isinstance(out, da.Array)
        np.testing.assert_allclose(out.compute(), getattr(km, method)(X), rtol=1e-12)


def test_fitted_model_pickles_and_predicts_on_numpy_without_client(dask_client, dask_fit,
                                                                   tmp_path):
    X = _blobs(n=500, seed=13)
    km = dask_fit(KMeans(4, random_state=0), da.from_array(X, chunks=200))
    assert isinstance(km.cluster_centers_, np.ndarray)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(km))
    np.save(tmp_path / "X.npy", X)
    code = textwrap.dedent(f"""
        import pickle, sys, numpy as np
        km = pickle.loads(open({str(path)!r}, "rb").read())
        X = np.load({str(tmp_path / "X.npy")!r})
        assert "distributed" not in sys.modules
        np.save({str(tmp_path / "labels.npy")!r}, km.predict(X))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "labels.npy"), km.labels_.compute())


def test_threaded_scheduler_without_client(dask_fit):
    X = _blobs(n=800, seed=14)
    with dask.config.set(scheduler="threads"):
        km = dask_fit(KMeans(5, init=X[:5], n_init=1), da.from_array(X, chunks=300))
        labels = km.labels_.compute()
    ref = KMeans(5, init=X[:5], n_init=1).fit(X)
    np.testing.assert_allclose(km.cluster_centers_, ref.cluster_centers_, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(labels, ref.labels_)


# ------------------------------------------------------------------ bad input


@pytest.fixture
def sync_scheduler():
    with dask.config.set(scheduler="sync"):
        yield


def test_bad_inputs(sync_scheduler, dask_fit, dask_call):
    X = _blobs(n=100, seed=17)
    with pytest.raises(ValueError, match="2-D"):
        dask_fit(KMeans(2), da.from_array(X[:, 0], chunks=50))
    bad = X.copy()
    bad[7, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        dask_fit(KMeans(2, n_init=1), da.from_array(bad, chunks=50))
    with pytest.raises(ValueError, match="n_samples=100 should be >= n_clusters=101"):
        dask_fit(KMeans(101), da.from_array(X, chunks=50))
    with pytest.raises(ValueError, match="0 sample"):
        dask_fit(KMeans(2), da.zeros((0, 3), chunks=1))
    with pytest.raises(ValueError, match="does not match the number of features"):
        dask_fit(KMeans(2, init=np.zeros((2, 7))), da.from_array(X, chunks=50))
    with pytest.raises(ValueError, match="Negative"):
        dask_fit(KMeans(2), da.from_array(X, chunks=50), sample_weight=-np.ones(100))
    with pytest.raises(ValueError, match="init"):
        dask_fit(KMeans(2, init="nonsense"), da.from_array(X, chunks=50))
    km = KMeans(2, n_init=1, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        dask_call(km, "predict", da.from_array(X[:, :2], chunks=50))
    with pytest.raises(ValueError, match="method must be one of"):
        predict_blocks(km, "fit", da.from_array(X, chunks=50))
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        predict_blocks(KMeans(2), "predict", da.from_array(X, chunks=50))
    # the input is never modified
    dX = da.from_array(X.copy(), chunks=50)
    dask_fit(KMeans(2, n_init=1, random_state=0), dX)
    np.testing.assert_array_equal(dX.compute(), X)
