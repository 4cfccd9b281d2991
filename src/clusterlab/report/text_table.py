"""Reading a text table: decompressing it, finding its encoding and its
separator, telling a header from data, and leaving out what exporters add
around the data (comment lines, a row index, rows of empty cells at the end).

:func:`read_text_table` returns the header and the columns as text;
:mod:`clusterlab.report.data` turns them into numbers and a :class:`Dataset`.
"""

import codecs
import csv
import io
import re


class DataError(ValueError):
    """The data cannot be analysed as given; the message says why and where."""


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

#: cells that mean "missing" (case aside)
MISSING_TOKENS = frozenset(("", "nan", "na", "n/a", "null", "none", "?", "-", "#n/a", "<na>"))

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


#: compressed files read transparently: (magic bytes, module, name)
_COMPRESSED = ((b"\x1f\x8b", "gzip", "gzip"), (b"BZh", "bz2", "bzip2"),
               (b"\xfd7zXZ\x00", "lzma", "xz"))
#: extensions a compressed text table's name may end with after its own
COMPRESSED_SUFFIXES = (".gz", ".bz2", ".xz", ".zip")


#: the most a compressed table may hold once decompressed: reading text takes
#: tens of times its size in memory, so beyond this the read would fail far
#: less clearly (a decompression bomb would take the machine's memory)
MAX_DECOMPRESSED = 256 * 2 ** 20


def _bounded(path, data, name):
    """``data`` (read as ``stream.read(MAX_DECOMPRESSED + 1)``), refused when
    the archive held more than :data:`MAX_DECOMPRESSED` bytes."""
    if len(data) > MAX_DECOMPRESSED:
        raise DataError(f"{path}: the {name} archive holds more than "
                        f"{MAX_DECOMPRESSED // 2 ** 20} MB of text; a table that large is better "
                        "given as .npy or Parquet (its text would take tens of times that in "
                        "memory).")
    return data


def _uncompressed(path, raw):
    """``(raw, note)``: the bytes of a gzip, bzip2, xz or one-file zip archive
    decompressed (with a note saying so), other bytes as they are."""
    import importlib
    import lzma
    import zlib
    for magic, module, name in _COMPRESSED:
        if raw.startswith(magic):
            try:
                with importlib.import_module(module).open(io.BytesIO(raw)) as stream:
                    raw = stream.read(MAX_DECOMPRESSED + 1)
            except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as exc:
                raise DataError(f"{path}: the file starts like {name}-compressed data but "
                                f"does not decompress ({exc}).") from exc
            return (_bounded(path, raw, name),
                    f"the file is {name}-compressed; it was decompressed first.")
    if raw.startswith(b"PK\x03\x04"):
        import zipfile
        try:
            with zipfile.ZipFile(io.BytesIO(raw)) as zf:
                # macOS adds resource forks under __MACOSX/: not tables
                names = [i.filename for i in zf.infolist() if not i.is_dir()
                         and not i.filename.startswith("__MACOSX/")]
                if "[Content_Types].xml" in names:
                    kind = ("an Excel workbook" if any(n.startswith("xl/") for n in names)
                            else "an Office document")
                    raise DataError(f"{path}: this is {kind}, not a text table; save the "
                                    "sheet as CSV (File > Save As > CSV) and analyse that.")
                if len(names) != 1:
                    raise DataError(f"{path}: a zip archive of {len(names)} files; extract "
                                    "the table and analyse it (a zip of one file is read).")
                with zf.open(names[0]) as stream:
                    raw = _bounded(path, stream.read(MAX_DECOMPRESSED + 1), "zip")
        except zipfile.BadZipFile as exc:
            raise DataError(f"{path}: the file starts like a zip archive but is not one "
                            f"({exc}).") from exc
        except (zlib.error, EOFError) as exc:
            raise DataError(f"{path}: a zip archive whose file does not decompress "
                            f"({exc}).") from exc
        return raw, f"the file is a zip archive; its one file, {names[0]!r}, was read."
    return raw, None


def _decode(path):
    """Return ``(text, encoding, notes)``: the file decoded with the first encoding
    that works (after decompressing it when it is gzip, bzip2, xz or zip)."""
    with open(path, "rb") as fh:
        raw = fh.read()
    raw, packed = _uncompressed(path, raw)
    text, encoding, note = _decode_bytes(path, raw)
    return text, encoding, [n for n in (packed, note) if n]


def _decode_bytes(path, raw):
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
            if enc == "utf-8-sig":
                mostly = _mostly_utf8(raw)
                if mostly is not None:
                    return mostly
            continue
        note = None
        if enc != "utf-8-sig":
            note = (f"the file is not valid UTF-8; it was read as {enc} "
                    f"({'Windows Western European' if enc == 'cp1252' else 'ISO Latin-1'}).")
        return text, ("utf-8" if enc == "utf-8-sig" else enc), note
    raise DataError(f"{path}: the file could not be decoded as text.")  # pragma: no cover


def _mostly_utf8(raw):
    """``(text, "utf-8", note)`` for UTF-8 text holding a few stray bytes of
    another encoding (one Latin-1 ``ü`` in a UTF-8 file): more valid multi-byte
    characters than invalid bytes. Read as cp1252 whole, its UTF-8 names would
    all be garbled (``tempÃ©rature``); the stray bytes become U+FFFD instead,
    and the note names the first line holding one. None otherwise."""
    text = raw.decode("utf-8-sig", errors="replace")
    n_bad = text.count("\ufffd")
    n_multi = len(text) - len(text.encode("ascii", "ignore")) - n_bad  # at C speed
    if n_bad == 0 or n_multi < n_bad:
        return None
    line = text.count("\n", 0, text.index("\ufffd")) + 1
    return text, "utf-8", (f"{n_bad} byte(s) of the file are not valid UTF-8 (the first on line "
                           f"{line}, counted from the top of the file); they were read as "
                           "'\ufffd', the rest as UTF-8.")


def _split(lines, delimiter):
    return [row for row in csv.reader(lines, delimiter=delimiter, skipinitialspace=True) if row]


#: characters of the file's start the csv sniffer sees: its search for quoted
#: fields takes time quadratic in its sample (a 500 kB line of quotes took
#: minutes), and the separator shows in the first lines
SNIFF_CHARS = 4096


def _choose_delimiter(path, text):
    """The separator that splits the first lines into a constant number (>= 2) of fields.

    The csv module's sniffer proposes one; the proposal is kept when it splits
    the lines evenly, except that ``;``, a tab or ``|`` beats ``,`` when both
    split evenly (decimal commas: ``0,19|-0,52`` is two numbers). A
    single-column file gives ``","``.
    """
    lines = text.splitlines()[:200]
    name = path.lower()
    for suffix in COMPRESSED_SUFFIXES:
        name = name.removesuffix(suffix)
    if name.endswith((".tsv", ".tab")) and "\t" in text:
        return "\t"  # (a .tsv without a tab, written with commas say, is sniffed)

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
    beats_comma = {";", "\t", "|"} & set(candidates)
    if sniffed in candidates and not (sniffed == "," and beats_comma):
        return sniffed
    if candidates:
        return next(d for d in DELIMITERS if d in beats_comma) if beats_comma else candidates[0]
    if sniffed:
        return sniffed
    if not any(d in text for d in DELIMITERS) and " " in text.strip():
        return " "
    return ","


def read_text_table(path):
    """Return ``(header, columns_as_lists_of_str, notes, delimiter)`` for a CSV/TSV file."""
    text, encoding, notes = _decode(path)
    # comment lines above the table ("# exported by ...")
    # (blank lines between them), the last one kept: np.savetxt writes a header
    # as "# a,b"
    lines = text.splitlines(keepends=True)
    top, n_comments, last_comment = 0, 0, None
    while top < len(lines) and (lines[top].lstrip().startswith("#") or not lines[top].strip()):
        if lines[top].strip():
            n_comments += 1
            last_comment = lines[top].strip().lstrip("#").strip()
        top += 1
    comments_note_at = len(notes)  # its note waits for the header (a comment may name it)
    if n_comments:
        text = "".join(lines[top:])
    delimiter = _choose_delimiter(path, text)
    # the csv module's default limit (131072 characters a field) stops a whole read
    # over one long text cell, which may well be left out anyway
    csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                               skipinitialspace=True))
    except csv.Error as exc:
        raise DataError(f"{path}: not a readable table: {exc}.") from exc
    if delimiter == " ":
        # columns aligned with runs of spaces: leading and trailing spaces and
        # the runs separate nothing (such files cannot mark a cell as empty)
        rows = [[c for c in row if c.strip()] for row in rows]
    # blank lines separate nothing; a line of separators only (",,,") is a row
    # whose cells are all missing: it keeps its number and goes through
    # --missing (at the end of the table, as spreadsheets export, it is dropped)
    rows = [row for row in rows if row and (len(row) > 1 or row[0].strip())]
    trailing = 0
    while rows and not any(c.strip() for c in rows[-1]):
        rows.pop()
        trailing += 1
    leading = 0
    while leading < len(rows) and not any(c.strip() for c in rows[leading]):
        leading += 1
    rows = rows[leading:]
    if leading or trailing:
        where = " and ".join(w for w, n in (("above", leading), ("below", trailing)) if n)
        notes.append(f"{leading + trailing} row(s) of empty cells {where} the table were left "
                     "out.")
    if not rows:
        raise DataError(f"{path}: the file is empty.")
    if delimiter == " ":
        rows[0] = _spaced_names(next(ln for ln in lines[top:] if ln.strip()), rows)
    width = len(rows[0])
    rows = [row if any(c.strip() for c in row) else [""] * width for row in rows]
    has_header = _has_header(rows)
    index_name = named = None
    if has_header:
        index_name = rows[0][0].strip()
        header = [h.strip() or f"column_{i + 1}" for i, h in enumerate(rows[0])]
        shown = ", ".join(c.strip() for c in rows[0] if c.strip())
        if all(_number(c) or _blank(c) for c in rows[0]):
            if _numbered_columns(rows[0], rows[1:1 + HEADER_SAMPLE_ROWS]):
                notes.append(f"the first line ({shown}) counts up by one: it was read as the "
                             "column names (pandas writes such a line for unnamed columns); if "
                             "it is data, add a line of names above it.")
            else:
                notes.append(f"the first line ({shown}) holds whole numbers above columns of "
                             "decimals: it was read as the column names; if it is data, add a "
                             "line of names above it.")
        elif any(_number(c) for c in rows[0]):
            notes.append(f"the first line ({shown}) was read as the column names, numbers "
                         "and all; if it is data, add a line of names above it.")
        rows = rows[1:]
    else:
        header = [f"x{i + 1}" for i in range(width)]
        named = _header_in_comment(last_comment, delimiter, width)
    if named is not None:
        header = named
        notes.append(f"the column names were read from the comment line above the table "
                     f"('# {last_comment}', as np.savetxt writes a header)"
                     + (f"; {n_comments - 1} other comment line(s) were skipped."
                        if n_comments > 1 else "."))
    elif n_comments:
        notes.insert(comments_note_at, f"{n_comments} comment line(s) starting with '#' above "
                     "the table were skipped.")
    bad = [(i + 1, len(row)) for i, row in enumerate(rows) if len(row) != width]
    if bad:
        shown = ", ".join(f"row {r} has {w}" for r, w in bad[:5])
        comment = next((r for r, _ in bad if rows[r - 1] and rows[r - 1][0].lstrip()
                        .startswith("#")), None)
        raise DataError(
            f"{path}: every row must have {width} field{'' if width == 1 else 's'} (separator "
            f"{_DELIM_NAMES.get(delimiter, repr(delimiter))}), but {shown}"
            + (f" (and {len(bad) - 5} more rows)" if len(bad) > 5 else "")
            + "; rows are counted from 1, the first data row after the header."
            + (f" Row {comment} starts with '#': comment lines are read only above the "
               "table; remove the ones inside it." if comment is not None else "")
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
    elif (index_name is not None and index_name.lower() in _UNNAMED and width > 1
            and _distinct_integers(cols[0])):
        notes.append("the first column has no name and holds distinct integers (a row "
                     "index, as pandas' to_csv writes it after rows were dropped or "
                     "reordered); it was left out.")
        header, cols = header[1:], cols[1:]
    if delimiter != ",":
        notes.append(f"fields separated by {_DELIM_NAMES.get(delimiter, repr(delimiter))}.")
    return header, cols, notes, delimiter


def _number(cell):
    """Whether a cell reads as a number (a decimal comma accepted)."""
    return _is_float(cell) or _is_float(cell.replace(",", "."))


def _blank(cell):
    """Whether a cell is empty or a missing-value token (``NA``, ``?``, ...)."""
    return cell.strip().lower() in MISSING_TOKENS


def _integer_token(cell):
    return INTEGER.match(cell.strip()) is not None


#: rows below the first that :func:`_has_header` looks at
HEADER_SAMPLE_ROWS = 200


def _has_header(rows):
    """Whether the first row names the columns.

    * A first row of numbers (empty or missing-value cells aside) is data,
      unless it counts up by one (``0,1,2``: pandas' names for unnamed
      columns, after an empty cell above a row index; years ``2019,2020``)
      above columns that mostly hold decimals, or reads ``0,1,...,d-1`` with
      at least :data:`PANDAS_NAMES_MIN_COLUMNS` columns.
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
        below = rows[1:1 + HEADER_SAMPLE_ROWS]
        return _numbered_columns(first, below) or _integers_above_decimals(first, below)
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


def _spaced_names(line, rows):
    """The first row of a space-aligned table, its names kept whole when they
    hold single spaces (``sepal length  sepal width`` above two columns, or
    ``body mass`` above one): split on runs of two or more spaces instead,
    when that gives as many fields as every row below has."""
    widths = {len(r) for r in rows[1:]}
    if len(widths) != 1 or len(rows[0]) == (width := widths.pop()):
        return rows[0]
    fields = [f for f in re.split(r"\s{2,}|\t", line.strip()) if f]
    if width == 1:
        return [line.strip()]
    return fields if len(fields) == width else rows[0]


def _header_in_comment(comment, delimiter, width):
    """The column names a comment line above a table without a header holds
    (``# a,b``, np.savetxt's header): as many fields as the table, none a
    number; else None."""
    if not comment:
        return None
    try:
        fields = next(csv.reader([comment], delimiter=delimiter, skipinitialspace=True))
    except (csv.Error, StopIteration):
        return None
    if delimiter == " ":
        fields = [f for f in fields if f.strip()]
    fields = [f.strip() for f in fields]
    if (len(fields) != width or not all(fields) or any(_number(f) for f in fields)
            or any(len(f) > 64 or ":" in f or "=" in f for f in fields)):
        return None  # prose ("# Source: NOAA, station ABC") names no column
    return fields


def _numbered_columns(first, below):
    """Whether a first row of numbers counts up by one (an empty first cell
    allowed) above columns whose cells are mostly decimals: it then numbers
    the columns rather than being data."""
    cells = [c.strip() for c in first]
    if cells and not cells[0]:
        cells = cells[1:]
        offset = 1
    else:
        offset = 0
    if len(cells) < 2 or not all(_integer_token(c) for c in cells):
        return False
    values = [int(c) for c in cells]
    if any(b - a != 1 for a, b in zip(values, values[1:])):
        return False
    if values[0] == 0 and len(values) >= PANDAS_NAMES_MIN_COLUMNS:
        # exactly pandas' names for unnamed columns (0, 1, 2, ...): over
        # integer columns too, where a data row reading so is unlikely
        return True
    votes = 0
    for j in range(offset, len(first)):
        col = [r[j] for r in below if j < len(r) and not _blank(r[j])]
        if not col or not all(_number(c) for c in col):
            continue
        ints = [_integer_token(c) for c in col]
        votes += 1 if not any(ints) else -1 if all(ints) else 0
    return votes > 0


def _integers_above_decimals(first, below):
    """Whether a first row of distinct whole numbers (at least two, no empty
    cell) stands above columns that hold only decimals: names such as
    wavelengths or years (``400,500,600`` above ``0.13,0.41,0.77``), which a
    data row of such a table is most unlikely to read as."""
    cells = [c.strip() for c in first]
    if (len(cells) < 2 or not all(_integer_token(c) for c in cells)
            or len({int(c) for c in cells}) != len(cells)):
        return False
    for j in range(len(cells)):
        col = [r[j] for r in below if j < len(r) and not _blank(r[j])]
        if not col or not all(_number(c) and not _integer_token(c) for c in col):
            return False
    return True


INTEGER = re.compile(r"^[+-]?\d+$")

#: a first line ``0,1,...,d-1`` of at least this many numbers names the columns
#: whatever the columns below hold (``0,1`` over integers may well be data)
PANDAS_NAMES_MIN_COLUMNS = 3


#: header names of a leading row-index column (pandas writes "", R ""; after
#: a round trip through pandas "Unnamed: 0")
_INDEX_NAMES = frozenset(("", "unnamed: 0", "index"))


#: header names of a column pandas or R wrote without a name
_UNNAMED = frozenset(("", "unnamed: 0"))


def _distinct_integers(cells):
    """Whether the cells are distinct non-negative integers (a row index)."""
    if not cells or not all(c.strip().isdigit() for c in cells):
        return False
    return len({int(c) for c in cells}) == len(cells)


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

