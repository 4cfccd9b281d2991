"""Work that cannot fit the memory left is refused before it starts, with the size
and a way out (a probe under ``prlimit --as`` found numpy's bare MemoryError, or
SuperLU's, after seconds of work). ``available_memory`` is patched down here; the
refusals compare with it."""

import numpy as np
import pytest

from clusterlab import (HDBSCAN, OPTICS, BayesianGaussianMixture, GaussianMixture,
                        SpectralBiclustering, SpectralClustering, SpectralCoclustering, _config)


def _little_memory(monkeypatch, nbytes):
    monkeypatch.setattr(_config, "available_memory", lambda: nbytes)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("make", [lambda: GaussianMixture(200, max_iter=1),
                                  lambda: BayesianGaussianMixture(n_components=200, max_iter=1)])
def test_mixture_parameter_stacks_beyond_the_memory_left(monkeypatch, make):
    X = np.random.RandomState(0).rand(300, 60)  # 200 x 60 x 60 stacks: 46 MiB at the peak
    _little_memory(monkeypatch, 40 << 20)
    monkeypatch.setattr(type(make()), "_STACKS_AT_PEAK", 16)  # 92 MiB: over the 64 MiB floor
    with pytest.raises(MemoryError, match=r"200 x 60 x 60 parameter stacks.*'diag'"):
        make().fit(X)
    make().set_params(covariance_type="diag").fit(X)  # k x d: nothing to refuse


def test_dense_spectral_affinity_beyond_the_memory_left(monkeypatch):
    X = np.random.RandomState(0).rand(1600, 2)  # 1600^2 x 16 bytes: 39 MiB
    _little_memory(monkeypatch, 20 << 20)
    with pytest.raises(ValueError, match="memory this process may still allocate.*"
                                         "nearest_neighbors"):
        SpectralClustering(2, affinity="laplacian", random_state=0).fit(X)


def test_sparse_rbf_affinity_beyond_the_memory_left(monkeypatch):
    X = np.random.RandomState(0).rand(400, 2)
    monkeypatch.setattr(_config, "SPECTRAL_DENSE_RBF_MAX_SAMPLES", 100)
    _little_memory(monkeypatch, 1 << 20)
    with pytest.raises(ValueError, match="sparse RBF affinity.*memory this process"):
        SpectralClustering(2, gamma=1.0, random_state=0).fit(X)


def test_sparse_lu_out_of_memory_says_what_to_do(monkeypatch):
    import scipy.sparse.linalg

    from clusterlab.cluster import _spectral_embedding

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(scipy.sparse.linalg, "splu", no_memory)
    import scipy.sparse as sp

    with pytest.raises(MemoryError, match="sparse LU factorisation.*eigen_solver='amg'"):
        _spectral_embedding._factorize_shifted(sp.identity(300, format="csr"))


def test_hdbscan_counts_the_temporary_of_scikit_learns_cosine(monkeypatch):
    X = np.random.RandomState(0).rand(300, 3)
    # room for one 300 x 300 matrix, not two
    monkeypatch.setattr(_config, "HDBSCAN_DENSE_MAX_BYTES", 8 * 300 * 300 + 1000)
    with pytest.raises(MemoryError, match="with its temporary copy") as refused:
        HDBSCAN(metric="cosine", algorithm="brute", copy=True).fit(X)
    assert "{" not in str(refused.value) and "GiB allowed" in str(refused.value)
    HDBSCAN(metric="manhattan", copy=True).fit(X)  # one matrix: fits


def test_optics_brute_chunks_within_the_memory_left(monkeypatch):
    """Cosine OPTICS took scikit-learn's 1 GiB working memory twice over (its
    clip's copy): 30000 rows failed under a 3 GB limit. The chunks now shrink
    with the memory left; the result does not change."""
    X = np.random.RandomState(0).rand(1200, 3)
    whole = OPTICS(min_samples=5, metric="cosine").fit(X)
    calls = []
    from sklearn.neighbors import NearestNeighbors

    real = NearestNeighbors.kneighbors

    def counted(self, X=None, *args, **kwargs):
        calls.append(0 if X is None else X.shape[0])
        return real(self, X, *args, **kwargs)

    monkeypatch.setattr(NearestNeighbors, "kneighbors", counted)
    _little_memory(monkeypatch, 32 << 20)  # a quarter: 8 MiB, rows of 2 x 1200 x 8 bytes
    small = OPTICS(min_samples=5, metric="cosine").fit(X)
    assert max(calls) <= (8 << 20) // (16 * 1200) and len(calls) >= 2
    np.testing.assert_array_equal(small.ordering_, whole.ordering_)
    np.testing.assert_array_equal(small.core_distances_, whole.core_distances_)
    np.testing.assert_array_equal(small.labels_, whole.labels_)


@pytest.mark.parametrize("make,copies", [(lambda: SpectralCoclustering(3, random_state=0), 1),
                                         (lambda: SpectralBiclustering(3, random_state=0), 2)])
def test_biclustering_copies_beyond_the_memory_left(monkeypatch, make, copies):
    X = np.random.RandomState(0).rand(1200, 1000) + 0.1  # 9.2 MiB a copy
    monkeypatch.setattr(type(make()), "_DENSE_COPIES", copies * 8)  # over the 64 MiB floor
    _little_memory(monkeypatch, 8 << 20)
    with pytest.raises(MemoryError, match="normalises X .* sparse matrix"):
        make().fit(X)


def test_coclustering_normalises_into_one_copy():
    """(r * X) * c with the second product in place: the same numbers as the
    expression that held two copies."""
    from clusterlab.cluster.bicluster import _scale_normalize

    X = np.random.RandomState(1).rand(50, 40) + 0.1
    got, r, c = _scale_normalize(X)
    np.testing.assert_array_equal(got, r[:, np.newaxis] * X * c)


# -- large k (a second probe) ---------------------------------------------------

def test_minibatch_step_products_split_by_the_number_of_centres(monkeypatch):
    """A batch of 33333 rows against 10000 centres was one 2.5 GiB product:
    the rows now go through in pieces of at most the working memory, in order,
    so the centres are the same."""
    from clusterlab import MiniBatchKMeans

    X = np.random.RandomState(0).rand(3000, 2)
    whole = MiniBatchKMeans(200, batch_size=1024, n_init=1, random_state=0,
                            max_iter=3).fit(X)
    monkeypatch.setattr(_config, "WORKING_MEMORY_BYTES", 8 * 200 * 100)  # 100 rows a piece
    import clusterlab.cluster.minibatch as mb

    rows = []
    real = mb._k.assign_accumulate_dots

    def spy(Xs, swb, centers, center_sq, dots, *rest):
        rows.append(dots.shape[0])
        return real(Xs, swb, centers, center_sq, dots, *rest)

    monkeypatch.setattr(mb._k, "assign_accumulate_dots", spy)
    split = MiniBatchKMeans(200, batch_size=1024, n_init=1, random_state=0, max_iter=3).fit(X)
    assert rows and max(rows) <= 100
    np.testing.assert_array_equal(split.cluster_centers_, whole.cluster_centers_)
    np.testing.assert_array_equal(split.labels_, whole.labels_)


def test_sparse_predict_and_bisecting_score_a_block_of_rows_at_a_time(monkeypatch):
    import scipy.sparse as sp

    from clusterlab import BisectingKMeans, KMeans

    X = np.random.RandomState(0).rand(2000, 5)
    X[X < 0.5] = 0.0
    km = KMeans(50, n_init=1, random_state=0).fit(X)
    bk = BisectingKMeans(40, random_state=0).fit(X)
    want = km.predict(sp.csr_matrix(X)), km.score(sp.csr_matrix(X)), bk.score(X)
    monkeypatch.setattr(_config, "WORKING_MEMORY_BYTES", 8 * 50 * 64)  # 64 rows a block
    tables = []
    for model in (km, bk):
        real = model._sq_distances
        monkeypatch.setattr(model, "_sq_distances",
                            lambda rows, real=real: tables.append(rows.shape[0]) or real(rows))
    got = km.predict(sp.csr_matrix(X)), km.score(sp.csr_matrix(X)), bk.score(X)
    assert tables and max(tables) <= 80  # 64 rows against 50 centres, 80 against 40 leaves
    np.testing.assert_array_equal(got[0], want[0])
    assert got[1] == want[1] and got[2] == want[2]


def test_transforms_that_cannot_fit_are_refused_with_the_way_out(monkeypatch):
    from clusterlab import Birch, BisectingKMeans, KMeans, MiniBatchKMeans

    X = np.random.RandomState(0).rand(3000, 2)
    models = [KMeans(20, n_init=1, random_state=0).fit(X),
              MiniBatchKMeans(20, n_init=1, random_state=0).fit(X),
              BisectingKMeans(20, random_state=0).fit(X),
              Birch(n_clusters=None, threshold=0.05).fit(X)]
    big = np.random.RandomState(1).rand(600_000, 2)  # x 20+ columns x 8 bytes > 64 MiB
    _little_memory(monkeypatch, 32 << 20)
    for model in models:
        with pytest.raises(MemoryError, match=r"transform returns a 600000 x \d+ table.*"
                                              "block of rows at a time"):
            model.transform(big)


def test_hdbscan_with_a_knn_table_that_cannot_fit_takes_prims_tree(monkeypatch):
    """100000 rows with min_samples=3000 failed on numpy's bare MemoryError; the
    core distances and Prim's tree on the points need O(n): the same clusters."""
    from sklearn.datasets import make_blobs

    import clusterlab.cluster._hdbscan_graph as graph

    X = make_blobs(3000, centers=4, random_state=0)[0]  # (smaller: Prim's tree anyway)
    calls = []
    real = graph._prim.prim_mst_points

    def spy(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(graph._prim, "prim_mst_points", spy)
    monkeypatch.setattr(_config, "available_memory", lambda: None)
    ref = HDBSCAN(min_samples=500, copy=True).fit(X)
    assert not calls  # with room: the k-NN table and Boruvka's tree
    _little_memory(monkeypatch, 1 << 20)  # 48 x 3000 x 500 bytes = 72 MB do not fit
    got = HDBSCAN(min_samples=500, copy=True).fit(X)
    assert calls  # the O(n) path ran
    np.testing.assert_array_equal(got.labels_, ref.labels_)
    np.testing.assert_allclose(got.probabilities_, ref.probabilities_, rtol=1e-12)


def test_mixture_initial_responsibilities_beyond_the_memory_left(monkeypatch):
    """100000 rows and 4000 components failed at once on a bare 2.98 GiB
    allocation of the initial responsibilities."""
    X = np.random.RandomState(0).rand(20000, 2)
    _little_memory(monkeypatch, 32 << 20)
    with pytest.raises(MemoryError, match=r"20000 x 500 matrix of responsibilities.*means_init"):
        GaussianMixture(500, covariance_type="diag", init_params="random_from_data").fit(X)
    with pytest.raises(MemoryError, match="matrix of responsibilities"):
        BayesianGaussianMixture(n_components=500, covariance_type="diag").fit(X)


def test_sweep_refuses_a_silhouette_that_cannot_fit_before_fitting(monkeypatch):
    from clusterlab import KMeans
    from clusterlab.selection import sweep

    X = np.random.RandomState(0).rand(2000, 2)
    fits = []
    real = KMeans.fit
    monkeypatch.setattr(KMeans, "fit", lambda self, *a, **k: fits.append(1) or real(self, *a, **k))
    _little_memory(monkeypatch, 1 << 20)
    with pytest.raises(MemoryError, match="sample_size"):
        sweep(KMeans(n_init=1, random_state=0), X, [2, 500])
    assert not fits
    # with a sample, or without the silhouette, the sweep runs
    sweep(KMeans(n_init=1, random_state=0), X, [2, 3], criteria="inertia")
    assert fits
