"""Parcel and generic vector layers: every format, both engines, GBK shapefiles, ids, units, errors."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Polygon, box

from parkland.errors import InputError
from parkland.io.layers import list_layers, read_layer, shapefile_encoding
from parkland.io.parcels import PARCEL_COLUMNS, read_parcels

pytestmark = pytest.mark.filterwarnings("ignore:Could not decode error message:RuntimeWarning")

IDS = ["511302001001GB00001", "511302001001GB00002", "511302001001GB00003F00010001"]


def _parcels(crs="EPSG:4523") -> gpd.GeoDataFrame:
    x0 = 35_605_000.0
    return gpd.GeoDataFrame(
        {"宗地代码": IDS,
         "权利人": ["南充甲机械有限公司", "乙公司", None],
         "权利人证件号": ["91511300ma6000001g", None, None],
         "用途": ["工业用地", "工业用地", "仓储用地"],
         "园区": ["南充经开区", "南充经开区", None],
         "宗地面积": [6666.5, 30.0, 2.0],
         "面积单位": ["平方米", "亩", "公顷"],
         "约定开工日期": ["2020-01-01", "2021/5/1", None],
         "约定投资额": [5000.0, None, 120.0],
         "备注": ["a", "b", "c"]},
        geometry=[box(x0, 3_400_000, x0 + 100, 3_400_100), box(x0 + 200, 3_400_000, x0 + 300, 3_400_200), None],
        crs=crs)


def _check(frame: gpd.GeoDataFrame):
    assert list(frame.columns[: len(PARCEL_COLUMNS)]) == PARCEL_COLUMNS
    assert frame["source_row"].tolist() == [1, 2, 3]
    assert frame["parcel_id"].tolist() == [*IDS[:2], IDS[2][:19]]
    assert frame["parcel_id_raw"].tolist() == IDS
    assert frame["holder_name"].tolist() == ["南充甲机械有限公司", "乙公司", None]
    assert frame["holder_uscc"].tolist() == ["91511300MA6000001G", None, None]
    assert frame["land_use"].tolist() == ["工业用地", "工业用地", "仓储用地"]
    assert frame["park"].tolist() == ["南充经开区", "南充经开区", None]
    np.testing.assert_allclose(frame["cert_area_mu"], [6666.5 * 15 / 10000, 30.0, 30.0], rtol=1e-12)
    assert frame["agreed_start"].tolist()[:2] == [pd.Timestamp("2020-01-01"), pd.Timestamp("2021-05-01")]
    assert pd.isna(frame["agreed_start"].iloc[2])
    np.testing.assert_allclose(frame["agreed_investment_wan"], [5000.0, np.nan, 120.0])
    assert frame["备注"].tolist() == ["a", "b", "c"]
    assert frame.geometry.iloc[0].area == pytest.approx(10000.0)
    assert frame.geometry.iloc[2] is None
    assert frame["granted"].isna().all() and str(frame["granted"].dtype) == "datetime64[ns]"


@pytest.mark.parametrize(("name", "driver"), [("p.gpkg", "GPKG"), ("p.geojson", "GeoJSON"),
                                              ("p.fgb", "FlatGeobuf"), ("p.gdb", "OpenFileGDB")])
@pytest.mark.parametrize("engine", ["pyogrio", "fiona"])
def test_formats_and_engines(tmp_path, name, driver, engine):
    p = tmp_path / name
    crs = "EPSG:4326" if driver == "GeoJSON" else "EPSG:4523"
    g = _parcels(crs)
    opts = {"SPATIAL_INDEX": "NO"} if driver == "FlatGeobuf" else {}  # FlatGeobuf's index refuses nulls
    pyogrio.write_dataframe(g, p, driver=driver, layer="parcels" if driver != "GeoJSON" else None, **opts)
    loaded = read_parcels(p, engine=engine)
    _check(loaded.frame)
    assert loaded.frame.crs.to_epsg() == int(crs.split(":")[1])
    assert loaded.meta["engine"] == engine and loaded.meta["id_column"] == "宗地代码"
    assert len(loaded.meta["sha256"]) == 64


def test_fiona_reads_the_same_as_pyogrio(tmp_path):
    p = tmp_path / "p.gpkg"
    pyogrio.write_dataframe(_parcels(), p, layer="parcels")
    a = read_parcels(p).frame
    b = read_parcels(p, engine="fiona").frame
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry")),
                                  check_dtype=False)
    assert a.geometry.geom_equals(b.geometry).iloc[:2].all()


@pytest.mark.parametrize("engine", ["pyogrio", "fiona"])
def test_gbk_shapefile_without_cpg(tmp_path, engine):
    p = tmp_path / "zd.shp"
    g = _parcels().drop(columns=["约定开工日期"])
    pyogrio.write_dataframe(g, p, encoding="GBK")
    (tmp_path / "zd.cpg").unlink()
    assert shapefile_encoding(p) == "GBK"
    loaded = read_parcels(p, engine=engine)
    f = loaded.frame
    assert loaded.meta["encoding"] == "GBK"
    assert f["holder_name"].tolist() == ["南充甲机械有限公司", "乙公司", None]
    assert f["parcel_id"].tolist() == [*IDS[:2], IDS[2][:19]]
    # 权利人证件号 is 12 bytes in GBK: the .dbf holds 权利人证件 (10 bytes), still recognised
    assert "权利人证件" in loaded.meta["columns"]
    assert f["holder_uscc"].tolist() == ["91511300MA6000001G", None, None]


def test_utf8_shapefile_without_cpg_and_without_prj(tmp_path):
    p = tmp_path / "zd.shp"
    pyogrio.write_dataframe(_parcels(), p, encoding="UTF-8")
    (tmp_path / "zd.cpg").unlink()
    (tmp_path / "zd.prj").unlink()
    assert shapefile_encoding(p) == "UTF-8"
    loaded = read_parcels(p)
    f = loaded.frame
    assert f["holder_name"].iloc[0] == "南充甲机械有限公司"
    assert f.crs is None and loaded.meta["crs"] is None
    # GDAL cut the UTF-8 names at 10 bytes, inside a character: 宗地代码 → 宗地代…, 约定开工日期 → 约定开…
    assert loaded.meta["columns"] == {"宗地代…": "parcel_id", "权利人": "holder_name",
                                      "权利人…": "holder_uscc", "用途": "land_use", "园区": "park",
                                      "宗地面…": "cert_area_mu", "面积单…": "cert_area_unit",
                                      "约定开…": "agreed_start", "约定投…": "agreed_investment_wan"}
    _check(f)


def test_kml_through_both_engines(tmp_path):
    p = tmp_path / "p.kml"
    g = _parcels().to_crs(4326)
    pyogrio.write_dataframe(g[["宗地代码", "权利人", "geometry"]], p, driver="KML")
    for engine in ("pyogrio", "fiona"):
        f = read_parcels(p, engine=engine).frame
        assert f["parcel_id"].tolist() == [*IDS[:2], IDS[2][:19]]
        assert f["holder_name"].tolist()[:2] == ["南充甲机械有限公司", "乙公司"]
        assert f.crs.to_epsg() == 4326


def test_geoparquet(tmp_path):
    p = tmp_path / "p.parquet"
    _parcels().to_parquet(p)
    loaded = read_parcels(p)
    _check(loaded.frame)
    assert loaded.meta["driver"] == "GeoParquet" and loaded.frame.crs.to_epsg() == 4523
    q = tmp_path / "plain.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(q)
    with pytest.raises(InputError) as e:
        read_parcels(q)
    assert "GeoParquet" in e.value.zh


def test_multi_layer_gpkg_layer_choice_and_errors(tmp_path):
    p = tmp_path / "city.gpkg"
    pyogrio.write_dataframe(_parcels(), p, layer="buildings_first")
    pyogrio.write_dataframe(_parcels().iloc[:1], p, layer="宗地")
    assert list_layers(p) == ["buildings_first", "宗地"]
    one = read_parcels(p, layer="宗地")
    assert one.frame["parcel_id"].tolist() == [IDS[0]] and one.meta["layer"] == "宗地"
    first = read_parcels(p)
    assert len(first.frame) == 3
    assert first.recon["problem_code"].tolist() == ["FIRST_LAYER_USED"]
    with pytest.raises(InputError) as e:
        read_parcels(p, layer="parcels")
    assert "buildings_first、宗地" in e.value.zh and "--parcels-layer" in e.value.hint_zh
    with pytest.raises(InputError) as e:
        read_layer(p, layer="x", source="buildings")
    assert "--buildings-layer" in e.value.hint_zh


def test_parcel_id_order_and_option(tmp_path):
    p = tmp_path / "p.gpkg"
    g = gpd.GeoDataFrame({"BDCDYH": ["B1", "B2"], "ZDDM": ["Z1", "Z2"], "my_id": ["m-1", "m 2"]},
                         geometry=[box(0, 0, 1, 1), box(1, 1, 2, 2)], crs=4523)
    pyogrio.write_dataframe(g, p)
    f = read_parcels(p).frame
    assert f["parcel_id"].tolist() == ["Z1", "Z2"] and f["BDCDYH"].tolist() == ["B1", "B2"]
    loaded = read_parcels(p, id_column="MY_ID")
    assert loaded.frame["parcel_id"].tolist() == ["M1", "M2"]
    assert loaded.frame["ZDDM"].tolist() == ["Z1", "Z2"] and loaded.meta["id_column"] == "my_id"
    with pytest.raises(InputError) as e:
        read_parcels(p, id_column="nope")
    assert "nope" in e.value.zh and "BDCDYH、ZDDM、my_id" in e.value.zh


def test_no_parcel_id_column(tmp_path):
    p = tmp_path / "p.geojson"
    gpd.GeoDataFrame({"name": ["x"]}, geometry=[box(0, 0, 1, 1)], crs=4326).to_file(p)
    with pytest.raises(InputError) as e:
        read_parcels(p)
    msg = e.value.message("zh")
    assert "宗地代码/宗地编码/ZDDM/地块编码/DKDM/BDCDYH/parcel_id" in msg and "--parcel-id" in msg


def test_area_units_header_and_assumed(tmp_path):
    p = tmp_path / "p.gpkg"
    g = gpd.GeoDataFrame({"宗地代码": ["A", "B"], "宗地面积(公顷)": [1.0, 2.0]}, geometry=[box(0, 0, 1, 1)] * 2,
                         crs=4523)
    pyogrio.write_dataframe(g, p)
    loaded = read_parcels(p)
    np.testing.assert_allclose(loaded.frame["cert_area_mu"], [15.0, 30.0], rtol=1e-12)
    assert len(loaded.recon) == 0
    g = gpd.GeoDataFrame({"ZDDM": ["A", None, "5.11302E+18"], "ZDMJ": [1500.0, None, 3.0],
                          "面积单位": [None, None, "斤"]}, geometry=[box(0, 0, 1, 1)] * 3, crs=4523)
    pyogrio.write_dataframe(g, p, layer="x")
    loaded = read_parcels(p, layer="x")
    np.testing.assert_allclose(loaded.frame["cert_area_mu"], [2.25, np.nan, np.nan], rtol=1e-12)
    assert loaded.frame["parcel_id"].tolist() == ["A", None, None]
    r = loaded.recon
    assert sorted(zip(r["problem_code"], r["source_row"].astype(object))) == [
        ("AREA_UNIT_ASSUMED", 1), ("BAD_AREA_UNIT", 3), ("MISSING_PARCEL_ID", 2), ("PARCEL_ID_SCIENTIFIC", 3)]
    g = gpd.GeoDataFrame({"ZDDM": ["A"], "宗地面积": [6666.5]}, geometry=[box(0, 0, 1, 1)], crs=4523)
    pyogrio.write_dataframe(g, p, layer="y")
    loaded = read_parcels(p, layer="y")
    assert loaded.frame["cert_area_mu"].iloc[0] == pytest.approx(6666.5 * 15 / 10000, rel=1e-12)
    assert loaded.recon["problem_code"].tolist() == ["AREA_UNIT_ASSUMED"]
    assert loaded.meta["cert_area_unit"] == "平方米 (assumed)"


def test_numeric_parcel_ids_and_idle_rule_columns(tmp_path):
    p = tmp_path / "p.gpkg"
    g = gpd.GeoDataFrame({"宗地代码": [511302001001, 511302001002], "实际开工日期": pd.to_datetime(["2021-03-04", None]),
                          "停工日期": ["2022年1月1日", "x"], "实际投资额(元)": [1e8, 5e7], "已开发面积(亩)": [3.0, 0.0],
                          "开发比例": ["40%", "0.5"]}, geometry=[box(0, 0, 1, 1)] * 2, crs=4523)
    pyogrio.write_dataframe(g, p)
    loaded = read_parcels(p)
    f = loaded.frame
    assert f["parcel_id"].tolist() == ["511302001001", "511302001002"]
    assert f["actual_start"].tolist()[0] == pd.Timestamp("2021-03-04")
    assert f["stopped_since"].tolist()[0] == pd.Timestamp("2022-01-01")
    np.testing.assert_allclose(f["actual_investment_wan"], [1e4, 5e3], rtol=1e-12)
    np.testing.assert_allclose(f["developed_m2"], [3.0 * 10000 / 15, 0.0], rtol=1e-12)
    np.testing.assert_allclose(f["developed_share"], [0.4, 0.5], rtol=1e-12)
    assert loaded.recon["problem_code"].tolist() == ["BAD_DATE"]


def test_read_layer_for_buildings_and_errors(tmp_path):
    p = tmp_path / "b.fgb"
    g = gpd.GeoDataFrame({"Floor": [3, 28], "source_row": [9, 8]},
                         geometry=[Polygon([(0, 0), (1, 0), (1, 1)]), box(0, 0, 2, 2)], crs=4490)
    pyogrio.write_dataframe(g, p, SPATIAL_INDEX="NO")  # with its index FlatGeobuf stores features sorted
    loaded = read_layer(p)
    f = loaded.frame
    assert list(f.columns) == ["source_row", "Floor", "source_row_input", "geometry"]
    assert f["source_row"].tolist() == [1, 2] and f["Floor"].tolist() == [3, 28]
    assert loaded.meta["crs"] == "EPSG:4490" and loaded.meta["source"] == "buildings"
    bad = tmp_path / "x.gpkg"
    bad.write_text("not a geopackage")
    with pytest.raises(InputError) as e:
        read_layer(bad)
    assert "无法作为矢量图层读取" in e.value.zh
    with pytest.raises(InputError):
        read_layer(tmp_path / "missing.shp")
    with pytest.raises(InputError):
        read_layer(p, engine="gdal")
