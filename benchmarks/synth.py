"""Synthetic cities for benchmarks: N parcels (GPKG, EPSG:4523, zone-prefixed eastings) and N firms (CSV,
Chinese headers, GBK), shaped like a bureau's delivery: a road grid of slightly rotated rectangles,
19-character 宗地代码, valid credit codes, several firms on some parcels, tenants, missing figures.

    python benchmarks/synth.py 100000 /tmp/city100k
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from parkland.uscc import ALPHABET, WEIGHTS

X0, Y0 = 35_600_000.0, 3_400_000.0


def credit_codes(n: int, rng: np.random.Generator) -> np.ndarray:
    """n valid 18-character credit codes (vectorised check digit)."""
    body = rng.integers(0, 31, size=(n, 9))
    head = np.array([9, 1, 5, 1, 1, 3, 0, 2])  # "91" + 511302
    vals = np.concatenate([np.tile(head, (n, 1)), body], axis=1)
    check = (31 - (vals @ WEIGHTS) % 31) % 31
    alpha = np.array(list(ALPHABET))
    chars = alpha[np.concatenate([vals, check[:, None]], axis=1)]
    return np.array(["".join(r) for r in chars])


def make_city(n: int, out: Path, seed: int = 7) -> dict[str, Path]:
    """Write parcels.gpkg (layer zongdi) and firms.csv for a city of n parcels and n firms."""
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    side = int(np.ceil(np.sqrt(n)))
    i = np.arange(n)
    cx = X0 + (i % side) * 260.0
    cy = Y0 + (i // side) * 260.0
    w = rng.uniform(60, 220, n)
    h = rng.uniform(50, 200, n)
    boxes = shapely.box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    ang = rng.uniform(-0.05, 0.05, n)
    coords = shapely.get_coordinates(boxes).reshape(n, 5, 2)
    c = np.stack([cx, cy], axis=1)[:, None, :]
    rot = np.stack([np.stack([np.cos(ang), -np.sin(ang)], 1), np.stack([np.sin(ang), np.cos(ang)], 1)], 1)
    coords = np.einsum("nij,nkj->nki", rot, coords - c) + c
    geoms = shapely.polygons(coords)
    codes = np.char.add("511302", np.char.add(np.char.zfill((i // 100000 + 1).astype(str), 3),
                        np.char.add(np.char.zfill((i // 1000 % 100 + 1).astype(str), 3),
                                    np.char.add("GB", np.char.zfill((i % 100000).astype(str), 5)))))
    parcels = gpd.GeoDataFrame({"宗地代码": codes, "用途": "工业用地", "园区": np.char.add("园区", (i % 20).astype(str))},
                               geometry=geoms, crs="EPSG:4523")
    ppath = out / "parcels.gpkg"
    parcels.to_file(ppath, layer="zongdi", driver="GPKG", engine="pyogrio")
    # firms: most on one parcel, 10% on a shared parcel, 5% with two parcels, 5% with no code
    fcode = codes[rng.permutation(n)]
    two = rng.random(n) < 0.05
    fcode = np.where(two, np.char.add(np.char.add(fcode, "、"), codes[rng.integers(0, n, n)]), fcode)
    fcode = np.where(rng.random(n) < 0.05, "", fcode)
    area_mu = shapely.area(geoms) * 15 / 10000
    rev = np.round(np.exp(rng.normal(np.log(430), 1.0, n)) * area_mu[rng.integers(0, n, n)], 2)
    tax = np.round(rev * rng.uniform(0.01, 0.06, n), 2)
    firms = pd.DataFrame({
        "企业名称": np.char.add("企业", i.astype(str)),
        "统一社会信用代码": credit_codes(n, rng),
        "宗地代码": fcode,
        "企业规模": np.where(rng.random(n) < 0.55, "规上", "规下"),
        "营业收入（万元）": rev,
        "税收实际入库（万元）": np.where(rng.random(n) < 0.02, np.nan, tax),
        "用电量（万千瓦时）": np.round(rev * rng.uniform(0.001, 0.01, n), 3),
        "年平均职工人数（人）": rng.integers(5, 800, n),
    })
    fpath = out / "firms.csv"
    firms.to_csv(fpath, index=False, encoding="gbk")
    return {"parcels": ppath, "firms": fpath}


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    dest = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(f"/tmp/parkland-city-{n}")
    print(make_city(n, dest))
