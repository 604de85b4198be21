"""The firm table (企业亩均数据表): CSV or Excel → the canonical firm frame.

One row per data record, in file order. Headers are matched through :mod:`parkland.io.columns` and
figures converted to canonical units (``value = cell × factor``, e.g. 营业收入（元） × 10⁻⁴ → 万元). Cells
that cannot be read become missing and are listed in reconciliation with file row and column; negative
figures and bad credit codes are kept and listed; a trailing 合计/总计 row is dropped and listed.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from parkland import recon
from parkland.errors import InputError
from parkland.io import columns as cols
from parkland.io import values as V
from parkland.io.tables import read_table
from parkland.schema import FIRM_FIGURES
from parkland.uscc import valid_mask

#: output columns, in order (any other input column follows under its own header)
FIRM_COLUMNS = ["source_row", "file_row", "uscc", "uscc_raw", "uscc_valid", "name", "parcel_ids", "scale",
                *FIRM_FIGURES, "industry_code", "park", "established", "lon", "lat", "year"]
_TOTAL = r"(?i)(合计|总计|小计|累计|共计|总合计|全部合计|total|sum|grand ?total)[:：]?"


class Recorder:
    """Collects reconciliation records for one input file (vectorised over masks)."""

    def __init__(self, source: str, raw: pd.DataFrame, key: pd.Series) -> None:
        self.source = source
        self.raw = raw
        self.key = key
        self.frames: list[pd.DataFrame] = []

    def rows(self, code: str, mask: pd.Series, zh, en, action: str, column: str | None, *,
             quote: pd.Series | None = None) -> None:
        """Records for the rows where ``mask`` is True; ``zh``/``en`` are str or Series on the index.

        With ``quote`` (cells on the index), ``zh``/``en`` are templates holding one ``{}``, filled with
        the quoted cell (:func:`_quote`) of each flagged row: only those rows are quoted and formatted."""
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        sub = self.raw.loc[mask]
        if quote is not None:
            text = _quote(quote[mask])
            zh, en = _fill(zh, text), _fill(en, text)
        zh = zh[mask] if isinstance(zh, pd.Series) else zh
        en = en[mask] if isinstance(en, pd.Series) else en
        self.frames.append(recon.records(self.source, code, zh, en, action, source_row=sub["source_row"],
                                         file_row=sub["file_row"], key=self.key[mask].fillna(""),
                                         column=column or ""))

    def file(self, code: str, zh: str, en: str, action: str = "kept", column: str | None = None) -> None:
        """A note about the whole file (no row)."""
        self.frames.append(recon.record(self.source, code, zh, en, action, column=column or ""))

    def result(self) -> pd.DataFrame:
        """All records, file-level notes first, then by source_row (stable)."""
        out = recon.concat(self.frames)
        return out.sort_values("source_row", kind="stable", na_position="first").reset_index(drop=True)


def _quote(s: pd.Series) -> pd.Series:
    """Cells as text for messages ("" when empty)."""
    return V.to_text(s).fillna("").astype(str)


def _fill(template: str, text: pd.Series) -> pd.Series:
    """``template`` with its one ``{}`` replaced by each of ``text`` (vectorised concatenation)."""
    before, after = template.split("{}")
    return before + text + after


def numbers(raw: pd.Series, match: cols.ColumnMatch, rec: Recorder, header: str,
            default_factor: float | None = None) -> pd.Series:
    """A figure column: parsed (:func:`values.parse_numbers`), × the header unit's factor (or
    ``default_factor`` when the header has no unit), bad cells listed (BAD_NUMBER), negatives listed
    (NEGATIVE_VALUE, kept). A cell written with ``%`` is already a ratio and is not scaled again."""
    v, bad, pct = V._parse_numbers(raw)
    factor = match.factor if match.unit is not None else (default_factor or 1.0)
    if factor != 1.0:
        v = v.where(pct, v * factor)
    rec.rows("BAD_NUMBER", bad, "无法识别的数字「{}」，按缺失处理", "unreadable number '{}', treated as missing",
             "kept", header, quote=raw)
    rec.rows("NEGATIVE_VALUE", v < 0, "负数「{}」（如退税），保留并列出，请核实",
             "negative figure '{}' (e.g. a refund) kept: please check", "kept", header, quote=raw)
    return v.astype("float64")


def credit_codes(raw: pd.Series, rec: Recorder, header: str,
                 uscc_raw: pd.Series | None = None) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(uscc, uscc_raw, uscc_valid): normalised code (None when empty or in scientific notation), the
    cell as written, and the check-digit test of :func:`parkland.uscc.valid_mask`. Bad codes are kept and
    listed (BAD_USCC); codes Excel turned into numbers are listed (USCC_SCIENTIFIC) and not guessed.
    ``uscc_raw``: ``values.normalise_text(raw)`` when the caller has it already."""
    uscc_raw = V.normalise_text(raw) if uscc_raw is None else uscc_raw
    uscc = V.normalise_codes(raw)
    # a valid code may hold "E" between digits (…212E1): only invalid codes can be Excel's notation
    valid = valid_mask(uscc)  # also the test after the codes in notation are blanked: they are invalid
    sci = V.scientific_mask(uscc) & ~valid
    rec.rows("USCC_SCIENTIFIC", sci, "统一社会信用代码「{}」被 Excel 存成了科学计数法，无法还原，请改为文本格式重新导出",
             "credit code '{}' was stored by Excel in scientific notation and cannot be recovered: "
             "export the column as text", "kept", header, quote=uscc_raw)
    uscc = uscc.where(~sci, None)
    rec.rows("BAD_USCC", uscc.notna() & ~valid, "统一社会信用代码「{}」校验不通过（长度、字符或校验位有误），保留并列出",
             "credit code '{}' fails the check (length, characters or check digit): kept",
             "kept", header, quote=uscc_raw)
    uscc, uscc_raw = uscc.astype(object), uscc_raw.astype(object)
    # where the code is the cell as written, both columns hold the same string object: equal values, and
    # the frame pickles (to a worker's parent) the string once
    u, r = uscc.to_numpy(), uscc_raw.to_numpy()
    same = u == r
    if same.any():
        uscc = pd.Series(np.where(same, r, u), index=uscc.index, dtype=object, name=uscc.name)
    return uscc, uscc_raw, valid.astype(bool)


def code_lists(raw: pd.Series, rec: Recorder, header: str) -> tuple[pd.Series, pd.Series]:
    """Parcel-code cells → (long Series of codes indexed by row, the ";"-joined codes per row).

    Several codes per cell are split, normalised, a 28-character 不动产单元号 cut to its 宗地代码 (first 19
    characters); codes in scientific notation are listed (PARCEL_ID_SCIENTIFIC) and left out."""
    long = V.split_codes(raw)
    sci = V.scientific_mask(long)
    if sci.any():
        bad_rows = pd.Series(False, index=raw.index)
        bad_rows[long[sci].index.unique()] = True
        rec.rows("PARCEL_ID_SCIENTIFIC", bad_rows, "宗地代码「{}」被 Excel 存成了科学计数法，无法还原，未使用",
                 "parcel code '{}' was stored by Excel in scientific notation and cannot be recovered: not used",
                 "kept", header, quote=V.normalise_text(raw))
        long = long[~sci]
    long = V.parcel_codes(long)
    return long, V.join_codes(long, raw.index)


def dates(raw: pd.Series, rec: Recorder, header: str,
          parsed: tuple[pd.Series, pd.Series] | None = None) -> pd.Series:
    """The column's dates (``parsed``: :func:`parkland.io.values.parse_dates` of ``raw``, when already
    parsed with other columns), unreadable ones listed as BAD_DATE and left missing."""
    d, bad = parsed if parsed is not None else V.parse_dates(raw)
    rec.rows("BAD_DATE", bad, "无法识别的日期「{}」，按缺失处理", "unreadable date '{}', treated as missing", "kept",
             header, quote=raw)
    return d


def column_notes(matches: dict[str, cols.ColumnMatch], rec: Recorder) -> None:
    """File-level records: headers whose unit is not understood, and repeated columns."""
    best = {m.canonical: h for h, m in matches.items() if m.canonical}
    for h, m in matches.items():
        if m.canonical and not m.unit_known and cols.ALIASES[m.canonical][0] is not None:
            unit = cols.CANONICAL_UNIT[cols.ALIASES[m.canonical][0]]
            rec.file("UNKNOWN_UNIT", f"列「{h}」括号中的「{m.unit}」不是可识别的单位，按{unit}读取",
                     f'"{m.unit}" in column "{h}" is not a known unit: read as {unit}', column=h)
        if m.duplicate_of:
            rec.file("DUPLICATE_COLUMN", f"列「{h}」与「{best[m.duplicate_of]}」含义相同，使用「{best[m.duplicate_of]}」，"
                     f"「{h}」原样保留", f'column "{h}" means the same as "{best[m.duplicate_of]}": '
                     f'"{best[m.duplicate_of]}" is used, "{h}" kept as it is', column=h)


def title_money_factor(title: str) -> float | None:
    """A unit stated above the header, e.g. 「单位：元」 → 1e-4 (applies to money columns without a unit)."""
    for m in re.finditer(r"单位\s*[:：]\s*([^\s,，;；、)）]+)", title or ""):  # 填报单位：某局 is not a unit
        factor = cols.unit_factor(m.group(1), "money")
        if factor is not None:
            return factor
    return None


def trailing_totals(raw: pd.DataFrame, text_cols: list[str]) -> pd.Series:
    """Rows at the end of the table whose name/code/first cell says 合计/总计/小计 (a total row)."""
    if not len(raw) or not text_cols:
        return pd.Series(False, index=raw.index)
    # only the trailing run counts: test the last k rows, k × 8 while all of them are totals
    n, k = len(raw), min(len(raw), 8)
    while True:
        tail = raw.iloc[n - k:]
        hit = np.zeros(k, dtype=bool)
        for c in text_cols:
            t = tail[c].astype(object).fillna("").astype(str).str.replace(r"\s+", "", regex=True)
            hit |= t.str.fullmatch(_TOTAL).astype(bool).to_numpy()
        if k == n or not hit.all():
            break
        k = min(n, k * 8)
    out = np.zeros(n, dtype=bool)
    out[n - k:] = np.logical_and.accumulate(hit[::-1])[::-1]
    return pd.Series(out, index=raw.index)


def _accepted_link_headers() -> tuple[str, str]:
    zh = (f"宗地代码（{cols.accepted('parcel_id', 8)}）、统一社会信用代码（{cols.accepted('uscc', 3)}，配合 --links 对应表）、"
          f"经度+纬度、用地面积（{cols.accepted('reported_land_mu', 2)}）")
    en = (f"a parcel code ({cols.accepted('parcel_id', 8)}), a credit code ({cols.accepted('uscc', 3)}, with a "
          f"--links table), longitude+latitude (经度/纬度, lon/lat), or reported land (用地面积/占地面积)")
    return zh, en


def empty_firms() -> pd.DataFrame:
    """A firm frame with every column and no rows."""
    data: dict[str, pd.Series] = {}
    for c in FIRM_COLUMNS:
        if c in ("source_row", "file_row"):
            data[c] = pd.Series([], dtype="int64")
        elif c == "uscc_valid":
            data[c] = pd.Series([], dtype=bool)
        elif c in FIRM_FIGURES or c in ("lon", "lat"):
            data[c] = pd.Series([], dtype="float64")
        elif c == "established":
            data[c] = pd.Series([], dtype="datetime64[ns]")
        elif c == "year":
            data[c] = pd.Series([], dtype="Int64")
        else:
            data[c] = pd.Series([], dtype=object)
    return pd.DataFrame(data)


def read_firms(path: str | Path, *, sheet: str | None = None, source: str = "firms") -> recon.Loaded:
    """Read a firm table (CSV/XLSX) into the canonical firm frame (see the frame contract).

    Columns: source_row, file_row, uscc, uscc_raw, uscc_valid, name, parcel_ids (";"-joined normalised
    codes, "" when none), scale (above/below/None), the figures of ``schema.FIRM_FIGURES`` in canonical
    units (float, NaN = missing), industry_code, park, established (datetime64), lon, lat, year (Int64),
    then every other input column under its original header (text).
    Raises InputError when the table has rows but no column to link firms to land.
    """
    t = read_table(path, sheet=sheet)
    raw = t.frame
    meta = dict(t.meta)
    headers: list[str] = meta["headers"]
    matches = cols.map_columns(headers, "firm")
    canon = {m.canonical: h for h, m in matches.items() if m.canonical}
    key = V.normalise_text(raw[canon["uscc"]]) if "uscc" in canon else V.nones(raw.index)
    rec = Recorder(source, raw, key)
    rec.frames.append(t.recon)  # the reader's own notes (e.g. a database query without ORDER BY)
    column_notes(matches, rec)

    linkable = {"parcel_id", "uscc", "reported_land_mu"} & set(canon) or {"lon", "lat"} <= set(canon)
    if len(raw) and not linkable:
        zh, en = _accepted_link_headers()
        raise InputError(f"企业表没有可以把企业对应到宗地的列；可接受的列名：{zh}",
                         f"the firm table has no column that links firms to parcels; accepted headers: {en}",
                         file=meta["path"], row=meta.get("header_row"),
                         hint_zh="请检查表头行，或补充宗地代码/统一社会信用代码列。",
                         hint_en="Check the header row, or add a parcel-code or credit-code column.")

    # trailing total row
    text_cols = [canon[c] for c in ("name", "uscc") if c in canon] + headers[:1]
    totals = trailing_totals(raw, list(dict.fromkeys(text_cols)))
    rec.rows("TOTAL_ROW", totals, "表尾合计行，已剔除", "total row at the end of the table: dropped",
             "dropped", text_cols[0] if text_cols else None)
    raw = raw.loc[~totals]
    key = key.loc[raw.index]
    rec.raw, rec.key = raw, key

    if not len(raw):
        frame = empty_firms()
        for h in headers:
            if not matches[h].canonical:
                frame[_other_name(h)] = pd.Series([], dtype=object)
    else:
        frame = _firm_frame(raw, matches, canon, rec, title_money_factor(meta.get("title", "")))

    meta["columns"] = {h: m.canonical for h, m in matches.items() if m.canonical}
    meta["units"] = {h: m.factor for h, m in matches.items() if m.canonical and m.unit is not None}
    meta["present"] = [c for c in cols.KINDS["firm"] if c in canon]
    meta["source"] = source
    meta["n_rows"] = len(frame)
    return recon.Loaded(frame.reset_index(drop=True), rec.result(), meta)


def _other_name(h: str) -> str:
    return f"{h}_input" if h in FIRM_COLUMNS else h


def _firm_frame(raw: pd.DataFrame, matches: dict[str, cols.ColumnMatch], canon: dict[str, str],
                rec: Recorder, money_default: float | None) -> pd.DataFrame:
    n_index = raw.index
    out: dict[str, pd.Series] = {
        "source_row": raw["source_row"].astype("int64"),
        "file_row": raw["file_row"].astype("int64"),
    }
    none = V.nones(n_index)
    nan = pd.Series(np.nan, index=n_index, dtype="float64")
    if "uscc" in canon:
        # rec.key is normalise_text of this column on these rows (see read_firms)
        out["uscc"], out["uscc_raw"], out["uscc_valid"] = credit_codes(raw[canon["uscc"]], rec, canon["uscc"],
                                                                       rec.key)
    else:
        out["uscc"], out["uscc_raw"] = none, none
        out["uscc_valid"] = pd.Series(False, index=n_index)
    out["name"] = V.normalise_text(raw[canon["name"]]) if "name" in canon else none
    if "parcel_id" in canon:
        _, out["parcel_ids"] = code_lists(raw[canon["parcel_id"]], rec, canon["parcel_id"])
    else:
        out["parcel_ids"] = pd.Series("", index=n_index, dtype=object)
    if "scale" in canon:
        h = canon["scale"]
        out["scale"], bad = V.parse_scale(raw[h])
        rec.rows("BAD_SCALE", bad, "无法识别的企业规模「{}」（应为 规上/规下 或 是/否），按缺失处理",
                 "unreadable size class '{}' (expected 规上/规下 or 是/否): treated as missing", "kept", h,
                 quote=raw[h])
    else:
        out["scale"] = none
    for c, unit_kind in FIRM_FIGURES.items():
        if c in canon:
            h = canon[c]
            out[c] = numbers(raw[h], matches[h], rec, h, money_default if unit_kind == "money" else None)
        else:
            out[c] = nan
    out["industry_code"] = V.normalise_codes(raw[canon["industry_code"]]) if "industry_code" in canon else none
    out["park"] = V.normalise_text(raw[canon["park"]]) if "park" in canon else none
    out["established"] = (dates(raw[canon["established"]], rec, canon["established"]) if "established" in canon
                          else pd.Series(pd.NaT, index=n_index, dtype="datetime64[ns]"))
    for c, lim in (("lon", 180.0), ("lat", 90.0)):
        if c in canon:
            h = canon[c]
            v = numbers(raw[h], matches[h], rec, h)
            off = v.abs() > lim
            rec.rows("BAD_COORDINATE", off, "坐标「{}" + f"」超出范围（±{lim:g}°），按缺失处理",
                     "coordinate '{}" + f"' out of range (±{lim:g}°): treated as missing", "kept", h, quote=raw[h])
            out[c] = v.where(~off)
        else:
            out[c] = nan
    if "year" in canon:
        h = canon["year"]
        out["year"], bad = V.parse_year(raw[h])
        rec.rows("BAD_YEAR", bad, "无法识别的年份「{}」", "unreadable year '{}'", "kept", h, quote=raw[h])
    else:
        out["year"] = pd.Series(pd.NA, index=n_index, dtype="Int64")
    frame = pd.DataFrame({c: out[c] for c in FIRM_COLUMNS}, index=n_index)
    for h, m in matches.items():
        if not m.canonical:
            frame[_other_name(h)] = raw[h].astype(object)
    return frame
