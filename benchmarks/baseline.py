"""The baseline: what an analyst writes by hand with geopandas defaults on a bureau's delivery.

Read the parcel layer and the firm table, join firms to parcels on the parcel code, tax per mu for each firm
and each parcel, an ``explore()`` map saved to HTML, the parcels written to a GeoPackage and the firms to CSV.

    python benchmarks/baseline.py CITY_DIR OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd


def baseline(city: Path, out: Path) -> None:
    """read → join on 宗地代码 → 税收/亩 → explore() map → GPKG + CSV, all with library defaults."""
    out.mkdir(parents=True, exist_ok=True)
    p = gpd.read_file(city / "parcels.gpkg", layer="zongdi")
    f = pd.read_csv(city / "firms.csv", encoding="gbk", dtype={"宗地代码": str, "统一社会信用代码": str})
    p["mu"] = p.area * 15 / 10000  # EPSG:4523 is a projected Gauss–Krüger zone: square metres
    f["宗地代码"] = f["宗地代码"].str.split("、").str[0]
    j = f.merge(p[["宗地代码", "mu"]].drop_duplicates("宗地代码"), on="宗地代码", how="left")
    j["tax_per_mu"] = j["税收实际入库（万元）"] / j["mu"]
    per = j.groupby("宗地代码", as_index=False).agg(tax=("税收实际入库（万元）", "sum"), firms=("企业名称", "count"))
    p = p.merge(per, on="宗地代码", how="left")
    p["tax_per_mu"] = (p["tax"] / p["mu"]).replace([np.inf, -np.inf], np.nan)  # bow-ties have area 0
    p = p[p.geometry.notna()]
    p.explore(column="tax_per_mu").save(str(out / "map.html"))
    p.to_file(out / "parcels.gpkg")
    j.to_csv(out / "firms.csv", index=False)


if __name__ == "__main__":
    baseline(Path(sys.argv[1]), Path(sys.argv[2]))
