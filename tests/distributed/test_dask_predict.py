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
