"""Buildings on parcels: 建筑系数 (building coverage), 容积率 (FAR), idle floor.

Formulas (per parcel p, buildings b clipped to p: piece(b, p) = b ∩ p):

* ``footprint_m2``      = area( ∪_b piece(b, p) ) — overlapping footprints are counted once (union per
  parcel; the union is only built on parcels where two buildings' interiors overlap, elsewhere the
  pieces' areas are summed, which is the same number);
* ``building_coverage`` = footprint_m2 / area(p)                                  (建筑系数)
* ``floor_area_m2``     = Σ_b F(b) × area(piece(b, p)) / area(b)                  (计容建筑面积)
  where F(b) is the building's floor area counted for FAR: its floor-area column (建筑面积) when given,
  else footprint(b) × floors(b) (层数; 1 when unknown), doubled when its storey height (层高) is over
  8 m (工业项目建设用地控制指标 2008: a storey over 8 m counts twice). A building straddling two parcels
  splits its floor area **by the share of its footprint inside each parcel**; a part outside every
  parcel is counted nowhere;
* ``far``               = floor_area_m2 / area(p)                                  (容积率)
* ``idle_floor_m2``     = Σ actual floor area (not doubled) × footprint share of the buildings marked
  vacant (使用状态 / state containing 闲置, 空置, vacant, idle, unused, empty, 停用) or standing on a
  parcel whose firms stopped (``stopped``, a boolean Series on the parcels' index);
* ``building_count``    = number of buildings with a piece of positive area in p (a straddling building
  counts on each of its parcels).

Areas are measured in one planar CRS: the parcels' own CRS when it is projected (and not Web
Mercator), else each parcel's measuring zone (``measure_epsg`` from the geo stage, else the zone of
:func:`parkland.geo.area.measure_epsg_for`: CGCS2000 3° Gauss–Krüger inside China, UTM outside). The
buildings are reprojected to it; never degrees. Pairs come from an STRtree query and are clipped with
``shapely.intersection`` on aligned arrays (no loop over parcels or buildings).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from parkland import recon
from parkland.errors import InputError
from parkland.geo.area import centroid_lonlat, measure_epsg_for
from parkland.io.columns import norm_header, unit_factor
from parkland.io.values import normalise_text, parse_numbers
from parkland.recon import Loaded

#: header aliases of building attributes (matched after :func:`parkland.io.columns.norm_header`)
BUILDING_ALIASES: dict[str, tuple[str, ...]] = {
    "floors": ("层数", "地上层数", "总层数", "建筑层数", "楼层数", "floors", "floor", "storeys", "stories",
               "levels", "building:levels", "buildinglevels", "nfloors", "floorcount", "cs", "zcs"),
    "floor_area": ("建筑面积", "总建筑面积", "房屋建筑面积", "floor_area", "floorarea", "floor_area_m2",
                   "gfa", "grossfloorarea", "jzmj"),
    "storey_height": ("层高", "平均层高", "storey_height", "storeyheight", "floor_height", "floorheight",
                      "storey height"),
    "use": ("用途", "建筑用途", "房屋用途", "规划用途", "use", "usage", "building_use", "building"),
    "state": ("使用状态", "使用情况", "状态", "利用状态", "state", "status", "condition", "occupancy"),
}
#: a building is marked idle when its state contains one of these (case-insensitive)
IDLE_STATE_PATTERN = r"(?i)闲置|空置|停用|vacant|idle|unused|empty|disused|abandoned"
#: storey height (m) above which a storey counts twice in FAR
HIGH_STOREY_M = 8.0
#: columns this stage adds to the parcels
OUTPUT_COLUMNS = ("footprint_m2", "building_coverage", "floor_area_m2", "far", "idle_floor_m2",
                  "building_count")
#: columns of the per-building idle frame (``meta["idle_buildings"]``)
IDLE_COLUMNS = ("source_row", "parcel_id", "parcel_row", "floor_area_m2", "use", "state", "idle_basis")

#: unit words people append to a number in a building cell: 4层, 5.5米, 12m, 3F
_UNIT_TAIL = re.compile(r"\s*(层|米|m|M|F|f|㎡|平方米|m2|m²|floors?|storeys?)$")
_BRACKET = re.compile(r"^(.*?)[(（【\[]([^()（）【】\[\]]*)[)）】\]]\s*$")


def detect_columns(columns: list) -> dict[str, str | None]:
    """Which input column holds floors, floor_area, storey_height, use and state (None when absent).

    Headers are compared after NFKC, lower case and removal of spaces/underscores/hyphens; a unit in
    brackets (``建筑面积（㎡）``) is ignored for the match. The first alias present wins.
    """
    keys: dict[str, str] = {}
    for c in columns:
        if c == "geometry":
            continue
        s = unicodedata.normalize("NFKC", str(c)).strip()
        m = _BRACKET.match(s)
        base = m.group(1) if m and m.group(1).strip() else s
        keys.setdefault(norm_header(base), str(c))
    out: dict[str, str | None] = {}
    for what, aliases in BUILDING_ALIASES.items():
        out[what] = next((keys[norm_header(a)] for a in aliases if norm_header(a) in keys), None)
    return out


def _area_factor(header: str) -> float:
    """m² per unit written in a floor-area header's brackets (1 when none or unknown)."""
    m = _BRACKET.match(unicodedata.normalize("NFKC", str(header)).strip())
    if not m:
        return 1.0
    f = unit_factor(m.group(2).strip(), "area_m2")
    return 1.0 if f is None else float(f)


def _measure_crs_groups(parcels: gpd.GeoDataFrame, ok: np.ndarray) -> list[tuple[Any, np.ndarray]]:
    """[(crs to measure in, positions of parcels)] — one group unless the parcels are geographic."""
    crs = CRS.from_user_input(parcels.crs)
    web_mercator = crs.to_epsg() in (3857, 900913, 3785, 102100)
    pos = np.flatnonzero(ok)
    if crs.is_projected and not web_mercator:
        return [(crs, pos)]
    if "measure_epsg" in parcels.columns:
        codes = pd.to_numeric(parcels["measure_epsg"], errors="coerce").fillna(0).to_numpy("int64")
    else:
        codes = np.zeros(len(parcels), dtype="int64")
    missing = ok & (codes <= 0)
    if missing.any():
        lon, lat = centroid_lonlat(parcels.iloc[np.flatnonzero(missing)])
        codes[missing] = measure_epsg_for(lon, lat)
    return [(CRS.from_epsg(int(c)), pos[codes[pos] == c]) for c in np.unique(codes[pos])]


def _numbers(buildings: pd.DataFrame, col: str | None, what: str, rows: np.ndarray
             ) -> tuple[np.ndarray, pd.DataFrame]:
    """Floats of one attribute column (NaN when missing) and reconciliation records for bad cells."""
    n = len(buildings)
    if col is None:
        return np.full(n, np.nan), recon.empty()
    cells = buildings[col]
    if not pd.api.types.is_numeric_dtype(cells.dtype):
        txt = cells.astype(object).where(cells.notna(), None).astype("string")
        cells = txt.str.strip().str.replace(_UNIT_TAIL, "", regex=True).astype(object)
        cells = cells.where(txt.notna(), None)
    v, bad = parse_numbers(cells)
    v = v.to_numpy("float64")
    nonpos = np.isfinite(v) & (v <= 0)
    bad = bad.to_numpy(bool) | nonpos
    v = np.where(nonpos, np.nan, v)
    rec = recon.empty()
    if bad.any():
        rec = recon.records(
            "buildings", f"BAD_BUILDING_{what.upper()}",
            f"建筑「{col}」不是正数，按缺失处理", f'building "{col}" is not a positive number: treated as missing',
            "kept", source_row=rows[bad], key=rows[bad].astype(str), column=col)
    return v, rec


def building_metrics(
    parcels: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    *,
    floors_col: str | None = None,
    floor_area_col: str | None = None,
    storey_height_col: str | None = None,
    use_col: str | None = None,
    state_col: str | None = None,
    stopped: pd.Series | None = None,
) -> Loaded:
    """Per-parcel building coverage, floor area, FAR, idle floor and building count (see module doc).

    ``parcels``: GeoDataFrame after the geo stage (``source_row``, ``parcel_id``; ``measure_epsg`` used
    when the parcels are geographic). ``buildings``: footprints in any CRS (reprojected); attribute
    columns are detected (层数, 建筑面积, 层高, 用途, 使用状态 and English names) unless named.
    ``stopped``: optional boolean Series on the parcels' index — buildings on those parcels count as idle.

    Returns ``Loaded(frame, recon, meta)``: ``frame`` is a copy of ``parcels`` with the columns of
    :data:`OUTPUT_COLUMNS` (NaN for a parcel without geometry; 0 for a parcel without buildings);
    ``meta["idle_buildings"]`` one row per (idle building, parcel) piece with :data:`IDLE_COLUMNS`
    (``floor_area_m2`` = the building's actual floor area × its footprint share on that parcel);
    ``meta["pieces"]`` every (building, parcel) piece (for :func:`idle_floor`); ``meta["columns"]`` the
    detected attribute columns; ``meta["measure_crs"]`` the CRS names measured in.
    """
    if parcels.crs is None:
        raise InputError("宗地图层没有坐标系，无法计算建筑系数。", "the parcel layer has no CRS: no building coverage.")
    if buildings.crs is None:
        raise InputError("建筑图层没有坐标系，无法与宗地叠加。", "the building layer has no CRS: cannot overlay it.",
                         hint_zh="请为建筑图层设置坐标系（.prj）后重试。", hint_en="give the building layer a CRS (.prj).")
    found = detect_columns(list(buildings.columns))
    cols = {"floors": floors_col or found["floors"], "floor_area": floor_area_col or found["floor_area"],
            "storey_height": storey_height_col or found["storey_height"], "use": use_col or found["use"],
            "state": state_col or found["state"]}
    for c in cols.values():
        if c is not None and c not in buildings.columns:
            raise InputError(f"建筑图层没有列「{c}」", f'the building layer has no column "{c}"', column=c)

    recs: list[pd.DataFrame] = []
    nb = len(buildings)
    if "source_row" in buildings.columns:
        brow = pd.to_numeric(buildings["source_row"], errors="coerce").fillna(0).to_numpy("int64")
    else:
        brow = np.arange(1, nb + 1, dtype="int64")

    # --- building geometry: drop null/empty/non-polygonal, repair invalid -------------------------
    bgeom = np.asarray(buildings.geometry.array, dtype=object)
    bad_geom = shapely.is_missing(bgeom) | shapely.is_empty(bgeom)
    if bad_geom.any():
        recs.append(recon.records("buildings", "NULL_GEOMETRY", "建筑没有图形，已剔除",
                                  "building has no geometry: dropped", "dropped",
                                  source_row=brow[bad_geom], key=brow[bad_geom].astype(str)))
    live = ~bad_geom
    invalid = live.copy()
    invalid[live] = ~shapely.is_valid(bgeom[live])
    if invalid.any():
        bgeom = bgeom.copy()
        bgeom[invalid] = shapely.make_valid(bgeom[invalid])
        recs.append(recon.records("buildings", "INVALID_GEOMETRY", "建筑图形无效，已修复",
                                  "invalid building geometry: repaired", "repaired",
                                  source_row=brow[invalid], key=brow[invalid].astype(str)))
    # keep only the polygonal parts (a repaired bow-tie may come back as a collection)
    types = np.full(nb, -1)
    types[live] = shapely.get_type_id(bgeom[live])
    other = live & (types != 3) & (types != 6)
    if other.any():
        opos = np.flatnonzero(other)
        parts, owner = shapely.get_parts(bgeom[opos], return_index=True)
        poly = shapely.get_type_id(parts) == 3
        fixed = np.full(len(opos), None, dtype=object)
        if poly.any():
            u, inv = np.unique(owner[poly], return_inverse=True)
            fixed[u] = shapely.multipolygons(parts[poly], indices=inv)
        bgeom = bgeom.copy()
        bgeom[opos] = fixed
        nopoly = np.zeros(nb, dtype=bool)
        nopoly[opos] = shapely.is_missing(fixed)
        if nopoly.any():
            recs.append(recon.records("buildings", "NOT_POLYGON", "建筑图形不是面，已剔除",
                                      "building geometry is not a polygon: dropped", "dropped",
                                      source_row=brow[nopoly], key=brow[nopoly].astype(str)))
        live &= ~nopoly

    # --- attributes --------------------------------------------------------------------------------
    floors, r1 = _numbers(buildings, cols["floors"], "floors", brow)
    floor_area, r2 = _numbers(buildings, cols["floor_area"], "floor_area", brow)
    if cols["floor_area"] is not None:
        floor_area = floor_area * _area_factor(cols["floor_area"])
    storey_h, r3 = _numbers(buildings, cols["storey_height"], "storey_height", brow)
    recs += [r1, r2, r3]
    use = (normalise_text(buildings[cols["use"]]) if cols["use"] else pd.Series(None, index=buildings.index,
                                                                              dtype=object))
    state = (normalise_text(buildings[cols["state"]]) if cols["state"]
             else pd.Series(None, index=buildings.index, dtype=object))
    marked = state.fillna("").astype(str).str.contains(IDLE_STATE_PATTERN, regex=True).to_numpy(bool)
    assumed = live & np.isnan(floor_area) & np.isnan(floors)
    if assumed.any():
        recs.append(recon.records(
            "buildings", "FLOORS_ASSUMED",
            f"{int(assumed.sum())} 栋建筑无层数和建筑面积，按 1 层计算建筑面积",
            f"{int(assumed.sum())} buildings have neither floors nor floor area: counted as one storey",
            "kept", source_row=[None], key=[""],
            column=cols["floors"] or cols["floor_area"] or ""))
    doubled = np.isfinite(storey_h) & (storey_h > HIGH_STOREY_M)

    # --- parcels -----------------------------------------------------------------------------------
    out = parcels.copy()
    pgeom_all = np.asarray(parcels.geometry.array, dtype=object)
    pok = ~(shapely.is_missing(pgeom_all) | shapely.is_empty(pgeom_all))
    n = len(parcels)
    area = np.full(n, np.nan)
    footprint = np.full(n, np.nan)
    floor_sum = np.full(n, np.nan)
    idle_sum = np.full(n, np.nan)
    count = np.full(n, np.nan)
    stop = np.zeros(n, dtype=bool)
    if stopped is not None:
        stop = stopped.reindex(parcels.index).fillna(False).astype(bool).to_numpy()
    pid = (parcels["parcel_id"].astype(object).to_numpy() if "parcel_id" in parcels.columns
           else np.full(n, None, dtype=object))
    prow = (pd.to_numeric(parcels["source_row"], errors="coerce").to_numpy("float64")
            if "source_row" in parcels.columns else np.arange(1, n + 1, dtype="float64"))

    bsrc = gpd.GeoSeries(bgeom, crs=buildings.crs)
    piece_frames: list[pd.DataFrame] = []
    crs_names: list[str] = []
    blive = np.flatnonzero(live)
    for mcrs, ppos in _measure_crs_groups(parcels, pok):
        crs_names.append(mcrs.name)
        pg = np.asarray(gpd.GeoSeries(pgeom_all[ppos], crs=parcels.crs).to_crs(mcrs).array, dtype=object)
        bg = np.asarray(bsrc.iloc[blive].to_crs(mcrs).array, dtype=object)
        parea = shapely.area(pg)
        area[ppos] = parea
        footprint[ppos] = 0.0
        floor_sum[ppos] = 0.0
        idle_sum[ppos] = 0.0
        count[ppos] = 0.0
        if len(bg) == 0:
            continue
        barea = shapely.area(bg)
        tree = shapely.STRtree(bg)
        pi, bi = tree.query(pg, predicate="intersects")
        if len(pi) == 0:
            continue
        shapely.prepare(pg)
        inside = shapely.contains_properly(pg[pi], bg[bi])
        pieces = bg[bi].copy()
        cut = ~inside
        if cut.any():
            pieces[cut] = shapely.intersection(pg[pi[cut]], bg[bi[cut]])
        parea_piece = shapely.area(pieces)
        keep = parea_piece > 0
        pi, bi, pieces, parea_piece = pi[keep], bi[keep], pieces[keep], parea_piece[keep]
        share = parea_piece / barea[bi]
        gb = blive[bi]  # positions in the building frame
        # floor area of each building: column, else footprint × floors; doubled for a storey > 8 m
        actual = np.where(np.isfinite(floor_area[gb]), floor_area[gb],
                          barea[bi] * np.where(np.isfinite(floors[gb]), floors[gb], 1.0))
        counted = actual * np.where(doubled[gb], 2.0, 1.0)
        gp = ppos[pi]  # positions in the parcel frame
        # union only where two buildings' interiors overlap: else Σ pieces = area of the union
        bt = np.zeros(len(bg), dtype=bool)
        a, b = tree.query(bg, predicate="intersects")
        sel = a < b
        a, b = a[sel], b[sel]
        if len(a):
            over = shapely.relate_pattern(bg[a], bg[b], "T********")
            bt[a[over]] = True
            bt[b[over]] = True
            if over.any():
                other_row = pd.Series(brow[blive[b[over]]]).astype(str)
                recs.append(recon.records(
                    "buildings", "BUILDING_OVERLAP",
                    "建筑与第 " + other_row + " 条建筑重叠，建筑系数按并集计算",
                    "building overlaps building " + other_row + ": coverage counts the union",
                    "kept", source_row=brow[blive[a[over]]], key=brow[blive[a[over]]].astype(str)))
        fp = np.bincount(pi, weights=parea_piece, minlength=len(pg))
        needs = np.zeros(len(pg), dtype=bool)
        needs[pi[bt[bi]]] = True
        if needs.any():
            m = needs[pi]
            parts, owner = shapely.get_parts(pieces[m], return_index=True)
            parts_poly = shapely.get_type_id(parts) == 3
            grp = pi[m][owner][parts_poly]
            uniq, inv = np.unique(grp, return_inverse=True)
            merged = shapely.buffer(shapely.multipolygons(parts[parts_poly], indices=inv), 0)
            fp[uniq] = shapely.area(merged)
        footprint[ppos] += fp
        floor_sum[ppos] += np.bincount(pi, weights=counted * share, minlength=len(pg))
        count[ppos] += np.bincount(pi, minlength=len(pg))
        idle_basis = np.where(marked[gb], "marked", np.where(stop[gp], "parcel_stopped", ""))
        is_idle = idle_basis != ""
        idle_sum[ppos] += np.bincount(pi[is_idle], weights=(actual * share)[is_idle], minlength=len(pg))
        piece_frames.append(pd.DataFrame({
            "building_pos": gb, "parcel_pos": gp, "source_row": brow[gb], "piece_m2": parea_piece,
            "share": share, "floor_area_m2": actual * share, "far_floor_area_m2": counted * share,
            "marked_idle": marked[gb]}))

    with np.errstate(invalid="ignore", divide="ignore"):
        out["footprint_m2"] = footprint
        out["building_coverage"] = np.where(area > 0, footprint / area, np.nan)
        out["floor_area_m2"] = floor_sum
        out["far"] = np.where(area > 0, floor_sum / area, np.nan)
    out["idle_floor_m2"] = idle_sum
    out["building_count"] = pd.array(np.where(np.isnan(count), 0, count).astype("int64"), dtype="Int64")
    out.loc[~pok, "building_count"] = pd.NA

    pieces_df = (pd.concat(piece_frames, ignore_index=True) if piece_frames else pd.DataFrame(
        {"building_pos": pd.Series(dtype="int64"), "parcel_pos": pd.Series(dtype="int64"),
         "source_row": pd.Series(dtype="int64"), "piece_m2": pd.Series(dtype="float64"),
         "share": pd.Series(dtype="float64"), "floor_area_m2": pd.Series(dtype="float64"),
         "far_floor_area_m2": pd.Series(dtype="float64"), "marked_idle": pd.Series(dtype=bool)}))
    pieces_df["use"] = use.to_numpy(object)[pieces_df["building_pos"].to_numpy("int64")]
    pieces_df["state"] = state.to_numpy(object)[pieces_df["building_pos"].to_numpy("int64")]
    pieces_df["parcel_id"] = pid[pieces_df["parcel_pos"].to_numpy("int64")]
    pieces_df["parcel_row"] = prow[pieces_df["parcel_pos"].to_numpy("int64")]
    on_parcel = np.zeros(nb, dtype=bool)
    on_parcel[pieces_df["building_pos"].to_numpy("int64")] = True
    meta = {
        "columns": cols,
        "measure_crs": crs_names,
        "buildings": int(nb),
        "buildings_used": int(live.sum()),
        "buildings_on_parcels": int(on_parcel.sum()),
        "buildings_off_parcels": int((live & ~on_parcel).sum()),
        "pieces": pieces_df,
        "idle_buildings": _idle_frame(pieces_df, stop),
    }
    return Loaded(out, recon.concat(recs), meta)


def _idle_frame(pieces: pd.DataFrame, stop: np.ndarray) -> pd.DataFrame:
    """(idle building, parcel) pieces: marked vacant, or on a stopped parcel."""
    pos = pieces["parcel_pos"].to_numpy("int64")
    on_stopped = stop[pos] if len(stop) else np.zeros(len(pieces), dtype=bool)
    marked = pieces["marked_idle"].to_numpy(bool)
    sel = marked | on_stopped
    df = pieces.loc[sel].copy()
    df["idle_basis"] = np.where(marked[sel], "marked", "parcel_stopped")
    df["parcel_row"] = pd.array(np.where(np.isfinite(df["parcel_row"]), df["parcel_row"], 0).astype("int64"))
    return df[list(IDLE_COLUMNS)].reset_index(drop=True)


def idle_floor(metrics: Loaded, stopped: pd.Series) -> Loaded:
    """Recompute ``idle_floor_m2`` and the idle-building list of a :func:`building_metrics` result once
    the stopped parcels are known (the land stage runs after the geo stage).

    ``stopped``: boolean Series on the parcels' index. idle_floor_m2 = Σ actual floor area × footprint
    share over pieces that are marked vacant or lie on a stopped parcel. Returns a new Loaded with the
    same recon and an updated ``meta``.
    """
    frame = metrics.frame.copy()
    pieces = metrics.meta["pieces"]
    stop = stopped.reindex(frame.index).fillna(False).astype(bool).to_numpy()
    pos = pieces["parcel_pos"].to_numpy("int64")
    idle = pieces["marked_idle"].to_numpy(bool) | stop[pos]
    sums = np.bincount(pos[idle], weights=pieces["floor_area_m2"].to_numpy("float64")[idle],
                       minlength=len(frame))
    has_geom = frame["footprint_m2"].notna().to_numpy()
    frame["idle_floor_m2"] = np.where(has_geom, sums, np.nan)
    meta = dict(metrics.meta)
    meta["idle_buildings"] = _idle_frame(pieces, stop)
    return Loaded(frame, metrics.recon, meta)
