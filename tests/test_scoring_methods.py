"""Scoring methods: hand-computed parts for ratio, min–max, percentile, benchmarks, missing rules, caps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parkland.scoring.methods import benchmark, inverse_part, raw_part, score_track
from parkland.scoring.policy import IndicatorRule, Track

R = 1e-9


def track(method="ratio", **rules):
    return Track(name="t", label="t", method=method,
                 indicators=tuple(IndicatorRule(k, *v) if isinstance(v, tuple) else v for k, v in rules.items()))


def test_ratio_part():
    got = raw_part("ratio", np.array([12.0, 24.097, np.nan]), 30, bench=24.097)
    assert got[0] == pytest.approx(12.0 / 24.097 * 30, rel=R)
    assert got[1] == pytest.approx(30.0, rel=R)
    assert np.isnan(got[2])
    # an unusable benchmark scores 0 (NaN stays NaN)
    z = raw_part("ratio", np.array([5.0, np.nan]), 30, bench=0.0)
    assert z[0] == 0.0 and np.isnan(z[1])


def test_minmax_part_and_degenerate_range():
    x = np.array([10.0, 20.0, 40.0])
    got = raw_part("minmax", x, 50, xmin=10, xmax=40)
    assert got == pytest.approx([50 * 20 / 100, 50 * (20 + 80 * 10 / 30) / 100, 50.0], rel=R)
    # max = min: every firm gets the full weight (minmax_high = 100 %)
    same = raw_part("minmax", np.array([7.0, 7.0]), 50, xmin=7, xmax=7)
    assert same.tolist() == [50.0, 50.0]


def test_percentile_part_ties_share_the_max_rank():
    pop = np.sort(np.array([1.0, 2.0, 2.0, 5.0]))
    got = raw_part("percentile", np.array([1.0, 2.0, 2.0, 5.0]), 100, sorted_pop=pop)
    assert got.tolist() == [25.0, 75.0, 75.0, 100.0]


def test_benchmarks():
    pop = np.array([1.0, 2.0, 6.0, np.nan])
    assert benchmark(pop, 24.097) == 24.097
    assert benchmark(pop, "mean") == pytest.approx(3.0, rel=R)
    assert benchmark(pop, "median") == pytest.approx(2.0, rel=R)
    assert benchmark(pop, "previous_mean", np.array([4.0, 8.0, np.nan])) == pytest.approx(6.0, rel=R)
    assert benchmark(pop, "previous_mean", None) == pytest.approx(3.0, rel=R)  # falls back (listed)


def test_score_track_missing_rules_and_cap():
    vals = pd.DataFrame({
        "tax_per_mu": [10.0, 20.0, 30.0, np.nan],
        "va_per_emission": [100.0, np.nan, 300.0, 50.0],
        "rd_intensity": [0.02, 0.01, np.nan, np.nan],
    })
    t = track(
        tax_per_mu=IndicatorRule("tax_per_mu", 50, 20.0, "zero", cap=60.0),
        va_per_emission=IndicatorRule("va_per_emission", 30, 200.0, "track_average"),
        rd_intensity=IndicatorRule("rd_intensity", 20, 0.02, "reweight"),
    )
    ts = score_track(vals, t)
    # reweight factor: rd missing for rows 2 and 3 → f = 100 / 80
    assert ts.factor.tolist() == pytest.approx([1.0, 1.0, 1.25, 1.25], rel=R)
    p = ts.parts
    # tax: 50 × x / 20 × f, capped at 60 points; row 3 missing → 0
    assert p["tax_per_mu"].tolist() == pytest.approx([25.0, 50.0, 60.0, 0.0], rel=R)  # 30/20×50×1.25 = 93.75 → 60
    # emission: row 1 missing → the average part of rows 0, 2, 3: (15 + 56.25 + 9.375) / 3
    e0, e2, e3 = 30 * 100 / 200, 30 * 300 / 200 * 1.25, 30 * 50 / 200 * 1.25
    assert p["va_per_emission"].tolist() == pytest.approx([e0, (e0 + e2 + e3) / 3, e2, e3], rel=R)
    # rd: excluded where missing (0 points, the others scaled)
    assert p["rd_intensity"].tolist() == pytest.approx([20.0, 10.0, 0.0, 0.0], rel=R)
    assert ts.no_figures.tolist() == [False, False, False, False]


def test_score_track_mean_benchmark_and_no_figures():
    vals = pd.DataFrame({"tax_per_mu": [10.0, 30.0, np.nan]})
    ts = score_track(vals, track(tax_per_mu=(100, "mean", "zero")))
    assert ts.stats["tax_per_mu"].bench == pytest.approx(20.0, rel=R)
    assert ts.parts["tax_per_mu"].iloc[:2].tolist() == pytest.approx([50.0, 150.0], rel=R)
    assert ts.no_figures.tolist() == [False, False, True]
    assert np.isnan(ts.parts["tax_per_mu"].iloc[2])
    prev = pd.DataFrame({"tax_per_mu": [40.0, 60.0]})
    ts2 = score_track(vals, track(tax_per_mu=(100, "previous_mean", "zero")), previous=prev)
    assert ts2.stats["tax_per_mu"].bench == pytest.approx(50.0, rel=R)
    assert ts2.parts["tax_per_mu"].iloc[1] == pytest.approx(60.0, rel=R)


def test_inverse_part_round_trips():
    x = np.array([3.0, 12.5])
    p = raw_part("ratio", x, 30, bench=24.097)
    assert inverse_part("ratio", p, np.array([30.0, 30.0]), bench=24.097) == pytest.approx(x, rel=R)
    p = raw_part("minmax", x, 40, xmin=1.0, xmax=20.0)
    assert inverse_part("minmax", p, np.array([40.0, 40.0]), xmin=1.0, xmax=20.0) == pytest.approx(x, rel=R)
    # above the min–max maximum no value can earn more
    assert np.isnan(inverse_part("minmax", np.array([41.0]), np.array([40.0]), xmin=1.0, xmax=20.0)[0])
    pop = np.array([1.0, 2.0, 4.0, 8.0])
    # 60 points of 100 need rank ≥ ceil(4 × 0.6) = 3 → the 3rd smallest value, 4.0
    assert inverse_part("percentile", np.array([60.0]), np.array([100.0]), sorted_pop=pop)[0] == 4.0
    assert np.isnan(inverse_part("percentile", np.array([101.0]), np.array([100.0]), sorted_pop=pop)[0])
