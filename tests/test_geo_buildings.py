"""Building coverage (建筑系数), FAR (容积率) and idle floor: hand-made parcels with known overlaps, and
real OpenStreetMap parcels and buildings from Kotka checked against an independent overlay."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from parkland.geo.buildings import building_metrics, detect_columns, idle_floor

X0, Y0 = 500_000.0, 3_400_000.0  # EPSG:4544 = CGCS2000 3° GK zone 35 (CM 105°E), no prefix
REAL = Path(__file__).parent / "data" / "real"


def box(x0, y0, x1, y1):
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


@pytest.fixture
def parcels():
    """A and B: 100 m × 100 m side by side (10,000 m² each); C: 100 m × 100 m with no building."""
    return gpd.GeoDataFrame({"source_row": [1, 2, 3], "parcel_id": ["A", "B", "C"]},
                            geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100), box(300, 0, 400, 100)],
                            crs="EPSG:4544")


@pytest.fixture
def buildings():
    """b1 20×20 (2 floors) and b2 20×20 (3 floors) overlap by 10×10 on A; b3 20×20, one 10 m storey,
    straddles A|B half and half; b4 10×10 on B with a floor-area column of 350 m², marked 闲置;
    b5 has no geometry."""
    return gpd.GeoDataFrame(
        {"层数": [2, "3层", 1, None, 4], "层高": [None, "4.5米", 10.0, None, None],
         "建筑面积（㎡）": [None, None, None, 350.0, None], "使用状态": ["在用", "在用", None, "闲置", None],
         "用途": ["厂房", "仓库", "厂房", "办公", None]},
        geometry=[box(10, 10, 30, 30), box(20, 20, 40, 40), box(90, 10, 110, 30), box(120, 50, 130, 60), None],
        crs="EPSG:4544")


def test_detects_chinese_and_english_columns(buildings):
    assert detect_columns(list(buildings.columns)) == {
        "floors": "层数", "floor_area": "建筑面积（㎡）", "storey_height": "层高", "use": "用途", "state": "使用状态"}
    assert detect_columns(["Floors", "floor_area", "storey_height", "usage", "Status", "geometry"]) == {
        "floors": "Floors", "floor_area": "floor_area", "storey_height": "storey_height", "use": "usage",
        "state": "Status"}


def test_coverage_far_exact_with_overlap_straddle_and_high_storey(parcels, buildings):
    res = building_metrics(parcels, buildings)
    f = res.frame.set_index("parcel_id")
    # A: union(b1, b2) = 400 + 400 − 100 = 700, plus half of b3 = 200 → 900 m² of 10,000
    assert f.loc["A", "footprint_m2"] == pytest.approx(900.0, rel=1e-12)
    assert f.loc["A", "building_coverage"] == pytest.approx(0.09, rel=1e-12)
    # floor: b1 400×2 = 800, b2 400×3 = 1200, b3 400×1 doubled (10 m storey) = 800, half on A = 400
    assert f.loc["A", "floor_area_m2"] == pytest.approx(2400.0, rel=1e-12)
    assert f.loc["A", "far"] == pytest.approx(0.24, rel=1e-12)
    assert f.loc["A", "building_count"] == 3
    # B: half of b3 (200) + b4 (100) = 300; floor 400 (b3's other half) + 350 (column) = 750
    assert f.loc["B", "building_coverage"] == pytest.approx(0.03, rel=1e-12)
    assert f.loc["B", "floor_area_m2"] == pytest.approx(750.0, rel=1e-12)
    assert f.loc["B", "far"] == pytest.approx(0.075, rel=1e-12)
    assert f.loc["B", "building_count"] == 2
    # b4 marked 闲置: 350 m² idle (actual floor area, never doubled)
    assert f.loc["B", "idle_floor_m2"] == pytest.approx(350.0, rel=1e-12)
    assert f.loc["A", "idle_floor_m2"] == 0.0
    assert (f.loc["C", ["footprint_m2", "building_coverage", "floor_area_m2", "far", "idle_floor_m2"]]
            .tolist() == [0.0, 0.0, 0.0, 0.0, 0.0])
    assert f.loc["C", "building_count"] == 0
    codes = res.recon["problem_code"].tolist()
    assert codes.count("NULL_GEOMETRY") == 1 and codes.count("BUILDING_OVERLAP") == 1
    ov = res.recon[res.recon["problem_code"] == "BUILDING_OVERLAP"].iloc[0]
    assert (ov["source_row"], ov["action"]) == (1, "kept")
    idle = res.meta["idle_buildings"]
    assert idle[["source_row", "parcel_id", "parcel_row", "floor_area_m2", "use", "state", "idle_basis"]
                ].values.tolist() == [[4, "B", 2, 350.0, "办公", "闲置", "marked"]]


def test_high_storey_doubles_only_above_8m(parcels):
    b = gpd.GeoDataFrame({"floors": [1, 1, 2], "storey_height": [8.0, 8.01, 9.0]},
                         geometry=[box(0, 0, 10, 10), box(300, 0, 310, 10), box(150, 50, 160, 60)],
                         crs="EPSG:4544")
    f = building_metrics(parcels, b).frame.set_index("parcel_id")
    assert f.loc["A", "floor_area_m2"] == pytest.approx(100.0)  # exactly 8 m: not over 8 m
    assert f.loc["C", "floor_area_m2"] == pytest.approx(200.0)  # 8.01 m: counted twice
    assert f.loc["B", "floor_area_m2"] == pytest.approx(400.0)  # 2 storeys of 9 m → 2 × 100 × 2


def test_stopped_parcels_make_their_buildings_idle(parcels, buildings):
    stopped = pd.Series([False, True, False], index=parcels.index)
    res = building_metrics(parcels, buildings, stopped=stopped)
    f = res.frame.set_index("parcel_id")
    # B: b4 350 (marked) + b3's half of its actual 400 m² (not the doubled 800) = 550
    assert f.loc["B", "idle_floor_m2"] == pytest.approx(550.0, rel=1e-12)
    idle = res.meta["idle_buildings"].sort_values("source_row")
    assert idle[["source_row", "parcel_id", "floor_area_m2", "idle_basis"]].values.tolist() == [
        [3, "B", 200.0, "parcel_stopped"], [4, "B", 350.0, "marked"]]
    # the same through idle_floor() on a result computed before the stopped parcels were known
    later = idle_floor(building_metrics(parcels, buildings), stopped)
    assert later.frame["idle_floor_m2"].tolist() == pytest.approx([0.0, 550.0, 0.0])
    assert len(later.meta["idle_buildings"]) == 2


@pytest.mark.parametrize("bcrs", ["EPSG:4490", "EPSG:3857", "EPSG:32648"])
def test_buildings_in_another_crs_are_reprojected(parcels, buildings, bcrs):
    ref = building_metrics(parcels, buildings).frame
    got = building_metrics(parcels, buildings.to_crs(bcrs)).frame
    for c in ("building_coverage", "far", "floor_area_m2"):
        np.testing.assert_allclose(got[c], ref[c], rtol=1e-7, atol=1e-9)


def test_geographic_parcels_are_measured_in_their_gk_zone(parcels, buildings):
    ref = building_metrics(parcels, buildings)
    res = building_metrics(parcels.to_crs("EPSG:4490"), buildings)
    assert res.meta["measure_crs"] == ["CGCS2000 / 3-degree Gauss-Kruger CM 105E"]
    for c in ("building_coverage", "far", "floor_area_m2"):
        np.testing.assert_allclose(res.frame[c], ref.frame[c], rtol=1e-7, atol=1e-9)


def test_no_crs_is_an_input_error(parcels, buildings):
    from parkland.errors import InputError
    with pytest.raises(InputError, match="建筑图层没有坐标系"):
        building_metrics(parcels, buildings.set_crs(None, allow_override=True))


def _kotka():
    land = gpd.read_file(REAL / "kotka" / "osm_kotka_landuse.geojson")
    ind = land[(land["landuse"] == "industrial") & land.geometry.notna()].copy()
    ind["geometry"] = shapely.make_valid(np.asarray(ind.geometry.array))
    ind = ind.reset_index(drop=True)
    ind["source_row"] = np.arange(1, len(ind) + 1)
    ind["parcel_id"] = ind["osm_way_id"].astype(str)
    bld = gpd.read_file(REAL / "kotka" / "osm_kotka_buildings.geojson")
    return ind, bld


def test_kotka_coverage_matches_an_independent_overlay():
    ind, bld = _kotka()
    parcels = ind.to_crs(3067)  # ETRS-TM35FIN
    res = building_metrics(parcels, bld)  # buildings stay in EPSG:4326
    assert res.meta["columns"]["use"] == "building"
    # independent: geopandas.overlay + dissolve, everything in EPSG:3067
    b = bld[bld.geometry.notna()].to_crs(3067)
    b["bid"] = np.arange(len(b))
    ov = gpd.overlay(parcels[["parcel_id", "geometry"]], b[["bid", "geometry"]], how="intersection",
                     keep_geom_type=True)
    ov = ov[ov.area > 0]
    union = ov.dissolve("parcel_id").area
    pieces = ov.groupby("parcel_id").size()
    floor = ov.assign(a=ov.area).groupby("parcel_id")["a"].sum()  # no floors in OSM: one storey each
    f = res.frame.set_index("parcel_id")
    exp_cov = (union / parcels.set_index("parcel_id").area).reindex(f.index).fillna(0.0)
    np.testing.assert_allclose(f["building_coverage"], exp_cov, rtol=1e-9, atol=1e-12)
    exp_far = (floor / parcels.set_index("parcel_id").area).reindex(f.index).fillna(0.0)
    np.testing.assert_allclose(f["far"], exp_far, rtol=1e-9, atol=1e-12)
    assert f["building_count"].tolist() == pieces.reindex(f.index).fillna(0).astype(int).tolist()
    # the real numbers: 9 industrial polygons with geometry (the 10th has none), 90 building pieces
    assert len(f) == 9
    assert int(f["building_count"].sum()) == len(ov) == 90
    assert f.loc["413379433", "building_coverage"] == pytest.approx(0.2768, abs=5e-5)
    assert f.loc["413379433", "building_count"] == 25
    # one pair of OSM footprints overlaps on 461415540: coverage counts it once, floor area twice
    assert f.loc["461415540", "building_coverage"] == pytest.approx(0.2203, abs=5e-5)
    assert f.loc["461415540", "far"] == pytest.approx(0.2239, abs=5e-5)
    assert (res.recon["problem_code"] == "BUILDING_OVERLAP").sum() == 1


def test_kotka_geographic_parcels_use_utm_35n():
    ind, bld = _kotka()
    res_geo = building_metrics(ind, bld)  # both in EPSG:4326: measured in WGS 84 / UTM 35N
    assert res_geo.meta["measure_crs"] == ["WGS 84 / UTM zone 35N"]
    res_tm = building_metrics(ind.to_crs(3067), bld)  # TM35FIN is UTM 35 on ETRS89: same ratios
    np.testing.assert_allclose(res_geo.frame["building_coverage"], res_tm.frame["building_coverage"],
                               rtol=1e-6, atol=1e-9)
