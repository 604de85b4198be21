"""Firm ↔ parcel linking (DESIGN.md, "Linking and land").

Order of evidence, per firm:

1. **codes** in the firm's own cell (``parcel_ids``, already normalised by ``io``);
2. rows of the **link table** (``--links``: uscc, parcel_id, land_share / occupied_m2);
3. the parcel's **landholder** (``holder_uscc``, else ``holder_name``) — the holder is linked to the
   parcels it holds;
4. for a firm with no code and no link row: the parcel containing its **point** (``lon``/``lat``,
   converted from ``firm_coords`` GCJ-02/BD-09 to WGS84 first). A code that is not found is *not*
   rescued by the point; a point outside its coded parcels is listed.

Shares of a parcel p (vectorised per parcel):

* ``land_share`` where given (link row first, else the firm's own column);
* else ``occupied_m2 / D_p``, with D_p = the parcel's floor area when known (buildings), else the sum of
  occupied floor of the firms on p;
* if the shares so far exceed 1 they are normalised to sum to 1 (listed);
* the rest ``R_p = 1 − Σ shares`` is split equally among the firms on p without share information
  (the landholder among them: "the landholder keeps the unshared rest"); with none, R_p stays unassigned.

A firm's land: ``land_mu = Σ_p share_{f,p} × A_p`` (A_p the parcel's area on the chosen basis).
Its figures are split across its parcels by ``weight_{f,p} = share_{f,p} × A_p / land_mu`` so that a firm's
total is counted once: parcel figure ``X_p = Σ_f X_f × weight_{f,p}``.

A firm with no linked parcel but ``reported_land_mu`` > 0 is assessed on that area
(``land_source = reported``). Rows repeating a credit code: the first is used, the others are
``not_graded`` with "duplicate of row N" and take no land.

Stages. :func:`link_firms` composes five pure functions so that a scale-out engine can run them on slices
(``parkland.engine.dask`` does: firm chunks and parcel partitions, with the pairs hash-partitioned between
them); on one machine each runs once on the whole table, and the result is the same either way:

1. :func:`prepare_link` (whole firm table; cheap): repeated credit codes, the firm columns linking needs, the
   parcel-code index, the link table matched to firms and parcels, the landholder look-ups, firm points in
   the parcels' CRS;
2. :func:`parcel_candidates` (per parcel partition): landholder pairs and the parcels containing firm points;
3. :func:`firm_pairs` (per firm chunk): codes in the cell, link rows, holder pairs and the smallest parcel
   under a point → one pair per (firm, parcel) with its share inputs;
4. :func:`parcel_shares` (per parcel partition, all pairs of its parcels): shares, land on the parcel, the
   unassigned rest and the parcel's firm count, holder and park;
5. :func:`firm_totals` (per firm chunk, all pairs of its firms): land_mu, weights, land source, status,
   main parcel, tenant, park and county.

Reconciliation records are kept by code (``RECORD_ORDER``) and concatenated in that order, each code's
records in firm order (pair order for pair-level codes, parcel order for SHARES_EXCEED_ONE).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import recon
from .frames import (
    arrow_text,
    first_positions,
    join_groups,
    object_series,
    positions,
    space_at_ends,
    text_column,
)
from .geo.crs import bd09_to_wgs84, gcj02_to_wgs84

PENDING = "pending"
#: order of the linking stage's reconciliation records (LINK_PARCEL_NOT_FOUND is PARCEL_NOT_FOUND of --links)
RECORD_ORDER = ("DUPLICATE_USCC", "PARCEL_NOT_FOUND", "CODE_MATCHES_SEVERAL_PARCELS", "LINK_FIRM_NOT_FOUND",
                "LINK_PARCEL_NOT_FOUND", "BAD_COORDINATES", "POINT_OUTSIDE_PARCELS", "POINT_OUTSIDE_CODED_PARCEL",
                "BAD_LAND_SHARE", "SHARES_EXCEED_ONE", "NO_SHARE_LEFT", "BAD_REPORTED_LAND", "REPORTED_LAND_USED")
#: per-firm columns :func:`link_firms` adds, in this order
FIRM_COLUMNS = ("parcel_ids_input", "parcel_ids", "land_mu", "land_source", "status", "status_reason", "is_tenant",
                "landholder_uscc", "main_parcel_id", "park", "county", "in_park", "link_method")
#: per-pair output columns (``Linked.pairs``)
PAIR_COLUMNS = ("firm_row", "parcel_row", "parcel_id", "share", "land_mu", "weight", "method", "is_holder")
Records = dict[str, list[pd.DataFrame]]


@dataclass
class Linked:
    """Result of :func:`link_firms`."""

    firms: pd.DataFrame  # the input firms + link columns (same row order, same length)
    pairs: pd.DataFrame  # firm_row, parcel_row, parcel_id, share, land_mu, weight, method, is_holder
    parcels: pd.DataFrame  # per parcel (index = parcels' index): firm_count, holder_firm_row, unassigned_share, park
    recon: pd.DataFrame


@dataclass
class Block:
    """Rows ``offset … offset + len − 1`` of a table as equal-length columns (numpy arrays or Series): the
    firm chunks and parcel partitions the stages work on. Plain arrays keep object columns object (a
    DataFrame would infer the string dtype)."""

    offset: int
    cols: dict[str, Any]

    def __len__(self) -> int:
        return len(next(iter(self.cols.values()))) if self.cols else 0

    def __getitem__(self, name: str) -> Any:
        return self.cols[name]

    def slice(self, a: int, b: int) -> Block:
        """Rows a … b − 1 (positions relative to this block)."""
        return Block(self.offset + a, {k: (v.iloc[a:b] if isinstance(v, pd.Series) else v[a:b])
                                       for k, v in self.cols.items()})


@dataclass
class Holders:
    """Landholder look-ups over the firm table: credit code → firm position, unique name → firm position,
    and the firms' source_row (to name a parcel's holder firm)."""

    by_uscc: pd.Series
    by_name: pd.Series
    frow: np.ndarray


class CodeIndex:
    """Parcel code → parcel positions (every parcel carrying the code, in layer order), built once and
    shared by every firm chunk; codes are looked up with :func:`parkland.frames.positions`."""

    def __init__(self, code_to_pos: pd.DataFrame) -> None:
        inv, uniq = pd.factorize(code_to_pos["code"].to_numpy(object))
        self.counts = np.bincount(inv, minlength=len(uniq))
        self.starts = np.concatenate([[0], np.cumsum(self.counts)[:-1]]).astype(int)
        self.ppos = code_to_pos["ppos"].to_numpy(int)[np.argsort(inv, kind="stable")]
        self.uniq = np.asarray(uniq, dtype=object)

    def left_join(self, ex: pd.DataFrame) -> pd.DataFrame:
        """``ex`` (fpos, code) → (fpos, code, ppos): one row per matching parcel, NaN for an unknown code;
        ``ex``'s order, a code's parcels in layer order (as ``ex.merge(code_to_pos, how="left")``)."""
        u = positions(ex["code"].to_numpy(object), self.uniq) if len(ex) else np.zeros(0, int)
        n = np.where(u >= 0, self.counts[np.maximum(u, 0)] if len(self.counts) else 1, 1)
        rep = np.repeat(np.arange(len(ex)), n)
        within = np.arange(len(rep)) - np.repeat(np.cumsum(n) - n, n)
        uu = u[rep]
        ppos = np.full(len(rep), np.nan)
        hit = uu >= 0
        ppos[hit] = self.ppos[self.starts[uu[hit]] + within[hit]]
        return pd.DataFrame({"fpos": ex["fpos"].to_numpy()[rep], "code": ex["code"].to_numpy(object)[rep],
                             "ppos": ppos})


@dataclass
class LinkPlan:
    """What :func:`prepare_link` gathers from the whole firm table (and the parcels' codes)."""

    firms: pd.DataFrame  # the input firms (reset index, copy): the base of Linked.firms
    ft: Block  # firm columns linking needs, offset 0
    codes: CodeIndex  # parcel-code index (code → positions of the parcels with it)
    multi: pd.Series  # codes carried by several parcels → count
    link_pairs: pd.DataFrame  # fpos, ppos, method="link", x_share, x_occ (link-table order)
    holders: Holders
    points: pd.DataFrame  # fpos, x, y: active firms' usable points in the parcels' CRS
    area_column: str
    recs: Records = field(default_factory=dict)


def _add(recs: Records, code: str, frame: pd.DataFrame) -> None:
    recs.setdefault(code, []).append(frame)


def merge_records(parts: list[Records]) -> pd.DataFrame:
    """Records of several stages/slices → one frame: by ``RECORD_ORDER``, each code's in the order given."""
    out: list[pd.DataFrame] = []
    for code in RECORD_ORDER:
        for p in parts:
            out.extend(p.get(code, []))
    return recon.concat(out)


def _text(s: pd.Series) -> pd.Series:
    """Stripped object strings, None for missing/empty. Text columns: Arrow finds the cells that start or
    end with whitespace and only those are stripped (``str.strip``); other columns go through the string
    dtype (numbers become their text)."""
    import pyarrow as pa

    if (arr := arrow_text(s)) is not None:
        # the Arrow array as it is: no round trip through Python strings before the one at the end
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        out = arr.to_numpy(zero_copy_only=False)
        missing = ~arr.is_valid().to_numpy(zero_copy_only=False)
        out[missing] = None
        edge = space_at_ends(arr).to_numpy(zero_copy_only=False)
    elif isinstance(s.dtype, pd.StringDtype) or (pd.api.types.is_object_dtype(s.dtype) and pd.api.types.infer_dtype(
            s, skipna=True) in ("string", "empty")):
        out = s.to_numpy(dtype=object, copy=True)
        missing = pd.isna(out)
        out[missing] = None
        try:
            edge = space_at_ends(pa.array(out, type=pa.large_string())).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):  # text Arrow refuses: test them all
            edge = ~missing
    else:
        t = s.astype("string").str.strip()
        t = t.mask(t == "")
        return t.astype(object).where(t.notna(), None)
    if edge.any():
        out[edge] = [v.strip() for v in out[edge]]  # only the cells with whitespace at an end
    out[~missing & (out == "")] = None
    return pd.Series(out, index=s.index, dtype=object)


def _split_codes(fpos: np.ndarray, cells: pd.Series | np.ndarray) -> pd.DataFrame:
    """(fpos, code): one row per ";"-separated piece of each firm's code cell, stripped, in cell order
    (an empty cell gives one empty code), as ``str.split(";")`` + ``explode`` + ``str.strip`` would; the
    split runs in Arrow, not once per cell in Python."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cells = np.asarray(cells, dtype=object)
    try:
        lists = pc.split_pattern(pa.array(cells, type=pa.large_string(), from_pandas=True), pattern=";")
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):  # not text Arrow takes: pandas
        ex = pd.DataFrame({"fpos": fpos, "code": pd.Series(cells, dtype=object).str.split(";")}).explode("code")
        ex["code"] = ex["code"].str.strip()
        return ex
    parent = pc.list_parent_indices(lists).to_numpy()
    # utf8_trim_whitespace strips what str.strip strips (frames.space_at_ends)
    code = pc.utf8_trim_whitespace(pc.list_flatten(lists)).to_numpy(zero_copy_only=False)
    return pd.DataFrame({"fpos": np.asarray(fpos)[parent], "code": code})


def _slice(texts: np.ndarray, a: int, b: int) -> np.ndarray:
    """``t[a:b]`` of ASCII texts (credit codes that passed the check), in Arrow."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.utf8_slice_codeunits(pa.array(texts, type=pa.string(), from_pandas=True), a, b) \
        .to_numpy(zero_copy_only=False)


def _none(n: int) -> pd.Series:
    return pd.Series([None] * n, dtype=object)


def _coords_to_wgs84(lon: np.ndarray, lat: np.ndarray, datum: str) -> tuple[np.ndarray, np.ndarray]:
    if datum == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if datum == "bd09":
        return bd09_to_wgs84(lon, lat)
    if datum != "wgs84":
        raise ValueError(f"firm_coords must be wgs84, gcj02 or bd09, not {datum!r}")
    return lon, lat


def link_firms(
    firms: pd.DataFrame,
    parcels: gpd.GeoDataFrame,
    links: pd.DataFrame | None = None,
    *,
    area_column: str = "land_area_mu",
    floor_area_m2: pd.Series | None = None,
    firm_coords: str = "wgs84",
    park_boundary: pd.Series | None = None,
    source: str = "firms",
) -> Linked:
    """Link firms to parcels and compute each firm's land (see the module docstring for the rules).

    ``parcels`` must carry ``source_row``, ``parcel_id``, ``area_column`` (亩), ``holder_uscc``,
    ``holder_name``, ``park`` and ``county``. ``floor_area_m2`` (indexed like ``parcels``) is the
    parcel's floor area from buildings, used as the denominator of ``occupied_m2`` shares.
    ``park_boundary`` (indexed like ``parcels``) is the park from the boundary layer, the last resort
    after the parcel's own park column and the firm's. ``source`` names the firm table in the
    reconciliation records (``previous_firms`` for last year's table).
    """
    parcels = parcels.reset_index(drop=True)
    plan = prepare_link(firms, parcels, links, area_column=area_column, firm_coords=firm_coords)
    pt = parcel_inputs(parcels, plan.area_column, floor_area_m2=floor_area_m2, park_boundary=park_boundary)
    cand = parcel_candidates(pt, plan.holders, plan.points)
    fp = firm_pairs(plan.ft, plan.codes, plan.multi, plan.link_pairs, cand["pairs"])
    ps = parcel_shares(pt, cand["holder_pos"], fp["pairs"])
    ft = firm_totals(plan.ft, fp["had_code"], ps["pairs"])
    return assemble(plan, [ft], [{**cand["per_parcel"], **ps["per_parcel"]}], [fp["recs"], ps["recs"], ft["recs"]],
                    parcels.index, source=source)


# --------------------------------------------------------------------------------------------- 1. firm table
def prepare_link(firms: pd.DataFrame, parcels: gpd.GeoDataFrame, links: pd.DataFrame | None = None, *,
                 area_column: str = "land_area_mu", firm_coords: str = "wgs84") -> LinkPlan:
    """The whole-table part of linking (firm-sized, plus the parcels' code column): repeated credit codes
    (DUPLICATE_USCC: the first row is used), the parcel-code index, the link table matched to firms and
    parcels (LINK_FIRM_NOT_FOUND, PARCEL_NOT_FOUND), landholder look-ups, and the firms' points
    converted to WGS84 and projected to the parcels' CRS (BAD_COORDINATES)."""
    firms = firms.reset_index(drop=True).copy()
    parcels = parcels.reset_index(drop=True)
    if area_column not in parcels.columns:
        area_column = "area_mu"
    recs: Records = {}
    n_f = len(firms)
    frow = firms["source_row"].to_numpy()
    uscc = _text(firms["uscc"]) if "uscc" in firms else _none(n_f)
    fname = _text(firms["name"]) if "name" in firms else _none(n_f)
    key = firms.get("uscc_raw", uscc)
    key = _text(key).fillna(fname.fillna(""))

    # -- duplicates: rows repeating a credit code -------------------------------------------------
    has_uscc = uscc.notna()
    first_pos, _ = first_positions(uscc.to_numpy(object))
    if (~has_uscc).any():  # rows without a code share the first such row (they are never duplicates)
        first_pos[~has_uscc.to_numpy()] = np.flatnonzero(~has_uscc.to_numpy())[0]
    dup = has_uscc & (first_pos != np.arange(n_f))
    file_row = firms["file_row"] if "file_row" in firms else firms["source_row"]
    first_file_row = file_row.to_numpy()[first_pos]
    active = ~dup.to_numpy()
    if dup.any():
        d = np.flatnonzero(dup.to_numpy())
        _add(recs, "DUPLICATE_USCC", recon.records(
            "firms", "DUPLICATE_USCC",
            "信用代码与第 " + pd.Series(first_file_row[d]).astype(str) + " 行重复：仅使用第一行，本行不参评、不计用地",
            "credit code repeats row " + pd.Series(first_file_row[d]).astype(str)
            + ": the first row is used; this row is not graded and takes no land",
            "kept", source_row=frow[d], file_row=file_row.to_numpy()[d], key=key.to_numpy()[d],
            column="uscc"))

    # -- parcel-code index ---------------------------------------------------------------------------
    p_id = _text(parcels["parcel_id"]) if "parcel_id" in parcels else _none(len(parcels))
    code_to_pos = pd.DataFrame({"code": p_id, "ppos": np.arange(len(parcels))}).dropna(subset=["code"])
    code_index = CodeIndex(code_to_pos)
    several = code_index.counts > 1
    multi = pd.Series(code_index.counts[several], index=pd.Index(code_index.uniq[several], dtype=object, name="code"),
                      name="count")  # codes carried by several parcels → how many
    codes = firms["parcel_ids"] if "parcel_ids" in firms else pd.Series([""] * n_f)
    codes = codes.astype("object").where(codes.notna(), "")
    # text cells as they are (one C pass to check), anything else through str() as before
    codes = codes.astype("str") if pd.api.types.infer_dtype(codes, skipna=False) == "string" \
        else codes.map(str)

    # -- the link table ------------------------------------------------------------------------------
    had_link = np.zeros(n_f, dtype=bool)
    link_pairs = pd.DataFrame({"fpos": pd.Series([], dtype=int), "ppos": pd.Series([], dtype=int),
                               "method": "link", "x_share": pd.Series([], dtype=float),
                               "x_occ": pd.Series([], dtype=float)})
    if links is not None and len(links):
        lk = links.reset_index(drop=True)
        l_uscc = _text(lk["uscc"])
        first_of = pd.DataFrame({"uscc": uscc[active], "fpos": np.flatnonzero(active)}).dropna(subset=["uscc"])
        lm = pd.DataFrame({"lrow": np.arange(len(lk)), "uscc": l_uscc, "code": _text(lk["parcel_id"]),
                           "x_share": pd.to_numeric(lk.get("land_share"), errors="coerce") if "land_share" in lk else np.nan,
                           "x_occ": pd.to_numeric(lk.get("occupied_m2"), errors="coerce") if "occupied_m2" in lk else np.nan})
        lm = lm.merge(first_of, on="uscc", how="left").merge(code_to_pos, on="code", how="left")
        l_src = lk["source_row"].to_numpy()
        l_file = lk["file_row"].to_numpy() if "file_row" in lk else l_src
        l_key = _text(lk["uscc_raw"] if "uscc_raw" in lk else lk["uscc"]).fillna("").to_numpy()
        bad_f = lm["fpos"].isna().to_numpy()
        if bad_f.any():
            r = lm.loc[bad_f, "lrow"].to_numpy()
            _add(recs, "LINK_FIRM_NOT_FOUND", recon.records(
                "links", "LINK_FIRM_NOT_FOUND", "对应表中的信用代码不在企业表中，本行未使用",
                "the credit code of this link row is not in the firm table; row not used",
                "dropped", source_row=l_src[r], file_row=l_file[r], key=l_key[r], column="uscc"))
        bad_p = lm["ppos"].isna().to_numpy() & ~bad_f
        if bad_p.any():
            r = lm.loc[bad_p, "lrow"].to_numpy()
            _add(recs, "LINK_PARCEL_NOT_FOUND", recon.records(
                "links", "PARCEL_NOT_FOUND",
                [f"宗地代码 {c} 在宗地图层中不存在，本行未使用" for c in lm.loc[bad_p, "code"]],
                [f"parcel code {c} is not in the parcel layer; row not used" for c in lm.loc[bad_p, "code"]],
                "dropped", source_row=l_src[r], file_row=l_file[r], key=l_key[r], column="parcel_id"))
        lm = lm[~(bad_f | lm["ppos"].isna().to_numpy())]
        had_link[lm["fpos"].astype(int).unique()] = True
        link_pairs = pd.DataFrame({"fpos": lm["fpos"].to_numpy(int), "ppos": lm["ppos"].to_numpy(int),
                                   "method": "link", "x_share": lm["x_share"].to_numpy(float),
                                   "x_occ": lm["x_occ"].to_numpy(float)})

    # -- landholder look-ups -------------------------------------------------------------------------
    # the active rows' credit codes are distinct (a repeated code's later rows are not active)
    by_uscc = pd.Series(np.flatnonzero(active), index=uscc[active].to_numpy())
    by_uscc = by_uscc[by_uscc.index.notna()]
    names_active = fname[active].to_numpy(object)
    _, name_count = first_positions(names_active)
    once = name_count == 1  # ambiguous names never match (a missing name counts 0)
    by_name = pd.Series(np.flatnonzero(active)[once], index=names_active[once])

    # -- points --------------------------------------------------------------------------------------
    lon = pd.to_numeric(firms["lon"], errors="coerce").to_numpy(float) if "lon" in firms else np.full(n_f, np.nan)
    lat = pd.to_numeric(firms["lat"], errors="coerce").to_numpy(float) if "lat" in firms else np.full(n_f, np.nan)
    has_pt = np.isfinite(lon) & np.isfinite(lat)
    bad_pt = has_pt & ((np.abs(lon) > 180) | (np.abs(lat) > 90))
    if bad_pt.any():
        d = np.flatnonzero(bad_pt)
        _add(recs, "BAD_COORDINATES", recon.records(
            "firms", "BAD_COORDINATES", "经纬度超出范围，未使用", "coordinates out of range; not used",
            "kept", source_row=frow[d], file_row=file_row.to_numpy()[d], key=key.to_numpy()[d], column="lon"))
    has_pt &= ~bad_pt
    px, py = np.full(n_f, np.nan), np.full(n_f, np.nan)
    pt_ok = np.zeros(n_f, dtype=bool)
    if has_pt.any() and parcels.crs is not None and len(parcels):
        wl, wt = _coords_to_wgs84(lon[has_pt], lat[has_pt], firm_coords)
        pts = gpd.GeoSeries(shapely.points(wl, wt), crs="EPSG:4326").to_crs(parcels.crs).to_numpy()
        px[has_pt], py[has_pt] = shapely.get_x(pts), shapely.get_y(pts)
        pt_ok = has_pt
    sel = pt_ok & active
    points = pd.DataFrame({"fpos": np.flatnonzero(sel), "x": px[sel], "y": py[sel]})

    f_share = pd.to_numeric(firms["land_share"], errors="coerce").to_numpy(float) if "land_share" in firms else np.full(n_f, np.nan)
    f_occ = pd.to_numeric(firms["occupied_m2"], errors="coerce").to_numpy(float) if "occupied_m2" in firms else np.full(n_f, np.nan)
    f_park = _text(firms["park"]) if "park" in firms else _none(n_f)
    reported = pd.to_numeric(firms["reported_land_mu"], errors="coerce").to_numpy(float) \
        if "reported_land_mu" in firms else np.full(n_f, np.nan)
    valid = firms["uscc_valid"].to_numpy(bool) if "uscc_valid" in firms else np.zeros(n_f, bool)
    from_uscc = np.full(n_f, None, dtype=object)  # characters 3–8 of a valid code: its county
    if valid.any():
        from_uscc[valid] = _slice(uscc.to_numpy(object)[valid], 2, 8)
    ft = Block(0, {"frow": frow, "file_row": file_row.to_numpy(), "key": key.to_numpy(), "uscc": uscc.to_numpy(),
                   "codes": codes, "active": active, "first_file_row": first_file_row, "had_link": had_link,
                   "f_share": f_share, "f_occ": f_occ, "f_park": f_park.to_numpy(), "pt_ok": pt_ok, "px": px,
                   "py": py, "reported": reported, "from_uscc": from_uscc})
    return LinkPlan(firms=firms, ft=ft, codes=code_index, multi=multi, link_pairs=link_pairs,
                    holders=Holders(by_uscc, by_name, frow), points=points, area_column=area_column, recs=recs)


# --------------------------------------------------------------------------------------------- 2. parcels
def parcel_inputs(parcels: pd.DataFrame, area_column: str, *, floor_area_m2: pd.Series | None = None,
                  park_boundary: pd.Series | None = None, offset: int = 0) -> Block:
    """The parcel columns linking needs, normalised (codes and names stripped, None when empty): a
    :class:`Block` of rows ``offset …`` (``floor_area_m2``/``park_boundary`` aligned with ``parcels`` by
    position)."""
    n = len(parcels)
    if area_column not in parcels.columns:
        area_column = "area_mu"
    fa = np.full(n, np.nan)
    if floor_area_m2 is not None:
        fa = pd.to_numeric(pd.Series(floor_area_m2).reset_index(drop=True), errors="coerce").to_numpy(float)
    pb = _text(pd.Series(park_boundary).reset_index(drop=True)) if park_boundary is not None else _none(n)
    basis = parcels["area_basis_used"].to_numpy() if "area_basis_used" in parcels else np.full(n, "polygon")
    geom = parcels.geometry.to_numpy() if isinstance(parcels, gpd.GeoDataFrame) and parcels._geometry_column_name \
        in parcels.columns else np.full(n, None, dtype=object)
    return Block(offset, {
        "src": parcels["source_row"].to_numpy(),
        "pid": (_text(parcels["parcel_id"]) if "parcel_id" in parcels else _none(n)).to_numpy(),
        "area": pd.to_numeric(parcels[area_column], errors="coerce").to_numpy(dtype=float),
        "holder_uscc": (_text(parcels["holder_uscc"]) if "holder_uscc" in parcels else _none(n)).to_numpy(),
        "holder_name": (_text(parcels["holder_name"]) if "holder_name" in parcels else _none(n)).to_numpy(),
        "park": (_text(parcels["park"]) if "park" in parcels else _none(n)).to_numpy(),
        "county": _text(parcels["county"]).to_numpy() if "county" in parcels else np.full(n, None, object),
        "cert": basis == "certificate", "floor": fa, "pb": pb.to_numpy(), "geom": geom})


def parcel_candidates(pt: Block, holders: Holders, points: pd.DataFrame | None) -> dict[str, Any]:
    """Per parcel partition: the parcel's landholder among the firms (``holder_uscc``, else a unique
    ``holder_name``) → holder pairs; and, for each firm point, the parcels containing it (``hits``, with
    the parcel's area: the smallest wins in :func:`firm_pairs`). Returns ``{"holder_pos", "pairs",
    "per_parcel": {"holder_frow", "holder_ok"}}``; pairs have method ``holder`` or ``hit``."""
    n = len(pt)
    idx = pd.RangeIndex(pt.offset, pt.offset + n)
    hf = np.full(n, np.nan)  # the holder's firm position: by credit code, else by a unique name
    for col, look in (("holder_name", holders.by_name), ("holder_uscc", holders.by_uscc)):
        at = positions(pt[col], look.index)
        hf[at >= 0] = look.to_numpy(dtype=float)[at[at >= 0]]
    hf_ok = np.isfinite(hf)
    frames = [pd.DataFrame({"fpos": hf[hf_ok].astype(int), "ppos": idx.to_numpy()[hf_ok],
                            "method": "holder", "x_share": np.nan, "x_occ": np.nan, "a": np.nan})]
    if points is not None and len(points) and n:
        tree = shapely.STRtree(pt["geom"])
        qi, pi = tree.query(shapely.points(points["x"].to_numpy(), points["y"].to_numpy()), predicate="within")
        frames.append(pd.DataFrame({"fpos": points["fpos"].to_numpy(int)[qi], "ppos": pt.offset + pi,
                                    "method": "hit", "x_share": np.nan, "x_occ": np.nan, "a": pt["area"][pi]}))
    frow = holders.frow
    hrow = np.where(hf_ok, frow[np.where(hf_ok, hf, 0).astype(int)] if len(frow) else 0, 0)
    return {"holder_pos": hf, "pairs": pd.concat(frames, ignore_index=True),
            "per_parcel": {"holder_frow": hrow, "holder_ok": hf_ok}}


# --------------------------------------------------------------------------------------------- 3. pairs
def firm_pairs(ft: Block, code_index: CodeIndex, multi: pd.Series, link_pairs: pd.DataFrame,
               candidates: pd.DataFrame) -> dict[str, Any]:
    """Per firm chunk: one pair per (firm, parcel) from the codes in the firm's cell (PARCEL_NOT_FOUND,
    CODE_MATCHES_SEVERAL_PARCELS), its link rows, the parcels it holds and, for a firm with no code and no
    link row, the smallest parcel under its point (POINT_OUTSIDE_PARCELS). Share information: the first
    non-missing of link row, code, point, holder; then the firm's own land_share / occupied_m2
    (BAD_LAND_SHARE: outside 0–1, not used). ``link_pairs`` and ``candidates`` may hold other firms' rows.

    Returns ``{"pairs", "had_code", "recs"}``; pairs (sorted by fpos, ppos) carry share_in, occ, the
    firm's park (``f_park``) and, for coded parcels of a firm with a point, the point (px, py)."""
    n, off = len(ft), ft.offset
    recs: Records = {}
    frow, file_row, key, active = ft["frow"], ft["file_row"], ft["key"], ft["active"]
    fpos_all = np.arange(off, off + n)
    lo = lambda pos: np.asarray(pos, dtype=int) - off  # noqa: E731 - global firm position → row of this chunk

    # 1. codes in the firm's own cell
    ex = _split_codes(fpos_all, ft["codes"])
    ex = ex[(ex["code"] != "") & ex["code"].notna() & active[lo(ex["fpos"].to_numpy())]]
    had_code = np.zeros(n, dtype=bool)
    had_code[lo(ex["fpos"].unique())] = True
    m = code_index.left_join(ex)
    missing = m[m["ppos"].isna()]
    if len(missing):
        fp = lo(missing["fpos"].to_numpy())
        _add(recs, "PARCEL_NOT_FOUND", recon.records(
            "firms", "PARCEL_NOT_FOUND",
            "宗地代码 " + missing["code"].astype(str) + " 在宗地图层中不存在",
            "parcel code " + missing["code"].astype(str) + " is not in the parcel layer",
            "kept", source_row=frow[fp], file_row=file_row[fp], key=key[fp], column="parcel_ids"))
    m = m.dropna(subset=["ppos"])
    hit_multi = m[m["code"].isin(multi.index)].drop_duplicates(["fpos", "code"])
    if len(hit_multi):
        fp = lo(hit_multi["fpos"].to_numpy())
        _add(recs, "CODE_MATCHES_SEVERAL_PARCELS", recon.records(
            "firms", "CODE_MATCHES_SEVERAL_PARCELS",
            [f"宗地代码 {c} 对应 {multi[c]} 个图斑，已全部计入" for c in hit_multi["code"]],
            [f"parcel code {c} matches {multi[c]} features; all are linked" for c in hit_multi["code"]],
            "kept", source_row=frow[fp], file_row=file_row[fp], key=key[fp], column="parcel_ids"))
    pair_frames = [pd.DataFrame({"fpos": m["fpos"].to_numpy(int), "ppos": m["ppos"].to_numpy(int),
                                 "method": "code", "x_share": np.nan, "x_occ": np.nan})]

    # 2. the link table (rows of this chunk's firms, in table order)
    mine = lambda f: f[(f["fpos"].to_numpy() >= off) & (f["fpos"].to_numpy() < off + n)]  # noqa: E731
    pair_frames.append(mine(link_pairs))

    # 3. landholders; 4. points of firms with no code and no link row: the smallest parcel containing it
    cand = mine(candidates)
    pair_frames.append(cand.loc[cand["method"] == "holder", ["fpos", "ppos", "method", "x_share", "x_occ"]])
    want = ft["pt_ok"] & active & ~had_code & ~ft["had_link"]
    if want.any():
        hits = cand.loc[(cand["method"] == "hit").to_numpy() & want[lo(cand["fpos"].to_numpy())],
                        ["fpos", "ppos", "a"]]
        hits = hits.sort_values(["fpos", "a", "ppos"]).drop_duplicates("fpos")
        pair_frames.append(pd.DataFrame({"fpos": hits["fpos"].to_numpy(int), "ppos": hits["ppos"].to_numpy(int),
                                         "method": "point", "x_share": np.nan, "x_occ": np.nan}))
        miss = np.setdiff1d(fpos_all[want], hits["fpos"].to_numpy())
        if len(miss):
            fp = lo(miss)
            _add(recs, "POINT_OUTSIDE_PARCELS", recon.records(
                "firms", "POINT_OUTSIDE_PARCELS", "企业坐标不在任何宗地内，未能按坐标关联",
                "the firm's point lies in no parcel; not linked by point",
                "kept", source_row=frow[fp], file_row=file_row[fp], key=key[fp], column="lon"))

    # -- one pair per (firm, parcel), link-table information first -----------------------------------
    pairs = pd.concat([f for f in pair_frames if len(f)], ignore_index=True) if any(len(f) for f in pair_frames) \
        else pd.DataFrame({"fpos": pd.Series([], dtype=int), "ppos": pd.Series([], dtype=int),
                           "method": pd.Series([], dtype=object), "x_share": pd.Series([], dtype=float),
                           "x_occ": pd.Series([], dtype=float)})
    order = {"link": 0, "code": 1, "point": 2, "holder": 3}
    o = np.full(len(pairs), len(order))
    for method, rank in order.items():
        o[(pairs["method"] == method).to_numpy(bool)] = rank
    pairs["o"] = o
    pairs["coded"] = (pairs["method"] == "code").to_numpy(bool)
    pairs = pairs.sort_values(["fpos", "ppos", "o"], kind="stable")
    # share information may sit on the link row while the code came from the cell: keep the first
    # non-missing of each field within the group
    agg = pairs.groupby(["fpos", "ppos"], sort=False).agg(
        method=("method", "first"), x_share=("x_share", "first"), x_occ=("x_occ", "first"), coded=("coded", "any"))
    pairs = agg.reset_index()
    fp = lo(pairs["fpos"].to_numpy(int))
    share_in = pairs["x_share"].to_numpy(float)
    share_in = np.where(np.isnan(share_in), ft["f_share"][fp] if len(fp) else share_in, share_in)
    occ = pairs["x_occ"].to_numpy(float)
    occ = np.where(np.isnan(occ), ft["f_occ"][fp] if len(fp) else occ, occ)
    bad_share = np.isfinite(share_in) & ((share_in < 0) | (share_in > 1))
    if bad_share.any():
        d = np.flatnonzero(bad_share)
        _add(recs, "BAD_LAND_SHARE", recon.records(
            "firms", "BAD_LAND_SHARE", "用地比例不在 0–1 之间，未使用", "land share outside 0–1; not used",
            "kept", source_row=frow[fp[d]], file_row=file_row[fp[d]], key=key[fp[d]], column="land_share"))
        share_in[d] = np.nan
    # a point checked against the coded parcels (POINT_OUTSIDE_CODED_PARCEL, in firm_totals)
    chk = (pairs["coded"].to_numpy(bool) & (ft["pt_ok"] & had_code & active)[fp]) if len(fp) else np.zeros(0, bool)
    out = pd.DataFrame({"fpos": pairs["fpos"].to_numpy(int), "ppos": pairs["ppos"].to_numpy(int),
                        "method": pairs["method"], "share_in": share_in, "occ": np.where(occ > 0, occ, np.nan),
                        "chk": chk, "px": np.where(chk, ft["px"][fp], np.nan) if len(fp) else np.zeros(0),
                        "py": np.where(chk, ft["py"][fp], np.nan) if len(fp) else np.zeros(0)})
    out["f_park"] = object_series(ft["f_park"][fp], out.index)
    return {"pairs": out, "had_code": had_code, "recs": recs}


# --------------------------------------------------------------------------------------------- 4. shares
def parcel_shares(pt: Block, holder_pos: np.ndarray, pairs: pd.DataFrame) -> dict[str, Any]:
    """Per parcel partition, with every pair of its parcels (``pairs`` sorted by fpos, ppos): the shares.

    share = land_share where given; else occupied_m2 / D_p (D_p = the parcel's floor area when known and
    not below Σ occupied, else Σ occupied on p); shares summing over 1 normalised (SHARES_EXCEED_ONE); the
    rest 1 − Σ split equally among the firms without share information (NO_SHARE_LEFT flagged when nothing
    is left). land_mu = share × A_p. Per parcel: firm_count, unassigned_share, park (own, else the
    largest firm's, else the boundary's). Returns ``{"pairs", "per_parcel", "recs"}``."""
    n, off = len(pt), pt.offset
    recs: Records = {}
    pairs = pairs.reset_index(drop=True)
    fp = pairs["fpos"].to_numpy(int)
    pp = pairs["ppos"].to_numpy(int)
    lp = pp - off
    share_in = pairs["share_in"].to_numpy(float)
    occ = pairs["occ"].to_numpy(float)
    is_holder = (holder_pos[lp] == fp) if len(pp) else np.zeros(0, bool)
    explicit = np.isfinite(share_in)
    by_occ = ~explicit & np.isfinite(occ)
    # D_p: the parcel's floor area when known, else Σ occupied floor on the parcel
    occ_sum = pd.Series(np.where(by_occ, occ, 0.0)).groupby(pp).transform("sum").to_numpy()
    fa = pt["floor"][lp]
    denom = np.where(np.isfinite(fa) & (fa >= occ_sum), fa, occ_sum)
    share = np.where(explicit, share_in, np.where(by_occ, occ / np.where(denom > 0, denom, np.nan), np.nan))
    known = np.isfinite(share)
    s_known = pd.Series(np.where(known, share, 0.0)).groupby(pp).transform("sum").to_numpy()
    over = s_known > 1 + 1e-9
    if over.any():
        share = np.where(known & over, share / np.where(over, s_known, 1.0), share)
        op = np.unique(pp[over]) - off
        first = pd.Series(s_known[over]).groupby(pp[over]).first().to_numpy()
        _add(recs, "SHARES_EXCEED_ONE", recon.records(
            "parcels", "SHARES_EXCEED_ONE",
            [f"该宗地上企业的用地比例合计 {s:.4g} 超过 1，已按比例归一" for s in first],
            [f"the shares of the firms on this parcel sum to {s:.4g} > 1; normalised" for s in first],
            "repaired", source_row=pt["src"][op], key=pd.Series(pt["pid"], dtype=object).fillna("").to_numpy()[op],
            column="land_share"))
        s_known = np.where(over, 1.0, s_known)
    rest = np.clip(1.0 - s_known, 0.0, None)
    n_unknown = pd.Series((~known).astype(int)).groupby(pp).transform("sum").to_numpy()
    share = np.where(known, share, rest / np.where(n_unknown > 0, n_unknown, 1))
    zero_left = (~known) & (rest <= 1e-12)
    land_mu = share * pt["area"][lp] if len(pp) else np.zeros(0)
    assigned = pd.Series(share).groupby(pp).sum()
    unassigned = pd.Series(1.0, index=np.arange(off, off + n))
    unassigned.loc[assigned.index] = np.clip(1.0 - assigned.to_numpy(), 0.0, None)

    # per parcel: firm count; park: its own column, else its largest firm's park column, else the boundary
    firm_count = pd.Series(1, index=pp).groupby(level=0).sum() if len(pp) else pd.Series(dtype=int)
    fc = np.zeros(n, dtype=int)
    fc[firm_count.index.to_numpy(int) - off] = firm_count.to_numpy()
    park_p = pt["park"].copy()
    res = pairs[["fpos", "ppos", "method", "f_park"]].assign(land_mu=land_mu)
    if len(pairs):
        big = res.sort_values(["ppos", "land_mu", "fpos"], ascending=[True, False, True]).drop_duplicates("ppos")
        tmp = np.full(n, None, dtype=object)
        tmp[big["ppos"].to_numpy(int) - off] = big["f_park"].to_numpy()
        park_p = np.where(pd.notna(park_p), park_p, tmp)
    park_p = np.where(pd.notna(park_p), park_p, pt["pb"])

    # the firm's point against its coded parcels
    chk = pairs["chk"].to_numpy(bool)
    inside = np.zeros(len(pairs), dtype=bool)
    if chk.any():
        inside[chk] = shapely.covers(pt["geom"][lp[chk]], shapely.points(pairs["px"].to_numpy()[chk],
                                                                         pairs["py"].to_numpy()[chk]))
    out = pd.DataFrame({"fpos": fp, "ppos": pp, "method": pairs["method"], "share": share, "land_mu": land_mu,
                        "is_holder": is_holder, "zero_left": zero_left, "chk": chk, "inside": inside,
                        "psrc": pt["src"][lp], "cert": pt["cert"][lp]})
    for c, v in (("pid", pt["pid"]), ("hu", pt["holder_uscc"]), ("park_own", pt["park"]), ("pb", pt["pb"]),
                 ("county", pt["county"])):
        out[c] = object_series(v[lp], out.index)
    return {"pairs": out, "recs": recs,
            "per_parcel": {"firm_count": fc, "unassigned_share": unassigned.to_numpy(), "park": park_p}}


# --------------------------------------------------------------------------------------------- 5. firms
def firm_totals(ft: Block, had_code: np.ndarray, pairs: pd.DataFrame) -> dict[str, Any]:
    """Per firm chunk, with every pair of its firms: land_mu = Σ_p land_mu_{f,p}, weights, land source
    (certificate when every parcel is measured on its certificate; reported land for a firm with no pair,
    BAD_REPORTED_LAND / REPORTED_LAND_USED), status, the main parcel (most land, then lowest position),
    tenant, park and county; NO_SHARE_LEFT and POINT_OUTSIDE_CODED_PARCEL records.
    Returns ``{"firm": {column: array}, "pairs": {column: array}, "use_rep", "recs"}``."""
    n, off = len(ft), ft.offset
    recs: Records = {}
    frow, file_row, key, active = ft["frow"], ft["file_row"], ft["key"], ft["active"]
    pairs = pairs.sort_values(["fpos", "ppos"], kind="stable").reset_index(drop=True)
    fp = pairs["fpos"].to_numpy(int) - off
    pp = pairs["ppos"].to_numpy(int)
    lm = pairs["land_mu"].to_numpy(float)

    zero_left = pairs["zero_left"].to_numpy(bool)
    if zero_left.any():
        d = np.flatnonzero(zero_left)
        pid = pairs["pid"].to_numpy(object)
        _add(recs, "NO_SHARE_LEFT", recon.records(
            "firms", "NO_SHARE_LEFT",
            [f"宗地 {q} 已被其他企业的用地比例或租用面积分完，本企业在此宗地上未分得用地；请补充用地比例或租用面积"
             for q in pid[d]],
            [f"parcel {q} is fully taken by the other firms' shares; this firm gets no land there; "
             "give its land share or occupied floor" for q in pid[d]],
            "kept", source_row=frow[fp[d]], file_row=file_row[fp[d]], key=key[fp[d]], column="parcel_ids"))
    chk = pairs["chk"].to_numpy(bool)
    if chk.any():
        any_in = pd.Series(pairs["inside"].to_numpy(bool)[chk]).groupby(fp[chk]).any()
        out_f = any_in.index[~any_in.to_numpy()].to_numpy()
        if len(out_f):
            _add(recs, "POINT_OUTSIDE_CODED_PARCEL", recon.records(
                "firms", "POINT_OUTSIDE_CODED_PARCEL", "企业坐标不在其宗地代码对应的宗地内，请核实",
                "the firm's point lies outside its coded parcels; please check",
                "kept", source_row=frow[out_f], file_row=file_row[out_f], key=key[out_f], column="lon"))

    land = pd.Series(lm).groupby(fp).sum(min_count=1)
    land_mu = np.full(n, np.nan)
    land_mu[land.index.to_numpy(int)] = land.to_numpy()
    weight = np.where(land_mu[fp] > 0, lm / np.where(land_mu[fp] > 0, land_mu[fp], 1), np.nan) if len(fp) \
        else np.zeros(0)
    has_pairs = np.zeros(n, bool)
    has_pairs[fp] = True
    cert_all = pd.Series(pairs["cert"].to_numpy(bool)).groupby(fp).all() if len(pp) else pd.Series(dtype=bool)
    land_source = np.full(n, None, dtype=object)
    land_source[has_pairs] = "polygon"
    land_source[cert_all.index[cert_all.to_numpy()].to_numpy(int)] = "certificate"

    reported = ft["reported"]
    use_rep = active & ~has_pairs & (reported > 0)
    land_mu[use_rep] = reported[use_rep]
    land_source[use_rep] = "reported"
    bad_rep = active & ~has_pairs & np.isfinite(reported) & (reported <= 0)
    if bad_rep.any():
        d = np.flatnonzero(bad_rep)
        _add(recs, "BAD_REPORTED_LAND", recon.records(
            "firms", "BAD_REPORTED_LAND", "自报用地面积不大于 0，未使用", "reported land is not positive; not used",
            "kept", source_row=frow[d], file_row=file_row[d], key=key[d], column="reported_land_mu"))
    rep_not_found = use_rep & had_code
    if rep_not_found.any():
        d = np.flatnonzero(rep_not_found)
        _add(recs, "REPORTED_LAND_USED", recon.records(
            "firms", "REPORTED_LAND_USED", "宗地代码均未找到，按企业自报用地面积评价",
            "none of the parcel codes was found; assessed on the firm's reported land",
            "kept", source_row=frow[d], file_row=file_row[d], key=key[d], column="reported_land_mu"))

    status = np.full(n, "not_graded", dtype=object)
    reason = np.full(n, PENDING, dtype=object)
    has_land = (land_mu > 0) & active
    no_land = active & ~has_land
    nf = no_land & had_code & ~has_pairs
    status[no_land] = "no_land"
    reason[no_land] = "no parcel and no reported land"
    reason[no_land & has_pairs] = "no land share on its linked parcels"
    status[nf] = "parcel_not_found"
    reason[nf] = "parcel code not found"
    status[~active] = "not_graded"
    dup_rows = pd.Series(ft["first_file_row"][~active]).astype(str)
    reason[~active] = ("duplicate of row " + dup_rows).to_numpy()
    land_mu[~active] = np.nan
    land_source[~active] = None

    # tenants, main parcel, park, county
    main_attr = {c: np.full(n, None, dtype=object) for c in ("hu", "pid", "park_own", "pb", "county")}
    has_main = np.zeros(n, dtype=bool)
    if len(pairs):
        # each firm's pair with the most land (then the lowest parcel position); NaN land sorts last
        order = np.lexsort((pp, -lm, fp))
        first = order[np.r_[True, fp[order][1:] != fp[order][:-1]]]
        mf = fp[first]
        has_main[mf] = True
        for c in main_attr:
            main_attr[c][mf] = pairs[c].to_numpy(object)[first]
        linked_ids = join_groups(fp, pairs["pid"].to_numpy(object), n)
        any_holder = pd.Series(pairs["is_holder"].to_numpy(bool)).groupby(fp).any()
    else:
        linked_ids = np.full(n, "", dtype=object)
        any_holder = pd.Series(dtype=bool)
    holds = np.zeros(n, bool)
    holds[any_holder.index.to_numpy(int)] = any_holder.to_numpy()
    main_holder_uscc = main_attr["hu"]
    uscc = ft["uscc"]
    is_tenant = has_pairs & ~holds & pd.notna(main_holder_uscc) & (main_holder_uscc != uscc)
    park_f = main_attr["park_own"]
    park_f = np.where(pd.notna(park_f), park_f, ft["f_park"])
    park_f = np.where(pd.notna(park_f), park_f, main_attr["pb"])
    county_f = main_attr["county"]
    county_f = np.where(pd.notna(county_f), county_f, ft["from_uscc"])
    lm_arr = join_groups(fp, pairs["method"].to_numpy(object), n)

    firm = {"parcel_ids": linked_ids, "land_mu": land_mu, "land_source": land_source, "status": status,
            "status_reason": reason, "is_tenant": is_tenant,
            "landholder_uscc": np.where(is_tenant, main_holder_uscc, None), "main_parcel_id": main_attr["pid"],
            "park": park_f, "county": county_f, "in_park": pd.notna(park_f),
            "link_method": np.where(lm_arr == "", None, lm_arr)}
    out_pairs = {"firm_row": frow[fp] if len(fp) else np.zeros(0, int),
                 "parcel_row": pairs["psrc"].to_numpy() if len(pp) else np.zeros(0, int),
                 "parcel_id": pairs["pid"].to_numpy(object) if len(pp) else np.zeros(0, object),
                 "share": pairs["share"].to_numpy(float), "land_mu": lm, "weight": weight,
                 "method": pairs["method"].to_numpy(object), "is_holder": pairs["is_holder"].to_numpy(bool)}
    return {"firm": firm, "pairs": out_pairs, "use_rep": use_rep, "recs": recs}


# --------------------------------------------------------------------------------------------- assembly
def assemble(plan: LinkPlan, totals: list[dict[str, Any]], per_parcel: list[dict[str, np.ndarray]],
             recs: list[Records], parcel_index: pd.Index, *, source: str = "firms") -> Linked:
    """The stages' results (``totals`` per firm chunk in firm order, ``per_parcel`` per parcel partition
    in parcel order, with the candidates' holder_frow/holder_ok) → :class:`Linked`."""
    cat = lambda parts, k: np.concatenate([p[k] for p in parts]) if parts else np.zeros(0)  # noqa: E731
    out = plan.firms
    out["parcel_ids_input"] = plan.ft["codes"]
    firm = [t["firm"] for t in totals]
    for c in FIRM_COLUMNS[1:-1]:
        out[c] = text_column(cat(firm, c))
    out["link_method"] = text_column(cat(firm, "link_method"))
    out.loc[cat(totals, "use_rep").astype(bool), "link_method"] = "reported"
    hf_ok = cat(per_parcel, "holder_ok").astype(bool)
    per = pd.DataFrame({
        "firm_count": cat(per_parcel, "firm_count").astype(int),
        "holder_firm_row": pd.Series(cat(per_parcel, "holder_frow"), index=parcel_index).astype("Int64").where(hf_ok),
        "unassigned_share": cat(per_parcel, "unassigned_share"),
        "park": cat(per_parcel, "park"),
    }, index=parcel_index)
    pairs = pd.DataFrame({c: text_column(np.asarray(cat([t["pairs"] for t in totals], c))) for c in PAIR_COLUMNS})
    rec = merge_records([plan.recs, *recs])
    if source != "firms":
        rec.loc[rec["source"] == "firms", "source"] = source
    return Linked(firms=out, pairs=pairs, parcels=per, recon=rec)
