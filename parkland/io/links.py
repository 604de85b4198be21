"""The link table (企业-宗地对应表): which firm sits on which parcel, with its share.

Columns read: 统一社会信用代码 (uscc), 企业名称 (name), 宗地代码 (parcel_id, several per cell allowed),
用地比例 (land_share, a ratio of the parcel; ``%`` in the header or cell divides by 100) and 租用面积
(occupied_m2, floor area the firm occupies). One output row per (firm, parcel) after splitting cells.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from parkland import recon
from parkland.errors import InputError
from parkland.io import columns as cols
from parkland.io import values as V
from parkland.io.firms import (
    Recorder,
    code_lists,
    column_notes,
    credit_codes,
    numbers,
    trailing_totals,
)
from parkland.io.tables import read_table

LINK_COLUMNS = ["source_row", "file_row", "uscc", "uscc_raw", "uscc_valid", "name", "parcel_id",
                "land_share", "occupied_m2"]


def empty_links() -> pd.DataFrame:
    """A link frame with every column and no rows."""
    dtypes = {"source_row": "int64", "file_row": "int64", "uscc_valid": bool, "land_share": "float64",
              "occupied_m2": "float64"}
    return pd.DataFrame({c: pd.Series([], dtype=dtypes.get(c, object)) for c in LINK_COLUMNS})


def read_links(path: str | Path, *, sheet: str | None = None) -> recon.Loaded:
    """Read a 企业-宗地对应表 into one row per (firm, parcel).

    Frame: source_row, file_row (of the input record; repeated when a cell listed several parcels),
    uscc, uscc_raw, uscc_valid, name, parcel_id (normalised, 28-char 不动产单元号 cut to 19),
    land_share (ratio), occupied_m2 (m²). Records without a parcel code, or with neither credit code nor
    name, are dropped and listed; a share or floor area given for a cell with several parcels is copied
    to each of them and listed. Raises InputError when the parcel-code or credit-code column is missing.
    """
    t = read_table(path, sheet=sheet)
    raw = t.frame
    meta = dict(t.meta)
    headers: list[str] = meta["headers"]
    matches = cols.map_columns(headers, "link")
    canon = {m.canonical: h for h, m in matches.items() if m.canonical}
    missing = [c for c in ("uscc", "parcel_id") if c not in canon]
    if missing and (len(raw) or not headers):
        need_zh = "、".join(f"{'统一社会信用代码' if c == 'uscc' else '宗地代码'}（{cols.accepted(c, 6)}）"
                            for c in missing)
        need_en = ", ".join(f"{'credit code' if c == 'uscc' else 'parcel code'} ({cols.accepted(c, 6)})"
                            for c in missing)
        raise InputError(f"企业-宗地对应表缺少列：{need_zh}", f"the firm–parcel link table lacks: {need_en}",
                         file=meta["path"], row=meta.get("header_row"),
                         hint_zh="对应表需要统一社会信用代码和宗地代码两列，可选用地比例或租用面积。",
                         hint_en="A link table needs a credit-code and a parcel-code column, optionally "
                                 "land_share or occupied_m2.")
    key = V.normalise_text(raw[canon["uscc"]]) if "uscc" in canon else V.nones(raw.index)
    rec = Recorder("links", raw, key)
    column_notes(matches, rec)
    text_cols = list(dict.fromkeys([canon[c] for c in ("name", "uscc") if c in canon] + headers[:1]))
    totals = trailing_totals(raw, text_cols)
    rec.rows("TOTAL_ROW", totals, "表尾合计行，已剔除", "total row at the end of the table: dropped",
             "dropped", text_cols[0] if text_cols else None)
    raw = raw.loc[~totals]
    rec.raw, rec.key = raw, key.loc[raw.index]
    if not len(raw):
        frame = empty_links()
    else:
        frame = _link_frame(raw, matches, canon, rec)
    meta["columns"] = {h: m.canonical for h, m in matches.items() if m.canonical}
    meta["units"] = {h: m.factor for h, m in matches.items() if m.canonical and m.unit is not None}
    meta["present"] = [c for c in cols.KINDS["link"] if c in canon]
    meta["n_links"] = len(frame)
    return recon.Loaded(frame, recon.concat([t.recon, rec.result()]), meta)


def _link_frame(raw: pd.DataFrame, matches: dict[str, cols.ColumnMatch], canon: dict[str, str],
                rec: Recorder) -> pd.DataFrame:
    idx = raw.index
    uscc, uscc_raw, valid = credit_codes(raw[canon["uscc"]], rec, canon["uscc"], rec.key)  # key: normalise_text
    name = V.normalise_text(raw[canon["name"]]) if "name" in canon else V.nones(idx)
    share = (numbers(raw[canon["land_share"]], matches[canon["land_share"]], rec, canon["land_share"])
             if "land_share" in canon else pd.Series(float("nan"), index=idx))
    occ = (numbers(raw[canon["occupied_m2"]], matches[canon["occupied_m2"]], rec, canon["occupied_m2"])
           if "occupied_m2" in canon else pd.Series(float("nan"), index=idx))
    h = canon["parcel_id"]
    long, _ = code_lists(raw[h], rec, h)
    n_codes = long.groupby(level=0).size().reindex(idx, fill_value=0)
    no_code = n_codes.eq(0)
    rec.rows("MISSING_PARCEL_ID", no_code, "对应表中这一行没有宗地代码，已剔除",
             "no parcel code on this row of the link table: dropped", "dropped", h)
    no_firm = uscc.isna() & name.isna() & ~no_code
    rec.rows("MISSING_FIRM", no_firm, "对应表中这一行既没有有效的统一社会信用代码也没有企业名称，已剔除",
             "neither a usable credit code nor a firm name on this row: dropped", "dropped", canon["uscc"])
    several = n_codes.gt(1) & (share.notna() | occ.notna()) & ~no_firm
    rec.rows("SHARE_ON_SEVERAL_PARCELS", several, "一个单元格列了多个宗地（「{}」），用地比例/租用面积对每块宗地照抄，请核实",
             "several parcels in one cell ('{}'): the share / floor area is applied to each: please check",
             "kept", h, quote=raw[h])
    base = pd.DataFrame({"source_row": raw["source_row"].astype("int64"), "file_row": raw["file_row"].astype("int64"),
                         "uscc": uscc, "uscc_raw": uscc_raw, "uscc_valid": valid, "name": name,
                         "land_share": share, "occupied_m2": occ}, index=idx)
    base = base.loc[~no_firm]
    long = long[long.index.isin(base.index)]
    pid = pd.DataFrame({"i": long.index, "parcel_id": long.to_numpy()}).drop_duplicates().set_index("i")
    frame = base.join(pid, how="inner")
    frame = frame.sort_values("source_row", kind="stable").reset_index(drop=True)
    return frame[LINK_COLUMNS]
