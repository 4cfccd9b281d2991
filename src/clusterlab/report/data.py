"""Reading the data ``clusterlab analyze`` is given.

Accepted: CSV/TSV (gzip, bzip2, xz or a one-file zip decompressed first;
header detected; UTF-8 with or without a byte-order mark,
UTF-16 or UTF-32 (by their byte-order mark; UTF-16 of ASCII text also without
one), else cp1252 or latin-1; separated by commas, semicolons with decimal commas,
tabs or vertical bars; quoted fields), Parquet (needs ``pyarrow``), ``.npy`` /
``.npz``, a built-in data set name, or (from Python) an array or DataFrame.
Every problem is raised as :class:`DataError` with a message that names the
file and says what is wrong (missing file, no numeric columns, missing cells
in which columns and rows, ...). Rows are always counted from 1, the first
data row after the header.
"""

import os
import re
from dataclasses import dataclass, field

import numpy as np

from clusterlab.report.text_table import INTEGER, MISSING_TOKENS, DataError, read_text_table

_DECIMAL_COMMA = re.compile(r"^[+-]?(\d+(,\d*)?|,\d+)([eE][+-]?\d+)?$")
#: a decimal comma after thousands grouped by dots: 3.285,50
_GROUPED_DECIMAL_COMMA = re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3})+,\d+$")
#: thousands grouped by commas before a decimal point: "1,234.50" (a quoted
#: cell of a comma-separated file)
_GROUPED_DECIMAL_POINT = re.compile(r"^[+-]?[1-9]\d{0,2}(,\d{3})+\.\d+$")
#: digits grouped in threes by a comma or a dot: 7,804 or 1.234.567
_THOUSANDS = {",": re.compile(r"^[+-]?[1-9]\d{0,2}(,\d{3})+$"),
              ".": re.compile(r"^[+-]?[1-9]\d{0,2}(\.\d{3})+$")}


@dataclass
class Dataset:
    X: np.ndarray
    columns: list
    name: str
    y: np.ndarray = None
    label_column: str = None
    dropped: list = field(default_factory=list)  # (column, reason)
    #: 1-based data-row number (in the file) of each row of ``X``
    row_numbers: np.ndarray = None
    notes: list = field(default_factory=list)  # how the file was read, what was done
    missing: dict = None  # {"mode", "columns": {column: cells}, "rows"} when cells were missing
    source: str = None  # the path or built-in name it was read from (None for arrays)

    def __post_init__(self):
        if self.row_numbers is None:
            self.row_numbers = np.arange(1, self.X.shape[0] + 1)

    @property
    def n_samples(self):
        return self.X.shape[0]

    @property
    def n_features(self):
        return self.X.shape[1]



def known_labels(y):
    """Boolean mask of the entries of a label column that hold a label: not
    None, NaN, or an empty or missing-value cell (``NA``, ``?``, ...)."""
    y = np.asarray(y)
    if y.dtype.kind == "f":
        return ~np.isnan(y)
    if y.dtype.kind in "biu":
        return np.ones(len(y), dtype=bool)
    return np.array([not (v is None or (isinstance(v, float) and v != v)
                          or str(v).strip().lower() in MISSING_TOKENS) for v in y],
                    dtype=bool)



def _columns_from_arrays(arrays):
    return list(arrays.keys()), [np.asarray(a) for a in arrays.values()]


#: a column is numeric with a few bad cells (a typo, a stray character), not a
#: text column, when at least this share of its non-missing cells are numbers
MOSTLY_NUMERIC = 0.9


def _grouped_cells(values, sep):
    """The cells of a text column that read as digits grouped in threes by
    ``sep`` (``7,804``, ``3.179``) when every cell holding ``sep`` does and
    another cell is a plain integer (``838``): such a column can be read two
    ways (7804 or 7.804) and neither is safe. Else an empty list."""
    texts = [str(v).strip() for v in values if isinstance(v, str)]
    with_sep = [t for t in texts if sep in t]
    if not with_sep or not all(_THOUSANDS[sep].match(t) for t in with_sep):
        return []
    if not any(INTEGER.match(t) for t in texts):
        return []
    return with_sep


def _refuse_ambiguous_grouping(name, column, cells, sep, values):
    plain = next(t for t in (str(v).strip() for v in values) if INTEGER.match(t))
    example = cells[0]
    digits = example.lstrip("+-").replace(sep, "")
    sign = "-" if example.startswith("-") else ""
    point = example.replace(",", ".") if sep == "," else example
    raise DataError(
        f"{name}: column {column!r} holds cells like {example!r} beside cells like "
        f"{plain!r}: the {'comma' if sep == ',' else 'dot'} may group thousands "
        f"({sign}{int(digits)}) or mark decimals ({point}), and the table does not say "
        "which. Save the table with the numbers written plainly (no thousands separators) "
        "and run again, or leave the column out (--exclude).")


#: the words of a true/false column (pandas' and spreadsheets' spellings)
_TRUE_FALSE = {"true": 1.0, "false": 0.0}


def _true_false(arr):
    """A column of true/false cells (missing cells aside) as 1.0 / 0.0 (NaN
    missing), as the Python API reads a boolean DataFrame column; else None."""
    out = np.empty(len(arr), dtype=float)
    seen = False
    for i, v in enumerate(arr):
        if v is None or (isinstance(v, float) and v != v):
            out[i] = np.nan
            continue
        s = str(v).strip().lower()
        if s in _TRUE_FALSE:
            out[i] = _TRUE_FALSE[s]
            seen = True
        elif s in MISSING_TOKENS:
            out[i] = np.nan
        else:
            return None
    return out if seen else None


def _to_float_column(values, decimal_comma=False):
    """Convert a column to float (missing cells NaN).

    Returns ``(column, used, bad)``: ``used`` is ``"comma"`` when decimal
    commas were read, ``"grouping"`` when commas grouping thousands before a
    decimal point ("1,234.50") were, ``"boolean"`` for true/false values
    (read as 1 / 0), else False; ``bad`` lists the rows
    (0-based) whose non-missing cell is not a number, NaN in ``column``; a
    column where fewer than :data:`MOSTLY_NUMERIC` of the non-missing cells
    are numbers is text: ``(None, False, bad)``.
    """
    arr = np.asarray(values)
    if arr.dtype.kind in "biuf":
        return arr.astype(float), "boolean" if arr.dtype.kind == "b" else False, []
    truth = _true_false(arr)
    if truth is not None:
        return truth, "boolean", []
    out = np.empty(len(arr), dtype=float)
    used_comma = used_grouping = False
    bad, filled = [], 0
    # a column holding "3.285,50" groups thousands with its dots: "1.250" is 1250 there;
    # so does one whose other cells mark decimals with commas ("3,50" beside "2.500": a
    # column has one decimal mark)
    def any_cell(test):
        return any(isinstance(v, str) and test(v.strip()) for v in arr)

    dots_group = decimal_comma and (
        any_cell(_GROUPED_DECIMAL_COMMA.match)
        or (any_cell(lambda c: "," in c and _DECIMAL_COMMA.match(c))
            and any_cell(_THOUSANDS["."].match)))
    for i, v in enumerate(arr):
        if v is None or (isinstance(v, float) and v != v):
            out[i] = np.nan
            continue
        s = str(v).strip()
        if s.lower() in MISSING_TOKENS:
            out[i] = np.nan
            continue
        filled += 1
        if dots_group and _THOUSANDS["."].match(s):
            out[i] = float(s.replace(".", ""))
            used_comma = True
            continue
        try:
            out[i] = float(s)
        except ValueError:
            if decimal_comma and _DECIMAL_COMMA.match(s):
                out[i] = float(s.replace(",", "."))
                used_comma = True
            elif decimal_comma and _GROUPED_DECIMAL_COMMA.match(s):
                out[i] = float(s.replace(".", "").replace(",", "."))
                used_comma = True
            elif not decimal_comma and (_GROUPED_DECIMAL_POINT.match(s)
                                        or _THOUSANDS[","].match(s)):
                # a comma-separated file marks decimals with points: a quoted
                # "1,234.50" or "7,804" groups thousands
                out[i] = float(s.replace(",", ""))
                used_grouping = True
            else:
                out[i] = np.nan
                bad.append(i)
                # give up early on a text column
                if len(bad) > (1.0 - MOSTLY_NUMERIC) * len(arr) + 1:
                    return None, False, bad
    if bad and len(bad) > (1.0 - MOSTLY_NUMERIC) * filled:
        return None, False, bad
    return out, "comma" if used_comma else "grouping" if used_grouping else False, bad


#: numbers written with something besides digits, said when their column is left
#: out as text (a pattern matching most of its cells)
_DECORATED_NUMBERS = (
    (re.compile(r"^[+-]?[\d.,]+\s*%$"), "a percent sign"),
    (re.compile(r"^[+-]?[$\u20ac\u00a3\u00a5]\s*[\d.,]+$|^[+-]?[\d.,]+\s*[$\u20ac\u00a3\u00a5]$"),
     "a currency sign"),
    (re.compile(r"^\u2212\s*[\d.,]+$"), "the minus sign \u2212 (U+2212) instead of '-'"),
    (re.compile(r"^[+-]?\d{1,3}([ \u00a0\u202f]\d{3})+([.,]\d+)?$"),
     "spaces grouping thousands"),
    (re.compile(r"^[+-]?[\d.,]+([eE][+-]?\d+)?\s*[^\W\d_][\w/\u00b0\u00b5]*\.?$"), "a unit"),
)


def _not_numeric(values):
    """Why a column left out as text is not numbers: ``"not numeric"``, with
    what most of its cells add to their digits where that is one thing (a
    percent or currency sign, a unit, U+2212 minus signs, spaces grouping
    thousands), so that the user can write the numbers plainly."""
    sample = []
    for v in values:
        t = "" if v is None else str(v).strip()
        if t and t.lower() not in MISSING_TOKENS:
            sample.append(t)
        if len(sample) == 50:
            break
    for pattern, what in _DECORATED_NUMBERS:
        hits = [t for t in sample if pattern.match(t)]
        if sample and len(hits) >= 0.5 * len(sample):
            return (f"not numeric: numbers written with {what}, like {hits[0]!r}; write them "
                    "as plain numbers to use the column")
    return "not numeric"


#: What ``--missing`` accepts: stop (the default), drop the rows, or fill each
#: missing cell with its column's median.
MISSING_MODES = ("error", "drop", "impute")

#: Rows named in an error message, per column.
ROWS_SHOWN = 5


#: names of a 1-D array of an ``.npz`` archive taken as the known labels
#: (``np.savez(path, X=X, y=y)``, scikit-learn's convention)
LABEL_ARRAYS = ("y", "labels", "label", "target", "classes")


def _read_file(spec):
    """Return ``(header, cols, notes, delimiter, labels)`` for a data file
    (``delimiter``: a text table's field separator, None for the other formats):
    ``labels`` names the column of known labels a ``.npz`` archive holds
    beside its data (a 1-D array called one of :data:`LABEL_ARRAYS`), else None."""
    lower = spec.lower()
    notes, delimiter, labels = [], None, None
    if lower.endswith(".npy"):
        with open(spec, "rb") as fh:
            magic = fh.read(6)
        if magic != b"\x93NUMPY":
            raise DataError(f"{spec}: not a NumPy .npy file (it lacks NumPy's header; a text "
                            "table should be named .csv or .tsv).")
        arr = np.load(spec, allow_pickle=False)
        if arr.dtype.names:  # a record array (np.genfromtxt(..., names=True)): its fields
            if arr.ndim != 1:
                raise DataError(f"{spec}: expected a 1-D record array, got shape {arr.shape}.")
            header = list(arr.dtype.names)
            cols = [arr[name] for name in header]
            bad = [h for h, c in zip(header, cols) if c.ndim != 1]
            if bad:
                raise DataError(f"{spec}: the fields {', '.join(bad)} are not single values.")
            return header, cols, notes, delimiter, labels
        if arr.dtype.kind == "c":
            raise DataError(f"{spec}: the array holds complex numbers; save the real and "
                            "imaginary parts as columns (np.column_stack([z.real, z.imag])).")
        arr = arr.reshape(-1, 1) if arr.ndim == 1 else arr
        if arr.ndim != 2:
            raise DataError(f"{spec}: expected a 2-D array, got shape {arr.shape}.")
        header = [f"x{i + 1}" for i in range(arr.shape[1])]
        cols = [arr[:, j] for j in range(arr.shape[1])]
    elif lower.endswith(".npz"):
        with open(spec, "rb") as fh:
            magic = fh.read(4)
        if magic not in (b"PK\x03\x04", b"PK\x05\x06"):
            raise DataError(f"{spec}: not a NumPy .npz archive (an .npz is a zip file of "
                            "arrays written by np.savez; a text table should be named .csv "
                            "or .tsv).")
        with np.load(spec, allow_pickle=False) as z:
            if not z.files:
                raise DataError(f"{spec}: the .npz archive holds no array.")
            key = "X" if "X" in z.files else z.files[0]
            arr = z[key]
            extra = {k: z[k] for k in z.files if k != key}
        arr = arr.reshape(-1, 1) if arr.ndim == 1 else arr
        if arr.ndim != 2:
            raise DataError(f"{spec}: expected a 2-D array, got shape {arr.shape}.")
        header = [f"x{i + 1}" for i in range(arr.shape[1])]
        cols = [arr[:, j] for j in range(arr.shape[1])]
        added, skipped = [], []
        for k, v in extra.items():
            if v.ndim == 1 and len(v) == arr.shape[0]:
                header.append(k)
                cols.append(v)
                added.append(k)
            else:
                skipped.append(f"{k} (shape {v.shape})")
        labels = next((k for k in LABEL_ARRAYS if k in added), None)
        what = f"the array {key!r} gives the columns x1..x{arr.shape[1]}"
        further = [k for k in added if k != labels]
        if further:
            what += ("; the 1-D array(s) " + ", ".join(repr(k) for k in further)
                     + " of as many rows are further columns")
        if skipped:
            what += "; left out: " + ", ".join(skipped)
        if labels is not None:
            what += (f"; the array {labels!r} is taken as the known labels, not clustered "
                     f"(--label-column {labels})")
        notes.append(what + ".")
    elif lower.endswith((".parquet", ".pq")):
        try:
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise DataError(
                f"{spec}: reading Parquet needs pyarrow: pip install 'clusterlab[parquet]'."
            ) from exc
        table = pq.read_table(spec)
        header = [str(c) for c in table.column_names]
        cols = [table.column(c).to_numpy(zero_copy_only=False) for c in table.column_names]
    else:
        header, cols, notes, delimiter = read_text_table(spec)
    return header, cols, notes, delimiter, labels


def _missing_message(name, columns, bad, exclude=True):
    parts = []
    for j in np.flatnonzero(bad.any(axis=0)):
        rows = np.flatnonzero(bad[:, j]) + 1
        shown = ", ".join(map(str, rows[:ROWS_SHOWN])) + (" ..." if len(rows) > ROWS_SHOWN
                                                           else "")
        parts.append(f"column {columns[j]!r} has missing or non-finite values in "
                     f"{len(rows)} row(s): {shown}")
    return (f"{name}: " + "; ".join(parts)
            + " (rows counted from 1, the first data row after the header). Fill them, "
            "or run with --missing drop (leave those rows out) or --missing impute (use each "
            "column's median)" + (", or leave the columns out with --exclude." if exclude
                                  else "."))


def _not_numbers_text(cells):
    """``column 'c' has 1 cell that is not a number: row 7 ('1.2.3')`` for
    every column of ``cells`` (``{column: [(row, text)]}``)."""
    parts = []
    for col, found in cells.items():
        shown = ", ".join(f"row {r} ({t[:20]!r})" for r, t in found[:ROWS_SHOWN])
        parts.append(f"column {col!r} has {len(found)} cell(s) that are not numbers: {shown}"
                     + (" ..." if len(found) > ROWS_SHOWN else ""))
    return "; ".join(parts)


def _unique_names(header):
    """``(names, renamed)``: a repeated name gets ``.2``, ``.3``, ... from its
    second occurrence on (a name never shadows another column), so that every
    column -- and a saved model's columns -- is found by its name;
    ``renamed`` lists ``(position, old, new)``."""
    seen = set(header)
    count, out, renamed = {}, [], []
    for i, h in enumerate(header):
        count[h] = count.get(h, 0) + 1
        if count[h] == 1:
            out.append(h)
            continue
        k = count[h]
        new = f"{h}.{k}"
        while new in seen:
            k += 1
            new = f"{h}.{k}"
        seen.add(new)
        out.append(new)
        renamed.append((i, h, new))
    return out, renamed


#: characters left out of column names: C0/C1 controls (a terminal escape
#: in a name reached stdout) and the bidirectional embeddings, overrides and
#: isolates (U+202E in a name reversed the report's own words around it)
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _printable(name):
    """``name`` without control and bidirectional characters, tabs and newlines
    as spaces, stripped (possibly empty: the caller names it then)."""
    return _UNPRINTABLE.sub("", name).replace("\t", " ").replace("\n", " ").strip()


def dataset_from_columns(header, cols, name, columns=None, exclude=None, label_column=None,
                         missing="error", y=None, notes=(), delimiter=None,
                         required_by=None):
    """Build a :class:`Dataset` from named columns (the common path of every reader).

    ``cols`` are sequences of equal length (strings or numbers). Non-numeric
    columns are left out (listed in ``dropped``) unless ``columns`` names them
    (an error). Missing or non-finite cells are handled by ``missing``:
    ``"error"`` raises :class:`DataError` naming every such column and its
    first rows, ``"drop"`` leaves those rows out, ``"impute"`` fills each cell
    with its column's median. Rows are numbered from 1 (the first data row).
    ``delimiter`` is a text table's field separator: any but a comma lets cells
    hold decimal commas, and a semicolon marks the locale whose dots group
    thousands (``7.804`` beside ``838`` is then refused as ambiguous).
    """
    decimal_comma = delimiter not in (None, ",")
    if missing not in MISSING_MODES:
        raise DataError(f"missing must be one of {', '.join(MISSING_MODES)}, got {missing!r}.")
    header, renamed = _unique_names([_printable(str(h)) or f"column_{i + 1}"
                                     for i, h in enumerate(header)])
    if renamed:
        notes = list(notes) + [
            "column names repeated in the header were made unique: "
            + ", ".join(f"the column {i + 1} {old!r} is called {new!r}"
                        for i, old, new in renamed[:5])
            + (" ..." if len(renamed) > 5 else "") + "."]
    n_rows = len(cols[0]) if cols else 0

    if isinstance(columns, str):  # one name, not its characters
        columns = [columns]
    if isinstance(exclude, str):
        exclude = [exclude]

    def resolve(col, what):
        # a name first (an int 0 names the column called "0", as pandas'
        # default names are written); a position only for a table of this
        # run, never for the columns a saved model was fitted on
        if str(col) in header:
            return header.index(str(col))
        if (not required_by and str(col).isdigit() and not isinstance(col, bool)
                and int(col) < len(header)):
            return int(col)
        shown = ", ".join(header[:20]) + (" ..." if len(header) > 20 else "")
        if required_by and what == "--columns":
            raise DataError(f"{name}: {required_by} needs a column {col!r}, which this table "
                            f"lacks (its columns: {shown}).")
        index = next((n for n in notes if "row index" in n), None)
        raise DataError(f"{name}: {what} {col!r} is not a column (columns: {shown})."
                        + (" The first column was left out as a row index; to use it, give it "
                           "a name in the header." if index else ""))

    label_idx = resolve(label_column, "--label-column") if label_column is not None else None
    if label_idx is not None:
        y = np.asarray(cols[label_idx])
    wanted = [resolve(c, "--columns") for c in columns] if columns else list(range(len(header)))
    twice = sorted({header[j] for j in wanted if wanted.count(j) > 1})
    if twice:
        raise DataError(f"{name}: the columns to use name {', '.join(map(repr, twice))} more "
                        "than once.")
    excluded = {resolve(c, "--exclude") for c in (exclude or [])}
    use, dropped, data, comma_cols, kept, grouping_cols = [], [], [], [], [], []
    boolean_cols = []
    cells = {}  # column -> [(row, text)] of cells that are not numbers in a numeric column
    for j in wanted:
        if j == label_idx or j in excluded:
            continue
        col, used_comma, not_numbers = _to_float_column(cols[j], decimal_comma)
        if not_numbers and col is not None:
            cells[header[j]] = [(int(i) + 1, str(cols[j][i]).strip()) for i in not_numbers]
        if col is None:
            why = _not_numeric(cols[j])
            if columns:
                raise DataError(f"{name}: column {header[j]!r} is {why}.")
            dropped.append((header[j], why))
            continue
        if (not columns and len(col) and isinstance(cols[j][0], str)
                and np.isnan(col).all() and not np.isinf(col).any()):
            # a text column with no value in any row (a trailing separator on
            # every line, say): nothing to fill, nothing to cluster on
            dropped.append((header[j], "empty"))
            continue
        if used_comma == "boolean":
            boolean_cols.append(header[j])
        elif used_comma == "grouping":
            grouping_cols.append(header[j])
        elif used_comma:
            comma_cols.append(header[j])
            grouped = _grouped_cells(cols[j], ",")
            if grouped:
                _refuse_ambiguous_grouping(name, header[j], grouped, ",", cols[j])
        use.append(header[j])
        data.append(col)
        kept.append(j)
    if comma_cols or delimiter == ";":  # dots may group thousands
        for j in kept:
            grouped = _grouped_cells(cols[j], ".")
            if grouped:
                _refuse_ambiguous_grouping(name, header[j], grouped, ".", cols[j])
    if not data:
        raise DataError(
            f"{name}: no numeric columns to cluster"
            + (f" (dropped: {', '.join(d for d, _ in dropped)})" if dropped else "")
            + "."
        )
    X = np.column_stack(data)
    if X.shape[0] == 0:
        raise DataError(f"{name}: the table has no rows.")
    notes = list(notes)
    if comma_cols:
        notes.append("decimal commas read as decimal points (in "
                     + ", ".join(comma_cols[:10]) + (" ..." if len(comma_cols) > 10 else "")
                     + ").")
    if boolean_cols:
        notes.append("true/false values read as 1 / 0 (in " + ", ".join(boolean_cols[:10])
                     + (" ..." if len(boolean_cols) > 10 else "") + "); leave such a column "
                     "out (--exclude) if it is not a property to cluster on.")
    if grouping_cols:
        notes.append("commas grouping thousands (1,234.50) were removed (in "
                     + ", ".join(grouping_cols[:10]) + (" ..." if len(grouping_cols) > 10
                                                        else "")
                     + ").")
    row_numbers = np.arange(1, n_rows + 1)
    handled = None
    if cells:
        text = _not_numbers_text(cells)
        if missing == "error":
            raise DataError(
                f"{name}: {text} (rows counted from 1, the first data row after the header). "
                "Correct them, or run with --missing drop (leave those rows out) or --missing "
                "impute (use each column's median)"
                + (", or leave the columns out with --exclude." if not required_by else "."))
        notes.append(f"{text}: handled as missing cells (--missing {missing}).")
    bad = ~np.isfinite(X)
    if bad.any():
        bad_cols = {use[j]: int(bad[:, j].sum()) for j in np.flatnonzero(bad.any(axis=0))}
        if missing == "error":
            raise DataError(_missing_message(name, use, bad, exclude=not required_by))
        if missing == "drop":
            keep = ~bad.any(axis=1)
            if not keep.any():
                raise DataError(f"{name}: every row has a missing value; --missing drop "
                                "leaves nothing (try --missing impute or --exclude).")
            X, row_numbers = X[keep], row_numbers[keep]
            y = None if y is None else np.asarray(y)[keep]
            dropped_rows = np.flatnonzero(~keep) + 1
            handled = {"mode": "drop", "columns": bad_cols, "rows": dropped_rows.tolist()}
            notes.append(
                f"{len(dropped_rows)} row(s) with missing or non-finite values left out "
                f"(--missing drop): "
                + ", ".join(map(str, dropped_rows[:ROWS_SHOWN]))
                + (" ..." if len(dropped_rows) > ROWS_SHOWN else "") + ".")
        else:
            for j in np.flatnonzero(bad.any(axis=0)):
                ok = ~bad[:, j]
                if not ok.any():
                    raise DataError(f"{name}: column {use[j]!r} has no value at all; "
                                    "--missing impute cannot fill it (use --exclude).")
                X[~ok, j] = np.median(X[ok, j])
            handled = {"mode": "impute", "columns": bad_cols}
            notes.append(
                f"{int(bad.sum())} missing or non-finite cell(s) filled with their column's "
                "median (--missing impute): "
                + ", ".join(f"{c} ({k})" for c, k in list(bad_cols.items())[:10])
                + (" ..." if len(bad_cols) > 10 else "") + ".")
    return Dataset(X=X, columns=use, name=name, y=y, label_column=label_column,
                   dropped=dropped, row_numbers=row_numbers, notes=notes, missing=handled)


def load_dataset(spec=None, columns=None, exclude=None, label_column=None, missing="error",
                 required_by=None):
    """Load a built-in data set or a file into a :class:`Dataset`.

    Parameters
    ----------
    spec : str or None
        Path to a CSV/TSV/Parquet/NPY/NPZ file, or a built-in name
        (``five-blobs``, ``elongated-blobs``, ``moons``, ``iris``, ``digits``;
        an existing file of that name is read instead); ``None`` means
        ``five-blobs``. A ``.npz`` archive gives its array ``X`` (else its
        first) and its 1-D arrays of as many rows as further columns, one
        called ``y``, ``labels``, ``label``, ``target`` or ``classes`` being
        the known labels (:data:`LABEL_ARRAYS`). Text tables may be UTF-8 (with or
        without a byte-order mark), UTF-16 or UTF-32 (Excel's "Unicode
        text"), cp1252 or latin-1, separated by commas,
        semicolons (decimal commas then accepted), tabs or vertical bars,
        with quoted fields.
    columns : list of str, optional
        Use only these columns (names, or 0-based indices as strings).
    exclude : list of str, optional
        Leave these columns out.
    label_column : str, optional
        A column kept out of the fit and used to score the clusterings.
    missing : {"error", "drop", "impute"}, default="error"
        What to do with empty, NaN or infinite cells (see
        :func:`dataset_from_columns`).
    required_by : str, optional
        Who needs ``columns`` (for the message when one is missing, e.g.
        ``"the saved model"``).
    """
    from clusterlab.datasets import BUILTIN

    spec = "five-blobs" if spec is None else os.fspath(spec)
    if spec in BUILTIN and not os.path.isfile(spec):  # a file of that name is read
        X, y = BUILTIN[spec]()
        X = np.asarray(X, dtype=float)
        header = [f"x{i + 1}" for i in range(X.shape[1])]
        cols = [X[:, j] for j in range(X.shape[1])]
        ds = dataset_from_columns(header, cols, spec, columns=columns, exclude=exclude,
                                  label_column=label_column, missing=missing,
                                  y=None if label_column else np.asarray(y),
                                  required_by=required_by)
        ds.source = spec
        return ds
    if not os.path.exists(spec):
        raise DataError(
            f"{spec}: no such file, and not a built-in data set "
            f"(built-in: {', '.join(sorted(BUILTIN))})."
        )
    if os.path.isdir(spec):
        raise DataError(f"{spec}: is a folder; pass a data file.")
    try:
        header, cols, notes, delimiter, labels = _read_file(spec)
    except DataError:
        raise
    except MemoryError as exc:
        raise DataError(f"{spec}: the file does not fit in memory.") from exc
    except ValueError as exc:
        if "allow_pickle" not in str(exc):
            raise DataError(f"{spec}: could not read the file: ValueError: {exc}") from exc
        raise DataError(
            f"{spec}: the array holds Python objects (a pickle), not numbers; clusterlab does "
            "not unpickle files, which can run code. Save a numeric array "
            "(e.g. np.save(path, X.astype(float))).") from exc
    except Exception as exc:  # any reader failure is the file's problem, never a traceback
        raise DataError(f"{spec}: could not read the file: {type(exc).__name__}: {exc}") from exc
    if label_column is None and labels is not None and not (columns and labels in columns):
        label_column = labels
    ds = dataset_from_columns(header, cols, spec, columns=columns, exclude=exclude,
                              label_column=label_column, missing=missing, notes=notes,
                              delimiter=delimiter, required_by=required_by)
    # the file's name as printed and shown (a name can hold terminal escapes)
    ds.name, ds.source = _printable(os.path.basename(spec)) or "data", spec
    return ds


def _array_columns(data):
    """``(header, cols)`` of an array-like: a 2-D array's columns ``x1``,
    ``x2``, ...; a structured array's fields; a masked array's masked cells
    missing (NaN). Types the analysis does not take are refused with what to
    pass instead."""
    from scipy import sparse

    if sparse.issparse(data):
        raise DataError("a sparse matrix: the analysis needs dense rows; pass "
                        "data.toarray() (when it fits in memory).")
    if isinstance(data, dict):
        raise DataError("a dict: pass pandas.DataFrame(data), or a 2-D array.")
    if np.ma.isMaskedArray(data):
        try:
            data = np.ma.asarray(data, dtype=float).filled(np.nan)
        except (TypeError, ValueError) as exc:
            raise DataError(f"a masked array that is not numeric ({exc}).") from exc
    try:
        arr = np.asarray(data)
    except ValueError as exc:  # ragged nested lists
        raise DataError(f"not a table: its rows differ in length ({exc}).") from exc
    if arr.dtype.names:  # a structured (record) array: its fields are the columns
        if arr.ndim != 1:
            raise DataError(f"expected a 1-D structured array, got shape {arr.shape}.")
        return list(arr.dtype.names), [arr[n] for n in arr.dtype.names]
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise DataError(f"expected a 2-D array or a DataFrame, got {type(data).__name__} "
                        f"of shape {arr.shape}.")
    return [f"x{i + 1}" for i in range(arr.shape[1])], [arr[:, j] for j in range(arr.shape[1])]


def dataset_from_data(data, columns=None, exclude=None, label_column=None, missing="error",
                      y=None, name=None):
    """A :class:`Dataset` from a path, built-in name, NumPy array or pandas DataFrame."""
    if y is not None and label_column is not None:
        raise DataError("give the known labels once: as y or as label_column, not both.")
    if data is None or isinstance(data, (str, os.PathLike)):
        if y is not None:
            raise DataError("y goes with an array or a DataFrame; for a file or a built-in "
                            "data set, name the column of known labels with label_column.")
        return load_dataset(data, columns=columns, exclude=exclude, label_column=label_column,
                            missing=missing)
    if hasattr(data, "columns") and hasattr(data, "iloc"):  # a pandas DataFrame
        header = [str(c) for c in data.columns]
        cols = [data.iloc[:, j].to_numpy() for j in range(data.shape[1])]
        name = name or "DataFrame"
    elif hasattr(data, "to_frame") and hasattr(data, "iloc"):  # a pandas Series
        return dataset_from_data(data.to_frame(), columns=columns, exclude=exclude,
                                 label_column=label_column, missing=missing, y=y, name=name)
    else:
        header, cols = _array_columns(data)
        name = name or "array"
    if y is not None:
        y = _checked_y(y, len(cols[0]) if cols else 0, name)
    return dataset_from_columns(header, cols, name, columns=columns, exclude=exclude,
                                label_column=label_column, missing=missing, y=y)


def _checked_y(y, n_rows, name):
    """Known labels ``y`` as a 1-D array of ``n_rows`` entries (a column vector
    or a one-column DataFrame is flattened, as scikit-learn does); else a
    :class:`DataError` naming ``y``."""
    if hasattr(y, "to_numpy"):  # a pandas Series or DataFrame
        y = y.to_numpy()
    if isinstance(y, (str, bytes, dict)) or not hasattr(y, "__len__"):
        raise DataError(f"y must hold one known label per row ({n_rows} of them), got "
                        f"{type(y).__name__}.")
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise DataError(f"y must be 1-D: one known label per row, got shape {y.shape}.")
    if len(y) != n_rows:
        raise DataError(f"{name}: y has {len(y)} entries for {n_rows} rows.")
    return y
