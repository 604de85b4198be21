"""Geometry stage for the parcel (宗地) layer: CRS, repair, areas in 亩, county codes, checks.

``prepare_parcels`` takes the frame of ``parkland.io.parcels.read_parcels`` (any GeoDataFrame works:
missing optional columns are tolerated) and returns a :class:`~parkland.recon.Loaded` whose frame has
the kept parcels with ``area_m2``, ``area_mu``, ``measure_epsg``, ``county``, ``land_area_mu`` and
``area_basis_used`` added, geometry repaired and still in the input CRS.

Reconciliation records (source = ``source``; ``file_row`` = ``source_row``, the feature number in file
order, which is what a person sees in a GIS attribute table):

=====================  =========  ===========================================================
problem_code           action     when
=====================  =========  ===========================================================
NULL_GEOMETRY          dropped    the feature has no geometry
EMPTY_GEOMETRY         dropped    the geometry is empty
NOT_POLYGON            dropped    a point or line (or a collection without polygons)
MIXED_GEOMETRY         repaired   a geometry collection: only its polygonal parts kept
INVALID_GEOMETRY       repaired   invalid polygon fixed by ``shapely.make_valid`` (polygonal
                                  parts kept); the GEOS reason is in the text
INVALID_GEOMETRY       dropped    nothing polygonal left after the repair
Z_DROPPED              repaired   ONE file-level record (no source_row) when any geometry had Z
                                  coordinates: they are dropped (force_2d); count and first rows
CRS_OVERRIDE_IGNORED   kept       file-level: ``crs`` given but the layer declares another one
CERT_AREA_MISMATCH     kept       |cert_area_mu − area_mu| > 5 % of area_mu; both figures
DUPLICATE_PARCEL_ID    kept       every row of a repeated parcel_id, naming the other rows
MISSING_PARCEL_ID      kept       no parcel_id (one file-level record if the column is absent)
=====================  =========  ===========================================================
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from parkland import recon
from parkland.errors import InputError
from parkland.geo.area import _geoms, centroid_lonlat, planar_area_m2
from parkland.geo.crs import crs_hint
from parkland.units import MU_PER_M2

#: relative difference between certificate and polygon area above which a parcel is listed
CERT_AREA_TOLERANCE = 0.05
#: how many other rows a DUPLICATE_PARCEL_ID message names
DUP_NAMED = 10
AREA_BASES = ("polygon", "certificate")

_POLYGON, _MULTIPOLYGON, _COLLECTION = 3, 6, 7
_TYPE_NAMES = {0: "Point", 1: "LineString", 2: "LinearRing", 3: "Polygon", 4: "MultiPoint",
               5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"}


def polygonal_parts(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of each geometry (vectorised): Polygon/MultiPolygon unchanged,
    a GeometryCollection → the (Multi)Polygon of its polygons, anything else → None.
    Polygons of a collection that touch along an edge are dissolved (make_valid "structure").
    """
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    tid = shapely.get_type_id(geoms)
    out[~np.isin(tid, [_POLYGON, _MULTIPOLYGON, _COLLECTION])] = None
    coll = np.flatnonzero(tid == _COLLECTION)
    if len(coll):
        parts, i1 = shapely.get_parts(geoms[coll], return_index=True)
        parts2, i2 = shapely.get_parts(parts, return_index=True)
        idx = i1[i2]
        keep = shapely.get_type_id(parts2) == _POLYGON
        parts2, idx = parts2[keep], idx[keep]
        res = np.full(len(coll), None, dtype=object)
        if len(idx):
            uniq, inv = np.unique(idx, return_inverse=True)
            mp = shapely.multipolygons(parts2, indices=inv)
            bad = ~shapely.is_valid(mp)
            if bad.any():
                mp[bad] = shapely.make_valid(mp[bad], method="structure", keep_collapsed=False)
            one = shapely.get_num_geometries(mp) == 1
            mp[one] = shapely.get_geometry(mp[one], 0)
            res[uniq] = mp
        out[coll] = res
    empty = shapely.is_empty(out) & ~shapely.is_missing(out)
    out[empty] = None
    return out


def _key(frame: pd.DataFrame) -> np.ndarray:
    """The parcel id as written (parcel_id_raw, else parcel_id), '' when missing (object array)."""
    for c in ("parcel_id_raw", "parcel_id"):
        if c in frame.columns:
            return frame[c].astype("string").fillna("").to_numpy(dtype=object)
    return np.full(len(frame), "", dtype=object)


def _file_rows(frame: pd.DataFrame) -> np.ndarray:
    """The row a person sees: ``file_row`` when the reader gave one, else the feature number."""
    col = "file_row" if "file_row" in frame.columns else "source_row"
    return frame[col].to_numpy()


def _rows_text(rows: np.ndarray, limit: int = 10) -> str:
    shown = "、".join(str(int(r)) for r in rows[:limit])
    return shown + (" …" if len(rows) > limit else "")


def _resolve_crs(gdf: gpd.GeoDataFrame, crs: Any, source: str, path: Any
                 ) -> tuple[gpd.GeoDataFrame, list[pd.DataFrame], str]:
    notes: list[pd.DataFrame] = []
    name = Path(path).name if path is not None else source
    given = None
    if crs is not None:
        try:
            given = CRS.from_user_input(crs)
        except Exception as exc:
            raise InputError(f"无法识别坐标系 {crs!r}", f"unknown CRS {crs!r}", file=path, column="--crs",
                             hint_zh="请用 EPSG 代码，如 EPSG:4523。",
                             hint_en="pass an EPSG code such as EPSG:4523.") from exc
    if gdf.crs is None:
        if given is None:
            geoms = _geoms(gdf)
            ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
            bounds = shapely.total_bounds(geoms[ok]) if ok.any() else None
            zh, en = crs_hint(bounds)
            raise InputError(f"宗地图层 {name} 没有坐标系（无 .prj 或未声明 CRS）",
                             f"the parcel layer {name} has no CRS (no .prj or no declared CRS)",
                             file=path, hint_zh=zh, hint_en=en)
        return gdf.set_crs(given, allow_override=True), notes, "--crs"
    if given is not None and not CRS.from_user_input(gdf.crs).equals(given):
        layer = CRS.from_user_input(gdf.crs).to_string()
        notes.append(recon.record(
            source, "CRS_OVERRIDE_IGNORED",
            f"图层已声明坐标系 {layer}，忽略 --crs {given.to_string()}",
            f"the layer declares {layer}; --crs {given.to_string()} ignored", "kept"))
    return gdf, notes, "layer"


def prepare_parcels(
    gdf: gpd.GeoDataFrame,
    *,
    crs: Any = None,
    area_basis: str = "polygon",
    source: str = "parcels",
    path: str | Path | None = None,
) -> recon.Loaded:
    """Repair and measure a parcel layer.

    * CRS: the layer's own; ``crs`` (``--crs``) only when the layer has none. Neither → InputError
      naming the file and suggesting a CRS from the coordinates (never guessed).
    * Geometry: null/empty/non-polygonal features dropped; Z dropped (force_2d); invalid polygons
      repaired with ``shapely.make_valid`` keeping polygonal parts. Geometry stays in the input CRS.
    * ``area_m2``: planar area in the Gauss–Krüger zone of each feature (``geo.area.planar_area_m2``);
      ``area_mu = area_m2 × 15 / 10000``; ``measure_epsg``.
    * ``county`` = parcel_id[:6] when those are six ASCII digits, else None.
    * ``land_area_mu`` = area_mu (``area_basis="polygon"``), or cert_area_mu where given (> 0) else
      area_mu (``"certificate"``); ``area_basis_used`` says which, per row.
    * Listed and kept: |cert_area_mu − area_mu| > 5 % × area_mu, duplicate and missing parcel ids.

    Vectorised throughout (shapely 2 array functions, pandas); returns ``Loaded(frame, recon, meta)``.
    """
    if area_basis not in AREA_BASES:
        raise ValueError(f"area_basis must be one of {AREA_BASES}, not {area_basis!r}")
    gdf, notes, crs_source = _resolve_crs(gdf, crs, source, path)
    frame = gdf.reset_index(drop=True)
    n_input = len(frame)
    if "source_row" not in frame.columns:
        frame["source_row"] = np.arange(1, n_input + 1, dtype="int64")
    geom_name = frame.geometry.name
    rows = frame["source_row"].to_numpy()
    frows = _file_rows(frame)
    keys = _key(frame)
    recs: list[pd.DataFrame] = list(notes)

    def add(mask: np.ndarray, code: str, zh: Any, en: Any, action: str, column: str = geom_name) -> None:
        if mask.any():
            recs.append(recon.records(source, code, zh, en, action, source_row=rows[mask],
                                      file_row=frows[mask], key=keys[mask], column=column))

    geoms = _geoms(frame).copy()
    missing = shapely.is_missing(geoms)
    empty = ~missing & shapely.is_empty(geoms)
    add(missing, "NULL_GEOMETRY", "宗地没有图形，已剔除", "the parcel has no geometry; dropped", "dropped")
    add(empty, "EMPTY_GEOMETRY", "宗地图形为空，已剔除", "the parcel geometry is empty; dropped", "dropped")
    alive = ~(missing | empty)

    has_z = np.zeros(n_input, dtype=bool)
    has_z[alive] = shapely.has_z(geoms[alive])
    if has_z.any():
        geoms[has_z] = shapely.force_2d(geoms[has_z])
        zrows = rows[has_z]
        recs.append(recon.record(
            source, "Z_DROPPED",
            f"{int(has_z.sum())} 个宗地图形带高程（Z）坐标，已去除，按平面计算（第 {_rows_text(zrows)} 条）",
            f"{int(has_z.sum())} parcel geometries had Z coordinates; dropped, measured in 2D "
            f"(features {_rows_text(zrows).replace('、', ', ')})", "repaired", column=geom_name))

    tid = np.full(n_input, -1)
    tid[alive] = shapely.get_type_id(geoms[alive])
    coll = alive & (tid == _COLLECTION)
    if coll.any():
        geoms[coll] = polygonal_parts(geoms[coll])
        kept_parts = coll & ~shapely.is_missing(geoms)
        add(kept_parts, "MIXED_GEOMETRY", "几何集合只保留面状部分", "geometry collection: only its polygons kept",
            "repaired")
    notpoly = alive & ((~np.isin(tid, [_POLYGON, _MULTIPOLYGON, _COLLECTION])) | (coll & shapely.is_missing(geoms)))
    if notpoly.any():
        names = np.array([_TYPE_NAMES.get(int(t), str(t)) for t in tid[notpoly]], dtype=object)
        recs.append(recon.records(
            source, "NOT_POLYGON", [f"宗地图形不是面（{t}），已剔除" for t in names],
            [f"the parcel geometry is not a polygon ({t}); dropped" for t in names], "dropped",
            source_row=rows[notpoly], file_row=frows[notpoly], key=keys[notpoly], column=geom_name))
    alive &= ~notpoly

    invalid = np.zeros(n_input, dtype=bool)
    invalid[alive] = ~shapely.is_valid(geoms[alive])
    if invalid.any():
        reasons = shapely.is_valid_reason(geoms[invalid])
        fixed = polygonal_parts(shapely.make_valid(geoms[invalid]))
        geoms[invalid] = fixed
        gone = shapely.is_missing(fixed)
        inv_idx = np.flatnonzero(invalid)
        rep = np.zeros(n_input, dtype=bool)
        rep[inv_idx[~gone]] = True
        lost = np.zeros(n_input, dtype=bool)
        lost[inv_idx[gone]] = True
        add(rep, "INVALID_GEOMETRY", [f"宗地图形无效（{r}），已用 make_valid 修复" for r in reasons[~gone]],
            [f"invalid parcel geometry ({r}); repaired with make_valid" for r in reasons[~gone]], "repaired")
        add(lost, "INVALID_GEOMETRY", [f"宗地图形无效（{r}），修复后无面状部分，已剔除" for r in reasons[gone]],
            [f"invalid parcel geometry ({r}); nothing polygonal left after repair; dropped"
             for r in reasons[gone]], "dropped")
        alive &= ~lost

    frame[geom_name] = gpd.GeoSeries(geoms, index=frame.index, crs=frame.crs)
    # every feature kept (the usual case): the frame as it is, not a copy through a Boolean mask
    out = frame.reset_index(drop=True) if alive.all() else frame.loc[alive].reset_index(drop=True)
    if not len(out):
        name = Path(path).name if path is not None else source
        dropped = recon.concat(recs)
        counts = dropped.loc[dropped["action"] == "dropped", "problem_code"].value_counts()
        why = ", ".join(f"{k} {v}" for k, v in counts.items()) or "-"
        raise InputError(f"宗地图层 {name} 没有可用的宗地（{n_input} 个要素，{why}）",
                         f"the parcel layer {name} has no usable parcel ({n_input} features; {why})",
                         file=path, hint_zh="请检查图层是否为面图层、是否为空。",
                         hint_en="check that the layer holds polygons and is not empty.")
    lonlat = _check_coordinates(out, path, source)
    recs.append(_outside_china_zones(out, lonlat, source, geom_name))

    areas = planar_area_m2(out, lonlat)
    out["area_m2"] = areas["area_m2"].to_numpy()
    out["area_mu"] = out["area_m2"] * MU_PER_M2
    out["measure_epsg"] = areas["measure_epsg"].array

    orows = out["source_row"].to_numpy()
    ofrows = _file_rows(out)
    okeys = keys[alive]  # = _key(out): the id columns are not changed above

    def add_out(mask: np.ndarray, code: str, zh: Any, en: Any, column: str) -> None:
        if mask.any():
            recs.append(recon.records(source, code, zh, en, "kept", source_row=orows[mask],
                                      file_row=ofrows[mask], key=okeys[mask], column=column))

    # parcel ids: county, missing, duplicates
    if "parcel_id" in out.columns:
        pid = out["parcel_id"].astype("string").str.strip()
        pid = pid.mask(pid == "")
    else:
        pid = pd.Series(pd.NA, index=out.index, dtype="string")
        recs.append(recon.record(source, "MISSING_PARCEL_ID", "宗地图层没有宗地代码列",
                                 "the parcel layer has no parcel id column", "kept", column="parcel_id"))
    head = pid.str[:6]
    is_county = head.str.fullmatch(r"[0-9]{6}").fillna(False).astype(bool)
    county = head.astype(object).where(is_county.to_numpy(), None)
    out["county"] = pd.Series(county.to_numpy(dtype=object), index=out.index, dtype=object)
    missing_id = pid.isna().to_numpy()
    if "parcel_id" in out.columns:
        add_out(missing_id, "MISSING_PARCEL_ID", "宗地没有宗地代码，保留但无法按代码关联企业",
                "the parcel has no parcel id; kept, but firms cannot link to it by code", "parcel_id")
    codes, _ = pd.factorize(pid)  # = pid.duplicated(keep=False) & pid.notna(), hashed in Arrow
    dup = (codes >= 0) & (np.bincount(codes[codes >= 0], minlength=1)[np.maximum(codes, 0)] > 1)
    if dup.any():
        # name at most DUP_NAMED other rows per message (a layer with one id on 100k rows stays linear)
        sub = pd.DataFrame({"pid": pid[dup].to_numpy(dtype=object), "row": orows[dup]})
        grouped = sub.groupby("pid", sort=False)["row"]
        heads = grouped.agg(lambda r: list(r.iloc[:DUP_NAMED + 1])).reindex(sub["pid"]).to_numpy()
        sizes = grouped.transform("size").to_numpy()
        others = [[r for r in h if r != me][:DUP_NAMED] for h, me in zip(heads, sub["row"])]
        more_zh = ["" if n - 1 <= DUP_NAMED else f" 等共 {n - 1} 条" for n in sizes]
        more_en = ["" if n - 1 <= DUP_NAMED else f" … ({n - 1} in all)" for n in sizes]
        add_out(dup, "DUPLICATE_PARCEL_ID",
                [f"宗地代码 {p} 重复，另见第 {'、'.join(map(str, o))}{m} 条"
                 for p, o, m in zip(sub["pid"], others, more_zh)],
                [f"parcel id {p} repeated; see also feature(s) {', '.join(map(str, o))}{m}"
                 for p, o, m in zip(sub["pid"], others, more_en)], "parcel_id")

    # certificate area
    area_mu = out["area_mu"].to_numpy(dtype="float64")
    if "cert_area_mu" in out.columns:
        cert = pd.to_numeric(out["cert_area_mu"], errors="coerce").to_numpy(dtype="float64")
    else:
        cert = np.full(len(out), np.nan)
    has_cert = np.isfinite(cert)
    with np.errstate(invalid="ignore", divide="ignore"):
        mismatch = has_cert & (np.abs(cert - area_mu) > CERT_AREA_TOLERANCE * area_mu)
    if mismatch.any():
        c, a = cert[mismatch], area_mu[mismatch]
        add_out(mismatch, "CERT_AREA_MISMATCH",
                [f"证载面积 {x:.2f} 亩与图形面积 {y:.2f} 亩相差超过 5%（{(x - y) / y:+.1%}）" for x, y in zip(c, a)],
                [f"certificate area {x:.2f} mu and polygon area {y:.2f} mu differ by more than 5% "
                 f"({(x - y) / y:+.1%})" for x, y in zip(c, a)], "cert_area_mu")
    use_cert = has_cert & (cert > 0) if area_basis == "certificate" else np.zeros(len(out), dtype=bool)
    out["land_area_mu"] = np.where(use_cert, cert, area_mu)
    out["area_basis_used"] = pd.Series(np.where(use_cert, "certificate", "polygon"), index=out.index,
                                       dtype=object)

    meta = {
        "path": str(path) if path is not None else None,
        "crs": CRS.from_user_input(out.crs).to_string() if out.crs is not None else None,
        "crs_source": crs_source,
        "area_basis": area_basis,
        "n_input": n_input,
        "n_kept": len(out),
        "z_dropped": int(has_z.sum()),
        "measure_epsg": sorted(int(v) for v in pd.unique(out["measure_epsg"].dropna())),
    }
    rec = recon.concat(recs)
    if len(rec):  # file-level notes first, then by feature order
        rec = rec.sort_values("source_row", na_position="first", kind="stable").reset_index(drop=True)
    return recon.Loaded(out, rec, meta)


#: geodetic datums of Chinese Gauss–Krüger grids: a layer in one of them is expected inside China
CHINESE_DATUMS = ("CGCS2000", "China Geodetic", "Xian 1980", "Beijing 1954", "New Beijing")


def _outside_china_zones(gdf: gpd.GeoDataFrame, lonlat: tuple[np.ndarray, np.ndarray], source: str,
                         column: str) -> pd.DataFrame:
    """One file-level record (COORDINATES_OUTSIDE_ZONE, kept) when a layer declared in a Chinese datum
    (CGCS2000, Xian 1980, Beijing 1954) has parcels whose centroids fall outside every CGCS2000 3° zone in
    China (73–136°E, 3–54°N): the coordinates are likely a city's independent grid or the .prj is wrong.
    Areas stay planar (a plane is a plane) but the location, zone and map are not to be trusted."""
    from parkland.geo.area import CHINA_MEASURE_LAT, CHINA_MEASURE_LON

    crs = CRS.from_user_input(gdf.crs)
    datum = (crs.geodetic_crs.name if crs.geodetic_crs is not None else "") or ""
    if not any(d.lower() in datum.lower() for d in CHINESE_DATUMS):
        return recon.empty()
    lon, lat = lonlat
    off = ~((lon >= CHINA_MEASURE_LON[0]) & (lon <= CHINA_MEASURE_LON[1]) & (lat >= CHINA_MEASURE_LAT[0])
            & (lat <= CHINA_MEASURE_LAT[1]))
    if not off.any():
        return recon.empty()
    rows = gdf["source_row"].to_numpy()[off]
    where = f"{float(np.nanmedian(lon[off])):.2f}°E, {float(np.nanmedian(lat[off])):.2f}°N"
    return recon.record(
        source, "COORDINATES_OUTSIDE_ZONE",
        f"{int(off.sum())} 个宗地按声明的坐标系 {crs.name} 落在中国境内所有 CGCS2000 分带之外（约 {where}，"
        f"第 {_rows_text(rows)} 条）：可能是城市独立坐标系或 .prj 有误；面积按图层自身平面坐标计算，位置与地图不可信，请核实坐标系",
        f"{int(off.sum())} parcels fall outside every CGCS2000 zone in China under the declared CRS {crs.name} "
        f"(about {where}; features {_rows_text(rows).replace('、', ', ')}): probably a city's independent grid or a "
        "wrong .prj; areas are measured in the layer's own plane coordinates, but locations and the map "
        "cannot be trusted: check the CRS",
        "kept", column=column)


def _check_coordinates(gdf: gpd.GeoDataFrame, path: Any, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Centroid longitudes/latitudes; InputError when the coordinates cannot be in the layer's CRS
    (they do not transform to finite longitudes/latitudes), with the CRS the coordinates suggest."""
    lon, lat = centroid_lonlat(gdf)
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        name = Path(path).name if path is not None else source
        zh, en = crs_hint(shapely.total_bounds(_geoms(gdf)))
        layer = CRS.from_user_input(gdf.crs).to_string()
        first = int(gdf["source_row"].to_numpy()[np.flatnonzero(bad)[0]])
        raise InputError(f"宗地图层 {name} 的坐标与坐标系 {layer} 不符（{int(bad.sum())} 个宗地落在地球之外）",
                         f"the coordinates of {name} do not fit its CRS {layer} "
                         f"({int(bad.sum())} parcels fall off the earth)",
                         file=path, row=first, hint_zh=zh, hint_en=en)
    return lon, lat
