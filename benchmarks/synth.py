"""Synthetic cities for benchmarks: N parcels (GPKG, EPSG:4523, zone-prefixed eastings) and N firms (CSV,
Chinese headers, GBK), shaped like a bureau's delivery: a road grid of slightly rotated rectangles,
19-character 宗地代码, valid credit codes, several firms on some parcels, tenants, missing figures.
Optionally (``buildings=True``) a building layer in the same GPKG (layer ``jianzhu``: one to three
rectangles inside each parcel, 层数, 建筑面积 on some, 使用状态 闲置 on a few).

Quirks a real delivery has, at fixed small rates: repeated 宗地代码 (0.1 %), self-intersecting "bow-tie"
polygons (0.05 %), features without geometry (0.02 %), 证载面积 in 平方米 off by more than 5 % (1 %),
供地日期/约定开工日期 on some parcels (idle-land rules), firms without code (5 %), with two codes (5 %).

    python benchmarks/synth.py 100000 /tmp/city100k [--buildings]
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


def make_buildings(centre: np.ndarray, w: np.ndarray, h: np.ndarray, ang: np.ndarray, rng: np.random.Generator
                   ) -> gpd.GeoDataFrame:
    """One to three rotated rectangles inside each parcel (centre, width w, height h, rotation ang;
    vectorised), each a quarter of the parcel wide and 50–80 % of it deep (coverage ≈ 15–55 %):
    层数 1–6, 建筑面积 on 40 %, 使用状态 闲置 on 2 %."""
    n = len(centre)
    k = rng.integers(1, 4, n)
    owner = np.repeat(np.arange(n), k)
    slot = np.arange(len(owner)) - np.repeat(np.cumsum(k) - k, k)
    m = len(owner)
    bw = rng.uniform(0.22, 0.3, m) * w[owner]
    bh = rng.uniform(0.5, 0.8, m) * h[owner]
    ox = (slot - 1) * w[owner] / 3
    cx, cy = centre[owner, 0] + ox, centre[owner, 1]
    boxes = shapely.box(cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2)
    coords = shapely.get_coordinates(boxes).reshape(m, 5, 2)
    c = centre[owner][:, None, :]
    a = ang[owner]
    rot = np.stack([np.stack([np.cos(a), -np.sin(a)], 1), np.stack([np.sin(a), np.cos(a)], 1)], 1)
    coords = np.einsum("nij,nkj->nki", rot, coords - c) + c
    geom = shapely.polygons(coords)
    floors = rng.integers(1, 7, m)
    fa = np.where(rng.random(m) < 0.4, np.round(shapely.area(geom) * floors, 1), np.nan)
    state = np.where(rng.random(m) < 0.02, "闲置", "使用")
    return gpd.GeoDataFrame({"层数": floors, "建筑面积": fa, "使用状态": state}, geometry=geom, crs="EPSG:4523")


def make_city(n: int, out: Path, seed: int = 7, buildings: bool = False) -> dict[str, Path]:
    """Write parcels.gpkg (layer zongdi; with ``buildings`` also layer jianzhu) and firms.csv for a city of
    n parcels and n firms."""
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
    centre = np.stack([cx, cy], axis=1)
    # quirks: bow-ties (two corners swapped) and features without geometry
    bow = rng.random(n) < 0.0005
    if bow.any():
        bc = coords[bow].copy()
        bc[:, [1, 2]] = bc[:, [2, 1]]
        geoms[bow] = shapely.polygons(bc)
    geoms[rng.random(n) < 0.0002] = None
    codes = np.char.add("511302", np.char.add(np.char.zfill((i // 100000 + 1).astype(str), 3),
                        np.char.add(np.char.zfill((i // 1000 % 100 + 1).astype(str), 3),
                                    np.char.add("GB", np.char.zfill((i % 100000).astype(str), 5)))))
    area_m2 = shapely.area(geoms)
    cert = np.round(area_m2 * np.where(rng.random(n) < 0.01, rng.uniform(0.8, 1.2, n), 1.0), 2)
    granted = pd.Timestamp("2012-01-01") + pd.to_timedelta(rng.integers(0, 4000, n), unit="D")
    dated = rng.random(n) < 0.3
    parcel_codes = codes.copy()
    dup = np.flatnonzero(rng.random(n) < 0.001)
    parcel_codes[dup] = codes[(dup + 1) % n]
    parcels = gpd.GeoDataFrame({
        "宗地代码": parcel_codes, "用途": "工业用地", "园区": np.char.add("园区", (i % 20).astype(str)),
        "宗地面积(平方米)": cert,
        "供地日期": pd.Series(granted).where(dated).dt.strftime("%Y-%m-%d").to_numpy(object),
        "约定开工日期": pd.Series(granted + pd.Timedelta(days=365)).where(dated).dt.strftime("%Y-%m-%d")
        .to_numpy(object),
        "实际开工日期": pd.Series(granted + pd.Timedelta(days=300)).where(dated & (rng.random(n) < 0.9))
        .dt.strftime("%Y-%m-%d").to_numpy(object),
    }, geometry=geoms, crs="EPSG:4523")
    ppath = out / "parcels.gpkg"
    parcels.to_file(ppath, layer="zongdi", driver="GPKG", engine="pyogrio")
    if buildings:
        live = ~shapely.is_missing(geoms)
        b = make_buildings(centre[live], w[live], h[live], ang[live], rng)
        b.to_file(ppath, layer="jianzhu", driver="GPKG", engine="pyogrio")
    # firms: most on one parcel, 10% on a shared parcel, 5% with two parcels, 5% with no code
    fcode = codes[rng.permutation(n)]
    two = rng.random(n) < 0.05
    fcode = np.where(two, np.char.add(np.char.add(fcode, "、"), codes[rng.integers(0, n, n)]), fcode)
    fcode = np.where(rng.random(n) < 0.05, "", fcode)
    area_mu = np.nan_to_num(area_m2) * 15 / 10000
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
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 10000
    dest = Path(args[1]) if len(args) > 1 else Path(f"/tmp/parkland-city-{n}")
    print(make_city(n, dest, buildings="--buildings" in sys.argv))
