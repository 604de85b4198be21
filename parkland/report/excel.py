"""The one Excel writer (xlsxwriter): Chinese headers with units, frozen header row, autofilter, number
formats, fitted column widths, a notes sheet, never a formula.

* Every text cell is written as a string (``strings_to_formulas`` off): a firm called ``=HYPERLINK(…)``
  stays text, never a formula; numeric columns stay numbers.
* Long lists use ``constant_memory`` mode (rows streamed in order).
* The workbook's creation time honours ``SOURCE_DATE_EPOCH``; the file is written atomically.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from .export import atomic_path
from .labels import label

#: Excel's limit for one sheet, less the header
MAX_ROWS = 1_048_575

#: canonical column → number format
FORMATS = {
    "mu": "#,##0.00",  # 亩
    "wan": "#,##0.00",  # 万元
    "m2": "#,##0",
    "share": "0.0%",
    "ratio": "0.00",
    "int": "0",
    "score": "0.00",
    "date": "yyyy-mm-dd",
}
_PERCENT = {"building_coverage", "coverage_min", "land_share", "rd_intensity", "unassigned_share",
            "developed_share", "developed_share_used", "investment_share", "share"}
_INTS = {"source_row", "file_row", "rank", "firm_count", "operating_firms", "building_count", "parcels",
         "firms", "employees", "graded_count", "parcel_count", "tier", "idle_buildings"}


def number_format(col: str) -> str | None:
    """The Excel number format of a canonical column name (None: general)."""
    if col in _PERCENT or col.endswith("_pct_share"):
        return FORMATS["share"]
    if col in _INTS or (col.startswith("grade_") and col[6:] in ("A", "B", "C", "D", "T")):
        return FORMATS["int"]
    if col.endswith("_mu") or col.endswith("_per_mu"):
        return FORMATS["mu"]
    if col.endswith("_wan") or col.startswith("consequence_"):
        return FORMATS["wan"]
    if col.endswith("_m2"):
        return FORMATS["m2"]
    if col.startswith("part_") or col in ("score", "priority_score", "gap_score") or col.startswith("benchmark_"):
        return FORMATS["score"]
    if col.endswith("_pct") or col.startswith("change_pct_"):
        return "0.00"
    return None


def _width(text: str) -> int:
    """Display width: East Asian wide characters count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def safe_sheet_name(name: str, taken: set[str]) -> str:
    """A valid, unique Excel sheet name (no []:*?/\\, at most 31 characters)."""
    s = re.sub(r"[\[\]:*?/\\]", "_", str(name)).strip("'") or "Sheet"
    s = s[:31]
    base, i = s, 2
    while s.lower() in {t.lower() for t in taken}:
        suffix = f"({i})"
        s = base[: 31 - len(suffix)] + suffix
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
    big = any(len(s.frame) > 20_000 for s in sheets)
    with atomic_path(path) as tmp:
        wb = xlsxwriter.Workbook(str(tmp), {
            "constant_memory": big, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False, "nan_inf_to_errors": False,
        })
        wb.set_properties({"title": title or path.stem, "author": "parkland", "created": created_time()})
        head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                              "valign": "vcenter"})
        fmts: dict[str, object] = {}
        taken: set[str] = set()
        for sh in sheets:
            _write_sheet(wb, sh, head, fmts, taken, lang)
        if notes:
            ws = wb.add_worksheet(safe_sheet_name("说明" if lang != "en" else "notes", taken))
            ws.write_string(0, 0, "项目" if lang != "en" else "item", head)
            ws.write_string(0, 1, "内容" if lang != "en" else "value", head)
            for i, (k, v) in enumerate(notes.items(), start=1):
                ws.write_string(i, 0, str(k))
                ws.write_string(i, 1, "" if v is None else str(v))
            ws.set_column(0, 0, 24)
            ws.set_column(1, 1, 80)
        wb.close()
    return path


def _write_sheet(wb, sh: Sheet, head, fmts: dict, taken: set[str], lang: str) -> None:
    df = sh.frame
    ws = wb.add_worksheet(safe_sheet_name(sh.name, taken))
    cols = list(df.columns)
    headers = [sh.headers.get(c) or label(c, lang) for c in cols]
    for j, h in enumerate(headers):
        ws.write_string(0, j, h, head)
    kinds = []
    for c in cols:
        s = df[c]
        if pd.api.types.is_bool_dtype(s) or isinstance(s.dtype, pd.BooleanDtype):
            kinds.append("bool")
        elif pd.api.types.is_datetime64_any_dtype(s):
            kinds.append("date")
        elif pd.api.types.is_numeric_dtype(s):
            kinds.append("num")
        else:
            kinds.append("text")
    cell_fmts = []
    for c, k in zip(cols, kinds):
        nf = FORMATS["date"] if k == "date" else number_format(c) if k == "num" else None
        if nf and nf not in fmts:
            fmts[nf] = wb.add_format({"num_format": nf})
        cell_fmts.append(fmts.get(nf) if nf else None)
    yes, no = ("是", "否") if lang != "en" else ("yes", "no")
    arrays = []
    for c, k in zip(cols, kinds):
        s = df[c]
        if k == "num":
            arrays.append(pd.to_numeric(s, errors="coerce").to_numpy(dtype=float))
        elif k == "date":
            arrays.append(pd.to_datetime(s, errors="coerce").dt.to_pydatetime())
        else:
            arrays.append(s.astype(object).to_numpy())
    widths = [_width(h) for h in headers]
    n = min(len(df), MAX_ROWS)
    for i in range(n):
        r = i + 1
        for j, k in enumerate(kinds):
            v = arrays[j][i]
            if k == "num":
                if np.isfinite(v):
                    ws.write_number(r, j, float(v), cell_fmts[j])
                continue
            if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
                continue
            if k == "date":
                ws.write_datetime(r, j, v, cell_fmts[j])
                continue
            if k == "bool" or isinstance(v, (bool, np.bool_)):
                text = yes if bool(v) else no
            else:
                text = str(v)
            ws.write_string(r, j, text)
            if i < 500:
                widths[j] = max(widths[j], _width(text))
    for j, (k, w) in enumerate(zip(kinds, widths)):
        if k == "num":
            w = max(w, 12)
        elif k == "date":
            w = max(w, 11)
        ws.set_column(j, j, min(max(w + 2, 6), 60))
    ws.freeze_panes(1, 0)
    if cols:
        ws.autofilter(0, 0, max(n, 1), len(cols) - 1)
