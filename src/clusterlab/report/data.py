"""Reading the data ``clusterlab analyze`` is given.

Accepted: CSV/TSV (header detected; UTF-8 with or without a byte-order mark,
UTF-16 or UTF-32 (by their byte-order mark; UTF-16 of ASCII text also without
one), else cp1252 or latin-1; separated by commas, semicolons with decimal commas,
tabs or vertical bars; quoted fields), Parquet (needs ``pyarrow``), ``.npy`` /
``.npz``, a built-in data set name, or (from Python) an array or DataFrame.
Every problem is raised as :class:`DataError` with a message that names the
file and says what is wrong (missing file, no numeric columns, missing cells
in which columns and rows, ...). Rows are always counted from 1, the first
data row after the header.
"""

import codecs
import csv
import io
import os
import re
from dataclasses import dataclass, field

import numpy as np


class DataError(ValueError):
    """The data cannot be analysed as given; the message says why and where."""


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


def _is_float(text):
    try:
        float(text)
        return True
    except (TypeError, ValueError):
        return False


#: Encodings tried in order on a text table; latin-1 decodes any byte, so it
#: is the last resort (and the report says when it was needed).
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")

#: Field separators recognised in text tables, in order of preference when
#: several split every line into the same number of fields (a ``;`` file with
#: decimal commas also splits evenly on ``,``).
DELIMITERS = ("\t", ";", ",", "|")

_MISSING_TOKENS = frozenset(("", "nan", "na", "n/a", "null", "none", "?", "-", "#n/a"))
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d+(,\d*)?|,\d+)([eE][+-]?\d+)?$")


#: Byte-order marks of the wide Unicode encodings (UTF-32 first: its
#: little-endian mark begins with UTF-16's). Excel's "Unicode text" export is
#: UTF-16 with a mark.
_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
              (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _wide_encoding(raw):
    """UTF-16/32 by its byte-order mark, or UTF-16 without one when every
    other byte of the start is zero (ASCII text); None otherwise."""
    for bom, enc in _WIDE_BOMS:
        if raw.startswith(bom):
            return enc
    head = raw[:4096]
    head = head[:len(head) - len(head) % 2]
    if len(head) >= 8:
        even, odd = head[0::2], head[1::2]
        if not any(odd) and all(even):
            return "utf-16-le"
        if not any(even) and all(odd):
            return "utf-16-be"
    return None


def _decode(path):
    """Return ``(text, encoding, note)``: the file decoded with the first encoding that works."""
    with open(path, "rb") as fh:
        raw = fh.read()
    wide = _wide_encoding(raw)
    if wide is not None:
        try:
            text = raw.decode(wide)
        except UnicodeDecodeError as exc:
            text, why = None, f"{exc.reason} at byte {exc.start}"
        else:  # other bytes read as UTF-16 give one long line of unrelated characters
            why = None if ("\n" in text or "\r" in text) else "no line breaks in it"
        if why is not None:
            raise DataError(f"{path}: the file starts like {wide.upper()} text but does not "
                            f"decode as it ({why}). Save it as UTF-8 text.")
        return text, wide, f"the file is {wide.upper()} text; it was read as such."
    if b"\x00" in raw[:4096]:
        raise DataError(f"{path}: this looks like a binary file, not a text table "
                        "(CSV/TSV, Parquet, .npy or .npz are read).")
    for enc in ENCODINGS:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        note = None
        if enc != "utf-8-sig":
            note = (f"the file is not valid UTF-8; it was read as {enc} "
                    f"({'Windows Western European' if enc == 'cp1252' else 'ISO Latin-1'}).")
        return text, ("utf-8" if enc == "utf-8-sig" else enc), note
    raise DataError(f"{path}: the file could not be decoded as text.")  # pragma: no cover


def _split(lines, delimiter):
    return [row for row in csv.reader(lines, delimiter=delimiter, skipinitialspace=True) if row]


#: characters of the file's start the csv sniffer sees: its search for quoted
#: fields takes time quadratic in its sample (a 500 kB line of quotes took
#: minutes), and the separator shows in the first lines
SNIFF_CHARS = 4096


def _choose_delimiter(path, text):
    """The separator that splits the first lines into a constant number (>= 2) of fields.

    The csv module's sniffer proposes one; the proposal is kept when it splits
    the lines evenly, except that ``;`` or a tab beats ``,`` when both split
    evenly (decimal commas). A single-column file gives ``","``.
    """
    lines = text.splitlines()[:200]
    if path.lower().endswith((".tsv", ".tab")):
        return "\t"

    def even(delim):
        try:
            widths = {len(r) for r in _split(lines, delim)}
        except csv.Error:
            return False
        return len(widths) == 1 and widths.pop() >= 2

    candidates = [d for d in DELIMITERS if even(d)]
    sample = "\n".join(lines[:50])
    if len(sample) > SNIFF_CHARS:  # the sniffer's quote search is quadratic in its sample
        cut = sample.rfind("\n", 0, SNIFF_CHARS)
        sample = sample[:cut] if cut > 0 else sample[:SNIFF_CHARS]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS))
        sniffed = sniffed.delimiter
    except csv.Error:
        sniffed = None
    if sniffed in candidates and not (sniffed == "," and {";", "\t"} & set(candidates)):
        return sniffed
    if candidates:
        return candidates[0]
    if sniffed:
        return sniffed
    if not any(d in text for d in DELIMITERS) and " " in text.strip():
        return " "
    return ","


def _read_text_table(path):
    """Return ``(header, columns_as_lists_of_str, notes, delimiter)`` for a CSV/TSV file."""
    text, encoding, enc_note = _decode(path)
    notes = [enc_note] if enc_note else []
    # comment lines above the table ("# exported by ...")
    lines = text.splitlines(keepends=True)
    n_comments = 0
    while n_comments < len(lines) and lines[n_comments].lstrip().startswith("#"):
        n_comments += 1
    if n_comments:
        text = "".join(lines[n_comments:])
        notes.append(f"{n_comments} comment line(s) starting with '#' above the table were "
                     "skipped.")
    delimiter = _choose_delimiter(path, text)
    # the csv module's default limit (131072 characters a field) stops a whole read
    # over one long text cell, which may well be left out anyway
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    try:
        rows = [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                                          skipinitialspace=True)
                if row and any(c.strip() for c in row)]
    except csv.Error as exc:
        raise DataError(f"{path}: not a readable table: {exc}.") from exc
    if not rows:
        raise DataError(f"{path}: the file is empty.")
    width = len(rows[0])
    has_header = _has_header(rows)
    index_name = None
    if has_header:
        index_name = rows[0][0].strip()
        header = [h.strip() or f"column_{i + 1}" for i, h in enumerate(rows[0])]
        rows = rows[1:]
    else:
        header = [f"x{i + 1}" for i in range(width)]
    bad = [(i + 1, len(row)) for i, row in enumerate(rows) if len(row) != width]
    if bad:
        shown = ", ".join(f"row {r} has {w}" for r, w in bad[:5])
        raise DataError(
            f"{path}: every row must have {width} fields (separator "
            f"{_DELIM_NAMES.get(delimiter, repr(delimiter))}), but {shown}"
            + (f" (and {len(bad) - 5} more rows)" if len(bad) > 5 else "")
            + "; rows are counted from 1, the first data row after the header."
        )
    cols = [list(c) for c in zip(*rows)] if rows else [[] for _ in header]
    if (index_name is not None and index_name.lower() in _INDEX_NAMES and width > 1
            and _is_row_index(cols[0])):
        what = f"the first column, {index_name!r}," if index_name else (
            "the first column has no name and")
        notes.append(f"{what} numbers the rows {cols[0][0].strip()}, "
                     f"{int(cols[0][0]) + 1}, ... (a row index, as pandas' to_csv and R's "
                     "write.csv write it); it was left out.")
        header, cols = header[1:], cols[1:]
    if delimiter != ",":
        notes.append(f"fields separated by {_DELIM_NAMES.get(delimiter, repr(delimiter))}.")
    return header, cols, notes, delimiter


def known_labels(y):
    """Boolean mask of the entries of a label column that hold a label: not
    None, NaN, or an empty or missing-value cell (``NA``, ``?``, ...)."""
    y = np.asarray(y)
    if y.dtype.kind == "f":
        return ~np.isnan(y)
    if y.dtype.kind in "biu":
        return np.ones(len(y), dtype=bool)
    return np.array([not (v is None or (isinstance(v, float) and v != v)
                          or str(v).strip().lower() in _MISSING_TOKENS) for v in y],
                    dtype=bool)


def _number(cell):
    """Whether a cell reads as a number (a decimal comma accepted)."""
    return _is_float(cell) or _is_float(cell.replace(",", "."))


def _blank(cell):
    """Whether a cell is empty or a missing-value token (``NA``, ``?``, ...)."""
    return cell.strip().lower() in _MISSING_TOKENS


def _integer_token(cell):
    return _INTEGER.match(cell.strip()) is not None


#: rows below the first that :func:`_has_header` looks at
HEADER_SAMPLE_ROWS = 200


def _has_header(rows):
    """Whether the first row names the columns.

    * A first row of numbers (empty or missing-value cells aside) is data.
    * Otherwise it is a header when a cell of it that is neither a number nor
      missing stands above a number, when no cell of it is a number, or when
      it is the only row.
    * Else (its text cells stand above text, its other cells are numbers) the
      numbers decide, as the csv module's sniffer does: an integer above a
      column whose values all have decimals (``2019`` above ``1.25``) counts
      for a header, an integer above integers or a decimal above decimals
      against; the majority wins, a tie is data.
    """
    first = rows[0]
    numeric = [_number(c) for c in first]
    blank = [_blank(c) for c in first]
    if all(n or b for n, b in zip(numeric, blank)):
        return False
    if len(rows) == 1 or not any(numeric):
        return True
    below = rows[1:1 + HEADER_SAMPLE_ROWS]
    votes = 0
    for j, cell in enumerate(first):
        cells = [r[j] for r in below if j < len(r) and not _blank(r[j])]
        if not cells:
            continue
        if not numeric[j]:
            if not blank[j] and _number(cells[0]):
                return True
            continue
        if not all(_number(c) for c in cells):
            continue
        ints = [_integer_token(c) for c in cells]
        if _integer_token(cell):
            votes += 1 if not any(ints) else -1 if all(ints) else 0
        else:
            votes += -1 if not any(ints) else 0
    return votes > 0


_INTEGER = re.compile(r"^[+-]?\d+$")


#: header names of a leading row-index column (pandas writes "", R ""; after
#: a round trip through pandas "Unnamed: 0")
_INDEX_NAMES = frozenset(("", "unnamed: 0", "index"))


def _is_row_index(cells):
    """Whether the cells read 0, 1, 2, ... or 1, 2, 3, ... in order."""
    if not cells:
        return False
    first = cells[0].strip()
    if first not in ("0", "1"):
        return False
    start = int(first)
    return all(c.strip() == str(start + i) for i, c in enumerate(cells))


_DELIM_NAMES = {"\t": "tabs", ";": "semicolons", ",": "commas", "|": "vertical bars",
                " ": "spaces"}


def _columns_from_arrays(arrays):
    return list(arrays.keys()), [np.asarray(a) for a in arrays.values()]


#: a column is numeric with a few bad cells (a typo, a stray character), not a
#: text column, when at least this share of its non-missing cells are numbers
MOSTLY_NUMERIC = 0.9


def _to_float_column(values, decimal_comma=False):
    """Convert a column to float (missing cells NaN).

    Returns ``(column, used_decimal_comma, bad)``: ``bad`` lists the rows
    (0-based) whose non-missing cell is not a number, NaN in ``column``; a
    column where fewer than :data:`MOSTLY_NUMERIC` of the non-missing cells
    are numbers is text: ``(None, False, bad)``.
    """
    arr = np.asarray(values)
    if arr.dtype.kind in "biuf":
        return arr.astype(float), False, []
    out = np.empty(len(arr), dtype=float)
    used_comma = False
    bad, filled = [], 0
    for i, v in enumerate(arr):
        if v is None or (isinstance(v, float) and v != v):
            out[i] = np.nan
            continue
        s = str(v).strip()
        if s.lower() in _MISSING_TOKENS:
            out[i] = np.nan
            continue
        filled += 1
        try:
            out[i] = float(s)
        except ValueError:
            if decimal_comma and _DECIMAL_COMMA.match(s):
                out[i] = float(s.replace(",", "."))
                used_comma = True
            else:
                out[i] = np.nan
                bad.append(i)
                # give up early on a text column
                if len(bad) > (1.0 - MOSTLY_NUMERIC) * len(arr) + 1:
                    return None, False, bad
    if bad and len(bad) > (1.0 - MOSTLY_NUMERIC) * filled:
        return None, False, bad
    return out, used_comma, bad


#: What ``--missing`` accepts: stop (the default), drop the rows, or fill each
#: missing cell with its column's median.
MISSING_MODES = ("error", "drop", "impute")

#: Rows named in an error message, per column.
ROWS_SHOWN = 5


#: names of a 1-D array of an ``.npz`` archive taken as the known labels
#: (``np.savez(path, X=X, y=y)``, scikit-learn's convention)
LABEL_ARRAYS = ("y", "labels", "label", "target", "classes")


def _read_file(spec):
    """Return ``(header, cols, notes, decimal_comma, labels)`` for a data file:
    ``labels`` names the column of known labels a ``.npz`` archive holds
    beside its data (a 1-D array called one of :data:`LABEL_ARRAYS`), else None."""
    lower = spec.lower()
    notes, decimal_comma, labels = [], False, None
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
            return header, cols, notes, decimal_comma, labels
        if arr.dtype.kind == "c":
            raise DataError(f"{spec}: the array holds complex numbers; save the real and "
                            "imaginary parts as columns (np.column_stack([z.real, z.imag])).")
        arr = arr.reshape(-1, 1) if arr.ndim == 1 else arr
        if arr.ndim != 2:
            raise DataError(f"{spec}: expected a 2-D array, got shape {arr.shape}.")
        header = [f"x{i + 1}" for i in range(arr.shape[1])]
        cols = [arr[:, j] for j in range(arr.shape[1])]
    elif lower.endswith(".npz"):
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
        header, cols, notes, delimiter = _read_text_table(spec)
        decimal_comma = delimiter != ","
    return header, cols, notes, decimal_comma, labels


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


def dataset_from_columns(header, cols, name, columns=None, exclude=None, label_column=None,
                         missing="error", y=None, notes=(), decimal_comma=False,
                         required_by=None):
    """Build a :class:`Dataset` from named columns (the common path of every reader).

    ``cols`` are sequences of equal length (strings or numbers). Non-numeric
    columns are left out (listed in ``dropped``) unless ``columns`` names them
    (an error). Missing or non-finite cells are handled by ``missing``:
    ``"error"`` raises :class:`DataError` naming every such column and its
    first rows, ``"drop"`` leaves those rows out, ``"impute"`` fills each cell
    with its column's median. Rows are numbered from 1 (the first data row).
    """
    if missing not in MISSING_MODES:
        raise DataError(f"missing must be one of {', '.join(MISSING_MODES)}, got {missing!r}.")
    header, renamed = _unique_names([str(h) for h in header])
    if renamed:
        notes = list(notes) + [
            "column names repeated in the header were made unique: "
            + ", ".join(f"the column {i + 1} {old!r} is called {new!r}"
                        for i, old, new in renamed[:5])
            + (" ..." if len(renamed) > 5 else "") + "."]
    n_rows = len(cols[0]) if cols else 0

    def resolve(col, what):
        if col in header:
            return header.index(col)
        if str(col).isdigit() and int(col) < len(header):
            return int(col)
        shown = ", ".join(header[:20]) + (" ..." if len(header) > 20 else "")
        if required_by and what == "--columns":
            raise DataError(f"{name}: {required_by} needs a column {col!r}, which this table "
                            f"lacks (its columns: {shown}).")
        raise DataError(f"{name}: {what} {col!r} is not a column (columns: {shown}).")

    label_idx = resolve(label_column, "--label-column") if label_column else None
    if label_idx is not None:
        y = np.asarray(cols[label_idx])
    wanted = [resolve(c, "--columns") for c in columns] if columns else list(range(len(header)))
    excluded = {resolve(c, "--exclude") for c in (exclude or [])}
    use, dropped, data, comma_cols = [], [], [], []
    cells = {}  # column -> [(row, text)] of cells that are not numbers in a numeric column
    for j in wanted:
        if j == label_idx or j in excluded:
            continue
        col, used_comma, not_numbers = _to_float_column(cols[j], decimal_comma)
        if not_numbers and col is not None:
            cells[header[j]] = [(int(i) + 1, str(cols[j][i]).strip()) for i in not_numbers]
        if col is None:
            if columns:
                raise DataError(f"{name}: column {header[j]!r} is not numeric.")
            dropped.append((header[j], "not numeric"))
            continue
        if (not columns and len(col) and isinstance(cols[j][0], str)
                and np.isnan(col).all() and not np.isinf(col).any()):
            # a text column with no value in any row (a trailing separator on
            # every line, say): nothing to fill, nothing to cluster on
            dropped.append((header[j], "empty"))
            continue
        if used_comma:
            comma_cols.append(header[j])
        use.append(header[j])
        data.append(col)
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
        header, cols, notes, decimal_comma, labels = _read_file(spec)
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
                              decimal_comma=decimal_comma, required_by=required_by)
    ds.name, ds.source = os.path.basename(spec), spec
    return ds


def dataset_from_data(data, columns=None, exclude=None, label_column=None, missing="error",
                      y=None, name=None):
    """A :class:`Dataset` from a path, built-in name, NumPy array or pandas DataFrame."""
    if data is None or isinstance(data, (str, os.PathLike)):
        return load_dataset(data, columns=columns, exclude=exclude, label_column=label_column,
                            missing=missing)
    if hasattr(data, "columns") and hasattr(data, "iloc"):  # a pandas DataFrame
        header = [str(c) for c in data.columns]
        cols = [data.iloc[:, j].to_numpy() for j in range(data.shape[1])]
        name = name or "DataFrame"
    else:
        arr = np.asarray(data)
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1)
        if arr.ndim != 2:
            raise DataError(f"expected a 2-D array or a DataFrame, got shape {arr.shape}.")
        header = [f"x{i + 1}" for i in range(arr.shape[1])]
        cols = [arr[:, j] for j in range(arr.shape[1])]
        name = name or "array"
    if y is not None and len(y) != (len(cols[0]) if cols else 0):
        raise DataError(f"{name}: y has {len(y)} entries for {len(cols[0])} rows.")
    return dataset_from_columns(header, cols, name, columns=columns, exclude=exclude,
                                label_column=label_column, missing=missing,
                                y=None if y is None else np.asarray(y))
