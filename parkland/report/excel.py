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
* Long lists (> 20,000 rows in a sheet) use ``constant_memory`` mode (rows streamed in order); column
  widths are fitted from the header and the first 500 rows before any row is written.
* The workbook's creation time honours ``SOURCE_DATE_EPOCH``; the file is written atomically. The same
  frames give workbooks with equal cell values and formats.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter

from ..schema import INDICATORS
from .export import FORMULA_START, atomic_path
from .labels import LABELS, label

#: Excel's limit for one sheet, less the header
MAX_ROWS = 1_048_575
#: rows in one sheet above which the workbook is written in constant_memory mode
CONSTANT_MEMORY_ROWS = 20_000

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
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.timezone.utc).replace(tzinfo=None)
    return dt.datetime.now(tz=dt.timezone.utc).replace(tzinfo=None, microsecond=0)


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
        for sh in sheets:
            _write_sheet(wb, sh, head, fmts, taken, lang)
        if notes:
            ws = wb.add_worksheet(safe_sheet_name("说明" if lang != "en" else "notes", taken))
            ws.set_column(0, 0, 24)
            ws.set_column(1, 1, 80)
            ws.write_string(0, 0, "项目" if lang != "en" else "item", head)
            ws.write_string(0, 1, "内容" if lang != "en" else "value", head)
            for i, (k, v) in enumerate(notes.items(), start=1):
                text = "" if v is None else str(v)
                ws.write_string(i, 0, str(k))
                ws.write_string(i, 1, text, fmts["quote"] if text.startswith(FORMULA_START) else None)
        wb.close()
    return path


def _kind(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s) or isinstance(s.dtype, pd.BooleanDtype):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "date"
    if pd.api.types.is_numeric_dtype(s):
        return "num"
    return "text"


def _write_sheet(wb, sh: Sheet, head, fmts: dict, taken: set[str], lang: str) -> None:
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
            arrays.append(pd.to_datetime(s, errors="coerce").dt.to_pydatetime())
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
            data_w = max((_width(v) for v in a if v is not None), default=0)
        hw = _width(h)
        w = min(max(data_w, min(hw, 24), 6) + 2, 60)
        head_lines = max(head_lines, math.ceil(hw / max(w - 1, 1)))
        ws.set_column(j, j, w)
    if head_lines > 1:
        ws.set_row(0, 15 * min(head_lines, 4) + 2)

    for j, h in enumerate(headers):
        ws.write_string(0, j, h, head)
    quote = fmts["quote"]
    # per column: plain Python values (None = leave the cell empty), the writer and the format(s), so the
    # row loop below does no numpy scalar work (xlsxwriter itself writes cell by cell)
    columns: list[tuple[list, Any, Any]] = []
    for j, k in enumerate(kinds):
        a = arrays[j]
        if k == "num":
            vals = np.where(np.isfinite(a), a, np.nan).tolist()
            vals = [None if v != v else v for v in vals]  # NaN → None
            columns.append((vals, ws.write_number, cell_fmts[j]))
        elif k == "date":
            vals = [None if v is None or v is pd.NaT or pd.isna(v) else v for v in a]
            columns.append((vals, ws.write_datetime, cell_fmts[j]))
        else:
            vals = list(a)
            risky = pd.Series(a, dtype=object).str.startswith(FORMULA_START).fillna(False).to_numpy(bool)
            fm = [quote if x else None for x in risky.tolist()]
            columns.append((vals, ws.write_string, fm))
    for j, (vals, write, fm) in enumerate(columns):
        per_cell = isinstance(fm, list)
        columns[j] = (vals, write, fm, per_cell)
    for i in range(n):
        r = i + 1
        for j, (vals, write, fm, per_cell) in enumerate(columns):
            v = vals[i]
            if v is not None:
                write(r, j, v, fm[i] if per_cell else fm)
    ws.freeze_panes(1, 0)
    if cols:
        ws.autofilter(0, 0, max(n, 1), len(cols) - 1)
