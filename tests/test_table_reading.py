"""Reading the tables people have: compressed files, numbers with thousands
separators, rows of empty cells, headers that are numbers or sit in a comment,
a pandas row index after rows were dropped, columns aligned with spaces, and
the command's own edges (a bad --seed, a column named twice, an output file
that is a folder, a summary read by ``| head -1``)."""

import bz2
import gzip
import lzma
import sys
import zipfile

import numpy as np
import pytest

from clusterlab.cli import main
from clusterlab.report.data import DataError, load_dataset

ROWS = np.random.default_rng(0).normal(size=(40, 2)).round(3)
CSV = "a,b\n" + "".join(f"{x},{y}\n" for x, y in ROWS)


@pytest.mark.parametrize("packer, name", [
    (gzip.compress, "t.csv.gz"), (bz2.compress, "t.csv.bz2"), (lzma.compress, "t.data.xz"),
    (None, "t.zip")])
def test_compressed_tables_are_read_as_their_text(tmp_path, packer, name):
    path = tmp_path / name
    if packer is None:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("inside.csv", CSV)
    else:
        path.write_bytes(packer(CSV.encode()))
    ds = load_dataset(str(path))
    assert ds.columns == ["a", "b"]
    np.testing.assert_array_equal(ds.X, ROWS)
    assert any("compressed" in n or "zip archive" in n for n in ds.notes)


def test_a_gzipped_tab_file_keeps_its_tabs(tmp_path):
    path = tmp_path / "t.tsv.gz"
    path.write_bytes(gzip.compress(CSV.replace(",", "\t").encode()))
    np.testing.assert_array_equal(load_dataset(str(path)).X, ROWS)


@pytest.mark.parametrize("content, message", [
    (b"\x1f\x8b\x08\x00garbage", "gzip-compressed data but does not decompress"),
    (b"PK\x03\x04garbage", "zip archive but is not one"),
])
def test_broken_archives_say_what_they_are(tmp_path, content, message):
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        load_dataset(str(path))


def test_an_excel_workbook_is_refused_with_what_to_do(tmp_path):
    path = tmp_path / "book.csv"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(DataError, match="Excel workbook.*save the sheet as CSV"):
        load_dataset(str(path))


def test_a_zip_of_several_files_is_refused(tmp_path):
    path = tmp_path / "two.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.csv", CSV)
        zf.writestr("b.csv", CSV)
    with pytest.raises(DataError, match="zip archive of 2 files"):
        load_dataset(str(path))


@pytest.mark.parametrize("sep, cell", [("\t", "7,804"), ("|", "7,804"), (";", "7.804")])
def test_thousands_separators_beside_plain_integers_are_refused(tmp_path, sep, cell):
    # "7,804" beside "838" in a file whose separator allows decimal commas:
    # 7804 or 7.804? Reading it as 7.804 put the column off by 1000x silently
    lines = [f"income{sep}age"]
    for i in range(30):
        big = cell if i % 2 else "838"
        age = "41,5" if sep == ";" else "41.5"
        lines.append(f"{big}{sep}{age}")
    path = tmp_path / "t.txt"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="may group thousands .* or mark decimals"):
        load_dataset(str(path))


def test_unambiguous_grouped_numbers_are_read(tmp_path):
    # dots grouping thousands before a decimal comma (3.285,50), and quoted
    # commas grouping thousands before a decimal point ("1,234.50")
    semi = tmp_path / "de.csv"
    semi.write_text("umsatz;alter\n" + "".join(f"{i + 1}.{100 + i}.{200 + i},5{i % 10};"
                                               f"4{i % 10},5\n" for i in range(20)))
    ds = load_dataset(str(semi))
    np.testing.assert_allclose(ds.X[:3, 0], [1100200.50, 2101201.51, 3102202.52])
    np.testing.assert_allclose(ds.X[:3, 1], [40.5, 41.5, 42.5])
    comma = tmp_path / "us.csv"
    comma.write_text("amount,b\n" + "".join(f'"{i + 1},{234 + i}.50",{i}\n' for i in range(20)))
    ds = load_dataset(str(comma))
    np.testing.assert_allclose(ds.X[:3, 0], [1234.5, 2235.5, 3236.5])
    assert any("grouping thousands" in n for n in ds.notes)


def test_three_decimals_after_a_decimal_comma_everywhere_are_decimals(tmp_path):
    path = tmp_path / "t.tsv"
    path.write_text("a\tb\n" + "".join(f"{i % 9 + 1},{100 + i}\t0,{i + 10}\n" for i in range(30)))
    ds = load_dataset(str(path))
    np.testing.assert_allclose(ds.X[:2, 0], [1.100, 2.101])


def test_a_row_of_empty_cells_keeps_its_number_and_counts_as_missing(tmp_path, capsys):
    lines = ["a,b"] + [f"{x},{y}" for x, y in ROWS[:10]] + [","] + [
        f"{x},{y}" for x, y in ROWS[10:]] + [",", ",,"]
    path = tmp_path / "t.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"in 1 row\(s\): 11\b"):
        load_dataset(str(path))
    ds = load_dataset(str(path), missing="drop")
    assert ds.X.shape == (40, 2)
    assert 11 not in ds.row_numbers and ds.row_numbers[-1] == 41
    assert any("2 row(s) of empty cells below the table" in n for n in ds.notes)
    path.write_text(",,\n" + "\n".join(lines) + "\n")  # an empty row above the header too
    ds = load_dataset(str(path), missing="drop")
    assert ds.columns == ["a", "b"] and ds.row_numbers[-1] == 41
    assert any("3 row(s) of empty cells above and below the table" in n for n in ds.notes)


@pytest.mark.parametrize("index", [False, True])
def test_a_header_that_numbers_the_columns_is_a_header(tmp_path, index):
    pd = pytest.importorskip("pandas")
    path = tmp_path / "t.csv"
    pd.DataFrame(ROWS).to_csv(path, index=index)  # header "0,1" or ",0,1"
    ds = load_dataset(str(path))
    assert ds.columns == ["0", "1"]
    np.testing.assert_allclose(ds.X, ROWS)


def test_years_above_decimals_name_the_columns_and_integers_stay_data(tmp_path):
    years = tmp_path / "years.csv"
    years.write_text("2019,2020,2021\n" + "".join(f"{x},{y},{x + y:.3f}\n" for x, y in ROWS))
    ds = load_dataset(str(years))
    assert ds.columns == ["2019", "2020", "2021"] and ds.X.shape == (40, 3)
    ints = tmp_path / "ints.csv"
    ints.write_text("1,2\n" + "".join(f"{i},{i * 3 % 7}\n" for i in range(40)))
    assert load_dataset(str(ints)).X.shape == (41, 2)


def test_a_pandas_index_after_dropna_is_left_out(tmp_path):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(ROWS, columns=["a", "b"]).drop(index=[3, 10]).sample(
        frac=1, random_state=0)
    path = tmp_path / "t.csv"
    frame.to_csv(path)
    ds = load_dataset(str(path))
    assert ds.columns == ["a", "b"]
    np.testing.assert_allclose(ds.X, frame.to_numpy())
    assert any("row index" in n for n in ds.notes)


def test_comments_with_blank_lines_and_a_savetxt_header(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("# Dataset: foo\n\n# Source: bar\n" + CSV)
    ds = load_dataset(str(path))
    assert ds.columns == ["a", "b"] and ds.X.shape == (40, 2)
    saved = tmp_path / "s.txt"
    np.savetxt(saved, ROWS, header="alpha beta", fmt="%.3f")
    ds = load_dataset(str(saved))
    assert ds.columns == ["alpha", "beta"]
    np.testing.assert_allclose(ds.X, ROWS)


def test_columns_aligned_with_runs_of_spaces(tmp_path):
    path = tmp_path / "t.data"
    path.write_text("".join(f"  {x:8.3f}   {y:8.3f}  \n" if i % 2 else f"{x:.3f} {y:.3f}\n"
                            for i, (x, y) in enumerate(ROWS)))
    np.testing.assert_allclose(load_dataset(str(path)).X, ROWS)


def test_a_text_file_named_npz_says_it_is_not_an_archive(tmp_path):
    path = tmp_path / "t.npz"
    path.write_text(CSV)
    with pytest.raises(DataError, match="not a NumPy .npz archive"):
        load_dataset(str(path))


@pytest.mark.parametrize("args, message", [
    (["--seed", "-1"], "--seed must be in 0..4294967295"),
    (["--seed", "4294967296"], "--seed must be in"),
    (["--columns", "a,a"], "names 'a' more than once"),
])
def test_bad_options_are_usage_errors(tmp_path, capsys, args, message):
    path = tmp_path / "t.csv"
    path.write_text(CSV)
    with pytest.raises(SystemExit) as exc:
        main(["analyze", str(path), "--out", str(tmp_path / "o")] + args)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_an_output_file_that_is_a_folder_is_refused_before_the_work(tmp_path, capsys):
    out = tmp_path / "o"
    (out / "summary.json").mkdir(parents=True)
    assert main(["analyze", "iris", "--out", str(out)]) == 2
    assert "summary.json is a folder there" in capsys.readouterr().err


def test_the_summary_goes_out_in_one_write(monkeypatch):
    # `clusterlab analyze | head -1` exited 141: print() wrote the summary and
    # then its newline, and with unbuffered output (PYTHONUNBUFFERED) head
    # closed the pipe between the two writes
    from clusterlab import cli

    class Recorder:
        def __init__(self):
            self.writes = []

        def write(self, text):
            self.writes.append(text)

        def flush(self):
            pass

    out = Recorder()
    monkeypatch.setattr(sys, "stdout", out)
    cli._write_out("first line\nsecond")
    assert out.writes == ["first line\nsecond\n"]


def test_dots_group_thousands_in_a_column_that_shows_it(tmp_path):
    # "3.285,50" says the dots group thousands: "1.250" beside it is 1250
    path = tmp_path / "de.csv"
    path.write_text("a;b\n" + "3.285,50;1,5\n1.250;2,5\n2,5;3,5\n" * 8)
    np.testing.assert_allclose(load_dataset(str(path)).X[:3, 0], [3285.5, 1250.0, 2.5])


def test_dot_groups_beside_integers_in_a_semicolon_file_are_refused(tmp_path):
    path = tmp_path / "de.csv"
    path.write_text("a;b\n" + "7.804;1\n838;2\n1.203;3\n" * 8)
    with pytest.raises(DataError, match="may group thousands"):
        load_dataset(str(path))


def test_quoted_thousands_in_a_comma_file_are_read(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text("a,b\n" + '"7,804",1.5\n838,2.5\n"12,001",4.5\n' * 8)
    ds = load_dataset(str(path))
    np.testing.assert_allclose(ds.X[:3, 0], [7804, 838, 12001])


def test_a_prose_comment_does_not_name_the_columns(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("# Source: NOAA, station ABC\n" + CSV.split("\n", 1)[1])
    assert load_dataset(str(path)).columns == ["x1", "x2"]


def test_a_numbered_header_is_said(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("0,1\n" + CSV.split("\n", 1)[1])
    ds = load_dataset(str(path))
    assert ds.columns == ["0", "1"] and any("counts up by one" in n for n in ds.notes)


def test_a_compressed_table_has_a_size_limit_and_mac_zips_are_read(tmp_path, monkeypatch):
    from clusterlab.report import text_table

    monkeypatch.setattr(text_table, "MAX_DECOMPRESSED", 1000)
    big = tmp_path / "big.csv.gz"
    big.write_bytes(gzip.compress(b"1,2\n" * 1000))  # 4000 bytes of text
    with pytest.raises(DataError, match="holds more than"):
        load_dataset(str(big))
    mac = tmp_path / "mac.zip"
    with zipfile.ZipFile(mac, "w") as zf:
        zf.writestr("t.csv", CSV)
        zf.writestr("__MACOSX/._t.csv", "resource fork")
    np.testing.assert_array_equal(load_dataset(str(mac)).X, ROWS)


def test_predict_never_takes_a_column_by_position(tmp_path, capsys):
    # a model fitted on pandas' default names "0", "1" must not read a table
    # whose columns are p, q by their positions
    train = tmp_path / "train.csv"
    train.write_text("0,1\n" + CSV.split("\n", 1)[1])
    out = tmp_path / "o"
    assert main(["analyze", str(train), "--out", str(out), "--algorithms", "kmeans"]) == 0
    new = tmp_path / "new.csv"
    new.write_text("p,q\n" + CSV.split("\n", 1)[1])
    capsys.readouterr()
    assert main(["predict", str(out / "model.joblib"), str(new),
                 "--out", str(tmp_path / "p.csv")]) == 2
    assert "needs a column '0'" in capsys.readouterr().err


def test_space_aligned_names_with_single_spaces_stay_whole(tmp_path):
    two = tmp_path / "two.txt"
    two.write_text("sepal length  sepal width\n" + "".join(f"{x:.3f}  {y:.3f}\n" for x, y in ROWS))
    ds = load_dataset(str(two))
    assert ds.columns == ["sepal length", "sepal width"]
    np.testing.assert_allclose(ds.X, ROWS)
    one = tmp_path / "one.txt"
    one.write_text("body mass\n" + "".join(f"{x:.3f}\n" for x in ROWS[:, 0]))
    assert load_dataset(str(one)).columns == ["body mass"]


def test_asking_for_a_left_out_row_index_says_how_to_keep_it(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(",a,b\n" + "".join(f"{170 + 3 * i},{x},{y}\n" for i, (x, y) in enumerate(ROWS)))
    with pytest.raises(DataError, match="left out as a row index; to use it, give it a name"):
        load_dataset(str(path), columns=["column_1", "a"])


def test_pandas_names_above_integer_columns_are_a_header(tmp_path):
    """``DataFrame(ints).to_csv(index=False)`` writes 0,1,2 above integers: the
    names, not a data row; two columns ``0,1`` above integers stay data (a 0/1
    row is common there)."""
    rng = np.random.default_rng(0)
    ints = rng.integers(0, 100, (30, 3))
    path = tmp_path / "ints.csv"
    path.write_text("0,1,2\n" + "\n".join(",".join(map(str, r)) for r in ints) + "\n")
    ds = load_dataset(str(path))
    assert ds.columns == ["0", "1", "2"] and ds.X.shape == (30, 3)
    np.testing.assert_array_equal(ds.X, ints)
    assert any("counts up by one" in n for n in ds.notes)
    two = tmp_path / "two.csv"
    two.write_text("0,1\n" + "\n".join(",".join(map(str, r[:2])) for r in ints) + "\n")
    assert load_dataset(str(two)).X.shape == (31, 2)


def test_true_false_columns_are_read_as_one_and_zero_as_from_a_dataframe(tmp_path):
    """pandas writes a boolean column as True/False: the command line reads it
    as 1 / 0 with a note, as the Python API reads the DataFrame's bools (it
    was left out as text, so the two clustered different columns)."""
    import pandas as pd

    import clusterlab

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=60), "member": rng.random(60) > 0.5})
    path = tmp_path / "b.csv"
    text = df.to_csv(index=False).split("\n")
    text[4] = text[4].split(",")[0] + ","  # row 4 (index 3): a missing cell
    path.write_text("\n".join(text))
    ds = load_dataset(str(path), missing="drop")
    assert ds.columns == ["a", "member"]
    assert any("true/false values read as 1 / 0 (in member)" in n for n in ds.notes)
    kept = df.drop(index=3)
    np.testing.assert_array_equal(ds.X[:, 1], kept["member"].astype(float).to_numpy())
    from_frame = clusterlab.analyze(kept, algorithms=["kmeans"]).result.dataset
    assert from_frame.columns == ["a", "member"]


def test_a_column_name_of_control_characters_only_is_renamed(tmp_path):
    path = tmp_path / "ctrl.csv"
    path.write_text('a,"\x1b\x07"\n' + "\n".join(f"{i},{i * 2}" for i in range(20)) + "\n")
    assert load_dataset(str(path)).columns == ["a", "column_2"]
    odd = tmp_path / "data\x1b[31mX.csv"
    odd.write_text(path.read_text())
    assert "\x1b" not in load_dataset(str(odd)).name
