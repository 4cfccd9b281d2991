"""What the report states agrees with summary.json and with itself, whatever
the table holds: columns of wildly different magnitudes, no structure at all,
a recommendation taken over from a density-based partition, more rows than the
silhouette sample, names with control characters, constant columns."""

import json

import numpy as np
import pytest

import clusterlab
from clusterlab.cli import main
from clusterlab.report.data import dataset_from_data

pd = pytest.importorskip("pandas")


def three_blobs(n=600, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    return np.array([[0, 0], [10, 0], [0, 10]])[y] + rng.normal(0, 1, (n, 2)), y, rng


@pytest.mark.parametrize("magnitude", [1e20, 1e200])
def test_a_huge_column_beside_normal_ones_is_standardised_not_the_only_one_seen(magnitude):
    # after the common power of two, the normal columns sat near 1e-200 and
    # their standard deviations underflowed to 0: scale "none", the noise
    # column alone clustered, "no structure" -- with the note "changes no clustering"
    from sklearn.metrics import adjusted_rand_score

    X, y, rng = three_blobs()
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "big": rng.normal(0, 1, 600) * magnitude})
    res = clusterlab.analyze(frame, algorithms=("kmeans",))
    assert res.result.scale == "standard"
    assert adjusted_rand_score(y, res.labels) > 0.99


def test_summary_says_the_verdict_and_the_gap_the_reasons_state(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["analyze", "five-blobs", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    rec = json.loads((out / "summary.json").read_text())["recommendation"]
    assert rec["verdict"] == "separated" and rec["n_clusters"] == 4
    # the reasons quote the noise-free partition's gap, which the summary now carries
    assert f"gap ratio {rec['gap_ratio']:.1f}" in text
    assert rec["gap_measured_on"] == "hdbscan" and rec["model"] == "genie"


def test_no_structure_is_the_title_not_a_degenerate_mixture(tmp_path, capsys):
    rows = np.random.default_rng(42).uniform(-5, 5, (800, 2))
    path = tmp_path / "u.csv"
    pd.DataFrame(rows, columns=["x", "y"]).to_csv(path, index=False)
    out = tmp_path / "o"
    assert main(["analyze", str(path), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Recommendation: no clear cluster structure" in text
    gmm_line = next(line for line in text.splitlines() if line.startswith("gmm "))
    assert "single cluster" not in gmm_line
    page = (out / "report.html").read_text()
    assert "Recommendation: no clear cluster structure" in page
    rec = json.loads((out / "summary.json").read_text())["recommendation"]
    assert rec["verdict"] == "no structure" and rec["n_clusters"] == 1


def test_kmeans_shows_one_silhouette_when_the_rows_outnumber_the_sample():
    rng = np.random.default_rng(11)
    y = rng.integers(0, 6, 6000)
    X = rng.normal(0, 6, (6, 5))[y] + rng.normal(0, 1, (6000, 5))
    res = clusterlab.analyze(X, algorithms=("kmeans",))
    sweep = res.kmeans_sweep
    k = res.scores["kmeans"]["n_clusters"]
    table = dict(zip(sweep.k_values.tolist(), sweep.table["silhouette"]))
    assert res.scores["kmeans"]["silhouette"] == table[k]


def test_names_lose_their_control_characters_and_constant_columns_are_named():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x\x1b[31m": rng.normal(size=40), "rtl\u202eevil": rng.normal(size=40),
                          "const": np.full(40, 7.0)})
    ds = dataset_from_data(frame)
    assert ds.columns == ["x[31m", "rtlevil", "const"]
    res = clusterlab.analyze(frame, algorithms=("kmeans",))
    assert any("'const' holds one value in every row" in n for n in res.result.notes)


def test_a_long_name_is_shortened_in_tables_with_the_whole_name_in_its_title():
    from clusterlab.report.html import table_html

    name = "L" * 300 + "<b>"
    out = table_html(["column", "mean"], [[name, "1.0"]])
    assert "L" * 47 + "…" in out and "L" * 60 not in out.split('title="')[0]
    assert f'title="{"L" * 300}&lt;b&gt;"' in out and "<b>" not in out


def test_the_reproduce_code_reads_the_file_by_its_absolute_path(tmp_path, monkeypatch):
    from clusterlab.report.explain import reproduce_code

    X, _, _ = three_blobs(60)
    (tmp_path / "t.csv").write_text("a,b\n" + "".join(f"{x},{y}\n" for x, y in X))
    monkeypatch.chdir(tmp_path)
    res = clusterlab.analyze("t.csv", algorithms=("kmeans",))
    code = reproduce_code(res.result)
    assert repr(str(tmp_path / "t.csv")) in code


def test_summary_profile_says_when_it_holds_only_the_first_columns():
    from clusterlab.report.html import MAX_SUMMARY_PROFILE_FEATURES, summary_dict

    rng = np.random.default_rng(0)
    d = MAX_SUMMARY_PROFILE_FEATURES + 5
    X = np.r_[rng.normal(0, 1, (40, d)), rng.normal(6, 1, (40, d))]
    res = clusterlab.analyze(X, k=(2, 3), algorithms=["kmeans"]).result
    profile = summary_dict(res, {}, 0)["profile"]
    assert len(profile["columns"]) == MAX_SUMMARY_PROFILE_FEATURES
    assert f"of {d} columns" in profile["note"]
    narrow = clusterlab.analyze(X[:, :3], k=(2, 3), algorithms=["kmeans"]).result
    assert "note" not in summary_dict(narrow, {}, 0)["profile"]
