"""The bureau map (parkland.report.maps): self-contained, escaped, public-safe; fast, no browser."""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import Polygon, box

from parkland.errors import InputError
from parkland.report import maps
from parkland.report.labels import GRADE_COLORS

HOSTILE = "<img src=x onerror=alert(1)>"
SCRIPT_BREAK = "</script><script>alert(2)</script>"
TAX = 98765.432  # a distinctive tax figure: its digits must not appear in a public map
ORIGIN = (106.10, 30.80)  # near Nanchong, CGCS2000 3° zone 35 (EPSG:4523, prefixed eastings)


def make_frames(crs: int = 4523) -> dict[str, object]:
    """Six 100 m × 100 m parcels in two parks (one with a hostile name), four firms."""
    to_gk = Transformer.from_crs(4326, crs, always_xy=True)
    x0, y0 = to_gk.transform(*ORIGIN)
    geoms = [box(x0 + 150 * i, y0, x0 + 150 * i + 100, y0 + 100) for i in range(6)]
    geoms[5] = Polygon([(x0 + 750, y0), (x0 + 850, y0), (x0 + 850, y0 + 100), (x0 + 750, y0 + 100)],
                       [[(x0 + 780, y0 + 30), (x0 + 820, y0 + 30), (x0 + 820, y0 + 70), (x0 + 780, y0 + 70)]])
    area_mu = np.array([g.area for g in geoms]) / (10000 / 15)
    parcels = gpd.GeoDataFrame({
        "source_row": np.arange(1, 7),
        "parcel_id": [f"511302001001GB0000{i}" for i in range(1, 7)],
        "park": ["经开区", "经开区", "经开区", "../航空港/园区", "../航空港/园区", None],
        "county": ["511302"] * 6,
        "area_mu": area_mu,
        "cert_area_mu": [15.0, 15.0, np.nan, 15.0, 15.0, 12.6],
        "firm_count": [1, 1, 1, 0, 0, 0],
        "tax_wan": [TAX, 10.0, 200.0, 0.0, np.nan, np.nan],
        "revenue_wan": [5000.0, 80.0, 3000.0, 0.0, np.nan, np.nan],
        "tax_per_mu": [12.3456, 0.667, 13.3, 0.0, np.nan, np.nan],
        "revenue_per_mu": [333.3, 5.3, 200.0, 0.0, np.nan, np.nan],
        "output_per_mu": [400.0, 6.0, 250.0, 0.0, np.nan, np.nan],
        "building_coverage": [0.4512, 0.21, 0.35, 0.0, 0.0, np.nan],
        "far": [1.23, 0.4, 1.0, 0.0, 0.0, np.nan],
        "grade": ["A", "D", "B", None, None, None],
        "idle": [False, False, False, True, False, False],
        "vacant": [False, False, False, False, True, True],
        "stopped": [False, True, False, False, False, False],
        "low_efficiency": [False, True, False, True, True, False],
        "flag_reasons": ["", "STOPPED;LOW_TAX;GRADE_D", "", "IDLE_NOT_STARTED", "VACANT", "VACANT"],
    }, geometry=geoms, crs=crs)
    firms = pd.DataFrame({
        "source_row": [1, 2, 3, 4],
        "uscc": ["91511300MA62000001", "91511300MA62000002", "91511300MA62000003", "91511300MA62000004"],
        "name": ["南充甲机械有限公司", HOSTILE, SCRIPT_BREAK, "无地乙科技有限公司"],
        "parcel_ids": ["511302001001GB00001", "511302001001GB00002", "511302001001GB00003", ""],
        "land_mu": [15.0, 15.0, 15.0, np.nan],
        "status": ["graded", "graded", "graded", "no_land"],
        "status_reason": [None, None, None, "无宗地"],
        "grade": ["A", "D", "B", None],
        "score": [88.5, 31.25, 66.0, np.nan],
        "part_tax_per_mu": [30.12, 1.5, 20.0, np.nan],
        "part_revenue_per_mu": [20.5, 0.5, 10.0, np.nan],
        "tax_per_mu": [12.3456, 0.667, 13.3, np.nan],
        "revenue_per_mu": [333.3, 5.3, 200.0, np.nan],
        "lon": [np.nan, np.nan, np.nan, 106.105],
        "lat": [np.nan, np.nan, np.nan, 30.797],
    })
    cleanup = pd.DataFrame({"rank": [1, 2, 3], "parcel_id": ["511302001001GB00004", "511302001001GB00002",
                                                            "511302001001GB00005"],
                            "park": ["../航空港/园区", "经开区", "../航空港/园区"],
                            "area_mu": area_mu[[3, 1, 4]], "reasons": ["IDLE_NOT_STARTED", "STOPPED", "VACANT"],
                            "cumulative_mu": np.cumsum(area_mu[[3, 1, 4]]), "selected": [True, True, False]})
    return {"parcels": parcels, "firms": firms, "cleanup": cleanup}


def payload(doc: str) -> dict:
    m = re.search(r'<script type="application/json" id="parkland-data">(.*?)</script>', doc, re.S)
    assert m is not None
    return json.loads(m.group(1))


class _Refs(HTMLParser):
    """src/href attributes of the page's own elements, and the text of its <style> blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.attrs: list[tuple[str, str, str]] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for k, v in attrs:
            if k in ("src", "href", "srcset", "poster", "data", "action"):
                self.attrs.append((tag, k, v or ""))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


@pytest.fixture(scope="module")
def frames() -> dict[str, object]:
    return make_frames()


@pytest.fixture(scope="module")
def internal(frames: dict[str, object]) -> tuple[str, list[str]]:
    return maps.build_map_html(frames["parcels"], frames["firms"], cleanup=frames["cleanup"])


@pytest.fixture(scope="module")
def public(frames: dict[str, object]) -> tuple[str, list[str]]:
    return maps.build_map_html(frames["parcels"], frames["firms"], cleanup=frames["cleanup"], public=True)


# ---------------------------------------------------------------------------- self-contained
def test_no_remote_reference_with_basemap_none(internal: tuple[str, list[str]]) -> None:
    doc, warnings = internal
    assert warnings == []
    refs = _Refs()
    refs.feed(doc)
    # the page itself has no element with src/href (everything is inline)
    assert refs.attrs == []
    css = "\n".join(refs.styles)
    urls = re.findall(r"url\(\s*['\"]?([^'\")]*)", css)
    assert urls, "leaflet.css control images are expected, inlined"
    assert all(u.startswith("data:") or u.startswith("#") for u in urls), urls
    # anywhere in the file, scripts included: no src=/href=/url( to http(s) or protocol-relative,
    # except Leaflet's own attribution link (an <a>, never fetched; the attribution control is off)
    remote = re.findall(r"(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//[^\"'\s>]*|url\(\s*[\"']?(?:https?:)?//[^)]*",
                        doc, flags=re.I)
    assert set(remote) <= {'href="https://leafletjs.com'}, remote
    assert "attributionControl:false" in doc.replace(" ", "")
    # no tile template at all, and a CSP that forbids any fetch but data: images
    assert "{z}" not in doc and "tile.openstreetmap" not in doc and "tianditu" not in doc
    assert "default-src 'none'" in doc and "img-src data: blob:;" in doc
    # Leaflet's default marker icon is never used by the page script (circle markers only)
    script = maps.template("map.js") if hasattr(maps, "template") else ""
    assert "L.marker(" not in script and "circleMarker" in script


def test_hostile_names_are_escaped(internal: tuple[str, list[str]]) -> None:
    doc, _ = internal
    assert HOSTILE not in doc
    assert "<img" not in doc
    assert "alert(1)" in doc  # the characters are there, as data
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in doc
    # exactly the page's own closing tags: four </script> (data, leaflet, page script) … and no more
    assert doc.count("</script>") == 3
    data = payload(doc)
    names = _decode_strings(data["firms"]["name"])
    assert names == ["南充甲机械有限公司", HOSTILE, SCRIPT_BREAK, "无地乙科技有限公司"]


def test_title_is_escaped(frames: dict[str, object]) -> None:
    doc, _ = maps.build_map_html(frames["parcels"], frames["firms"], title="<b>园区</b>")
    assert "<title>&lt;b&gt;园区&lt;/b&gt;</title>" in doc
    assert payload(doc)["title"] == "<b>园区</b>"


# ---------------------------------------------------------------------------- public mode
def test_public_map_has_no_money_or_score(public: tuple[str, list[str]], internal: tuple[str, list[str]]) -> None:
    doc, _ = public
    for needle in ("98765", "9876543", "98,765", "88.5", "8850", "30.12", "3012", "333.3", "33330"):
        assert needle not in doc, needle
    data = payload(doc)
    assert data["public"] is True
    assert set(data["parcels"]["num"]) == {"area_mu", "cert_area_mu", "firm_count"}
    assert "num" not in data["firms"] and "parts" not in data["firms"] and "reason" not in data["firms"]
    kinds = {lay["kind"] for lay in data["layers"]}
    assert "choropleth" not in kinds
    assert {"grade", "flag", "cleanup", "parks", "points"} <= kinds
    # the internal map does carry the figure (so the test above means something)
    idoc, _ = internal
    tax = _decode_num(payload(idoc)["parcels"]["num"]["tax_wan"])
    assert tax[0] == pytest.approx(98765.43, abs=1e-9)
    assert "tax_per_mu" in payload(idoc)["parcels"]["num"]


def test_public_geometry_is_coarse(public: tuple[str, list[str]], internal: tuple[str, list[str]]) -> None:
    pg = payload(public[0])["parcels"]["geom"]
    ig = payload(internal[0])["parcels"]["geom"]
    assert pg["s"] == 10_000 and ig["s"] == 1_000_000
    lon, lat = _decode_first_ring(ig)
    # the first parcel's four corners (closing vertex dropped), to the 1e-6° grid
    exp = np.array(make_frames()["parcels"].to_crs(4326).geometry[0].exterior.coords)[:-1]
    assert np.abs(np.column_stack([lon, lat]) - exp).max() <= 0.5e-6 + 1e-12
    plon, _ = _decode_first_ring(pg)
    assert np.allclose(plon * 1e4, np.round(plon * 1e4))


def test_public_mode_embeds_no_tile_key(frames: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARKLAND_TIANDITU_KEY", "secretkey0123")
    doc, warnings = maps.build_map_html(frames["parcels"], frames["firms"], basemap="tianditu", public=True)
    assert "secretkey0123" not in doc and "tianditu.gov.cn" not in doc
    assert len(warnings) == 1 and "密钥" in warnings[0]
    doc, warnings = maps.build_map_html(frames["parcels"], frames["firms"], basemap="tianditu")
    assert "secretkey0123" in doc and "vec_w" in doc and "cva_w" in doc
    assert any("密钥已写入" in w for w in warnings)
    monkeypatch.delenv("PARKLAND_TIANDITU_KEY")
    doc, warnings = maps.build_map_html(frames["parcels"], frames["firms"], basemap="tianditu", lang="en")
    assert "tianditu.gov.cn" not in doc and "PARKLAND_TIANDITU_KEY" in warnings[0]


# ---------------------------------------------------------------------------- content
def _varints(s: str) -> np.ndarray:
    out, v, m = [], 0, 1
    for c in base64.b64decode(s):
        v += (c & 127) * m
        if c & 128:
            m *= 128
        else:
            out.append(v)
            v, m = 0, 1
    return np.array(out, dtype=np.int64)


def _unzig(z: np.ndarray) -> np.ndarray:
    return np.where(z % 2 == 0, z // 2, -(z + 1) // 2)


def _decode_strings(col: dict | list) -> list[str | None]:
    """The page's strings() in Python, on UTF-16 code units like JavaScript."""
    if isinstance(col, list):
        return col
    if "v" in col:  # dictionary coded (few distinct texts)
        return [col["v"][k - 1] if k else None for k in _varints(col["b"])]
    v = _varints(col["b"]).reshape(-1, 3)
    m = col["m"].encode("utf-16-le")
    out: list[str | None] = []
    prev, pos = b"", 0
    for p, s, ml in v:
        if p == 0:
            out.append(None)
            continue
        cur = prev[: 2 * (p - 1)] + m[2 * pos: 2 * (pos + ml)] + (prev[len(prev) - 2 * s:] if s else b"")
        pos += ml
        out.append(cur.decode("utf-16-le"))
        prev = cur
    return out


def _decode_num(col: dict) -> np.ndarray:
    z = _varints(col["b"])
    return np.where(z == 0, np.nan, _unzig(z - 1) / 10.0 ** col["d"])


def _decode_first_ring(g: dict) -> tuple[np.ndarray, np.ndarray]:
    n = _varints(g["r"])[0]
    d = _unzig(_varints(g["c"])[: 2 * n]).reshape(-1, 2).cumsum(axis=0)
    return d[:, 0] / g["s"], d[:, 1] / g["s"]


def test_payload_content(internal: tuple[str, list[str]], frames: dict[str, object]) -> None:
    data = payload(internal[0])
    p = data["parcels"]
    assert p["n"] == 6
    assert _decode_strings(p["id"]) == [f"511302001001GB0000{i}" for i in range(1, 7)]
    assert p["id"]["m"] == "511302001001GB0000123456"  # each code after the first costs one character
    assert _decode_num(p["num"]["tax_per_mu"])[0] == 12.35
    assert _decode_num(p["num"]["building_coverage"])[0] == 0.4512
    # geometry: 6 features, one ring each except the last (a hole), 4 vertices a ring (closing one dropped)
    assert list(_varints(p["geom"]["g"])) == [1] * 6
    assert list(_varints(p["geom"]["p"])) == [1] * 5 + [2]
    assert list(_varints(p["geom"]["r"])) == [4] * 7
    # the corners of the first parcel, in WGS84, on the 1e-6° grid
    lon, lat = _decode_first_ring(p["geom"])
    exp = np.array(frames["parcels"].to_crs(4326).geometry[0].exterior.coords)[:-1]
    assert np.abs(np.column_stack([lon, lat]) - exp).max() <= 0.5e-6 + 1e-12
    # firms: on parcels 1–3 (one each), the landless firm as a point
    assert list(_varints(p["fc"])) == [1, 1, 1, 0, 0, 0]
    assert data["points"]["lon"] == [106.105] and data["points"]["lat"] == [30.797]
    assert data["firms"]["n"] == 4
    assert [s["k"] for s in data["firms"]["parts"]] == ["part_tax_per_mu", "part_revenue_per_mu"]
    assert data["firms"]["parts"][0]["t"] == "亩均税收得分"
    # flags and reasons (Chinese labels)
    assert list(_varints(p["flags"])) == [0, 4 | 8, 0, 1 | 8, 2 | 8, 2]
    assert "停产：营收、税收、用电均为零；亩均税收低于标准；评价为D类" in p["reasons"]["v"]
    # cleanup: parcel 4 and 2 selected, 5 a candidate
    assert list(_varints(p["cl"])) == [0, 2, 0, 2, 1, 0]
    names = [lay["name"] for lay in data["layers"]]
    assert names[0] == "宗地评价等级"
    assert "亩均税收（万元/亩）" in names and "亩均产值（万元/亩）" in names
    assert "亩均增加值（万元/亩）" not in names  # the column is missing: no layer
    assert "园区范围（宗地凸包）" in names  # no park layer given: hulls
    assert data["parks"]["name"] == ["经开区", "../航空港/园区"]
    grade = next(lay for lay in data["layers"] if lay["kind"] == "grade")
    assert [it["c"] for it in grade["legend"][:5]] == [GRADE_COLORS[g] for g in "ABCDT"]
    assert grade["legend"][5]["t"] == "未评价"


def test_missing_columns_are_left_out(frames: dict[str, object]) -> None:
    par = frames["parcels"][["parcel_id", "geometry"]]
    firms = frames["firms"][["uscc", "name", "parcel_ids"]]
    doc, warnings = maps.build_map_html(par, firms)
    data = payload(doc)
    assert warnings == []
    assert data["parcels"]["num"] == {} and "grade" not in data["parcels"] and "flags" not in data["parcels"]
    assert [lay["kind"] for lay in data["layers"]] == ["grade"]
    assert data["points"] is None and data["firms"]["n"] == 3
    # no firms at all
    doc, _ = maps.build_map_html(par, None)
    assert payload(doc)["firms"] == {"n": 0}


def test_english_labels(frames: dict[str, object]) -> None:
    doc, _ = maps.build_map_html(frames["parcels"], frames["firms"], lang="en")
    data = payload(doc)
    assert '<html lang="en">' in doc
    assert data["layers"][0]["name"] == "parcel grade"
    assert data["text"]["map_search"].startswith("search")
    assert "stopped: zero revenue, tax and electricity" in ";".join(data["parcels"]["reasons"]["v"])


def test_front_coding_round_trip() -> None:
    texts = ["四川南充甲机械有限公司", "四川南充乙机械有限公司", None, "四川南充乙机械有限公司", "",
             "𠀀𠀁汽车零部件有限公司", "𠀀𠀁汽车零部件有限公司𠀂", "𠀀", "a", "ab", "b", HOSTILE, "有限公司"]
    col = maps._strings(texts)
    assert isinstance(col, dict)
    assert _decode_strings(col) == [None if t == "" else t for t in texts]
    # "四川南充乙机械有限公司" after "四川南充甲…": prefix 4, suffix 6, middle "乙"
    assert list(_varints(col["b"]).reshape(-1, 3)[1]) == [5, 6, 1]
    assert maps._strings([None, None]) == [None, None]
    assert maps._strings([]) == []


def test_few_distinct_texts_are_dictionary_coded() -> None:
    """A column with at most one distinct text per 8 rows (64 rows or more) is a dictionary: the texts in
    first order, then code + 1 per row (0 = missing, blank = missing)."""
    texts = (["parcel code not found", None, "graded", "", HOSTILE, "graded", "𠀀 rare", "graded"] * 8)
    col = maps._strings(texts)
    assert col["v"] == ["parcel code not found", "graded", HOSTILE, "𠀀 rare"]
    assert list(_varints(col["b"])[:8]) == [1, 0, 2, 0, 3, 2, 4, 2]
    assert _decode_strings(col) == [t if t else None for t in texts]
    # one distinct text more than one per 8 rows: front coding as before
    many = [f"firm {i % 9}" for i in range(64)]
    assert "m" in maps._strings(many) and _decode_strings(maps._strings(many)) == many


def test_nice_breaks() -> None:
    # quantiles of 0..99 (k=5): 19.8, 39.6, 59.4, 79.2 → two significant digits
    assert maps.nice_breaks(np.arange(100.0)) == [20.0, 40.0, 59.0, 79.0]
    assert maps.nice_breaks(np.array([0.01234, 0.02345, 0.0345, 0.0456, 0.05, np.nan]), k=2) == [0.035]
    assert maps.nice_breaks([1.0, 1.0, np.nan]) == []
    assert maps.nice_breaks(pd.Series([np.nan, np.inf])) == []


def test_gaode_shifts_for_display_only(frames: dict[str, object]) -> None:
    from parkland.geo.crs import wgs84_to_gcj02

    doc, _ = maps.build_map_html(frames["parcels"], frames["firms"], basemap="gaode")
    data = payload(doc)
    lon, lat = _decode_first_ring(data["parcels"]["geom"])
    exp = np.array(frames["parcels"].to_crs(4326).geometry[0].exterior.coords)[:-1]
    glon, glat = wgs84_to_gcj02(exp[:, 0], exp[:, 1])
    assert np.abs(np.column_stack([lon, lat]) - np.column_stack([glon, glat])).max() <= 0.5e-6 + 1e-12
    assert np.abs(glon - exp[:, 0]).min() > 1e-3  # a real shift (hundreds of metres)
    plon, _ = wgs84_to_gcj02(106.105, 30.797)
    assert data["points"]["lon"][0] == pytest.approx(plon, abs=1e-6)
    assert "autonavi" in doc and "img-src data: blob: https: http:" in doc
    # the frame passed in is untouched (WGS84/GK stays as it was)
    assert frames["parcels"].crs.to_epsg() == 4523


def test_bad_basemap_and_url_template(frames: dict[str, object]) -> None:
    with pytest.raises(InputError) as ei:
        maps.build_map_html(frames["parcels"], frames["firms"], basemap="bing")
    assert "bing" in str(ei.value)
    doc, _ = maps.build_map_html(frames["parcels"], frames["firms"],
                                 basemap="http://10.1.2.3/tiles/{z}/{x}/{y}.png")
    assert payload(doc)["tiles"]["urls"] == ["http://10.1.2.3/tiles/{z}/{x}/{y}.png"]


def test_wgs84_input_and_collections(frames: dict[str, object]) -> None:
    par = frames["parcels"].to_crs(4326)
    par.loc[0, "geometry"] = par.geometry[0].union(par.geometry[0].boundary.centroid.buffer(0).boundary)
    doc, warnings = maps.build_map_html(par.set_crs(None, allow_override=True), None)
    assert len(warnings) == 1 and "EPSG:4326" in warnings[0]
    assert payload(doc)["parcels"]["n"] == 6


def make_raster(path: Path) -> Path:
    """A 120 × 100 float GeoTIFF of 10 m cells in EPSG:4523 whose south-west corner is ORIGIN (a ramp,
    its top-left 10 × 10 cells nodata)."""
    import rasterio
    from affine import Affine

    x0, y0 = Transformer.from_crs(4326, 4523, always_xy=True).transform(*ORIGIN)
    data = np.arange(100 * 120, dtype="float32").reshape(100, 120)
    data[:10, :10] = -9999
    with rasterio.open(path, "w", driver="GTiff", width=120, height=100, count=1, dtype="float32",
                       crs="EPSG:4523", transform=Affine(10, 0, x0, 0, -10, y0 + 1000), nodata=-9999) as dst:
        dst.write(data, 1)
    return path


def test_raster_base_map(tmp_path: Path, frames: dict[str, object]) -> None:
    from rasterio.warp import transform_bounds

    x0, y0 = Transformer.from_crs(4326, 4523, always_xy=True).transform(*ORIGIN)
    path = make_raster(tmp_path / "ortho.tif")
    doc, warnings = maps.build_map_html(frames["parcels"], frames["firms"], raster=path)
    r = payload(doc)["raster"]
    assert warnings == []
    assert r["uri"].startswith("data:image/png;base64,")
    (s, w), (n, e) = r["bounds"]
    exp = transform_bounds("EPSG:4523", "EPSG:4326", x0, y0, x0 + 1200, y0 + 1000, densify_pts=21)
    assert np.allclose([w, s, e, n], exp, atol=1e-9)
    assert (n - s) * 110_900 == pytest.approx(1000, rel=0.02)
    png = base64.b64decode(r["uri"].split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    small, _ = maps.build_map_html(frames["parcels"], None, raster=path)
    assert len(small) < 2_000_000


# ---------------------------------------------------------------------------- files
def test_safe_filename() -> None:
    assert maps.safe_filename("../航空港/园区") == "航空港_园区"
    assert maps.safe_filename("..") == "park"
    assert maps.safe_filename("a\\b:c*d?e") == "a_b_c_d_e"
    assert maps.safe_filename(None) == "park"
    assert maps.safe_filename("ＡＢＣ 园区") == "ABC_园区"


def test_write_map_atomic(tmp_path: Path, frames: dict[str, object]) -> None:
    out = tmp_path / "m" / "map.html"
    warnings = maps.write_map(out, frames["parcels"], frames["firms"])
    assert warnings == []
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in out.parent.iterdir()] == ["map.html"]  # no temp file left


def _write_outdir(out: Path, frames: dict[str, object], *, parks: bool) -> None:
    out.mkdir()
    frames["parcels"].to_file(out / "parcels.gpkg", layer="parcels", engine="pyogrio")
    if parks:
        pk = frames["parcels"].dissolve("park").reset_index()[["park", "geometry"]]
        pk["geometry"] = pk.geometry.buffer(20).envelope
        pk.to_file(out / "parcels.gpkg", layer="parks", engine="pyogrio")
    frames["firms"].to_csv(out / "firms.csv", index=False, encoding="utf-8-sig")
    cl = frames["cleanup"]
    gpd.GeoDataFrame(cl, geometry=frames["parcels"].set_index("parcel_id").geometry.loc[cl["parcel_id"]].values,
                     crs=frames["parcels"].crs).to_file(out / "cleanup.gpkg", layer="cleanup", engine="pyogrio")


def test_render_dir_single(tmp_path: Path, frames: dict[str, object]) -> None:
    out = tmp_path / "out"
    _write_outdir(out, frames, parks=True)
    paths, warnings = maps.render_dir(out)
    assert paths == [out / "map.html"] and warnings == []
    data = payload(paths[0].read_text(encoding="utf-8"))
    assert data["parcels"]["n"] == 6 and data["firms"]["n"] == 4
    assert HOSTILE in _decode_strings(data["firms"]["name"])
    assert _decode_strings(data["firms"]["uscc"])[0] == "91511300MA62000001"
    assert data["parks"]["hull"] is False and sorted(data["parks"]["name"]) == ["../航空港/园区", "经开区"]
    assert list(_varints(data["parcels"]["cl"])) == [0, 2, 0, 2, 1, 0]


def test_render_dir_per_park(tmp_path: Path, frames: dict[str, object]) -> None:
    out = tmp_path / "out"
    _write_outdir(out, frames, parks=False)
    mdir = tmp_path / "maps"
    paths, _ = maps.render_dir(out, mdir, per_park=True, public=True)
    names = sorted(p.name for p in paths)
    assert names == ["index.html", "park_001_航空港_园区.html", "park_002_未分园区.html", "park_003_经开区.html"]
    assert all(p.parent == mdir for p in paths)
    assert sorted(x.name for x in mdir.iterdir()) == names  # nothing escaped the folder
    assert not (tmp_path / "航空港").exists()
    index = (mdir / "index.html").read_text(encoding="utf-8")
    assert '<a href="park_001_航空港_园区.html">../航空港/园区</a>' in index
    jk = payload((mdir / "park_003_经开区.html").read_text(encoding="utf-8"))
    assert jk["parcels"]["n"] == 3 and jk["firms"]["n"] == 3 and jk["public"] is True
    hk = payload((mdir / "park_001_航空港_园区.html").read_text(encoding="utf-8"))
    assert hk["parcels"]["n"] == 2 and hk["firms"]["n"] == 0
    for p in paths:
        assert "98765" not in p.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- encodings (speed paths)
def _leb128(values: list[int]) -> bytes:
    """LEB128 one value at a time: the reference for the vectorised encoder."""
    out = bytearray()
    for v in values:
        while True:
            byte, v = v & 0x7F, v >> 7
            out.append(byte | (0x80 if v else 0))
            if not v:
                break
    return bytes(out)


def test_uvarint_matches_leb128() -> None:
    assert maps._uvarint(np.array([0, 127, 128, 300], dtype=np.uint64)) == b"\x00\x7f\x80\x01\xac\x02"
    assert maps._uvarint(np.array([2**64 - 1], dtype=np.uint64)) == b"\xff" * 9 + b"\x01"
    assert maps._uvarint(np.zeros(0, dtype=np.uint64)) == b""
    edges = sorted({max(0, min(2**64 - 1, 2**b + d)) for b in range(65) for d in (-1, 0, 1)})
    rng = np.random.default_rng(7)
    cases = [edges, list(rng.integers(0, 300, 1000)), list(rng.integers(0, 2**34, 500)),
             [*rng.integers(0, 100, 2000).tolist(), 2**63 + 5, 3]]  # one long value among short ones
    for vals in cases:
        assert maps._uvarint(np.array(vals, dtype=np.uint64)) == _leb128([int(v) for v in vals])


def test_strings_front_coding_by_hand() -> None:
    col = maps._strings(["511302GB001", "511302GB002", None, "511302GB012"])
    # (p + 1, s, |m|): whole text; prefix 10 and "2"; missing; prefix 9, suffix "2", middle "1"
    assert _varints(col["b"]).tolist() == [1, 0, 11, 11, 0, 1, 0, 0, 0, 10, 1, 1]
    assert col["m"] == "511302GB00121"
    astral = maps._strings(["a😀b", "a😀c"])  # 😀 is two UTF-16 units in JavaScript
    assert _varints(astral["b"]).tolist() == [1, 0, 4, 4, 0, 1] and astral["m"] == "a😀bc"


def test_strings_round_trip_every_kind_of_column() -> None:
    rng = np.random.default_rng(3)
    alphabet = ["a", "Z", "企", "业", "有限公司", "😀", "𠀀", " ", "\u3000", "\x00", "ß", "<", "&", "1"]
    texts = ["".join(rng.choice(alphabet, rng.integers(1, 7))) for _ in range(300)]
    texts[5], texts[9], texts[11] = None, "  ", ""
    expected = [None if t is None or not t.strip() else t for t in texts]
    no_nul = [None if t is None else t.replace("\x00", "") for t in texts]
    expected_no_nul = [None if t is None or not t.strip() else t for t in no_nul]
    for values, want in ((pd.Series(no_nul, dtype=object), expected_no_nul),
                         (pd.Series(no_nul, dtype="str"), expected_no_nul),
                         (pd.Series(no_nul, dtype="string"), expected_no_nul)):
        assert _decode_strings(maps._strings(values)) == want
    assert maps._texts(pd.Series(texts, dtype=object)) == expected
    mixed = maps._strings(pd.Series([7, "7", None, 2.5] * 20, dtype=object))  # numbers written as str(x)
    assert _decode_strings(mixed) == ["7", "7", None, "2.5"] * 20


def test_codes_and_grade_codes() -> None:
    c = maps._codes(pd.Series(["b", "a", " ", None, "b"]))
    assert c["v"] == ["b", "a"] and _varints(c["b"]).tolist() == [1, 2, 0, 0, 1]
    c = maps._codes(pd.Series([1, "1", None, " "], dtype=object))  # not all text: pandas' way, str(x)
    assert c["v"] == ["1", "1"] and _varints(c["b"]).tolist() == [1, 2, 0, 0]
    g = maps._grade_codes(pd.Series([" a", "B", "", None, "A"], dtype=object), {"A": "A类"})
    assert g["v"] == ["A类", "B"] and _varints(g["b"]).tolist() == [1, 2, 0, 0, 1]
    miss = maps._missing(pd.Series(["a", "\u3000", " ", "", None, np.nan, pd.NA, pd.NaT, "\xa0b"], dtype=object))
    assert miss.tolist() == [False, True, True, True, True, True, True, True, False]


def test_firm_links_with_repeated_parcel_codes() -> None:
    firms = pd.DataFrame({"parcel_ids": ["A; B", " A ", "C", None]})
    links = maps._firm_links(firms, pd.Series(["A", "B", "A", None], dtype=object))
    assert list(zip(links["f"], links["p"], strict=True)) == [(0, 0), (1, 0), (0, 1), (0, 2), (1, 2)]


def test_ragged_polygons_as_shapely() -> None:
    hole = [(2, 2), (3, 2), (3, 3), (2, 2)]
    geoms = np.array([box(0, 0, 10, 10), Polygon([(0, 0), (9, 0), (9, 9), (0, 0)], [hole]),
                      shapely.MultiPolygon([box(20, 0, 21, 1), Polygon(box(30, 0, 40, 10).exterior.coords, [hole])]),
                      box(50, 50, 51, 51)], dtype=object)
    coords, ring_len, rings_per_part, parts_per_geom = maps._ragged_polygons(geoms)
    _, c2, (ring_off, part_off, geom_off) = shapely.to_ragged_array(geoms)
    assert np.array_equal(coords, c2)
    assert ring_len.tolist() == np.diff(ring_off).tolist() == [5, 4, 4, 5, 5, 4, 5]
    assert rings_per_part.tolist() == np.diff(part_off).tolist() == [1, 2, 1, 2, 1]
    assert parts_per_geom.tolist() == np.diff(geom_off).tolist() == [1, 1, 2, 1]
    assert maps._ragged_polygons(np.array([box(0, 0, 1, 1), None], dtype=object)) is None


@pytest.mark.parametrize("basemap", ["none", "gaode"])
def test_coordinate_path_gives_the_page_of_display_geometries(frames: dict[str, object], basemap: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Parcels projected as coordinates only (and their parks' hulls built from them) give the page that
    projecting the geometries gives, byte for byte; also with a MultiPolygon with a hole."""
    par = frames["parcels"].copy()
    x0, y0, x1, y1 = par.geometry.iloc[0].bounds
    par.loc[0, "geometry"] = shapely.MultiPolygon([
        Polygon(box(x0, y0, x1, y1).exterior.coords, [box(x0 + 10, y0 + 10, x0 + 20, y0 + 20).exterior.coords]),
        box(x0, y1 + 500, x0 + 30, y1 + 530)])
    kw = {"cleanup": frames["cleanup"], "basemap": basemap}
    fast = maps.build_map_html(par, frames["firms"], **kw)
    monkeypatch.setattr(maps, "_source_polygons", lambda *a, **k: None)
    slow = maps.build_map_html(par, frames["firms"], **kw)
    assert fast == slow
    assert payload(fast[0])["parks"]["hull"] is True


def test_json_for_script_sets_base64_aside() -> None:
    big = maps._b64(bytes(range(256)) * 50)
    obj = {"t": "<a & b>\u2028", "g": {"c": big, "n": [1.5, None]}, "x": [big]}
    plain = maps._json_for_script_plain(obj)
    assert maps._json_for_script(obj) == plain
    assert plain.startswith('{"t":"\\u003ca \\u0026 b\\u003e\\u2028","g":{"c":"AAECAwQF')


def test_no_crs_messages_name_the_layer_in_each_language():
    """A projected-looking layer without a CRS cannot be mapped: the Chinese text names 宗地, the English
    one "parcel", whatever the map's language (each message is whole in its own language)."""
    from shapely.geometry import box

    from parkland.errors import InputError
    from parkland.report.maps import build_map_html

    gdf = gpd.GeoDataFrame({"parcel_id": ["A"]}, geometry=[box(35_600_000, 3_400_000, 35_600_100, 3_400_100)])
    for lang in ("zh", "en"):
        with pytest.raises(InputError) as e:
            build_map_html(gdf, None, lang=lang)
        assert e.value.zh.startswith("宗地图层没有坐标系") and e.value.en.startswith("the parcel layer has no CRS")
    lonlat = gpd.GeoDataFrame({"parcel_id": ["A"]}, geometry=[box(106.0, 30.0, 106.001, 30.001)])
    _, warnings = build_map_html(lonlat, None, lang="en")
    assert warnings == ["the parcel layer has no CRS; drawn as longitude/latitude (EPSG:4326)"]
    _, warnings = build_map_html(lonlat, None, lang="zh")
    assert warnings == ["宗地图层没有坐标系，按经纬度（EPSG:4326）显示"]


# ---- the faster encoders and geometry steps give exactly what the plain ones give -----------------------
def test_uvarint_each_word_width() -> None:
    """Largest values of 2, 4 and 8 bytes (written through 16-, 32- and 64-bit words) and of 9–10 bytes:
    every 7-bit boundary below the largest value, and random values, as LEB128 one at a time."""
    rng = np.random.default_rng(11)
    for nbytes in (2, 3, 4, 5, 7, 8, 9, 10):
        top = min(2 ** (7 * nbytes) - 1, 2**64 - 1)
        edges = [v for b in range(7, 7 * nbytes + 1, 7) for v in (2**b - 1, 2**b, 2**b + 1) if v <= top]
        vals = [0, 1, *edges, top, *(int(v) for v in rng.integers(0, min(top, 2**63 - 1), 300, dtype=np.int64))]
        assert maps._uvarint(np.array(vals, dtype=np.uint64)) == _leb128(vals)
        assert maps._uvarint(np.array(vals[::-1], dtype=np.uint64)) == _leb128(vals[::-1])
    assert maps._uvarint(np.array([300, 5], dtype=np.int64)) == b"\xac\x02\x05"  # int64 input


def test_grouped_hulls_are_geos_hulls_of_the_multipolygons() -> None:
    """Each group's hull from one LineString of its vertices is, byte for byte (WKB), GEOS's convex hull
    of the MultiPolygon of its parts: holes, collinear vertices, shared vertices, zero-area polygons,
    groups of under and over 50 vertices (GEOS's two paths), a subset of rows."""
    rng = np.random.default_rng(3)

    def poly(i: int) -> object:
        x, y = rng.integers(-40, 40, 2) * 0.75
        kind = i % 5
        if kind == 0:
            return Polygon(box(x, y, x + 8, y + 8).exterior.coords, [box(x + 2, y + 2, x + 4, y + 4).exterior.coords])
        if kind == 1:
            return Polygon([(x, y), (x + 1, y), (x + 2, y), (x + 3, y), (x + 3, y + 3), (x, y + 3), (x, y + 1.5)])
        if kind == 2:
            return shapely.MultiPolygon([box(x, y, x + 1, y + 1), box(x + 3, y + 3, x + 4, y + 5)])
        if kind == 3:
            ang = np.sort(rng.random(9)) * 2 * np.pi
            r = rng.random(9) * 5 + 1
            return Polygon(np.c_[x + r * np.cos(ang), y + r * np.sin(ang)])
        return Polygon([(x, y), (x + 1, y + 1), (x + 2, y + 2), (x, y)])

    for trial in range(60):
        n = int(rng.integers(1, 12 if trial % 2 else 200))
        geoms = np.array([poly(int(i)) for i in rng.integers(0, 5, n)], dtype=object)
        geoms = np.concatenate([[box(100, 100, 101, 101)], geoms, geoms[: n // 3]])  # row 0 left out
        rows = np.arange(1, len(geoms))
        k = int(rng.integers(1, min(len(rows), 4) + 1))
        group = np.concatenate([np.arange(k), rng.integers(0, k, len(rows) - k)])
        rng.shuffle(group)
        ragged = maps._ragged_polygons(geoms)
        got = maps._grouped_hulls(ragged, ragged[0], rows, group, k)
        parts, gi = shapely.get_parts(geoms[rows], return_index=True)
        order = np.argsort(group[gi], kind="stable")
        want = shapely.convex_hull(shapely.multipolygons(parts[order], indices=group[gi][order]))
        assert shapely.to_wkb(got).tolist() == shapely.to_wkb(want).tolist()


def test_display_xy_copies_each_rings_closing_vertex(frames: dict[str, object]) -> None:
    """Transforming all but the closing vertices (then copying the first) gives the plain transform of
    every vertex bit for bit; a ring whose last vertex differs from its first is transformed in full."""
    geo = frames["parcels"].geometry
    coords, ring_len, *_ = maps._ragged_polygons(np.asarray(geo.array, dtype=object))
    tr = maps._wgs84_transformer(geo.crs)
    plain = np.array(tr.transform(coords[:, 0], coords[:, 1])).T
    fast = maps._display_xy(geo, coords, False, ring_len)
    assert fast.view(np.uint64).tolist() == plain.view(np.uint64).tolist()
    assert maps._closing_vertices(coords, ring_len)[1].tolist() == (np.cumsum(ring_len) - 1).tolist()
    opened = coords.copy()
    opened[ring_len[0] - 1, 0] += 1.0  # the first ring no longer closed
    assert maps._closing_vertices(opened, ring_len) is None
    assert maps._closing_vertices(coords, np.array([1, len(coords) - 1])) is None  # a ring of one vertex
    moved = maps._display_xy(geo, opened, False, ring_len)
    assert moved.view(np.uint64).tolist() == np.array(tr.transform(opened[:, 0], opened[:, 1])).T.view(
        np.uint64).tolist()
