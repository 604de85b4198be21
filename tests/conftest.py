"""Shared fixtures: a small hand-made park in EPSG:4523 whose every figure can be computed by hand."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely

from parkland.uscc import make

#: square metres in one 亩
M2_PER_MU = 10000 / 15
X0, Y0 = 35_600_000.0, 3_400_000.0  # zone-35 prefixed eastings near 106°E, 30.7°N

USCC = {k: make(f"91511302MA{i:07d}") for i, k in enumerate("ABCDEFGH", start=1)}


def rect(x: float, y: float, w: float, h: float) -> shapely.Polygon:
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


@pytest.fixture
def small_park(tmp_path):
    """Four parcels (30, 15, 45 and 4.5 亩) in a GPKG, and a GBK CSV of 8 firms with revenue in 元.

    Firms (hand-computed expectations in the tests):
    A  on P1 + P2 (codes joined by 、) → 45 亩; tax 90 万元 → 2 万元/亩; revenue 9,000,000 元 = 900 万元 → 20/亩
    B  tenant with no code, linked by the link table to P3 with share 0.2 → 9 亩; tax 9 → 1/亩
    C  landholder of P3 (权利人证件号 = C's code) → keeps 0.8 × 45 = 36 亩; tax 72 → 2/亩
    D  code 511302001001GB09999 not in the layer → parcel_not_found
    E  no code, reported 12 亩 → land_source reported; tax 6 → 0.5/亩
    F  bad check digit credit code, on P4 (4.5 亩); tax 9 → 2/亩; listed in reconciliation
    G  repeats A's credit code → not_graded, "duplicate of row 2" (the CSV line of A)
    H  no code, nothing → no_land
    """
    parcels = gpd.GeoDataFrame({
        "宗地代码": ["511302001001GB00001", "511302001001GB00002", "511302001001GB00003", "511302001001GB00004"],
        "用途": ["工业用地"] * 4,
        "宗地面积": [20000.0, 15.0, 3.0, 3000.0],
        "面积单位": ["平方米", "亩", "公顷", "平方米"],
        "权利人": [None, None, "丙公司", None],
        "权利人证件号": [None, None, USCC["C"], None],
        "园区": ["一园", "一园", "一园", "二园"],
    }, geometry=[rect(0, 0, 200, 100), rect(300, 0, 100, 100), rect(0, 300, 300, 100), rect(500, 0, 60, 50)],
        crs="EPSG:4523")
    gpkg = tmp_path / "parcels.gpkg"
    parcels.to_file(gpkg, layer="zongdi", driver="GPKG")
    bad_f = USCC["F"][:-1] + ("0" if USCC["F"][-1] != "0" else "1")
    rows = [
        ["企业名称", "统一社会信用代码", "宗地代码", "企业规模", "营业收入（元）", "税收（万元）", "用地面积（亩）"],
        ["甲公司", USCC["A"], "511302001001GB00001、511302001001GB00002", "规上", "9,000,000", "90", ""],
        ["乙公司", USCC["B"], "", "规上", "1000000", "9", ""],
        ["丙公司", USCC["C"], "", "规上", "7200000", "72", ""],
        ["丁公司", USCC["D"], "511302001001GB09999", "规下", "100000", "1", ""],
        ["戊公司", USCC["E"], "", "规下", "600000", "6", "12"],
        ["己公司", bad_f, "511302001001GB00004", "规上", "900000", "9", ""],
        ["庚公司", USCC["A"], "511302001001GB00003", "规上", "100", "50", ""],
        ["辛公司", USCC["H"], "", "规下", "", "—", ""],
    ]
    csv = tmp_path / "firms.csv"
    csv.write_bytes(("\r\n".join(",".join(f'"{c}"' for c in r) for r in rows) + "\r\n").encode("gbk"))
    links = tmp_path / "links.csv"
    links.write_text("统一社会信用代码,宗地代码,用地比例\n" + f"{USCC['B']},511302001001GB00003,0.2\n", encoding="utf-8")
    return {"parcels": gpkg, "firms": csv, "links": links, "bad_f": bad_f, "dir": tmp_path}


#: Debian's Chromium, driven by playwright (its own browser download does not work here)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Any:
    """Headless Chromium for one test module; missing Chromium fails under CI=true, else skips."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing on CI")
        pytest.skip(f"{CHROMIUM} is not installed")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def alone(monkeypatch):
    """This process seen as having no other thread and two cores, so parkland's forked second process
    (parkland.parallel) is used even after other test modules have left threads (dask, browsers)."""
    import os
    import threading

    me = [threading.current_thread()]
    monkeypatch.setattr(threading, "enumerate", lambda: me)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
