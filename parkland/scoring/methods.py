"""Scoring methods: one indicator's points ("part") from its values, vectorised over a track's firms.

For an indicator with weight w, value x and the track's reweighting factor f (1 unless some indicators
were excluded, see :func:`score_track`):

* **ratio** to a benchmark b (黄岩 2023):        part = f × w × x / b
* **min–max** over the graded population (旌德): part = f × w × (L + (H − L) × (x − min)/(max − min)) / 100,
  with L = ``minmax_low`` (default 20) and H = ``minmax_high`` (default 100). When max = min every firm
  gets f × w × H / 100, the full weight with the default H = 100.
* **percentile** rank (规下 single-indicator lists): part = f × w × r / n, where r = the number of firms of
  the population with a value ≤ x (the "max" rank; ties share it) and n the population size, so the
  best firm gets the full weight.

The part is then clipped to the indicator's ``floor`` / ``cap`` (points), when given.

Benchmark b: a fixed number, or the ``mean`` / ``median`` of x over the population (the track's graded
firms that have x), or ``previous_mean``: the mean over last year's firm frame (firms of the same track
that were in scope). A benchmark that is missing or ≤ 0 cannot divide: that indicator scores 0 for
everyone (listed).

Missing values (x is NaN), per indicator: ``zero`` → part 0; ``track_average`` → the mean part of the
firms of the track that have x (黄岩's emission rule); ``reweight`` → the indicator is dropped for that
firm and its other parts are scaled by f = W / W_available (W = the track's total weight), so the
total stays comparable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from parkland.scoring.policy import IndicatorRule, Track


def benchmark(population: np.ndarray, how: float | str, previous: np.ndarray | None = None) -> float:
    """The benchmark of one indicator: a fixed number, or mean/median of the population, or last year's mean.

    ``population`` holds the non-missing values of the graded firms of the track; ``previous`` those of
    last year (``previous_mean``; when None the current mean is used — the caller lists that).
    """
    if not isinstance(how, str):
        return float(how)
    pop = population[np.isfinite(population)]
    if how == "previous_mean" and previous is not None:
        prev = previous[np.isfinite(previous)]
        return float(prev.mean()) if len(prev) else float("nan")
    if not len(pop):
        return float("nan")
    if how == "median":
        return float(np.median(pop))
    return float(pop.mean())


def raw_part(method: str, x: np.ndarray, weight: float, *, bench: float = np.nan, xmin: float = np.nan,
             xmax: float = np.nan, low: float = 20.0, high: float = 100.0,
             sorted_pop: np.ndarray | None = None) -> np.ndarray:
    """Points of one indicator before the reweighting factor and cap/floor (NaN where x is NaN)."""
    x = np.asarray(x, dtype=float)
    if method == "ratio":
        if not np.isfinite(bench) or bench <= 0:
            return np.where(np.isnan(x), np.nan, 0.0)
        return weight * x / bench
    if method == "minmax":
        if not np.isfinite(xmin):
            return np.full(x.shape, np.nan)
        if xmax == xmin:
            return np.where(np.isnan(x), np.nan, weight * high / 100.0)
        return weight * (low + (high - low) * (x - xmin) / (xmax - xmin)) / 100.0
    if method == "percentile":
        if sorted_pop is None or not len(sorted_pop):
            return np.full(x.shape, np.nan)
        r = np.searchsorted(sorted_pop, x, side="right")
        return np.where(np.isnan(x), np.nan, weight * r / len(sorted_pop))
    raise ValueError(f"unknown method {method!r}")


def inverse_part(method: str, part: np.ndarray, weight: np.ndarray, *, bench: float = np.nan,
                 xmin: float = np.nan, xmax: float = np.nan, low: float = 20.0, high: float = 100.0,
                 sorted_pop: np.ndarray | None = None) -> np.ndarray:
    """The least value x that earns ``part`` points with effective weight ``weight`` (= f × w), holding the
    population fixed; NaN when no value can (above a min–max maximum, above the full percentile)."""
    part = np.asarray(part, dtype=float)
    weight = np.asarray(weight, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "ratio":
            if not np.isfinite(bench) or bench <= 0:
                return np.full(part.shape, np.nan)
            return part * bench / weight
        if method == "minmax":
            if not np.isfinite(xmin) or xmax == xmin:
                return np.full(part.shape, np.nan)
            frac = (part * 100.0 / weight - low) / (high - low)
            x = xmin + np.maximum(frac, 0.0) * (xmax - xmin)
            return np.where(frac <= 1.0 + 1e-12, x, np.nan)
        if method == "percentile":
            if sorted_pop is None or not len(sorted_pop):
                return np.full(part.shape, np.nan)
            n = len(sorted_pop)
            k = np.ceil(n * part / weight - 1e-9)
            ok = np.isfinite(k) & (k <= n)
            kk = np.clip(np.nan_to_num(k, nan=1.0), 1, n).astype(np.int64)
            return np.where(ok, sorted_pop[kk - 1], np.nan)
    raise ValueError(f"unknown method {method!r}")


@dataclass
class IndicatorStats:
    """What a track's indicator was scored against (kept for the gap solver and the summary)."""

    rule: IndicatorRule
    bench: float = np.nan
    xmin: float = np.nan
    xmax: float = np.nan
    sorted_pop: np.ndarray = field(default_factory=lambda: np.empty(0))
    unusable: bool = False


@dataclass
class TrackScore:
    """Result of :func:`score_track` for the firms of one track (same index as the values)."""

    parts: pd.DataFrame  # one column per indicator of the track, points (0 where excluded)
    factor: pd.Series  # reweighting factor f
    missing: pd.DataFrame  # bool, x missing, per indicator
    no_figures: pd.Series  # bool: every indicator missing
    stats: dict[str, IndicatorStats]


def score_track(values: pd.DataFrame, track: Track, *, previous: pd.DataFrame | None = None) -> TrackScore:
    """Score the firms of one track: ``values`` has one float column per indicator of the track (NaN =
    missing), one row per firm of the population. ``previous``: last year's values of the same track
    (for ``previous_mean`` benchmarks). See the module docstring for the formulas."""
    keys = [r.key for r in track.indicators]
    X = values.reindex(columns=keys).astype(float)
    miss = X.isna()
    n = len(X)
    W = track.total_weight
    excluded_w = np.zeros(n)
    for r in track.indicators:
        if r.missing == "reweight":
            excluded_w += np.where(miss[r.key].to_numpy(), r.weight, 0.0)
    avail = W - excluded_w
    no_fig = miss.all(axis=1).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.where(avail > 0, W / np.where(avail > 0, avail, 1.0), np.nan)
    parts = {}
    stats: dict[str, IndicatorStats] = {}
    for r in track.indicators:
        x = X[r.key].to_numpy()
        have = ~np.isnan(x)
        pop = x[have]
        st = IndicatorStats(r)
        if track.method == "ratio":
            prev = None
            if previous is not None and r.key in previous:
                prev = previous[r.key].to_numpy(dtype=float)
            st.bench = benchmark(pop, r.benchmark, prev)
            st.unusable = not (np.isfinite(st.bench) and st.bench > 0)
        elif len(pop):
            st.xmin, st.xmax = float(pop.min()), float(pop.max())
        st.sorted_pop = np.sort(pop)
        p = raw_part(track.method, x, r.weight, bench=st.bench, xmin=st.xmin, xmax=st.xmax,
                     low=track.minmax_low, high=track.minmax_high, sorted_pop=st.sorted_pop) * f
        if r.cap is not None or r.floor is not None:
            p = np.clip(p, r.floor if r.floor is not None else -np.inf, r.cap if r.cap is not None else np.inf)
        if r.missing == "zero":
            p = np.where(have, p, 0.0)
        elif r.missing == "track_average":
            avg = float(p[have].mean()) if have.any() else 0.0
            p = np.where(have, p, avg)
        else:  # reweight: excluded
            p = np.where(have, p, 0.0)
        parts[r.key] = np.where(no_fig, np.nan, p)
        stats[r.key] = st
    return TrackScore(pd.DataFrame(parts, index=values.index), pd.Series(f, index=values.index),
                      miss, pd.Series(no_fig, index=values.index), stats)
