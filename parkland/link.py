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
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import recon
from .frames import join_groups
from .geo.crs import bd09_to_wgs84, gcj02_to_wgs84

PENDING = "pending"


@dataclass
class Linked:
    """Result of :func:`link_firms`."""

    firms: pd.DataFrame  # the input firms + link columns (same row order, same length)
    pairs: pd.DataFrame  # firm_row, parcel_row, parcel_id, share, land_mu, weight, method, is_holder
    parcels: pd.DataFrame  # per parcel (index = parcels' index): firm_count, holder_firm_row, unassigned_share, park
    recon: pd.DataFrame


def _text(s: pd.Series) -> pd.Series:
    """Stripped object strings, None for missing/empty (vectorised through the string dtype)."""
    t = s.astype("string").str.strip()
    t = t.mask(t == "")
    return t.astype(object).where(t.notna(), None)


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
    firms = firms.reset_index(drop=True).copy()
    parcels = parcels.reset_index(drop=True)
    if area_column not in parcels.columns:
        area_column = "area_mu"
    recs: list[pd.DataFrame] = []
    n_f = len(firms)
    frow = firms["source_row"].to_numpy()
    uscc = _text(firms["uscc"]) if "uscc" in firms else pd.Series([None] * n_f, dtype=object)
    fname = _text(firms["name"]) if "name" in firms else pd.Series([None] * n_f, dtype=object)
    key = firms.get("uscc_raw", uscc)
    key = _text(key).fillna(fname.fillna(""))

    # -- duplicates: rows repeating a credit code -------------------------------------------------
    has_uscc = uscc.notna()
    dup = has_uscc & uscc.duplicated(keep="first")
    first_pos = pd.Series(np.arange(n_f)).groupby(uscc.where(has_uscc, None).fillna("\0"), sort=False).transform("first")
    file_row = firms["file_row"] if "file_row" in firms else firms["source_row"]
    first_file_row = file_row.to_numpy()[first_pos.to_numpy()]
    active = ~dup.to_numpy()
    if dup.any():
        d = np.flatnonzero(dup.to_numpy())
        recs.append(recon.records(
            "firms", "DUPLICATE_USCC",
            "信用代码与第 " + pd.Series(first_file_row[d]).astype(str) + " 行重复：仅使用第一行，本行不参评、不计用地",
            "credit code repeats row " + pd.Series(first_file_row[d]).astype(str)
            + ": the first row is used; this row is not graded and takes no land",
            "kept", source_row=frow[d], file_row=file_row.to_numpy()[d], key=key.to_numpy()[d],
            column="uscc"))

    # -- parcel lookups ----------------------------------------------------------------------------
    p_id = _text(parcels["parcel_id"]) if "parcel_id" in parcels else pd.Series([None] * len(parcels), dtype=object)
    p_area = pd.to_numeric(parcels[area_column], errors="coerce").to_numpy(dtype=float)
    code_to_pos = pd.DataFrame({"code": p_id, "ppos": np.arange(len(parcels))}).dropna(subset=["code"])

    pair_frames: list[pd.DataFrame] = []

    # 1. codes in the firm's own cell
    codes = firms["parcel_ids"] if "parcel_ids" in firms else pd.Series([""] * n_f)
    codes = codes.astype("object").where(codes.notna(), "").map(str)
    ex = pd.DataFrame({"fpos": np.arange(n_f), "code": codes.str.split(";")}).explode("code")
    ex["code"] = ex["code"].str.strip()
    ex = ex[(ex["code"] != "") & ex["code"].notna() & active[ex["fpos"].to_numpy()]]
    had_code = np.zeros(n_f, dtype=bool)
    had_code[ex["fpos"].unique()] = True
    m = ex.merge(code_to_pos, on="code", how="left")
    missing = m[m["ppos"].isna()]
    if len(missing):
        fp = missing["fpos"].to_numpy()
        recs.append(recon.records(
            "firms", "PARCEL_NOT_FOUND",
            "宗地代码 " + missing["code"].astype(str) + " 在宗地图层中不存在",
            "parcel code " + missing["code"].astype(str) + " is not in the parcel layer",
            "kept", source_row=frow[fp], file_row=file_row.to_numpy()[fp], key=key.to_numpy()[fp],
            column="parcel_ids"))
    m = m.dropna(subset=["ppos"])
    multi = code_to_pos["code"].value_counts()
    multi = multi[multi > 1]
    hit_multi = m[m["code"].isin(multi.index)].drop_duplicates(["fpos", "code"])
    if len(hit_multi):
        fp = hit_multi["fpos"].to_numpy()
        recs.append(recon.records(
            "firms", "CODE_MATCHES_SEVERAL_PARCELS",
            [f"宗地代码 {c} 对应 {multi[c]} 个图斑，已全部计入" for c in hit_multi["code"]],
            [f"parcel code {c} matches {multi[c]} features; all are linked" for c in hit_multi["code"]],
            "kept", source_row=frow[fp], file_row=file_row.to_numpy()[fp], key=key.to_numpy()[fp],
            column="parcel_ids"))
    pair_frames.append(pd.DataFrame({"fpos": m["fpos"].to_numpy(int), "ppos": m["ppos"].to_numpy(int),
                                     "method": "code", "x_share": np.nan, "x_occ": np.nan}))

    # 2. the link table
    had_link = np.zeros(n_f, dtype=bool)
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
            recs.append(recon.records(
                "links", "LINK_FIRM_NOT_FOUND", "对应表中的信用代码不在企业表中，本行未使用",
                "the credit code of this link row is not in the firm table; row not used",
                "dropped", source_row=l_src[r], file_row=l_file[r], key=l_key[r], column="uscc"))
        bad_p = lm["ppos"].isna().to_numpy() & ~bad_f
        if bad_p.any():
            r = lm.loc[bad_p, "lrow"].to_numpy()
            recs.append(recon.records(
                "links", "PARCEL_NOT_FOUND",
                [f"宗地代码 {c} 在宗地图层中不存在，本行未使用" for c in lm.loc[bad_p, "code"]],
                [f"parcel code {c} is not in the parcel layer; row not used" for c in lm.loc[bad_p, "code"]],
                "dropped", source_row=l_src[r], file_row=l_file[r], key=l_key[r], column="parcel_id"))
        lm = lm[~(bad_f | lm["ppos"].isna().to_numpy())]
        had_link[lm["fpos"].astype(int).unique()] = True
        pair_frames.append(pd.DataFrame({"fpos": lm["fpos"].to_numpy(int), "ppos": lm["ppos"].to_numpy(int),
                                         "method": "link", "x_share": lm["x_share"].to_numpy(float),
                                         "x_occ": lm["x_occ"].to_numpy(float)}))

    # 3. landholders
    h_uscc = _text(parcels["holder_uscc"]) if "holder_uscc" in parcels else pd.Series([None] * len(parcels), dtype=object)
    h_name = _text(parcels["holder_name"]) if "holder_name" in parcels else pd.Series([None] * len(parcels), dtype=object)
    by_uscc = pd.Series(np.flatnonzero(active), index=uscc[active].to_numpy())
    by_uscc = by_uscc[by_uscc.index.notna()]
    by_uscc = by_uscc[~by_uscc.index.duplicated()]
    names_active = fname[active]
    by_name = pd.Series(np.flatnonzero(active), index=names_active.to_numpy())
    by_name = by_name[by_name.index.notna()]
    by_name = by_name[~by_name.index.duplicated(keep=False)]  # ambiguous names never match
    holder_pos = h_uscc.map(by_uscc)
    name_match = h_name.map(by_name)
    holder_pos = holder_pos.where(holder_pos.notna(), name_match.where(h_uscc.isna() | holder_pos.isna()))
    hp = holder_pos.dropna()
    pair_frames.append(pd.DataFrame({"fpos": hp.to_numpy(int), "ppos": hp.index.to_numpy(int),
                                     "method": "holder", "x_share": np.nan, "x_occ": np.nan}))

    # 4. points for firms with no code and no link row
    lon = pd.to_numeric(firms["lon"], errors="coerce").to_numpy(float) if "lon" in firms else np.full(n_f, np.nan)
    lat = pd.to_numeric(firms["lat"], errors="coerce").to_numpy(float) if "lat" in firms else np.full(n_f, np.nan)
    has_pt = np.isfinite(lon) & np.isfinite(lat)
    bad_pt = has_pt & ((np.abs(lon) > 180) | (np.abs(lat) > 90))
    if bad_pt.any():
        d = np.flatnonzero(bad_pt)
        recs.append(recon.records(
            "firms", "BAD_COORDINATES", "经纬度超出范围，未使用", "coordinates out of range; not used",
            "kept", source_row=frow[d], file_row=file_row.to_numpy()[d], key=key.to_numpy()[d], column="lon"))
    has_pt &= ~bad_pt
    pts = None
    if has_pt.any() and parcels.crs is not None and len(parcels):
        wl, wt = _coords_to_wgs84(lon[has_pt], lat[has_pt], firm_coords)
        pts = gpd.GeoSeries(shapely.points(wl, wt), crs="EPSG:4326").to_crs(parcels.crs)
        pt_pos = np.flatnonzero(has_pt)
        pgeom = parcels.geometry.to_numpy()
        want = active[pt_pos] & ~had_code[pt_pos] & ~had_link[pt_pos]
        if want.any():
            q_idx = np.flatnonzero(want)
            tree = shapely.STRtree(pgeom)
            qi, pi = tree.query(pts.to_numpy()[q_idx], predicate="within")
            hits = pd.DataFrame({"fpos": pt_pos[q_idx[qi]], "ppos": pi})
            # a point on several overlapping parcels: the smallest one
            hits["a"] = p_area[hits["ppos"].to_numpy()]
            hits = hits.sort_values(["fpos", "a", "ppos"]).drop_duplicates("fpos")
            pair_frames.append(pd.DataFrame({"fpos": hits["fpos"].to_numpy(int), "ppos": hits["ppos"].to_numpy(int),
                                             "method": "point", "x_share": np.nan, "x_occ": np.nan}))
            miss = np.setdiff1d(pt_pos[q_idx], hits["fpos"].to_numpy())
            if len(miss):
                recs.append(recon.records(
                    "firms", "POINT_OUTSIDE_PARCELS", "企业坐标不在任何宗地内，未能按坐标关联",
                    "the firm's point lies in no parcel; not linked by point",
                    "kept", source_row=frow[miss], file_row=file_row.to_numpy()[miss], key=key.to_numpy()[miss],
                    column="lon"))
        # a point outside its coded parcels
        chk = pd.DataFrame({"fpos": pt_pos, "g": np.arange(len(pt_pos))})
        chk = chk[had_code[pt_pos] & active[pt_pos]]
        if len(chk) and len(pair_frames[0]):
            cp = pair_frames[0].merge(chk, on="fpos")
            inside = shapely.covers(pgeom[cp["ppos"].to_numpy()], pts.to_numpy()[cp["g"].to_numpy()])
            any_in = pd.Series(inside).groupby(cp["fpos"].to_numpy()).any()
            out = any_in.index[~any_in.to_numpy()].to_numpy()
            if len(out):
                recs.append(recon.records(
                    "firms", "POINT_OUTSIDE_CODED_PARCEL", "企业坐标不在其宗地代码对应的宗地内，请核实",
                    "the firm's point lies outside its coded parcels; please check",
                    "kept", source_row=frow[out], file_row=file_row.to_numpy()[out], key=key.to_numpy()[out],
                    column="lon"))

    # -- assemble pairs: one per (firm, parcel), link-table information first ----------------------
    pairs = pd.concat([f for f in pair_frames if len(f)], ignore_index=True) if any(len(f) for f in pair_frames) \
        else pd.DataFrame({"fpos": pd.Series([], dtype=int), "ppos": pd.Series([], dtype=int),
                           "method": pd.Series([], dtype=object), "x_share": pd.Series([], dtype=float),
                           "x_occ": pd.Series([], dtype=float)})
    order = {"link": 0, "code": 1, "point": 2, "holder": 3}
    pairs["o"] = pairs["method"].map(order)
    pairs = pairs.sort_values(["fpos", "ppos", "o"], kind="stable")
    # share information may sit on the link row while the code came from the cell: keep the first
    # non-missing of each field within the group
    agg = pairs.groupby(["fpos", "ppos"], sort=False).agg(
        method=("method", "first"), x_share=("x_share", "first"), x_occ=("x_occ", "first"))
    pairs = agg.reset_index()
    f_share = pd.to_numeric(firms["land_share"], errors="coerce").to_numpy(float) if "land_share" in firms else np.full(n_f, np.nan)
    f_occ = pd.to_numeric(firms["occupied_m2"], errors="coerce").to_numpy(float) if "occupied_m2" in firms else np.full(n_f, np.nan)
    fp = pairs["fpos"].to_numpy(int)
    pp = pairs["ppos"].to_numpy(int)
    share_in = pairs["x_share"].to_numpy(float)
    share_in = np.where(np.isnan(share_in), f_share[fp] if len(fp) else share_in, share_in)
    occ = pairs["x_occ"].to_numpy(float)
    occ = np.where(np.isnan(occ), f_occ[fp] if len(fp) else occ, occ)
    bad_share = np.isfinite(share_in) & ((share_in < 0) | (share_in > 1))
    if bad_share.any():
        d = np.flatnonzero(bad_share)
        recs.append(recon.records(
            "firms", "BAD_LAND_SHARE", "用地比例不在 0–1 之间，未使用", "land share outside 0–1; not used",
            "kept", source_row=frow[fp[d]], file_row=file_row.to_numpy()[fp[d]], key=key.to_numpy()[fp[d]],
            column="land_share"))
        share_in[d] = np.nan
    occ = np.where(occ > 0, occ, np.nan)
    is_holder = (holder_pos.to_numpy()[pp] == fp) if len(pp) else np.zeros(0, bool)
    explicit = np.isfinite(share_in)
    by_occ = ~explicit & np.isfinite(occ)
    # D_p: the parcel's floor area when known, else Σ occupied floor on the parcel
    occ_sum = pd.Series(np.where(by_occ, occ, 0.0)).groupby(pp).transform("sum").to_numpy()
    if floor_area_m2 is not None:
        fa = pd.to_numeric(pd.Series(floor_area_m2).reset_index(drop=True), errors="coerce").to_numpy(float)[pp]
        denom = np.where(np.isfinite(fa) & (fa >= occ_sum), fa, occ_sum)
    else:
        denom = occ_sum
    share = np.where(explicit, share_in, np.where(by_occ, occ / np.where(denom > 0, denom, np.nan), np.nan))
    known = np.isfinite(share)
    s_known = pd.Series(np.where(known, share, 0.0)).groupby(pp).transform("sum").to_numpy()
    over = s_known > 1 + 1e-9
    if over.any():
        share = np.where(known & over, share / np.where(over, s_known, 1.0), share)
        op = np.unique(pp[over])
        recs.append(recon.records(
            "parcels", "SHARES_EXCEED_ONE",
            [f"该宗地上企业的用地比例合计 {s:.4g} 超过 1，已按比例归一" for s in
             pd.Series(s_known[over]).groupby(pp[over]).first().to_numpy()],
            [f"the shares of the firms on this parcel sum to {s:.4g} > 1; normalised" for s in
             pd.Series(s_known[over]).groupby(pp[over]).first().to_numpy()],
            "repaired", source_row=parcels["source_row"].to_numpy()[op], key=p_id.fillna("").to_numpy()[op],
            column="land_share"))
        s_known = np.where(over, 1.0, s_known)
    rest = np.clip(1.0 - s_known, 0.0, None)
    n_unknown = pd.Series((~known).astype(int)).groupby(pp).transform("sum").to_numpy()
    share = np.where(known, share, rest / np.where(n_unknown > 0, n_unknown, 1))
    zero_left = (~known) & (rest <= 1e-12)
    if zero_left.any():
        d = np.flatnonzero(zero_left)
        recs.append(recon.records(
            "firms", "NO_SHARE_LEFT",
            [f"宗地 {p_id.iloc[q]} 已被其他企业的用地比例或租用面积分完，本企业在此宗地上未分得用地；请补充用地比例或租用面积"
             for q in pp[d]],
            [f"parcel {p_id.iloc[q]} is fully taken by the other firms' shares; this firm gets no land there; "
             "give its land share or occupied floor" for q in pp[d]],
            "kept", source_row=frow[fp[d]], file_row=file_row.to_numpy()[fp[d]], key=key.to_numpy()[fp[d]],
            column="parcel_ids"))
    pairs["share"] = share
    pairs["is_holder"] = is_holder
    pairs["land_mu"] = share * p_area[pp] if len(pp) else np.zeros(0)
    assigned = pd.Series(share).groupby(pp).sum()
    unassigned = pd.Series(1.0, index=np.arange(len(parcels)))
    unassigned.loc[assigned.index] = np.clip(1.0 - assigned.to_numpy(), 0.0, None)

    # -- per firm ----------------------------------------------------------------------------------
    land = pd.Series(pairs["land_mu"].to_numpy()).groupby(fp).sum(min_count=1)
    land_mu = np.full(n_f, np.nan)
    land_mu[land.index.to_numpy(int)] = land.to_numpy()
    pairs["weight"] = np.where(land_mu[fp] > 0, pairs["land_mu"].to_numpy() / np.where(land_mu[fp] > 0, land_mu[fp], 1),
                               np.nan) if len(fp) else np.zeros(0)
    has_pairs = np.zeros(n_f, bool)
    has_pairs[np.unique(fp)] = True

    basis = parcels["area_basis_used"].to_numpy() if "area_basis_used" in parcels else np.full(len(parcels), "polygon")
    cert_all = pd.Series(basis[pp] == "certificate").groupby(fp).all() if len(pp) else pd.Series(dtype=bool)
    land_source = np.full(n_f, None, dtype=object)
    land_source[has_pairs] = "polygon"
    land_source[cert_all.index[cert_all.to_numpy()].to_numpy(int)] = "certificate"

    reported = pd.to_numeric(firms["reported_land_mu"], errors="coerce").to_numpy(float) \
        if "reported_land_mu" in firms else np.full(n_f, np.nan)
    use_rep = active & ~has_pairs & (reported > 0)
    land_mu[use_rep] = reported[use_rep]
    land_source[use_rep] = "reported"
    bad_rep = active & ~has_pairs & np.isfinite(reported) & (reported <= 0)
    if bad_rep.any():
        d = np.flatnonzero(bad_rep)
        recs.append(recon.records(
            "firms", "BAD_REPORTED_LAND", "自报用地面积不大于 0，未使用", "reported land is not positive; not used",
            "kept", source_row=frow[d], file_row=file_row.to_numpy()[d], key=key.to_numpy()[d],
            column="reported_land_mu"))
    rep_not_found = use_rep & had_code
    if rep_not_found.any():
        d = np.flatnonzero(rep_not_found)
        recs.append(recon.records(
            "firms", "REPORTED_LAND_USED", "宗地代码均未找到，按企业自报用地面积评价",
            "none of the parcel codes was found; assessed on the firm's reported land",
            "kept", source_row=frow[d], file_row=file_row.to_numpy()[d], key=key.to_numpy()[d],
            column="reported_land_mu"))

    status = np.full(n_f, "not_graded", dtype=object)
    reason = np.full(n_f, PENDING, dtype=object)
    has_land = (land_mu > 0) & active
    no_land = active & ~has_land
    nf = no_land & had_code & ~has_pairs
    status[no_land] = "no_land"
    reason[no_land] = "no parcel and no reported land"
    reason[no_land & has_pairs] = "no land share on its linked parcels"
    status[nf] = "parcel_not_found"
    reason[nf] = "parcel code not found"
    status[~active] = "not_graded"
    dup_rows = pd.Series(first_file_row[~active]).astype(str)
    reason[~active] = ("duplicate of row " + dup_rows).to_numpy()
    land_mu[~active] = np.nan
    land_source[~active] = None

    # tenants, main parcel, park, county
    p_src = parcels["source_row"].to_numpy()
    if len(pairs):
        main = pairs.sort_values(["fpos", "land_mu", "ppos"], ascending=[True, False, True]).drop_duplicates("fpos")
        main_ppos = np.full(n_f, -1)
        main_ppos[main["fpos"].to_numpy(int)] = main["ppos"].to_numpy(int)
        linked_ids = join_groups(fp, p_id.to_numpy()[pp], n_f)
        any_holder = pd.Series(is_holder).groupby(fp).any()
    else:
        main_ppos = np.full(n_f, -1)
        linked_ids = np.full(n_f, "", dtype=object)
        any_holder = pd.Series(dtype=bool)
    parcel_ids_out = linked_ids
    holds = np.zeros(n_f, bool)
    holds[any_holder.index.to_numpy(int)] = any_holder.to_numpy()
    hu = h_uscc.to_numpy()
    has_main = main_ppos >= 0
    main_holder_uscc = np.where(has_main, hu[np.where(has_main, main_ppos, 0)] if len(parcels) else None, None)
    is_tenant = has_pairs & ~holds & pd.notna(main_holder_uscc) & (main_holder_uscc != uscc.to_numpy())
    main_pid = np.where(has_main, p_id.to_numpy()[np.where(has_main, main_ppos, 0)] if len(parcels) else None, None)

    p_park_own = _text(parcels["park"]) if "park" in parcels else pd.Series([None] * len(parcels), dtype=object)
    f_park = _text(firms["park"]) if "park" in firms else pd.Series([None] * n_f, dtype=object)
    pb = _text(park_boundary.reset_index(drop=True)) if park_boundary is not None \
        else pd.Series([None] * len(parcels), dtype=object)
    park_f = np.where(has_main, p_park_own.to_numpy()[np.where(has_main, main_ppos, 0)] if len(parcels) else None, None)
    park_f = np.where(pd.notna(park_f), park_f, f_park.to_numpy())
    park_f = np.where(pd.notna(park_f), park_f,
                      np.where(has_main, pb.to_numpy()[np.where(has_main, main_ppos, 0)] if len(parcels) else None, None))
    county_p = _text(parcels["county"]).to_numpy() if "county" in parcels else np.full(len(parcels), None, object)
    county_f = np.where(has_main, county_p[np.where(has_main, main_ppos, 0)] if len(parcels) else None, None)
    valid = firms["uscc_valid"].to_numpy(bool) if "uscc_valid" in firms else np.zeros(n_f, bool)
    from_uscc = uscc.str.slice(2, 8).where(valid, None).to_numpy()
    county_f = np.where(pd.notna(county_f), county_f, from_uscc)

    out = firms
    out["parcel_ids_input"] = codes
    out["parcel_ids"] = parcel_ids_out
    out["land_mu"] = land_mu
    out["land_source"] = land_source
    out["status"] = status
    out["status_reason"] = reason
    out["is_tenant"] = is_tenant
    out["landholder_uscc"] = np.where(is_tenant, main_holder_uscc, None)
    out["main_parcel_id"] = main_pid
    out["park"] = park_f
    out["county"] = county_f
    out["in_park"] = pd.notna(park_f)
    srt = pairs.sort_values(["fpos", "ppos"])
    lm_arr = join_groups(srt["fpos"].to_numpy(int), srt["method"].to_numpy(object), n_f)
    out["link_method"] = np.where(lm_arr == "", None, lm_arr)
    out.loc[use_rep, "link_method"] = "reported"

    # -- per parcel --------------------------------------------------------------------------------
    firm_count = pd.Series(1, index=pp).groupby(level=0).sum() if len(pp) else pd.Series(dtype=int)
    fc = np.zeros(len(parcels), dtype=int)
    fc[firm_count.index.to_numpy(int)] = firm_count.to_numpy()
    # a parcel's park: its own column, else its largest firm's park column, else the boundary
    park_p = p_park_own.to_numpy().copy()
    if len(pairs):
        big = pairs.sort_values(["ppos", "land_mu", "fpos"], ascending=[True, False, True]).drop_duplicates("ppos")
        fpk = f_park.to_numpy()[big["fpos"].to_numpy(int)]
        tmp = np.full(len(parcels), None, dtype=object)
        tmp[big["ppos"].to_numpy(int)] = fpk
        park_p = np.where(pd.notna(park_p), park_p, tmp)
    park_p = np.where(pd.notna(park_p), park_p, pb.to_numpy())
    hf = holder_pos.to_numpy(dtype=float)
    hf_ok = np.isfinite(hf)
    per_parcel = pd.DataFrame({
        "firm_count": fc,
        "holder_firm_row": pd.Series(np.where(hf_ok, frow[np.where(hf_ok, hf, 0).astype(int)] if n_f else 0, 0),
                                     index=parcels.index).astype("Int64").where(hf_ok),
        "unassigned_share": unassigned.to_numpy(),
        "park": park_p,
    }, index=parcels.index)

    pairs_out = pd.DataFrame({
        "firm_row": frow[fp] if len(fp) else np.zeros(0, int),
        "parcel_row": p_src[pp] if len(pp) else np.zeros(0, int),
        "parcel_id": p_id.to_numpy()[pp] if len(pp) else np.zeros(0, object),
        "share": pairs["share"].to_numpy(float),
        "land_mu": pairs["land_mu"].to_numpy(float),
        "weight": pairs["weight"].to_numpy(float),
        "method": pairs["method"].to_numpy(object),
        "is_holder": pairs["is_holder"].to_numpy(bool),
    })
    rec = recon.concat(recs)
    if source != "firms":
        rec.loc[rec["source"] == "firms", "source"] = source
    return Linked(firms=out, pairs=pairs_out, parcels=per_parcel, recon=rec)
