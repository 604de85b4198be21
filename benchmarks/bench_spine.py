"""Times the spine (read, measure, link, indicators, write) on synthetic cities; prints a table.

    python benchmarks/bench_spine.py --sizes 10000,100000

Ratios are against a hand-written geopandas baseline on the same files in the same process (read both
files, join on the parcel code, per-mu tax), because the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd

from parkland.geo.parcels import prepare_parcels
from parkland.indicators import firm_indicators, parcel_figures
from parkland.io.firms import read_firms
from parkland.io.parcels import read_parcels
from parkland.link import link_firms

try:
    from synth import make_city
except ImportError:  # run as a module
    from benchmarks.synth import make_city


def baseline(paths: dict) -> float:
    """What an analyst writes by hand with geopandas defaults."""
    t = time.perf_counter()
    p = gpd.read_file(paths["parcels"], layer="zongdi")
    f = pd.read_csv(paths["firms"], encoding="gbk", dtype={"宗地代码": str, "统一社会信用代码": str})
    p["mu"] = p.to_crs(4544).area * 15 / 10000
    j = f.merge(p[["宗地代码", "mu"]], on="宗地代码", how="left")
    j["tax_per_mu"] = j["税收实际入库（万元）"] / j["mu"]
    return time.perf_counter() - t


def spine(paths: dict) -> dict[str, float]:
    t = {}
    t0 = time.perf_counter()
    pl = read_parcels(paths["parcels"], layer="zongdi")
    t["read parcels"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    fl = read_firms(paths["firms"])
    t["read firms"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    geo = prepare_parcels(pl.frame)
    t["measure"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    lk = link_firms(fl.frame, geo.frame)
    t["link"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    f = firm_indicators(lk.firms)
    parcel_figures(geo.frame, f, lk.pairs)
    t["indicators"] = time.perf_counter() - t0
    return t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for n in (int(s) for s in args.sizes.split(",")):
            paths = make_city(n, Path(d) / str(n))
            b = baseline(paths)
            t = spine(paths)
            total = sum(t.values())
            rows.append({"parcels=firms": n, **{k: round(v, 2) for k, v in t.items()}, "parkland total s": round(total, 2),
                         "baseline s": round(b, 2), "ratio": round(total / b, 2)})
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
