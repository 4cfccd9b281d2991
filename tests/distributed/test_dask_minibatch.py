"""Distributed mini-batch K-Means: the in-memory update rule, streamed block by block."""

import dask
import dask.array as da
import numpy as np
import pytest

from clusterlab.cluster.minibatch import MiniBatchKMeans
from clusterlab.distributed import fit_minibatch_kmeans


@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-6), (np.float32, 1e-4)])
def test_one_block_is_exactly_the_in_memory_fit(dask_client, dask_fit, five_blobs, dtype, tol):
    # with a single block, batches are drawn from all rows with the same random stream as in
    # memory: the same update rule must give the same centres, step for step
    X = five_blobs.astype(dtype)
    kw = dict(n_clusters=5, n_init=3, random_state=42, batch_size=256, max_iter=5)
    ours = dask_fit(MiniBatchKMeans(**kw), da.from_array(X, chunks=(len(X), 2)))
    ref = MiniBatchKMeans(**kw).fit(X)
    assert ours.n_steps_ == ref.n_steps_
    assert ours.n_iter_ == ref.n_iter_
    assert ours.cluster_centers_.dtype == dtype
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=tol, atol=tol)
    assert ours.inertia_ == pytest.approx(ref.inertia_, rel=tol)
    np.testing.assert_array_equal(ours.labels_.compute(), ref.labels_)


def test_many_blocks_reach_the_seed_quality(dask_client, dask_fit, five_blobs):
    # EXPECTED.md: MiniBatchKMeans k=5, n_init=3 -> inertia within 1% of 211.6
    mb = dask_fit(MiniBatchKMeans(n_clusters=5, n_init=3, random_state=42),
                  da.from_array(five_blobs, chunks=(300, 2)))
    assert mb.inertia_ == pytest.approx(211.5985, rel=0.01)
    assert isinstance(mb.labels_, da.Array)
    labels = mb.labels_.compute()
    assert labels.shape == (2000,) and set(np.unique(labels)) == set(range(5))


def test_initialisation_uses_the_in_memory_random_stream(dask_fit, five_blobs):
    # max_iter=1 with batch_size = n: one step; the init (validation rows, k-means++ on
    # init_size rows drawn from the whole array) is shared with the in-memory fit
    kw = dict(n_clusters=5, n_init=2, random_state=3, batch_size=2000, max_iter=1,
              init="random")
    with dask.config.set(scheduler="sync"):
        ours = dask_fit(MiniBatchKMeans(**kw), da.from_array(five_blobs, chunks=(2000, 2)))
    ref = MiniBatchKMeans(**kw).fit(five_blobs)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-9)


def test_sample_weight_zero_blocks_are_skipped(dask_fit, five_blobs):
    w = np.ones(len(five_blobs))
    w[:1000] = 0.0  # the first two blocks carry no weight
    with dask.config.set(scheduler="sync"):
        mb = dask_fit(MiniBatchKMeans(n_clusters=3, n_init=1, random_state=0, init=five_blobs[
            1000:1003]), da.from_array(five_blobs, chunks=(500, 2)), sample_weight=w)
    # every centre is a mean of rows from the weighted half
    lo, hi = five_blobs[1000:].min(axis=0), five_blobs[1000:].max(axis=0)
    assert np.all((mb.cluster_centers_ >= lo) & (mb.cluster_centers_ <= hi))


def test_bad_inputs(five_blobs):
    with dask.config.set(scheduler="sync"):
        bad = five_blobs.copy()
        bad[5, 1] = np.nan
        mb = MiniBatchKMeans(3)
        with pytest.raises(ValueError, match="NaN"):
            fit_minibatch_kmeans(mb, da.from_array(bad, chunks=500))
        assert not hasattr(mb, "cluster_centers_")
        with pytest.raises(ValueError, match="n_clusters"):
            fit_minibatch_kmeans(MiniBatchKMeans(30), da.from_array(five_blobs[:10], chunks=5))
        with pytest.raises(ValueError, match="batch_size"):
            fit_minibatch_kmeans(MiniBatchKMeans(3, batch_size=0),
                                 da.from_array(five_blobs, chunks=500))
