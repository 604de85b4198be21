"""Gap to the next grade (solved from the scoring formula) and consequences per grade."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parkland.scoring import consequences, grade_firms, load_policy, loads_policy

R = 1e-9
CUTOFFS = 'method = "cutoffs"\ncutoffs = { A = 90, B = 70, C = 50 }'


def firms(n: int, **cols) -> pd.DataFrame:
    base = {"source_row": np.arange(1, n + 1), "uscc": [f"U{i:02d}" for i in range(1, n + 1)],
            "scale": ["above"] * n, "land_mu": [10.0] * n, "status": ["not_graded"] * n,
            "status_reason": ["pending"] * n}
    base.update(cols)
    return pd.DataFrame(base)


def policy(indicators: str, grading: str = CUTOFFS, method: str = "ratio") -> str:
    return f"""
schema = 1
[policy]
name = "test"
[tracks.all]
method = "{method}"
{indicators}
[grading]
{grading}
"""


TAX_ONLY = "[tracks.all.indicators.tax_per_mu]\nweight = 100\nbenchmark = 10"


def test_gap_under_cutoffs_ratio():
    out = grade_firms(firms(3, tax_per_mu=[9.5, 7.5, 5.5]), loads_policy(policy(TAX_ONLY))).frame
    assert out["grade"].tolist() == ["A", "B", "C"]
    assert out["next_grade"].tolist() == [None, "A", "B"]
    # B at 75 points needs 90: 15 points × benchmark 10 / weight 100 = 1.5 万元/亩 more tax
    assert out["gap_score"].iloc[1:].tolist() == pytest.approx([15.0, 15.0], rel=R)
    assert out["gap_tax_per_mu"].iloc[1:].tolist() == pytest.approx([1.5, 1.5], rel=R)
    assert np.isnan(out.loc[0, "gap_tax_per_mu"]) and out["gap_revenue_per_mu"].isna().all()


def test_gap_under_rank_shares_targets_the_lowest_firm_of_the_next_grade():
    shares = """method = "shares"
shares.A = { share = 0.20, round = "floor" }
shares.B = { share = 0.40, round = "floor" }
shares.D = { share = 0.05, round = "floor" }"""
    tax = [10.0, 9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0]
    out = grade_firms(firms(10, tax_per_mu=tax), loads_policy(policy(TAX_ONLY, shares))).frame
    assert out["grade"].tolist() == ["A", "A", "B", "B", "B", "B", "C", "C", "C", "C"]
    # a C firm at 30 points: the lowest B has 50 → 20 points → 2 万元/亩; a B firm at 80: the lowest A has 90
    assert out.loc[7, "gap_score"] == pytest.approx(20.0, rel=R)
    assert out.loc[7, "gap_tax_per_mu"] == pytest.approx(2.0, rel=R)
    assert out.loc[2, "gap_tax_per_mu"] == pytest.approx(1.0, rel=R)
    assert out.loc[6, "gap_tax_per_mu"] == pytest.approx(1.0, rel=R)


def test_gap_with_reweighting_and_two_indicators():
    inds = """[tracks.all.indicators.tax_per_mu]
weight = 60
benchmark = 10
[tracks.all.indicators.revenue_per_mu]
weight = 40
benchmark = 100
missing = "reweight"
"""
    f = firms(2, tax_per_mu=[6.0, 6.0], revenue_per_mu=[80.0, np.nan])
    out = grade_firms(f, loads_policy(policy(inds))).frame
    # firm 1: 36 + 32 = 68 (C); firm 2: revenue missing → f = 100/60, score = 36 × 100/60 = 60 (C)
    assert out["score"].tolist() == pytest.approx([68.0, 60.0], rel=R)
    assert out.loc[1, "weight_factor"] == pytest.approx(100 / 60, rel=R)
    # to B (70): firm 1 needs 2 points = 2 × 10/60 tax or 2 × 100/40 revenue
    assert out.loc[0, "gap_tax_per_mu"] == pytest.approx(2 * 10 / 60, rel=R)
    assert out.loc[0, "gap_revenue_per_mu"] == pytest.approx(2 * 100 / 40, rel=R)
    # firm 2 needs 10 points; tax earns f × 60 / 10 points per 万元/亩; revenue is missing
    assert out.loc[1, "gap_tax_per_mu"] == pytest.approx(10 * 10 / (100 / 60 * 60), rel=R)
    assert np.isnan(out.loc[1, "gap_revenue_per_mu"])


def test_gap_minmax_and_percentile():
    grading = 'method = "cutoffs"\ncutoffs = { A = 90, B = 50, C = 30 }'
    f = firms(3, tax_per_mu=[0.0, 5.0, 10.0])
    out = grade_firms(f, loads_policy(policy("[tracks.all.indicators.tax_per_mu]\nweight = 100", grading,
                                             "minmax"))).frame
    assert out["score"].tolist() == pytest.approx([20.0, 60.0, 100.0], rel=R)
    assert out["grade"].tolist() == ["D", "B", "A"]
    # B at 60 → 90: (90 − 20)/80 × 10 = 8.75 → 3.75 more; D at 20 → C 30: (30 − 20)/80 × 10 = 1.25
    assert out["gap_tax_per_mu"].tolist()[:2] == pytest.approx([1.25, 3.75], rel=R)
    grading = 'method = "cutoffs"\ncutoffs = { A = 90, B = 60, C = 40 }'
    f = firms(4, tax_per_mu=[1.0, 2.0, 4.0, 8.0])
    out = grade_firms(f, loads_policy(policy("[tracks.all.indicators.tax_per_mu]\nweight = 100", grading,
                                             "percentile"))).frame
    assert out["score"].tolist() == pytest.approx([25.0, 50.0, 75.0, 100.0], rel=R)
    # C at 50 → B 60 needs rank ≥ ⌈4 × 0.6⌉ = 3 → value 4 (2 more); D at 25 → C 40: rank 2 → value 2
    assert out["gap_tax_per_mu"].tolist()[:3] == pytest.approx([1.0, 2.0, 4.0], rel=R)


def test_gap_beyond_a_cap_is_nan():
    out = grade_firms(firms(2, tax_per_mu=[7.5, 5.5]),
                      loads_policy(policy(TAX_ONLY + "\ncap = 80"))).frame
    assert out["grade"].tolist() == ["B", "C"]
    assert np.isnan(out.loc[0, "gap_tax_per_mu"])  # A needs 90 points, the part stops at 80
    assert out.loc[1, "gap_tax_per_mu"] == pytest.approx(1.5, rel=R)


def test_consequences_by_grade():
    f = pd.DataFrame({"grade": ["A", "C", "D", "T", None], "electricity_10k_kwh": [10.0, 10.0, 2.0, 5.0, 5.0]})
    c = consequences(f, load_policy("sichuan-2022"))
    assert c["consequence_electricity_surcharge"].tolist()[:4] == pytest.approx(
        [0.0, 0.05 * 10 * 10000, 0.10 * 2 * 10000, 0.0], rel=R)
    assert np.isnan(c["consequence_electricity_surcharge"].iloc[4])
    assert c["consequence_land_tax_relief_pct"].tolist()[:4] == [100.0, 0.0, 0.0, 0.0]
