"""``clusterlab.analyze`` and the saved model from Python: the options are
checked as the command line checks them, column selectors mean names, masked
and other array types are read or refused clearly, and a saved model finds a
DataFrame's columns by name."""

import numpy as np
import pytest

import clusterlab
from clusterlab.report.data import DataError, dataset_from_data
from clusterlab.report.model import ModelError

pd = pytest.importorskip("pandas")

RNG = np.random.default_rng(0)
X = np.r_[RNG.normal(0, 0.5, (60, 3)), RNG.normal(5, 0.5, (60, 3))]
X[:, 2] *= 100
FRAME = pd.DataFrame(X, columns=list("abc"))


@pytest.mark.parametrize("option, message", [
    (dict(k=0), "k takes"), (dict(k=2.7), "k takes"), (dict(k=()), "k takes"),
    (dict(k="2..x"), "k takes"), (dict(k=True), "k takes"),
    (dict(algorithms=["nope"]), "algorithms takes"), (dict(algorithms=[]), "algorithms takes"),
    (dict(seed=-1), "seed takes"), (dict(seed=1.5), "seed takes"),
    (dict(sample=5), "sample takes"), (dict(sample=-3), "sample takes"),
    (dict(contamination=0), "contamination takes"),
    (dict(contamination=0.6), "contamination takes"),
    (dict(contamination="0.1"), "contamination takes"),
    (dict(scale="minmax"), "scale takes"),
])
def test_options_are_checked_before_the_work(option, message):
    with pytest.raises(ValueError, match=message):
        clusterlab.analyze(FRAME, **option)


def test_algorithms_as_one_string_and_in_capitals():
    res = clusterlab.analyze(FRAME, algorithms="KMeans")
    assert set(res.all_labels) == {"kmeans"}


def test_column_selectors_are_names_first():
    d = pd.DataFrame({2: X[:, 0], 1: X[:, 1], 0: X[:, 2]})
    assert dataset_from_data(d, columns=[0]).columns == ["0"]
    assert dataset_from_data(d, exclude=[0]).columns == ["2", "1"]
    named = pd.DataFrame(X, columns=["xy", "x", "y"])
    assert dataset_from_data(named, columns="xy").columns == ["xy"]
    assert dataset_from_data(named, exclude="xy").columns == ["x", "y"]
    labelled = FRAME.assign(**{"0": np.repeat([0, 1], 60)}).rename(columns={"0": 0})
    ds = dataset_from_data(labelled, label_column=0)  # 0 is falsy: it was ignored
    assert ds.columns == ["a", "b", "c"] and str(ds.label_column) == "0"
    with pytest.raises(DataError, match="more than once"):
        dataset_from_data(FRAME, columns=["a", "a"])


def test_masked_cells_are_missing_and_other_types_say_what_to_pass():
    import scipy.sparse as sp

    masked = np.ma.masked_array(X.copy(), mask=False)
    masked[0, 0] = np.ma.masked
    masked.data[0, 0] = 1e6  # hidden behind the mask: it was clustered
    with pytest.raises(DataError, match="missing"):
        dataset_from_data(masked)
    assert dataset_from_data(masked, missing="drop").X.shape == (119, 3)
    for data, message in [(sp.csr_matrix(X), "toarray"), ({"a": [1.0, 2.0]}, "DataFrame"),
                          ([[1.0, 2.0], [3.0]], "differ in length")]:
        with pytest.raises(DataError, match=message):
            dataset_from_data(data)
    records = np.zeros(20, dtype=[("u", float), ("v", float)])
    assert dataset_from_data(records).columns == ["u", "v"]
    assert dataset_from_data(pd.Series(X[:, 0], name="s")).columns == ["s"]


def test_a_saved_model_finds_a_dataframes_columns_by_name():
    res = clusterlab.analyze(FRAME, algorithms=("kmeans",))
    saved = res.saved_model()
    labels = np.asarray(res.labels)
    np.testing.assert_array_equal(saved.predict(FRAME[["c", "a", "b"]]), labels)
    np.testing.assert_array_equal(saved.predict(FRAME.assign(z=1.0)), labels)
    np.testing.assert_array_equal(saved.predict(X), labels)
    with pytest.raises(ModelError, match="lack the column"):
        saved.predict(FRAME.set_axis(["x", "y", "z"], axis=1))
    with pytest.raises(ModelError, match=r"column 'a' has missing .* row\(s\): 4 "):
        saved.predict(FRAME.assign(a=np.where(np.arange(120) == 3, np.nan, FRAME.a)))
    with pytest.raises(ModelError, match="must all be numbers"):
        saved.predict(FRAME.assign(a="x"))


def test_messages_of_the_python_api_speak_python():
    """A missing cell in a DataFrame: the error names missing='drop' and
    exclude=, not the command line's flags, and says how rows are counted."""
    df = pd.DataFrame({"x": [0.0, 0.1, 0.2, np.nan, 5.0, 5.1, 5.2, 5.3] * 10,
                       "y": np.arange(80.0)})
    with pytest.raises(DataError) as err:
        clusterlab.analyze(df, k=(2, 4))
    text = str(err.value)
    assert "missing='drop'" in text and "missing='impute'" in text and "exclude=" in text
    assert "--" not in text and "df.iloc[r - 1]" in text
    res = clusterlab.analyze(df, k=(2, 4), missing="drop", algorithms=["kmeans"])
    assert not any("--missing" in note for note in res.dataset.notes)
    # the analysis's own notes and refusals too
    X = np.random.default_rng(0).normal(size=(400, 2))
    res = clusterlab.analyze(X, k=(2, 4), sample=200, algorithms=["kmeans", "genie"])
    assert any("sample=" in note for note in res.notes)
    assert not any("--" in note for note in res.notes + res.reasons)
    with pytest.raises(ValueError, match=r"lower the top of k\)"):
        clusterlab.analyze(X[:12], k=(2, 12))
