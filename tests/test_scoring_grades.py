"""Grading: the published formulas by hand, scope, exemptions, vetoes, shares with ties, tenants, tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parkland.scoring import (
    assign_grades,
    county_table,
    grade_firms,
    load_policy,
    loads_policy,
    parcel_grades,
    park_table,
)

R = 1e-9
ABOVE_INDS = ["tax_per_mu", "value_added_per_mu", "va_per_energy", "va_per_emission", "labour_productivity",
              "rd_intensity"]


def firms(n: int, **cols) -> pd.DataFrame:
    """A hand-made firm frame "after linking + indicators": n pending firms, columns overridable."""
    base = {
        "source_row": np.arange(1, n + 1), "file_row": np.arange(2, n + 2),
        "uscc": [f"U{i:02d}" for i in range(1, n + 1)], "name": [f"企业{i}" for i in range(1, n + 1)],
        "scale": ["above"] * n, "land_mu": [10.0] * n, "in_park": [True] * n, "park": ["P1"] * n,
        "status": ["not_graded"] * n, "status_reason": ["pending"] * n, "is_tenant": [False] * n,
        "landholder_uscc": [None] * n,
    }
    base.update(cols)
    return pd.DataFrame(base)


def one_indicator_policy(grading: str, extra: str = "") -> str:
    """score = 10 × tax_per_mu (weight 100, fixed benchmark 10)."""
    return f"""
schema = 1
[policy]
name = "test"
year = 2024
[tracks.all]
method = "ratio"
[tracks.all.indicators.tax_per_mu]
weight = 100
benchmark = 10
[grading]
{grading}
{extra}
"""


HUAIAN_SHARES = """method = "shares"
shares.A = { share = 0.20, round = "floor" }
shares.B = { share = 0.40, round = "floor" }
shares.D = { share = 0.05, round = "floor" }"""


def test_huangyan_above_and_below_by_hand():
    f = firms(2, scale=["above", "below"],
              tax_per_mu=[18.0, 6.0], value_added_per_mu=[95.0, np.nan], va_per_energy=[1.7, np.nan],
              va_per_emission=[3000.0, np.nan], labour_productivity=[12.0, np.nan],
              rd_intensity=[0.021, np.nan], tax_per_electricity=[np.nan, 0.15])
    out = grade_firms(f, "huangyan-2023").frame
    above = (18 / 24.097 * 30 + 95 / 136.16 * 20 + 1.7 / 2.694 * 20 + 3000 / 4929.81 * 10 + 12 / 18.14 * 10
             + 0.021 / 0.0302 * 10)
    below = 6 / 11.5932 * 50 + 0.15 / 0.2352 * 50
    assert out["score"].tolist() == pytest.approx([above, below], rel=R)
    assert out["track"].tolist() == ["above", "below"]
    assert out.loc[0, "part_tax_per_mu"] == pytest.approx(18 / 24.097 * 30, rel=R)
    assert out.loc[1, "part_tax_per_mu"] == pytest.approx(6 / 11.5932 * 50, rel=R)
    assert out.loc[1, "part_tax_per_electricity"] == pytest.approx(0.15 / 0.2352 * 50, rel=R)
    assert np.isnan(out.loc[0, "part_tax_per_electricity"]) and np.isnan(out.loc[1, "part_va_per_energy"])
    assert out.loc[0, "benchmark_va_per_emission"] == 4929.81
    assert out.loc[1, "benchmark_tax_per_mu"] == 11.5932
    assert out["status"].tolist() == ["graded", "graded"]
    assert out["rank"].tolist() == [1, 1]  # ranked within its own track


def test_huangyan_missing_emission_gets_track_average():
    em = [3000.0, np.nan, 6000.0]
    f = firms(3, tax_per_mu=[18.0, 20.0, 5.0], value_added_per_mu=[95.0, 90.0, 10.0],
              va_per_energy=[1.7, 2.0, 0.5], va_per_emission=em, labour_productivity=[12.0, 11.0, 4.0],
              rd_intensity=[0.021, 0.0, 0.0])
    res = grade_firms(f, "huangyan-2023")
    out = res.frame
    expect = (3000 / 4929.81 * 10 + 6000 / 4929.81 * 10) / 2
    assert out.loc[1, "part_va_per_emission"] == pytest.approx(expect, rel=R)
    parts = out[[f"part_{k}" for k in ABOVE_INDS]].sum(axis=1)
    assert (out["score"] - parts).abs().max() < 1e-12
    rec = res.recon[res.recon["problem_code"] == "MISSING_TRACK_AVERAGE"]
    assert rec["source_row"].tolist() == [2]
    # R&D 0 is a value (0 points), not a missing figure
    assert out.loc[1, "part_rd_intensity"] == 0.0


def test_parts_bonus_penalty_sum_to_score_and_cap():
    text = one_indicator_policy(
        'method = "cutoffs"\ncutoffs = { A = 90, B = 70, C = 50 }',
        """
[[bonus]]
name = "high_tech"
column = "高新技术企业"
values = ["是"]
points = 3
[[penalty]]
name = "arrears"
column = "欠税"
min = 1
points = 5
""").replace("benchmark = 10", "benchmark = 10\ncap = 120")
    f = firms(3, tax_per_mu=[8.0, 15.0, 6.5], 高新技术企业=["是", "否", "是"], 欠税=[0.0, 2.0, np.nan])
    out = grade_firms(f, loads_policy(text)).frame
    assert out["part_tax_per_mu"].tolist() == pytest.approx([80.0, 120.0, 65.0], rel=R)  # 150 capped at 120
    assert out["bonus"].tolist() == [3.0, 0.0, 3.0]
    assert out["penalty"].tolist() == [0.0, 5.0, 0.0]
    assert out["score"].tolist() == pytest.approx([83.0, 115.0, 68.0], rel=R)
    assert (out["part_tax_per_mu"] + out["bonus"] - out["penalty"] - out["score"]).abs().max() == 0.0
    assert out["grade"].tolist() == ["B", "A", "C"]


def test_veto_forces_d_and_is_listed():
    f = firms(4, tax_per_mu=[9.5, 9.2, 7.5, 5.5], 重大安全环保事故=["是", "否", None, "否"])
    res = grade_firms(f, loads_policy(one_indicator_policy(
        'method = "cutoffs"\ncutoffs = { A = 90, B = 70, C = 50 }',
        '[[vetoes]]\nname = "major_accident"\ncolumn = "重大安全环保事故"\nreason = "重大事故"')))
    out = res.frame
    assert out["grade"].tolist() == ["D", "A", "B", "C"]
    assert out["veto"].tolist()[:2] == ["major_accident", None]
    assert out.loc[0, "score"] == pytest.approx(95.0, rel=R)  # scored, then vetoed
    assert out.loc[0, "next_grade"] is None and np.isnan(out.loc[0, "gap_score"])
    v = res.recon[res.recon["problem_code"] == "VETO"]
    assert v["source_row"].tolist() == [1] and v["key"].tolist() == ["U01"]


def test_exemptions_industry_age_and_column():
    f = firms(5, tax_per_mu=[10.0, 20.0, 30.0, 40.0, 50.0],
              industry_code=["4420", "3311", "3311", "461", "2611"],
              established=pd.to_datetime(["2010-01-01", "2023-06-01", "2022-12-01", "2015-01-01", None]),
              year=[2024] * 5, 免评=["否", "否", "否", "否", "是"])
    text = one_indicator_policy('method = "cutoffs"\ncutoffs = { A = 400, B = 150, C = 50 }', """
[exempt]
industry_codes = ["44", "45", "46"]
max_age_years = 2
column = "免评"
values = ["是"]
""")
    res = grade_firms(f, loads_policy(text))
    out = res.frame
    assert out["status"].tolist() == ["exempt", "exempt", "graded", "exempt", "exempt"]
    assert out["grade"].tolist() == ["T", "T", "B", "T", "T"]
    assert out.loc[0, "status_reason"] == "exempt: industry code 4420"
    assert out.loc[1, "status_reason"] == "exempt: established 2023-06-01, under 2 years"
    assert out.loc[3, "status_reason"] == "exempt: industry code 461"
    assert out.loc[4, "status_reason"] == "exempt: 免评"
    assert np.isnan(out.loc[0, "score"]) and pd.isna(out.loc[0, "rank"])
    assert res.recon[res.recon["problem_code"] == "EXEMPT"]["source_row"].tolist() == [1, 2, 4, 5]


def test_sichuan_scope_leaves_other_statuses_untouched():
    f = firms(6, scale=["above", "below", "above", "above", "above", None],
              in_park=[True, True, False, True, True, True],
              status=["not_graded", "not_graded", "not_graded", "no_land", "not_graded", "not_graded"],
              status_reason=["pending", "pending", "pending", "", "duplicate of row 1", "pending"],
              revenue_per_mu=[400.0] * 6, tax_per_mu=[15.0] * 6)
    out = grade_firms(f, "sichuan-2022").frame
    assert out["status"].tolist() == ["graded", "not_graded", "not_graded", "no_land", "not_graded",
                                      "not_graded"]
    assert out["status_reason"].tolist()[1:] == [
        "out of scope: scale below (policy grades above only)", "out of scope: outside parks", "",
        "duplicate of row 1", "out of scope: scale unknown"]
    assert out["grade"].isna().tolist() == [False, True, True, True, True, True]


def test_land_threshold_and_no_figures():
    text = one_indicator_policy(HUAIAN_SHARES, "[scope]\nmin_land_mu = 3")
    f = firms(3, land_mu=[2.5, 3.0, 10.0], tax_per_mu=[5.0, 6.0, np.nan])
    res = grade_firms(f, loads_policy(text))
    out = res.frame
    assert out["status"].tolist() == ["not_graded", "graded", "not_graded"]
    assert out["status_reason"].tolist() == ["out of scope: land 2.5 mu under 3 mu", "",
                                             "no figures for track all"]
    assert res.recon[res.recon["problem_code"] == "NO_FIGURES"]["source_row"].tolist() == [3]


def test_rank_shares_with_ties_go_to_the_lower_grade():
    # n = 10: A ⌊2⌋, B ⌊4⌋, D ⌊0.5⌋ = 0, C the rest (4); the 2nd and 3rd tie across the A/B line → both B
    tax = [10.0, 9.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0]
    out = grade_firms(firms(10, tax_per_mu=tax), loads_policy(one_indicator_policy(HUAIAN_SHARES))).frame
    assert out["grade"].tolist() == ["A", "B", "B", "B", "B", "B", "C", "C", "C", "C"]
    assert out["rank"].tolist() == [1, 2, 2, 4, 5, 6, 7, 8, 9, 10]
    # without the tie: A 2, B 4, C 4
    tax[2] = 8.5
    out = grade_firms(firms(10, tax_per_mu=tax), loads_policy(one_indicator_policy(HUAIAN_SHARES))).frame
    assert out["grade"].tolist() == ["A", "A", "B", "B", "B", "B", "C", "C", "C", "C"]


@pytest.mark.parametrize(("n", "counts"), [(7, (2, 4, 1, 0)), (10, (3, 6, 1, 0)), (21, (6, 11, 3, 1)),
                                           (40, (12, 22, 4, 2))])
def test_sichuan_share_rule_exact_counts(n, counts):
    g = load_policy("sichuan-2022").grading
    rng = np.random.default_rng(n)
    score = rng.permutation(np.arange(n, dtype=float))
    gi = assign_grades(score, np.zeros(n, dtype=np.int64), g)
    assert tuple(np.bincount(gi, minlength=4)) == counts
    # the best firms get A, the worst D
    assert gi[np.argmax(score)] == 0
    assert gi[np.argmin(score)] == (3 if counts[3] else 2)
    # A ⌊0.30 n⌋ is at most 30 %, C ⌈0.10 n⌉ at least 10 %
    assert counts[0] <= 0.30 * n and counts[2] >= 0.10 * n


def test_sichuan_preset_end_to_end_on_21_firms():
    x = np.arange(1, 22, dtype=float)
    f = firms(21, revenue_per_mu=x * 20, tax_per_mu=x, revenue_per_employee=x * 7, revenue_per_energy=x / 4,
              rd_intensity=x / 1000, value_added_per_mu=x * 5, tax_per_electricity=x / 10)
    out = grade_firms(f, "sichuan-2022").frame
    # every indicator is proportional to x, benchmark = its mean (x̄ = 11): score = 100 × x / 11
    assert out["score"].tolist() == pytest.approx((100 * x / 11).tolist(), rel=R)
    assert out["benchmark_tax_per_mu"].iloc[0] == pytest.approx(11.0, rel=R)
    assert out["grade"].tolist() == ["D"] + ["C"] * 3 + ["B"] * 11 + ["A"] * 6


def test_sichuan_ties_a_b_go_to_b_and_c_d_go_to_c():
    g = load_policy("sichuan-2022").grading
    score = np.arange(40, 0, -1).astype(float)  # 40 … 1, best first
    score[11] = score[12] = 28.5  # positions 11 and 12 straddle the A/B line (12 A places)
    score[37] = score[38] = 2.5  # positions 37 and 38 straddle the C/D line (D = the last 2)
    gi = assign_grades(score, np.zeros(40, dtype=np.int64), g)
    assert gi[11] == gi[12] == 1  # → B
    assert gi[37] == gi[38] == 2  # → C
    assert tuple(np.bincount(gi, minlength=4)) == (11, 23, 5, 1)


def test_shares_are_per_track_and_group():
    g = load_policy("sichuan-2022").grading
    score = np.r_[np.arange(10, 0, -1), np.arange(10, 0, -1)].astype(float)
    gid = np.r_[np.zeros(10), np.ones(10)].astype(np.int64)
    gi = assign_grades(score, gid, g)
    assert np.bincount(gi[:10], minlength=4).tolist() == [3, 6, 1, 0]
    assert np.bincount(gi[10:], minlength=4).tolist() == [3, 6, 1, 0]


def test_cutoffs_with_max_and_min_share():
    grading = """method = "cutoffs"
cutoffs = { A = 90, B = 70, C = 50 }
max_share.A = { share = 0.30, round = "floor" }
min_share.C = { share = 0.10, round = "ceil" }"""
    p = loads_policy(one_indicator_policy(grading))
    s = np.array([99, 98, 97, 96, 80, 75, 72, 71, 70, 60], dtype=float)
    gi = assign_grades(s, np.zeros(10, dtype=np.int64), p.grading)
    assert gi.tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 1, 2]  # 4 reach A, capped at ⌊3⌋
    s = np.array([99, 95, 92, 92, 80, 79, 78, 77, 75, 75], dtype=float)
    gi = assign_grades(s, np.zeros(10, dtype=np.int64), p.grading)
    # A: 92/92 tie at the cap → both down; C empty → the lowest B (a tie of two) moves to C
    assert gi.tolist() == [0, 0, 1, 1, 1, 1, 1, 1, 2, 2]


def test_tenants_inherit_the_landholders_grade():
    text = one_indicator_policy('method = "cutoffs"\ncutoffs = { A = 90, B = 70, C = 50 }',
                                '[tenants]\nmode = "inherit"')
    f = firms(4, tax_per_mu=[12.0, 1.0, 6.0, 2.0], is_tenant=[False, True, False, True],
              landholder_uscc=[None, "U01", None, "U99"])
    res = grade_firms(f, loads_policy(text))
    out = res.frame
    assert out["grade"].tolist() == ["A", "A", "C", "D"]
    assert out["status"].tolist() == ["graded"] * 4
    assert out.loc[1, "status_reason"] == "inherits grade of landholder U01"
    assert np.isnan(out.loc[1, "score"])
    assert out.loc[3, "score"] == pytest.approx(20.0, rel=R)  # landholder U99 absent: graded on its own
    codes = res.recon["problem_code"].tolist()
    assert "TENANT_INHERITS" in codes and "TENANT_LANDHOLDER_MISSING" in codes


def test_tenants_merged_into_the_landholder():
    text = one_indicator_policy('method = "cutoffs"\ncutoffs = { A = 90, B = 70, C = 50 }',
                                '[tenants]\nmode = "merge"')
    f = firms(2, tax_wan=[10.0, 20.0], land_mu=[10.0, 5.0], tax_per_mu=[1.0, 4.0],
              is_tenant=[False, True], landholder_uscc=[None, "U01"])
    out = grade_firms(f, loads_policy(text)).frame
    assert out.loc[0, "score"] == pytest.approx(10 * 30 / 15, rel=R)  # (10 + 20) 万元 / (10 + 5) 亩
    assert out.loc[1, "status"] == "not_graded"
    assert out.loc[1, "status_reason"] == "merged into landholder U01"
    assert out.loc[0, "tax_per_mu"] == 1.0  # the firm's own figures are kept


def test_consequences_in_money():
    f = firms(20, tax_per_mu=np.linspace(1, 20, 20), value_added_per_mu=[50.0] * 20,
              va_per_energy=[1.0] * 20, va_per_emission=[1000.0] * 20, labour_productivity=[10.0] * 20,
              rd_intensity=[0.01] * 20, electricity_10k_kwh=np.full(20, 12.5))
    out = grade_firms(f, "huangyan-2023").frame
    # 20 firms: A ⌊5⌋, B ⌊9⌋, D ⌊1⌋, C 5; the lowest tax is D: 0.10 元/kWh × 12.5 万kWh × 10000
    assert out["grade"].value_counts().to_dict() == {"B": 9, "A": 5, "C": 5, "D": 1}
    assert out.loc[0, "grade"] == "D"
    assert out.loc[0, "consequence_electricity_surcharge"] == pytest.approx(0.10 * 12.5 * 10000, rel=R)
    c = out[out["grade"] == "C"]["consequence_electricity_surcharge"]
    assert c.tolist() == pytest.approx([0.05 * 12.5 * 10000] * 5, rel=R)
    assert out[out["grade"] == "A"]["consequence_land_tax_relief_pct"].eq(100.0).all()


def test_parcel_grades_landholder_then_largest_share():
    f = pd.DataFrame({"source_row": [1, 2, 3, 4], "grade": ["A", "C", "B", None]})
    parcels = pd.DataFrame({"source_row": [10, 11, 12, 13], "holder_firm_row": [1, np.nan, np.nan, 4]})
    pairs = pd.DataFrame({"firm_row": [1, 2, 3, 2, 3, 4], "parcel_row": [10, 11, 11, 12, 12, 13],
                          "share": [1.0, 0.5, 0.5, 0.7, 0.3, 1.0]})
    got = parcel_grades(parcels, pairs, f, "sichuan-2022")
    # 10: its landholder A; 11: equal shares of C and B → the lower, C; 12: the larger share, C;
    # 13: its landholder has no grade and nobody else is linked → None
    assert got.tolist() == ["A", "C", "C", None]


def test_park_and_county_tables_sum_over_sum():
    f = pd.DataFrame({
        "park": ["P1", "P1", "P2", None], "county": ["511302"] * 4, "land_mu": [10.0, 30.0, 20.0, 5.0],
        "tax_wan": [100.0, 20.0, np.nan, 1.0], "revenue_wan": [1000.0, 500.0, 400.0, 10.0],
        "output_wan": [np.nan] * 4, "value_added_wan": [300.0, 100.0, 100.0, 1.0],
        "status": ["graded", "graded", "exempt", "graded"], "grade": ["A", "C", "T", "B"]})
    parcels = pd.DataFrame({"park": ["P1", "P1", "P2", "P3"], "county": ["511302"] * 4,
                            "area_mu": [25.0, 25.0, 20.0, 7.0]})
    t = park_table(f, parcels).set_index("park")
    assert t.loc["P1", "tax_per_mu"] == pytest.approx(120 / 40, rel=R)
    assert np.isnan(t.loc["P2", "tax_per_mu"])
    assert t.loc["P1", "revenue_per_mu"] == pytest.approx(1500 / 40, rel=R)
    assert t.loc["P1", "land_mu"] == 50.0 and t.loc["P3", "land_mu"] == 7.0
    assert t.loc["P1", "firm_count"] == 2 and t.loc["P3", "firm_count"] == 0
    assert t.loc["P1", "parcel_count"] == 2
    assert t.loc["P1", ["grade_A", "grade_C", "grade_T"]].tolist() == [1, 1, 0]
    assert t.loc["P2", "grade_T"] == 1
    assert t.loc["P1", "rank"] == 1
    c = county_table(f).set_index("county")
    assert c.loc["511302", "tax_per_mu"] == pytest.approx(121 / 45, rel=R)
    assert c.loc["511302", "graded_count"] == 3


def test_100k_firms_are_graded_vectorised():
    n = 100_000
    rng = np.random.default_rng(7)
    cols = {k: rng.lognormal(1, 1, n) for k in ABOVE_INDS}
    f = firms(n, **cols)
    out = grade_firms(f, loads_policy(one_indicator_policy(HUAIAN_SHARES))).frame
    assert out["grade"].value_counts().to_dict() == {"B": 40000, "C": 35000, "A": 20000, "D": 5000}


def test_previous_mean_benchmark_from_last_years_frame():
    text = one_indicator_policy('method = "cutoffs"\ncutoffs = { A = 150, B = 100, C = 50 }').replace(
        "benchmark = 10", 'benchmark = "previous_mean"')
    p = loads_policy(text)
    prev = firms(3, tax_per_mu=[4.0, 8.0, 100.0], scale=["above", "above", "below"])
    prev["status"] = ["not_graded", "not_graded", "no_land"]  # the third is not in last year's population
    out = grade_firms(firms(2, tax_per_mu=[9.0, 3.0]), p, previous=prev).frame
    assert out["benchmark_tax_per_mu"].tolist() == [6.0, 6.0]
    assert out["score"].tolist() == pytest.approx([150.0, 50.0], rel=R)
    res = grade_firms(firms(2, tax_per_mu=[9.0, 3.0]), p)  # no previous frame: this year's mean, listed
    assert res.frame["benchmark_tax_per_mu"].tolist() == [6.0, 6.0]
    assert res.recon["problem_code"].tolist() == ["BENCHMARK_PREVIOUS_MISSING"]


def test_tenants_on_their_own_track():
    text = f"""
schema = 1
[policy]
name = "test"
[tenants]
mode = "own_track"
[tracks.tenants]
match.tenant = true
method = "percentile"
[tracks.tenants.indicators.tax_per_mu]
weight = 100
[tracks.owners]
method = "ratio"
[tracks.owners.indicators.tax_per_mu]
weight = 100
benchmark = 10
[grading]
{HUAIAN_SHARES}
"""
    f = firms(4, tax_per_mu=[1.0, 2.0, 3.0, 4.0], is_tenant=[True, False, True, False])
    out = grade_firms(f, loads_policy(text)).frame
    assert out["track"].tolist() == ["tenants", "owners", "tenants", "owners"]
    assert out["score"].tolist() == pytest.approx([50.0, 20.0, 100.0, 40.0], rel=R)
    assert out["rank"].tolist() == [2, 2, 1, 1]


def test_classify_leaves_python_backed_text_columns_as_they_were():
    """classify is a pure function: statuses written into its arrays never reach the caller's frame, also
    when status / status_reason are python-backed string columns without a missing value."""
    from parkland.scoring import classify

    f = firms(3, scale=["above", "below", "above"], in_park=[True, True, False], tax_per_mu=[15.0] * 3,
              revenue_per_mu=[400.0] * 3)
    for c in ("status", "status_reason"):
        f[c] = f[c].astype(pd.StringDtype("python"))
    out = classify(f, "sichuan-2022")
    assert out["status_reason"].tolist()[1:] == ["out of scope: scale below (policy grades above only)",
                                                 "out of scope: outside parks"]
    assert f["status"].tolist() == ["not_graded"] * 3 and f["status_reason"].tolist() == ["pending"] * 3
