"""Tests of parkland.plan: candidates and their priority, the three selection strategies, idle floor,
targets on the same basis and on all land, re-letting scenarios, the summary block."""

from __future__ import annotations

import itertools
import json
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from parkland import plan
from parkland.errors import PolicyError

REL = 1e-9


# --------------------------------------------------------------------------- hand-made frames
def _parcels() -> gpd.GeoDataFrame:
    """Nine parcels, eight flagged; expected ranks worked out in test_candidates_rank_and_score."""
    rows = [
        # source_row, parcel_id, park, area, idle, vacant, stopped, low, reasons, idle_years, reclaim, tax/mu, grade
        (1, "Z1", "X", 12.0, True, False, False, False, "IDLE_NOT_STARTED;IDLE_RECLAIM", 2.5, True, np.nan, None),
        (2, "Z2", "X", 30.0, True, False, False, False, "IDLE_NOT_STARTED", 1.2, False, np.nan, None),
        (3, "Z3", "Y", 8.0, False, True, False, False, "VACANT", np.nan, False, np.nan, None),
        (4, "Z0", "Y", 8.0, False, True, False, False, "VACANT_RASTER", np.nan, False, np.nan, None),
        (5, "Z4", "Y", 20.0, False, False, True, True, "STOPPED;LOW_TAX", np.nan, False, 0.0, None),
        (6, "Z5", "X", 10.0, False, False, False, True, "LOW_TAX", np.nan, False, 2.0, "D"),
        (7, "Z6", "X", 50.0, False, False, False, True, "LOW_TAX;LOW_FAR", np.nan, False, 6.0, "C"),
        (8, "Z7", "Y", 5.0, False, False, False, True, "GRADE_D", np.nan, False, 10.0, "D"),
        (9, "Z8", "Y", 40.0, False, False, False, False, "", np.nan, False, 20.0, "A"),
    ]
    cols = ["source_row", "parcel_id", "park", "area_mu", "idle", "vacant", "stopped", "low_efficiency",
            "flag_reasons", "idle_years", "reclaim_warning", "tax_per_mu", "grade"]
    df = pd.DataFrame(rows, columns=cols)
    df["county"] = "511321"
    df["output_per_mu"] = np.nan
    geoms = [box(35_500_000 + 100 * i, 3_400_000, 35_500_000 + 100 * i + 80, 3_400_080) for i in range(len(df))]
    return gpd.GeoDataFrame(df, geometry=geoms, crs="EPSG:4523")


def _firms() -> tuple[pd.DataFrame, pd.DataFrame]:
    firms = pd.DataFrame({
        "source_row": [1, 2, 3],
        "uscc": ["A1", "A2", "A3"],
        "name": ["甲公司", "乙公司", "丙公司"],
        "status": ["graded", "graded", "graded"],
        "grade": [None, "C", "D"],
        "parcel_ids": ["Z4", "Z4", "Z5"],
        "revenue_wan": [0.0, 500.0, 80.0],
        "tax_wan": [0.0, 10.0, 20.0],
        "output_wan": [np.nan, 600.0, 90.0],
    })
    pairs = pd.DataFrame({"firm_row": [2, 1, 3, 3], "parcel_row": [5, 5, 6, 6], "share": [0.5, 0.5, 1.0, 1.0],
                          "land_mu": [10.0, 10.0, 10.0, 10.0], "weight": [1.0, 1.0, 1.0, 1.0]})
    return firms, pairs


def _cands() -> pd.DataFrame:
    """Five ranked candidates where the three strategies differ (target 10 亩)."""
    return pd.DataFrame({
        "rank": [1, 2, 3, 4, 5],
        "source_row": [11, 12, 13, 14, 15],
        "parcel_id": ["P1", "P2", "P3", "P4", "P5"],
        "park": ["X", "X", "Y", "Y", "X"],
        "area_mu": [6.0, 5.0, 4.0, 3.0, 4.5],
        "operating_firms": [2, 1, 0, 0, 3],
        "kind": ["idle", "vacant", "stopped", "low_efficiency", "low_efficiency"],
    })


def _ids(frame: pd.DataFrame) -> list[str]:
    return list(frame.loc[frame["selected"], "parcel_id"])


# --------------------------------------------------------------------------- candidates
def test_candidates_rank_and_score():
    firms, pairs = _firms()
    c = plan.candidates(_parcels(), firms, pairs)
    assert isinstance(c, gpd.GeoDataFrame) and c.crs.to_epsg() == 4523
    assert list(c["parcel_id"]) == ["Z1", "Z2", "Z0", "Z3", "Z4", "Z5", "Z6", "Z7"]  # Z8 not flagged
    assert list(c["rank"]) == list(range(1, 9))
    assert list(c["kind"]) == ["idle", "idle", "vacant", "vacant", "stopped", "low_efficiency",
                               "low_efficiency", "low_efficiency"]
    assert list(c["tier"]) == ["idle_reclaim", "idle", "vacant", "vacant", "stopped", "low_efficiency",
                               "low_efficiency", "grade_d"]
    # 1000 × (6 − tier) + 500 × idle_years/10 + 300 × shortfall + 100 × area/100
    expected = [6000 + 125 + 12, 5000 + 60 + 30, 4000 + 8, 4000 + 8, 3000 + 300 + 20,
                2000 + 300 * 0.75 + 10, 2000 + 300 * 0.25 + 50, 1000 + 5]
    np.testing.assert_allclose(c["priority_score"], expected, rtol=REL)
    np.testing.assert_allclose(c["shortfall_ratio"], [0, 0, 0, 0, 1.0, 0.75, 0.25, 0.0], rtol=REL)
    z4 = c.set_index("parcel_id").loc["Z4"]
    assert z4["firms"] == "甲公司、乙公司"  # firm source_row order, pairs given out of order
    assert z4["firm_count"] == 2 and z4["operating_firms"] == 1  # 甲 has zero revenue and tax: stopped
    assert z4["grade"] == "C"  # parcel grade missing → worst firm grade
    z5 = c.set_index("parcel_id").loc["Z5"]
    assert (z5["firms"], z5["firm_count"], z5["operating_firms"], z5["grade"]) == ("丙公司", 1, 1, "D")
    assert c.set_index("parcel_id").loc["Z1", "reasons"] == "IDLE_NOT_STARTED;IDLE_RECLAIM"
    assert list(c["source_row"]) == [1, 2, 4, 3, 5, 6, 7, 8]
    assert c.geometry.iloc[0].equals(_parcels().geometry.iloc[0])


def test_operating_firms_rules():
    firms, pairs = _firms()
    firms.loc[0, ["revenue_wan", "tax_wan"]] = np.nan  # 甲: no figures at all → counted as operating
    c = plan.candidates(_parcels(), firms, pairs).set_index("parcel_id")
    assert c.loc["Z4", "operating_firms"] == 2
    firms["stopped"] = [False, True, False]  # an explicit column wins over the figures
    c = plan.candidates(_parcels(), firms, pairs).set_index("parcel_id")
    assert (c.loc["Z4", "operating_firms"], c.loc["Z5", "operating_firms"]) == (1, 1)
    c = plan.candidates(_parcels().assign(firm_count=[0, 0, 0, 0, 3, 1, 0, 0, 2])).set_index("parcel_id")
    assert (c.loc["Z4", "firm_count"], c.loc["Z4", "operating_firms"], c.loc["Z4", "firms"]) == (3, 3, "")


def test_candidates_ties_deterministic():
    """Equal scores: parcel_id ascending, then source_row; input order does not matter."""
    df = pd.DataFrame({
        "source_row": [5, 2, 9, 1],
        "parcel_id": ["B", "A", "A", "C"],
        "park": "X",
        "area_mu": 7.0,
        "vacant": True,
        "flag_reasons": "VACANT",
    })
    c1 = plan.candidates(df)
    c2 = plan.candidates(df.iloc[::-1].reset_index(drop=True))
    assert list(zip(c1["parcel_id"], c1["source_row"])) == [("A", 2), ("A", 9), ("B", 5), ("C", 1)]
    pd.testing.assert_frame_equal(c1, c2)
    assert isinstance(c1, pd.DataFrame) and not isinstance(c1, gpd.GeoDataFrame)
    assert list(c1["firm_count"]) == [0, 0, 0, 0]


def test_candidates_flags_from_reasons_and_configurable_order():
    df = _parcels().drop(columns=["idle", "vacant", "stopped", "low_efficiency"])
    c = plan.candidates(df)  # flags derived from flag_reasons
    assert list(c["parcel_id"]) == ["Z1", "Z2", "Z0", "Z3", "Z4", "Z5", "Z6", "Z7"]
    cfg = {"tier_order": ["low_efficiency", "grade_d", "stopped", "vacant", "idle", "idle_reclaim"],
           "weights": {"area": 0.0}}
    c = plan.candidates(_parcels(), plan_cfg=cfg)
    # Z4 (stopped + LOW_TAX) now qualifies for low_efficiency first; shortfall orders that tier
    # idle now comes before idle_reclaim, so Z1 lands in the idle tier with Z2 (more idle years first)
    assert list(c["parcel_id"]) == ["Z4", "Z5", "Z6", "Z7", "Z0", "Z3", "Z1", "Z2"]
    assert c.set_index("parcel_id").loc["Z4", "kind"] == "low_efficiency"
    assert list(c["tier"][-2:]) == ["idle", "idle"]
    np.testing.assert_allclose(c["priority_score"], [6000 + 300, 6000 + 225, 6000 + 75, 5000, 3000, 3000,
                                                     2000 + 125, 2000 + 60], rtol=REL)
    with pytest.raises(PolicyError):
        plan.candidates(_parcels(), plan_cfg={"tier_order": ["idle", "nonsense"]})
    with pytest.raises(PolicyError):
        plan.candidates(_parcels(), plan_cfg={"priority_weights": {}})


def test_candidates_short_tier_order_and_empty():
    c = plan.candidates(_parcels(), plan_cfg={"tier_order": ["vacant"], "weights": {"shortfall": 0.0}})
    assert list(c["parcel_id"][:2]) == ["Z0", "Z3"] and list(c["tier"][:2]) == ["vacant", "vacant"]
    rest = c.iloc[2:].set_index("parcel_id")
    assert (rest["tier"] == "unlisted").all()
    # unlisted: score = within-tier part only (idle years + area), kind from the parcel's own flags
    assert list(rest.index) == ["Z1", "Z2", "Z6", "Z4", "Z5", "Z7"]
    assert rest.loc["Z1", "priority_score"] == pytest.approx(125 + 12, rel=REL)
    assert rest.loc["Z4", "kind"] == "stopped" and rest.loc["Z7", "kind"] == "low_efficiency"
    none = _parcels().assign(idle=False, vacant=False, stopped=False, low_efficiency=False)
    c = plan.candidates(none, *_firms())
    assert len(c) == 0 and {"rank", "priority_score", "operating_firms"} <= set(c.columns)
    out, rep = plan.select(c, 10.0)
    assert len(out) == 0 and not rep["reachable"] and rep["shortfall_mu"] == 10.0


def test_candidates_idle_years_reach_reclaim_tier():
    df = _parcels()
    df.loc[df["parcel_id"] == "Z2", "idle_years"] = 2.0  # two-year rule without the warning flag
    c = plan.candidates(df)
    assert list(c["parcel_id"][:2]) == ["Z1", "Z2"] and list(c["tier"][:2]) == ["idle_reclaim"] * 2
    np.testing.assert_allclose(c["priority_score"][:2], [6000 + 125 + 12, 6000 + 100 + 30], rtol=REL)


# --------------------------------------------------------------------------- selection
def test_strategies_differ_on_hand_case():
    c = _cands()
    out, rep = plan.select(c, 10.0, strategy="priority")
    assert _ids(out) == ["P1", "P2"]
    assert rep["selected_mu"] == 11.0 and rep["operating_firms"] == 3 and rep["overshoot_mu"] == 1.0
    np.testing.assert_allclose(out["cumulative_mu"][:2], [6.0, 11.0])
    assert out["cumulative_mu"][2:].isna().all()
    assert rep["by_kind"] == {"idle": 6.0, "vacant": 5.0, "stopped": 0.0, "low_efficiency": 0.0}

    out, rep = plan.select(c, 10.0, strategy="fewest-firms")
    # zero-firm P3 + P4 give 7; the rest (3) costs at least one firm: P2 (5 亩, 1 firm)
    assert _ids(out) == ["P2", "P3", "P4"]
    assert rep["selected_mu"] == 12.0 and rep["operating_firms"] == 1 and rep["exact"]
    np.testing.assert_allclose(out["cumulative_mu"][out["selected"]], [5.0, 9.0, 12.0])
    assert rep["by_kind"] == {"idle": 0.0, "vacant": 5.0, "stopped": 4.0, "low_efficiency": 3.0}

    out, rep = plan.select(c, 10.0, strategy="min-overshoot")
    assert _ids(out) == ["P1", "P3"]  # 6 + 4 = 10 exactly
    assert rep["selected_mu"] == 10.0 and rep["overshoot_mu"] == 0.0 and rep["operating_firms"] == 2

    out, rep = plan.select(c, 10.2, strategy="min-overshoot")
    assert _ids(out) == ["P1", "P5"] and rep["selected_mu"] == pytest.approx(10.5, rel=REL)
    # brute force over the 32 subsets agrees on the least sum ≥ 10.2
    sums = [sum(s) for k in range(6) for s in itertools.combinations(c["area_mu"], k) if sum(s) >= 10.2]
    assert min(sums) == pytest.approx(10.5, rel=REL)

    for strategy in plan.STRATEGIES:
        out, rep = plan.select(c, 10.0, strategy=strategy)
        assert rep["reachable"] and rep["shortfall_mu"] == 0.0 and rep["target_mu"] == 10.0
        assert list(out["rank"]) == [1, 2, 3, 4, 5]


def test_fewest_firms_only_zero_firm_parcels_largest_first():
    out, rep = plan.select(_cands(), 4.5, strategy="fewest-firms")
    assert _ids(out) == ["P3", "P4"] and rep["operating_firms"] == 0 and rep["selected_mu"] == 7.0
    out, rep = plan.select(_cands(), 4.0, strategy="fewest-firms")
    assert _ids(out) == ["P3"] and rep["selected_mu"] == 4.0


def test_unreachable_target_selects_all_and_reports_shortfall():
    for strategy in plan.STRATEGIES:
        out, rep = plan.select(_cands(), 30.0, strategy=strategy)
        assert out["selected"].all()
        assert not rep["reachable"]
        assert rep["selected_mu"] == 22.5
        assert rep["shortfall_mu"] == pytest.approx(7.5, rel=REL)
        np.testing.assert_allclose(out["cumulative_mu"], [6.0, 11.0, 15.0, 18.0, 22.5])


def test_zero_target_selects_nothing():
    out, rep = plan.select(_cands(), 0.0)
    assert not out["selected"].any() and rep["reachable"] and rep["selected_mu"] == 0.0


def test_minimum_parcel_size():
    out, rep = plan.select(_cands(), 10.0, strategy="fewest-firms", min_parcel_mu=4.5)
    # P3 (4) and P4 (3) are too small; of P1, P2, P5 the cheapest cover of 10 is P1 + P2 (3 firms)
    assert _ids(out) == ["P1", "P2"] and rep["operating_firms"] == 3
    out, rep = plan.select(_cands(), 12.0, strategy="priority", min_parcel_mu=4.5)
    assert _ids(out) == ["P1", "P2", "P5"] and rep["selected_mu"] == 15.5
    out, rep = plan.select(_cands(), 20.0, strategy="min-overshoot", min_parcel_mu=4.5)
    assert not rep["reachable"] and rep["shortfall_mu"] == pytest.approx(4.5, rel=REL)
    assert rep["eligible_mu"] == 15.5 and _ids(out) == ["P1", "P2", "P5"]


def test_park_quotas():
    c = _cands()
    out, rep = plan.select(c, 12.0, strategy="priority", park_quotas={"Y": 5.0, "X": 4.0})
    # X (name order first): P1 reaches 4; Y: P3 (4) then P4 (3) → 7; city rest 12 − 13 < 0
    assert _ids(out) == ["P1", "P3", "P4"] and rep["selected_mu"] == 13.0
    assert rep["parks"] == {"X": {"quota_mu": 4.0, "selected_mu": 6.0, "reachable": True, "shortfall_mu": 0.0},
                            "Y": {"quota_mu": 5.0, "selected_mu": 7.0, "reachable": True, "shortfall_mu": 0.0}}
    out, rep = plan.select(c, 16.0, strategy="min-overshoot", park_quotas={"Y": 8.0, "X": 4.5})
    # X: 4.5 exactly (P5); Y: 7 < 8 unreachable; rest 16 − 11.5 = 4.5 from P1, P2 → P2 (5)
    assert _ids(out) == ["P2", "P3", "P4", "P5"]
    assert rep["selected_mu"] == 16.5 and not rep["reachable"]
    assert rep["parks"]["Y"] == {"quota_mu": 8.0, "selected_mu": 7.0, "reachable": False, "shortfall_mu": 1.0}
    out, rep = plan.select(c, None, park_quotas={"Y": 3.0})
    assert rep["target_mu"] == 3.0 and _ids(out) == ["P3"]


def test_selection_ties_deterministic():
    c = pd.DataFrame({"rank": [1, 2, 3, 4], "source_row": [1, 2, 3, 4], "parcel_id": ["a", "b", "c", "d"],
                      "area_mu": [5.0, 5.0, 5.0, 5.0], "operating_firms": [1, 1, 0, 0], "kind": "vacant"})
    assert _ids(plan.select(c, 5.0, strategy="min-overshoot")[0]) == ["a"]
    assert _ids(plan.select(c, 5.0, strategy="fewest-firms")[0]) == ["c"]
    assert _ids(plan.select(c, 12.0, strategy="fewest-firms")[0]) == ["a", "c", "d"]
    assert _ids(plan.select(c.iloc[::-1], 10.0, strategy="priority")[0]) == ["a", "b"]


def test_fewest_firms_dp_beats_ratio_greedy():
    """Greedy by area per firm takes Q1 (6/1) then Q2 (10/2) = 3 firms; the DP finds Q2 alone = 2 firms."""
    c = pd.DataFrame({"rank": [1, 2, 3], "source_row": [1, 2, 3], "parcel_id": ["Q1", "Q2", "Q3"],
                      "area_mu": [6.0, 10.0, 3.0], "operating_firms": [1, 2, 1], "kind": "stopped"})
    out, rep = plan.select(c, 10.0, strategy="fewest-firms")
    assert _ids(out) == ["Q2"] and rep["operating_firms"] == 2 and rep["exact"]
    out, rep = plan.select(c, 10.0, strategy="fewest-firms", plan_cfg={"fewest_firms_max_cells": 1})
    assert _ids(out) == ["Q1", "Q2"] and rep["operating_firms"] == 3 and not rep["exact"]
    assert rep["operating_firms"] <= 2 + 2  # greedy bound: optimum + largest firm count of one parcel


def test_min_overshoot_checks_unrounded_areas():
    """P + Q rounds to exactly 10.00 亩 but is 9.999: skipped for P + R (10.002), the true optimum."""
    c = pd.DataFrame({"rank": [1, 2, 3], "source_row": [1, 2, 3], "parcel_id": ["P", "Q", "R"],
                      "area_mu": [4.996, 5.003, 5.006], "operating_firms": 0, "kind": "vacant"})
    out, rep = plan.select(c, 10.0, strategy="min-overshoot")
    assert _ids(out) == ["P", "R"] and rep["selected_mu"] == pytest.approx(10.002, rel=REL)
    assert rep["reachable"] and rep["overshoot_mu"] == pytest.approx(0.002, abs=1e-12)


def test_min_overshoot_greedy_fallback_bound():
    c = _cands()
    out, rep = plan.select(c, 10.2, strategy="min-overshoot", plan_cfg={"exact_max_cells": 1})
    # largest first while ≤ 10.2: 6, then 4 (10); smallest remaining ≥ 0.2: P4 (3) → 13
    assert not rep["exact"] and _ids(out) == ["P1", "P3", "P4"] and rep["selected_mu"] == 13.0
    assert rep["overshoot_mu"] < 3.0 + 1e-9


def test_min_overshoot_large_is_exact_and_fast():
    rng = np.random.default_rng(7)
    n = 3000
    area = rng.integers(25, 2500, n) * 0.02  # even hundredths only: 1000.01 cannot be hit, 1000.02 can
    c = pd.DataFrame({"rank": np.arange(1, n + 1), "source_row": np.arange(1, n + 1),
                      "parcel_id": [f"p{i:05d}" for i in range(n)], "area_mu": area,
                      "operating_firms": rng.integers(0, 4, n), "kind": "idle"})
    t0 = time.perf_counter()
    out, rep = plan.select(c, 1000.01, strategy="min-overshoot")
    elapsed = time.perf_counter() - t0
    assert rep["exact"] and rep["selected_mu"] == pytest.approx(1000.02, rel=REL)
    assert out.loc[out["selected"], "area_mu"].sum() == pytest.approx(1000.02, rel=REL)
    assert elapsed < 5.0  # measured ≈ 0.04 s; generous for slow CI machines


# --------------------------------------------------------------------------- idle floor
def _buildings() -> pd.DataFrame:
    return pd.DataFrame({"source_row": [1, 2, 3, 4], "parcel_id": ["D", "C", "B", "A"], "park": ["X", "X", "Y", "Y"],
                         "floor_area_m2": [1500.0, 800.0, 1200.0, 800.0], "use": "厂房", "state": "闲置"})


def test_select_floor():
    out, rep = plan.select_floor(_buildings(), 2000.0)
    assert list(out["source_row"]) == [1, 3, 4, 2]  # larger first; 800 tie by parcel_id A < C
    assert list(out["selected"]) == [True, True, False, False]
    assert rep == {"strategy": "priority", "target_m2": 2000.0, "selected_m2": 2700.0, "buildings": 2,
                   "reachable": True, "shortfall_m2": 0.0, "overshoot_m2": 700.0, "eligible_m2": 4300.0,
                   "exact": True, "min_floor_m2": 0.0}
    np.testing.assert_allclose(out["cumulative_m2"][:2], [1500.0, 2700.0])
    out, rep = plan.select_floor(_buildings(), 2000.0, strategy="min-overshoot")
    assert list(out.loc[out["selected"], "source_row"]) == [3, 4] and rep["selected_m2"] == 2000.0
    out, rep = plan.select_floor(_buildings(), 5000.0)
    assert out["selected"].all() and not rep["reachable"] and rep["shortfall_m2"] == 700.0
    out, rep = plan.select_floor(_buildings(), 1000.0, plan_cfg={"floor_order": [["floor_area_m2", "asc"]]})
    assert list(out["source_row"][:2]) == [4, 2] and list(out.loc[out["selected"], "source_row"]) == [4, 2]


# --------------------------------------------------------------------------- targets
def _years() -> tuple[pd.DataFrame, pd.DataFrame]:
    prev = pd.DataFrame({"source_row": [1, 2, 3], "parcel_id": ["A", "B", "C"], "park": ["X", "Y", "X"],
                         "area_mu": [10.0, 20.0, 5.0], "firm_count": [1, 2, 0],
                         "output_wan": [1000.0, 1500.0, np.nan], "tax_wan": [50.0, 60.0, np.nan]})
    now = pd.DataFrame({"source_row": [1, 2, 3], "parcel_id": ["A", "B", "C"], "park": ["X", "Y", "X"],
                        "area_mu": [10.0, 20.0, 5.0], "firm_count": [1, 1, 1],
                        "output_wan": [1200.0, 1800.0, 300.0], "tax_wan": [52.0, 66.0, 10.0]})
    return now, prev


def test_targets_same_basis_and_all_land():
    now, prev = _years()
    t = plan.targets(now, prev, goals={"output_per_mu_pct": 10, "tax_per_mu_pct": 5, "cleanup_mu": 1000})
    o, x = t["output_per_mu"], t["tax_per_mu"]
    # same basis: A and B (C had no firm last year)
    assert o["previous"] == pytest.approx(2500 / 30, rel=REL) and o["current"] == pytest.approx(100.0, rel=REL)
    assert o["change_pct"] == pytest.approx(20.0, rel=REL) and o["goal_pct"] == 10.0 and o["met"]
    assert o["parcels"] == 2
    assert x["previous"] == pytest.approx(110 / 30, rel=REL) and x["current"] == pytest.approx(118 / 30, rel=REL)
    assert x["change_pct"] == pytest.approx((118 / 110 - 1) * 100, rel=REL) and x["met"]
    # all land: 35 亩 both years
    assert o["all_land"]["previous"] == pytest.approx(2500 / 35, rel=REL)
    assert o["all_land"]["current"] == pytest.approx(3300 / 35, rel=REL)
    assert o["all_land"]["change_pct"] == pytest.approx(32.0, rel=REL)
    assert x["all_land"]["change_pct"] == pytest.approx((128 / 110 - 1) * 100, rel=REL)
    parks = t["parks"].set_index("park")
    assert list(parks.index) == ["X", "Y"]
    assert list(parks["output_per_mu_goal_pct"]) == [10.0, 10.0] and list(parks["tax_per_mu_goal_pct"]) == [5.0, 5.0]
    assert parks.loc["X", "output_per_mu_change_pct"] == pytest.approx(20.0, rel=REL)
    assert parks.loc["X", "tax_per_mu_change_pct"] == pytest.approx(4.0, rel=REL)
    assert not parks.loc["X", "tax_per_mu_met"] and parks.loc["Y", "tax_per_mu_met"]
    assert parks.loc["Y", "tax_per_mu_previous"] == pytest.approx(3.0, rel=REL)
    assert parks.loc["Y", "tax_per_mu_change_pct"] == pytest.approx(10.0, rel=REL)
    assert parks.loc["X", "output_per_mu_all_land_change_pct"] == pytest.approx(50.0, rel=REL)
    assert parks.loc["X", "tax_per_mu_all_land_change_pct"] == pytest.approx((62 / 50 - 1) * 100, rel=REL)


def test_targets_missing_figure_leaves_the_basis_and_default_goals():
    now, prev = _years()
    prev.loc[1, "output_wan"] = np.nan  # B's output unknown last year: B leaves the output basis only
    t = plan.targets(now, prev)
    assert t["output_per_mu"]["parcels"] == 1
    assert t["output_per_mu"]["change_pct"] == pytest.approx(20.0, rel=REL)  # A alone: 100 → 120
    assert t["tax_per_mu"]["parcels"] == 2
    assert (t["output_per_mu"]["goal_pct"], t["tax_per_mu"]["goal_pct"]) == (10.0, 5.0)
    t = plan.targets(now, prev, goals={"output_per_mu_pct": 25})
    assert not t["output_per_mu"]["met"]


def test_targets_without_previous_year():
    now, _ = _years()
    t = plan.targets(now, None)
    assert t["output_per_mu"]["current"] == pytest.approx(3300 / 35, rel=REL)
    assert np.isnan(t["output_per_mu"]["previous"]) and not t["output_per_mu"]["met"]


# --------------------------------------------------------------------------- scenario
def _scenario_parcels() -> pd.DataFrame:
    return pd.DataFrame({"source_row": [1, 2, 3, 4, 5], "parcel_id": ["S1", "S2", "S3", "S4", "S5"],
                         "park": ["X", "X", "Y", "Y", "Z"], "area_mu": [10.0, 10.0, 20.0, 5.0, 5.0],
                         "firm_count": [1, 1, 2, 0, 0], "grade": ["B", "D", "A", None, None],
                         "output_wan": [1000.0, 200.0, 3000.0, np.nan, np.nan],
                         "tax_wan": [40.0, 5.0, 100.0, np.nan, np.nan]})


def test_scenario_park_average_by_hand():
    p = _scenario_parcels()
    selection = pd.DataFrame({"source_row": [2, 4, 5, 1], "selected": [True, True, True, False]})
    s = plan.scenario(p, selection, basis="park_average")
    # rates: X from S1 (100, 4), Y from S3 (150, 5), Z none → city (4000/30, 140/30)
    added_out = 10 * 100 - 200 + 5 * 150 + 5 * 4000 / 30
    added_tax = 10 * 4 - 5 + 5 * 5 + 5 * 140 / 30
    assert s["selected_mu"] == 20.0 and s["parcels"] == 3
    assert s["output_per_mu"]["current"] == pytest.approx(4200 / 50, rel=REL)
    assert s["output_per_mu"]["added_wan"] == pytest.approx(added_out, rel=REL)
    assert s["output_per_mu"]["scenario"] == pytest.approx((4200 + added_out) / 50, rel=REL)
    assert s["output_per_mu"]["scenario"] == pytest.approx(6416.666666666667 / 50, rel=REL)
    assert s["tax_per_mu"]["scenario"] == pytest.approx((145 + added_tax) / 50, rel=REL)
    assert s["tax_per_mu"]["change_pct"] == pytest.approx(((145 + added_tax) / 145 - 1) * 100, rel=REL)
    assert s["rates"] == {"X": {"output_per_mu": 100.0, "tax_per_mu": 4.0},
                          "Y": {"output_per_mu": 150.0, "tax_per_mu": 5.0}}


def test_scenario_a_grade_by_hand():
    s = plan.scenario(_scenario_parcels(), [2, 4, 5], basis="a_grade_average")
    assert s["output_per_mu"]["scenario"] == pytest.approx((4200 + 20 * 150 - 200) / 50, rel=REL)  # 140
    assert s["tax_per_mu"]["scenario"] == pytest.approx((145 + 20 * 5 - 5) / 50, rel=REL)  # 4.8
    assert s["output_per_mu"]["change_pct"] == pytest.approx((140 / 84 - 1) * 100, rel=REL)
    with pytest.raises(PolicyError):
        plan.scenario(_scenario_parcels(), [2], basis="best_guess")


# --------------------------------------------------------------------------- summary block
def test_summary_block_end_to_end():
    firms, pairs = _firms()
    cands = plan.candidates(_parcels(), firms, pairs)
    sel, rep = plan.select(cands, 50.0)
    # rank order Z1 12, Z2 30, Z0 8 → 50 exactly
    assert _ids(sel) == ["Z1", "Z2", "Z0"] and rep["by_kind"]["idle"] == 42.0
    assert isinstance(sel, gpd.GeoDataFrame) and list(sel["rank"]) == list(range(1, 9))
    _, frep = plan.select_floor(_buildings(), 20000.0)
    now, prev = _years()
    block = plan.summary_block(rep, frep, plan.targets(now, prev),
                               {"park_average": plan.scenario(now, [3], basis="park_average")})
    json.dumps(block)  # JSON-ready
    assert block["cleanup"]["target_mu"] == 50.0 and block["cleanup"]["selected_mu"] == 50.0
    assert block["cleanup"]["parcels"] == 3 and block["cleanup"]["reachable"] is True
    assert block["cleanup"]["shortfall_mu"] == 0.0
    assert block["cleanup"]["by_kind"] == {"idle": 42.0, "vacant": 8.0, "stopped": 0.0, "low_efficiency": 0.0}
    assert block["idle_floor"] == {"target_m2": 20000.0, "selected_m2": 4300.0, "buildings": 4,
                                   "reachable": False, "shortfall_m2": 15700.0, "strategy": "priority"}
    assert block["targets"]["output_per_mu"]["change_pct"] == pytest.approx(20.0, rel=REL)
    assert block["targets"]["tax_per_mu"]["all_land"]["change_pct"] == pytest.approx(
        (128 / 110 - 1) * 100, rel=REL)
    assert block["targets"]["parks"][0]["park"] == "X"
    # C re-let at park X's other firm-bearing parcels' rate (A: 120 output/mu): 3300 − 300 + 600
    assert block["scenario"]["park_average"]["output_per_mu"]["scenario"] == pytest.approx(3600 / 35, rel=REL)
    block = plan.summary_block(target_figures=plan.targets(now, None))
    assert block["targets"]["output_per_mu"]["previous"] is None and set(block) == {"targets"}
