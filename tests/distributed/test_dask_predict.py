"""Lazy predictions of every fitted clusterlab model on dask arrays, and the sampled silhouette."""

import dask
import dask.array as da
import numpy as np
import pytest
from sklearn.metrics import silhouette_score as sk_silhouette_score

from clusterlab.cluster.kmeans import KMeans
from clusterlab.cluster.minibatch import MiniBatchKMeans
from clusterlab.distributed import predict_blocks, silhouette_score
from clusterlab.mixture.gaussian import GaussianMixture

METHODS = {
    KMeans: ["predict", "transform"],
    MiniBatchKMeans: ["predict", "transform"],
    GaussianMixture: ["predict", "predict_proba", "score_samples"],
}


@pytest.mark.parametrize("cls", list(METHODS), ids=lambda c: c.__name__)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_method_is_lazy_and_equals_numpy(dask_client, five_blobs, cls, dtype):
    X = five_blobs.astype(dtype)
    kw = {"n_components": 3} if cls is GaussianMixture else {"n_clusters": 3, "n_init": 1}
    model = cls(random_state=0, **kw).fit(X)
    dX = da.from_array(X, chunks=((700, 1, 1299), (2,)))
    for method in METHODS[cls]:
        out = predict_blocks(model, method, dX)
        assert isinstance(out, da.Array)
        expected = getattr(model, method)(X)
        assert out.dtype == expected.dtype and out.shape == expected.shape
        assert out.chunks[0] == dX.chunks[0]
        np.testing.assert_allclose(out.compute(), expected, rtol=1e-6, atol=1e-6)


def test_model_shipped_to_tasks_has_no_lazy_state(five_blobs):
    from clusterlab.distributed import fit_kmeans
    from clusterlab.distributed._utils import strip_lazy_state

    dX = da.from_array(five_blobs, chunks=500)
    with dask.config.set(scheduler="sync"):
        km = fit_kmeans(KMeans(5, n_init=1, random_state=0), dX)
        shipped = strip_lazy_state(km)
        # the copy sent into map_blocks drops the dask labels_ (and the training graph with it)
        assert not hasattr(shipped, "labels_") and isinstance(km.labels_, da.Array)
        assert shipped.cluster_centers_ is km.cluster_centers_
        np.testing.assert_array_equal(predict_blocks(km, "predict", dX).compute(),
                                      km.labels_.compute())


def test_silhouette_on_a_sample_across_chunks(dask_client, five_blobs):
    km = KMeans(5, n_init=1, random_state=0).fit(five_blobs)
    dX = da.from_array(five_blobs, chunks=300)
    labels = da.from_array(km.labels_, chunks=450)
    ours = silhouette_score(dX, labels, sample_size=800, random_state=0)
    # the same rows as scikit-learn's own sampling with this random_state
    ref = sk_silhouette_score(five_blobs, km.labels_, sample_size=800, random_state=0)
    assert ours == pytest.approx(ref, rel=1e-6)
    # and close to the full score of the seed's solution (0.6555 for the 211.6 optimum)
    full = sk_silhouette_score(five_blobs, km.labels_)
    assert ours == pytest.approx(full, abs=0.03)
    # numpy labels work too
    assert silhouette_score(dX, km.labels_, sample_size=800, random_state=0) == ours


def test_bad_inputs(five_blobs):
    km = KMeans(3, n_init=1, random_state=0).fit(five_blobs)
    dX = da.from_array(five_blobs, chunks=500)
    with pytest.raises(ValueError, match="sample_size is required"):
        silhouette_score(dX, km.labels_, sample_size=None)
    with pytest.raises(ValueError, match="sample_size must be"):
        silhouette_score(dX, km.labels_, sample_size=5000)
    with pytest.raises(ValueError, match="one label per row"):
        silhouette_score(dX, km.labels_[:10], sample_size=100)
    with pytest.raises(ValueError, match="features"):
        predict_blocks(km, "predict", da.ones((10, 3), chunks=5))
    with pytest.raises(ValueError, match="has no method 'predict_proba'"):
        predict_blocks(km, "predict_proba", dX)
    with pytest.raises(ValueError, match="method must be one of"):
        predict_blocks(km, "fit", dX)


def test_empty_row_blocks_predict_and_fit(five_blobs):
    X = five_blobs[np.argsort(five_blobs[:, 0])]
    keep = X[:, 0] > np.median(X[:, 0])
    with dask.config.set(scheduler="sync"):
        dX = da.from_array(X, chunks=500)
        sel = dX[dX[:, 0] > np.median(X[:, 0])].compute_chunk_sizes()
        assert 0 in sel.chunks[0]  # rows filtered out of whole blocks
        km = KMeans(5, n_init=1, random_state=0).fit(X[keep])
        np.testing.assert_array_equal(km.predict(sel).compute(), km.predict(X[keep]))
        assert km.transform(sel).compute().shape == (keep.sum(), 5)
        ours = GaussianMixture(3, random_state=0).fit(sel)
        ref = GaussianMixture(3, random_state=0).fit(X[keep])
        assert ours.lower_bound_ == pytest.approx(ref.lower_bound_, rel=1e-9)
        assert ours.predict_proba(sel).compute().shape == (keep.sum(), 3)


def test_pickle_of_a_dask_fit_holds_labels_not_the_graph(five_blobs):
    import pickle

    big = np.repeat(five_blobs, 20, axis=0)  # 40000 x 2: 640 kB of data
    with dask.config.set(scheduler="sync"):
        for est in (KMeans(5, n_init=1, random_state=0, max_iter=5),
                    MiniBatchKMeans(5, n_init=1, random_state=0, max_iter=2)):
            model = est.fit(da.from_array(big, chunks=10000))
            data = pickle.dumps(model)
            assert len(data) < big.nbytes / 2  # the int32 labels, not the float rows
            back = pickle.loads(data)
            assert isinstance(back.labels_, np.ndarray)
            assert isinstance(model.labels_, da.Array)  # the fitted model itself stays lazy
            np.testing.assert_array_equal(back.labels_, model.labels_.compute())


def test_small_blocks_feed_every_row_to_minibatch(five_blobs):
    init = np.array([[-3, 3], [-3, 2], [-3, 1], [-1, 2], [0, 2]], float)
    moved = five_blobs.copy()
    moved[400:] = 1e3 + np.random.RandomState(1).normal(size=(len(moved) - 400, 2))
    with dask.config.set(scheduler="sync"):
        # blocks of 10 rows under batches of 1024 read only the first blocks before
        model = MiniBatchKMeans(5, init=init, n_init=1, random_state=0).fit(
            da.from_array(moved, chunks=(10, 2)))
    assert model.cluster_centers_.max() > 900  # the cluster at 1000 is found


def test_a_dask_refit_forgets_column_names_and_a_failed_em_stores_nothing(five_blobs):
    import warnings

    import pandas as pd
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    X3 = np.c_[five_blobs, five_blobs[:, 0]]
    with dask.config.set(scheduler="sync"):
        for est in (KMeans(5, n_init=1, random_state=0),
                    MiniBatchKMeans(5, n_init=1, random_state=0),
                    GaussianMixture(3, random_state=0)):
            est.fit(pd.DataFrame(five_blobs, columns=["a", "b"]))
            est.fit(da.from_array(X3, chunks=500))
            assert est.n_features_in_ == 3 and not hasattr(est, "feature_names_in_")
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # no "fitted with feature names" warning
                est.predict(X3[:5])

        calls = {"n": 0}

        def flaky(block, block_info=None):
            if block_info[0]["chunk-location"][0] == 2:
                calls["n"] += 1
                if calls["n"] > 3:
                    raise ValueError("bad block")
            return block

        gm = GaussianMixture(3, random_state=0)
        with pytest.raises(ValueError, match="bad block"):
            gm.fit(da.from_array(five_blobs, chunks=500).map_blocks(flaky, dtype=float))
        with pytest.raises(NotFittedError):
            check_is_fitted(gm)


def test_estimators_that_are_not_distributed_say_they_compute_the_array(five_blobs):
    import warnings

    from clusterlab import DBSCAN, BayesianGaussianMixture
    from clusterlab.metrics import silhouette_score as cl_silhouette_score

    dX = da.from_array(five_blobs, chunks=500)
    labels = KMeans(5, n_init=1, random_state=0).fit(five_blobs).labels_
    with dask.config.set(scheduler="sync"):
        for fit in (lambda: DBSCAN(eps=0.3).fit(dX),
                    lambda: BayesianGaussianMixture(n_components=3, random_state=0).fit(dX)):
            with pytest.warns(UserWarning, match="is not distributed: the dask array X"):
                fit()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            score = cl_silhouette_score(dX, labels)
        said = [w for w in caught if "is not distributed" in str(w.message)]
        assert len(said) == 1 and score == pytest.approx(sk_silhouette_score(five_blobs, labels))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the distributed ones do not warn
            KMeans(5, n_init=1, random_state=0).fit(dX)
            GaussianMixture(3, random_state=0).fit(dX)


def test_fewer_distinct_clusters_are_said_as_in_memory(five_blobs):
    from sklearn.exceptions import ConvergenceWarning

    three = np.repeat(five_blobs[:3], 100, axis=0)  # 3 distinct points, k=5
    with pytest.warns(ConvergenceWarning, match=r"distinct clusters \(3\)"):
        KMeans(5, n_init=1, random_state=0).fit(three)
    with dask.config.set(scheduler="sync"), \
            pytest.warns(ConvergenceWarning, match=r"distinct clusters \(3\)"):
        KMeans(5, n_init=1, random_state=0).fit(da.from_array(three, chunks=50))
