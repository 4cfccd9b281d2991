"""SpectralClustering / spectral_clustering: oracle tests vs scikit-learn, the seed's
moons figures, the sparse RBF path, estimator checks, properties and bad input."""

import doctest
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import SpectralClustering as SkSpectral
from sklearn.cluster import spectral_clustering as sk_spectral_clustering
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.manifold import spectral_embedding as sk_spectral_embedding
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics.pairwise import pairwise_kernels
from sklearn.utils.estimator_checks import parametrize_with_checks

import clusterlab
from clusterlab import _config
from clusterlab.cluster import _spectral_embedding as embedding_mod
from clusterlab.cluster.spectral import (
    SpectralClustering,
    cluster_qr,
    discretize,
    rbf_affinity,
    spectral_clustering,
    spectral_embedding_normalized,
)


def _blobs(n=90, seed=0, std=0.6):
    X, y = make_blobs(n_samples=n, centers=[[0, 0], [5, 0], [0, 5]], cluster_std=std,
                      random_state=seed)
    return X, y


# -- scikit-learn's estimator checks -------------------------------------------------

def _expected_failed(est):
    if est.affinity == "precomputed":
        # check_clustering fits raw (50, 2) feature vectors; an estimator told that X is
        # a precomputed affinity must reject a non-square X (scikit-learn's own
        # SpectralClustering(affinity='precomputed') fails this check the same way).
        return {"check_clustering": "precomputed affinity needs a square X; the check "
                                    "passes (50, 2) features"}
    return {}


# check_array_api_input is skipped by scikit-learn itself when array-api-compat is
# not installed (it is not a dependency of this project).
@parametrize_with_checks(
    [
        SpectralClustering(n_clusters=3, n_init=3),
        SpectralClustering(n_clusters=3, n_init=3, affinity="nearest_neighbors", n_neighbors=5),
        SpectralClustering(n_clusters=3, assign_labels="cluster_qr"),
        SpectralClustering(n_init=3, affinity="precomputed"),
    ],
    expected_failed_checks=_expected_failed,
)
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        check(estimator)


# -- the seed: moons, gamma=100 and gamma=1 ------------------------------------------

@pytest.mark.parametrize("gamma", [100, 1])
def test_seed_moons_same_labels_as_sklearn(moons, gamma):
    ours = SpectralClustering(n_clusters=2, gamma=gamma, random_state=42).fit(moons)
    theirs = SkSpectral(n_clusters=2, gamma=gamma, random_state=42).fit(moons)
    assert adjusted_rand_score(ours.labels_, theirs.labels_) == 1.0
    np.testing.assert_allclose(ours.affinity_matrix_, theirs.affinity_matrix_, rtol=0,
                               atol=1e-12)
    # the seed prints affinity_matrix_.round(2): ones on the diagonal
    np.testing.assert_array_equal(np.diag(ours.affinity_matrix_), 1.0)


def test_seed_moons_gamma100_separates_the_moons_and_gamma1_does_not():
    from clusterlab.datasets import load_moons

    X, y = load_moons(return_y=True)
    sc1 = SpectralClustering(n_clusters=2, gamma=100, random_state=42).fit(X)
    sc2 = SpectralClustering(n_clusters=2, gamma=1, random_state=42).fit(X)
    assert adjusted_rand_score(y, sc1.labels_) == 1.0
    assert adjusted_rand_score(y, sc2.labels_) < 0.9


def test_plot_spectral_clustering_both_seed_panels(moons, tmp_path):
    from matplotlib.figure import Figure

    from clusterlab.plotting import plot_spectral_clustering

    sc1 = SpectralClustering(n_clusters=2, gamma=100, random_state=42).fit(moons)
    sc2 = SpectralClustering(n_clusters=2, gamma=1, random_state=42).fit(moons)
    fig = Figure(figsize=(9, 3.2))
    ax1, ax2 = fig.subplots(1, 2)
    out1 = plot_spectral_clustering(sc1, moons, size=500, alpha=0.1, ax=ax1)
    out2 = plot_spectral_clustering(sc2, moons, size=4000, alpha=0.01, show_ylabels=False,
                                    ax=ax2)
    assert out1 is fig and out2 is fig
    assert ax1.get_title() == "RBF gamma=100"
    assert ax2.get_title() == "RBF gamma=1"
    assert ax1.get_xlabel() == "$x_1$" and ax1.get_ylabel() == "$x_2$"
    assert ax2.get_ylabel() == ""
    # three layers per panel: grey halo, white disc, dots coloured by cluster
    for ax, labels in ((ax1, sc1.labels_), (ax2, sc2.labels_)):
        assert len(ax.collections) == 3
        np.testing.assert_array_equal(ax.collections[2].get_array(), labels)
    assert ax2.collections[0].get_sizes()[0] == 4000
    path = tmp_path / "spectral.png"
    fig.savefig(path)
    assert path.stat().st_size > 1000


def test_plot_spectral_clustering_new_figure_and_errors(moons):
    from clusterlab.plotting import plot_spectral_clustering

    sc = SpectralClustering(n_clusters=2, gamma=100, random_state=42).fit(moons)
    fig = plot_spectral_clustering(sc, moons)
    assert fig.axes[0].get_title() == "RBF gamma=100"
    with pytest.raises(ValueError, match="first two columns"):
        plot_spectral_clustering(sc, moons[:, 0])
    with pytest.raises(ValueError, match="labels_"):
        plot_spectral_clustering(SpectralClustering(), moons)
    with pytest.raises(ValueError, match="labels_"):
        plot_spectral_clustering(sc, moons[:10])


# -- oracle tests on blobs -------------------------------------------------------------

@pytest.mark.parametrize("assign_labels", ["kmeans", "discretize", "cluster_qr"])
@pytest.mark.parametrize("eigen_solver", [None, "arpack", "lobpcg"])
def test_blobs_same_partition_as_sklearn(assign_labels, eigen_solver):
    X, y = _blobs()
    kw = dict(n_clusters=3, gamma=0.5, random_state=0, assign_labels=assign_labels,
              eigen_solver=eigen_solver)
    ours = SpectralClustering(**kw).fit(X)
    theirs = SkSpectral(**kw).fit(X)
    assert adjusted_rand_score(ours.labels_, theirs.labels_) == 1.0
    assert adjusted_rand_score(ours.labels_, y) == 1.0


@pytest.mark.parametrize("dtype, atol", [(np.float64, 1e-6), (np.float32, 1e-4)])
@pytest.mark.parametrize("gamma", [0.3, 3.0])
def test_embedding_matches_sklearn(dtype, atol, gamma):
    X, _ = _blobs(std=1.5)
    A = rbf_affinity(X.astype(dtype), gamma)
    assert A.dtype == dtype
    ours = spectral_embedding_normalized(A, 3, random_state=0)
    theirs = sk_spectral_embedding(A.astype(np.float64), n_components=3, drop_first=False,
                                   random_state=0)
    np.testing.assert_allclose(ours, theirs, atol=atol * np.abs(theirs).max())


@pytest.mark.parametrize("eigen_solver", ["arpack", "lobpcg"])
def test_solvers_agree(eigen_solver):
    X, _ = _blobs(std=1.2)
    A = rbf_affinity(X, 0.5)
    ref = spectral_embedding_normalized(A, 3, random_state=0)
    other = spectral_embedding_normalized(A, 3, eigen_solver=eigen_solver, random_state=0)
    np.testing.assert_allclose(other, ref, atol=1e-6 * np.abs(ref).max())


def test_float32_in_float32_affinity_and_same_labels():
    X, _ = _blobs()
    a = SpectralClustering(n_clusters=3, random_state=0).fit(X)
    b = SpectralClustering(n_clusters=3, random_state=0).fit(X.astype(np.float32))
    assert b.affinity_matrix_.dtype == np.float32
    np.testing.assert_allclose(b.affinity_matrix_, a.affinity_matrix_, atol=1e-4)
    assert adjusted_rand_score(a.labels_, b.labels_) == 1.0


def test_nearest_neighbors_graph_matches_sklearn(rng):
    X = rng.normal(size=(120, 3))  # continuous data: no distance ties
    ours = SpectralClustering(n_clusters=3, affinity="nearest_neighbors", n_neighbors=7,
                              random_state=0).fit(X)
    theirs = SkSpectral(n_clusters=3, affinity="nearest_neighbors", n_neighbors=7,
                        random_state=0).fit(X)
    assert sp.issparse(ours.affinity_matrix_)
    np.testing.assert_allclose(ours.affinity_matrix_.toarray(), theirs.affinity_matrix_.toarray())
    assert adjusted_rand_score(ours.labels_, theirs.labels_) == 1.0


def test_nearest_neighbors_high_dimension_brute_force_matches_sklearn(rng):
    X = rng.normal(size=(80, 20))  # d > 16: chunked brute-force search
    ours = SpectralClustering(n_clusters=2, affinity="nearest_neighbors", n_neighbors=6,
                              random_state=0).fit(X)
    theirs = SkSpectral(n_clusters=2, affinity="nearest_neighbors", n_neighbors=6,
                        random_state=0).fit(X)
    np.testing.assert_allclose(ours.affinity_matrix_.toarray(), theirs.affinity_matrix_.toarray())


@pytest.mark.parametrize("sparse_input", [False, True])
def test_precomputed_nearest_neighbors_matches_sklearn(rng, sparse_input):
    from sklearn.metrics import pairwise_distances
    from sklearn.neighbors import NearestNeighbors

    X, _ = _blobs(std=1.5)  # overlapping blobs: a connected graph, a unique embedding
    D = pairwise_distances(X)
    if sparse_input:
        D = NearestNeighbors(n_neighbors=15).fit(X).kneighbors_graph(mode="distance")
    kw = dict(n_clusters=3, affinity="precomputed_nearest_neighbors", n_neighbors=10,
              random_state=0)
    ours = SpectralClustering(**kw).fit(D)
    theirs = SkSpectral(**kw).fit(D)
    np.testing.assert_allclose(ours.affinity_matrix_.toarray(), theirs.affinity_matrix_.toarray())
    assert adjusted_rand_score(ours.labels_, theirs.labels_) == 1.0


@pytest.mark.parametrize("kernel", ["linear", "poly", "polynomial", "sigmoid", "laplacian",
                                    "cosine", "chi2", "additive_chi2"])
def test_named_kernels_match_sklearn(kernel, rng):
    X = rng.uniform(0.1, 1.0, size=(40, 3))
    ours = SpectralClustering(n_clusters=2, affinity=kernel, gamma=0.7, degree=2, coef0=0.5,
                              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ours.fit(X)
    expected = pairwise_kernels(X, metric=kernel, filter_params=True, gamma=0.7, degree=2,
                                coef0=0.5)
    np.testing.assert_allclose(ours.affinity_matrix_, expected, rtol=1e-10, atol=1e-12)


def test_callable_affinity_matches_sklearn():
    X, _ = _blobs(n=45)

    def affinity(x, y, scale=1.0):
        return float(np.exp(-np.sum((x - y) ** 2) / scale))

    kw = dict(n_clusters=3, affinity=affinity, kernel_params={"scale": 2.0}, random_state=0)
    ours = SpectralClustering(**kw).fit(X)
    theirs = SkSpectral(**kw).fit(X)
    np.testing.assert_allclose(ours.affinity_matrix_, theirs.affinity_matrix_)
    assert adjusted_rand_score(ours.labels_, theirs.labels_) == 1.0


def test_precomputed_and_function_match_sklearn():
    X, _ = _blobs(std=1.0)
    A = rbf_affinity(X, 0.5)
    labels = spectral_clustering(A, n_clusters=3, random_state=0)
    expected = sk_spectral_clustering(A, n_clusters=3, random_state=0)
    assert adjusted_rand_score(labels, expected) == 1.0
    est = SpectralClustering(n_clusters=3, affinity="precomputed", random_state=0).fit(A)
    assert est.affinity_matrix_ is not None
    assert adjusted_rand_score(est.labels_, expected) == 1.0
    assert est.n_features_in_ == A.shape[0]
    sparse_labels = spectral_clustering(sp.csr_matrix(A), n_clusters=3, random_state=0)
    assert adjusted_rand_score(sparse_labels, expected) == 1.0


def test_cluster_qr_and_discretize_recover_exact_indicators(rng):
    n, k = 60, 3
    labels = np.repeat(np.arange(k), n // k)
    maps = np.eye(k)[labels] @ np.linalg.qr(rng.normal(size=(k, k)))[0]  # rotated indicators
    maps += 1e-3 * rng.normal(size=maps.shape)
    assert adjusted_rand_score(labels, cluster_qr(maps)) == 1.0
    assert adjusted_rand_score(labels, discretize(maps, random_state=0)) == 1.0


def test_disconnected_graph_warns_and_still_clusters():
    A = np.kron(np.eye(3), np.ones((10, 10)))
    with pytest.warns(UserWarning, match="not fully connected"):
        labels = spectral_clustering(A, n_clusters=3, random_state=0)
    assert adjusted_rand_score(np.repeat(np.arange(3), 10), labels) == 1.0


def test_verbose_prints(capsys):
    X, _ = _blobs(n=30)
    SpectralClustering(n_clusters=3, random_state=0, verbose=True).fit(X)
    assert "spectral embedding" in capsys.readouterr().out


# -- large n: the sparse thresholded RBF -----------------------------------------------

def test_sparse_rbf_equals_dense_up_to_tolerance(monkeypatch, moons):
    X = moons[:400]
    dense = rbf_affinity(X, 100.0)
    monkeypatch.setattr(_config, "SPECTRAL_DENSE_RBF_MAX_SAMPLES", 100)
    sparse = rbf_affinity(X, 100.0)
    assert sp.issparse(sparse)
    tol = _config.SPECTRAL_RBF_SPARSE_TOL
    diff = np.abs(sparse.toarray() - dense)
    assert diff.max() < tol
    assert sparse.nnz == np.count_nonzero(dense >= tol)
    assert sparse.nnz < 0.5 * X.shape[0] ** 2
    ours = SpectralClustering(n_clusters=2, gamma=100, random_state=42).fit(X)
    assert sp.issparse(ours.affinity_matrix_)
    theirs = SkSpectral(n_clusters=2, gamma=100, random_state=42).fit(X)
    assert adjusted_rand_score(ours.labels_, theirs.labels_) == 1.0


def _force_iterative_path(monkeypatch):
    """Route sparse affinities of >= 500 samples to the factorisation-free path; spy on it."""
    calls = []
    real = embedding_mod._iterative_sparse_embedding

    def spy(*args, **kwargs):
        V, n_null = real(*args, **kwargs)
        calls.append(n_null)
        return V, n_null

    monkeypatch.setattr(_config, "SPECTRAL_SPARSE_ITERATIVE_MIN_SAMPLES", 500)
    monkeypatch.setattr(_config, "SPECTRAL_SPARSE_ITERATIVE_MIN_ROW_NNZ", 1)
    monkeypatch.setattr(embedding_mod, "_iterative_sparse_embedding", spy)
    return calls


@pytest.mark.parametrize("gamma, n_clusters, n_null", [
    (100.0, 2, 1),     # connected graph: LOBPCG finds the Fiedler vector
    (100.0, 3, 1),     # connected, two eigenvectors from LOBPCG
    (1000.0, 2, 2),    # one component per moon: the exact null space is the answer
])
def test_iterative_sparse_path_same_partition_as_factorisation(monkeypatch, gamma, n_clusters,
                                                               n_null):
    from sklearn.datasets import make_moons

    X, _ = make_moons(n_samples=2000, noise=0.05, random_state=0)
    monkeypatch.setattr(_config, "SPECTRAL_DENSE_RBF_MAX_SAMPLES", 100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "not fully connected" for gamma=1000
        exact = SpectralClustering(n_clusters=n_clusters, gamma=gamma, random_state=0).fit(X)
        calls = _force_iterative_path(monkeypatch)
        fast = SpectralClustering(n_clusters=n_clusters, gamma=gamma, random_state=0).fit(X)
    assert calls == [n_null]
    assert sp.issparse(fast.affinity_matrix_)
    assert adjusted_rand_score(exact.labels_, fast.labels_) == 1.0


def test_iterative_sparse_path_embedding_spans_the_exact_eigenvectors(monkeypatch, moons):
    X = moons[:800]
    monkeypatch.setattr(_config, "SPECTRAL_DENSE_RBF_MAX_SAMPLES", 100)
    A = rbf_affinity(X, 100.0)
    exact = spectral_embedding_normalized(A, 3, random_state=0)
    _force_iterative_path(monkeypatch)
    fast = spectral_embedding_normalized(A, 3, random_state=0)
    # the same subspace (D^-1/2-scaled eigenvectors): projecting one basis on the
    # other loses nothing
    Q, _ = np.linalg.qr(exact)
    resid = fast - Q @ (Q.T @ fast)
    assert np.linalg.norm(resid) < 1e-3 * np.linalg.norm(fast)


def test_iterative_sparse_path_null_space_is_exact(monkeypatch):
    # four disconnected cliques of different sizes: the null space is spanned by the
    # component indicators, largest components first
    sizes = [30, 50, 20, 40]
    A = sp.block_diag([np.ones((m, m)) for m in sizes], format="csr")
    labels = np.repeat(np.arange(4), sizes)
    _force_iterative_path(monkeypatch)
    monkeypatch.setattr(_config, "SPECTRAL_SPARSE_ITERATIVE_MIN_SAMPLES", 50)
    with pytest.warns(UserWarning, match="not fully connected"):
        maps = spectral_embedding_normalized(A, 2, random_state=0)
    for j, comp in enumerate([1, 3]):  # sizes 50 and 40
        inside = labels == comp
        assert np.ptp(maps[inside, j]) < 1e-12 and abs(maps[inside, j][0]) > 0
        assert np.all(maps[~inside, j] == 0)


def test_iterative_sparse_path_warns_when_not_converged(monkeypatch):
    from sklearn.datasets import make_moons

    X, _ = make_moons(n_samples=1500, noise=0.05, random_state=0)
    monkeypatch.setattr(_config, "SPECTRAL_DENSE_RBF_MAX_SAMPLES", 100)
    _force_iterative_path(monkeypatch)
    monkeypatch.setattr(embedding_mod, "_ITERATIVE_MAX_ITER", 2)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        SpectralClustering(n_clusters=3, gamma=100.0, random_state=0).fit(X)


def test_iterative_path_chosen_by_size_and_entries_per_row():
    def banded(n, per_row):  # a CSR pattern with per_row entries in every row
        cols = (np.arange(n)[:, None] + np.arange(per_row)[None, :]) % n
        return sp.csr_matrix((np.ones(n * per_row), cols.ravel(),
                              np.arange(0, n * per_row + 1, per_row)), shape=(n, n))

    L_big = banded(20_000, 70)
    L_knn = banded(20_000, 15)
    assert embedding_mod._use_iterative_sparse(L_big, None)
    assert not embedding_mod._use_iterative_sparse(L_big, "arpack")
    assert not embedding_mod._use_iterative_sparse(L_knn, None)
    assert not embedding_mod._use_iterative_sparse(L_big[:5000, :5000], None)


def test_sparse_rbf_fails_early_when_it_would_not_fit(monkeypatch, moons):
    monkeypatch.setattr(_config, "SPECTRAL_DENSE_RBF_MAX_SAMPLES", 100)
    monkeypatch.setattr(_config, "SPECTRAL_MAX_AFFINITY_BYTES", 2**20)
    with pytest.raises(ValueError, match=r"GiB.*nearest_neighbors"):
        SpectralClustering(n_clusters=2, gamma=1.0).fit(moons)


def test_dense_kernel_fails_early_when_it_would_not_fit(monkeypatch, moons):
    monkeypatch.setattr(_config, "SPECTRAL_MAX_AFFINITY_BYTES", 2**20)
    with pytest.raises(ValueError, match=r"GiB.*nearest_neighbors"):
        SpectralClustering(n_clusters=2, affinity="linear").fit(moons)


def test_nearest_neighbors_on_sparse_input(rng):
    X, y = _blobs()
    ours = SpectralClustering(n_clusters=3, affinity="nearest_neighbors",
                              random_state=0).fit(sp.csr_matrix(X))
    assert adjusted_rand_score(ours.labels_, y) == 1.0


# -- properties -----------------------------------------------------------------------

@settings(max_examples=8)
@given(seed=st.integers(0, 10_000), shift=st.floats(-50, 50))
def test_property_permutation_and_translation(seed, shift):
    X, y = _blobs(n=60, seed=seed % 7, std=0.4)
    perm = np.random.RandomState(seed).permutation(X.shape[0])
    base = SpectralClustering(n_clusters=3, gamma=0.5, random_state=0).fit_predict(X)
    moved = SpectralClustering(n_clusters=3, gamma=0.5, random_state=0).fit_predict(
        X[perm] + shift)
    assert adjusted_rand_score(base[perm], moved) == 1.0
    assert adjusted_rand_score(base, y) == 1.0


@settings(max_examples=6)
@given(seed=st.integers(0, 10_000))
def test_property_deterministic_and_input_unchanged(seed):
    X, _ = _blobs(n=45, seed=seed % 5, std=1.5)
    X_copy = X.copy()
    a = SpectralClustering(n_clusters=3, random_state=seed).fit_predict(X)
    b = SpectralClustering(n_clusters=3, random_state=seed).fit_predict(X)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(X, X_copy)


# -- bad input ------------------------------------------------------------------------

def test_bad_inputs():
    X, _ = _blobs(n=30)
    with pytest.raises(ValueError, match="n_clusters"):
        SpectralClustering(n_clusters=31).fit(X)
    with pytest.raises(ValueError, match="square"):
        SpectralClustering(affinity="precomputed").fit(np.ones((5, 4)))
    with pytest.raises(ValueError, match="symmetric"):
        A = np.ones((6, 6))
        A[0, 1] = 3.0
        SpectralClustering(n_clusters=2, affinity="precomputed").fit(A)
    with pytest.raises(ValueError, match="symmetric"):
        spectral_clustering(sp.csr_matrix(np.triu(np.ones((6, 6)))), n_clusters=2)
    with pytest.raises(ValueError, match="square"):
        spectral_clustering(np.ones((5, 4)), n_clusters=2)
    with pytest.raises(ValueError, match="NaN"):
        Xn = X.copy()
        Xn[0, 0] = np.nan
        SpectralClustering(n_clusters=2).fit(Xn)
    with pytest.raises(ValueError, match="infinity"):
        Xn = X.copy()
        Xn[0, 0] = np.inf
        SpectralClustering(n_clusters=2).fit(Xn)
    with pytest.raises(ValueError, match="2D array"):
        SpectralClustering(n_clusters=2).fit(X[:, 0])
    with pytest.raises(ValueError, match="0 sample"):
        SpectralClustering(n_clusters=2).fit(np.empty((0, 2)))
    with pytest.raises(ValueError, match="n_neighbors"):
        SpectralClustering(n_clusters=2, affinity="nearest_neighbors", n_neighbors=40).fit(X)
    with pytest.raises(ValueError, match="affinity"):
        SpectralClustering(affinity="euclidean").fit(X)
    with pytest.raises(ValueError, match="assign_labels"):
        SpectralClustering(assign_labels="nope").fit(X)
    with pytest.raises(ValueError, match="Negative"):
        D = -np.ones((6, 6))
        SpectralClustering(n_clusters=2, affinity="precomputed_nearest_neighbors",
                           n_neighbors=2).fit(D)
    with pytest.raises(ValueError, match="negative"):
        SpectralClustering(n_clusters=2, affinity="chi2").fit(X - 100)


def test_amg_needs_pyamg():
    X, y = _blobs()
    est = SpectralClustering(n_clusters=3, eigen_solver="amg", random_state=0,
                             affinity="nearest_neighbors")
    try:
        import pyamg  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match="pyamg"):
            est.fit(X)
    else:
        assert adjusted_rand_score(est.fit(X).labels_, y) == 1.0


def test_square_features_warn_api_change():
    X = np.random.RandomState(0).normal(size=(8, 8))
    with pytest.warns(UserWarning, match="affinity=precomputed"):
        SpectralClustering(n_clusters=2, random_state=0).fit(X)


def test_lazy_export_and_doctests():
    assert clusterlab.SpectralClustering is SpectralClustering
    assert clusterlab.spectral_clustering is spectral_clustering
    import clusterlab.cluster.spectral as spectral_mod
    import clusterlab.plotting._spectral as plot_mod

    for mod in (spectral_mod, plot_mod):
        result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0 and result.attempted > 0


def _run_markdown_examples(path, tmp_path, monkeypatch):
    import re

    text = path.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, f"no python examples in {path}"
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}  # later blocks use earlier blocks' names
    for block in blocks:
        exec(compile(block, str(path), "exec"), namespace)
    return len(blocks)


def test_user_guide_examples_run(tmp_path, monkeypatch, capsys):
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "docs" / "spectral.md"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert _run_markdown_examples(path, tmp_path, monkeypatch) >= 4
    out = capsys.readouterr().out
    assert "nearest_neighbors" in out  # the early memory error's advice
    assert (tmp_path / "spectral_moons.png").exists()


@pytest.mark.parametrize("gamma", [1.0, 100.0])
def test_lanczos_shortcut_and_its_fallback_match_sklearn(gamma):
    """n >= 1500: a wide kernel is solved by a short Lanczos run, a narrow one (clustered
    eigenvalues) falls back to the factorisation; both give scikit-learn's embedding."""
    from clusterlab.datasets import load_moons

    X = load_moons(n_samples=1600)
    A = rbf_affinity(X, gamma)
    ours = spectral_embedding_normalized(A, 2, random_state=0)
    theirs = sk_spectral_embedding(A, n_components=2, drop_first=False, random_state=0)
    np.testing.assert_allclose(ours, theirs, atol=1e-6 * np.abs(theirs).max())


@pytest.mark.parametrize("assign_labels", ["kmeans", "discretize", "cluster_qr"])
def test_verbose_names_the_label_assignment(assign_labels, capsys):
    X, _ = make_blobs(20, centers=[[1, 1], [-1, -1]], cluster_std=0.01, random_state=0)
    clusterlab.SpectralClustering(n_clusters=2, random_state=42, verbose=1,
                                  assign_labels=assign_labels).fit(X)
    out = capsys.readouterr().out
    assert f"Computing label assignment using {assign_labels}" in out
    if assign_labels == "kmeans":
        assert "Initialization complete" in out


@pytest.mark.parametrize("seed", [1, 2])
def test_slowly_converging_embedding_hands_over_to_arpack(seed):
    # a wide kernel on data without clusters packs the wanted eigenvalues against the
    # next ones: block inverse iteration would need thousands of iterations (it warned
    # and gave other labels than scikit-learn); ARPACK on the same factorisation does not
    X = np.random.RandomState(seed).randn(200, 5)
    theirs = SkSpectral(3, random_state=0, gamma=0.01).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ours = clusterlab.SpectralClustering(3, random_state=0, gamma=0.01).fit(X)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)


@pytest.mark.parametrize("assign_labels", ["kmeans", "discretize", "cluster_qr"])
def test_labels_dtype_as_sklearn(assign_labels):
    X, _ = make_blobs(60, centers=3, random_state=0)
    ours = clusterlab.SpectralClustering(3, random_state=0, assign_labels=assign_labels).fit(X)
    theirs = SkSpectral(3, random_state=0, assign_labels=assign_labels).fit(X)
    assert ours.labels_.dtype == theirs.labels_.dtype


def test_n_jobs_zero_as_sklearn():
    X, _ = make_blobs(40, centers=2, random_state=0)
    clusterlab.SpectralClustering(2, random_state=0, n_jobs=0).fit(X)  # rbf: n_jobs unused
    with pytest.raises(ValueError, match="n_jobs == 0"):
        clusterlab.SpectralClustering(2, affinity="nearest_neighbors", n_neighbors=5,
                                      n_jobs=0).fit(X)


@pytest.mark.parametrize("layout", ["dense", "sparse"])
def test_negative_affinities_are_refused(layout):
    # an affinity with negative entries (here a distance matrix negated) was
    # clustered silently, rows with a negative sum taken as isolated; scikit-learn
    # fails with a NaN error only when a row's sum is negative
    X = np.random.default_rng(0).random((30, 2))
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    A = np.exp(-D ** 2)
    A[0, 1] = A[1, 0] = -1e-9  # one negative entry, every row's sum positive
    for bad in (-D, A):
        bad = sp.csr_matrix(bad) if layout == "sparse" else bad
        with pytest.raises(ValueError, match="Negative values in data passed to affinity"):
            clusterlab.SpectralClustering(3, affinity="precomputed", random_state=0).fit(bad)
        with pytest.raises(ValueError, match="Negative values in data passed to spectral"):
            clusterlab.spectral_clustering(bad, n_clusters=3, random_state=0)
    A[0, 1] = A[1, 0] = 0.0
    good = sp.csr_matrix(A) if layout == "sparse" else A
    labels = clusterlab.SpectralClustering(3, affinity="precomputed", random_state=0).fit(good)
    assert len(np.unique(labels.labels_)) == 3
