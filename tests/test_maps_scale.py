"""The bureau map above MAP_DETAIL_MAX parcels: a parks overview plus one detail page per park.

A hand-made city of 20 parcels in three parks (one with a hostile name) and no park, 14 firms; the
threshold is lowered to 5 so the overview path runs. Every park figure below is computed by hand.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from parkland.report import maps

try:
    from test_report_maps import _decode_strings, _unzig, _varints, payload
except ImportError:  # tests/ imported as a package
    from tests.test_report_maps import _decode_strings, _unzig, _varints, payload

X0, Y0 = 35_600_000.0, 3_400_000.0  # EPSG:4523, near 106°E, 30.7°N
JIA, YI = "甲园", "乙园"
EVIL = "</script><b>x</b>&'\"/../园"  # a park name that is hostile in HTML, JSON and paths
NONE = "未分园区"
TAX1 = 98765.432  # a distinctive tax figure: must not appear in public pages

# parcel: park, area_mu, land_area_mu, tax_wan, revenue_wan, grade, flags (idle, vacant, stopped, low)
NA = np.nan
ROWS: list[tuple[Any, ...]] = [
    (JIA, 15.0, 15.0, TAX1, 300.0, "A", ""),
    (JIA, 30.0, 30.0, 15.0, 600.0, "B", ""),
    (JIA, 7.5, 6.0, 3.0, 60.0, "C", "l"),
    (JIA, 15.0, 15.0, NA, NA, None, "il"),
    (JIA, 3.0, 3.0, 0.0, 10.0, "D", "sl"),
    (JIA, 9.0, 9.0, 9.0, 90.0, "B", ""),
    (JIA, 6.0, 6.0, NA, 20.0, None, "v"),
    (JIA, 15.0, 15.0, 45.0, 450.0, "A", ""),
    (EVIL, 15.0, 15.0, 12.0, 100.0, "A", ""),
    (EVIL, 15.0, 15.0, NA, NA, None, "il"),
    (EVIL, 30.0, 30.0, 6.0, 40.0, "C", "l"),
    (EVIL, 7.5, 7.5, 1.5, 30.0, "D", "sl"),
    (EVIL, 3.0, 3.0, 3.0, 9.0, "B", ""),
    (EVIL, 9.0, 9.0, NA, NA, None, "v"),
    (YI, 15.0, 15.0, 7.5, 75.0, "B", ""),
    (YI, 15.0, 15.0, 15.0, 150.0, "A", ""),
    (YI, 6.0, 6.0, NA, NA, None, "v"),
    (YI, 9.0, 9.0, 0.9, 9.0, "D", "l"),
    (None, 15.0, 15.0, 1.5, 30.0, "C", ""),
    ("  ", 3.0, 3.0, NA, NA, None, "i"),  # blank park → 未分园区
]
PID = [f"511302001001GB{i:05d}" for i in range(1, 21)]


def make_city() -> dict[str, Any]:
    parks = [r[0] for r in ROWS]
    col = {JIA: 0, EVIL: 1, YI: 2, None: 3, "  ": 3}
    geoms, heights = [], {}
    for r in ROWS:  # 100 m wide strips stacked per park; area_mu = 0.15 × height
        k = col[r[0]]
        y = heights.get(k, 0.0)
        h = r[1] / 0.15
        geoms.append(box(X0 + 1000 * k, Y0 + y, X0 + 1000 * k + 100, Y0 + y + h))
        heights[k] = y + h + 10
    flags = [r[6] for r in ROWS]
    parcels = gpd.GeoDataFrame({
        "source_row": np.arange(1, 21), "parcel_id": PID, "park": parks, "county": "511302",
        "area_mu": [r[1] for r in ROWS], "land_area_mu": [r[2] for r in ROWS],
        "firm_count": [1] * 20, "tax_wan": [r[3] for r in ROWS], "revenue_wan": [r[4] for r in ROWS],
        "tax_per_mu": [r[3] / r[2] for r in ROWS], "revenue_per_mu": [r[4] / r[2] for r in ROWS],
        "grade": [r[5] for r in ROWS],
        "idle": ["i" in f for f in flags], "vacant": ["v" in f for f in flags],
        "stopped": ["s" in f for f in flags], "low_efficiency": ["l" in f for f in flags],
        "flag_reasons": ["" for _ in flags],
    }, geometry=geoms, crs=4523)
    p = PID
    firms = pd.DataFrame({
        "source_row": np.arange(1, 15),
        "uscc": [f"91511300MA6200{i:04d}" for i in range(1, 15)],
        "name": [f"企业{i}有限公司" for i in range(1, 15)],
        "parcel_ids": [f"{p[0]};{p[1]}", p[2], p[4], p[5], p[7], p[8], p[10], f"{p[11]};{p[12]}", p[14], p[15],
                       p[17], p[18], "", f"{p[0]};{p[14]}"],
        "park": [JIA] * 5 + [EVIL] * 3 + [YI] * 3 + [None, YI, JIA],
        "grade": ["A", "C", "D", "B", "A", "A", "C", "D", "B", "A", "D", "C", None, "T"],
        "status": ["graded"] * 12 + ["no_land", "graded"],
        "score": [91.23456] * 14,
        "land_mu": [45.0, 6.0, 3.0, 9.0, 15.0, 15.0, 30.0, 10.5, 15.0, 15.0, 9.0, 15.0, NA, 30.0],
        "tax_per_mu": [7777.125] * 14,
        "lon": [NA] * 12 + [106.2, NA], "lat": [NA] * 12 + [30.75, NA],
    })
    firms.loc[5, "name"] = "<img src=x onerror=alert(1)>"
    cleanup = pd.DataFrame({"parcel_id": [p[3], p[9], p[19], p[4], p[11]], "rank": [1, 2, 3, 4, 5],
                            "selected": [True, True, True, False, False]})
    return {"parcels": parcels, "firms": firms, "cleanup": cleanup}


#: hand-computed park figures; Σtax and Σrevenue over the parcels reporting them, ÷ their land_area_mu
EXPECTED: dict[str, dict[str, float]] = {
    JIA: {"parcels": 8, "area_mu": 100.5, "firms": 6, "grade_A": 2, "grade_B": 1, "grade_C": 1, "grade_D": 1,
          "grade_T": 1, "tax_wan": TAX1 + 15 + 3 + 0 + 9 + 45, "tax_per_mu": (TAX1 + 72) / (15 + 30 + 6 + 3 + 9 + 15),
          "revenue_per_mu": 1530 / (15 + 30 + 6 + 3 + 9 + 6 + 15),
          "idle_mu": 15, "vacant_mu": 6, "stopped_mu": 3, "low_efficiency_mu": 25.5, "cleanup_mu": 15},
    EVIL: {"parcels": 6, "area_mu": 79.5, "firms": 3, "grade_A": 1, "grade_B": 0, "grade_C": 1, "grade_D": 1,
           "grade_T": 0, "tax_wan": 22.5, "tax_per_mu": 22.5 / 55.5, "revenue_per_mu": 179 / 55.5,
           "idle_mu": 15, "vacant_mu": 9, "stopped_mu": 7.5, "low_efficiency_mu": 52.5, "cleanup_mu": 15},
    YI: {"parcels": 4, "area_mu": 45.0, "firms": 4, "grade_A": 1, "grade_B": 1, "grade_C": 0, "grade_D": 1,
         "grade_T": 0, "tax_wan": 23.4, "tax_per_mu": 23.4 / 39, "revenue_per_mu": 234 / 39,
         "idle_mu": 0, "vacant_mu": 6, "stopped_mu": 0, "low_efficiency_mu": 9, "cleanup_mu": 0},
    NONE: {"parcels": 2, "area_mu": 18.0, "firms": 1, "grade_A": 0, "grade_B": 0, "grade_C": 1, "grade_D": 0,
           "grade_T": 0, "tax_wan": 1.5, "tax_per_mu": 0.1, "revenue_per_mu": 2.0,
           "idle_mu": 3, "vacant_mu": 0, "stopped_mu": 0, "low_efficiency_mu": 0, "cleanup_mu": 3},
}
ORDER = sorted(EXPECTED, key=str)  # parks are numbered in text order: </script>…, 乙园, 未分园区, 甲园
PARCELS_OF = {JIA: PID[0:8], EVIL: PID[8:14], YI: PID[14:18], NONE: PID[18:20]}
FIRMS_OF = {JIA: {1, 2, 3, 4, 5, 14}, EVIL: {6, 7, 8}, YI: {9, 10, 11, 13, 14}, NONE: {12}}  # 14 is in two


@pytest.fixture(scope="module")
def city() -> dict[str, Any]:
    return make_city()


def _write(root: Path, city: dict[str, Any], **kw: Any) -> tuple[Path, list[str]]:
    path = root / "map.html"
    w = maps.write_map(path, city["parcels"], city["firms"], cleanup=city["cleanup"], detail_max=5, **kw)
    return path, w


@pytest.fixture(scope="module")
def internal(city: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path, w = _write(tmp_path_factory.mktemp("internal"), city)
    assert w == []
    return path


@pytest.fixture(scope="module")
def public(city: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path, w = _write(tmp_path_factory.mktemp("public"), city, public=True)
    assert w == []
    return path


def _data(path: Path) -> dict[str, Any]:
    return payload(path.read_text(encoding="utf-8"))


def _field(ov: dict[str, Any], key: str) -> dict[str, float | None]:
    f = next(f for f in ov["fields"] if f["k"] == key)
    return dict(zip(ov["name"], f["v"], strict=True))


# ---------------------------------------------------------------------------- figures
def test_park_overview_figures(city: dict[str, Any]) -> None:
    st = maps.park_overview(city["parcels"], city["firms"], cleanup=city["cleanup"])
    assert list(st.index) == ORDER
    for park, exp in EXPECTED.items():
        for key, v in exp.items():
            assert st.loc[park, key] == pytest.approx(v, rel=1e-12, abs=1e-12), (park, key)
    # revenue sum of 甲园 includes parcel 7 (revenue without tax): 300+600+60+10+90+20+450
    assert st.loc[JIA, "revenue_wan"] == 1530.0


def test_overview_page_carries_the_figures(internal: Path) -> None:
    data = _data(internal)
    assert data["mode"] == "overview" and data["public"] is False
    ov = data["overview"]
    assert ov["n"] == 4 and ov["total"] == 20 and ov["name"] == ORDER
    assert ov["hull"] == [True] * 4  # no boundaries given: hulls of the parcels
    for key in ("parcels", "area_mu", "firms", "tax_per_mu", "revenue_per_mu", "idle_mu", "vacant_mu",
                "stopped_mu", "low_efficiency_mu", "cleanup_mu"):
        got = _field(ov, key)
        for park in ORDER:
            assert got[park] == pytest.approx(EXPECTED[park][key], rel=1e-12, abs=1e-12), (park, key)
    grades = {g["g"]: dict(zip(ov["name"], g["v"], strict=True)) for g in ov["grades"]}
    for park in ORDER:
        for g in "ABCDT":
            assert grades[g][park] == EXPECTED[park][f"grade_{g}"]
    # the colours: 亩均税收 classes of the park values, the same quantile breaks as the detail map
    tax = next(lay for lay in data["layers"] if lay["key"] == "tax_per_mu")
    assert tax["on"] is True and tax["breaks"] == maps.nice_breaks([EXPECTED[p]["tax_per_mu"] for p in ORDER])
    assert tax["v"] == pytest.approx([EXPECTED[p]["tax_per_mu"] for p in ORDER], rel=1e-12)


def _features(g: dict[str, Any]) -> list[list[np.ndarray]]:
    """The page's geometries() in Python: per feature, its rings as (lon, lat) arrays."""
    rings, parts, feats = _varints(g["r"]), _varints(g["p"]), _varints(g["g"])
    xy = np.cumsum(_unzig(_varints(g["c"]).astype(np.int64)).reshape(-1, 2), axis=0) / g["s"]
    out, k, r, p = [], 0, 0, 0
    for nparts in feats:
        feat = []
        for _ in range(int(nparts)):
            for _ in range(int(parts[p])):
                feat.append(xy[k:k + int(rings[r])])
                k += int(rings[r])
                r += 1
            p += 1
        out.append(feat)
    return out


def test_park_hull_is_its_parcels_extent(internal: Path, city: dict[str, Any]) -> None:
    """乙园's four strips are stacked: their convex hull is the box around them (corners in lon/lat)."""
    ov = _data(internal)["overview"]
    feats = _features(ov["geom"])
    assert len(feats) == 4
    ring = feats[ov["name"].index(YI)][0]
    par = city["parcels"]
    corners = box(*par[par["park"] == YI].total_bounds)
    want = gpd.GeoSeries([corners], crs=4523).to_crs(4326).get_coordinates().to_numpy()[:4]
    assert len(ring) == 4
    assert sorted(map(tuple, np.round(ring, 6))) == sorted(map(tuple, np.round(want, 6)))


def test_boundaries_when_given(city: dict[str, Any], tmp_path: Path) -> None:
    par = city["parcels"]
    jia = par[par["park"] == JIA].geometry.union_all().envelope.buffer(30)
    extra = box(X0 + 5000, Y0, X0 + 5500, Y0 + 500)
    parks = gpd.GeoDataFrame({"park": [JIA, "丙园"]}, geometry=[jia, extra], crs=4523)
    path, w = _write(tmp_path, city, parks=parks)
    assert w == []
    ov = _data(path)["overview"]
    assert ov["name"] == [*ORDER, "丙园"]  # a park with a boundary and no parcel comes last
    hull = dict(zip(ov["name"], ov["hull"], strict=True))
    assert hull == {EVIL: True, YI: True, NONE: True, JIA: False, "丙园": False}
    assert _field(ov, "parcels")["丙园"] == 0 and _field(ov, "firms")["丙园"] == 0
    assert dict(zip(ov["name"], ov["href"], strict=True))["丙园"] is None
    assert _field(ov, "tax_per_mu")["丙园"] is None
    # the 甲园 detail page draws the given boundary
    href = dict(zip(ov["name"], ov["href"], strict=True))[JIA]
    det = _data(path.parent / unquote(href))
    assert det["parks"]["hull"] is False and det["parks"]["name"] == [JIA]


# ---------------------------------------------------------------------------- files
def _files(path: Path) -> list[Path]:
    return sorted((path.parent / maps.PARK_MAPS_DIR).iterdir())


def test_detail_pages_hold_their_parks(internal: Path) -> None:
    files = _files(internal)
    assert [f.name for f in files] == [
        "park_001_script_b_x_b_园.html", "park_002_乙园.html", "park_003_未分园区.html", "park_004_甲园.html"]
    ov = _data(internal)["overview"]
    for park, href in zip(ov["name"], ov["href"], strict=True):
        target = (internal.parent / unquote(href)).resolve()
        assert target.is_file() and target.parent == (internal.parent / maps.PARK_MAPS_DIR).resolve()
        d = _data(target)
        assert d["mode"] == "detail"
        assert _decode_strings(d["parcels"]["id"]) == PARCELS_OF[park]
        names = set(_decode_strings(d["firms"]["name"]))
        want = {"<img src=x onerror=alert(1)>" if i == 6 else f"企业{i}有限公司" for i in FIRMS_OF[park]}
        assert names == want, park
        assert d["home"]["href"] == "../map.html"
    assert {p.name for p in internal.parent.iterdir()} == {"map.html", maps.PARK_MAPS_DIR}


def test_hostile_park_name_is_escaped(internal: Path) -> None:
    for f in [internal, *_files(internal)]:
        doc = f.read_text(encoding="utf-8")
        assert "<b>x</b>" not in doc and "</script><b>" not in doc and "<img" not in doc
        assert doc.count("</script>") == 3  # data, Leaflet, map.js: nothing closed early
    ov = _data(internal)["overview"]
    assert EVIL in ov["name"]  # intact as data


def test_public_pages_have_no_money_or_score(public: Path, internal: Path) -> None:
    needles = ["98765", "98,765", "91.23", "9123", "7777", "777712", "tax_per_mu", "revenue_per_mu", "tax_wan",
               "revenue_wan", "score", "1,267", "1267.1"]  # 1267.1… = 甲园's internal 亩均税收
    assert f"{EXPECTED[JIA]['tax_per_mu']:.1f}" == "1267.1"
    files = [public, *_files(public)]
    assert len(files) == 5
    for f in files:
        doc = f.read_text(encoding="utf-8")
        data = payload(doc)
        assert data["public"] is True
        text = json.dumps(data, ensure_ascii=False)
        for needle in needles:
            assert needle not in text, (f.name, needle)
    ov = _data(public)["overview"]
    assert [f["k"] for f in ov["fields"]] == ["parcels", "area_mu", "firms", "idle_mu", "vacant_mu", "stopped_mu",
                                              "low_efficiency_mu", "cleanup_mu"]
    assert [lay["kind"] for lay in _data(public)["layers"]] == ["plain", "labels"]
    # the internal overview does carry the figure, so the check above means something
    text = json.dumps(_data(internal), ensure_ascii=False)
    assert "1267.1" in text and "tax_per_mu" in text and "revenue_per_mu" in text


def test_below_threshold_nothing_changes(city: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "map.html"
    assert maps.write_map(path, city["parcels"], city["firms"], detail_max=20) == []
    assert _data(path)["mode"] == "detail" and _data(path)["parcels"]["n"] == 20
    assert maps.write_map(path, city["parcels"], city["firms"]) == []  # default: MAP_DETAIL_MAX
    assert maps.MAP_DETAIL_MAX == 200_000
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]
    maps.write_map(path, city["parcels"], city["firms"], detail_max=19)
    assert _data(path)["mode"] == "overview"


def test_rewrite_removes_stale_park_pages(city: dict[str, Any], tmp_path: Path) -> None:
    _write(tmp_path, city, lang="en")  # English: the no-park page is park_002_no_park.html
    mdir = tmp_path / maps.PARK_MAPS_DIR
    assert "park_002_no_park.html" in {f.name for f in mdir.iterdir()}
    (mdir / "notes.txt").write_text("mine", encoding="utf-8")
    _write(tmp_path, city)
    assert sorted(f.name for f in mdir.iterdir()) == [
        "notes.txt", "park_001_script_b_x_b_园.html", "park_002_乙园.html", "park_003_未分园区.html", "park_004_甲园.html"]


def test_render_dir_overview(city: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    city["parcels"].to_file(out / "parcels.gpkg", layer="parcels", engine="pyogrio")
    city["firms"].to_csv(out / "firms.csv", index=False, encoding="utf-8-sig")
    paths, warnings = maps.render_dir(out, detail_max=5)
    assert warnings == []
    assert [p.relative_to(out).as_posix() for p in paths] == [
        "map.html", *(f"map_parks/{f.name}" for f in _files(out / "map.html"))]
    data = _data(out / "map.html")
    assert data["mode"] == "overview" and data["overview"]["total"] == 20
    assert _field(data["overview"], "tax_per_mu")[YI] == pytest.approx(0.6, rel=1e-12)
    # per_park keeps its own layout (index.html + pages in the folder)
    mdir = tmp_path / "pp"
    pp, _ = maps.render_dir(out, mdir, per_park=True, detail_max=5)
    assert sorted(p.name for p in pp) == ["index.html", *(f.name for f in _files(out / "map.html"))]


# ---------------------------------------------------------------------------- browser
@pytest.mark.browser
def test_overview_in_chromium(browser: Any, internal: Path) -> None:
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    errors: list[str] = []
    blocked: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def route(r: Any) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    try:
        page.goto(internal.as_uri())
        assert page.evaluate("window.parkland.ready") == 4
        assert page.evaluate("[window.parkland.features, window.parkland.mode, window.parkland.parcels]") == [
            4, "overview", 20]
        assert page.evaluate("window.parkland.openAll()") == 4
        i = ORDER.index(JIA)
        assert page.evaluate(f"window.parkland.openPark({i})") is True
        text = page.inner_text(".leaflet-popup-content")
        assert "甲园" in text and "100.50" in text and "1,267.15" in text and "A类 2" in text
        assert page.locator(".pk-park-label").count() == 4
        assert "</script><b>x</b>" in page.inner_text(".pk-parklist")  # shown as text, not markup
        assert page.locator(".pk-parklist b").count() == 0
        link = page.locator(".leaflet-popup-content a.pk-open")
        assert unquote(link.get_attribute("href")) == "map_parks/park_004_甲园.html"
        page.evaluate("document.querySelector('.leaflet-popup-content a.pk-open').click()")  # as a user's click
        page.wait_for_url(re.compile(r".*park_004_.*\.html$"))
        assert page.evaluate("window.parkland.ready") == 8
        assert page.evaluate("[window.parkland.mode, window.parkland.features]") == ["detail", 8]
        assert page.locator("a.pk-home").get_attribute("href") == "../map.html"
        assert errors == [] and blocked == []
    finally:
        page.close()
