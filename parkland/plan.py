"""The cleanup plan and the year's targets: candidates, selection to a target, idle factory floor,
per-mu targets against last year, re-letting scenarios, and the summary.json block.

Pure functions on (Geo)DataFrames; no file I/O (cleanup.gpkg / cleanup.xlsx are written by ``report``).

Candidates and their priority
-----------------------------
A cleanup candidate is a parcel flagged ``idle``, ``vacant``, ``stopped`` or ``low_efficiency`` (a
missing flag column is derived from ``flag_reasons``: ``IDLE_*`` → idle, ``VACANT*`` → vacant,
``STOPPED*`` → stopped, ``LOW_*`` / ``GRADE_D`` / ``OVERDUE_COMPLETION`` → low_efficiency).
Each candidate falls into the first **tier** of ``tier_order`` it qualifies for:

================  ===========================================================================  ===============
tier              qualifies when                                                               kind
================  ===========================================================================  ===============
idle_reclaim      idle and (reclaim_warning, or reason IDLE_RECLAIM, or idle_years ≥            idle
                  ``reclaim_years``): legal idle land under the two-year rule (may be taken
                  back without compensation, 国土资源部令第53号)
idle              idle                                                                         idle
vacant            vacant                                                                       vacant
stopped           stopped                                                                      stopped
low_efficiency    low_efficiency with a reason other than GRADE_D                              low_efficiency
grade_d           low_efficiency, or reason GRADE_D (with the default order: GRADE_D only)      low_efficiency
================  ===========================================================================  ===============

``kind`` is the highest-priority kind of the parcel (the kind of its tier). A parcel that qualifies for
no tier of a shortened ``tier_order`` gets tier ``unlisted`` (t = T, after every listed tier) and the
first of its own kinds in the order idle, vacant, stopped, low_efficiency. The priority score is::

    priority_score = tier_points × (T − t)                                   t = tier index, T = tiers
                   + w_idle_years × min(idle_years, idle_years_cap) / idle_years_cap
                   + w_shortfall  × shortfall_ratio
                   + w_area       × min(area_mu, area_cap_mu) / area_cap_mu

rounded to 1e-9, where ``shortfall_ratio`` = how far below the threshold the parcel is, in [0, 1]:
the parcel's own ``shortfall_ratio`` column where the land stage supplies one, else
max over ``shortfall_thresholds`` (indicator → threshold) of max(0, 1 − value / threshold) (a missing
value counts 0). With the defaults the within-tier part is at most 900 < ``tier_points`` = 1000, so a
tier always outranks the next one; within a tier the weighted sum puts the most weight on idle years
(500 for 10 years), then the shortfall (300 for 100 %), then the area (100 for 100 亩).
``rank`` = 1..n by priority_score descending, ties by parcel_id then source_row ascending.

``plan_cfg`` keys (all optional; defaults in :data:`DEFAULT_PLAN`):

- ``tier_order``: list of tier names above, highest priority first (a tier left out is never used:
  its parcels fall to the next tier they qualify for, else to ``unlisted``).
- ``tier_points`` (1000), ``weights`` {``idle_years``: 500, ``shortfall``: 300, ``area``: 100},
  ``idle_years_cap`` (10 years), ``area_cap_mu`` (100 亩), ``reclaim_years`` (2.0).
- ``shortfall_thresholds``: {``tax_per_mu``: 8.0, ``output_per_mu``: 250.0} (万元/亩; the Sichuan
  标准地 entry figures of DOMAIN.md).
- ``firm_separator`` ("、"): joins the names of the firms on a parcel (in firm source_row order).
- ``resolution_mu`` (0.01): the unit of the exact min-overshoot knapsack for land;
  ``floor_resolution_m2`` (1.0) the same for factory floor.
- ``exact_max_cells`` (1e9): the exact min-overshoot table runs when parcels × table width stays under
  it (time; its memory is one row); ``fewest_firms_max_cells`` (5e7): the same for the fewest-firms
  table, which keeps every row for back-tracking (bytes). Beyond, the documented greedy fallbacks below
  are used (the report says ``exact: False``).
- ``floor_order``: [[column, "asc"|"desc"], ...] ([["floor_area_m2", "desc"]]): the priority of idle
  factory floor, ties by parcel_id then source_row.

A firm on a candidate parcel is **operating** unless it is stopped: the firm frame's boolean
``stopped`` column where present, else a firm whose revenue, output, tax and electricity figures (those
present in the frame) include at least one number and are all ≤ 0 (the STOPPED test of the land stage
per firm). A firm with no figures at all counts as operating (we do not assume it stopped).

Selection strategies (:func:`select`)
-------------------------------------
Only candidates with area_mu ≥ ``min_parcel_mu`` (and > 0) are eligible. If all eligible land does not
reach the target, every eligible parcel is selected and ``shortfall_mu`` = target − their area.

- ``priority``: eligible parcels in rank order until the target is reached (the parcel that reaches it
  is included).
- ``fewest-firms``: minimise Σ operating_firms subject to Σ area ≥ target. Parcels with 0 operating
  firms are free: if they reach the target alone, they are taken largest first (ties by rank) until
  reached. Otherwise the rest R = target − their area is covered by firm-bearing parcels with an exact
  0/1 knapsack over firm counts (``best[c]`` = most land with ≤ c operating firms, parcels added in rank
  order, a parcel replacing a state only when strictly better); the fewest c with best[c] ≥ R wins, and
  among those sets the DP keeps the one with the most land; then zero-firm parcels, largest first, only
  as far as still needed. The table is bounded by the greedy answer's firm count. Fallback when too
  large: greedy by area per operating firm (desc, ties by rank) — its firm count is at most the optimum
  plus the largest firm count of one parcel (the LP-relaxation bound).
- ``min-overshoot``: the subset closest to the target from above, exact at ``resolution_mu``: areas are
  rounded to integer hundredths, a boolean subset-sum table over 0 … target + largest parcel is filled
  with a one-dimensional back-pointer (the parcel that first reached each sum; parcels added in rank
  order, so among the sets with the same sum the one whose lowest-ranked parcel ranks highest is kept),
  and the least reachable sum ≥ ⌊target⌋ whose set also reaches the target on the unrounded areas wins
  (so the selection truly reaches the target). Exact on areas rounded to 0.01 亩; the rounding may add
  up to 0.005 亩 per selected parcel to the true overshoot (e.g. 1000.04 亩 for a 1000-亩 target met by
  40 parcels). It stops early when the target's own sum is hit and holds (which does not change the
  answer: a back-pointer, once set, never changes). Fallback when too large: largest first while the
  sum stays ≤ target, then the smallest remaining parcel that covers the rest — its overshoot is below
  that parcel's area (≤ the largest candidate).

The dynamic programmes step once per parcel with a numpy vector operation over the table (the usual
knapsack recurrence cannot be vectorised across items); everything else is vectorised.

Idle factory floor (:func:`select_floor`): every row of the idle-buildings frame is idle floor; it is
ranked by ``floor_order`` and selected with the same strategies (``floor_area_m2`` for area).

Per-park quotas (park → mu): each park with a quota (in name order) is solved first among its own
eligible parcels, then the rest of the city target (if any) from the eligible parcels not yet chosen.
``target_mu`` None means Σ quotas.
``cumulative_mu`` is the running total, in rank order, of the selected parcels' area (NaN when not selected).

Targets (:func:`targets`)
-------------------------
For indicator ``output_per_mu`` (figure ``output_wan``) and ``tax_per_mu`` (``tax_wan``):

- same basis: parcels (by parcel_id) with linked firms (firm_count > 0) in both years' tables and the
  figure present in both; value = Σ figure / Σ area_mu over those parcels, each year with its own rows;
- all land: Σ figure (missing = 0) / Σ area_mu over all parcels of the year;
- change_pct = (current / previous − 1) × 100, met = change_pct ≥ goal_pct
  (goals ``output_per_mu_pct`` = 10, ``tax_per_mu_pct`` = 5 unless given).

Scenario (:func:`scenario`)
---------------------------
If the selected land were re-let at rate r (per mu) — ``park_average``: Σ figure / Σ area over the
parcels of its park that have firms and are not selected (the city's such average where a park has
none); ``a_grade_average``: Σ figure / Σ area over grade-A parcels (city-wide) — then::

    scenario_per_mu = (Σ_all figure − Σ_selected figure + Σ_selected area_i × r_i) / Σ_all area

(all land; missing figures count 0; a parcel for which no rate exists keeps its figures), compared with
current_per_mu = Σ_all figure / Σ_all area.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from parkland.errors import PolicyError
from parkland.frames import factorized, join_groups, objects

KINDS = ("idle", "vacant", "stopped", "low_efficiency")
TIERS = {
    "idle_reclaim": "idle",
    "idle": "idle",
    "vacant": "vacant",
    "stopped": "stopped",
    "low_efficiency": "low_efficiency",
    "grade_d": "low_efficiency",
}
STRATEGIES = ("priority", "fewest-firms", "min-overshoot")
BASES = ("park_average", "a_grade_average")
#: indicator → figure column, for targets and scenarios
TARGET_INDICATORS = {"output_per_mu": "output_wan", "tax_per_mu": "tax_wan"}
DEFAULT_GOALS = {"output_per_mu_pct": 10.0, "tax_per_mu_pct": 5.0}

DEFAULT_PLAN: dict[str, Any] = {
    "tier_order": ["idle_reclaim", "idle", "vacant", "stopped", "low_efficiency", "grade_d"],
    "tier_points": 1000.0,
    "weights": {"idle_years": 500.0, "shortfall": 300.0, "area": 100.0},
    "idle_years_cap": 10.0,
    "area_cap_mu": 100.0,
    "reclaim_years": 2.0,
    "shortfall_thresholds": {"tax_per_mu": 8.0, "output_per_mu": 250.0},
    "firm_separator": "、",
    "resolution_mu": 0.01,
    "floor_resolution_m2": 1.0,
    "exact_max_cells": 1e9,
    "fewest_firms_max_cells": 5e7,
    "floor_order": [["floor_area_m2", "desc"]],
}

_TOL = 1e-9
_FIRM_FIGURES = ("revenue_wan", "output_wan", "tax_wan", "electricity_10k_kwh")
_GRADE_ORDER = {"A": 1, "B": 2, "C": 3, "D": 4}


# --------------------------------------------------------------------------- configuration
def plan_config(plan_cfg: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """DEFAULT_PLAN updated with ``plan_cfg`` (``weights`` merged key by key), validated."""
    cfg = copy.deepcopy(DEFAULT_PLAN)
    for key, value in (plan_cfg or {}).items():
        if key not in DEFAULT_PLAN:
            raise PolicyError(f"清理计划配置中未知的键「{key}」", f"unknown plan key {key!r}", column=key,
                              hint_zh=f"可用的键：{', '.join(DEFAULT_PLAN)}",
                              hint_en=f"allowed: {', '.join(DEFAULT_PLAN)}")
        if key == "weights":
            unknown = set(value) - set(DEFAULT_PLAN["weights"])
            if unknown:
                raise PolicyError(f"清理计划权重中未知的键：{sorted(unknown)}",
                                  f"unknown plan weights: {sorted(unknown)}", column="weights")
            cfg["weights"].update({k: float(v) for k, v in value.items()})
        else:
            cfg[key] = copy.deepcopy(value)
    bad = [t for t in cfg["tier_order"] if t not in TIERS]
    if bad or not cfg["tier_order"]:
        raise PolicyError(f"清理计划 tier_order 含未知档次：{bad}", f"unknown tiers in tier_order: {bad}",
                          column="tier_order", hint_zh=f"可用：{', '.join(TIERS)}",
                          hint_en=f"allowed: {', '.join(TIERS)}")
    for key in ("idle_years_cap", "area_cap_mu", "resolution_mu", "floor_resolution_m2"):
        if not float(cfg[key]) > 0:
            raise PolicyError(f"清理计划「{key}」须为正数", f"plan key {key!r} must be positive", column=key)
    for col, direction in cfg["floor_order"]:
        if direction not in ("asc", "desc"):
            raise PolicyError(f"floor_order 中「{col}」的方向须为 asc 或 desc",
                              f"floor_order direction of {col!r} must be asc or desc", column="floor_order")
    return cfg


# --------------------------------------------------------------------------- candidates
def _reasons(parcels: pd.DataFrame) -> pd.Series:
    if "flag_reasons" not in parcels:
        return pd.Series("", index=parcels.index, dtype=object)
    if parcels["flag_reasons"].dtype == pd.StringDtype("pyarrow", na_value=np.nan):
        return parcels["flag_reasons"].fillna("")  # already the text the conversion below gives
    return parcels["flag_reasons"].astype(object).where(parcels["flag_reasons"].notna(), "").astype(str)


def _has(reasons: pd.Series, pattern: str) -> pd.Series:
    """Reason list (';'-joined) contains a code matching the regex ``pattern`` (whole code)."""
    if pattern.isalnum() or pattern.replace("_", "").isalnum():  # one literal code: a plain substring test
        return (";" + reasons + ";").str.contains(f";{pattern};", regex=False)
    return reasons.str.contains(rf"(?:^|;)(?:{pattern})(?:;|$)", regex=True)


def _flag(parcels: pd.DataFrame, reasons: pd.Series, column: str, pattern: str) -> pd.Series:
    if column in parcels:
        return parcels[column].astype("boolean").fillna(False).astype(bool)
    return _has(reasons, pattern)


def _num(frame: pd.DataFrame, column: str, default: float = np.nan) -> pd.Series:
    if column not in frame:
        return pd.Series(default, index=frame.index, dtype=float)
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def _obj(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A column as an object array with None for every missing value (safe for == comparisons)."""
    if column not in frame:
        return np.full(len(frame), None, dtype=object)
    return objects(frame[column])


def _park_codes(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The park column's codes and parks (:func:`parkland.frames.factorized`, sorted as a groupby sorts
    them); all −1 without a park column."""
    if "park" not in frame:
        return np.full(len(frame), -1, dtype=np.int64), np.empty(0, dtype=object)
    return factorized(frame["park"], sort=True)


def _park_sums(codes: np.ndarray, parks: np.ndarray, columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """Σ of each column per park (rows with a park), pandas' own group sums, indexed by park (sorted)."""
    has = codes >= 0
    s = pd.DataFrame({k: v[has] for k, v in columns.items()}).groupby(codes[has]).sum()
    s.index = pd.Index(parks[s.index.to_numpy()], dtype=object, name="park")
    return s


def _firm_stopped(firms: pd.DataFrame) -> pd.Series:
    """True where a firm counts as stopped (see the module docstring)."""
    if "stopped" in firms:
        return firms["stopped"].astype("boolean").fillna(False).astype(bool)
    cols = [c for c in _FIRM_FIGURES if c in firms]
    if not cols:
        return pd.Series(False, index=firms.index)
    vals = firms[cols].apply(pd.to_numeric, errors="coerce").astype(float)
    return vals.notna().any(axis=1) & (vals.fillna(0.0) <= 0.0).all(axis=1)


def _firms_on_parcels(firms: pd.DataFrame | None, pairs: pd.DataFrame | None, sep: str,
                      only: np.ndarray | None = None) -> pd.DataFrame:
    """Per parcel_row: names (joined in firm source_row order), firm_count, operating_firms, worst grade.
    ``only``: the parcel rows wanted (the others' firms are not looked at)."""
    out_cols = ["firms", "firm_count", "operating_firms", "firm_grade"]
    if firms is None or pairs is None or len(pairs) == 0 or len(firms) == 0:
        return pd.DataFrame(columns=out_cols, index=pd.Index([], name="parcel_row"))
    p = pairs[["firm_row", "parcel_row"]].dropna().astype("int64").drop_duplicates()
    firms = firms[[c for c in ("source_row", "name", "stopped", "grade", *_FIRM_FIGURES) if c in firms]]
    if only is not None:
        p = p[p["parcel_row"].isin(only)]
        firms = firms[firms["source_row"].isin(p["firm_row"])]
        if len(p) == 0 or len(firms) == 0:
            return pd.DataFrame(columns=out_cols, index=pd.Index([], name="parcel_row"))
    f = pd.DataFrame({
        "firm_row": firms["source_row"].astype("int64").to_numpy(),
        "name": firms["name"].astype(object).where(firms["name"].notna(), "").astype(str).to_numpy()
        if "name" in firms else "",
        "stopped_firm": _firm_stopped(firms).to_numpy(),
        "grade_num": firms["grade"].astype(object).map(_GRADE_ORDER).astype(float).to_numpy()
        if "grade" in firms else np.nan,
    }).drop_duplicates("firm_row")
    m = p.merge(f, on="firm_row", how="inner").sort_values(["parcel_row", "firm_row"], kind="mergesort")
    m["operating"] = ~m["stopped_firm"].astype(bool)
    g = m.groupby("parcel_row", sort=True)
    rows = g.size().index
    out = pd.DataFrame({
        "firms": pd.Series(join_groups(rows.get_indexer(m["parcel_row"]), m["name"].to_numpy(), len(rows), sep,
                                       distinct=False), index=rows, dtype="str"),
        "firm_count": g["firm_row"].size().astype("int64"),
        "operating_firms": g["operating"].sum().astype("int64"),
        "firm_grade": g["grade_num"].max().map({v: k for k, v in _GRADE_ORDER.items()}),
    })
    return out


def candidates(
    parcels: pd.DataFrame,
    firms: pd.DataFrame | None = None,
    pairs: pd.DataFrame | None = None,
    *,
    plan_cfg: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Cleanup candidates in priority order (see the module docstring for the rule and the score).

    Returns one row per parcel flagged idle, vacant, stopped or low_efficiency, sorted by ``rank``
    (1..n): rank, source_row, parcel_id, park, county, area_mu, reasons, kind, tier, firms, firm_count,
    operating_firms, grade, idle_years, shortfall_ratio, priority_score (and geometry, as a
    GeoDataFrame, when ``parcels`` has one). ``grade`` is the parcel's grade, else the worst grade of
    the firms on it. Without firms/pairs, firm_count comes from the parcel frame and every firm counts
    as operating.
    """
    cfg = plan_config(plan_cfg)
    reasons = _reasons(parcels)
    idle = _flag(parcels, reasons, "idle", "IDLE_[A-Z_]+")
    vacant = _flag(parcels, reasons, "vacant", "VACANT[A-Z_]*")
    stopped = _flag(parcels, reasons, "stopped", "STOPPED[A-Z_]*")
    low = _flag(parcels, reasons, "low_efficiency", "LOW_[A-Z_]+|GRADE_D|OVERDUE_COMPLETION")
    keep = (idle | vacant | stopped | low).to_numpy()

    # only the columns used below (the parcel frame is wide: its long texts need not be copied)
    used = ["source_row", "parcel_id", "park", "county", "area_mu", "idle_years", "reclaim_warning", "grade",
            "firm_count", "shortfall_ratio", *cfg["shortfall_thresholds"]]
    if "geometry" in parcels and hasattr(parcels, "crs"):
        used.append(parcels.geometry.name)
    p = parcels.loc[keep, [c for c in dict.fromkeys(used) if c in parcels.columns]]
    reasons = reasons[keep]
    idle, vacant, stopped, low = idle[keep], vacant[keep], stopped[keep], low[keep]
    area = _num(p, "area_mu").fillna(0.0)
    idle_years = _num(p, "idle_years").fillna(0.0).clip(lower=0.0)
    reclaim = p["reclaim_warning"].astype("boolean").fillna(False).astype(bool) if "reclaim_warning" in p \
        else pd.Series(False, index=p.index)
    grade_d = _has(reasons, "GRADE_D")
    other_low = _has(reasons, "LOW_[A-Z_]+|OVERDUE_COMPLETION") | (low & ~grade_d)
    qualifies = {
        "idle_reclaim": idle & (reclaim | _has(reasons, "IDLE_RECLAIM")
                                | (idle_years >= float(cfg["reclaim_years"]) - _TOL)),
        "idle": idle,
        "vacant": vacant,
        "stopped": stopped,
        "low_efficiency": low & other_low,
        "grade_d": low | grade_d,
    }
    order = list(dict.fromkeys(cfg["tier_order"]))
    n_tiers = len(order)
    tier_idx = np.full(len(p), n_tiers, dtype="int64")  # n_tiers: qualifies for no listed tier
    assigned = np.zeros(len(p), dtype=bool)
    for t, name in enumerate(order):  # loop over the few tiers, not over parcels
        hit = qualifies[name].to_numpy() & ~assigned
        tier_idx[hit] = t
        assigned |= hit
    tier_name = np.asarray([*order, "unlisted"], dtype=object)[tier_idx]
    own_kind = np.select([idle.to_numpy(), vacant.to_numpy(), stopped.to_numpy()], ["idle", "vacant", "stopped"],
                         default="low_efficiency").astype(object)

    # shortfall below the thresholds
    short = pd.Series(0.0, index=p.index)
    for ind, threshold in cfg["shortfall_thresholds"].items():
        if ind in p and threshold and float(threshold) > 0:
            s = (1.0 - _num(p, ind) / float(threshold)).clip(lower=0.0, upper=1.0).fillna(0.0)
            short = np.maximum(short, s)
    if "shortfall_ratio" in p:
        own = _num(p, "shortfall_ratio").clip(lower=0.0, upper=1.0)
        short = own.where(own.notna(), short)

    w = cfg["weights"]
    score = (float(cfg["tier_points"]) * (n_tiers - tier_idx)
             + w["idle_years"] * np.minimum(idle_years, float(cfg["idle_years_cap"])) / float(cfg["idle_years_cap"])
             + w["shortfall"] * short
             + w["area"] * np.minimum(area, float(cfg["area_cap_mu"])) / float(cfg["area_cap_mu"]))
    score = np.round(score.to_numpy(dtype=float), 9)

    out = pd.DataFrame(index=p.index)
    out["source_row"] = p["source_row"].astype("int64") if "source_row" in p else np.arange(1, len(p) + 1)
    out["parcel_id"] = p.get("parcel_id", pd.NA)
    out["park"] = p.get("park", pd.NA)
    out["county"] = p.get("county", pd.NA)
    out["area_mu"] = area
    out["reasons"] = reasons
    out["kind"] = np.where(assigned, pd.Series(tier_name, index=p.index).map(TIERS).to_numpy(), own_kind)
    out["tier"] = tier_name

    rows = out["source_row"]
    on = _firms_on_parcels(firms, pairs, cfg["firm_separator"], only=rows.to_numpy())
    joined = on.reindex(rows.to_numpy())
    have_links = firms is not None and pairs is not None
    if have_links:
        out["firms"] = joined["firms"].fillna("").to_numpy()
        out["firm_count"] = joined["firm_count"].fillna(0).astype("int64").to_numpy()
        out["operating_firms"] = joined["operating_firms"].fillna(0).astype("int64").to_numpy()
    else:
        fc = _num(p, "firm_count").fillna(0.0).astype("int64")
        out["firms"] = ""
        out["firm_count"] = fc
        out["operating_firms"] = fc
    pgrade = p["grade"].astype(object) if "grade" in p else pd.Series(None, index=p.index, dtype=object)
    fgrade = pd.Series(joined["firm_grade"].to_numpy(), index=p.index, dtype=object) if have_links \
        else pd.Series(None, index=p.index, dtype=object)
    out["grade"] = pgrade.where(pgrade.notna(), fgrade).where(lambda s: s.notna(), None)
    out["idle_years"] = _num(p, "idle_years")
    out["shortfall_ratio"] = short.astype(float)
    out["priority_score"] = score
    geo = "geometry" in parcels and hasattr(parcels, "crs")
    if geo:
        out["geometry"] = p.geometry.to_numpy()

    out = out.sort_values(["priority_score", "parcel_id", "source_row"], ascending=[False, True, True],
                          kind="mergesort", na_position="last")
    out.insert(0, "rank", np.arange(1, len(out) + 1, dtype="int64"))
    if geo:
        import geopandas as gpd

        out = gpd.GeoDataFrame(out, geometry="geometry", crs=parcels.crs)
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------- choosing subsets
def _prefix_until(size: np.ndarray, target: float) -> np.ndarray:
    """Take items in the given order until their sum reaches target (the item reaching it included)."""
    if target <= _TOL:
        return np.zeros(len(size), dtype=bool)
    before = np.cumsum(size) - size
    return before < target - _TOL


def _fewest_firms(size: np.ndarray, cost: np.ndarray, target: float, max_cells: float) -> tuple[np.ndarray, bool]:
    n = len(size)
    mask = np.zeros(n, dtype=bool)
    idx = np.arange(n)
    zero = cost <= 0
    zidx = idx[zero][np.argsort(-size[zero], kind="stable")]  # zero-firm parcels, largest first
    zsum = float(size[zero].sum())
    if zsum >= target - _TOL:
        mask[zidx[_prefix_until(size[zidx], target)]] = True
        return mask, True
    need = target - zsum
    pidx = idx[~zero]
    ps, pc = size[pidx], cost[pidx].astype("int64")
    # greedy by area per operating firm: an upper bound on the optimum, and the fallback
    gorder = np.lexsort((np.arange(len(pidx)), -(ps / pc)))
    gtake = np.zeros(len(pidx), dtype=bool)
    gtake[gorder[_prefix_until(ps[gorder], need)]] = True
    bound = int(pc[gtake].sum())
    exact = len(pidx) * (bound + 1) <= max_cells
    if exact:
        best = np.zeros(bound + 1, dtype=float)
        take = np.zeros((len(pidx), bound + 1), dtype=bool)
        for i in range(len(pidx)):  # 0/1 knapsack over firm counts: one vector step per parcel
            c = pc[i]
            if c > bound:
                continue
            cand = best[: bound + 1 - c] + ps[i]
            better = cand > best[c:] + _TOL
            take[i, c:] = better
            best[c:] = np.where(better, cand, best[c:])
        c_star = int(np.flatnonzero(best >= need - _TOL)[0])
        chosen = np.zeros(len(pidx), dtype=bool)
        c = c_star
        for i in range(len(pidx) - 1, -1, -1):  # back-track through the take table
            if c >= pc[i] and take[i, c]:
                chosen[i] = True
                c -= pc[i]
    else:
        chosen = gtake
    mask[pidx[chosen]] = True
    rest = target - float(ps[chosen].sum())
    mask[zidx[_prefix_until(size[zidx], rest)]] = True
    return mask, exact


def _min_overshoot(size: np.ndarray, target: float, resolution: float, max_cells: float) -> tuple[np.ndarray, bool]:
    n = len(size)
    mask = np.zeros(n, dtype=bool)
    w = np.rint(size / resolution).astype("int64")
    t_units = max(1, math.floor(target / resolution + 1e-6))
    width = int(min(t_units + w.max() + 1, w.sum() + 1))
    if n * width <= max_cells and width > t_units:
        reach = np.zeros(width, dtype=bool)
        reach[0] = True
        first = np.full(width, -1, dtype="int64")

        def members(s: int) -> np.ndarray:
            """Back-pointers: the parcel that first reached s was added after those that reached s − w."""
            chosen = []
            while s > 0:
                i = int(first[s])
                chosen.append(i)
                s -= int(w[i])
            return np.asarray(chosen, dtype="int64")

        for i in range(n):  # subset-sum over integer hundredths: one vector step per parcel
            wi = int(w[i])
            if wi <= 0 or wi >= width:
                continue
            new_sum = np.flatnonzero(reach[: width - wi] & ~reach[wi:]) + wi
            first[new_sum] = i
            reach[new_sum] = True
            if reach[t_units] and first[t_units] == i and size[members(t_units)].sum() >= target - _TOL:
                break  # the target itself is hit (and holds on the unrounded areas): nothing can be closer
        for s in t_units + np.flatnonzero(reach[t_units:]):  # least rounded sum whose true sum holds
            chosen = members(int(s))
            if size[chosen].sum() >= target - _TOL:
                mask[chosen] = True
                return mask, True
        mask[:] = True  # (no rounded sum held on the true areas: all of them, which reach the target)
        return mask, True
    order = np.lexsort((np.arange(n), -size))  # largest first, ties by rank
    total = 0.0
    for i in order:  # greedy fallback (very large inputs only): never exceed the target
        if total + size[i] <= target + _TOL:
            mask[i] = True
            total += size[i]
    if total < target - _TOL:
        rest = ~mask & (size >= target - total - _TOL)
        if rest.any():
            cand = np.flatnonzero(rest)
            mask[cand[np.lexsort((cand, size[cand]))[0]]] = True
    return mask, False


def _choose(size: np.ndarray, cost: np.ndarray, target: float, strategy: str, resolution: float,
            max_cells: tuple[float, float]) -> tuple[np.ndarray, bool]:
    """Boolean mask over items (given in rank order) reaching ``target`` by ``strategy``; all if unreachable."""
    if target <= _TOL or len(size) == 0:
        return np.zeros(len(size), dtype=bool), True
    if float(size.sum()) < target - _TOL:
        return np.ones(len(size), dtype=bool), True
    if strategy == "priority":
        return _prefix_until(size, target), True
    if strategy == "fewest-firms":
        return _fewest_firms(size, cost, target, max_cells[1])
    return _min_overshoot(size, target, resolution, max_cells[0])


def _limits(cfg: Mapping[str, Any]) -> tuple[float, float]:
    return float(cfg["exact_max_cells"]), float(cfg["fewest_firms_max_cells"])


def _check_strategy(strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise PolicyError(f"未知的清理选择策略「{strategy}」", f"unknown selection strategy {strategy!r}",
                          column="strategy", hint_zh=f"可选：{', '.join(STRATEGIES)}",
                          hint_en=f"choose one of: {', '.join(STRATEGIES)}")


def _select_frame(frame: pd.DataFrame, size_col: str, cost: np.ndarray, target: float | None, strategy: str,
                  quotas: Mapping[str, float] | None, min_size: float, resolution: float,
                  max_cells: tuple[float, float]) -> tuple[np.ndarray, dict[str, Any]]:
    size = _num(frame, size_col).fillna(0.0).to_numpy()
    eligible = (size >= min_size - _TOL) & (size > 0)
    parks = _obj(frame, "park")
    quotas = dict(quotas or {})
    if target is None:
        target = float(sum(quotas.values()))
    target = float(target)
    mask = np.zeros(len(frame), dtype=bool)
    exact = True
    park_rep: dict[str, Any] = {}
    for park in sorted(quotas, key=str):  # loop over the parks with a quota
        quota = float(quotas[park])
        sub = np.flatnonzero(eligible & (parks == park))
        m, ex = _choose(size[sub], cost[sub], quota, strategy, resolution, max_cells)
        mask[sub[m]] = True
        exact &= ex
        got = float(size[sub[m]].sum())
        park_rep[str(park)] = {"quota": quota, "selected": got, "reachable": got >= quota - _TOL,
                               "shortfall": max(0.0, quota - got)}
    rest = target - float(size[mask].sum())
    if rest > _TOL:
        sub = np.flatnonzero(eligible & ~mask)
        m, ex = _choose(size[sub], cost[sub], rest, strategy, resolution, max_cells)
        mask[sub[m]] = True
        exact &= ex
    got = float(size[mask].sum())
    reachable = got >= target - _TOL and all(r["reachable"] for r in park_rep.values())
    rep = {
        "strategy": strategy,
        "target": target,
        "selected": got,
        "count": int(mask.sum()),
        "reachable": bool(reachable),
        "shortfall": max(0.0, target - got),
        "overshoot": max(0.0, got - target),
        "eligible": float(size[eligible].sum()),
        "exact": bool(exact),
        "parks": park_rep,
    }
    return mask, rep


def select(
    cands: pd.DataFrame,
    target_mu: float | None,
    *,
    strategy: str = "priority",
    park_quotas: Mapping[str, float] | None = None,
    min_parcel_mu: float = 0.0,
    plan_cfg: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Select candidates (from :func:`candidates`, in rank order) to reach ``target_mu`` 亩.

    Returns the candidates (sorted by rank) with ``selected`` (bool) and ``cumulative_mu`` (running
    total of selected area in rank order, NaN where not selected), and a report: strategy, target_mu,
    selected_mu, parcels, reachable, shortfall_mu (target − selected when not reached, else 0),
    overshoot_mu, eligible_mu, operating_firms (Σ over the selection), by_kind {idle, vacant, stopped,
    low_efficiency: selected mu}, exact (False when a greedy fallback ran), min_parcel_mu and, with
    quotas, parks {park: {quota_mu, selected_mu, reachable, shortfall_mu}}. Strategies: module docstring.
    """
    _check_strategy(strategy)
    cfg = plan_config(plan_cfg)
    out = cands.sort_values("rank", kind="mergesort") if "rank" in cands else cands.copy()
    out = out.copy()
    cost = _num(out, "operating_firms").fillna(0.0).clip(lower=0).round().astype("int64").to_numpy()
    mask, rep = _select_frame(out, "area_mu", cost, target_mu, strategy, park_quotas, float(min_parcel_mu),
                              float(cfg["resolution_mu"]), _limits(cfg))
    area = _num(out, "area_mu").fillna(0.0).to_numpy()
    out["selected"] = mask
    out["cumulative_mu"] = np.where(mask, np.cumsum(np.where(mask, area, 0.0)), np.nan)
    kinds = _obj(out, "kind")
    by_kind = {k: float(area[mask & (kinds == k)].sum()) for k in KINDS}
    report = {
        "strategy": strategy,
        "target_mu": rep["target"],
        "selected_mu": rep["selected"],
        "parcels": rep["count"],
        "reachable": rep["reachable"],
        "shortfall_mu": rep["shortfall"],
        "overshoot_mu": rep["overshoot"],
        "eligible_mu": rep["eligible"],
        "operating_firms": int(cost[mask].sum()),
        "by_kind": by_kind,
        "exact": rep["exact"],
        "min_parcel_mu": float(min_parcel_mu),
    }
    if park_quotas:
        report["parks"] = {p: {"quota_mu": r["quota"], "selected_mu": r["selected"], "reachable": r["reachable"],
                               "shortfall_mu": r["shortfall"]} for p, r in rep["parks"].items()}
    return out, report


# --------------------------------------------------------------------------- idle factory floor
def select_floor(
    idle_buildings: pd.DataFrame,
    target_m2: float,
    strategy: str = "priority",
    *,
    park_quotas: Mapping[str, float] | None = None,
    min_floor_m2: float = 0.0,
    plan_cfg: Mapping[str, Any] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Rank idle factory floor and select it to ``target_m2`` m², like :func:`select`.

    Rank: ``floor_order`` of the plan (default larger floor_area_m2 first), ties by parcel_id then
    source_row. ``fewest-firms`` uses an ``operating_firms`` column when the frame has one (else every
    building costs 0, and the selection is largest first). ``min-overshoot`` is exact at
    ``floor_resolution_m2``. Returns the ranked frame with rank, selected, cumulative_m2 and a report:
    strategy, target_m2, selected_m2, buildings, reachable, shortfall_m2, overshoot_m2, exact (and parks).
    """
    _check_strategy(strategy)
    cfg = plan_config(plan_cfg)
    b = idle_buildings.copy()
    keys, asc = [], []
    for col, direction in cfg["floor_order"]:
        if col in b:
            keys.append(col)
            asc.append(direction == "asc")
    keys += [c for c in ("parcel_id", "source_row") if c in b]
    asc += [True] * (len(keys) - len(asc))
    if keys:
        b = b.sort_values(keys, ascending=asc, kind="mergesort", na_position="last")
    b = b.reset_index(drop=True)
    b.insert(0, "rank", np.arange(1, len(b) + 1, dtype="int64"))
    cost = _num(b, "operating_firms", 0.0).fillna(0.0).clip(lower=0).round().astype("int64").to_numpy()
    mask, rep = _select_frame(b, "floor_area_m2", cost, target_m2, strategy, park_quotas, float(min_floor_m2),
                              float(cfg["floor_resolution_m2"]), _limits(cfg))
    floor = _num(b, "floor_area_m2").fillna(0.0).to_numpy()
    b["selected"] = mask
    b["cumulative_m2"] = np.where(mask, np.cumsum(np.where(mask, floor, 0.0)), np.nan)
    report = {
        "strategy": strategy,
        "target_m2": rep["target"],
        "selected_m2": rep["selected"],
        "buildings": rep["count"],
        "reachable": rep["reachable"],
        "shortfall_m2": rep["shortfall"],
        "overshoot_m2": rep["overshoot"],
        "eligible_m2": rep["eligible"],
        "exact": rep["exact"],
        "min_floor_m2": float(min_floor_m2),
    }
    if park_quotas:
        report["parks"] = {p: {"quota_m2": r["quota"], "selected_m2": r["selected"], "reachable": r["reachable"],
                               "shortfall_m2": r["shortfall"]} for p, r in rep["parks"].items()}
    return b, report


# --------------------------------------------------------------------------- targets
def _pct(current: float, previous: float) -> float:
    if not (np.isfinite(current) and np.isfinite(previous)) or previous == 0:
        return float("nan")
    return (current / previous - 1.0) * 100.0


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den and np.isfinite(den) and den != 0 else float("nan")


def _by_parcel(parcels: pd.DataFrame) -> pd.DataFrame:
    """One row per parcel_id: area, firm_count, figures (NaN only if missing on every row), park."""
    d = pd.DataFrame({
        "parcel_id": _obj(parcels, "parcel_id"),
        "park": _obj(parcels, "park"),
        "area_mu": _num(parcels, "area_mu").to_numpy(),
        "firm_count": _num(parcels, "firm_count", 0.0).fillna(0.0).to_numpy(),
    })
    for fig in TARGET_INDICATORS.values():
        d[fig] = _num(parcels, fig).to_numpy()
    d = d[d["parcel_id"].notna()]
    g = d.groupby("parcel_id", sort=True)
    agg = g[["area_mu", "firm_count"]].sum()
    for fig in TARGET_INDICATORS.values():
        agg[fig] = g[fig].sum(min_count=1)
    agg["park"] = g["park"].first()
    return agg


def _all_land(parcels: pd.DataFrame | None, fig: str, by: str | None = None):
    if parcels is None:
        return float("nan") if by is None else pd.Series(dtype=float)
    d = pd.DataFrame({"a": _num(parcels, "area_mu").fillna(0.0).to_numpy(),
                      "f": _num(parcels, fig).fillna(0.0).to_numpy()})
    if by is None:
        return _ratio(d["f"].sum(), d["a"].sum())
    s = _park_sums(*_park_codes(parcels), {"f": d["f"].to_numpy(), "a": d["a"].to_numpy()})
    return (s["f"] / s["a"].where(s["a"] != 0)).astype(float)


def targets(
    parcels_now: pd.DataFrame,
    parcels_prev: pd.DataFrame | None,
    *,
    goals: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """City and per-park 亩均产值 / 亩均税收, this year against last, against the goals.

    Returns ``{indicator: {previous, current, change_pct, goal_pct, met, parcels, all_land: {previous,
    current, change_pct}}, "parks": DataFrame}`` for indicator in output_per_mu, tax_per_mu; formulas in
    the module docstring. ``goals`` is the ``targets`` policy table (keys output_per_mu_pct,
    tax_per_mu_pct; other keys ignored). The park table has one row per park (current park of a
    parcel, else last year's) with ``<indicator>_{previous,current,change_pct,goal_pct,met}`` on the
    same basis and ``<indicator>_all_land_{previous,current,change_pct}``.
    """
    g = dict(DEFAULT_GOALS)
    g.update({k: float(v) for k, v in (goals or {}).items() if k in DEFAULT_GOALS})
    now = _by_parcel(parcels_now)
    prev = _by_parcel(parcels_prev) if parcels_prev is not None else None
    result: dict[str, Any] = {}
    park_cols: dict[str, pd.Series] = {}
    for ind, fig in TARGET_INDICATORS.items():
        goal = g[f"{ind}_pct"]
        if prev is not None:
            both = now.merge(prev, how="inner", left_index=True, right_index=True, suffixes=("_now", "_prev"))
            both = both[(both["firm_count_now"] > 0) & (both["firm_count_prev"] > 0)
                        & both[f"{fig}_now"].notna() & both[f"{fig}_prev"].notna()]
            cur = _ratio(both[f"{fig}_now"].sum(), both["area_mu_now"].sum())
            pre = _ratio(both[f"{fig}_prev"].sum(), both["area_mu_prev"].sum())
            n_basis = len(both)
            park = both["park_now"].where(both["park_now"].notna(), both["park_prev"])
            s = both.assign(_park=park).groupby("_park", sort=True)[
                [f"{fig}_now", "area_mu_now", f"{fig}_prev", "area_mu_prev"]].sum()
            p_cur = s[f"{fig}_now"] / s["area_mu_now"].where(s["area_mu_now"] != 0)
            p_pre = s[f"{fig}_prev"] / s["area_mu_prev"].where(s["area_mu_prev"] != 0)
        else:
            both = now[(now["firm_count"] > 0) & now[fig].notna()]
            cur, pre, n_basis = _ratio(both[fig].sum(), both["area_mu"].sum()), float("nan"), 0
            s = both.groupby("park", sort=True)[[fig, "area_mu"]].sum()
            p_cur = s[fig] / s["area_mu"].where(s["area_mu"] != 0)
            p_pre = pd.Series(np.nan, index=p_cur.index)
        chg = _pct(cur, pre)
        al_cur, al_pre = _all_land(parcels_now, fig), _all_land(parcels_prev, fig)
        result[ind] = {
            "previous": pre, "current": cur, "change_pct": chg, "goal_pct": goal,
            "met": bool(np.isfinite(chg) and chg >= goal - _TOL), "parcels": int(n_basis),
            "all_land": {"previous": al_pre, "current": al_cur, "change_pct": _pct(al_cur, al_pre)},
        }
        p_chg = (p_cur / p_pre.where(p_pre != 0) - 1.0) * 100.0
        park_cols[f"{ind}_previous"] = p_pre
        park_cols[f"{ind}_current"] = p_cur
        park_cols[f"{ind}_change_pct"] = p_chg
        park_cols[f"{ind}_goal_pct"] = pd.Series(goal, index=p_cur.index)
        park_cols[f"{ind}_met"] = p_chg >= goal - _TOL
        a_cur, a_pre = _all_land(parcels_now, fig, "park"), _all_land(parcels_prev, fig, "park")
        park_cols[f"{ind}_all_land_previous"] = a_pre
        park_cols[f"{ind}_all_land_current"] = a_cur
        park_cols[f"{ind}_all_land_change_pct"] = (a_cur / a_pre.where(a_pre != 0) - 1.0) * 100.0
    parks = pd.DataFrame(park_cols)
    parks = parks.loc[sorted(parks.index, key=str)] if len(parks) else parks
    for ind in TARGET_INDICATORS:
        parks[f"{ind}_goal_pct"] = g[f"{ind}_pct"]
        parks[f"{ind}_met"] = parks[f"{ind}_met"].astype("boolean").fillna(False).astype(bool)
    parks.index.name = "park"
    result["parks"] = parks.reset_index()
    return result


# --------------------------------------------------------------------------- scenario
def _selected_rows(selection: pd.DataFrame | Iterable[int]) -> np.ndarray:
    if isinstance(selection, pd.DataFrame):
        sel = selection[selection["selected"].astype(bool)] if "selected" in selection else selection
        return sel["source_row"].astype("int64").to_numpy()
    return np.asarray(list(selection), dtype="int64")


def scenario(
    parcels: pd.DataFrame,
    selection: pd.DataFrame | Iterable[int],
    *,
    basis: str = "park_average",
) -> dict[str, Any]:
    """Per-mu output and tax the city would reach if the selected land were re-let at ``basis`` rates.

    ``selection``: the frame returned by :func:`select` (its ``selected`` rows) or parcel source_rows.
    Formula (all land, missing figures 0)::

        scenario_per_mu = (Σ_all figure − Σ_sel figure + Σ_sel area_i × r_i) / Σ_all area

    r_i = ``park_average``: Σ figure / Σ area over parcels of parcel i's park with firm_count > 0 not
    selected (the same over the whole city where the park has none); ``a_grade_average``: Σ figure /
    Σ area over the parcels graded A (city-wide). Returns {basis, selected_mu, parcels, rates:
    {park: {output_per_mu, tax_per_mu}} (park_average) or {output_per_mu, tax_per_mu} (A),
    <indicator>: {current, scenario, change_pct, added_wan}}.
    """
    if basis not in BASES:
        raise PolicyError(f"未知的情景基准「{basis}」", f"unknown scenario basis {basis!r}", column="basis",
                          hint_zh=f"可选：{', '.join(BASES)}", hint_en=f"choose one of: {', '.join(BASES)}")
    rows = _selected_rows(selection)
    sel = parcels["source_row"].astype("int64").isin(rows).to_numpy()
    area = _num(parcels, "area_mu").fillna(0.0).to_numpy()
    firms = _num(parcels, "firm_count", 0.0).fillna(0.0).to_numpy()
    pcodes, parks = _park_codes(parcels)
    total_area = float(area.sum())
    out: dict[str, Any] = {"basis": basis, "selected_mu": float(area[sel].sum()), "parcels": int(sel.sum())}
    rates: dict[str, Any] = {}
    for ind, fig in TARGET_INDICATORS.items():
        f = _num(parcels, fig).fillna(0.0).to_numpy()
        if basis == "park_average":
            ref = (firms > 0) & ~sel
            s = _park_sums(np.where(ref, pcodes, -1), parks, {"f": f, "a": area})
            park_rate = (s["f"] / s["a"].where(s["a"] != 0)).dropna()
            city_rate = _ratio(f[ref].sum(), area[ref].sum())
            by_code = np.full(len(parks) + 1, np.nan)  # each parcel's park rate (the last: no park)
            by_code[pd.Index(parks, dtype=object).get_indexer(park_rate.index)] = park_rate.to_numpy(float)
            r = pd.Series(by_code[pcodes], dtype=float).fillna(city_rate).to_numpy()
            for p_name, v in park_rate.items():
                rates.setdefault(str(p_name), {})[ind] = float(v)
        else:
            grade = _obj(parcels, "grade")
            ref = grade == "A"
            rate = _ratio(f[ref].sum(), area[ref].sum())
            r = np.full(len(parcels), rate)
            rates[ind] = rate
        current = _ratio(f.sum(), total_area)
        gain = np.where(np.isnan(r), 0.0, area * r - f)  # no rate anywhere: the parcel keeps its figures
        added = float(gain[sel].sum())
        new = _ratio(f.sum() + added, total_area)
        out[ind] = {"current": current, "scenario": new, "change_pct": _pct(new, current), "added_wan": added}
    out["rates"] = rates
    return out


# --------------------------------------------------------------------------- summary.json block
def _json_safe(value: Any) -> Any:
    """NaN/inf → None, numpy scalars → Python, DataFrames → list of records, recursively."""
    if isinstance(value, pd.DataFrame):
        return [_json_safe(r) for r in value.to_dict(orient="records")]
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        return v if math.isfinite(v) else None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def summary_block(
    cleanup: Mapping[str, Any] | None = None,
    idle_floor: Mapping[str, Any] | None = None,
    target_figures: Mapping[str, Any] | None = None,
    scenarios: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The plan's part of summary.json, JSON-ready (NaN → null).

    ``cleanup``: report of :func:`select`; ``idle_floor``: report of :func:`select_floor`;
    ``target_figures``: result of :func:`targets`; ``scenarios``: {basis: result of :func:`scenario`}.
    Keys: cleanup.{target_mu, selected_mu, parcels, reachable, shortfall_mu, by_kind, strategy,
    overshoot_mu, operating_firms, exact}; idle_floor.{target_m2, selected_m2, buildings, reachable,
    shortfall_m2}; targets.<indicator>.{previous, current, change_pct, goal_pct, met, all_land.{previous,
    current, change_pct}} and targets.parks (records); scenario.<basis>.{selected_mu, <indicator>.{current,
    scenario, change_pct, added_wan}}. A part not given is left out.
    """
    out: dict[str, Any] = {}
    if cleanup is not None:
        keys = ["target_mu", "selected_mu", "parcels", "reachable", "shortfall_mu", "by_kind", "strategy",
                "overshoot_mu", "operating_firms", "exact", "parks"]
        out["cleanup"] = {k: cleanup[k] for k in keys if k in cleanup}
    if idle_floor is not None:
        keys = ["target_m2", "selected_m2", "buildings", "reachable", "shortfall_m2", "strategy", "parks"]
        out["idle_floor"] = {k: idle_floor[k] for k in keys if k in idle_floor}
    if target_figures is not None:
        out["targets"] = {k: v for k, v in target_figures.items()}
    if scenarios is not None:
        out["scenario"] = {b: {k: v for k, v in s.items() if k != "rates"} for b, s in scenarios.items()}
    return _json_safe(out)
