"""Year on year: last year's grades recomputed with the same policy, grade changes, indicator changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parkland.scoring import grade_firms, loads_policy, year_on_year

R = 1e-9
POLICY = loads_policy("""
schema = 1
[policy]
name = "test"
[tracks.all]
method = "ratio"
[tracks.all.indicators.tax_per_mu]
weight = 100
benchmark = 10
[grading]
method = "cutoffs"
cutoffs = { A = 90, B = 70, C = 50 }
""")


def firms(uscc, tax) -> pd.DataFrame:
    n = len(uscc)
    return pd.DataFrame({"source_row": np.arange(1, n + 1), "uscc": uscc, "scale": ["above"] * n,
                         "land_mu": [10.0] * n, "status": ["not_graded"] * n, "status_reason": ["pending"] * n,
                         "tax_per_mu": tax})


def test_grade_changes_and_indicator_changes():
    prev = firms(["U1", "U2", "U3", "U4", "U4"], [7.5, 9.5, 5.5, 8.0, 1.0])
    cur = grade_firms(firms(["U1", "U2", "U3", "U5", None], [9.2, 7.0, 5.6, 6.0, 9.9]), POLICY).frame
    res = year_on_year(cur, prev, POLICY)
    y = res.frame
    assert cur["grade"].tolist() == ["A", "B", "C", "C", "A"]
    assert y["grade_previous"].tolist() == ["B", "A", "C", None, None]
    assert y["score_previous"].tolist()[:3] == pytest.approx([75.0, 95.0, 55.0], rel=R)
    assert y["grade_change"].tolist() == ["B→A", "A→B", "C→C", "→C", "→A"]
    assert y["grade_direction"].tolist() == ["up", "down", "same", "new", "new"]
    assert y["change_tax_per_mu"].tolist()[:3] == pytest.approx([1.7, -2.5, 0.1], rel=R)
    assert y["change_pct_tax_per_mu"].iloc[0] == pytest.approx(100 * 1.7 / 7.5, rel=R)
    assert np.isnan(y.loc[3, "change_tax_per_mu"])
    assert res.meta["matched"] == 3
    # last year's repeated code U4: the first row is the one matched (not used here), graded on its own
    assert res.meta["previous"]["grade"].tolist()[3:] == ["B", "D"]


def test_out_and_exempt_changes():
    prev = firms(["U1", "U2"], [9.5, 9.5])
    cur = firms(["U1", "U2"], [9.5, 9.5])
    cur.loc[0, "status"] = "no_land"
    cur["industry_code"] = ["3311", "4420"]
    pol = loads_policy("""
schema = 1
[policy]
name = "test"
[exempt]
industry_codes = ["44"]
[tracks.all.indicators.tax_per_mu]
weight = 100
benchmark = 10
[grading]
method = "cutoffs"
cutoffs = { A = 90, B = 70, C = 50 }
""")
    g = grade_firms(cur, pol).frame
    y = year_on_year(g, prev, pol).frame
    assert g["grade"].tolist() == [None, "T"]
    assert y["grade_change"].tolist() == ["A→", "A→T"]
    assert y["grade_direction"].tolist() == ["out", "changed"]
