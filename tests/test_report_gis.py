"""GIS exports read back with pyogrio: GeoPackage with its QGIS style, Shapefile with GBK names, RFC 7946
GeoJSON, KML/KMZ for field apps."""

from __future__ import annotations

import json
import re
import sqlite3
import xml.etree.ElementTree as ET
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from parkland.report.export import write_csv
from parkland.report.gis import shapefile_names, write_geojson, write_kml, write_shapefile, write_styled_gpkg
from parkland.report.labels import GRADE_COLORS

try:
    from test_export_dir import demo_exported, source_date_epoch
except ImportError:  # tests/ imported as a package
    from tests.test_export_dir import demo_exported, source_date_epoch

HOSTILE = "<img src=x onerror=alert(1)>"
QGIS_COLUMNS = ["f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column", "styleName", "styleQML",
                "styleSLD", "useAsDefault", "description", "owner", "ui", "update_time"]


@pytest.fixture(scope="module")
def out():
    return demo_exported()[0]


@pytest.fixture(scope="module")
def source(out):
    return gpd.read_file(out / "parcels.gpkg", layer="parcels")


def small() -> gpd.GeoDataFrame:
    """Three 100 m × 50 m parcels in zone 35 (EPSG:4523) with Chinese text and a hostile park name."""
    x0, y0 = 35_600_000.0, 3_400_000.0
    return gpd.GeoDataFrame({
        "parcel_id": ["511302001001GB00001", "511302001001GB00002", "511302001001GB00003"],
        "park": ["经济开发区", HOSTILE, "=cmd|' /C calc'!A0"],
        "area_mu": [7.5, 7.5, 7.5],
        "tax_per_mu": [12.5, np.nan, 3.0],
        "grade": ["A", "D", None],
        "flag_reasons": ["", "LOW_TAX;LOW_FAR", None],
        "面积单位": ["平方米", "亩", "公顷"],
        "value_added_per_mu": [1.0, 2.0, 3.0],
        "value_added_wan": [7.5, 15.0, 22.5],
    }, geometry=[shapely.box(x0 + 200 * i, y0, x0 + 200 * i + 100, y0 + 50) for i in range(3)], crs=4523)


def test_gpkg_layers_roundtrip_and_qgis_style(out, source):
    path = out / "gis" / "parkland.gpkg"
    layers = [str(x) for x in pyogrio.list_layers(path)[:, 0]]
    assert layers == ["parcels", "cleanup", "parks", "layer_styles"]
    back = gpd.read_file(path, layer="parcels")
    assert back.crs.to_epsg() == 4523 and len(back) == len(source) == 1029
    assert back["parcel_id"].tolist() == source["parcel_id"].tolist()
    np.testing.assert_allclose(back["area_mu"], source["area_mu"], rtol=1e-12)
    np.testing.assert_allclose(back.geometry.area, source.geometry.area, rtol=1e-12)
    con = sqlite3.connect(path)
    try:
        cols = [r[1] for r in con.execute("pragma table_info(layer_styles)")]
        assert cols == ["id", *QGIS_COLUMNS]
        rows = con.execute("select f_table_name, f_geometry_column, useAsDefault, styleQML, styleSLD, update_time "
                           "from layer_styles order by id").fetchall()
        geom_col = con.execute("select column_name from gpkg_geometry_columns where table_name='parcels'").fetchone()
    finally:
        con.close()
    assert [r[0] for r in rows] == ["parcels", "cleanup"]
    assert rows[0][1] == geom_col[0] == "geom" and rows[0][2] == 1
    assert rows[0][5].startswith("2023-11-14T22:13:20")  # SOURCE_DATE_EPOCH
    qml = ET.fromstring(rows[0][3].split("\n", 1)[1])
    r = qml.find("renderer-v2")
    assert r.get("type") == "categorizedSymbol" and r.get("attr") == "grade"
    cats = {c.get("value"): c.get("symbol") for c in r.find("categories")}
    assert list(cats) == ["A", "B", "C", "D", "T", ""]
    colors = {s.get("name"): s.find("layer/Option/Option[@name='color']").get("value") for s in r.find("symbols")}
    for g, hexc in GRADE_COLORS.items():
        rgb = ",".join(str(int(hexc[i:i + 2], 16)) for i in (1, 3, 5))
        assert colors[cats[g]] == f"{rgb},255"
    sld = ET.fromstring(rows[0][4])
    assert sld.tag.endswith("StyledLayerDescriptor")


def test_shapefile_gbk_names_and_roundtrip(out, source):
    shp = out / "gis" / "parcels.shp"
    assert (out / "gis" / "parcels.cpg").read_text() == "GBK"
    back = gpd.read_file(shp)
    assert back.crs.to_epsg() == 4523 and len(back) == 1029
    assert all(len(c.encode("gbk")) <= 10 for c in back.columns if c != "geometry")
    fmap = pd.read_csv(out / "gis" / "parcels_fields.csv", encoding="utf-8-sig")
    assert list(fmap.columns) == ["field", "column", "label"]
    m = dict(zip(fmap["column"], fmap["field"]))
    assert m["source_row"] == "src_row" and m["revenue_per_mu"] == "rev_mu" and m["面积单位"] == "面积单位"
    assert fmap.loc[fmap["column"] == "tax_per_mu", "label"].item() == "亩均税收（万元/亩）"
    assert back[m["park"]].tolist() == source["park"].tolist()  # Chinese park names intact through GBK
    np.testing.assert_allclose(back[m["revenue_per_mu"]], source["revenue_per_mu"], rtol=1e-9)
    np.testing.assert_allclose(back.geometry.area, source.geometry.area, rtol=1e-9)


def test_shapefile_names_are_short_and_unique():
    cols = ["value_added_per_mu", "value_added_wan", "面积单位和说明文字", "面积单位和说明文字X", "averyverylongname",
            "averyverylongname2", "AVERYVERYLONGNAME3"]
    gbk = shapefile_names(cols, "GBK")
    utf = shapefile_names(cols, "UTF-8")
    assert gbk["value_added_per_mu"] == "va_mu" and gbk["value_added_wan"] == "va_wan"
    assert gbk["面积单位和说明文字"] == "面积单位和"  # 5 Chinese characters = 10 bytes in GBK
    assert utf["面积单位和说明文字"] == "面积单"  # 3 characters = 9 bytes in UTF-8
    assert gbk["面积单位和说明文字X"] == "面积单位_2"
    assert gbk["averyverylongname"] == "averyveryl" and gbk["averyverylongname2"] == "averyver_2"
    assert gbk["AVERYVERYLONGNAME3"] == "AVERYVER_3"  # dBase names clash ignoring case
    for names, enc in ((gbk, "gbk"), (utf, "utf-8")):
        assert all(len(v.encode(enc)) <= 10 for v in names.values())
        assert len({v.lower() for v in names.values()}) == len(cols)


def test_shapefile_utf8_roundtrip(tmp_path):
    g = small()
    files = write_shapefile(g, tmp_path / "p.shp", encoding="UTF-8")
    assert (tmp_path / "p.cpg").read_text() == "UTF-8"
    assert sorted(f.name for f in files) == ["p.cpg", "p.dbf", "p.prj", "p.shp", "p.shx", "p_fields.csv"]
    back = gpd.read_file(tmp_path / "p.shp")
    assert back["park"].tolist()[:2] == ["经济开发区", HOSTILE]
    assert back["park"].tolist()[2] == "'=cmd|' /C calc'!A0"  # neutralised like every other table
    assert back["面积单"].tolist() == ["平方米", "亩", "公顷"]
    assert back.geometry.area.tolist() == pytest.approx([5000.0] * 3, rel=1e-12)


def coords(obj):
    if isinstance(obj, list) and obj and isinstance(obj[0], (int, float)):
        yield obj
    elif isinstance(obj, list):
        for o in obj:
            yield from coords(o)


def test_geojson_rfc7946(out, source, tmp_path):
    path = out / "gis" / "parcels.geojson"
    text = path.read_text(encoding="utf-8")
    doc = json.loads(text)
    assert "crs" not in doc and len(doc["features"]) == 1029
    pts = [c for f in doc["features"] for c in coords(f["geometry"]["coordinates"])]
    lon = np.array([p[0] for p in pts])
    lat = np.array([p[1] for p in pts])
    assert (lon > 105.5).all() and (lon < 107).all() and (lat > 30.5).all() and (lat < 31.5).all()
    assert max(len(n.split(".")[1]) for n in re.findall(r"-?\d+\.\d+", json.dumps(
        [f["geometry"]["coordinates"] for f in doc["features"]]))) <= 7
    first = doc["features"][0]
    assert first["properties"]["parcel_id"] == source["parcel_id"].iloc[0]
    # the first vertex is the source's first vertex in WGS 84, to 7 decimals
    x, y = shapely.get_coordinates(source.geometry.iloc[:1].to_crs(4326))[0]
    assert next(coords(first["geometry"]["coordinates"])) == pytest.approx([x, y], abs=1e-7)
    back = gpd.read_file(path)
    assert back.crs.to_epsg() == 4326 and back["park"].tolist() == source["park"].tolist()
    # rerun on the same input: the same bytes
    with source_date_epoch():
        write_geojson(source, tmp_path / "parcels.geojson")
    assert (tmp_path / "parcels.geojson").read_bytes() == path.read_bytes()


def test_kml_and_kmz_for_field_apps(out, source):
    for ext in ("kml", "kmz"):
        back = pyogrio.read_dataframe(out / "gis" / f"parcels.{ext}")
        assert len(back) == 1029
        assert back["Name"].tolist() == source["parcel_id"].tolist()
        assert back["description"].str.startswith("园区：").tolist() == source["park"].notna().tolist()
        assert back["description"].str.contains("宗地面积（亩，图形）：").all()
        minx, miny, maxx, maxy = back.total_bounds
        assert 105.5 < minx < maxx < 107 and 30.5 < miny < maxy < 31.5
    with zipfile.ZipFile(out / "gis" / "parcels.kmz") as z:
        assert z.namelist() == ["doc.kml"]
        assert z.getinfo("doc.kml").date_time == (2023, 11, 14, 22, 13, 20)
    text = (out / "gis" / "parcels.kml").read_text(encoding="utf-8")
    i = source.index[source["grade"] == "A"][0]
    assert "<color>a050981a</color>" in text  # grade A fill #1a9850 at alpha a0 (KML: aabbggrr)
    assert source["parcel_id"][i] in text


def test_kml_escapes_input_text(tmp_path):
    files = write_kml(small(), tmp_path / "s.kml")
    assert [f.name for f in files] == ["s.kml", "s.kmz"]
    back = pyogrio.read_dataframe(tmp_path / "s.kml")
    d = back["description"].tolist()
    assert d[0] == "园区：经济开发区\n宗地面积（亩，图形）：7.50\n评价等级：A类（优先发展）"
    assert "&lt;img src=x onerror=alert(1)&gt;" in d[1] and "<img" not in d[1]
    assert "亩均税收低于标准；容积率低于控制指标" in d[1]


def test_styled_gpkg_small_and_csv_bytes(tmp_path):
    g = small()
    write_styled_gpkg({"parcels": g}, tmp_path / "a.gpkg")
    back = gpd.read_file(tmp_path / "a.gpkg", layer="parcels")
    assert back["park"].tolist() == ["经济开发区", HOSTILE, "'=cmd|' /C calc'!A0"]
    assert back["tax_per_mu"].isna().tolist() == [False, True, False]
    a = write_csv(pd.DataFrame(g.drop(columns="geometry")), tmp_path / "a.csv").read_bytes()
    b = write_csv(pd.DataFrame(g.drop(columns="geometry")), tmp_path / "b.csv").read_bytes()
    assert a == b and a.startswith(b"\xef\xbb\xbf")
    assert b"'=cmd" in a
