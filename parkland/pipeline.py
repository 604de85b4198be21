"""``assess()``: the one-way flow io → geo → link → indicators → scoring → land → plan → report.

Every stage is a pure function on frames (see the modules); this module only composes them, keeps the
reconciliation records together and returns an :class:`Assessment` that can write the output folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from . import __version__, recon
from .errors import InputError
from .frames import arrow_text
from .geo.buildings import building_metrics, idle_floor
from .geo.parcels import prepare_parcels
from .geo.parks import assign_parks, detect_park_name_column
from .geo.zonal import zonal_stats
from .indicators import firm_indicators, parcel_figures
from .io.firms import read_firms
from .io.layers import read_layer
from .io.links import read_links
from .io.parcels import read_parcels
from .land import diagnose
from .link import link_firms
from .plan import candidates, scenario, select, select_floor, summary_block, targets
from .schema import INDICATORS, SUMMABLE
from .scoring import (
    apply_overrides_after,
    apply_overrides_before,
    county_table,
    grade_firms,
    load_policy,
    parcel_grades,
    park_table,
    year_on_year,
)
from .scoring.policy import Policy

Progress = Callable[[str], None]

#: stage names shown by the progress bar (Chinese, English)
STAGES = {
    "read": ("读取输入", "reading inputs"),
    "geo": ("计算宗地面积与建筑", "measuring parcels and buildings"),
    "link": ("关联企业与宗地", "linking firms to parcels"),
    "indicators": ("计算亩均指标", "computing indicators"),
    "scoring": ("综合评价分类", "grading firms"),
    "land": ("认定闲置低效用地", "diagnosing land"),
    "plan": ("编制清理计划", "planning the cleanup"),
    "write": ("写出结果", "writing outputs"),
}


@dataclass
class Assessment:
    """Everything one run produced. ``write(out_dir)`` writes the output folder of DESIGN.md."""

    parcels: gpd.GeoDataFrame
    firms: pd.DataFrame
    pairs: pd.DataFrame
    recon: pd.DataFrame
    parks: pd.DataFrame
    counties: pd.DataFrame
    park_boundaries: gpd.GeoDataFrame | None
    policy: Policy | None = None
    previous: pd.DataFrame | None = None  # last year's firms, linked on this year's parcels, graded
    audit: pd.DataFrame | None = None  # 异议复核: every override applied
    cleanup: gpd.GeoDataFrame | None = None  # candidates with rank, selected, cumulative_mu
    idle_floor: pd.DataFrame | None = None  # idle factory floor, ranked, with selected
    plan: dict[str, Any] = field(default_factory=dict)  # summary_block: cleanup, idle_floor, targets, scenario
    meta: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The content of summary.json (see ``report.summary``)."""
        from .report.summary import value_counts

        p, f, r = self.parcels, self.firms, self.recon
        land = pd.to_numeric(f["land_mu"], errors="coerce")
        # the firms with land, only the columns the sums need (not every column of the firm frame)
        with_land = f.loc[land > 0, [c for c in dict.fromkeys(
            ["land_mu", *SUMMABLE, *(num for num, den in INDICATORS.values() if den == "land_mu")]) if c in f]]
        out: dict[str, Any] = {
            "version": __version__,
            "run": {k: self.meta.get(k) for k in ("year", "as_of", "area_basis", "firm_coords", "io_engine",
                                                   "engine", "lang")},
            "inputs": self.meta.get("inputs", {}),
            "counts": {
                "parcels_in": int(self.meta.get("parcels_in", len(p))),
                "parcels": len(p),
                "parcels_dropped": int(((r["source"] == "parcels") & (r["action"] == "dropped")).sum()),
                "parcels_repaired": int(((r["source"] == "parcels") & (r["action"] == "repaired")).sum()),
                "parcels_with_firms": int((p["firm_count"] > 0).sum()),
                "firms_in": len(f),
                "firms_by_status": value_counts(f["status"]),
                "firms_by_land_source": value_counts(f["land_source"]),
                "firms_tenants": int(f["is_tenant"].sum()),
                "links_in": int(self.meta.get("links_in", 0)),
                "reconciliation_rows": len(r),
                "reconciliation_by_action": value_counts(r["action"]),
                "reconciliation_by_problem": value_counts(r["problem_code"]),
            },
            "areas": {
                "parcels_mu": float(p["area_mu"].sum()),
                "parcels_m2": float(p["area_m2"].sum()),
                "parcels_with_firms_mu": float(p.loc[p["firm_count"] > 0, "area_mu"].sum()),
                "firms_land_mu": float(land[land > 0].sum()),
                "firms_land_by_source_mu": {k: float(land[(f["land_source"] == k) & (land > 0)].sum())
                                            for k in ("polygon", "certificate", "reported")},
                "unassigned_mu": float((p["unassigned_share"] * p["land_area_mu"]).sum()),
            },
            "totals": {c: _sum(with_land[c]) for c in SUMMABLE if c in f},
            "per_mu": {k: _ratio(with_land, num) for k, (num, den) in INDICATORS.items()
                       if den == "land_mu"},
            "parks": self.parks.to_dict(orient="records"),
            "counties": self.counties.to_dict(orient="records"),
        }
        if self.policy is not None:
            graded = f["status"].isin(["graded", "exempt"])
            out["policy"] = {"name": self.policy.name, "sha256": self.policy.sha256}
            out["grades"] = value_counts(f.loc[graded, "grade"])
            out["grades_by_track"] = {t: value_counts(g["grade"]) for t, g in
                                      f.loc[graded, ["track", "grade"]].groupby("track")}
            out["benchmarks"] = self.meta.get("benchmarks")
        if self.previous is not None and "grade_direction" in f:
            out["year_on_year"] = {"previous_firms": len(self.previous),
                                   "grade_direction": value_counts(f["grade_direction"])}
        out.update(self.plan)
        if "idle" in p:
            out["land"] = {k: {"parcels": int(p[k].fillna(False).astype(bool).sum()),
                               "mu": float(p.loc[p[k].fillna(False).astype(bool), "area_mu"].sum())}
                           for k in ("idle", "vacant", "stopped", "low_efficiency")}
            out["land"]["flag_reasons"] = _code_counts(p["flag_reasons"])
        if self.audit is not None:
            out["overrides"] = {"applied": len(self.audit),
                                "audit": self.audit.to_dict(orient="records")}
        return out

    def summary_version(self) -> str:
        return __version__

    def write(self, out_dir: str | os.PathLike, *, lang: str | None = None, lists: str = "default",
              basemap: str = "none", public: bool = False, map_html: bool = True, early: Any = None) -> Path:
        """Write the output folder of DESIGN.md into ``out_dir``: parcels.gpkg, firms.csv,
        reconciliation.csv, summary.json, cleanup.gpkg/.xlsx, idle_floor.xlsx, grades.xlsx, notice.xlsx and
        map.html (``map_html=False`` skips the map). ``early``: the ``report.output.EarlyFiles`` given
        to ``assess`` as ``ready``, whose files are taken when they fit."""
        from .report.output import write_outputs

        return write_outputs(self, Path(out_dir), lang=lang or self.meta.get("lang", "zh"), lists=lists,
                             basemap=basemap, public=public, map_html=map_html, early=early)


def _sum(s: pd.Series) -> float | None:
    v = pd.to_numeric(s, errors="coerce")
    return float(v.sum()) if v.notna().any() else None


def _code_counts(s: pd.Series) -> dict[str, int]:
    """Counts of the codes in ";"-joined code cells (empty codes and missing cells left out), sorted by
    code; split in Arrow, not one Python call per cell."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from .report.summary import value_counts

    arr = arrow_text(s)
    if arr is None:
        arr = pa.array(s.astype(object).where(s.notna(), None).to_numpy(), type=pa.string(), from_pandas=True)
    codes = pc.list_flatten(pc.split_pattern(arr, pattern=";"))
    codes = codes.filter(pc.not_equal(codes, ""))
    return value_counts(pd.Series(pd.array(codes, dtype=pd.StringDtype("pyarrow", na_value=np.nan))))


def _ratio(f: pd.DataFrame, num: str) -> float | None:
    if num not in f:
        return None
    ok = f[num].notna()
    d = f.loc[ok, "land_mu"].sum()
    return float(f.loc[ok, num].sum() / d) if d > 0 else None


def _year_of(firms: pd.DataFrame, year: int | None) -> int:
    """--year, else the table's most common 年份, else last calendar year."""
    if year:
        return int(year)
    if "year" in firms and firms["year"].notna().any():
        return int(pd.to_numeric(firms["year"], errors="coerce").dropna().mode().iloc[0])
    return dt.date.today().year - 1


def _as_of(year: int, as_of: str | dt.date | None) -> pd.Timestamp:
    if as_of is None:
        return pd.Timestamp(year=year, month=12, day=31)
    try:
        return pd.Timestamp(as_of)
    except (ValueError, TypeError) as e:
        raise InputError(f"评价日期 {as_of!r} 无法识别，请写成 2025-12-31",
                         f"evaluation date {as_of!r} not understood; write it as 2025-12-31") from e


def _noop(_: str) -> None:
    return None


@dataclass
class Stages:
    """The stage functions :func:`assess` composes where the work grows with the data; a scale-out engine
    passes its distributed versions (``parkland.engine.dask``), each with the same signature and result
    as the single-machine function it replaces."""

    read_parcels: Callable[..., recon.Loaded] = read_parcels
    prepare_parcels: Callable[..., recon.Loaded] = prepare_parcels
    zonal_stats: Callable[..., pd.DataFrame] = zonal_stats
    link_firms: Callable[..., Any] = link_firms
    firm_indicators: Callable[[pd.DataFrame], pd.DataFrame] = firm_indicators
    diagnose: Callable[..., recon.Loaded] = diagnose


def assess(
    parcels: str | os.PathLike | gpd.GeoDataFrame,
    firms: str | os.PathLike | pd.DataFrame,
    *,
    parcels_layer: str | None = None,
    parcel_id: str | None = None,
    firms_sheet: str | None = None,
    links: str | os.PathLike | pd.DataFrame | None = None,
    parks: str | os.PathLike | gpd.GeoDataFrame | None = None,
    parks_layer: str | None = None,
    buildings: str | os.PathLike | gpd.GeoDataFrame | None = None,
    buildings_layer: str | None = None,
    rasters: dict[str, str | os.PathLike] | None = None,
    previous_firms: str | os.PathLike | pd.DataFrame | None = None,
    overrides: str | os.PathLike | pd.DataFrame | None = None,
    policy: str | os.PathLike | Policy = "sichuan-2022",
    year: int | None = None,
    as_of: str | dt.date | None = None,
    area_basis: str = "polygon",
    firm_coords: str = "wgs84",
    crs: str | int | None = None,
    io_engine: str = "pyogrio",
    target_mu: float | None = None,
    target_floor_m2: float | None = None,
    strategy: str | None = None,
    lang: str = "zh",
    progress: Progress | None = None,
    stages: Stages | None = None,
    ready: Callable[[str, Assessment], object] | None = None,
) -> Assessment:
    """Assess parcels and firms: read, measure, link, compute indicators.

    ``parcels``/``firms``/``links``/``parks`` are paths (read by ``parkland.io``) or frames already in
    the canonical form of the io readers. ``stages``: the functions of the growing stages (default: the
    single-machine ones, see :class:`Stages`). ``ready(what, partial)`` is called when a part of the
    result is final: ``"firms"`` after grading (``partial`` holds the firm table, the policy, the
    overrides audit and the year), ``"parcels"`` after the land diagnosis (also the parcels and the park
    boundaries); ``report.output.EarlyFiles`` writes their files from there. Returns an
    :class:`Assessment`; call ``.write(out_dir)``.
    """
    st = stages or Stages()
    if area_basis not in ("polygon", "certificate"):
        raise InputError(f"--area-basis 只能是 polygon 或 certificate，而不是 {area_basis}",
                         f"--area-basis must be polygon or certificate, not {area_basis}")
    step = progress or _noop
    inputs: dict[str, Any] = {}
    recs: list[pd.DataFrame] = []
    pol = load_policy(policy)
    from .report.lists import notice_extra_columns

    notice_extra_columns(pol)  # a notice list that would publish figures fails now, not after the run

    step("read")

    def take(obj: Any, name: str, reader: Callable[..., recon.Loaded], **kw: Any) -> Any:
        """A frame given by the caller as it is; a path (or database URL) read by ``reader``."""
        if obj is None:
            return None
        if isinstance(obj, pd.DataFrame):
            return obj.copy()
        loaded = reader(obj, **kw)
        recs.append(loaded.recon)
        inputs[name] = _input_meta(loaded.meta)
        return loaded.frame

    from .io.overrides import read_overrides
    from .parallel import ChildFailed, ForkFailed, can_fork, claim, fork_call, read_key

    def a_file(obj: Any) -> bool:
        return isinstance(obj, (str, os.PathLike)) and Path(obj).is_file()

    # the firm table is read by a second process while this one reads and measures the parcel layer (two
    # files on two cores); its rows and records come back the same as when read here, in the same places
    firm_job = claim(read_key("read_firms", firms, firms_sheet)) if a_file(firms) else None  # the command's
    if firm_job is not None and not (a_file(parcels) and can_fork()):
        firm_job.cancel()  # (started before the parcel layer was known to be a file): read in order here
        firm_job = None
    elif firm_job is None and a_file(firms) and a_file(parcels) and can_fork():
        with contextlib.suppress(ForkFailed):  # no fork (memory, process limit): read it here, in order
            firm_job = fork_call(lambda: read_firms(firms, sheet=firms_sheet))
    parcels_read = False
    try:
        p_path = None if isinstance(parcels, pd.DataFrame) else parcels
        p_raw = take(parcels, "parcels", st.read_parcels, layer=parcels_layer, id_column=parcel_id, engine=io_engine)
        if "source_row" not in p_raw:
            p_raw.insert(0, "source_row", np.arange(1, len(p_raw) + 1))
        parcels_read = True
        firm_slot = len(recs)
        f_raw = None
        if firm_job is None:
            f_raw = take(firms, "firms", read_firms, sheet=firms_sheet)
        else:
            inputs["firms"] = {}  # keeps its place in the summary; filled when the table arrives

        def firm_table(current: pd.DataFrame | None) -> pd.DataFrame:
            """The firm table: ``current`` (read here, or already arrived), or the second process's."""
            nonlocal firm_job
            if firm_job is None:
                return current
            try:
                loaded = firm_job.result()
            except ChildFailed:  # read it here instead: the same error, raised and reported the usual way
                loaded = read_firms(firms, sheet=firms_sheet)
            firm_job = None
            recs.insert(firm_slot, loaded.recon)
            inputs["firms"] = _input_meta(loaded.meta)
            return loaded.frame

        l_raw = take(links, "links", read_links)
        prev_raw = take(previous_firms, "previous_firms", read_firms, source="previous_firms")
        ov = take(overrides, "overrides", read_overrides)
        bld_gdf = take(buildings, "buildings", read_layer, layer=buildings_layer, engine=io_engine, source="buildings")
        parks_gdf = take(parks, "parks", read_layer, layer=parks_layer, engine=io_engine, source="parks")
        for name, path in (rasters or {}).items():
            from .io.tables import sha256_file

            inputs[f"raster_{name}"] = {"file": Path(str(path)).name, "sha256": sha256_file(path)}
        audit_parts: list[pd.DataFrame] = []
        if ov is not None:
            before = apply_overrides_before(firm_table(f_raw), ov)
            f_raw = before.frame
            recs.append(before.recon)
            audit_parts.append(before.meta.get("audit"))
            extra = before.meta.get("links")
            if extra is not None and len(extra):
                l_raw = extra if l_raw is None else pd.concat([l_raw, extra], ignore_index=True)
        if parks_gdf is not None and len(parks_gdf) and "park" not in parks_gdf.columns:
            name_col = detect_park_name_column(parks_gdf)
            if name_col is not None:
                parks_gdf = parks_gdf.assign(park=parks_gdf[name_col])

        step("geo")
        geo = st.prepare_parcels(p_raw, crs=crs, area_basis=area_basis, source="parcels", path=p_path)
        recs.append(geo.recon)
        pcl = geo.frame.reset_index(drop=True)
        # keep what later stages need of the read and prepared layers, not the layers (memory at 1M parcels)
        n_parcels_in, geom_name, pcl_crs = len(p_raw), geo.frame.geometry.name, geo.frame.crs
        del p_raw, geo
        if len(pcl) == 0:
            raise InputError("宗地图层中没有可用的宗地（全部为空或无效几何）",
                             "the parcel layer has no usable parcel (all geometries empty or invalid)",
                             file=p_path, hint_zh="请检查图层与 --parcels-layer", hint_en="check the layer and --parcels-layer")
        boundary_park = None
        if parks_gdf is not None and len(parks_gdf):
            boundary_park = assign_parks(pcl.assign(park=None), parks_gdf)
        bm = None
        floor_area = None
        if bld_gdf is not None:
            bm = building_metrics(pcl, bld_gdf)
            recs.append(bm.recon)
            floor_area = bm.frame["floor_area_m2"]
        zs = st.zonal_stats(pcl, rasters) if rasters else None

        step("link")
        f_raw = firm_table(f_raw)
    except BaseException:
        # the same error as the serial order gives: the parcel layer's, else the firm table's, else this one
        if firm_job is not None:
            if not parcels_read:
                firm_job.cancel()
            else:
                try:
                    firm_job.result()  # raises the firm table's error, if it had one
                except ChildFailed:
                    read_firms(firms, sheet=firms_sheet)  # its error, raised here the usual way
        raise
    yr = _year_of(f_raw, year)
    linked = st.link_firms(f_raw, pcl, l_raw, area_column="land_area_mu", firm_coords=firm_coords,
                        park_boundary=boundary_park, floor_area_m2=floor_area)
    del f_raw
    recs.append(_with_headers(linked.recon, {"firms": inputs.get("firms", {}).get("columns"),
                                             "links": inputs.get("links", {}).get("columns")}))

    step("indicators")
    f = st.firm_indicators(linked.firms)
    linked.firms = None  # f supersedes it
    figs = parcel_figures(pcl, f, linked.pairs, area_column="land_area_mu")
    pcl = pcl.drop(columns=[c for c in figs.columns if c in pcl.columns])
    pcl["park_own"] = pcl.get("park", None)
    pcl["park"] = linked.parcels["park"].to_numpy()
    pcl["firm_count"] = linked.parcels["firm_count"].to_numpy()
    pcl["holder_firm_row"] = linked.parcels["holder_firm_row"].to_numpy()
    pcl["unassigned_share"] = linked.parcels["unassigned_share"].to_numpy()
    pcl = pd.concat([pcl, figs.set_index(pcl.index)], axis=1)
    pcl = gpd.GeoDataFrame(pcl, geometry=geom_name, crs=pcl_crs)
    prev_f = None
    if prev_raw is not None:
        prev_linked = st.link_firms(prev_raw, pcl, l_raw, area_column="land_area_mu", firm_coords=firm_coords,
                                 park_boundary=boundary_park, floor_area_m2=floor_area, source="previous_firms")
        recs.append(prev_linked.recon)
        prev_f = st.firm_indicators(prev_linked.firms)
        prev_parcels = pcl[["source_row", "parcel_id", "land_area_mu", "area_mu"]].copy()
        prev_parcels["park"] = prev_linked.parcels["park"].to_numpy()
        prev_parcels["firm_count"] = prev_linked.parcels["firm_count"].to_numpy()
        prev_parcels = pd.concat([prev_parcels, parcel_figures(pcl, prev_f, prev_linked.pairs,
                                                               area_column="land_area_mu")], axis=1)

    step("scoring")
    as_of_ts = _as_of(yr, as_of)
    graded = grade_firms(f, pol, previous=prev_f, as_of=as_of_ts)
    recs.append(graded.recon)
    f = graded.frame
    benchmarks = graded.meta.get("benchmarks")
    del graded
    if ov is not None:
        after = apply_overrides_after(f, ov, pol)
        f = after.frame
        recs.append(after.recon)
        audit_parts.append(after.meta.get("audit"))
    prev_graded = None
    if prev_f is not None:
        yoy = year_on_year(f, prev_f, pol, as_of_previous=pd.Timestamp(year=yr - 1, month=12, day=31))
        recs.append(yoy.recon)
        f = pd.concat([f, yoy.frame.drop(columns=[c for c in yoy.frame.columns if c in f.columns])], axis=1)
        prev_graded = yoy.meta.get("previous")
    pcl["grade"] = parcel_grades(pcl, linked.pairs, f, pol).to_numpy()
    partial_meta = {"year": yr, "as_of": _as_of(yr, as_of).date().isoformat(), "lang": lang}
    audit = _audit(ov, audit_parts)  # complete once the overrides are applied
    if ready is not None:  # the firm table is final: its files can be written from here on
        ready("firms", Assessment(parcels=None, firms=f, pairs=None, recon=None, parks=None, counties=None,
                                  park_boundaries=None, policy=pol, previous=prev_graded, audit=audit,
                                  cleanup=None, idle_floor=None, plan={}, meta=partial_meta))

    step("land")
    if bm is not None:
        bcols = [c for c in bm.frame.columns if c not in pcl.columns]
        pcl = pd.concat([pcl, bm.frame[bcols].set_index(pcl.index)], axis=1)
    diag = st.diagnose(pcl, f, linked.pairs, as_of=as_of_ts, thresholds=pol.land, previous_firms=prev_f,
                    raster_stats=zs)
    recs.append(diag.recon)
    pcl = gpd.GeoDataFrame(diag.frame, geometry=geom_name, crs=pcl_crs)
    del diag
    if ready is not None:  # the parcels are final (the plan only reads them): their layer can be written
        ready("parcels", Assessment(parcels=pcl, firms=f, pairs=None, recon=None, parks=None, counties=None,
                                    park_boundaries=parks_gdf, policy=pol, previous=prev_graded, audit=None,
                                    cleanup=None, idle_floor=None, plan={}, meta=partial_meta))

    step("plan")
    # the policy's [plan] table: the strategy, per-park quotas (亩) and a minimum parcel size are choices
    # of the selection; the rest configures the priority ordering (plan.plan_config)
    plan_tab = dict(pol.plan or {})
    strat = strategy or plan_tab.pop("strategy", "priority")
    plan_tab.pop("strategy", None)
    quotas = plan_tab.pop("park_quotas", None)
    min_mu = float(plan_tab.pop("min_parcel_mu", 0.0))
    min_m2 = float(plan_tab.pop("min_floor_m2", 0.0))
    plan_cfg = plan_tab
    tg = pol.targets or {}
    t_mu = float(target_mu if target_mu is not None else tg.get("cleanup_mu", 1000))
    t_floor = float(target_floor_m2 if target_floor_m2 is not None else tg.get("idle_floor_m2", 20000))
    cands = candidates(pcl, f, linked.pairs, plan_cfg=plan_cfg)
    sel, sel_rep = select(cands, t_mu, strategy=strat, park_quotas=quotas, min_parcel_mu=min_mu, plan_cfg=plan_cfg)
    floor_sel, floor_rep = None, None
    if bm is not None:
        idle_b = idle_floor(bm, pcl["stopped"].fillna(False).astype(bool)).meta["idle_buildings"].copy()
        idle_b["park"] = idle_b["parcel_row"].map(pd.Series(pcl["park"].to_numpy(), index=pcl["source_row"]))
        floor_sel, floor_rep = select_floor(idle_b, t_floor, strat, min_floor_m2=min_m2, plan_cfg=plan_cfg)
    tfig = targets(pcl, prev_parcels if prev_f is not None else None, goals=tg)
    scen = {b: scenario(pcl, sel, basis=b) for b in ("park_average", "a_grade_average")}
    plan_summary = summary_block(sel_rep, floor_rep, tfig, scen)
    if floor_rep is None:
        plan_summary["idle_floor"] = {"target_m2": t_floor, "selected_m2": None,
                                      "note": "no building layer given (--buildings)"}
    parks_t = park_table(f, pcl)
    counties_t = county_table(f, pcl)

    meta = {
        "year": yr,
        "as_of": _as_of(yr, as_of).date().isoformat(),
        "area_basis": area_basis,
        "firm_coords": firm_coords,
        "io_engine": io_engine,
        "engine": {"name": "pandas"},
        "lang": lang,
        "inputs": inputs,
        "parcels_in": n_parcels_in,
        "links_in": 0 if l_raw is None else len(l_raw),
        "crs": pcl.crs.to_string() if pcl.crs is not None else None,
        "benchmarks": benchmarks,
        "policy": pol.name,
    }
    meta["rasters"] = sorted((rasters or {}).keys())
    return Assessment(parcels=pcl, firms=f, pairs=linked.pairs, recon=recon.concat(recs), parks=parks_t,
                      counties=counties_t, park_boundaries=parks_gdf, policy=pol, previous=prev_graded,
                      audit=audit, cleanup=sel, idle_floor=floor_sel, plan=plan_summary, meta=meta)


def _audit(ov: pd.DataFrame | None, parts: list[pd.DataFrame | None]) -> pd.DataFrame | None:
    """The overrides audit (one row per changed field), or None when no overrides file was given."""
    if ov is None:
        return None
    parts = [a for a in parts if a is not None and len(a)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["uscc", "field", "old", "new", "reason", "reference"])


def _with_headers(rec: pd.DataFrame, columns: dict[str, dict | None]) -> pd.DataFrame:
    """Name columns in reconciliation rows as the file heads them (canonical name → original header)."""
    rec = rec.copy()
    for source, mapping in columns.items():
        if not mapping:
            continue
        back = {canon: orig for orig, canon in mapping.items()}
        if "parcel_id" in back:
            back.setdefault("parcel_ids", back["parcel_id"])
        sel = rec["source"] == source
        rec.loc[sel, "column"] = rec.loc[sel, "column"].replace(back)
    return rec


def _input_meta(meta: dict) -> dict:
    """The part of a reader's meta that goes into summary.json: file name, hash, encoding, sheet."""
    keep = {k: meta.get(k) for k in ("sha256", "encoding", "sheet", "layer", "header_row", "n_rows", "columns")
            if meta.get(k) is not None}
    if meta.get("path") is not None:
        path = str(meta["path"])  # a database URL arrives here already without its password
        keep["file"] = path if "://" in path else Path(path).name
    return keep
