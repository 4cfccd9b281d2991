"""`clusterlab analyze` / `predict` on the files people really have, and the command line's manners.

Hostile files (latin-1, BOM, `;` with decimal commas, tabs, quoted fields, missing cells),
`--out` checks, help texts, the first-run notice, the saved model and `clusterlab predict`,
the Python API and the report's structure (table of contents, profile, anomalies, advice).
"""

import csv
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from clusterlab.cli import build_parser, main
from clusterlab.report.data import DataError, load_dataset


def run_cli(*args):
    return main([*map(str, args)])


def blobs(n_per=30, seed=0):
    """Three well separated blobs in three columns (90 rows): quick to analyse."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0, 0.0], [6.0, 6.0, 0.0], [0.0, 6.0, 6.0]])
    return np.concatenate([rng.normal(c, 0.5, (n_per, 3)) for c in centres])


def write_table(path, header, rows, delimiter=",", encoding="utf-8", decimal_comma=False,
                quote_all=False):
    with open(path, "w", newline="", encoding=encoding) as fh:
        w = csv.writer(fh, delimiter=delimiter,
                       quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
        w.writerow(header)
        for row in rows:
            cells = []
            for v in row:
                text = f"{v:.6f}" if isinstance(v, float) else str(v)
                cells.append(text.replace(".", ",") if decimal_comma and isinstance(v, float)
                             else text)
            w.writerow(cells)
    return path


QUICK = ("--quiet", "--k", "2..4", "--algorithms", "kmeans,gmm")


# Reading files --------------------------------------------------------------------

def test_latin1_file_is_read_and_the_fallback_is_said(tmp_path):
    X = blobs()
    rows = [[*x, "Café" if i % 2 else "Crème"] for i, x in enumerate(X)]
    path = write_table(tmp_path / "latin.csv", ["température", "pression", "débit", "lieu"],
                       rows, encoding="latin-1")
    with pytest.raises(UnicodeDecodeError):
        path.read_text(encoding="utf-8")
    ds = load_dataset(str(path))
    assert ds.columns == ["température", "pression", "débit"]
    assert ds.dropped == [("lieu", "not numeric")]
    np.testing.assert_allclose(ds.X, X, atol=1e-6)
    assert any("not valid UTF-8" in n and "cp1252" in n for n in ds.notes)


def test_utf8_with_bom(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfa,b\n1,2\n3,4\n5,6.5\n")
    ds = load_dataset(str(path))
    assert ds.columns == ["a", "b"]  # no BOM glued to the first name
    np.testing.assert_array_equal(ds.X, [[1, 2], [3, 4], [5, 6.5]])
    assert ds.notes == []


def test_semicolons_with_decimal_commas(tmp_path):
    X = blobs()
    path = write_table(tmp_path / "euro.csv", ["a", "b", "c"], X, delimiter=";",
                       decimal_comma=True)
    assert "," in path.read_text() and "." not in path.read_text()
    ds = load_dataset(str(path))
    assert ds.columns == ["a", "b", "c"]
    np.testing.assert_allclose(ds.X, X, atol=1e-6)
    assert any("semicolons" in n for n in ds.notes)
    assert any("decimal commas" in n for n in ds.notes)


def test_semicolons_with_decimal_commas_without_header(tmp_path):
    path = tmp_path / "nohead.csv"
    path.write_text("1,5;2\n3,25;4\n-0,5;6\n")
    ds = load_dataset(str(path))
    np.testing.assert_allclose(ds.X, [[1.5, 2], [3.25, 4], [-0.5, 6]])


def test_dots_group_thousands_in_a_column_with_decimal_commas(tmp_path):
    # a column marks decimals one way: beside "3,50", "2.500" is 2500 (it was read as 2.5)
    path = tmp_path / "euro.csv"
    path.write_text("amount;score\n2.500;0,581\n1.250;0,028\n3,50;0,822\n4,25;0,446\n")
    ds = load_dataset(str(path))
    np.testing.assert_allclose(ds.X, [[2500, 0.581], [1250, 0.028], [3.5, 0.822],
                                      [4.25, 0.446]])


def test_whole_numbers_above_decimals_name_the_columns_with_a_note(tmp_path):
    # wavelengths as names: the line was read as a data row, which then formed a
    # cluster of its own; a first line that is data keeps being data
    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (20, 3))
    body = "".join(",".join(f"{v:.4f}" for v in row) + "\n" for row in X)
    spec = tmp_path / "spec.csv"
    spec.write_text("400,500,600\n" + body)
    ds = load_dataset(str(spec))
    assert ds.columns == ["400", "500", "600"] and ds.X.shape == (20, 3)
    assert any("whole numbers above columns of decimals" in n for n in ds.notes)
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("5,3,a\n" + "".join(f"{a:.2f},{b:.2f},b\n" for a, b in X[:, :2]))
    ds = load_dataset(str(mixed))
    assert ds.columns == ["5", "3"] and any("numbers and all" in n for n in ds.notes)
    for first, rows in (("1.5,2.5,3.5", body), ("1,2,3", "4,5,6\n7,8,9\n"),
                        ("400,400,600", body)):  # decimals; integers below; repeated names
        data = tmp_path / "data.csv"
        data.write_text(first + "\n" + rows)
        ds = load_dataset(str(data))
        assert ds.columns == ["x1", "x2", "x3"] and not ds.notes


@pytest.mark.parametrize("cells, said", [
    (["12.3%", "4.5%", "7%"], "a percent sign"),
    (["70.1 kg", "65 kg", "80.5 kg"], "a unit"),
    (["$4.20", "$5.10", "$1.00"], "a currency sign"),
    (["\u22121.5", "2.5", "\u22123"], "U+2212"),
    (["4 198.07", "1 001.5", "2 000"], "spaces grouping thousands"),
    (["setosa", "virginica", "setosa"], None),
])
def test_a_column_left_out_as_text_says_what_its_numbers_carry(tmp_path, cells, said):
    path = tmp_path / "t.csv"
    path.write_text("v,b\n" + "".join(f'"{c}",{i}.5\n' for i, c in enumerate(cells)),
                    encoding="utf-8")
    ds = load_dataset(str(path))
    assert ds.columns == ["b"] and [name for name, _ in ds.dropped] == ["v"]
    why = ds.dropped[0][1]
    assert why.startswith("not numeric") and (said in why if said else why == "not numeric")
    with pytest.raises(DataError, match="is not numeric" + (": numbers written" if said else "")):
        load_dataset(str(path), columns=["v", "b"])


def test_a_comma_separated_file_named_tsv_is_read_by_its_commas(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("a,b,c\n1.5,2.5,3.5\n2.5,3.5,4.5\n")
    ds = load_dataset(str(path))
    assert ds.columns == ["a", "b", "c"] and ds.X.shape == (2, 3)


def test_utf8_with_a_stray_latin1_byte_keeps_its_utf8_names(tmp_path):
    # the whole file was read as cp1252: every UTF-8 name garbled ('tempÃ©rature')
    body = "".join(f"{i * 0.5:.2f},{i * 0.25:.2f},c{i}\n" for i in range(30))
    path = tmp_path / "mixed.csv"
    path.write_bytes("température,größe,city\n".encode() + body.encode()
                     + b"1.0,2.0,Z\xfcrich\n")
    ds = load_dataset(str(path))
    assert ds.columns == ["température", "größe"] and ds.X.shape == (31, 2)
    assert any("not valid UTF-8 (the first on line 32" in n for n in ds.notes)
    latin = tmp_path / "latin.csv"  # a Windows file throughout stays one
    latin.write_bytes("température,größe\n1,2\n3,4.5\n".encode("cp1252"))
    ds = load_dataset(str(latin))
    assert ds.columns == ["température", "größe"] and any("cp1252" in n for n in ds.notes)


def test_vertical_bars_with_decimal_commas_without_header(tmp_path):
    # commas split these lines evenly too (three fields: "0", "19|-0", "52"): the
    # bar is the separator, as semicolons and tabs beat commas
    path = tmp_path / "nohead.csv"
    path.write_text("0,19|-0,52\n1,5|2,25\n-3,75|4,5\n")
    ds = load_dataset(str(path))
    np.testing.assert_allclose(ds.X, [[0.19, -0.52], [1.5, 2.25], [-3.75, 4.5]])


def test_tab_separated_with_a_text_column(tmp_path):
    X = blobs()
    rows = [[*x, f"item {i}"] for i, x in enumerate(X)]
    path = write_table(tmp_path / "table.txt", ["a", "b", "c", "name"], rows, delimiter="\t")
    ds = load_dataset(str(path))
    assert ds.columns == ["a", "b", "c"] and ds.dropped == [("name", "not numeric")]
    np.testing.assert_allclose(ds.X, X, atol=1e-6)


@pytest.mark.parametrize("encoding, bom", [
    ("utf-16", b""),  # Python writes the byte-order mark itself
    ("utf-16-le", b""),  # no mark: found from the zero bytes
    ("utf-16-be", b""),
    ("utf-32", b""),
    ("utf-8", b"\xff\xfe"),  # a UTF-16 mark on text that is not UTF-16
])
def test_wide_unicode_files(tmp_path, capsys, encoding, bom):
    # Excel's "Unicode text" export: UTF-16 with a byte-order mark, tabs
    X = blobs()
    text = "temp\u00e9rature\tb\tc\n" + "".join(
        "\t".join(f"{v:.6f}" for v in x) + "\n" for x in X)
    path = tmp_path / "wide.txt"
    path.write_bytes(bom + text.encode(encoding))
    if bom:  # clear error, no traceback
        assert run_cli("analyze", path, "--out", tmp_path / "o", *QUICK) == 2
        err = capsys.readouterr().err
        assert "does not decode" in err and "Traceback" not in err
        return
    ds = load_dataset(str(path))
    assert ds.columns == ["temp\u00e9rature", "b", "c"]
    np.testing.assert_allclose(ds.X, X, atol=1e-6)
    wide = "UTF-32" if encoding == "utf-32" else "UTF-16"
    assert any(wide in n for n in ds.notes)


def test_repeated_column_names_are_made_unique_and_predict_finds_each(tmp_path, capsys):
    # two columns called 'a': a saved model looked its columns up by name and
    # read the first 'a' twice at predict (every row then an anomaly)
    X = blobs()
    path = write_table(tmp_path / "dup.csv", ["a", "a", "a.2"], [list(x) for x in X])
    ds = load_dataset(str(path))
    assert ds.columns == ["a", "a.3", "a.2"]
    assert any("'a' is called 'a.3'" in n for n in ds.notes)
    np.testing.assert_allclose(ds.X, X, atol=1e-6)
    out = tmp_path / "o"
    assert run_cli("analyze", path, "--out", out, *QUICK) == 0
    assert run_cli("predict", out / "model.joblib", path, "--out", tmp_path / "p.csv") == 0
    with open(out / "labels.csv") as fh:
        rows = list(csv.DictReader(fh))
    chosen = json.loads((out / "summary.json").read_text())["recommendation"]["model"]
    with open(tmp_path / "p.csv") as fh:
        predicted = [r["cluster"] for r in csv.DictReader(fh)]
    assert predicted == [r[chosen] for r in rows]


@pytest.mark.parametrize("layout", ["pandas index", "R row names", "Unnamed: 0",
                                    "trailing separators", "comment lines"])
def test_exported_tables_read_as_their_data(tmp_path, layout):
    # what pandas' to_csv, R's write.csv and other exporters add around the data
    X = blobs()
    lines = [",".join(f"{v:.6f}" for v in x) for x in X]
    if layout == "pandas index":
        text = ",a,b,c\n" + "".join(f"{i},{ln}\n" for i, ln in enumerate(lines))
    elif layout == "R row names":
        text = '"","a","b","c"\n' + "".join(f'"{i + 1}",{ln}\n' for i, ln in enumerate(lines))
    elif layout == "Unnamed: 0":
        text = "Unnamed: 0,a,b,c\n" + "".join(f"{i},{ln}\n" for i, ln in enumerate(lines))
    elif layout == "trailing separators":
        text = "a,b,c,\n" + "".join(f"{ln},\n" for ln in lines)
    else:
        text = "# exported 2026-12-06\n#  by a tool\na,b,c\n" + "".join(f"{ln}\n" for ln in lines)
    path = tmp_path / "exported.csv"
    path.write_text(text)
    ds = load_dataset(str(path))
    assert ds.columns == ["a", "b", "c"]
    np.testing.assert_allclose(ds.X, X, atol=1e-6)
    if layout == "trailing separators":
        assert ds.dropped == [("column_4", "empty")]
    else:
        assert ds.dropped == [] and len(ds.notes) == 1
        assert ("row index" in ds.notes[0]) == (layout != "comment lines")


def test_a_numbered_first_column_with_a_name_is_kept(tmp_path):
    # a named column counting 1, 2, 3 may be data (a time step): only an
    # unnamed or index-named one is taken for a row index
    X = blobs()
    text = "step,a,b,c\n" + "".join(
        f"{i + 1}," + ",".join(f"{v:.6f}" for v in x) + "\n" for i, x in enumerate(X))
    path = tmp_path / "steps.csv"
    path.write_text(text)
    assert load_dataset(str(path)).columns == ["step", "a", "b", "c"]


def test_a_model_that_cannot_be_saved_is_said(tmp_path, capsys, monkeypatch):
    from clusterlab.report import api

    monkeypatch.setattr(api.Analysis, "saved_model", lambda self: None)
    path = write_table(tmp_path / "t.csv", ["a", "b", "c"], [list(x) for x in blobs()])
    assert run_cli("analyze", path, "--out", tmp_path / "o", *QUICK) == 0
    out = capsys.readouterr().out
    assert "could not be saved" in out and not (tmp_path / "o" / "model.joblib").exists()
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert "model_not_saved" in summary


def test_object_npy_is_refused_without_unpickling(tmp_path, capsys):
    path = tmp_path / "objects.npy"
    np.save(path, np.array([[1, "a"], [2, "b"]] * 10, dtype=object), allow_pickle=True)
    assert run_cli("analyze", path, "--out", tmp_path / "o", *QUICK) == 2
    err = capsys.readouterr().err
    assert "Python objects" in err and "does not unpickle" in err and "Traceback" not in err


def test_quoted_fields_with_separators_inside(tmp_path):
    X = blobs()
    rows = [[*x, f"Smith, J. {i}"] for i, x in enumerate(X)]
    path = write_table(tmp_path / "quoted.csv", ["a", "b", "c", "who, exactly"], rows,
                       quote_all=True)
    ds = load_dataset(str(path))
    assert ds.columns == ["a", "b", "c"] and ds.dropped == [("who, exactly", "not numeric")]
    np.testing.assert_allclose(ds.X, X, atol=1e-6)


@pytest.mark.parametrize("content, message", [
    (b"a,b\n1,2\n3,4,5\n", "row 2 has 3"),
    (b"\x00\x01\x02binary\x00", "binary file"),
    (b"a,b\nx,y\n", "no numeric columns"),
])
def test_unreadable_files_exit_2_without_traceback(tmp_path, capsys, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    assert run_cli("analyze", path, "--out", tmp_path / "o", "--quiet") == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_hostile_file_end_to_end_prints_what_was_done(tmp_path, capsys):
    X = blobs()
    rows = [[*x, "x"] for x in X]
    path = write_table(tmp_path / "euro.csv", ["a", "b", "c", "label"], rows, delimiter=";",
                       decimal_comma=True, encoding="cp1252")
    out = tmp_path / "o"
    assert run_cli("analyze", path, "--out", out, *QUICK) == 0
    stdout = capsys.readouterr().out
    assert "Columns left out: label (not numeric)" in stdout
    assert "decimal commas" in stdout
    s = json.loads((out / "summary.json").read_text())
    assert s["data"]["columns"] == ["a", "b", "c"]
    assert s["kmeans_sweep"]["best_silhouette_k"] == 3


# Missing cells -----------------------------------------------------------------------

def missing_table(tmp_path):
    X = blobs()
    rows = [[f"{v:.6f}" for v in x] for x in X]
    rows[4][0] = ""       # row 5, column a
    rows[9][2] = "NA"     # row 10, column c
    rows[20][2] = "nan"   # row 21, column c
    path = tmp_path / "holes.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["a", "b", "c"])
        w.writerows(rows)
    return path, X


def test_missing_cells_error_names_every_column_and_rows(tmp_path, capsys):
    path, _ = missing_table(tmp_path)
    assert run_cli("analyze", path, "--out", tmp_path / "o", "--quiet") == 2
    err = capsys.readouterr().err
    assert "column 'a' has missing or non-finite values in 1 row(s): 5" in err
    assert "column 'c' has missing or non-finite values in 2 row(s): 10, 21" in err
    assert "--missing drop" in err and "--missing impute" in err
    assert "rows counted from 1" in err


def test_missing_drop_keeps_original_row_numbers(tmp_path, capsys):
    path, X = missing_table(tmp_path)
    out = tmp_path / "o"
    assert run_cli("analyze", path, "--out", out, *QUICK, "--missing", "drop") == 0
    stdout = capsys.readouterr().out
    assert "3 row(s) with missing or non-finite values left out" in stdout
    with open(out / "labels.csv") as fh:
        rows = list(csv.DictReader(fh))
    numbers = [int(r["row"]) for r in rows]
    assert len(numbers) == 87 and numbers[:5] == [1, 2, 3, 4, 6]
    assert {5, 10, 21}.isdisjoint(numbers)
    s = json.loads((out / "summary.json").read_text())
    assert s["data"]["missing"]["mode"] == "drop" and s["data"]["missing"]["rows"] == [5, 10, 21]
    assert "left out" in (out / "report.html").read_text()


def test_missing_impute_uses_the_column_median(tmp_path, capsys):
    path, X = missing_table(tmp_path)
    ds = load_dataset(str(path), missing="impute")
    keep_a = np.ones(len(X), bool)
    keep_a[4] = False
    assert ds.X[4, 0] == pytest.approx(np.median(np.round(X[keep_a, 0], 6)))
    keep_c = np.ones(len(X), bool)
    keep_c[[9, 20]] = False
    assert ds.X[9, 2] == ds.X[20, 2] == pytest.approx(np.median(np.round(X[keep_c, 2], 6)))
    assert ds.missing == {"mode": "impute", "columns": {"a": 1, "c": 2}}
    out = tmp_path / "o"
    assert run_cli("analyze", path, "--out", out, *QUICK, "--missing", "impute") == 0
    assert "filled with their column's median" in capsys.readouterr().out
    with open(out / "labels.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 90


def test_missing_mode_is_checked():
    with pytest.raises(DataError, match="missing must be one of"):
        load_dataset("iris", missing="guess")
    with pytest.raises(SystemExit):
        main(["analyze", "--missing", "guess"])


# --out ----------------------------------------------------------------------------

def test_out_naming_a_file_fails_before_the_analysis(tmp_path, capsys, monkeypatch):
    import clusterlab.report.api as api

    def must_not_run(*args, **kwargs):
        raise AssertionError("the analysis ran before --out was checked")

    monkeypatch.setattr(api, "analyze_dataset", must_not_run)
    target = tmp_path / "report.txt"
    target.write_text("keep me")
    assert run_cli("analyze", "--out", target, "--quiet") == 2
    err = capsys.readouterr().err
    assert "is an existing file" in err and str(target) in err
    assert target.read_text() == "keep me"


def test_unwritable_out_fails_before_the_analysis(tmp_path, capsys, monkeypatch):
    import clusterlab.report.api as api

    monkeypatch.setattr(api, "analyze_dataset", lambda *a, **k: 1 / 0)
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert run_cli("analyze", "--out", blocker / "sub", "--quiet") == 2
    err = capsys.readouterr().err
    assert "cannot write there" in err and "Traceback" not in err
    if os.geteuid() != 0:  # root writes anywhere; a read-only folder stops everyone else
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        try:
            assert run_cli("analyze", "--out", ro / "x", "--quiet") == 2
        finally:
            ro.chmod(0o700)


# Help texts ---------------------------------------------------------------------------

def help_text(*command):
    parser = build_parser()
    if not command:
        return parser.format_help()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sub.choices[command[0]].format_help()


@pytest.mark.parametrize("command", [(), ("analyze",), ("predict",), ("demo",)])
def test_help_reads_as_plain_help(command):
    text = help_text(*command)
    assert "``" not in text and ":func:" not in text and ":class:" not in text
    assert not re.search(r"\bthe seed\b", text), text  # never unexplained jargon
    assert "usage:" in text


def test_demo_help_documents_options_and_default_folder():
    text = help_text("demo")
    for needle in ("--out", "--no-figures", "--quiet", "--progress", "clusterlab-demo",
                   "demo.html"):
        assert needle in text, needle
    assert "notebook" in text


def test_analyze_help_names_missing_and_files():
    text = help_text("analyze")
    for needle in ("--missing", "impute", "model.joblib", "labels.csv", "semicolons"):
        assert needle in text, needle


# First-run notice and quiet terminal ---------------------------------------------------

def test_compile_notice_when_the_cache_is_cold(tmp_path, capsys, monkeypatch):
    import io

    from clusterlab.report import warmup

    stream = io.StringIO()
    monkeypatch.setattr(warmup, "cold_modules", lambda modules=None: ["kmeans", "mixture"])
    expected = warmup.COMPILE_SECONDS["kmeans"] + warmup.COMPILE_SECONDS["mixture"]
    assert warmup.announce_compilation(stream=stream) == pytest.approx(expected)
    assert stream.getvalue().startswith("compiling clusterlab's kernels (first run only, about ")
    monkeypatch.setattr(warmup, "cold_modules", lambda modules=None: [])
    stream = io.StringIO()
    assert warmup.announce_compilation(stream=stream) == 0 and stream.getvalue() == ""
    # the command line prints it on stderr, terminal or not
    monkeypatch.setattr(warmup, "cold_modules", lambda modules=None: ["kmeans"])
    assert run_cli("analyze", "--out", tmp_path / "o", *QUICK) == 0
    assert "compiling clusterlab's kernels" in capsys.readouterr().err


def test_cold_cache_is_detected_in_an_empty_cache_folder(tmp_path):
    code = ("from clusterlab.report.warmup import cold_modules; "
            "print(','.join(cold_modules(['kmeans', 'mixture'])))")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "kmeans,mixture"


def test_warm_cache_is_detected():
    from clusterlab import KMeans
    from clusterlab.report.warmup import cold_modules

    KMeans(n_clusters=2, n_init=1, random_state=0).fit(blobs())
    assert cold_modules(["kmeans"]) == []


def test_cache_probe_follows_numbas_source_stamp(tmp_path):
    # numba keeps an index while the source's content is unchanged, whatever its time stamp
    # (a checkout touches files): the probe must agree with numba, or every run says "compiling"
    src = tmp_path / "kern.py"
    src.write_text("import numba\n\n@numba.njit(cache=True)\ndef f(x):\n    return x + 1\n")
    code = ("import sys, os, time; sys.path.insert(0, sys.argv[1]); import kern; kern.f(1); "
            "from clusterlab.report.warmup import _cached; p = os.path.join(sys.argv[1], 'kern.py'); "
            "a = _cached(p); t = time.time() + 10; os.utime(p, (t, t)); b = _cached(p); "
            "open(p, 'a').write('# edited\\n'); os.utime(p, (t + 10, t + 10)); "
            "print(a, b, _cached(p))")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True", "False"]


@pytest.mark.slow
def test_no_library_warning_reaches_the_terminal(tmp_path):
    # moons with a small k: spectral clustering's graph falls apart (a UserWarning inside)
    out = subprocess.run(
        [sys.executable, "-m", "clusterlab", "analyze", "moons", "--out", str(tmp_path / "o"),
         "--quiet", "--k", "2..3", "--algorithms", "kmeans,gmm,spectral"],
        capture_output=True, text=True, env=dict(os.environ, PYTHONWARNINGS="default"))
    assert out.returncode == 0, out.stderr
    err = [line for line in out.stderr.splitlines() if not line.startswith("compiling")]
    assert not any("Warning" in line for line in err), out.stderr
    assert "UserWarning" not in out.stdout and "Warning during" not in out.stdout


# Saved model and predict ---------------------------------------------------------------

@pytest.fixture(scope="module")
def analysed_table(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("predict")
    X = blobs()
    rows = [[*x, f"id{i}"] for i, x in enumerate(X)]
    path = write_table(tmp / "train.csv", ["a", "b", "c", "id"], rows)
    out = tmp / "out"
    assert main(["analyze", str(path), "--out", str(out), "--quiet", "--k", "2..4",
                 "--algorithms", "kmeans,gmm,agglomerative"]) == 0
    return tmp, path, out


def test_model_is_saved_with_columns_and_scaling(analysed_table):
    from clusterlab.report.model import SavedModel, load_model

    _, _, out = analysed_table
    saved = load_model(str(out / "model.joblib"))
    s = json.loads((out / "summary.json").read_text())
    assert isinstance(saved, SavedModel)
    assert saved.name == s["recommendation"]["model"]
    assert saved.columns == ["a", "b", "c"] and saved.scale == s["data"]["scale"]
    assert "model.joblib" in s["files"] and "profile.csv" in s["files"]


def test_predict_equals_the_labels_analyze_wrote(analysed_table, capsys):
    tmp, path, out = analysed_table
    pred = tmp / "pred.csv"
    assert main(["predict", str(out / "model.joblib"), str(path), "--out", str(pred)]) == 0
    assert "90 rows labelled" in capsys.readouterr().out
    with open(out / "labels.csv") as fh:
        written = list(csv.DictReader(fh))
    with open(pred) as fh:
        predicted = list(csv.DictReader(fh))
    name = json.loads((out / "summary.json").read_text())["recommendation"]["model"]
    assert [r["row"] for r in predicted] == [r["row"] for r in written]
    assert [r["cluster"] for r in predicted] == [r[name] for r in written]
    assert [r["anomaly"] for r in predicted] == [r["anomaly"] for r in written]


def test_predict_without_predict_method_uses_nearest_analysed_row(analysed_table):
    from clusterlab.report.model import SavedModel, load_model

    _, _, out = analysed_table
    saved = load_model(str(out / "model.joblib"))
    with open(out / "labels.csv") as fh:
        written = list(csv.DictReader(fh))
    X = load_dataset(str(analysed_table[1])).X
    agg_labels = np.array([int(r["agglomerative"]) for r in written])
    # the agglomerative model has no predict: the saved model falls back on the nearest row
    from clusterlab.cluster.agglomerative import AgglomerativeClustering

    agg = AgglomerativeClustering(n_clusters=3).fit(saved.transform(X))
    fallback = SavedModel("agglomerative", agg, saved.columns, saved.scale, saved.shift,
                          saved.matrix, reference=saved.transform(X),
                          reference_labels=agg_labels)
    if hasattr(agg, "predict"):
        pytest.skip("AgglomerativeClustering gained predict")
    np.testing.assert_array_equal(fallback.predict(X), agg_labels)


def test_predict_errors_exit_2(analysed_table, tmp_path, capsys):
    _, path, out = analysed_table
    other = tmp_path / "other.csv"
    other.write_text("a,b,z\n1,2,3\n4,5,6\n")
    assert main(["predict", str(out / "model.joblib"), str(other),
                 "--out", str(tmp_path / "p.csv")]) == 2
    assert "the saved model needs a column 'c'" in capsys.readouterr().err
    assert main(["predict", str(path), str(path), "--out", str(tmp_path / "p.csv")]) == 2
    assert "not a model saved by clusterlab analyze" in capsys.readouterr().err
    assert main(["predict", str(out / "model.joblib"), str(path), "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


# The Python API ------------------------------------------------------------------------

def test_python_api_on_a_dataframe_and_an_array(tmp_path):
    import pandas as pd

    import clusterlab

    X = blobs()
    y = np.repeat([0, 1, 2], 30)
    df = pd.DataFrame(X, columns=["a", "b", "c"]).assign(name=[f"r{i}" for i in range(90)])
    result = clusterlab.analyze(df, y=y, k=(2, 4), algorithms=("kmeans", "gmm"))
    assert result.dataset.columns == ["a", "b", "c"]
    assert result.dataset.dropped == [("name", "not numeric")]
    assert set(result.models) == {"kmeans", "gmm"} and result.recommendation in result.models
    assert result.labels.shape == (90,) and len(np.unique(result.labels)) == 3
    assert result.scores[result.recommendation]["ari_vs_labels"] == pytest.approx(1.0)
    assert result.kmeans_sweep.best("silhouette") == 3 and "gmm" in result.sweeps
    page = result.to_html()
    assert page.startswith("<!DOCTYPE html>") and 'id="toc"' in page
    paths = result.save(tmp_path / "api")
    assert set(paths) >= {"labels.csv", "summary.json", "report.html", "model.joblib"}
    np.testing.assert_array_equal(result.saved_model().predict(X), result.labels)
    arr = clusterlab.analyze(X, k="2..4", algorithms=("kmeans",))
    assert arr.dataset.columns == ["x1", "x2", "x3"] and arr.recommendation == "kmeans"
    assert "recommendation 'kmeans'" in repr(arr)
    with pytest.raises(DataError, match="missing or non-finite"):
        clusterlab.analyze(np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]]))


# The report's content (the browser test checks the same in Chromium) ---------------------

def test_failed_and_degenerate_models_are_marked_with_the_reason():
    import clusterlab
    from clusterlab.report.drawing import render_report

    result = clusterlab.analyze(blobs(), k=(2, 4), algorithms=("kmeans", "gmm", "dbscan"))
    res = result.result
    for store in (res.models, res.labels, res.scores):
        store.pop("gmm", None)
    res.gmm_sweep, res.covariance_bic = None, {}
    res.failures = {"gmm": "the covariance matrices were singular (identical rows)"}
    res.scores["dbscan"] = dict(res.scores["dbscan"], n_clusters=0, noise_fraction=1.0)
    html = render_report(res, {"clusterlab": "x"}, 1.0).render()
    glance = html[html.index('id="glance"'):]
    glance = glance[:glance.index("</table>")]
    assert '<tr class="failed"><td>Gaussian mixture</td><td>failed</td>' in glance
    assert "the covariance matrices were singular (identical rows)" in glance
    assert '<tr class="degenerate"><td>DBSCAN</td><td>degenerate</td>' in glance
    assert "every row was labelled noise" in glance


def test_warnings_become_plain_advice():
    from clusterlab.report.explain import advice

    text = advice("Warning during the analysis: ConvergenceWarning: Number of distinct clusters "
                  "(3) found smaller than n_clusters (5). Possibly due to duplicate points in X.")
    assert text.startswith("Only 3 distinct point(s) exist") and "Warning" not in text
    assert text == advice("ConvergenceWarning: Number of distinct clusters (3) found smaller "
                          "than n_clusters (7). Possibly due to duplicate points in X.")
    text = advice("Warning during the analysis: UserWarning: Graph is not fully connected, "
                  "spectral embedding may not work as expected.")
    assert "separate pieces" in text and "UserWarning" not in text
    assert advice("UserWarning: Data has no positive values, and therefore cannot be "
                  "log-scaled.") is None
    assert "UserWarning" not in advice("UserWarning: something new happened")
    assert advice("an ordinary note") == "an ordinary note"


def test_display_names_for_any_candidate():
    from clusterlab.report.explain import display_name

    assert display_name("hdbscan") == "HDBSCAN" and display_name("kmeans") == "K-Means"
    assert display_name("some_new_model") == "Some new model"


def test_dendrogram_branches_take_their_cluster_colour():
    from matplotlib.colors import to_hex

    from clusterlab import AgglomerativeClustering
    from clusterlab.report.figures import cluster_colors, dendrogram_figure

    agg = AgglomerativeClustering(n_clusters=3, compute_distances=True).fit(blobs())
    colors = cluster_colors(agg.labels_)
    fig = dendrogram_figure(agg, 3, colors)
    used = {to_hex(c) for coll in fig.axes[0].collections for c in coll.get_colors()}
    used |= {to_hex(line.get_color()) for line in fig.axes[0].get_lines()
             if line.get_linestyle() == "-"}
    assert {to_hex(c) for c in colors} <= used <= {to_hex(c) for c in colors} | {"#888888"}
    assert "#888888" in used  # the two merges above the cut into 3 clusters


def test_reproduce_block_refits_the_same_labels(analysed_table):
    import html as html_lib

    _, _, out = analysed_table
    page = (out / "report.html").read_text()
    code = re.search(r'<pre class="code" id="reproduce-code"><code>(.*?)</code></pre>', page,
                     re.S).group(1)
    code = html_lib.unescape(code)
    assert "from clusterlab import" in code
    namespace = {}
    exec(compile(code, "reproduce", "exec"), namespace)
    name = json.loads((out / "summary.json").read_text())["recommendation"]["model"]
    with open(out / "labels.csv") as fh:
        written = [int(r[name]) for r in csv.DictReader(fh)]
    np.testing.assert_array_equal(namespace["labels"], written)


def test_profile_of_a_mixture_has_its_weights():
    import clusterlab
    from clusterlab.report.explain import cluster_profile

    result = clusterlab.analyze(blobs(), k=(2, 4), algorithms=("gmm",))
    assert result.recommendation == "gmm"
    columns, rows = cluster_profile(result.result)
    assert columns == ["x1", "x2", "x3"] and len(rows) == 3
    np.testing.assert_allclose(sorted(r["weight"] for r in rows),
                               sorted(result.model.weights_))
    assert sum(r["size"] for r in rows) == 90
    X = blobs()
    for r in rows:
        np.testing.assert_allclose(r["mean"], X[result.labels == r["cluster"]].mean(axis=0))
    assert "mixture weight" in result.to_html()


@pytest.mark.slow
def test_every_module_of_the_compile_estimate_is_compiled_by_an_analysis(tmp_path):
    # a module listed in warmup.COMPILE_SECONDS that an analysis does not
    # compile stays "cold" forever: every later run would announce a
    # compilation and start the compile helper beside it (a warm analysis
    # 2.8 -> 3.5 s). After a new user's first analysis (the built-in data) and
    # one of a larger table (HDBSCAN's other spanning-tree path), none is cold.
    code = (
        "import sys, numpy as np\n"
        "from clusterlab import cli\n"
        "from clusterlab.report.warmup import cold_modules\n"
        "out = sys.argv[1]\n"
        "assert cli.main(['analyze', '--out', out + '/a', '--quiet']) == 0\n"
        "print('after built-in:', ','.join(cold_modules()))\n"
        "X = np.random.default_rng(0).normal(size=(6000, 3))\n"
        "X[:3000] += 6\n"
        "np.savetxt(out + '/t.csv', X, delimiter=',', header='a,b,c', comments='')\n"
        "assert cli.main(['analyze', out + '/t.csv', '--out', out + '/b', '--quiet']) == 0\n"
        "print('after table:', ','.join(cold_modules()))\n")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"), CLUSTERLAB_PREWARM="0")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if line.startswith("after ")]
    assert lines == ["after built-in: ", "after table: "], out.stdout


def _full_disk_after(monkeypatch, name, n_bytes):
    """Make writes to files called ``name`` fail with ENOSPC after ``n_bytes``."""
    import builtins
    import errno

    real_open = builtins.open

    class Full:
        def __init__(self, fh):
            self.fh, self.n = fh, 0

        def write(self, data):
            self.n += len(data)
            if self.n > n_bytes:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.fh.write(data)

        def __getattr__(self, attr):
            return getattr(self.fh, attr)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    def fake_open(file, mode="r", *args, **kwargs):
        fh = real_open(file, mode, *args, **kwargs)
        return Full(fh) if os.path.basename(str(file)) == name and "w" in mode else fh

    monkeypatch.setattr(builtins, "open", fake_open)


def test_a_full_disk_leaves_no_half_written_report(tmp_path, capsys, monkeypatch):
    path = write_table(tmp_path / "t.csv", ["a", "b", "c"], blobs())
    _full_disk_after(monkeypatch, "report.html", 1000)
    out = tmp_path / "out"
    assert run_cli("analyze", path, "--out", out, "--quiet", "--k", "2..3",
                   "--algorithms", "kmeans") == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err
    assert not (out / "report.html").exists()  # not a truncated page
    assert (out / "labels.csv").exists()  # written whole before


def test_predict_on_a_full_disk_exits_2_and_leaves_no_file(analysed_table, capsys,
                                                           monkeypatch):
    tmp, path, out = analysed_table
    _full_disk_after(monkeypatch, "pred.csv", 100)
    assert main(["predict", str(out / "model.joblib"), str(path), "--out",
                 str(tmp / "pred.csv")]) == 2
    err = capsys.readouterr().err
    assert "--out" in err and "No space left on device" in err and "bug" not in err
    assert not (tmp / "pred.csv").exists()


@pytest.mark.parametrize("names", ["spectral", "agglomerative,birch"])
def test_candidates_that_need_a_chosen_k_alone_are_refused(names, capsys):
    # they ran at a k no candidate chose: none ran, and the report said "no clear
    # cluster structure" of two obvious groups
    import clusterlab

    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["analyze", "--algorithms", names])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "another candidate chooses" in err and "kmeans," in err
    with pytest.raises(ValueError, match="another candidate chooses"):
        clusterlab.analyze(blobs(), algorithms=names.split(","))


@pytest.mark.parametrize("kind", ["gzip", "xz", "zip"])
def test_a_corrupt_archive_is_named_in_the_message(tmp_path, kind):
    # zlib's and lzma's own errors came through as "could not read the file: error: ..."
    import gzip
    import io
    import lzma
    import zipfile

    data = ("a,b\n" + "".join(f"{i}.5,{i}.25\n" for i in range(2000))).encode()
    if kind == "gzip":
        packed = bytearray(gzip.compress(data))
    elif kind == "xz":
        packed = bytearray(lzma.compress(data))
    else:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("t.csv", data)
        packed = bytearray(buf.getvalue())
    packed[60:80] = b"\xff" * 20 if kind == "xz" else b"\x00" * 20
    path = tmp_path / f"t.{kind}"
    path.write_bytes(bytes(packed))
    with pytest.raises(DataError, match=f"{kind}.*does not decompress|does not decompress"):
        load_dataset(str(path))
    try:
        load_dataset(str(path))
    except DataError as exc:
        assert kind in str(exc) and "could not read the file" not in str(exc)


def test_a_comment_line_inside_the_table_is_named(tmp_path):
    # "row 81 has 1" alone did not say why
    path = tmp_path / "c.csv"
    path.write_text("a,b\n" + "".join(f"{i}.5,{i}.25\n" for i in range(20)) + "# the end\n")
    with pytest.raises(DataError, match=r"row 21 has 1.*Row 21 starts with '#': comment lines"):
        load_dataset(str(path))
