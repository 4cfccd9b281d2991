"""One table of hostile inputs, run against every estimator and public function.

Every case must end in a ``ValueError`` (or ``NotFittedError``) whose message
says what was wrong, never a crash, a hang, a silently wrong result or a
modified input.
"""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

import clusterlab
from clusterlab import metrics


def make_estimators():
    return {
        "KMeans": clusterlab.KMeans(n_clusters=2, n_init=1, random_state=0),
        "MiniBatchKMeans": clusterlab.MiniBatchKMeans(n_clusters=2, n_init=1, random_state=0),
        "GaussianMixture": clusterlab.GaussianMixture(n_components=2, random_state=0),
        "BayesianGaussianMixture": clusterlab.BayesianGaussianMixture(n_components=2,
                                                                      random_state=0),
        "DBSCAN": clusterlab.DBSCAN(eps=0.5, min_samples=2),
        "AgglomerativeClustering": clusterlab.AgglomerativeClustering(n_clusters=2),
        "SpectralClustering": clusterlab.SpectralClustering(n_clusters=2, random_state=0,
                                                            affinity="nearest_neighbors",
                                                            n_neighbors=3),
        "DensityAnomalyDetector": clusterlab.DensityAnomalyDetector(),
        "OPTICS": clusterlab.OPTICS(min_samples=3),
        "MeanShift": clusterlab.MeanShift(bandwidth=1.0),
        "AffinityPropagation": clusterlab.AffinityPropagation(random_state=0),
        "Birch": clusterlab.Birch(n_clusters=2),
        "BisectingKMeans": clusterlab.BisectingKMeans(n_clusters=2, random_state=0),
        "FeatureAgglomeration": clusterlab.FeatureAgglomeration(n_clusters=2),
        "SpectralCoclustering": clusterlab.SpectralCoclustering(n_clusters=2, random_state=0),
        "SpectralBiclustering": clusterlab.SpectralBiclustering(n_clusters=2, n_components=1,
                                                                n_best=1, random_state=0),
        "HDBSCAN": clusterlab.HDBSCAN(min_cluster_size=5, copy=True),
    }


# estimator -> {bad kind: label its bad row gets}: scikit-learn's HDBSCAN labels
# rows with NaN -3 and rows with infinite values -2 instead of raising
NONFINITE_LABELS = {"HDBSCAN": {"nan": (3, -3), "inf": (5, -2)}}


NAMES = list(make_estimators())
GOOD = np.random.default_rng(0).normal(size=(30, 2))


def bad_x(kind):
    X = GOOD.copy()
    if kind == "nan":
        X[3, 1] = np.nan
    elif kind == "inf":
        X[5, 0] = np.inf
    elif kind == "empty":
        X = np.empty((0, 2))
    elif kind == "one_d":
        X = GOOD[:, 0].copy()
    elif kind == "strings":
        X = np.array([["a", "b"]] * 30, dtype=object)
    elif kind == "three_d":
        X = GOOD.reshape(30, 2, 1)
    return X


BAD_X = {
    "nan": r"NaN",
    "inf": r"infinity|inf",
    "empty": r"0 sample|empty|n_samples",
    "one_d": r"2D array|Reshape",
    "strings": r"convert|string|numeric|dtype",
    "three_d": r"dim|2D|shape",
}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", list(BAD_X))
def test_bad_X_at_fit(name, kind):
    est = make_estimators()[name]
    if kind in NONFINITE_LABELS.get(name, {}):
        row, label = NONFINITE_LABELS[name][kind]
        labels = est.fit(bad_x(kind)).labels_
        assert labels[row] == label and (np.delete(labels, row) >= -1).all()
        return
    with pytest.raises(ValueError, match=BAD_X[kind]):
        est.fit(bad_x(kind))


# MeanShift and AffinityPropagation choose the number of clusters (one sample is one);
# Birch, as scikit-learn's, warns that it found fewer subclusters than n_clusters;
# FeatureAgglomeration clusters the features: one sample is enough
@pytest.mark.parametrize("name", [n for n in NAMES
                                  if n not in ("DBSCAN", "DensityAnomalyDetector", "MeanShift",
                                               "AffinityPropagation", "Birch",
                                               "FeatureAgglomeration")])
def test_fewer_samples_than_clusters(name):
    est = make_estimators()[name]
    with pytest.raises(ValueError, match=r"n_samples|n_clusters|n_components|should be|minimum of"
                                         r"|number of samples"):
        est.fit(GOOD[:1])


def predictors():
    return [n for n, e in make_estimators().items() if hasattr(e, "predict")]


@pytest.mark.parametrize("name", predictors())
def test_predict_before_fit(name):
    est = make_estimators()[name]
    with pytest.raises(NotFittedError):
        est.predict(GOOD)


@pytest.mark.parametrize("name", predictors())
def test_wrong_n_features_at_predict(name):
    est = make_estimators()[name].fit(GOOD)
    with pytest.raises(ValueError, match=r"features"):
        est.predict(np.ones((4, 3)))


@pytest.mark.parametrize("name", NAMES)
def test_unknown_parameter_value(name):
    est = make_estimators()[name]
    param = {"KMeans": "algorithm", "MiniBatchKMeans": "init",
             "GaussianMixture": "covariance_type", "BayesianGaussianMixture": "covariance_type",
             "DBSCAN": "metric", "AgglomerativeClustering": "linkage",
             "SpectralClustering": "assign_labels", "DensityAnomalyDetector": "contamination",
             "OPTICS": "cluster_method",
             "MeanShift": "bandwidth", "AffinityPropagation": "affinity",
             "Birch": "threshold",
             "BisectingKMeans": "bisecting_strategy",
             "FeatureAgglomeration": "linkage",
             "SpectralCoclustering": "svd_method", "SpectralBiclustering": "method",
             "HDBSCAN": "cluster_selection_method"}[name]
    est.set_params(**{param: "no-such-option"})
    with pytest.raises(ValueError, match=param):
        est.fit(GOOD)


@pytest.mark.slow  # read-only input: every kernel compiled again (quick tier: see tests/conftest.py)
@pytest.mark.parametrize("name", NAMES)
def test_input_never_modified_and_read_only_accepted(name):
    X = GOOD.copy()
    X.setflags(write=False)
    before = X.copy()
    est = make_estimators()[name]
    est.fit(X)
    np.testing.assert_array_equal(X, before)
    if hasattr(est, "predict"):
        est.predict(X)
        np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("name", ["KMeans", "MiniBatchKMeans", "DBSCAN", "BisectingKMeans"])
def test_bad_sample_weight(name):
    est = make_estimators()[name]
    with pytest.raises(ValueError, match=r"sample_weight|weight"):
        est.fit(GOOD, sample_weight=np.ones(5))
    if name == "DBSCAN":
        return  # negative weights are meaningful in DBSCAN (they inhibit cores), as in sklearn
    with pytest.raises(ValueError, match=r"negative|non-negative|sample_weight"):
        est.fit(GOOD, sample_weight=-np.ones(len(GOOD)))
    # numbers written as strings are read as numbers (scikit-learn converts them);
    # a negative one is refused, a word is not a number
    expected = make_estimators()[name].fit(GOOD, sample_weight=np.ones(len(GOOD))).labels_
    np.testing.assert_array_equal(
        est.fit(GOOD, sample_weight=np.array(["1"] * len(GOOD))).labels_, expected)
    with pytest.raises(ValueError, match=r"[Nn]egative"):
        est.fit(GOOD, sample_weight=np.array(["-1"] + ["1"] * (len(GOOD) - 1)))
    with pytest.raises(ValueError, match=r"convert"):
        est.fit(GOOD, sample_weight=np.array(["a"] * len(GOOD)))


METRICS = [metrics.silhouette_score, metrics.calinski_harabasz_score,
           metrics.davies_bouldin_score, metrics.dbcv_score]


@pytest.mark.parametrize("fn", METRICS, ids=lambda f: f.__name__)
def test_metrics_bad_inputs(fn):
    labels = np.arange(30) % 3
    with pytest.raises(ValueError, match=r"NaN"):
        fn(bad_x("nan"), labels)
    with pytest.raises(ValueError, match=r"Number of labels is 1"):
        fn(GOOD, np.zeros(30, dtype=int))
    with pytest.raises(ValueError, match=r"inconsistent|samples|length"):
        fn(GOOD, labels[:10])


@pytest.mark.parametrize("name", ["KMeans", "MiniBatchKMeans"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("layout", ["float32", "float64", "csr"])
def test_large_nonfinite_input_same_error_as_sklearn(name, bad, layout):
    # large arrays are cleared by one parallel pass over the exponent bits
    # (clusterlab._validation.check_finite); a NaN or inf anywhere must still
    # raise scikit-learn's own error, word for word
    import scipy.sparse as sp
    import sklearn.cluster

    import clusterlab
    from clusterlab._validation import FAST_FINITE_MIN_SIZE

    rng = np.random.default_rng(0)
    X = rng.normal(size=(FAST_FINITE_MIN_SIZE // 8 + 7, 8))
    X[len(X) - 3, 5] = bad
    X = sp.csr_matrix(X) if layout == "csr" else X.astype(layout)
    with pytest.raises(ValueError) as ours:
        getattr(clusterlab, name)(n_clusters=3, n_init=1).fit(X)
    with pytest.raises(ValueError) as theirs:
        getattr(sklearn.cluster, name)(n_clusters=3, n_init=1).fit(X)
    assert str(ours.value) == str(theirs.value)


def test_large_finite_input_passes_and_assume_finite_is_honoured():
    import sklearn

    from clusterlab._validation import FAST_FINITE_MIN_SIZE, check_finite

    est = clusterlab.KMeans()
    for dtype in (np.float32, np.float64):
        X = np.full((FAST_FINITE_MIN_SIZE // 4, 4), np.finfo(dtype).max, dtype=dtype)
        check_finite(X, est)  # huge but finite: no error (a float sum would overflow)
        X[-1, -1] = np.nan
        with pytest.raises(ValueError, match="NaN"):
            check_finite(X, est)
        with sklearn.config_context(assume_finite=True):
            check_finite(X, est)


ANALYZE_BAD_X = {
    "nan": r"missing or non-finite",
    "inf": r"missing or non-finite",
    "empty": r"no rows",
    "strings": r"no numeric columns",
    "three_d": r"2-D array",
}


#: estimators that compare samples by Euclidean distance (the biclusterings
#: normalise X's rows and columns instead; DensityAnomalyDetector's mixture
#: refuses through GaussianMixture)
_DISTANCE_BASED = [n for n in NAMES if not n.startswith("Spectral") or n == "SpectralClustering"]


@pytest.mark.parametrize("name", _DISTANCE_BASED)
@pytest.mark.parametrize("scale, message", [(1e300, "overflow float64"),
                                            (1e-300, "underflow float64")])
def test_magnitudes_beyond_float64_are_refused(name, scale, message):
    # squared distances of such values are +inf or 0: every result would be
    # silently meaningless (scikit-learn returns one); Genie rescales huge
    # values itself (tests/cluster/test_genie.py)
    X = GOOD * scale
    if name == "DBSCAN" and scale > 1:
        # distances that overflow to +inf are beyond eps: still the right answer
        assert (make_estimators()[name].fit(X).labels_ == -1).all()
        return
    with pytest.raises(ValueError, match=message):
        make_estimators()[name].fit(X)
    make_estimators()[name].fit(GOOD * (1e150 if scale > 1 else 1e-100))  # still fine


@pytest.mark.parametrize("name", [n for n in predictors() if n in _DISTANCE_BASED])
def test_magnitudes_beyond_float64_are_refused_at_predict(name):
    est = make_estimators()[name].fit(GOOD)
    if name == "DBSCAN":  # beyond eps of every core: noise, rightly
        assert (est.predict(GOOD * 1e300) == -1).all()
    else:
        with pytest.raises(ValueError, match="overflow float64"):
            est.predict(GOOD * 1e300)
    # tiny new rows are fine: their distances are to the fitted model
    np.testing.assert_array_equal(est.predict(GOOD * 1e-300), est.predict(GOOD * 0.0))


@pytest.mark.parametrize("scale", [1e300, 1e-200])
def test_analyze_rescales_extreme_magnitudes(scale):
    # the command rescales by a power of two (and says so) instead of failing
    ref = clusterlab.analyze(GOOD, k=(2, 3), algorithms=["kmeans", "genie"])
    got = clusterlab.analyze(GOOD * scale, k=(2, 3), algorithms=["kmeans", "genie"])
    assert any("common factor" in n for n in got.notes)
    assert not got.failures
    for name in ("kmeans", "genie"):
        np.testing.assert_array_equal(got.all_labels[name], ref.all_labels[name])
    # the saved model carries the common factor: it labels the rows as analysed,
    # and refuses rows so far out that their distances would overflow
    saved = got.saved_model()
    assert saved is not None
    np.testing.assert_array_equal(saved.predict(GOOD * scale), got.labels)
    if scale < 1:  # the model multiplies by ~1e200: rows of ordinary size land at ~1e200
        with pytest.raises(ValueError, match="overflow"):
            saved.predict(GOOD)


@pytest.mark.parametrize("kind", list(ANALYZE_BAD_X))
def test_analyze_bad_inputs(kind):
    """clusterlab.analyze refuses bad tables with a DataError (a ValueError) before any work."""
    import clusterlab
    from clusterlab.report import DataError

    with pytest.raises(DataError, match=ANALYZE_BAD_X[kind]):
        clusterlab.analyze(bad_x(kind))


@pytest.mark.parametrize("name", ["MeanShift", "AffinityPropagation", "Birch"])
def test_sparse_input_accepted_or_refused_as_sklearn(name):
    # AffinityPropagation (euclidean) and Birch take CSR input, as scikit-learn's;
    # MeanShift refuses it, as scikit-learn's, with a TypeError naming dense data
    import scipy.sparse as sp

    X = sp.csr_matrix(np.where(np.abs(GOOD) < 0.5, 0.0, GOOD))
    est = make_estimators()[name]
    if name == "MeanShift":
        with pytest.raises(TypeError, match="dense data is required"):
            est.fit(X)
        return
    labels = est.fit(X).labels_
    assert labels.shape == (30,)
    bad = X.copy()
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        make_estimators()[name].fit(bad)


@pytest.mark.parametrize("kind", ["nan", "inf"])
def test_bisecting_kmeans_sparse_nonfinite(kind):
    import scipy.sparse as sp

    X = sp.csr_matrix(bad_x(kind))
    with pytest.raises(ValueError, match=BAD_X[kind]):
        clusterlab.BisectingKMeans(n_clusters=2).fit(X)


def test_feature_agglomeration_fewer_features_than_clusters():
    with pytest.raises(ValueError, match=r"more clusters than samples"):
        clusterlab.FeatureAgglomeration(n_clusters=3).fit(GOOD)


@pytest.mark.parametrize("name", ["plot_birch_subclusters", "plot_condensed_tree",
                                  "plot_inertia_curve", "plot_information_criteria",
                                  "plot_reachability", "plot_silhouette_curve",
                                  "plot_single_linkage_tree", "plot_dendrogram",
                                  "plot_bisecting_tree"])
def test_figures_of_models_say_what_they_need(name):
    # an array or an unfitted estimator where a fitted model (or a sweep) is
    # expected: a TypeError naming it, not an AttributeError from the drawing
    from clusterlab import plotting

    for wrong in (GOOD, clusterlab.OPTICS() if name != "plot_reachability" else clusterlab.Birch()):
        with pytest.raises(TypeError, match="needs"):
            getattr(plotting, name)(wrong)


@pytest.mark.parametrize("fit", [
    lambda D, X: clusterlab.HDBSCAN(metric="precomputed").fit(D),
    lambda D, X: clusterlab.AgglomerativeClustering(linkage="average", connectivity=D).fit(X),
    lambda D, X: clusterlab.SpectralClustering(2, affinity="precomputed").fit(D),
    lambda D, X: clusterlab.DBSCAN(metric="precomputed").fit(D),
    lambda D, X: clusterlab.KMeans(2, n_init=1, random_state=0).fit(D),
], ids=["hdbscan", "agglomerative", "spectral", "dbscan", "kmeans"])
def test_a_sparse_matrix_with_an_index_beyond_its_shape_is_refused(fit):
    # the kernels index with the CSR arrays unchecked: such a matrix crashed the interpreter
    import scipy.sparse as sp
    from sklearn.metrics import pairwise_distances

    X = np.random.RandomState(0).randn(40, 2)
    D = pairwise_distances(X)
    D = sp.csr_matrix(D * (D < 1.0))
    D.indices[3] = 500
    with pytest.raises(ValueError, match="not a valid sparse matrix"):
        fit(D, X)


def _duplicated_entries(X):
    """``X`` as a CSR matrix whose every value is stored as two halves (a valid
    CSR matrix whose cells are the sums of their entries, not canonical)."""
    import scipy.sparse as sp

    A = sp.csr_matrix(X)
    rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
    order = np.argsort(np.r_[rows, rows], kind="stable")
    data = np.r_[A.data / 2, A.data / 2][order]
    indices = np.r_[A.indices, A.indices][order]
    B = sp.csr_matrix((data, indices, 2 * A.indptr), shape=A.shape)
    assert not B.has_canonical_format and np.array_equal(B.toarray(), X)
    return B


@pytest.mark.parametrize("name", [n for n in NAMES if n in (
    "KMeans", "MiniBatchKMeans", "BisectingKMeans", "DBSCAN", "HDBSCAN", "Birch",
    "AffinityPropagation", "SpectralClustering")])
def test_sparse_rows_with_duplicate_entries_cluster_as_their_sums(name):
    # DBSCAN and HDBSCAN computed distances from the stored entries (a row's
    # squared norm counted each half apart): other labels than the dense rows'
    from sklearn.datasets import make_blobs

    X = np.abs(make_blobs(60, n_features=3, centers=3, random_state=0)[0])
    B = _duplicated_entries(X)
    if name == "DBSCAN":
        dense, sparse = clusterlab.DBSCAN(eps=1.0).fit(X), clusterlab.DBSCAN(eps=1.0).fit(B)
        np.testing.assert_array_equal(dense.predict(X), sparse.predict(B))
    else:
        dense, sparse = make_estimators()[name].fit(X), make_estimators()[name].fit(B)
    np.testing.assert_array_equal(dense.labels_, sparse.labels_)


def test_parameters_set_after_fit_do_not_reach_the_kernels():
    # partial_fit sized its scratch by n_clusters, the kernels wrote by the fitted centres:
    # a heap corruption; a mixture scored with n_components instead of the fitted components
    from sklearn.mixture import GaussianMixture as SkGaussianMixture

    X = np.random.default_rng(0).normal(size=(200, 3))
    mb = clusterlab.MiniBatchKMeans(n_clusters=5, random_state=0).partial_fit(X)
    mb.set_params(n_clusters=2)
    for _ in range(5):
        mb.partial_fit(X)
    assert mb.cluster_centers_.shape == (5, 3)  # as scikit-learn: the fitted centres go on
    for cov in ("full", "tied", "diag", "spherical"):
        ours = clusterlab.GaussianMixture(2, covariance_type=cov, random_state=0).fit(X)
        theirs = SkGaussianMixture(2, covariance_type=cov, random_state=0).fit(X)
        ours.set_params(n_components=8)
        theirs.set_params(n_components=8)
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
        assert ours.predict_proba(X).shape == (200, 2)
    gm = clusterlab.GaussianMixture(2, random_state=0).fit(X).set_params(covariance_type="diag")
    with pytest.raises(ValueError, match="fit the model again"):
        gm.predict(X)


def test_weights_that_cannot_be_drawn_from_are_said():
    X = np.random.RandomState(0).randn(50, 2)
    with pytest.raises(ValueError, match="sums to more than the largest float"):
        clusterlab.KMeans(3, n_init=1, random_state=0).fit(X, sample_weight=np.full(50, 1e308))
    sw = np.zeros(50)
    sw[:2] = 1.0
    for est in (clusterlab.KMeans(3, n_init=1, random_state=0, init="random"),
                clusterlab.MiniBatchKMeans(3, n_init=1, random_state=0, init="random")):
        with pytest.raises(ValueError, match="only 2 sample"):
            est.fit(X, sample_weight=sw)


def test_small_parameter_checks_found_by_fuzzing():
    from clusterlab import AffinityPropagation, get_bin_seeds
    from clusterlab.metrics import dbcv_score

    X = np.random.RandomState(0).randn(40, 2)
    for preference in (np.ones(5), np.ones(100), np.ones((40, 1))):
        with pytest.raises(ValueError, match="preference must be"):
            AffinityPropagation(preference=preference, random_state=0).fit(X)
    AffinityPropagation(preference=np.full(40, -5.0), random_state=0).fit(X)
    with pytest.raises(ValueError, match="bin_size must be > 0"):
        get_bin_seeds(X, -1.0)
    labels = np.repeat([0.0, 1.0], 20)
    labels[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        dbcv_score(X, labels)


def test_available_memory_respects_the_process_limit():
    """``ulimit -v`` / ``prlimit --as``: the refusals compare with what the
    process may still take, not with the machine's free memory (numpy's bare
    "Unable to allocate" came out instead of the clear refusal)."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, 3 * 2**30))
        from clusterlab import _config
        import numpy as np
        avail = _config.available_memory()
        assert avail is not None and avail < 3 * 2**30, avail
        from clusterlab import AgglomerativeClustering
        try:
            AgglomerativeClustering(linkage="average").fit(np.random.rand(30000, 2))
        except MemoryError as exc:
            assert "pairwise distances" in str(exc), exc
        else:
            raise AssertionError("no refusal")
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.stdout.strip() == "ok", out.stderr[-2000:]


def test_a_dense_affinity_too_large_for_its_laplacian_is_refused(monkeypatch):
    from clusterlab import SpectralClustering, _config

    monkeypatch.setattr(_config, "available_memory", lambda: 10**6)
    A = np.random.RandomState(0).rand(400, 400)
    A = (A + A.T) / 2
    with pytest.raises(MemoryError, match="400x400 normalised Laplacian"):
        SpectralClustering(2, affinity="precomputed", random_state=0).fit(A)
