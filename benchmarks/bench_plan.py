"""Timings of parkland.plan on synthetic data: python benchmarks/bench_plan.py

Prints one line per case: the case, seconds (best of 3) and the selected area.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from parkland import plan


def _cands(n: int, area: np.ndarray, firms: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"rank": np.arange(1, n + 1), "source_row": np.arange(1, n + 1),
                         "parcel_id": [f"p{i:06d}" for i in range(n)], "park": "X", "area_mu": area,
                         "operating_firms": firms, "kind": "low_efficiency"})


def _best(fn, repeat: int = 3) -> tuple[float, object]:
    best, res = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = fn()
        best = min(best, time.perf_counter() - t0)
    return best, res


def main() -> None:
    rng = np.random.default_rng(2024)
    n = 3000
    cases = {
        "min-overshoot 3000 × 1000 mu (float areas)":
            (_cands(n, rng.uniform(0.5, 50, n), rng.integers(0, 4, n)), 1000.0, "min-overshoot"),
        "min-overshoot 3000 × 1000.01 mu (even hundredths: no exact hit, full table)":
            (_cands(n, rng.integers(25, 2500, n) * 0.02, rng.integers(0, 4, n)), 1000.01, "min-overshoot"),
        "fewest-firms 3000 × 1000 mu (no zero-firm parcel, 1-5 firms)":
            (_cands(n, rng.uniform(0.5, 50, n), rng.integers(1, 6, n)), 1000.0, "fewest-firms"),
        "priority 3000 × 1000 mu":
            (_cands(n, rng.uniform(0.5, 50, n), rng.integers(0, 4, n)), 1000.0, "priority"),
    }
    for name, (c, target, strategy) in cases.items():
        dt, (_, rep) = _best(lambda c=c, target=target, strategy=strategy: plan.select(c, target, strategy=strategy))
        print(f"{name}: {dt:.3f} s, selected {rep['selected_mu']:.2f} mu, "
              f"{rep['operating_firms']} operating firms, exact={rep['exact']}")

    m = 100_000
    flags = rng.random(m)
    parcels = pd.DataFrame({
        "source_row": np.arange(1, m + 1), "parcel_id": [f"51132110{i:011d}" for i in range(m)],
        "park": rng.choice(["A", "B", "C"], m), "area_mu": rng.uniform(1, 80, m),
        "idle": flags < 0.05, "vacant": (flags >= 0.05) & (flags < 0.1), "stopped": (flags >= 0.1) & (flags < 0.15),
        "low_efficiency": (flags >= 0.15) & (flags < 0.4), "idle_years": rng.uniform(0, 4, m),
        "reclaim_warning": False, "tax_per_mu": rng.uniform(0, 30, m), "output_per_mu": rng.uniform(0, 600, m),
    })
    parcels["flag_reasons"] = np.select(
        [parcels["idle"], parcels["vacant"], parcels["stopped"], parcels["low_efficiency"]],
        ["IDLE_NOT_STARTED", "VACANT", "STOPPED", "LOW_TAX"], default="")
    nf = 150_000
    firms = pd.DataFrame({"source_row": np.arange(1, nf + 1), "name": [f"企业{i}" for i in range(nf)],
                          "grade": rng.choice(["A", "B", "C", "D"], nf), "revenue_wan": rng.uniform(0, 1e4, nf),
                          "tax_wan": rng.uniform(0, 100, nf)})
    pairs = pd.DataFrame({"firm_row": np.arange(1, nf + 1), "parcel_row": rng.integers(1, m + 1, nf)})
    dt, c = _best(lambda: plan.candidates(parcels, firms, pairs), repeat=1)
    print(f"candidates {m} parcels, {nf} firms: {dt:.3f} s, {len(c)} candidates")


if __name__ == "__main__":
    main()
