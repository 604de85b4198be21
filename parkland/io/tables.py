"""Raw tables: CSV (encoding detected) and Excel workbooks (python-calamine), header row found.

:func:`read_table` returns the cells as text under their original headers, plus ``source_row`` (1-based
position among the data records; title, header and blank rows not counted) and ``file_row`` (the row a
person sees: the Excel row number, or the CSV line counting the header line). Interpreting the cells
(numbers, codes, units) is the job of :mod:`parkland.io.firms` and :mod:`parkland.io.links`.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import re
import warnings
from pathlib import Path

import pandas as pd

from parkland import recon
from parkland.errors import InputError
from parkland.io import columns as cols
from parkland.io.values import _to_str, to_text

EXCEL_EXT = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods"}
TEXT_EXT = {".csv", ".txt", ".tsv", ".tab"}
#: how many rows at the top of a table may hold titles, notes and blank rows above the header
HEADER_SEARCH_ROWS = 50
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file; for a directory (an Esri .gdb) of its files' relative names and bytes, in
    sorted order."""
    p = Path(path)
    h = hashlib.sha256()
    files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    for f in files:
        if p.is_dir():
            h.update(f.relative_to(p).as_posix().encode("utf-8") + b"\0")
        with open(f, "rb") as fh:
            for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def require_file(path: str | Path, what_zh: str = "输入文件", what_en: str = "input file") -> Path:
    """The path as a Path, or InputError when it does not exist."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what_zh}不存在", f"{what_en} does not exist", file=p,
                         hint_zh="请检查路径和文件名。", hint_en="Check the path and the file name.")
    return p


def detect_encoding(data: bytes, path: str | Path | None = None) -> str:
    """Encoding of CSV bytes: UTF-8 with BOM (``utf-8-sig``), UTF-16 with BOM, UTF-8, GBK, GB18030 —
    tried strictly in this order —, else charset-normalizer's best guess. (Text detected as GBK is decoded
    with GB18030, its superset.)"""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for enc in ("utf-8", "gbk", "gb18030"):
        try:
            data.decode(enc)
            return enc
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 1 << 20]).best()
    if best is None:
        raise InputError("无法识别文件的文字编码", "cannot tell the text encoding of the file", file=path,
                         hint_zh="请在 Excel 中另存为“CSV UTF-8”或 .xlsx。",
                         hint_en="Save it as CSV UTF-8 or .xlsx.")
    return best.encoding


def _kind_of(path: Path, head: bytes) -> str:
    ext = path.suffix.lower()
    is_book = head.startswith(_ZIP) or head.startswith(_OLE)
    if ext in EXCEL_EXT:
        if not is_book:
            looks = "文本（CSV）" if _looks_text(head) else "无法识别的数据"
            looks_en = "text (CSV)" if _looks_text(head) else "unrecognised data"
            raise InputError(f"扩展名是 {ext}，但内容不是 Excel 工作簿，而是{looks}",
                             f"the extension is {ext} but the content is not an Excel workbook: it is {looks_en}",
                             file=path,
                             hint_zh="请用 Excel 打开后另存为 .xlsx，或把 CSV 文件的扩展名改为 .csv。",
                             hint_en="Open it in Excel and save as .xlsx, or rename a CSV file to .csv.")
        return "excel"
    if is_book:
        if ext in TEXT_EXT:
            raise InputError(f"扩展名是 {ext}，但内容是 Excel 工作簿", f"the extension is {ext} but the "
                             "content is an Excel workbook", file=path,
                             hint_zh="请把扩展名改为 .xlsx（或 .xls）。", hint_en="Rename it to .xlsx (or .xls).")
        return "excel"
    if not _looks_text(head):
        raise InputError("文件内容不是文本表格（CSV）或 Excel 工作簿", "the file is neither a text table (CSV) "
                         "nor an Excel workbook", file=path,
                         hint_zh="请提供 .csv 或 .xlsx 文件。", hint_en="Provide a .csv or .xlsx file.")
    return "text"


def _looks_text(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return True
    if b"\x00" in head:
        return False
    ctrl = sum(1 for b in head if b < 9 or 13 < b < 32)
    return ctrl <= len(head) // 100


@functools.lru_cache(maxsize=20000)
def _score_cell(cell: str) -> str | None:
    if not cell or len(cell) > 40:
        return None
    for kind in ("firm", "link", "parcel"):
        m = cols.match_header(cell, kind)
        if m.canonical is not None:
            return m.canonical
    return None


def find_header(rows: list[list]) -> int:
    """Index (0-based) of the header among the first rows: the row naming the most distinct known
    columns (first such row on ties); if none names any, the first row with the most filled cells."""
    best, best_score = -1, 0
    filled = []
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        cells = [str(c).strip() for c in row if isinstance(c, str) and c.strip()]
        filled.append(sum(1 for c in row if c is not None and str(c).strip() != ""))
        score = len({s for s in map(_score_cell, cells) if s is not None})
        if score > best_score:
            best, best_score = i, score
    if best >= 0:
        return best
    if not filled or max(filled) == 0:
        return 0
    return filled.index(max(filled))


def unique_names(names: list[str]) -> list[str]:
    """Column names made unique: source_row/file_row in the input become *_input (those two are ours),
    repeats get .1, .2 … (used for file headers and database result columns alike)."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for n in names:
        n = f"{n}_input" if n in ("source_row", "file_row") else n
        if n in seen:
            seen[n] += 1
            n = f"{n}.{seen[n]}"
        else:
            seen[n] = 0
        out.append(n)
    return out


def _headers(cells: list, width: int) -> list[str]:
    """Header texts: stripped, a blank one named 列N (its column number), repeats suffixed .1, .2 …"""
    texts: list[str] = []
    for j in range(width):
        c = cells[j] if j < len(cells) else None
        h = "" if c is None else to_text(pd.Series([c], dtype=object)).iloc[0] or ""
        h = re.sub(r"\s+", " ", h).strip()
        texts.append(h or f"列{j + 1}")
    return unique_names(texts)


def _frame(data: pd.DataFrame, headers: list[str], first_file_row: int) -> pd.DataFrame:
    """Cells → text; drop rows with no cell; add source_row / file_row."""
    data = data.copy()
    data.columns = list(range(data.shape[1]))
    text = {j: _to_str(data[j]) for j in range(min(data.shape[1], len(headers)))}
    frame = pd.DataFrame(text, index=data.index)
    frame.columns = headers[: frame.shape[1]]
    for h in headers[frame.shape[1]:]:
        frame[h] = pd.Series(pd.NA, index=frame.index, dtype="str")
    frame = frame.astype("str")
    file_row = pd.Series(range(first_file_row, first_file_row + len(frame)), index=frame.index, dtype="int64")
    keep = frame.notna().any(axis=1) if frame.shape[1] else pd.Series(False, index=frame.index)
    frame = frame[keep].reset_index(drop=True)
    # drop columns with neither header nor any value (Excel's used range often runs wider)
    unnamed = [h for h in frame.columns if re.fullmatch(r"列\d+", h) and frame[h].isna().all()]
    frame = frame.drop(columns=unnamed)
    frame.insert(0, "file_row", file_row[keep].to_numpy())
    frame.insert(0, "source_row", pd.RangeIndex(1, len(frame) + 1).to_numpy().astype("int64"))
    return frame


def _title_text(rows: list[list]) -> str:
    return " ".join(str(c).strip() for r in rows for c in r if c is not None and str(c).strip())


def read_table(path: str | Path, *, sheet: str | None = None) -> recon.Loaded:
    """Read a CSV or Excel table as text cells under its original headers.

    Frame: ``source_row`` (1..n over non-blank data records), ``file_row`` (Excel row / CSV line of the
    record), then one text column (pandas ``str`` dtype, NaN for empty cells) per input column. Meta: ``path``, ``sha256``,
    ``format`` (csv/excel), ``encoding`` (CSV; "xlsx" etc. for workbooks), ``delimiter``, ``sheet``,
    ``sheets``, ``header_row`` (file row of the header), ``headers``, ``title`` (text above the header).
    A PostgreSQL URL (``postgresql://user@host/db?table=NAME`` or ``?query=SQL``) reads a database table.
    """
    from .postgis import is_db_url

    if is_db_url(path):  # postgresql://…?table=… or ?query=… (see io/postgis.py)
        from .postgis import read_db_table

        return read_db_table(str(path))
    p = require_file(path, "表格文件", "table file")
    if p.is_dir():
        raise InputError("这是一个文件夹，不是表格文件", "this is a folder, not a table file", file=p,
                         hint_zh="请提供 .csv 或 .xlsx 文件。", hint_en="Provide a .csv or .xlsx file.")
    with open(p, "rb") as fh:
        head = fh.read(4096)
        kind = _kind_of(p, head)
        data = head + fh.read() if kind == "text" else None  # a text table is read once: hashed and parsed
    meta: dict = {"path": str(p), "sha256": sha256_file(p) if data is None else hashlib.sha256(data).hexdigest()}
    if kind == "excel":
        rows, meta_x = _excel_rows(p, sheet)
        meta.update(meta_x)
        h = find_header(rows)
        width = max((len(r) for r in rows), default=0)
        headers = _headers(rows[h] if rows else [], width)
        body = pd.DataFrame(rows[h + 1:], dtype=object) if len(rows) > h + 1 else pd.DataFrame(
            columns=range(width), dtype=object)
        frame = _frame(body, headers, h + 2)
        meta.update(header_row=h + 1 if rows else None, title=_title_text(rows[:h]), delimiter=None)
    else:
        frame, meta_t = _csv_frame(p, data)
        meta.update(meta_t)
        meta["sheet"] = None
        meta["sheets"] = []
    meta["headers"] = [c for c in frame.columns if c not in ("source_row", "file_row")]
    meta["n_rows"] = len(frame)
    if not meta["headers"]:
        raise InputError("表格是空的：既没有表头也没有数据", "the table is empty: no header and no data", file=p,
                         hint_zh="请检查导出是否成功；只有表头、没有数据行的表格可以使用。",
                         hint_en="Check that the export worked; a table with a header and no rows is accepted.")
    return recon.Loaded(frame, recon.empty(), meta)


def _excel_rows(p: Path, sheet: str | None) -> tuple[list[list], dict]:
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(p))
    except Exception as e:  # calamine raises its own error types for broken or encrypted workbooks
        raise InputError(f"无法读取 Excel 工作簿（{type(e).__name__}）", f"cannot read the Excel workbook "
                         f"({type(e).__name__}: {e})", file=p,
                         hint_zh="文件可能已损坏或加密：请在 Excel 中打开并另存为 .xlsx。",
                         hint_en="It may be damaged or password-protected: open it in Excel and save as .xlsx.") from e
    names = list(wb.sheet_names)
    try:
        visible = [m.name for m in wb.sheets_metadata if str(m.visible).endswith("Visible")]
    except Exception:  # older calamine without metadata
        visible = names
    visible = visible or names
    if sheet is not None:
        want = str(sheet).strip()
        hit = [n for n in names if n == want] or [n for n in names if n.strip().lower() == want.lower()]
        if not hit:
            listed = "、".join(names)
            raise InputError(f"工作簿中没有名为「{sheet}」的工作表；现有工作表：{listed}",
                             f'no sheet named "{sheet}" in the workbook; its sheets: {", ".join(names)}',
                             file=p, hint_zh="请用 --firms-sheet 指定上面列出的一个工作表。",
                             hint_en="Name one of the sheets above with --firms-sheet.")
        chosen = hit[0]
        rows = _sheet_rows(wb, chosen)
    else:
        chosen, rows = visible[0], None
        for n in visible:
            r = _sheet_rows(wb, n)
            if rows is None:
                rows = r
            top = r[:HEADER_SEARCH_ROWS]
            if any(_score_cell(str(c).strip()) for row in top for c in row if isinstance(c, str)):
                chosen, rows = n, r
                break
    return rows or [], {"format": "excel", "encoding": p.suffix.lower().lstrip("."), "sheet": chosen,
                        "sheets": names}


def _sheet_rows(wb, name: str) -> list[list]:
    sh = wb.get_sheet_by_name(name)
    rows = sh.to_python(skip_empty_area=False)
    try:
        merged = sh.merged_cell_ranges or []
    except Exception:  # formats without merge information (xls, ods in older calamine)
        merged = []
    return fill_merged(rows, merged)


def fill_merged(rows: list[list], ranges: list) -> list[list]:
    """Every empty cell of a merged range takes the value of its top-left cell, as a person sees it
    (a 规上 merged down over three firms is 规上 for each; a header merged over two header rows names
    both). ``ranges``: calamine's ``((first_row, first_col), (last_row, last_col))``, 0-based, inclusive."""
    for (r0, c0), (r1, c1) in ranges:
        if r0 >= len(rows) or c0 >= len(rows[r0]):
            continue
        v = rows[r0][c0]
        if v is None or v == "":
            continue
        for r in range(r0, min(r1, len(rows) - 1) + 1):
            row = rows[r]
            if len(row) <= c1:
                row.extend([""] * (c1 + 1 - len(row)))
            for c in range(c0, c1 + 1):
                if row[c] is None or row[c] == "":
                    row[c] = v
    return rows


def _delimiter(lines: list[str], ext: str) -> str:
    cands = ["\t", ",", ";", "|"] if ext in (".tsv", ".tab") else [",", "\t", ";", "|"]
    counts = {d: max((ln.count(d) for ln in lines), default=0) for d in cands}
    best = max(cands, key=lambda d: counts[d])
    return best if counts[best] > 0 else cands[0]


def _csv_frame(p: Path, data: bytes | None = None) -> tuple[pd.DataFrame, dict]:
    """The CSV file's text cells (``data``: its bytes, when already read) and its meta."""
    data = p.read_bytes() if data is None else data
    enc, text = _decode(data, p)
    bom = text.startswith("\ufeff")
    if bom:
        text = text[1:]
    lines = _first_lines(text, HEADER_SEARCH_ROWS)
    sep = _delimiter(lines, p.suffix.lower())
    top = [[c if c.strip() else None for c in r] for r in csv.reader(lines, delimiter=sep)]
    h = find_header(top) if top else 0
    header_cells = top[h] if top else []
    width = len(header_cells)
    # the text as UTF-8 bytes: the file's own when it is UTF-8 (without the BOM)
    utf8 = (data[3:] if bom else data) if enc in ("utf-8", "utf-8-sig") else None
    body = _arrow_body(text, utf8, h, sep, width)
    if body is None:
        try:
            body, width = _pandas_body(text, h, sep, width)
        except csv.Error as e:  # e.g. a quote left open to the end of the file
            raise InputError(f"CSV 文件的记录无法拆分成列（{e}），请用 Excel 另存为 CSV 后再试",
                             f"the CSV records cannot be split into fields ({e}); save the file again as CSV",
                             file=p) from e
    headers = _headers(header_cells, max(width, body.shape[1]))
    frame = _frame(body, headers, h + 2)
    meta = {"format": "csv", "encoding": enc, "delimiter": sep, "header_row": h + 1,
            "title": _title_text(top[:h])}
    return frame, meta


def _decode(data: bytes, path: Path) -> tuple[str, str]:
    """(:func:`detect_encoding`, the text decoded with it: GBK as GB18030), decoding the bytes once where
    the detection has decoded them already: as UTF-8, or as GBK — Python's GBK and GB18030 codecs read every
    byte sequence GBK accepts as the same characters (each of its one- and two-byte codes is checked in
    the tests), so the GBK text is the GB18030 text."""
    if not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        for enc in ("utf-8", "gbk"):
            try:
                return enc, data.decode(enc)
            except UnicodeDecodeError:
                continue
    enc = detect_encoding(data, path)
    try:  # GB18030 decodes every GBK byte sequence, and maps GBK's private-use codes to real characters
        return enc, data.decode("gb18030" if enc == "gbk" else enc)
    except UnicodeDecodeError as e:  # charset-normalizer guessed wrong
        raise InputError("无法按检测到的编码读取文件", f"cannot decode the file as {enc}", file=path) from e


def _first_lines(text: str, n: int) -> list[str]:
    """``text.splitlines()[:n]`` without splitting all of a long text: a piece holding n + 2 lines has
    the same first n (only its last line may end early, or at half of a \\r\\n)."""
    size = 1 << 16
    while size < len(text):
        lines = text[:size].splitlines()
        if len(lines) > n + 1:
            return lines[:n]
        size *= 4
    return text.splitlines()[:n]


def _pandas_body(text: str, h: int, sep: str, width: int) -> tuple[pd.DataFrame, int]:
    """The records after the header line ``h`` (0-based) as columns 0, 1, … of text ("" for an empty
    field, a blank line a row of ""), and the width (more when a record has more fields than headers)."""
    try:
        with warnings.catch_warnings():  # more fields than headers: read with the csv module instead
            warnings.simplefilter("error", pd.errors.ParserWarning)
            body = pd.read_csv(io.StringIO(text), sep=sep, header=None, skiprows=h + 1, names=list(range(width)),
                               dtype=str, keep_default_na=False, na_filter=False, skip_blank_lines=False,
                               engine="c", index_col=False) if width else pd.DataFrame()
    except (pd.errors.ParserError, pd.errors.ParserWarning, ValueError):
        # newline="": the csv module reads \r, \n and \r\n line ends itself (a lone \r ends a record)
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))[h + 1:]
        width = max([width, *(len(r) for r in records)])
        body = pd.DataFrame([r + [""] * (width - len(r)) for r in records], columns=list(range(width)),
                            dtype=object)
    except pd.errors.EmptyDataError:
        body = pd.DataFrame(columns=list(range(width)), dtype=object)
    return body, width


#: what keeps a CSV text off the Arrow path (UTF-8 bytes): quotes, and control characters other than tab
#: and line ends (pandas' tokenizer treats some specially, e.g. \\x1a, DOS's end of file). A lone \\r too
#: (pandas may swallow the character after one in the lines it skips).
_CONTROL = bytes([34, *range(0, 9), 11, 12, *range(14, 32), 127])
#: line breaks ``str.splitlines`` knows but the CSV parsers do not: none may come before the records (the
#: header search and the parsers count the same lines)
_LINE_BREAKS = ["\x85".encode(), "\u2028".encode(), "\u2029".encode()]
_LINE_END = re.compile(rb"\r\n|\n")


def _arrow_body(text: str, utf8: bytes | None, h: int, sep: str, width: int) -> pd.DataFrame | None:
    """:func:`_pandas_body` by Arrow's CSV reader (several times faster), for a plain text: no quote
    character, every record after the header with exactly ``width`` fields. None for any other text (the
    caller reads it with pandas). ``utf8``: the text's UTF-8 bytes, when at hand.

    Without quotes a record is a line, and both parsers split lines at \\r\\n or \\n and fields at ``sep``
    and keep every other character; pandas' ``skiprows`` counts blank lines above the header as lines, as
    the header search does; a blank line is a record of empty fields for both (``skip_blank_lines=False``,
    ``ignore_empty_lines=False``). Blank lines at the very end are left out: pandas reads them as empty
    records, which :func:`_frame` drops without moving any file_row."""
    import pyarrow as pa
    import pyarrow.csv as pv

    if not width:
        return None
    if utf8 is None:
        utf8 = text.encode("utf-8")
    if len(utf8.translate(None, _CONTROL)) != len(utf8) or \
            (b"\r" in utf8 and utf8.count(b"\r") != utf8.count(b"\r\n")):
        return None
    start = 0
    for i, m in enumerate(_LINE_END.finditer(utf8)):
        if i == h:
            start = m.end()
            break
    else:
        return None  # nothing after the header line
    if any(c in utf8[:start] for c in _LINE_BREAKS):
        return None
    end = len(utf8)
    while end > start and utf8[end - 1] in b"\r\n":
        end -= 1
    if end == start or utf8.startswith(codecs.BOM_UTF8, start):  # Arrow's reader drops a leading U+FEFF
        return None
    names = [str(j) for j in range(width)]
    try:
        table = pv.read_csv(
            pa.py_buffer(memoryview(utf8)[start:end]),
            read_options=pv.ReadOptions(column_names=names, use_threads=False),  # one core: see parallel.py
            parse_options=pv.ParseOptions(delimiter=sep, quote_char=False, double_quote=False, escape_char=False,
                                          newlines_in_values=False, ignore_empty_lines=False),
            convert_options=pv.ConvertOptions(column_types={n: pa.large_string() for n in names},
                                              strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowInvalid:  # a record with more or fewer fields than the header
        return None
    dtype = pd.StringDtype(storage="pyarrow", na_value=float("nan"))
    return pd.DataFrame({j: pd.array(table.column(j), dtype=dtype) for j in range(width)})
