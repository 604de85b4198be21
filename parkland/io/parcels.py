"""The parcel (宗地) layer → the canonical parcel frame.

Read with :func:`parkland.io.layers.read_layer`; attributes matched through the alias table
(:mod:`parkland.io.columns`, kind "parcel"). The parcel id is ``--parcel-id`` when given, else the first
present of 宗地代码, 宗地编码, ZDDM, 地块编码, DKDM, BDCDYH, parcel_id (then 不动产单元号 …).
The certificate area is converted to mu: ``cert_area_mu = 宗地面积 × factor``, the factor from the unit
in the header (``宗地面积(平方米)``: 15/10000) or, row by row, from a unit field (面积单位: 平方米/亩/公顷);
without either the area is taken as 平方米 and the assumption is listed.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from parkland import recon
from parkland.errors import InputError
from parkland.io import columns as cols
from parkland.io import values as V
from parkland.io.firms import Recorder, column_notes, dates, numbers
from parkland.io.layers import read_layer
from parkland.schema import PARCEL_DATES, PARCEL_NUMBERS, PARCEL_TEXT
from parkland.units import MU_PER_M2

#: canonical parcel columns, in output order (other attributes follow, then geometry)
PARCEL_COLUMNS = ["source_row", "parcel_id", "parcel_id_raw", "holder_name", "holder_uscc", "land_use", "park",
                  "industry_code", "cert_area_mu", *PARCEL_DATES, "agreed_investment_wan",
                  "actual_investment_wan", "developed_m2", "developed_share"]
_CODE_COLS = {"holder_uscc", "industry_code"}


def _find_column(name: str, attrs: list[str]) -> str | None:
    if name in attrs:
        return name
    key = cols.norm_header(name)
    hit = [a for a in attrs if cols.norm_header(a) == key]
    return hit[0] if hit else None


def read_parcels(path: str | Path, *, layer: str | None = None, id_column: str | None = None,
                 engine: str = "pyogrio", rows: tuple[int, int] | None = None) -> recon.Loaded:
    """Read a parcel layer into the canonical parcel frame (GeoDataFrame, feature order, crs as read).

    Columns: source_row, parcel_id (normalised code; a 28-character 不动产单元号 cut to 19), parcel_id_raw
    (as written), holder_name, holder_uscc, land_use, park, industry_code, cert_area_mu, granted,
    agreed_start, actual_start, agreed_completion, stopped_since (datetime64), agreed_investment_wan,
    actual_investment_wan (万元), developed_m2, developed_share (ratio), the other attributes under their
    original names, geometry. Raises InputError when no parcel id column can be found.
    ``rows=(skip, count)``: one partition (see ``io.layers.read_layer``).
    """
    chosen = None if layer is not None else _parcel_layer(path, id_column)
    loaded = read_layer(path, layer=layer if chosen is None else chosen[0], engine=engine, source="parcels",
                        rows=rows)
    gdf: gpd.GeoDataFrame = loaded.frame
    meta = dict(loaded.meta)
    if not len(gdf) and rows is None:
        raise InputError("宗地图层没有任何要素（空图层）", "the parcel layer has no features (it is empty)",
                         file=meta["path"], hint_zh="请检查导出是否成功，或用 --parcels-layer 指定有数据的图层。",
                         hint_en="Check the export, or name a layer that holds parcels with --parcels-layer.")
    geom = gdf.geometry.name
    attrs = [c for c in gdf.columns if c not in ("source_row", geom)]
    matches = cols.map_columns(attrs, "parcel")
    if id_column is not None:
        idcol = _find_column(id_column, attrs)
        if idcol is None:
            raise InputError(f"图层中没有 --parcel-id 指定的列「{id_column}」；现有字段：{'、'.join(attrs)}",
                             f'the layer has no column "{id_column}" (given with --parcel-id); its fields: '
                             f"{', '.join(attrs)}", file=meta["path"], column=str(id_column),
                             hint_zh="请用 --parcel-id 指定上面列出的一个字段。",
                             hint_en="Name one of the fields above with --parcel-id.")
        for h, m in list(matches.items()):
            if m.canonical == "parcel_id" or h == idcol:
                matches[h] = cols.ColumnMatch(h, None)
        matches[idcol] = cols.ColumnMatch(idcol, "parcel_id")
    canon = {m.canonical: h for h, m in matches.items() if m.canonical}
    if "parcel_id" not in canon:
        raise InputError(f"宗地图层中找不到宗地代码字段；可接受的字段名：{cols.accepted('parcel_id', 7)}；"
                         f"现有字段：{'、'.join(attrs)}",
                         f"no parcel id field in the parcel layer; accepted names: {cols.accepted('parcel_id', 7)}; "
                         f"its fields: {', '.join(attrs)}", file=meta["path"],
                         hint_zh="请用 --parcel-id 字段名 指定宗地代码所在的字段。",
                         hint_en="Name the parcel id field with --parcel-id FIELD.")
    idh = canon["parcel_id"]
    raw = pd.DataFrame({"source_row": gdf["source_row"], "file_row": gdf["source_row"]}, index=gdf.index)
    id_text = V._to_str(gdf[idh])  # Arrow text: the code rules below run on it, not on Python strings
    id_raw = V._as_object(id_text)  # = V.to_text(gdf[idh])
    rec = Recorder("parcels", raw, id_raw)
    column_notes(matches, rec)
    for r in (loaded.recon,):
        if len(r):
            rec.frames.append(r)
    if chosen is not None:
        name, layers = chosen
        others = [x for x in layers if x != name]
        rec.file("LAYER_CHOSEN", f"文件有 {len(layers)} 个图层，未指定 --parcels-layer：使用第一个含宗地代码字段的图层"
                 f"「{name}」；其他图层：{'、'.join(others)}",
                 f'the file has {len(layers)} layers and no --parcels-layer was given: the first layer with a '
                 f'parcel-code field, "{name}", is used; others: {", ".join(others)}')

    out: dict[str, pd.Series] = {"source_row": gdf["source_row"].astype("int64")}
    pid = V._codes(id_text)  # = V.normalise_codes(id_raw), as Arrow text
    sci = V.scientific_mask(pid)
    rec.rows("PARCEL_ID_SCIENTIFIC", sci, "宗地代码「{}」是科学计数法的数字，位数已丢失，无法还原",
             "parcel code '{}' is a number in scientific notation: its digits are lost", "kept", idh, quote=id_raw)
    rec.rows("MISSING_PARCEL_ID", pid.isna(), "宗地没有宗地代码，无法按代码关联企业",
             "the parcel has no parcel code: firms cannot link to it by code", "kept", idh)
    out["parcel_id"] = V.parcel_codes(pid.where(~sci))
    out["parcel_id_raw"] = id_raw
    none = V.nones(gdf.index)
    for c in PARCEL_TEXT[1:]:
        if c in canon:
            src = gdf[canon[c]]
            out[c] = V.normalise_codes(src) if c in _CODE_COLS else V.normalise_text(src)
        else:
            out[c] = none
    out["cert_area_mu"] = _cert_area(gdf, matches, canon, rec, meta)
    given = [c for c in PARCEL_DATES if c in canon]
    parsed = dict(zip(given, V.parse_date_columns([gdf[canon[c]] for c in given])))  # distinct texts once
    for c in PARCEL_DATES:
        if c in canon:
            out[c] = dates(gdf[canon[c]], rec, canon[c], parsed=parsed[c])
        else:
            out[c] = pd.Series(pd.NaT, index=gdf.index, dtype="datetime64[ns]")
    for c in PARCEL_NUMBERS[1:]:
        out[c] = (numbers(gdf[canon[c]], matches[canon[c]], rec, canon[c]) if c in canon
                  else pd.Series(np.nan, index=gdf.index, dtype="float64"))
    used = {h for c, h in canon.items() if c in PARCEL_COLUMNS or c == "parcel_id"}
    data = {c: out[c] for c in PARCEL_COLUMNS}
    for a in attrs:
        if a not in used:
            data[a if a not in PARCEL_COLUMNS else f"{a}_input"] = gdf[a]
    frame = gpd.GeoDataFrame(pd.DataFrame(data, index=gdf.index), geometry=gdf.geometry.to_numpy(),
                             crs=gdf.crs)
    meta["id_column"] = idh
    meta["columns"] = {h: m.canonical for h, m in matches.items() if m.canonical}
    meta["units"] = {h: m.factor for h, m in matches.items() if m.canonical and m.unit is not None}
    meta["present"] = [c for c in cols.KINDS["parcel"] if c in canon]
    return recon.Loaded(frame.reset_index(drop=True), rec.result(), meta)


def _parcel_layer(path: str | Path, id_column: str | None) -> tuple[str, list[str]] | None:
    """(layer, all layers) when a multi-layer file's first layer has no parcel-code field but a later one
    has: the layer to use without --parcels-layer. None otherwise (the first layer is used as usual)."""
    p = Path(str(path))
    if not p.exists() or p.suffix.lower() in (".parquet", ".geoparquet", ".pq"):
        return None
    import pyogrio

    try:
        layers = [str(n) for n in pyogrio.list_layers(str(p))[:, 0]]
        if len(layers) < 2:
            return None
        fields = {n: [str(f) for f in pyogrio.read_info(str(p), layer=n)["fields"]] for n in layers}
    except Exception:  # unreadable here: read_layer raises the proper message
        return None

    def has_id(names: list[str]) -> bool:
        if id_column is not None:
            return _find_column(id_column, names) is not None
        return any(m.canonical == "parcel_id" for m in cols.map_columns(names, "parcel").values())

    if has_id(fields[layers[0]]):
        return None
    hit = next((n for n in layers[1:] if has_id(fields[n])), None)
    return None if hit is None else (hit, layers)


def _cert_area(gdf: pd.DataFrame, matches: dict[str, cols.ColumnMatch], canon: dict[str, str], rec: Recorder,
               meta: dict) -> pd.Series:
    """cert_area_mu = area × factor: header unit, else the unit field row by row, else 平方米 (listed)."""
    if "cert_area_mu" not in canon:
        meta["cert_area_unit"] = None
        return pd.Series(np.nan, index=gdf.index, dtype="float64")
    h = canon["cert_area_mu"]
    m = matches[h]
    if m.unit is not None and m.unit_known:
        meta["cert_area_unit"] = m.unit
        return numbers(gdf[h], m, rec, h)
    v = numbers(gdf[h], cols.ColumnMatch(h, "cert_area_mu"), rec, h)
    if "cert_area_unit" in canon:
        uh = canon["cert_area_unit"]
        units = V.normalise_text(gdf[uh])
        uniq = pd.Series(units.dropna().unique())
        table = dict(zip(uniq, uniq.map(lambda u: cols.unit_factor(u, "area_mu"))))
        factor = units.map(table).astype("float64")
        empty = units.isna()
        unknown = factor.isna() & ~empty
        rec.rows("BAD_AREA_UNIT", unknown & v.notna(), "面积单位「{}」无法识别（应为 平方米/亩/公顷），宗地面积按缺失处理",
                 "unknown area unit '{}' (expected 平方米/亩/公顷): certificate area treated as missing",
                 "kept", uh, quote=units)
        rec.rows("AREA_UNIT_ASSUMED", empty & v.notna(), "面积单位为空，宗地面积按平方米读取",
                 "no area unit on this row: the certificate area is read as square metres", "kept", uh)
        factor = factor.where(~empty, MU_PER_M2)
        meta["cert_area_unit"] = uh
        return (v * factor).astype("float64")
    meta["cert_area_unit"] = "平方米 (assumed)"
    if v.notna().any():
        rec.file("AREA_UNIT_ASSUMED", f"字段「{h}」没有注明单位，也没有面积单位字段，按平方米读取",
                 f'field "{h}" states no unit and there is no area-unit field: read as square metres', column=h)
    return (v * MU_PER_M2).astype("float64")
