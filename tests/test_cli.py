"""`clusterlab analyze`: the main job, end to end."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from clusterlab.cli import main


def run_cli(*args):
    return main([*map(str, args)])


@pytest.fixture(scope="module")
def five_blobs_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("analyze")
    assert run_cli("analyze", "--out", out, "--quiet", "--k", "2..8") == 0
    return out


def test_default_run_writes_the_three_files(five_blobs_run):
    for name in ("labels.csv", "summary.json", "report.html"):
        assert (five_blobs_run / name).stat().st_size > 0, name


def test_summary_on_five_blobs(five_blobs_run):
    s = json.loads((five_blobs_run / "summary.json").read_text())
    assert s["data"]["n_samples"] == 2000 and s["data"]["n_features"] == 2
    km = s["kmeans_sweep"]
    assert km["k"][0] == 2 and km["k"][-1] == 8
    # the seed: best silhouette at k=4, k=5 second
    sil = dict(zip(km["k"], km["silhouette"]))
    assert km["best_silhouette_k"] == 4
    assert sorted(sil, key=sil.get)[-2] == 5
    assert s["recommendation"]["model"] in s["models"]  # one of the models that ran
    assert s["recommendation"]["reasons"]
    assert s["figure_failures"] == []
    assert s["anomalies"]["count"] == 40  # 2% of 2000
    for name in ("kmeans", "gmm", "dbscan", "agglomerative", "spectral"):
        assert name in s["models"], name
    assert "versions" in s and "timings_s" in s


def test_labels_csv_has_every_model_and_anomaly_flag(five_blobs_run):
    with open(five_blobs_run / "labels.csv") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    assert header[0] == "row" and "kmeans" in header and "gmm" in header
    assert header[-2:] == ["anomaly", "log_density"]
    assert len(rows) == 2001
    flags = np.array([int(r[header.index("anomaly")]) for r in rows[1:]])
    assert flags.sum() == 40


def test_report_has_recommendation_and_embedded_figures(five_blobs_run):
    html = (five_blobs_run / "report.html").read_text()
    assert 'id="recommendation"' in html
    assert html.count("<img") >= 8
    assert "src=\"data:image/png;base64," in html
    assert "could not be drawn" not in html


def test_csv_with_header_label_and_text_column(tmp_path):
    from clusterlab.datasets import load_elongated_blobs

    X, y = load_elongated_blobs(return_y=True)
    path = tmp_path / "table.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["a", "b", "name", "species"])
        for i, (row, lab) in enumerate(zip(X, y)):
            w.writerow([row[0], row[1], f"item{i}", f"s{lab}"])
    out = tmp_path / "out"
    code = run_cli("analyze", path, "--out", out, "--quiet", "--label-column", "species",
                   "--k", "2..5", "--algorithms", "kmeans,gmm", "--format", "json")
    assert code == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["data"]["columns"] == ["a", "b"]
    assert s["data"]["dropped_columns"] == ["name"]
    assert "ari_vs_labels" in s["models"]["gmm"]
    # the seed's point: a Gaussian mixture recovers the elongated blobs far better than K-Means
    assert s["models"]["gmm"]["ari_vs_labels"] > s["models"]["kmeans"]["ari_vs_labels"]


@pytest.mark.parametrize("content, message", [
    ("a,b\n1,2\n3,\n4,5\n", "column 'b' has missing or non-finite values in 1 row(s): 2"),
    ("a,b\nx,y\nz,w\n", "no numeric columns"),
    ("", "empty"),
])
def test_bad_tables_exit_2_with_a_message(tmp_path, capsys, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert run_cli("analyze", path, "--out", tmp_path / "o", "--quiet") == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err and message in err


def test_missing_file_and_too_few_rows(tmp_path, capsys):
    assert run_cli("analyze", tmp_path / "nope.csv", "--quiet") == 2
    assert "no such file" in capsys.readouterr().err
    path = tmp_path / "small.csv"
    path.write_text("a,b\n1,2\n3,4\n5,6\n")
    assert run_cli("analyze", path, "--out", tmp_path / "o", "--quiet") == 2
    assert "need more rows than clusters" in capsys.readouterr().err


def test_bad_options_are_usage_errors(capsys):
    for args in (["--k", "5..2"], ["--algorithms", "kmeans,nope"], ["--contamination", "2"]):
        with pytest.raises(SystemExit) as exc:
            main(["analyze", *args])
        assert exc.value.code == 2


@pytest.mark.slow  # sampling stays in the quick tier through tests/test_analysis_selection.py
def test_npy_input_and_sampling_note(tmp_path):
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, 1, (700, 3)), rng.normal(6, 1, (700, 3))]
    path = tmp_path / "x.npy"
    np.save(path, X)
    out = tmp_path / "o"
    assert run_cli("analyze", path, "--out", out, "--quiet", "--k", "2..4",
                   "--sample", "500") == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["data"]["sampled_rows_for_quadratic_steps"] == 500
    assert any("sample" in n for n in s["notes"])
    assert s["kmeans_sweep"]["best_silhouette_k"] == 2
    assert s["figure_failures"] == []


def test_console_script_is_installed(tmp_path):
    out = subprocess.run(["clusterlab", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and "clusterlab" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "clusterlab", "analyze",
                          str(tmp_path / "missing.csv")], capture_output=True, text=True)
    assert bad.returncode == 2 and "missing.csv" in bad.stderr


def test_command_leaves_quickly_but_runs_exit_handlers_and_flushes(tmp_path):
    """The command ends with os._exit (no interpreter teardown) after the exit
    handlers, with its exit code and everything it printed."""
    code = ("import atexit, sys; atexit.register(lambda: print('handler ran', flush=True)); "
            "from clusterlab.cli import run; print('before', end=''); "
            "run(['analyze', sys.argv[1]])")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "missing.csv")],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "missing.csv" in out.stderr
    assert out.stdout == "beforehandler ran\n"
    # CLUSTERLAB_FAST_EXIT=0: the usual exit, the same outcome
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "missing.csv")],
                         capture_output=True, text=True,
                         env={**os.environ, "CLUSTERLAB_FAST_EXIT": "0"})
    assert out.returncode == 2 and out.stdout == "beforehandler ran\n"


@pytest.mark.parametrize("fast_exit", ["1", pytest.param("0", marks=pytest.mark.slow)])
def test_a_reader_that_goes_away_is_not_an_error(tmp_path, fast_exit):
    """``clusterlab analyze | head -1``: the pipe closes before the summary is
    printed. No "bug in clusterlab" message, no traceback; SIGPIPE's status."""
    proc = subprocess.Popen([sys.executable, "-m", "clusterlab", "analyze", "--out",
                             str(tmp_path / "o"), "--k", "2..3", "--algorithms", "kmeans"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "CLUSTERLAB_FAST_EXIT": fast_exit})
    proc.stdout.close()  # the reader is gone before anything is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141
    assert "bug" not in err and "Traceback" not in err and "Exception" not in err
    assert (tmp_path / "o" / "report.html").exists()  # the work itself was done


@pytest.mark.parametrize("name, expected", [
    ("five-blobs", "kmeans"),       # round blobs: the seed keeps K-Means
    ("elongated-blobs", "gmm"),     # the seed's section 2: elongated clusters need a mixture
    ("moons", "dbscan"),            # the seed's section 1.3: non-convex clusters
])
def test_recommendation_follows_the_seed(name, expected):
    from clusterlab.report.analysis import run_analysis
    from clusterlab.report.data import load_dataset

    res = run_analysis(load_dataset(name), algorithms=("kmeans", "gmm", "dbscan"))
    assert res.recommendation == expected, res.reasons


def test_the_collector_is_left_as_it_was_when_main_is_called_from_python(tmp_path):
    """Only the command (``run``) pauses and freezes the cyclic garbage
    collector around its imports; ``main`` called from a Python program
    leaves it enabled and freezes nothing."""
    import gc

    before = gc.get_freeze_count()
    assert run_cli("analyze", "--out", tmp_path / "o", "--quiet", "--k", "2..3",
                   "--algorithms", "kmeans") == 0
    assert gc.isenabled()
    assert gc.get_freeze_count() == before


def test_the_command_pauses_the_collector_only_while_it_reads(tmp_path, monkeypatch):
    """``run`` pauses the collector while the command imports and reads the
    table, then freezes what exists and collects again (also when reading
    fails)."""
    import gc

    from clusterlab import cli
    from clusterlab.report import data

    seen = {}
    load = data.load_dataset

    def spy(*args, **kwargs):
        seen["while_reading"] = gc.isenabled()
        return load(*args, **kwargs)

    monkeypatch.setattr(data, "load_dataset", spy)
    monkeypatch.setattr(cli, "_PAUSE_GC", True)
    frozen = gc.get_freeze_count()
    try:
        assert cli.main(["analyze", "--out", str(tmp_path / "o"), "--quiet", "--k", "2..3",
                         "--algorithms", "kmeans"]) == 0
        assert seen["while_reading"] is False
        assert gc.isenabled() and gc.get_freeze_count() > frozen
        gc.unfreeze()
        assert cli.main(["analyze", str(tmp_path / "missing.csv"), "--out",
                         str(tmp_path / "o2"), "--quiet"]) == 2
        assert gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()
