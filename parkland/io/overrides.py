"""The objection-review table (异议复核表): corrections decided after firms objected, each with a reason
and a reference (文号).

Columns (Chinese or English headers; the first header of each line below that is present wins):

=============  ===========================================================  =====================
canonical      headers accepted                                              required
=============  ===========================================================  =====================
uscc           统一社会信用代码, 信用代码, 社会信用代码, uscc, credit code      yes
name           企业名称, 单位名称, name                                         no
kind           类型, 复核类型, 更正类型, 事项, type, kind                       yes
field          字段, 更正字段, 项目, 指标, field                                for figure / link
new_value      新值, 更正值, 修正值, 复核结果, 更正后, new value, value          for figure/link/grade
reason         理由, 原因, 复核理由, 复核意见, reason                           yes
reference      文号, 依据文号, 批准文号, 依据, reference, ref                   recommended
=============  ===========================================================  =====================

``kind`` values: ``figure`` (数据更正, 更正, 修正, 数据): a corrected figure, ``field`` names the column (a
canonical name, a header of the firm table with its unit such as ``税收（元）`` — the new value is then
converted to the canonical unit —, or any other firm column); ``link`` (关联, 对应, 宗地关联, 手工关联): a
manual firm–parcel link, ``new_value`` holds the parcel code(s); ``exempt`` (免评, 豁免): an exemption
(class T); ``grade`` (等级, 定级, 评价等级): a grade set by decision, ``new_value`` holds it (A–D or T).

Rows without a credit code, with an unknown kind, or without a reason are dropped and listed; a row
without a reference is kept and listed.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pandas as pd

from parkland import recon
from parkland.errors import InputError
from parkland.io import columns as cols
from parkland.io import values as V

OVERRIDE_COLUMNS = ["source_row", "file_row", "uscc", "uscc_raw", "name", "kind", "field", "column",
                    "factor", "new_value", "reason", "reference"]

HEADERS: dict[str, tuple[str, ...]] = {
    "uscc": ("统一社会信用代码", "信用代码", "社会信用代码", "uscc", "credit code"),
    "name": ("企业名称", "单位名称", "name"),
    "kind": ("类型", "复核类型", "更正类型", "事项", "type", "kind"),
    "field": ("字段", "更正字段", "项目", "指标", "field"),
    "new_value": ("新值", "更正值", "修正值", "复核结果", "更正后", "new value", "new_value", "value"),
    "reason": ("理由", "原因", "复核理由", "复核意见", "reason"),
    "reference": ("文号", "依据文号", "批准文号", "依据", "reference", "ref"),
}

KINDS: dict[str, tuple[str, ...]] = {
    "figure": ("figure", "数据更正", "更正", "修正", "数据", "数值更正"),
    "link": ("link", "关联", "对应", "宗地关联", "手工关联", "用地关联"),
    "exempt": ("exempt", "免评", "豁免", "t"),
    "grade": ("grade", "等级", "定级", "评价等级", "等级调整"),
}
_KIND_INDEX = {cols.norm_header(a): k for k, names in KINDS.items() for a in names}


def empty_overrides() -> pd.DataFrame:
    """An override frame with every column and no rows."""
    return pd.DataFrame({c: pd.Series([], dtype="int64" if c in ("source_row", "file_row") else
                                      ("float64" if c == "factor" else object)) for c in OVERRIDE_COLUMNS})


def _field_column(field: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The canonical firm column a 字段 cell names (None when not a known header) and its unit factor."""
    names = field.astype(object)
    uniq = names.dropna().unique()
    col, fac = {}, {}
    for f in uniq:  # over distinct field names (a handful), not rows
        m = cols.match_header(f, "firm")
        col[f] = m.canonical if m.canonical is not None and m.unit_known else None
        fac[f] = m.factor if m.canonical is not None else 1.0
    return names.map(col).astype(object), names.map(fac).astype(float).fillna(1.0)


def normalise_overrides(raw: pd.DataFrame, *, path: str | Path | None = None) -> recon.Loaded:
    """Cells of an override table (as :func:`parkland.io.tables.read_table` returns them, or any frame
    with the headers above) → the canonical override frame (``OVERRIDE_COLUMNS``), with reconciliation.

    ``column`` is the canonical firm column the ``field`` names (None when it is not a known header: the
    field is then matched against the firm frame's own column names when applied); ``factor`` converts
    ``new_value`` to the canonical unit.
    """
    raw = raw.copy()
    if "source_row" not in raw.columns:
        raw.insert(0, "source_row", range(1, len(raw) + 1))
    if "file_row" not in raw.columns:
        raw.insert(1, "file_row", raw["source_row"] + 1)
    index = {cols.norm_header(h): h for h in raw.columns}
    canon: dict[str, str] = {}
    for c, names in HEADERS.items():
        for a in names:
            h = index.get(cols.norm_header(a))
            if h is not None:
                canon[c] = h
                break
    for c in ("uscc", "kind"):
        if c not in canon and len(raw):
            raise InputError(f"异议复核表缺少列「{HEADERS[c][0]}」（可用：{'、'.join(HEADERS[c])}）",
                             f"the override table lacks the column {HEADERS[c][-1]!r} "
                             f"(accepted: {', '.join(HEADERS[c])})", file=path, column=HEADERS[c][0],
                             hint_zh="异议复核表需要：统一社会信用代码、类型、字段、新值、理由、文号。",
                             hint_en="An override table needs: credit code, type, field, new value, reason, "
                                     "reference.")
    if not len(raw):
        return recon.Loaded(empty_overrides(), recon.empty(), {"path": None if path is None else str(path)})

    def get(c: str) -> pd.Series:
        return V.normalise_text(raw[canon[c]]) if c in canon else pd.Series(None, index=raw.index, dtype=object)

    uscc_raw = get("uscc")
    uscc = V.normalise_codes(raw[canon["uscc"]])
    kind_txt = get("kind")
    kind = kind_txt.map(lambda s: None if s is None else cols.norm_header(unicodedata.normalize("NFKC", s)))
    kind = kind.map(_KIND_INDEX).astype(object)
    field = get("field")
    column, factor = _field_column(field)
    out = pd.DataFrame({
        "source_row": pd.to_numeric(raw["source_row"]).astype("int64"),
        "file_row": pd.to_numeric(raw["file_row"]).astype("int64"),
        "uscc": uscc, "uscc_raw": uscc_raw, "name": get("name"), "kind": kind, "field": field,
        "column": column, "factor": factor, "new_value": get("new_value"), "reason": get("reason"),
        "reference": get("reference")}, index=raw.index)
    recs = []

    def note(code: str, mask: pd.Series, zh, en, action: str, column: str | None) -> None:
        mask = mask.fillna(False).astype(bool)
        if mask.any():
            sub = out[mask]
            recs.append(recon.records("overrides", code, zh[mask] if isinstance(zh, pd.Series) else zh,
                                      en[mask] if isinstance(en, pd.Series) else en, action,
                                      source_row=sub["source_row"], file_row=sub["file_row"],
                                      key=sub["uscc_raw"].fillna(""), column=column or ""))

    no_uscc = out["uscc"].isna()
    note("OVERRIDE_NO_USCC", no_uscc, "异议复核记录没有统一社会信用代码，已剔除",
         "override without a credit code: dropped", "dropped", canon.get("uscc"))
    kt = kind_txt.fillna("").astype(str)
    bad_kind = out["kind"].isna() & ~no_uscc
    note("OVERRIDE_BAD_KIND", bad_kind,
         "无法识别的复核类型「" + kt + "」（可用：数据更正、关联、免评、等级），已剔除",
         "unknown override type '" + kt + "' (allowed: figure, link, exempt, grade): dropped", "dropped",
         canon.get("kind"))
    no_reason = out["reason"].isna() & ~no_uscc & ~bad_kind
    note("OVERRIDE_NO_REASON", no_reason, "异议复核记录没有理由，已剔除",
         "override without a reason: dropped", "dropped", canon.get("reason"))
    keep = ~(no_uscc | bad_kind | no_reason)
    need_value = keep & out["new_value"].isna() & out["kind"].isin(["figure", "link", "grade"])
    note("OVERRIDE_NO_VALUE", need_value, "异议复核记录没有新值，已剔除", "override without a new value: dropped",
         "dropped", canon.get("new_value"))
    keep &= ~need_value
    need_field = keep & out["field"].isna() & out["kind"].eq("figure")
    note("OVERRIDE_NO_FIELD", need_field, "数据更正没有写明字段，已剔除", "figure correction without a field: dropped",
         "dropped", canon.get("field"))
    keep &= ~need_field
    note("OVERRIDE_NO_REFERENCE", keep & out["reference"].isna(), "异议复核记录没有文号，保留并列出",
         "override without a reference: kept", "kept", canon.get("reference"))
    out = out[keep].reset_index(drop=True)[OVERRIDE_COLUMNS]
    return recon.Loaded(out, recon.concat(recs), {"path": None if path is None else str(path),
                                                 "columns": canon})


def read_overrides(path: str | Path, *, sheet: str | None = None) -> recon.Loaded:
    """Read an override table (CSV or XLSX) → :func:`normalise_overrides`."""
    from parkland.io.tables import read_table

    t = read_table(path, sheet=sheet)
    loaded = normalise_overrides(t.frame, path=path)
    loaded.meta.update({k: t.meta[k] for k in ("path", "sha256", "encoding", "sheet", "header_row")
                        if k in t.meta})
    return loaded
