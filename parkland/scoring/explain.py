"""What a grade means for a firm: the consequences per grade, and the gap to the next grade.

Consequences (``consequence_<name>``, one column per ``[consequences.<name>]`` of the policy)::

    consequence = rate[grade] × firm[column] × factor       (money, e.g. 元)
    consequence = rate[grade]                              (no column: e.g. a land-use tax relief in %)

e.g. the electricity surcharge: rate 元/千瓦时 × ``electricity_10k_kwh`` × 10000 kWh. Grades without a
rate get 0; firms without a grade, or with a grade that is not the policy's, get NaN.

Gap to the next grade, for graded firms below the best grade that were not vetoed:

* ``next_grade``: the grade one better;
* target score: under ``cutoffs`` the next grade's least score (or, for a firm moved down by a
  ``max_share`` cap, the score of the lowest firm currently in the next grade); under ``shares`` the
  score of the lowest firm currently in the next grade of the same track and group (reaching it ties
  that firm; any amount above it lifts the firm, holding the others). NaN when the next grade is
  empty;
* ``gap_score`` = max(target − score, 0);
* ``gap_tax_per_mu`` / ``gap_revenue_per_mu``: how much more of that indicator, holding everything else
  (the benchmark, the population, the other parts), would earn ``gap_score`` more points: solved by
  inverting the scoring formula of the firm's track (:func:`parkland.scoring.methods.inverse_part`),
  e.g. for the ratio method Δx = gap_score × b / (f × w). NaN when the firm's track does not score the
  indicator, the firm has no value for it, or no value can (a cap, the min–max maximum, the top of a
  percentile list).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from parkland.frames import positions
from parkland.scoring.methods import TrackScore, inverse_part
from parkland.scoring.policy import Policy, load_policy

GAP_INDICATORS = ("tax_per_mu", "revenue_per_mu")


def consequences(firms: pd.DataFrame, policy: Policy | str) -> pd.DataFrame:
    """The ``consequence_<name>`` columns for the graded frame (see the module docstring)."""
    policy = load_policy(policy)
    names = [*policy.grading.grades, "T"]
    codes = positions(firms["grade"], names)  # −1: no grade of the policy
    out = {}
    for c in policy.consequences:
        rates = np.array([c.rates.get(g, 0.0) for g in names] + [np.nan])  # code −1 (no grade) → NaN
        rate = pd.Series(rates[codes], index=firms.index)
        if c.column is None:
            val = rate
        elif c.column in firms.columns:
            val = rate * pd.to_numeric(firms[c.column], errors="coerce") * c.factor
        else:
            val = rate * np.nan
        out[f"consequence_{c.name}"] = val.astype(float)
    return pd.DataFrame(out, index=firms.index)


def gaps(firms: pd.DataFrame, policy: Policy | str, scores: dict[str, TrackScore], *,
         values: pd.DataFrame, gid: np.ndarray, vetoed: np.ndarray) -> pd.DataFrame:
    """``next_grade``, ``gap_score``, ``gap_tax_per_mu``, ``gap_revenue_per_mu`` (module docstring).

    ``scores``: the per-track results of :func:`parkland.scoring.methods.score_track`; ``values``: the
    indicator values that were scored; ``gid``: the grading group of each row; ``vetoed``: bool per row.
    """
    policy = load_policy(policy)
    grades = policy.grading.grades
    K = len(grades)
    n = len(firms)
    gidx = {g: i for i, g in enumerate(grades)}
    gi = positions(firms["grade"], list(gidx))  # −1: none
    score = firms["score"].to_numpy(dtype=float)
    graded = (firms["status"].astype(object).to_numpy() == "graded") & np.isfinite(score) & ~vetoed
    key = gid.astype(np.int64) * K + gi
    minscore = pd.Series(score[graded & (gi >= 0)]).groupby(key[graded & (gi >= 0)]).min()
    sel = graded & (gi > 0)
    nxt = np.where(sel, gi - 1, -1)
    target = pd.Series(gid.astype(np.int64) * K + nxt).map(minscore).to_numpy(dtype=float)
    if policy.grading.method == "cutoffs":
        cut = np.array([policy.grading.cutoffs.get(g, np.nan) for g in grades])
        c = np.where(nxt >= 0, cut[np.clip(nxt, 0, K - 1)], np.nan)
        target = np.where(score < c, c, target)
    target = np.where(sel, target, np.nan)
    dscore = np.maximum(target - score, 0.0)
    next_grade = np.full(n, None, dtype=object)
    next_grade[sel] = np.array(grades, dtype=object)[nxt[sel]]
    out = {"next_grade": pd.Series(next_grade, index=firms.index, dtype=object),
           "gap_score": np.where(sel, dscore, np.nan)}
    track = firms["track"].astype(object).to_numpy()
    factor = firms["weight_factor"].to_numpy(dtype=float)
    in_track: dict[str, np.ndarray] = {}
    for ind in GAP_INDICATORS:
        gap = np.full(n, np.nan)
        col = f"part_{ind}"
        for t in policy.tracks:
            rule = next((r for r in t.indicators if r.key == ind), None)
            if rule is None or t.name not in scores:
                continue
            if t.name not in in_track:
                in_track[t.name] = sel & (track == t.name) & np.isfinite(dscore)
            rows = in_track[t.name]
            if not rows.any():
                continue
            st = scores[t.name].stats[ind]
            x = values[ind].to_numpy(dtype=float)[rows] if ind in values else np.full(rows.sum(), np.nan)
            pt = firms[col].to_numpy(dtype=float)[rows] + dscore[rows]
            xn = inverse_part(t.method, pt, factor[rows] * rule.weight, bench=st.bench, xmin=st.xmin,
                              xmax=st.xmax, low=t.minmax_low, high=t.minmax_high, sorted_pop=st.sorted_pop)
            if rule.cap is not None:
                xn = np.where(pt > rule.cap + 1e-12, np.nan, xn)
            gap[rows] = np.maximum(xn - x, 0.0)
        out[f"gap_{ind}"] = gap
    return pd.DataFrame(out, index=firms.index)
