"""Benchmarks of the land-diagnosis geometry: building overlay and raster zonal statistics.

Run: ``.venv/bin/python benchmarks/bench_land.py [--parcels N] [--buildings M] [--raster-size S]``

1. ``building_metrics`` on N parcels (a grid of 60 m squares) and M buildings (rectangles in three slots per
   parcel, ~10% straddling two parcels, ~3% overlapping their neighbour), against ``geopandas.overlay`` + ``dissolve``
   (the textbook way) on a sample, printing seconds.
2. ``zonal_stats`` against calling ``exactextract.exact_extract`` alone on the same parcels (already in
   the raster CRS) and the same S×S raster, printing the ratio (target ≤ 1.2).
3. ``diagnose`` on N parcels with 1.5 N firms and every rule active. With ``--reference FILE`` (an earlier
   ``parkland/land.py``, e.g. ``git show HEAD~1:parkland/land.py > /tmp/land_old.py``), that version's
   ``diagnose`` too, on the same data in the same process (alternately, best of 2), checking that both give
   the same frame, records and counts, and printing the ratio.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
import shapely
from affine import Affine
from exactextract import exact_extract

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from parkland.geo.buildings import building_metrics
from parkland.geo.zonal import zonal_stats
from parkland.land import diagnose

CRS = "EPSG:4544"  # CGCS2000 3° GK zone 35 (CM 105°E), no prefix
X0, Y0 = 500_000.0, 3_400_000.0
CELL = 60.0


def make_parcels(n: int) -> gpd.GeoDataFrame:
    side = int(np.ceil(np.sqrt(n)))
    k = np.arange(n)
    x = X0 + (k % side) * CELL
    y = Y0 + (k // side) * CELL
    geom = shapely.box(x, y, x + CELL, y + CELL)
    return gpd.GeoDataFrame({"source_row": k + 1, "parcel_id": k.astype(str)}, geometry=geom, crs=CRS)


def make_buildings(m: int, n: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Buildings in three slots per parcel (x offsets 0, 20, 40 m), 5–15 m wide; about 10% straddle
    the parcel's west edge and 3% are 30 m wide and overlap their neighbour."""
    side = int(np.ceil(np.sqrt(n)))
    k = np.arange(m)
    p = k % n
    slot = (k // n) % 3
    x = X0 + (p % side) * CELL + slot * 20.0 + rng.uniform(1, 4, m)
    straddle = (slot == 0) & (rng.random(m) < 0.3)
    x = np.where(straddle, x - 6.0, x)
    y = Y0 + (p // side) * CELL + rng.uniform(0, CELL - 15, m)
    w = np.where(rng.random(m) < 0.03, 30.0, rng.uniform(5, 15, m))
    h = rng.uniform(8, 15, m)
    geom = shapely.box(x, y, x + w, y + h)
    return gpd.GeoDataFrame({"层数": rng.integers(1, 6, m), "层高": rng.choice([4.5, 9.0], m),
                             "使用状态": rng.choice(["在用", "闲置"], m, p=[0.95, 0.05])},
                            geometry=geom, crs=CRS)


def bench_buildings(n: int, m: int, rng: np.random.Generator) -> None:
    parcels = make_parcels(n)
    buildings = make_buildings(m, n, rng)
    t = time.perf_counter()
    res = building_metrics(parcels, buildings)
    t_ours = time.perf_counter() - t
    # geographic input: the same buildings in EPSG:4490 (overlay in the GK zone of each parcel)
    b_geo = buildings.to_crs(4490)
    t = time.perf_counter()
    building_metrics(parcels, b_geo)
    t_reproj = time.perf_counter() - t
    # textbook way on a 5% sample, scaled
    k = max(n // 20, 1)
    sub_p = parcels.iloc[:k]
    sub_b = buildings.iloc[shapely.STRtree(np.asarray(buildings.geometry.array)).query(
        np.asarray(sub_p.geometry.array), predicate="intersects")[1]].drop_duplicates()
    t = time.perf_counter()
    ov = gpd.overlay(sub_p[["parcel_id", "geometry"]], sub_b[["geometry"]], how="intersection")
    ov.dissolve("parcel_id")
    t_overlay = (time.perf_counter() - t) * (n / k)
    cov = res.frame["building_coverage"]
    print(f"| building_metrics, {n:,} parcels × {m:,} buildings (same CRS) | {t_ours:.2f} s |")
    print(f"| building_metrics, buildings in EPSG:4490 (reprojected) | {t_reproj:.2f} s |")
    print(f"| geopandas.overlay + dissolve (5% sample, scaled to all) | {t_overlay:.2f} s |")
    print(f"| mean coverage / FAR / idle floor m² | {cov.mean():.3f} / {res.frame['far'].mean():.3f} / "
          f"{res.frame['idle_floor_m2'].sum():,.0f} |")


def bench_zonal(n: int, size: int, rng: np.random.Generator, tmp: Path) -> None:
    parcels = make_parcels(n)
    extent = (int(np.ceil(np.sqrt(n))) * CELL) * 1.02
    res = extent / size
    path = tmp / "ndvi.tif"
    arr = rng.uniform(-0.2, 0.9, (size, size)).astype("float32")
    arr[rng.random((size, size)) < 0.01] = -9999.0
    with rasterio.open(path, "w", driver="GTiff", width=size, height=size, count=1, dtype="float32",
                       crs=CRS, transform=Affine(res, 0, X0 - 0.01 * extent, 0, -res, Y0 + extent * 0.99),
                       nodata=-9999.0, tiled=True, blockxsize=256, blockysize=256) as ds:
        ds.write(arr, 1)
    rows = []
    for _rep in range(2):
        t = time.perf_counter()
        with rasterio.open(path) as ds:
            exact_extract(ds, parcels, ["mean", "count"], output="pandas")
        t_alone = time.perf_counter() - t
        t = time.perf_counter()
        zonal_stats(parcels, {"ndvi": path})
        t_ours = time.perf_counter() - t
        rows.append((t_alone, t_ours))
    alone = min(r[0] for r in rows)
    ours = min(r[1] for r in rows)
    print(f"| exactextract alone, {n:,} parcels on {size}×{size} raster (best of 2) | {alone:.2f} s |")
    print(f"| parkland zonal_stats, same data (best of 2) | {ours:.2f} s |")
    print(f"| ratio | {ours / alone:.3f} |")


def _load_reference(path: str):
    """An earlier land.py as a module of its own (its ``diagnose``, next to the current one)."""
    spec = importlib.util.spec_from_file_location("land_reference", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["land_reference"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def bench_diagnose(n: int, rng: np.random.Generator, reference: str | None = None) -> None:
    """diagnose() on n parcels with 1.5 n firms, last year's table and every rule active."""
    import pandas as pd

    day = pd.to_timedelta(rng.integers(0, 1500, n), "D")
    p = pd.DataFrame({
        "source_row": np.arange(1, n + 1), "parcel_id": np.arange(n).astype(str), "area_m2": 10000.0,
        "area_mu": 15.0, "park": rng.choice(["A", "B", "C"], n), "firm_count": rng.integers(0, 3, n),
        "tax_wan": rng.uniform(0, 300, n), "agreed_start": pd.Timestamp("2020-01-01") + day,
        "actual_start": pd.Timestamp("2020-03-01") + day[::-1], "stopped_since": pd.Timestamp("2021-01-01") + day,
        "developed_share": rng.uniform(0, 1, n), "agreed_completion": pd.Timestamp("2021-01-01") + day,
        "building_count": rng.integers(0, 4, n), "far": rng.uniform(0, 2, n),
        "building_coverage": rng.uniform(0, 0.6, n), "grade": rng.choice(list("ABCD"), n),
        "industry_code": rng.choice(["3811", "2611", "1310", "4320"], n)})
    p["tax_per_mu"] = p["tax_wan"] / p["area_mu"]
    m = n * 3 // 2
    firms = pd.DataFrame({"source_row": np.arange(1, m + 1), "uscc": [f"U{i}" for i in range(m)],
                          "revenue_wan": rng.choice([0.0, 10.0], m), "tax_wan": rng.choice([0.0, 1.0], m),
                          "electricity_10k_kwh": rng.choice([0.0, np.nan, 1.0], m),
                          "industry_code": rng.choice(["3811", "2611", "1310"], m)})
    pairs = pd.DataFrame({"firm_row": np.arange(1, m + 1), "parcel_row": rng.integers(1, n + 1, m)})
    prev = firms.assign(revenue_wan=firms["revenue_wan"] * 5 + 1)
    args = (p, firms, pairs)
    kw = {"as_of": "2023-12-31", "thresholds": {}, "previous_firms": prev}
    t = time.perf_counter()
    res = diagnose(*args, **kw)
    print(f"| diagnose, {n:,} parcels, {m:,} firms, all rules | {time.perf_counter() - t:.2f} s |")
    if reference:
        import pandas.testing as pdt

        ref = _load_reference(reference)
        best = {"reference": np.inf, "current": np.inf}
        for _rep in range(2):
            for name, fn in (("reference", ref.diagnose), ("current", diagnose)):
                t = time.perf_counter()
                out = fn(*args, **kw)
                best[name] = min(best[name], time.perf_counter() - t)
                if name == "reference":
                    pdt.assert_frame_equal(res.frame, out.frame, check_exact=True)
                    pdt.assert_frame_equal(res.recon, out.recon, check_exact=True)
                    assert res.meta == out.meta
        print(f"| diagnose, reference {reference} (best of 2) | {best['reference']:.2f} s |")
        print(f"| diagnose, current (best of 2; same frame, records and counts) | {best['current']:.2f} s |")
        print(f"| ratio reference / current | {best['reference'] / best['current']:.1f} |")
    c = res.meta["counts"]
    print(f"| flagged idle / vacant / stopped / low-efficiency | {c['idle']:,} / {c['vacant']:,} / "
          f"{c['stopped']:,} / {c['low_efficiency']:,} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parcels", type=int, default=100_000)
    ap.add_argument("--buildings", type=int, default=300_000)
    ap.add_argument("--raster-size", type=int, default=3000)
    ap.add_argument("--skip-zonal", action="store_true")
    ap.add_argument("--skip-buildings", action="store_true")
    ap.add_argument("--skip-diagnose", action="store_true")
    ap.add_argument("--reference", default=None, help="an earlier parkland/land.py to time diagnose against")
    a = ap.parse_args()
    rng = np.random.default_rng(20240501)
    print("| step | time |\n|---|---|")
    if not a.skip_buildings:
        bench_buildings(a.parcels, a.buildings, rng)
    if not a.skip_diagnose:
        bench_diagnose(a.parcels, rng, a.reference)
    if not a.skip_zonal:
        with tempfile.TemporaryDirectory() as d:
            bench_zonal(a.parcels, a.raster_size, rng, Path(d))


if __name__ == "__main__":
    main()
