"""Tables that were read wrongly, or analysed wrongly, without a word: each case here
once gave a wrong result, a traceback or a hang (found by a review of hostile files).

Headers with numbers in them, a first row with a missing cell, a typo in one cell, a quote
storm that made the separator sniffer quadratic, `.npz` archives with labels beside the
data, a file named like a built-in data set; and in the analysis: data far from the origin,
subnormal values, heavily duplicated rows, an outlier far away, wide tables and their saved
model, candidates asked for that do not apply, rows without a known label, strict JSON.
"""

import json
import os

import numpy as np
import pytest

import clusterlab
from clusterlab.cli import main
from clusterlab.report.data import DataError, load_dataset

QUICK = dict(k=(2, 4), algorithms=("kmeans", "gmm"))


def three_blobs(n_per=40, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [8.0, 8.0], [0.0, 8.0]])
    return np.concatenate([rng.normal(c, 1.0, (n_per, 2)) for c in centres])


# Reading ----------------------------------------------------------------------------

def test_a_header_of_years_above_decimals_is_a_header(tmp_path):
    path = tmp_path / "years.csv"
    path.write_text("country,2019,2020,2021\n"
                    + "".join(f"c{i},{i * 1.5:.2f},{i * 2.5:.2f},{i % 5}\n" for i in range(40)))
    ds = load_dataset(str(path))
    assert ds.columns == ["2019", "2020", "2021"] and ds.X.shape == (40, 3)
    assert ds.dropped == [("country", "not numeric")]
    np.testing.assert_allclose(ds.X[:2], [[0.0, 0.0, 0.0], [1.5, 2.5, 1.0]])


@pytest.mark.parametrize("text, first", [
    ("a,1,2\nb,3,4\nc,5,6\n", [1.0, 2.0]),          # a text column, integers: no header
    ("a,1.5,2.5\nb,3.5,4.5\nc,5.5,6.5\n", [1.5, 2.5]),  # decimals under decimals: no header
])
def test_a_first_row_like_the_others_is_data(tmp_path, text, first):
    path = tmp_path / "plain.csv"
    path.write_text(text)
    ds = load_dataset(str(path))
    assert ds.columns == ["x2", "x3"] and ds.X.shape == (3, 2)
    np.testing.assert_allclose(ds.X[0], first)


@pytest.mark.parametrize("first_row", ["NA,1.5,2.5", ",1.5,2.5", "?,1.5,2.5"])
def test_a_first_row_with_a_missing_cell_is_data_not_a_header(tmp_path, first_row):
    path = tmp_path / "first_missing.csv"
    path.write_text(first_row + "\n" + "".join(f"{i},{i + 0.5},{i + 1.5}\n" for i in range(20)))
    with pytest.raises(DataError, match=r"column 'x1' has missing .* 1 row\(s\): 1 "):
        load_dataset(str(path))
    ds = load_dataset(str(path), missing="drop")
    assert ds.columns == ["x1", "x2", "x3"] and ds.X.shape == (20, 3)
    assert ds.row_numbers[0] == 2


def test_a_quote_storm_is_read_at_once(tmp_path):
    # the csv sniffer's search for quoted fields is quadratic in its sample: this
    # 500 kB file took minutes before the sample was capped
    path = tmp_path / "quotes.csv"
    path.write_text("a,b\n" + (',"' * 5000 + "\n") * 50)
    with pytest.raises(DataError, match="every row must have 2 fields"):
        load_dataset(str(path))


def typo_table(tmp_path):
    rng = np.random.default_rng(0)
    lines = [f"r{i},{rng.normal():.4f},{rng.normal():.4f}" for i in range(200)]
    lines[7] = "r7,1.2.3,0.5"
    path = tmp_path / "typo.csv"
    path.write_text("id,a,b\n" + "\n".join(lines) + "\n")
    return path


def test_one_bad_cell_in_a_numeric_column_is_named_not_the_column_dropped(tmp_path, capsys):
    path = typo_table(tmp_path)
    with pytest.raises(DataError, match=r"column 'a' has 1 cell\(s\) that are not numbers: "
                                        r"row 8 \('1.2.3'\)"):
        load_dataset(str(path))
    assert main(["analyze", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert "row 8 ('1.2.3')" in capsys.readouterr().err
    ds = load_dataset(str(path), missing="drop")
    assert ds.columns == ["a", "b"] and ds.X.shape == (199, 2) and 8 not in ds.row_numbers
    assert any("1.2.3" in note for note in ds.notes)
    ds = load_dataset(str(path), missing="impute")
    assert ds.X.shape == (200, 2) and np.isfinite(ds.X).all()


def test_a_text_column_with_a_few_numbers_is_still_text(tmp_path):
    path = tmp_path / "codes.csv"
    cells = [f"K{i}" if i % 3 else str(i) for i in range(30)]
    path.write_text("code,v\n" + "".join(f"{c},{i * 0.5}\n" for i, c in enumerate(cells)))
    ds = load_dataset(str(path))
    assert ds.columns == ["v"] and ds.dropped == [("code", "not numeric")]


def test_an_npz_with_labels_beside_the_data(tmp_path):
    X = three_blobs()
    y = np.repeat([0, 1, 2], 40)
    path = tmp_path / "d.npz"
    np.savez(path, X=X, y=y, weights=np.ones(len(X)), z=np.zeros((len(X), 2)))
    ds = load_dataset(str(path))
    assert ds.columns == ["x1", "x2", "weights"] and ds.label_column == "y"
    np.testing.assert_array_equal(ds.y, y)
    note = " ".join(ds.notes)
    assert "'y' is taken as the known labels" in note and "z (shape" in note
    # asked for by name, the labels array is a column like any other
    ds = load_dataset(str(path), columns=["x1", "y"])
    assert ds.columns == ["x1", "y"] and ds.label_column is None


def test_a_file_named_like_a_built_in_data_set_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "iris").write_text("a,b\n1,2\n3,4\n5,7\n")
    ds = load_dataset("iris")
    assert ds.columns == ["a", "b"] and ds.X.shape == (3, 2)
    os.remove("iris")
    assert load_dataset("iris").X.shape == (150, 4)


# Analysing --------------------------------------------------------------------------

def test_data_far_from_the_origin_is_analysed_as_near_it():
    X = three_blobs(n_per=100)
    near = clusterlab.analyze(X, k=(2, 4), algorithms=("kmeans", "gmm", "dbscan"))
    far = clusterlab.analyze(X + 1e9, k=(2, 4), algorithms=("kmeans", "gmm", "dbscan"))
    for name in ("kmeans", "gmm", "dbscan"):
        np.testing.assert_array_equal(far.result.labels[name], near.result.labels[name])
    assert far.result.scores["dbscan"]["n_clusters"] >= 3  # not every row noise
    assert any("centred first" in note for note in far.result.notes)
    assert not any("centred first" in note for note in near.result.notes)
    # the saved model maps new rows the same way
    np.testing.assert_array_equal(far.saved_model().predict(X[:50] + 1e9), far.labels[:50])


def test_subnormal_values_are_refused_clearly():
    with pytest.raises(DataError, match="subnormal"):
        clusterlab.analyze(three_blobs() * 1e-310, **QUICK)


def test_tiny_values_are_rescaled_and_give_the_same_clusters():
    X = three_blobs()
    tiny = clusterlab.analyze(X * 1e-200, **QUICK)
    plain = clusterlab.analyze(X, **QUICK)
    np.testing.assert_array_equal(tiny.labels, plain.labels)
    np.testing.assert_array_equal(tiny.saved_model().predict(X[:20] * 1e-200), tiny.labels[:20])


def test_duplicated_rows_recommend_the_clusters_found_not_the_k_asked(tmp_path):
    X = np.repeat([[1.0, 2.0], [3.0, 4.0], [9.0, 9.0]], 40, axis=0)
    result = clusterlab.analyze(X, algorithms=("kmeans", "gmm"))
    assert result.scores[result.recommendation]["n_clusters"] == 3
    text = " ".join(result.reasons)
    assert "fall into 3 groups" in text and "at the top of the range" not in text
    assert "e+" not in text and "inf" not in text


def test_a_gap_around_one_outlier_is_not_called_below_the_threshold():
    X = np.r_[np.arange(200.0), [1e6]][:, None]
    result = clusterlab.analyze(X, algorithms=("kmeans", "gmm"))
    text = " ".join(result.reasons)
    assert "outliers, not clusters" in text
    gaps = [float(g) for g in __import__("re").findall(r"best gap ratio ([0-9.]+)", text)]
    assert all(g < 2 for g in gaps)


def test_a_wide_table_saves_a_model_that_predicts_its_labels(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 300))
    X[:30, :10] += 6.0
    result = clusterlab.analyze(X, **QUICK)
    assert any("principal components" in note for note in result.result.notes)
    model = result.saved_model()
    assert model is not None
    np.testing.assert_array_equal(model.predict(X), result.labels)


def test_a_candidate_asked_for_that_does_not_apply_is_said():
    result = clusterlab.analyze(three_blobs(), k=(2, 4), algorithms=("kmeans", "birch"))
    assert "birch" not in result.models
    assert "200000 rows" in result.result.failures["birch"]
    assert any("BIRCH was not run" in r for r in result.reasons)
    # the defaults are chosen by the analysis: nothing to say about them
    default = clusterlab.analyze(three_blobs(), k=(2, 4))
    assert "birch" not in default.result.failures


def test_rows_without_a_known_label_are_left_out_of_the_ari():
    X = three_blobs()
    y = np.repeat(np.array(["a", "b", "c"], dtype=object), 40)
    y[[3, 50]] = ["", "NA"]
    result = clusterlab.analyze(X, y=y, **QUICK)
    assert result.scores["kmeans"]["ari_vs_labels"] == pytest.approx(1.0)
    assert any("2 row(s) have no known label" in note for note in result.result.notes)


def test_summary_json_is_strict_json_with_degenerate_models(tmp_path):
    X = np.repeat([[1.0, 2.0], [3.0, 4.0], [9.0, 9.0]], 40, axis=0)
    result = clusterlab.analyze(X, algorithms=("kmeans", "gmm", "dbscan", "spectral"))
    paths = result.save(tmp_path / "out")

    def refuse(token):
        raise ValueError(f"not JSON: {token}")

    with open(paths["summary.json"]) as fh:
        summary = json.load(fh, parse_constant=refuse)
    assert summary["recommendation"]


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_text("a,b\n1,2\n"), "not a NumPy .npy file"),
    (lambda p: np.save(p, np.ones((20, 2)) * (1 + 1j)), "complex numbers"),
])
def test_npy_files_that_are_not_tables_of_reals_say_what_they_are(tmp_path, make, message):
    path = tmp_path / "data.npy"
    make(path)
    with pytest.raises(DataError, match=message):
        load_dataset(str(path))


def test_a_record_npy_gives_its_fields_as_columns(tmp_path):
    rec = np.zeros(20, dtype=[("a", float), ("b", float), ("name", "U5")])
    rec["a"], rec["b"], rec["name"] = np.arange(20), np.arange(20) ** 2, "r"
    np.save(tmp_path / "rec.npy", rec)
    ds = load_dataset(str(tmp_path / "rec.npy"))
    assert ds.columns == ["a", "b"] and ds.dropped == [("name", "not numeric")]
    np.testing.assert_allclose(ds.X[3], [3.0, 9.0])


def test_one_very_long_text_cell_does_not_stop_the_read(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("a,b,t\n" + "".join(f"{i},{2 * i},{'x' * 200_000 if i == 3 else 'y'}\n"
                                        for i in range(20)))
    ds = load_dataset(str(path))
    assert ds.columns == ["a", "b"] and ds.dropped == [("t", "not numeric")]


def test_an_empty_column_list_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["analyze", "five-blobs", "--columns", ","])
    assert "names no column" in capsys.readouterr().err


def test_the_genie_cut_recommended_is_the_model_shown_and_reproduced():
    from sklearn.datasets import make_circles, make_moons

    from clusterlab.report.explain import reproduce_code
    from clusterlab.report.html import summary_dict

    moons, _ = make_moons(400, noise=0.05, random_state=0)
    rings, _ = make_circles(300, factor=0.01, noise=0.02, random_state=0)
    X = np.r_[moons, rings * 0.5 + [4.0, 0.0]]
    result = clusterlab.analyze(X, algorithms=("kmeans", "gmm", "genie"))
    assert result.recommendation == "genie"
    k = result.scores["genie"]["n_clusters"]
    assert k > 2 and summary_dict(result.result, {}, 0)["models"]["genie"]["params"][
        "n_clusters"] == k
    code = reproduce_code(result.result)
    assert f"Genie(n_clusters={k})" in code
    scope = {"X_table": X}
    exec(code.replace(code.splitlines()[3], "X = X_table"), scope)
    np.testing.assert_array_equal(scope["labels"], result.labels)
