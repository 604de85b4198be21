"""Bureau map benchmark: file size, build time and draw time in headless Chromium for synthetic cities,
beside geopandas ``explore()`` (build time and size; its page loads Leaflet from a CDN, so it is not
drawn offline).

    python benchmarks/bench_maps.py --sizes 10000,100000 [--explore-sizes 10000] [--public]

Synthetic parcels: a jittered grid of 80 m blocks in EPSG:4523 (near 106.1°E, 30.8°N), each a ring of
5–9 vertices (a rectangle with 1–5 extra vertices on its edges), grades A–D/T/none, flags, ~0.8 firms
per parcel with score parts, 2 % landless firms with coordinates, 20 parks.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parkland.report import maps

CHROMIUM = "/usr/bin/chromium"


_CHARS = np.array(list("华泰信达恒瑞鑫源兴盛宏远金川蜀丰天成嘉禾润通博宇新奥科创立德汇美康利永安锦程隆昌"
                       "福星中联长虹明阳佳航凯旋东方九洲万通启元同心海川盈峰鼎诚卓越"))
_PLACES = np.array(["四川", "南充", "四川南充", "顺庆区", "高坪区", "嘉陵区", "阆中", "营山县", "仪陇县", ""])
_TRADES = np.array(["机械制造", "电子科技", "化工", "食品", "纺织", "汽车零部件", "新材料", "建材", "医药",
                    "能源科技", "包装", "农产品加工"])
_FORMS = np.array(["有限公司", "有限责任公司", "股份有限公司"])
_ALNUM = np.array(list("0123456789ABCDEFGHJKLMNPQRTUWXY"))


def _names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Names like 四川南充华泰机械制造有限公司: place + 2–3 brand characters + trade + form."""
    brand = _CHARS[rng.integers(0, _CHARS.size, (n, 3))]
    b = np.char.add(np.char.add(brand[:, 0], brand[:, 1]), np.where(rng.random(n) < 0.3, brand[:, 2], ""))
    out = np.char.add(_PLACES[rng.integers(0, _PLACES.size, n)], b)
    out = np.char.add(out, _TRADES[rng.integers(0, _TRADES.size, n)])
    return np.char.add(out, _FORMS[rng.integers(0, _FORMS.size, n)])


def _usccs(rng: np.random.Generator, n: int) -> np.ndarray:
    """18-character codes: 9151 + a county code + 10 random characters (check digit not computed)."""
    county = np.array(["1302", "1303", "1304", "1321", "1322", "1381"])[rng.integers(0, 6, n)]
    tail = _ALNUM[rng.integers(0, _ALNUM.size, (n, 10))].view("<U10").ravel()
    return np.char.add(np.char.add("9151", county), tail)


def synthetic(n: int, seed: int = 0) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    x0, y0 = Transformer.from_crs(4326, 4523, always_xy=True).transform(106.1, 30.8)
    side = int(np.ceil(np.sqrt(n)))
    i = np.arange(n)
    cx = x0 + (i % side) * 100.0 + rng.uniform(-5, 5, n)
    cy = y0 + (i // side) * 100.0 + rng.uniform(-5, 5, n)
    w = rng.uniform(50, 80, n)
    h = rng.uniform(50, 80, n)
    extra = rng.integers(1, 6, n)  # extra vertices on the edges
    nv = 4 + extra
    # vertices: angles around the centre, on the rectangle's outline (a star-shaped ring)
    idx = np.repeat(i, nv)
    k = np.arange(nv.sum()) - np.repeat(np.cumsum(nv) - nv, nv)
    ang = 2 * np.pi * (k + rng.uniform(-0.3, 0.3, k.size)) / np.repeat(nv, nv)
    cos, sin = np.cos(ang), np.sin(ang)
    sx = np.repeat(w / 2, nv) / np.maximum(np.abs(cos), 1e-9)
    sy = np.repeat(h / 2, nv) / np.maximum(np.abs(sin), 1e-9)
    r = np.minimum(sx, sy)
    px = np.repeat(cx, nv) + r * cos
    py = np.repeat(cy, nv) + r * sin
    rings = shapely.linearrings(np.column_stack([px, py]), indices=idx)
    geoms = shapely.make_valid(shapely.polygons(rings))
    area_mu = shapely.area(geoms) / (10000 / 15)
    tax = rng.lognormal(3, 1.2, n)
    rev = tax * rng.uniform(10, 40, n)
    grades = rng.choice(np.array(["A", "B", "C", "D", "T", None], dtype=object), n, p=[.2, .35, .2, .05, .05, .15])
    idle = rng.random(n) < 0.02
    vacant = rng.random(n) < 0.03
    stopped = rng.random(n) < 0.02
    low = rng.random(n) < 0.08
    reasons = np.where(low, "LOW_TAX;LOW_FAR", "")
    reasons = np.where(idle, "IDLE_NOT_STARTED", reasons)
    ids = np.char.add("511302001001GB", np.char.zfill(i.astype(str), 5))
    parks = np.char.add("园区", ((i % side) * 20 // side).astype(str))
    parcels = gpd.GeoDataFrame({
        "source_row": i + 1, "parcel_id": ids, "park": parks, "county": "511302",
        "area_mu": area_mu, "cert_area_mu": np.round(area_mu, 1), "firm_count": 1,
        "tax_wan": tax * area_mu, "revenue_wan": rev * area_mu, "tax_per_mu": tax, "revenue_per_mu": rev,
        "output_per_mu": rev * 1.1, "building_coverage": rng.uniform(0.1, 0.6, n), "far": rng.uniform(0.2, 2, n),
        "grade": grades, "idle": idle, "vacant": vacant, "stopped": stopped, "low_efficiency": low | idle,
        "flag_reasons": reasons,
    }, geometry=geoms, crs=4523)
    nf = int(n * 0.8)
    fi = rng.choice(n, nf, replace=False)  # firms in random order, as tables come
    firms = pd.DataFrame({
        "source_row": np.arange(1, nf + 1),
        "uscc": _usccs(rng, nf),
        "name": _names(rng, nf),
        "parcel_ids": ids[fi], "land_mu": area_mu[fi], "status": "graded", "grade": grades[fi],
        "score": rng.uniform(20, 100, nf), "part_tax_per_mu": rng.uniform(0, 30, nf),
        "part_revenue_per_mu": rng.uniform(0, 20, nf), "part_value_added_per_mu": rng.uniform(0, 20, nf),
        "tax_per_mu": tax[fi], "revenue_per_mu": rev[fi], "lon": np.nan, "lat": np.nan,
    })
    nl = max(1, n // 50)
    landless = pd.DataFrame({
        "source_row": np.arange(nf + 1, nf + nl + 1),
        "uscc": _usccs(rng, nl), "name": _names(rng, nl), "parcel_ids": "", "status": "no_land",
        "lon": 106.1 + rng.uniform(0, 0.01 * side / 10, nl), "lat": 30.8 + rng.uniform(0, 0.01 * side / 10, nl),
    })
    return parcels, pd.concat([firms, landless], ignore_index=True)


def draw_time(path: Path, browser) -> tuple[float, float, int]:
    """(seconds from navigation to window.parkland.ready, the page's own drawMs / 1000, features)."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    t = time.perf_counter()
    page.goto(path.as_uri(), timeout=120_000)
    n = page.evaluate("window.parkland.ready")
    wall = time.perf_counter() - t
    inner = page.evaluate("window.parkland.drawMs") / 1000
    page.close()
    if errors:
        raise RuntimeError(errors)
    return wall, inner, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--explore-sizes", default="10000", help="sizes also built with geopandas explore()")
    ap.add_argument("--public", action="store_true")
    ap.add_argument("--keep", default=None, help="folder to keep the pages in")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    explore_sizes = {int(s) for s in args.explore_sizes.split(",") if s}
    out = Path(args.keep or tempfile.mkdtemp(prefix="bench_maps_"))
    out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    rows = []
    warm_p, warm_f = synthetic(200, seed=1)  # imports and caches out of the timings
    maps.build_map_html(warm_p, warm_f, public=args.public)
    if explore_sizes:
        warm_p.explore(column="grade").get_root().render()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])
        for n in sizes:
            parcels, firms = synthetic(n)
            vert = int(shapely.get_num_coordinates(parcels.geometry.array).sum())
            t = time.perf_counter()
            doc, _ = maps.build_map_html(parcels, firms, public=args.public)
            build = time.perf_counter() - t
            path = out / f"map_{n}.html"
            path.write_text(doc, encoding="utf-8")
            size = path.stat().st_size / 1e6
            wall, inner, feats = draw_time(path, browser)
            assert feats == n, (feats, n)
            rows.append(("parkland", n, vert, build, size, wall, inner))
            print(f"parkland {n}: build {build:.2f} s, {size:.1f} MB, drawn in {wall:.2f} s", flush=True)
            if n in explore_sizes:
                t = time.perf_counter()
                m = parcels.explore(column="grade")
                html = m.get_root().render()
                ebuild = time.perf_counter() - t
                rows.append(("explore", n, vert, ebuild, len(html.encode()) / 1e6, float("nan"), float("nan")))
                print(f"explore {n}: build {ebuild:.2f} s, {len(html.encode()) / 1e6:.1f} MB", flush=True)
        browser.close()

    print()
    print(f"| {'map':9} | {'parcels':>8} | {'vertices':>9} | {'build s':>7} | {'size MB':>7} | "
          f"{'ready s (wall)':>14} | {'ready s (page)':>14} |")
    print(f"|{'-' * 11}|{'-' * 10}|{'-' * 11}|{'-' * 9}|{'-' * 9}|{'-' * 16}|{'-' * 16}|")
    for name, n, vert, build, size, wall, inner in rows:
        ws = "—" if np.isnan(wall) else f"{wall:.2f}"
        ins = "—" if np.isnan(inner) else f"{inner:.2f}"
        print(f"| {name:9} | {n:>8} | {vert:>9} | {build:>7.2f} | {size:>7.1f} | {ws:>14} | {ins:>14} |")
    skipped = sorted(set(sizes) - explore_sizes)
    if skipped:
        print(f"\nexplore() not run at {skipped} (too slow; pass --explore-sizes to include them). "
              "explore() pages load Leaflet from a CDN, so they are not drawn offline here.")
    print(f"pages in {out}")


if __name__ == "__main__":
    main()
