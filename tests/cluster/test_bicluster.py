"""SpectralCoclustering, SpectralBiclustering, consensus_score: oracle tests, API."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import SpectralBiclustering as SKBiclustering
from sklearn.cluster import SpectralCoclustering as SKCoclustering
from sklearn.datasets import make_biclusters, make_checkerboard
from sklearn.metrics import consensus_score as sk_consensus_score
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.extmath import _randomized_svd

from clusterlab import SpectralBiclustering, SpectralCoclustering, consensus_score
from clusterlab.cluster.bicluster import randomized_svd


@pytest.mark.parametrize("shape", [(120, 80), (60, 150)])
@pytest.mark.parametrize("sparse", [False, True])
def test_randomized_svd_same_as_sklearn(shape, sparse):
    M = np.random.RandomState(0).rand(*shape)
    if sparse:
        M[M < 0.7] = 0
        M = sp.csr_matrix(M)
    for k, over in ((3, 10), (20, 4)):
        ours = randomized_svd(M, k, n_oversamples=over, random_state=1)
        ref = _randomized_svd(M, k, n_oversamples=over, random_state=1)
        for x, y in zip(ours, ref):
            np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("svd_method", ["randomized", "arpack"])
@pytest.mark.parametrize("sparse", [False, True])
def test_coclustering_same_as_sklearn(svd_method, sparse):
    X, rows, cols = make_biclusters((120, 90), 4, noise=4, random_state=0)
    if sparse:
        X = sp.csr_matrix(np.where(X > 30, X, 0))
    kw = dict(n_clusters=4, svd_method=svd_method, random_state=0)
    ours = SpectralCoclustering(**kw).fit(X)
    ref = SKCoclustering(**kw).fit(X)
    if svd_method == "arpack":
        # ARPACK starts from its own random vector (its state moves from call
        # to call), so singular vectors may come out with other signs: the
        # same biclusters, maybe numbered otherwise
        assert consensus_score(ours.biclusters_, ref.biclusters_) == 1.0
        return
    np.testing.assert_array_equal(ours.row_labels_, ref.row_labels_)
    np.testing.assert_array_equal(ours.column_labels_, ref.column_labels_)
    np.testing.assert_array_equal(ours.rows_, ref.rows_)
    np.testing.assert_array_equal(ours.columns_, ref.columns_)
    assert ours.get_shape(0) == ref.get_shape(0)
    if not sparse:
        assert consensus_score(ours.biclusters_, (rows, cols)) > 0.9


@pytest.mark.parametrize("method", ["bistochastic", "scale", "log"])
@pytest.mark.parametrize("n_clusters", [3, (4, 2)])
def test_biclustering_same_as_sklearn(method, n_clusters):
    X, rows, cols = make_checkerboard((90, 60), (4, 2) if n_clusters != 3 else 3, noise=5,
                                      random_state=1)
    kw = dict(n_clusters=n_clusters, method=method, random_state=0, n_init=3)
    ours = SpectralBiclustering(**kw).fit(X)
    ref = SKBiclustering(**kw).fit(X)
    np.testing.assert_array_equal(ours.row_labels_, ref.row_labels_)
    np.testing.assert_array_equal(ours.column_labels_, ref.column_labels_)
    np.testing.assert_array_equal(ours.rows_, ref.rows_)
    np.testing.assert_array_equal(ours.columns_, ref.columns_)
    r, c = ours.get_indices(1)
    np.testing.assert_array_equal(ours.get_submatrix(1, X), X[np.ix_(r, c)])


def test_biclustering_mini_batch_and_errors():
    X, _, _ = make_checkerboard((60, 40), 2, noise=1, random_state=0)
    est = SpectralBiclustering(2, mini_batch=True, random_state=0, svd_method="arpack").fit(X)
    assert est.rows_.shape == (4, 60) and est.columns_.shape == (4, 40)
    with pytest.raises(ValueError, match="n_best=4 must be <= n_components=3"):
        SpectralBiclustering(n_best=4, n_components=3).fit(X)
    with pytest.raises(ValueError, match="Incorrect parameter n_clusters"):
        SpectralBiclustering(n_clusters=(3, 2, 1)).fit(X)
    with pytest.raises(ValueError, match="n_clusters should be <= n_samples=60"):
        SpectralCoclustering(n_clusters=61).fit(X)
    with pytest.raises(ValueError, match="Cannot compute log of a sparse matrix"):
        SpectralBiclustering(method="log").fit(sp.csr_matrix(np.abs(X)))
    with pytest.raises(ValueError, match="nonnegative because it is sparse"):
        SpectralCoclustering(2).fit(sp.csr_matrix(X - X.mean()))


def test_consensus_score_same_as_sklearn():
    rng = np.random.RandomState(0)
    for n_a, n_b in ((1, 5), (4, 2), (3, 3)):
        a = (rng.rand(n_a, 30) < 0.4, rng.rand(n_a, 20) < 0.5)
        b = (rng.rand(n_b, 30) < 0.4, rng.rand(n_b, 20) < 0.5)
        assert consensus_score(a, b) == pytest.approx(sk_consensus_score(a, b), rel=1e-12)
    assert consensus_score(a, a) == pytest.approx(1.0)

    def overlap(ar, ac, br, bc):
        return float((ar & br).sum() > 0)

    assert consensus_score(a, b, similarity=overlap) == sk_consensus_score(
        a, b, similarity=overlap)
    with pytest.raises(ValueError, match="similarity"):
        consensus_score(a, b, similarity="dice")
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        consensus_score((b[0][:1], b[1]), a)


# the checks scikit-learn marks as failing for its own biclusterers, for the
# same reasons (its texts), restricted to those that fail here too
_SHARED = {
    "check_estimators_dtypes": "raises nan error",
    "check_fit2d_1sample": "_scale_normalize fails",
    "check_fit2d_1feature": "raises apply_along_axis error",
}
_EXPECTED_FAILED = {
    SpectralBiclustering: _SHARED,
    SpectralCoclustering: {
        **_SHARED,
        "check_estimator_sparse_matrix": "does not fail gracefully",
        "check_estimator_sparse_array": "does not fail gracefully",
        "check_methods_subset_invariance": "empty array passed inside",
        "check_dont_overwrite_parameters": "empty array passed inside",
        "check_fit2d_predict1d": "empty array passed inside",
    },
}


def _expected_failed(est):
    return _EXPECTED_FAILED[type(est)]


@parametrize_with_checks([SpectralCoclustering(n_clusters=2, n_init=2, random_state=0),
                          SpectralBiclustering(n_clusters=2, n_best=1, n_init=2,
                                               random_state=0)],
                         expected_failed_checks=_expected_failed)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), n_a=st.integers(1, 5), n_b=st.integers(1, 5))
def test_consensus_score_properties(seed, n_a, n_b):
    # symmetric, 1 against itself, blind to the order of the biclusters,
    # between 0 and 1, and scikit-learn's value
    rng = np.random.RandomState(seed)
    a = (rng.rand(n_a, 12) < 0.5, rng.rand(n_a, 9) < 0.5)
    b = (rng.rand(n_b, 12) < 0.5, rng.rand(n_b, 9) < 0.5)
    a[0][:, 0] = a[1][:, 0] = b[0][:, 0] = b[1][:, 0] = True  # no empty bicluster
    score = consensus_score(a, b)
    assert 0.0 <= score <= 1.0
    assert score == pytest.approx(consensus_score(b, a), rel=1e-12)
    perm = rng.permutation(n_a)
    assert consensus_score((a[0][perm], a[1][perm]), b) == pytest.approx(score, rel=1e-12)
    assert consensus_score(a, a) == pytest.approx(1.0)
    assert score == pytest.approx(sk_consensus_score(a, b), rel=1e-12)


@pytest.mark.parametrize("scale", [1e300, 1e-300])
def test_the_same_biclusters_at_any_magnitude(scale):
    # the normalised singular vectors scale as 1/sqrt(X): at 1e300 they came
    # near 1e-152 and the inner K-Means refused them as "values too small"
    X, rows, _ = make_biclusters((30, 20), 3, noise=0.5, random_state=0, shuffle=False)
    X = np.abs(X) + 1
    for Model in (SpectralCoclustering, SpectralBiclustering):
        plain = Model(3, random_state=0).fit(X)
        scaled = Model(3, random_state=0).fit(X * scale)
        np.testing.assert_array_equal(scaled.row_labels_, plain.row_labels_)
        np.testing.assert_array_equal(scaled.column_labels_, plain.column_labels_)


def test_a_single_column_is_refused_clearly():
    X = np.abs(np.random.RandomState(0).randn(30, 1)) + 1
    with pytest.raises(ValueError, match="needs at least two rows and two columns"):
        SpectralCoclustering(3, random_state=0).fit(X)


@pytest.mark.parametrize("estimator", [SpectralCoclustering, SpectralBiclustering])
@pytest.mark.parametrize("axis", ["row", "column"])
def test_an_all_zero_row_or_column_is_named(estimator, axis):
    from sklearn.datasets import make_biclusters

    data, _, _ = make_biclusters((30, 20), 3, noise=0.5, random_state=0)
    data = data - data.min() + 1
    if axis == "row":
        data[4] = 0.0
    else:
        data[:, 7] = 0.0
    with pytest.raises(ValueError, match=rf"\({axis} {4 if axis == 'row' else 7}\) hold only zeros"):
        estimator(n_clusters=3, random_state=0).fit(data)
