"""Reading the data ``clusterlab analyze`` is given.

Accepted: CSV/TSV (header detected), Parquet (needs ``pyarrow``), ``.npy`` /
``.npz``, or a built-in data set name. Every problem is raised as
:class:`DataError` with a message that names the file and says what is wrong
(missing file, no numeric columns, NaN in a column and in which rows, ...).
"""

import csv
import os
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


def _read_text_table(path):
    """Return ``(header, columns_as_lists_of_str)`` for a CSV/TSV file."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        sample = fh.read(65536)
        fh.seek(0)
        if path.lower().endswith((".tsv", ".tab")):
            delimiter = "\t"
        else:
            try:
                delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t ").delimiter
            except csv.Error:
                delimiter = ","
        rows = [row for row in csv.reader(fh, delimiter=delimiter) if row]
    if not rows:
        raise DataError(f"{path}: the file is empty.")
    width = len(rows[0])
    first_numeric = [_is_float(c) for c in rows[0]]
    has_header = not all(first_numeric) and (
        len(rows) == 1 or any(not f and _is_float(c) for f, c in zip(first_numeric, rows[1]))
        or not any(first_numeric)
    )
    if has_header:
        header = [h.strip() or f"column_{i}" for i, h in enumerate(rows[0])]
        rows = rows[1:]
    else:
        header = [f"x{i}" for i in range(width)]
    for i, row in enumerate(rows):
        if len(row) != width:
            raise DataError(
                f"{path}: row {i + 1 + has_header} has {len(row)} fields, expected {width}."
            )
    cols = [list(c) for c in zip(*rows)] if rows else [[] for _ in header]
    return header, cols


def _columns_from_arrays(arrays):
    return list(arrays.keys()), [np.asarray(a) for a in arrays.values()]


def _to_float_column(values):
    """Convert a column to float; return None if any non-empty cell is not a number."""
    arr = np.asarray(values)
    if arr.dtype.kind in "biuf":
        return arr.astype(float)
    if arr.dtype.kind == "b":
        return arr.astype(float)
    out = np.empty(len(arr), dtype=float)
    for i, v in enumerate(arr):
        s = str(v).strip()
        if s == "" or s.lower() in ("nan", "na", "null", "none"):
            out[i] = np.nan
            continue
        try:
            out[i] = float(s)
        except ValueError:
            return None
    return out


def load_dataset(spec=None, columns=None, exclude=None, label_column=None):
    """Load a built-in data set or a file into a :class:`Dataset`.

    Parameters
    ----------
    spec : str or None
        Path to a CSV/TSV/Parquet/NPY/NPZ file, or a built-in name
        (``five-blobs``, ``elongated-blobs``, ``moons``, ``iris``, ``digits``);
        ``None`` means ``five-blobs``.
    columns : list of str, optional
        Use only these columns (names, or 0-based indices as strings).
    exclude : list of str, optional
        Leave these columns out.
    label_column : str, optional
        A column kept out of the fit and used to score the clusterings.
    """
    from clusterlab.datasets import BUILTIN

    spec = "five-blobs" if spec is None else str(spec)
    y = None
    if spec in BUILTIN:
        X, y = BUILTIN[spec]()
        X = np.asarray(X, dtype=float)
        header = [f"x{i + 1}" for i in range(X.shape[1])]
        cols = [X[:, j] for j in range(X.shape[1])]
        if label_column is None:
            label_column = "__builtin_target__"
            header.append(label_column)
            cols.append(np.asarray(y))
    else:
        if not os.path.exists(spec):
            raise DataError(
                f"{spec}: no such file, and not a built-in data set "
                f"(built-in: {', '.join(sorted(BUILTIN))})."
            )
        if os.path.isdir(spec):
            raise DataError(f"{spec}: is a folder; pass a data file.")
        lower = spec.lower()
        try:
            if lower.endswith(".npy"):
                arr = np.load(spec, allow_pickle=False)
                arr = arr.reshape(-1, 1) if arr.ndim == 1 else arr
                if arr.ndim != 2:
                    raise DataError(f"{spec}: expected a 2-D array, got shape {arr.shape}.")
                header = [f"x{i + 1}" for i in range(arr.shape[1])]
                cols = [arr[:, j] for j in range(arr.shape[1])]
            elif lower.endswith(".npz"):
                with np.load(spec, allow_pickle=False) as z:
                    key = "X" if "X" in z.files else z.files[0]
                    arr = z[key]
                    extra = {k: z[k] for k in z.files if k != key}
                arr = arr.reshape(-1, 1) if arr.ndim == 1 else arr
                if arr.ndim != 2:
                    raise DataError(f"{spec}: expected a 2-D array, got shape {arr.shape}.")
                header = [f"x{i + 1}" for i in range(arr.shape[1])]
                cols = [arr[:, j] for j in range(arr.shape[1])]
                for k, v in extra.items():
                    if v.ndim == 1 and len(v) == arr.shape[0]:
                        header.append(k)
                        cols.append(v)
            elif lower.endswith((".parquet", ".pq")):
                try:
                    import pyarrow.parquet as pq
                except ImportError as exc:
                    raise DataError(
                        f"{spec}: reading Parquet needs pyarrow: "
                        f"pip install 'clusterlab[parquet]'."
                    ) from exc
                table = pq.read_table(spec)
                header = list(table.column_names)
                cols = [table.column(c).to_numpy(zero_copy_only=False) for c in header]
            else:
                header, cols = _read_text_table(spec)
        except DataError:
            raise
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise DataError(f"{spec}: could not read the file: {exc}") from exc

    def resolve(name, what):
        if name in header:
            return header.index(name)
        if str(name).isdigit() and int(name) < len(header):
            return int(name)
        raise DataError(f"{spec}: {what} {name!r} is not a column (columns: {', '.join(header)}).")

    label_idx = resolve(label_column, "--label-column") if label_column else None
    if label_idx is not None:
        y = np.asarray(cols[label_idx])
    wanted = [resolve(c, "--columns") for c in columns] if columns else list(range(len(header)))
    excluded = {resolve(c, "--exclude") for c in (exclude or [])}
    use, dropped, data = [], [], []
    for j in wanted:
        if j == label_idx or j in excluded:
            continue
        col = _to_float_column(cols[j])
        if col is None:
            if columns:
                raise DataError(f"{spec}: column {header[j]!r} is not numeric.")
            dropped.append((header[j], "not numeric"))
            continue
        use.append(header[j])
        data.append(col)
    if not data:
        raise DataError(
            f"{spec}: no numeric columns to cluster"
            + (f" (dropped: {', '.join(d for d, _ in dropped)})" if dropped else "")
            + "."
        )
    X = np.column_stack(data)
    if X.shape[0] == 0:
        raise DataError(f"{spec}: the table has no rows.")
    bad = ~np.isfinite(X)
    if bad.any():
        j = int(np.flatnonzero(bad.any(axis=0))[0])
        rows = np.flatnonzero(bad[:, j]) + 1
        shown = ", ".join(map(str, rows[:10])) + (" ..." if len(rows) > 10 else "")
        raise DataError(
            f"{spec}: column {use[j]!r} has missing or non-finite values in "
            f"{len(rows)} row(s): {shown} (rows counted from 1 after the header); "
            "fill or drop them, or leave the column out with --exclude."
        )
    name = spec if spec in BUILTIN else os.path.basename(spec)
    return Dataset(X=X, columns=use, name=name, y=y,
                   label_column=None if label_column == "__builtin_target__" else label_column,
                   dropped=dropped)
