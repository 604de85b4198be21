"""The one Excel writer (xlsxwriter): Chinese headers with units, frozen header row, autofilter, number
formats, fitted column widths, a notes sheet, never a formula.

* Every text cell is written as a string (``strings_to_formulas`` off): a firm called ``=HYPERLINK(…)``
  stays text, never a formula. A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a CR
  also carries Excel's *quote prefix* style (what typing ``'=…`` does by hand): the cell shows the
  exact text, and editing it in Excel does not turn it into a formula either. Numeric columns stay
  numbers.
* Headers come from the one label table (:mod:`parkland.report.labels`) and carry units; year-on-year
  columns ``change_<indicator>`` / ``change_pct_<indicator>`` get "<指标>同比变化（unit / %）".
* Number formats: 亩 and 万元 to 2 decimals with thousands separators, shares as percentages, counts as
  integers (:func:`number_format`).
* A list longer than Excel's sheet (1,048,575 rows) continues on the next sheet, "名称(2)" …: no row
  is dropped.
* Long lists (> 20,000 rows in a sheet) use ``constant_memory`` mode (rows streamed in order); column
  widths are fitted from the header and the first 500 rows before any row is written.
* Data rows come from :func:`rows_xml`, column by column with Arrow and numpy, instead of xlsxwriter's
  Python call per cell (3–5× faster at 100k): xlsxwriter writes the workbook (styles, header, widths,
  panes, filter, notes) and the rows are put into its sheet XML after.
  The row XML is what xlsxwriter writes in ``constant_memory`` mode, byte for byte (inline strings,
  ``%.16G`` numbers, its control-character escapes and whitespace rule; tested against it) — except the
  style numbers when xlsxwriter would meet the formats in another order (each file is consistent), and
  a text shaped like ``<r>…</r>``, escaped where xlsxwriter would copy it raw (the cell-by-cell path
  writes such a text as a rich string of plain runs, :func:`_cell_text`).
* The workbook's creation time honours ``SOURCE_DATE_EPOCH``; the file is written atomically. The same
  frames give workbooks with equal cell values and formats.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from ..frames import space_at_ends
from ..schema import INDICATORS
from .export import FORMULA_START, atomic_path, formula_start
from .labels import LABELS, label

#: Excel's limit for one sheet, less the header
MAX_ROWS = 1_048_575
#: rows in one sheet above which the workbook is written in constant_memory mode
CONSTANT_MEMORY_ROWS = 20_000
#: True: data rows through xlsxwriter's per-cell calls (:func:`_rows_by_cell`), the reference that
#: :func:`rows_xml` is tested and benchmarked against; a run never sets it
BY_CELL = False
#: rows of sheet XML made and compressed at a time (memory stays flat with --lists xlsx at 1M rows)
_CHUNK_ROWS = 10_000

#: kind of number → Excel number format
FORMATS = {
    "mu": "#,##0.00",  # 亩
    "wan": "#,##0.00",  # 万元
    "m2": "#,##0",
    "share": "0.0%",
    "ratio": "0.00",
    "int": "0",
    "score": "0.00",
    "date": "yyyy-mm-dd",
    "years": "0.0",
    "degrees": "0.000000",
}
_PERCENT = {"building_coverage", "coverage_min", "land_share", "rd_intensity", "unassigned_share",
            "developed_share", "developed_share_used", "investment_share", "share", "benchmark_rd_intensity",
            "gap_rd_intensity", "change_rd_intensity", "shortfall_ratio", "weight"}
_INTS = {"source_row", "file_row", "rank", "firm_count", "operating_firms", "building_count", "parcels",
         "firms", "employees", "graded_count", "parcel_count", "tier", "idle_buildings", "parcel_row",
         "override_row", "measure_epsg", "buildings"}
_SCORES = {"score", "priority_score", "gap_score", "score_previous", "bonus", "penalty", "weight_factor",
           "far", "far_min", "part"}
_FIGURES_2DP = {"energy_tce", "electricity_10k_kwh", "emissions_t", "revenue_per_employee",
                "labour_productivity", "va_per_energy", "revenue_per_energy", "va_per_emission",
                "tax_per_electricity"}


def number_format(col: str) -> str | None:
    """The Excel number format of a canonical column name (None: general).

    Shares → ``0.0%``; counts → ``0``; 亩, 万元, indicators and their benchmarks/changes/gaps →
    ``#,##0.00``; m² → ``#,##0``; scores and points → ``0.00``; ``*_pct`` (a percentage number) →
    ``0.00``; years → ``0.0``; lon/lat → 6 decimals.
    """
    if col in _PERCENT or col.endswith("_pct_share"):
        return FORMATS["share"]
    if col in _INTS or (col.startswith("grade_") and col[6:] in ("A", "B", "C", "D", "T")):
        return FORMATS["int"]
    if col.startswith("part_") or col in _SCORES:
        return FORMATS["score"]
    if col.endswith("_pct") or col.startswith("change_pct_"):
        return FORMATS["ratio"]
    if col in ("lon", "lat"):
        return FORMATS["degrees"]
    if col.endswith("_years"):
        return FORMATS["years"]
    if col.endswith("_mu") or col.endswith("_per_mu"):
        return FORMATS["mu"]
    if col.endswith("_wan") or col.startswith("consequence_"):
        return FORMATS["wan"]
    if col.endswith("_m2"):
        return FORMATS["m2"]
    base = col.split("_", 1)[1] if col.startswith(("benchmark_", "change_", "gap_")) else col
    if base in INDICATORS or base in _FIGURES_2DP:
        return FORMATS["wan"]
    if col.endswith("_mean"):  # raster statistics
        return "0.000"
    return None


_UNIT = re.compile(r"^(.*?)（([^（）]*)）$")


def header(col: str, lang: str = "zh") -> str:
    """The header of a canonical column: the label table's text (with its unit), or a derived one for
    year-on-year changes (``change_pct_tax_per_mu`` → "亩均税收同比变化（%）")."""
    if col in LABELS or not col.startswith("change_"):
        return label(col, lang)
    pct = col.startswith("change_pct_")
    base = col[len("change_pct_"):] if pct else col[len("change_"):]
    if base not in LABELS:
        return col
    text = label(base, lang)
    if lang == "en":
        m = re.match(r"^(.*?) \(([^()]*)\)$", text)
        name, unit = (m.group(1), m.group(2)) if m else (text, "")
        unit = "%" if pct else unit
        return f"{name} change" + (f" ({unit})" if unit else "")
    m = _UNIT.match(text)
    name, unit = (m.group(1), m.group(2)) if m else (text, "")
    if pct:
        unit = "%"
    elif base in _PERCENT:
        unit = "百分点"
    return f"{name}{label('change_suffix', lang)}" + (f"（{unit}）" if unit else "")


def _width(text: str) -> int:
    """Display width: East Asian wide characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def safe_sheet_name(name: str, taken: set[str]) -> str:
    """A valid, unique Excel sheet name: ``[]:*?/\\`` replaced by ``_``, no leading or trailing
    apostrophe, at most 31 characters (UTF-16 units), not the reserved "History", unique ignoring case
    (a ``(2)``, ``(3)`` … suffix)."""
    s = re.sub(r"[\[\]:*?/\\\x00-\x1f]", "_", str(name)).strip().strip("'")
    if not s or s.lower() == "history":
        s = f"{s or 'Sheet'}_"

    def cut(text: str, n: int) -> str:
        while _utf16_len(text) > n:
            text = text[:-1]
        return text.rstrip("'") or "_"

    s = cut(s, 31)
    base, i = s, 2
    low = {t.lower() for t in taken}
    while s.lower() in low:
        suffix = f"({i})"
        s = cut(base, 31 - len(suffix)) + suffix
        i += 1
    taken.add(s)
    return s


@dataclass
class Sheet:
    """One sheet: a frame, its columns (canonical names) and optional header overrides."""

    name: str
    frame: pd.DataFrame
    headers: dict[str, str] = field(default_factory=dict)  # canonical → header text (else the label table)


def created_time() -> dt.datetime:
    """Workbook creation time: SOURCE_DATE_EPOCH when set, else now (UTC, naive for xlsxwriter)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).replace(tzinfo=None)
    return dt.datetime.now(tz=dt.UTC).replace(tzinfo=None, microsecond=0)


def write_workbook(path: str | os.PathLike, sheets: Sequence[Sheet], *, lang: str = "zh",
                   notes: dict[str, object] | None = None, title: str | None = None) -> Path:
    """Write ``sheets`` (and a notes sheet when ``notes`` is given) into one workbook, atomically."""
    path = Path(path)
    big = any(len(s.frame) > CONSTANT_MEMORY_ROWS for s in sheets)
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {
            "constant_memory": big, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False, "nan_inf_to_errors": False,
        })
        wb.set_properties({"title": title or path.stem, "author": "parkland", "created": created_time()})
        head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                              "valign": "vcenter"})
        fmts: dict[str, object] = {"quote": wb.add_format({"quote_prefix": True})}
        taken: set[str] = set()
        fast: dict[int, _Rows] = {}
        # a list longer than Excel's sheet continues on the next sheet ("名称(2)" …): no row is dropped
        parts = [Sheet(sh.name, sh.frame.iloc[a:a + MAX_ROWS], sh.headers)
                 for sh in sheets for a in range(0, max(len(sh.frame), 1), MAX_ROWS)]
        for k, sh in enumerate(parts, start=1):  # sheet k is xl/worksheets/sheet<k>.xml
            rows = _write_sheet(wb, sh, head, fmts, taken, lang)
            if rows is not None:
                fast[k] = rows
        if notes:
            ws = wb.add_worksheet(safe_sheet_name("说明" if lang != "en" else "notes", taken))
            ws.set_column(0, 0, 24)
            ws.set_column(1, 1, 80)
            _cell_text(ws, 0, 0, "项目" if lang != "en" else "item", head)
            _cell_text(ws, 0, 1, "内容" if lang != "en" else "value", head)
            for i, (k, v) in enumerate(notes.items(), start=1):
                text = "" if v is None else str(v)
                _cell_text(ws, i, 0, str(k))
                _cell_text(ws, i, 1, text, fmts["quote"] if text.startswith(FORMULA_START) else None)
        wb.close()
        if fast:
            _put_rows(tmp, fast)
    return path


_RICH_LOOKALIKE = re.compile(r"<r>.*</r>", flags=re.S)


def _cell_text(ws: Any, row: int, col: int, text: str, fmt: Any = None) -> None:
    """One text cell through xlsxwriter, exactly as given. A text shaped like ``<r>…</r>`` goes in as a
    rich string of plain runs (xlsxwriter would copy it into the XML raw and corrupt the file)."""
    if _RICH_LOOKALIKE.fullmatch(text):
        parts: list[Any] = [text[:1], text[1:-1], text[-1:]]  # xlsxwriter needs three fragments or more
        ws.write_rich_string(row, col, *parts, *([fmt] if fmt is not None else []))
    else:
        ws.write_string(row, col, text, fmt)


def _naive_dates(s: pd.Series) -> pd.Series:
    """Datetimes for Excel: parsed, and a time-zone-aware column as its local wall-clock time."""
    t = pd.to_datetime(s, errors="coerce")
    return t.dt.tz_localize(None) if getattr(t.dt, "tz", None) is not None else t


def _kind(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s) or isinstance(s.dtype, pd.BooleanDtype):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date"
    if pd.api.types.is_numeric_dtype(s):
        return "num"
    return "text"


def _write_sheet(wb, sh: Sheet, head, fmts: dict, taken: set[str], lang: str) -> _Rows | None:
    """Write one sheet's header, widths, panes and filter, and return its data rows for :func:`_put_rows`
    (None when it has none)."""
    df = sh.frame
    ws = wb.add_worksheet(safe_sheet_name(sh.name, taken))
    cols = list(df.columns)
    headers = [sh.headers.get(c) or header(c, lang) for c in cols]
    kinds = [_kind(df[c]) for c in cols]
    n = min(len(df), MAX_ROWS)
    yes, no = ("是", "否") if lang != "en" else ("yes", "no")

    # values as arrays, text already rendered (booleans as 是/否)
    arrays: list[np.ndarray] = []
    cell_fmts: list[object] = []
    for c, k in zip(cols, kinds):
        s = df[c].iloc[:n]
        nf = FORMATS["date"] if k == "date" else number_format(c) if k == "num" else None
        if nf and nf not in fmts:
            fmts[nf] = wb.add_format({"num_format": nf})
        cell_fmts.append(fmts.get(nf) if nf else None)
        if k == "num":
            arrays.append(pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan))
        elif k == "date":
            arrays.append(np.empty(0))  # made as serial numbers below; the column width is fixed
        elif k == "bool" and not s.hasnans:  # 是/否 straight from the Booleans (no test per cell)
            arrays.append(np.where(s.to_numpy(dtype=bool), yes, no).astype(object))
        else:
            obj = s.astype(object)
            present = obj.notna().to_numpy(bool)
            kind = pd.api.types.infer_dtype(obj, skipna=True)  # one C pass: all text is the usual case
            if kind in ("string", "empty"):
                out = np.where(present, obj.to_numpy(), None).astype(object)
            else:
                isbool = obj.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(bool)
                out = np.where(present, obj.map(str, na_action="ignore").to_numpy(), None).astype(object)
                if isbool.any():
                    out[isbool] = np.where(obj[isbool].astype(bool).to_numpy(), yes, no)
            arrays.append(out)

    # column widths from the header and the first 500 rows, set before any row (constant_memory)
    head_lines = 1
    for j, (k, h) in enumerate(zip(kinds, headers)):
        a = arrays[j][:500]
        if k == "num":
            fin = a[np.isfinite(a)]
            big = float(np.abs(fin).max()) if len(fin) else 0.0
            data_w = len(f"{big:,.2f}") + (1 if (fin < 0).any() else 0)
        elif k == "date":
            data_w = 10
        else:
            data_w = max((_width(v) for v in set(a.tolist()) if v is not None), default=0)  # distinct values
        hw = _width(h)
        w = min(max(data_w, min(hw, 24), 6) + 2, 60)
        head_lines = max(head_lines, math.ceil(hw / max(w - 1, 1)))
        ws.set_column(j, j, w)
    if head_lines > 1:
        ws.set_row(0, 15 * min(head_lines, 4) + 2)

    for j, h in enumerate(headers):
        _cell_text(ws, 0, j, h, head)
    ws.freeze_panes(1, 0)
    if cols:
        ws.autofilter(0, 0, max(n, 1), len(cols) - 1)
    if n == 0 or not cols:
        return None
    quote = fmts["quote"]
    # dates as Excel serial numbers with the date format: the cells xlsxwriter's write_datetime makes
    columns = [("num", excel_serials(_naive_dates(df[c].iloc[:n])), fm) if k == "date"
               else ("num" if k == "num" else "text", a, fm) for c, k, a, fm in zip(cols, kinds, arrays, cell_fmts)]
    if BY_CELL:
        _rows_by_cell(ws, columns, n, quote)
        return None
    head._get_xf_index()  # style indices in the order xlsxwriter gives them: header, columns, quote
    spec = [(kind, values, fm._get_xf_index() if fm is not None else None) for kind, values, fm in columns]
    return _Rows(spec, n, quote._get_xf_index())


def _rows_by_cell(ws: Any, columns: list[tuple[str, np.ndarray, Any]], n: int, quote: Any) -> None:
    """The same data rows through xlsxwriter's own per-cell calls: the reference :func:`rows_xml` is
    tested and benchmarked against (``BY_CELL``), not used in a run."""
    plan: list[tuple[list, Any, list]] = []
    for kind, values, fm in columns:
        if kind == "num":
            v = np.asarray(values, dtype=float)
            plan.append(([x if math.isfinite(x) else None for x in v.tolist()], ws.write_number, [fm] * n))
        else:
            s = pd.Series(values, dtype=object)
            risky = s.str.startswith(FORMULA_START).fillna(False).tolist()
            plan.append((list(values), lambda r, c, v, f: _cell_text(ws, r, c, v, f),
                         [quote if x else None for x in risky]))
    for i in range(n):
        for j, (vals, write, fms) in enumerate(plan):
            if vals[i] is not None:
                write(i + 1, j, vals[i], fms[i])


# --------------------------------------------------------------------------------------------------
# data rows as sheet XML, column by column
# --------------------------------------------------------------------------------------------------
@dataclass
class _Rows:
    """The data rows of one sheet: (kind "num"/"text", values, style index) per column, the row count
    and the style index of the quote-prefix format (text cells that start like a formula)."""

    columns: list[tuple[str, np.ndarray, int | None]]
    n: int
    quote_style: int


_EPOCH_US = np.datetime64("1899-12-31T00:00:00", "us")
_DAY_US = 86_400_000_000


def excel_serials(t: pd.Series) -> np.ndarray:
    """Excel 1900-system serial numbers of naive datetimes (NaN where missing), computed as xlsxwriter
    does: days since 1899-12-31 + (seconds + µs / 10⁶) / 86400, minus 1 on 1900-01-01 (its time-only
    rule), plus 1 after 1900-02-28 (Excel's leap day 1900-02-29). In microseconds, so every date pandas
    holds (9999-12-31 included) is exact."""
    v = t.to_numpy(dtype="datetime64[us]")
    ok = ~np.isnat(v)
    us_all = np.where(ok, (v - _EPOCH_US).astype("int64"), 0)
    days = us_all // _DAY_US
    rem = us_all - days * _DAY_US
    secs, us = rem // 1_000_000, rem % 1_000_000
    serial = days + (secs.astype(float) + us.astype(float) / 1e6) / 86400
    serial = np.where(days == 1, serial - 1, serial)  # xlsxwriter's rule for ISO date 1900-W01-1 (1900-01-01)
    serial = np.where(serial > 59, serial + 1, serial)
    return np.where(ok, serial, np.nan)


_NEEDS_ESCAPE = r"[\x00-\x08\x0b-\x1f\ufffe\uffff]|_x[0-9a-fA-F]{4}_"
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_ESCAPED = re.compile(r"(_x[0-9a-fA-F]{4}_)")


def _excel_escape(text: str) -> str:
    """Excel's escapes of one string: a literal ``_xHHHH_`` gets ``_x005F`` before it, a control
    character becomes ``_xHHHH_``, U+FFFE/U+FFFF become ``_xFFFE_``/``_xFFFF_`` (as xlsxwriter)."""
    text = _ESCAPED.sub(r"_x005F\1", text)
    text = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", text)
    return text.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")


def _join(*parts: Any) -> pa.Array:
    """Element-wise concatenation; null when any part is null (an empty cell)."""
    return pc.binary_join_element_wise(*parts, "", null_handling="emit_null")


_RE2_NEEDS_ESCAPE = r"[\x00-\x08\x0b-\x1f\x{fffe}\x{ffff}]|_x[0-9a-fA-F]{4}_"


def _text_cells(values: np.ndarray, ref: pa.Array, quote_style: int) -> pa.Array:
    """Inline-string cells of one text column, all in Arrow compute (C++); Python only for the rare
    cells that need Excel's control-character escapes or are longer than Excel's 32,767 characters.
    A column of few distinct texts (a park, a grade, a reason) is rendered once per distinct text and
    taken from there."""
    arr = pa.array(values, type=pa.string(), from_pandas=True)
    if len(arr) >= 4 * _FEW_DISTINCT:
        head = arr.slice(0, 2 * _FEW_DISTINCT)
        if pc.count_distinct(head, mode="all").as_py() < _FEW_DISTINCT:  # a sample first: one cheap test
            enc = pc.dictionary_encode(arr)
            if len(enc.dictionary) * 4 <= len(arr):
                return _join('<c r="', ref, '"', _text_tail(enc.dictionary, quote_style).take(enc.indices))
    return _join('<c r="', ref, '"', _text_tail(arr, quote_style))


#: a text column is rendered per distinct text when its first 2 × this many cells hold fewer distinct ones
_FEW_DISTINCT = 256


def _text_tail(arr: pa.Array, quote_style: int) -> pa.Array:
    """What follows ``<c r="A2"`` in the inline-string cell of each text (null: no cell)."""
    risky = formula_start(arr)  # on the text as given (a leading CR is escaped below)
    too_long = pc.fill_null(pc.greater(pc.utf8_length(arr), 32_767), False)
    need = pc.fill_null(pc.match_substring_regex(arr, _RE2_NEEDS_ESCAPE), False)
    if pc.any(too_long).as_py() or pc.any(need).as_py():
        obj = np.array(arr.to_pylist(), dtype=object)
        for i in np.flatnonzero(too_long.to_numpy(zero_copy_only=False)):
            obj[i] = obj[i][:32_767]
        for i in np.flatnonzero(need.to_numpy(zero_copy_only=False)):
            obj[i] = _excel_escape(obj[i])
        arr = pa.array(obj, type=pa.string(), from_pandas=True)
    preserve = space_at_ends(arr)  # whitespace at an end (xlsxwriter tests Python's \s there)
    text = arr
    if pc.any(pc.match_substring_regex(arr, "[&<>]")).as_py():  # most columns have none of them
        text = pc.replace_substring(arr, "&", "&amp;")
        text = pc.replace_substring(pc.replace_substring(text, "<", "&lt;"), ">", "&gt;")
    style = pc.if_else(risky, f' s="{quote_style}"', "")
    space = pc.if_else(preserve, ' xml:space="preserve"', "")
    return _join(style, ' t="inlineStr"><is><t', space, ">", text, "</t></is></c>")


def _num_text(v: np.ndarray) -> np.ndarray:
    """``%.16G`` of finite floats (xlsxwriter's number format) as a numpy text array. Whole numbers
    below 10¹⁵ in magnitude (not -0.0) are written by numpy's integer formatting, which gives the same
    digits ~4× faster; the others go through ``%.16G`` itself."""
    whole = (v == np.round(v)) & (np.abs(v) < 1e15) & ~((v == 0) & np.signbit(v))
    if whole.all():
        return v.astype(np.int64).astype(str)
    text = np.char.mod("%.16G", v).astype(object)
    if whole.any():
        text[whole] = v[whole].astype(np.int64).astype(str)
    return text


def _num_cells(values: np.ndarray, ref: pa.Array, style: int | None) -> pa.Array:
    """Number cells of one column (NaN and ±inf: no cell). A column of few distinct numbers (counts,
    a running total) is formatted once per distinct number (told apart by their bits: -0.0 is not 0.0)."""
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(v)
    fin = np.where(ok, v, 0.0)
    text = None
    if len(fin) >= 4 * _FEW_DISTINCT and len(np.unique(fin[:2 * _FEW_DISTINCT])) < _FEW_DISTINCT:
        bits, inverse = np.unique(fin.view(np.int64), return_inverse=True)
        if len(bits) * 4 <= len(fin):
            text = _num_text(bits.view(np.float64))[inverse]
    body = pa.array(_num_text(fin) if text is None else text, type=pa.string(), mask=~ok)
    attr = f' s="{style}"' if style is not None else ""
    return _join('<c r="', ref, f'"{attr}><v>', body, "</v></c>")


def rows_xml(rows: _Rows, start: int = 0, stop: int | None = None) -> bytes:
    """The ``<row>`` elements of data rows ``start``…``stop`` (0-based; sheet rows 2, 3, …), as
    xlsxwriter writes them in constant_memory mode: ``<row r="i">`` then a ``<c>`` per non-empty cell
    (numbers ``%.16G``, text as an inline string), and no element for a row without any value."""
    stop = rows.n if stop is None else min(stop, rows.n)
    if stop <= start:
        return b""
    rnum = pa.array(np.arange(start + 2, stop + 2).astype(str).astype(object), type=pa.string())
    cells = []
    for j, (kind, values, style) in enumerate(rows.columns):
        ref = _join(xl_col_to_name(j), rnum)
        part = values[start:stop]
        cells.append(_num_cells(part, ref, style) if kind == "num" else _text_cells(part, ref, rows.quote_style))
    if not cells:
        return b""
    body = pc.binary_join_element_wise(*cells, "", null_handling="replace", null_replacement="")
    full = _join('<row r="', rnum, '">', body, "</row>")
    full = full.filter(pc.not_equal(pc.utf8_length(body), 0))
    return _concat(full)


def _concat(arr: pa.Array) -> bytes:
    """The UTF-8 bytes of every value of a string array, one after the other (read straight from its
    data buffer: a null or empty value spans no bytes)."""
    if len(arr) == 0:
        return b""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32, count=len(arr) + 1, offset=4 * arr.offset)
    return memoryview(arr.buffers()[2])[int(offsets[0]):int(offsets[-1])].tobytes()


def _put_rows(path: Path, fast: dict[int, _Rows]) -> None:
    """Put the data rows into the sheets of the workbook xlsxwriter wrote at ``path`` (header row only
    in those sheets), fixing each sheet's ``<dimension>``; every other part is copied as it is."""
    tmp = path.with_name(path.name + ".rows")
    try:
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                m = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", info.filename)
                data = src.read(info.filename)
                if not m or int(m.group(1)) not in fast:
                    dst.writestr(info, data)
                    continue
                rows = fast[int(m.group(1))]
                xml = data.decode("utf-8")
                end = xml.index("</sheetData>")
                last = xl_rowcol_to_cell(rows.n, max(len(rows.columns) - 1, 0))
                head = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="A1:{last}"/>', xml[:end], count=1)
                out = zipfile.ZipInfo(info.filename, info.date_time)
                out.compress_type = zipfile.ZIP_DEFLATED
                # deflate level 1: 3× faster than the default 6, the file ~25 % larger (``_compresslevel`` is
                # what zipfile reads on 3.11–3.14; 3.13 added ``compress_level`` as its public name)
                out._compresslevel = 1
                with dst.open(out, "w", force_zip64=True) as fh:  # the size is known only at the end
                    fh.write(head.encode("utf-8"))
                    for a in range(0, rows.n, _CHUNK_ROWS):
                        fh.write(rows_xml(rows, a, a + _CHUNK_ROWS))
                    fh.write(xml[end:].encode("utf-8"))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
