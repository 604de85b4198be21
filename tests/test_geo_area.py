"""Tests of parkland.geo.area: planar areas in the Gauss–Krüger zone of each feature."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from parkland.errors import InputError
from parkland.geo.area import geodesic_area_m2, measure_epsg_for, planar_area_m2

REAL = Path(__file__).parent / "data" / "real"
M2_PER_MU = 10000 / 15

# rectangles (width, height) in metres and their exact areas
SIZES = [(200.0, 100.0), (150.0, 40.0), (30.0, 20.0), (1000.0, 333.0)]
EXACT_M2 = [20000.0, 6000.0, 600.0, 333000.0]


def rectangles(x0: float = 35_600_000.0, y0: float = 3_400_000.0, crs: int = 4523) -> gpd.GeoDataFrame:
    """Rectangles in EPSG:4523 (prefixed zone 35: easting 35 600 000 ≈ 106.05°E near Nanchong)."""
    geoms = [shapely.box(x0 + 2000 * i, y0, x0 + 2000 * i + w, y0 + h) for i, (w, h) in enumerate(SIZES)]
    return gpd.GeoDataFrame({"n": range(len(SIZES))}, geometry=geoms, crs=crs)


def test_own_gk_crs_is_measured_directly():
    g = rectangles()
    a = planar_area_m2(g)
    assert list(a.columns) == ["area_m2", "measure_epsg"]
    np.testing.assert_allclose(a["area_m2"], EXACT_M2, rtol=1e-9, atol=0)
    assert (a["area_m2"].iloc[0] * 15 / 10000) == pytest.approx(30.0, rel=1e-12)  # 200 m × 100 m = 30 亩
    assert a["measure_epsg"].dtype == "Int64"
    assert a["measure_epsg"].tolist() == [4523] * 4


def test_degrees_come_back_to_the_zone():
    g = rectangles().to_crs(4490)
    a = planar_area_m2(g)
    np.testing.assert_allclose(a["area_m2"], EXACT_M2, rtol=1e-6, atol=0)
    assert a["measure_epsg"].tolist() == [4544] * 4  # zone 35 without prefix


def test_web_mercator_is_never_the_measure():
    g = rectangles().to_crs(3857)
    # in Web Mercator the 200 m × 100 m rectangle would measure 20000 / cos²(30.7°) ≈ 27000 m²
    assert shapely.area(g.geometry.array[0]) > 26000
    a = planar_area_m2(g)
    np.testing.assert_allclose(a["area_m2"], EXACT_M2, rtol=1e-6, atol=0)
    assert a["measure_epsg"].tolist() == [4544] * 4


def test_own_zone_tolerance_edge():
    # centroid longitudes 106.567 (1.567° from CM 105: within 1.5° + 0.1°) and 106.671 (1.671°: outside)
    geoms = [shapely.box(35_650_000, 3_400_000, 35_650_200, 3_400_100),
             shapely.box(35_660_000, 3_400_000, 35_660_200, 3_400_100)]
    g = gpd.GeoDataFrame(geometry=geoms, crs=4523)
    a = planar_area_m2(g)
    assert a["measure_epsg"].tolist() == [4523, 4545]
    assert a["area_m2"].iloc[0] == pytest.approx(20000.0, rel=1e-9)
    # the second one is measured in zone 36, where it lies 1.33° west of the meridian (108°E):
    # it equals the area of the same polygon reprojected to EPSG:4545 …
    in36 = g.iloc[[1]].to_crs(4545).geometry.area.iloc[0]
    assert a["area_m2"].iloc[1] == pytest.approx(in36, rel=1e-12)
    # … which is 20000 m² × (k36 / k35)², k = 1 + x²/(2R²): ≈ 19995.35 m²
    assert a["area_m2"].iloc[1] == pytest.approx(19995.35, abs=0.01)
    geo = geodesic_area_m2(g)
    assert abs(a["area_m2"].iloc[1] / geo.iloc[1] - 1) < 1e-3


def test_layer_across_zones_is_measured_zone_by_zone():
    # three 200 m × 100 m squares in EPSG:4490 at 103.2°E (zone 34), 106.9°E (zone 36), 113.3°E (zone 38)
    parts = []
    for lon, epsg in [(103.2, 4543), (106.9, 4545), (113.3, 4547)]:
        c = gpd.GeoSeries(gpd.points_from_xy([lon], [30.5]), crs=4490).to_crs(epsg).iloc[0]
        box = shapely.box(c.x, c.y, c.x + 200, c.y + 100)
        parts.append(gpd.GeoSeries([box], crs=epsg).to_crs(4490).iloc[0])
    g = gpd.GeoDataFrame(geometry=parts, crs=4490)
    a = planar_area_m2(g)
    assert a["measure_epsg"].tolist() == [4543, 4545, 4547]
    np.testing.assert_allclose(a["area_m2"], 20000.0, rtol=1e-6)


def test_outside_china_uses_utm():
    lon = np.array([26.95, -70.0, 106.1, 106.5, 72.0, np.nan])
    lat = np.array([60.53, -45.0, 30.8, 30.8, 40.0, 30.0])
    assert measure_epsg_for(lon, lat).tolist() == [32635, 32719, 4544, 4545, 32643, 0]


def test_null_and_empty_geometries():
    g = gpd.GeoDataFrame(geometry=[shapely.box(35_600_000, 3_400_000, 35_600_200, 3_400_100), None,
                                   shapely.Polygon()], crs=4523, index=[10, 11, 12])
    a = planar_area_m2(g)
    assert a.index.tolist() == [10, 11, 12]
    assert a["area_m2"].iloc[0] == pytest.approx(20000.0, rel=1e-12)
    assert np.isnan(a["area_m2"].iloc[1]) and np.isnan(a["area_m2"].iloc[2])
    assert a["measure_epsg"].isna().tolist() == [False, True, True]


def test_no_crs_is_an_input_error():
    g = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)])
    with pytest.raises(InputError):
        planar_area_m2(g)


def test_geodesic_reference_with_hole():
    outer = shapely.box(35_600_000, 3_400_000, 35_601_000, 3_401_000)
    hole = shapely.box(35_600_100, 3_400_100, 35_600_600, 3_400_600)
    g = gpd.GeoDataFrame(geometry=[shapely.Polygon(outer.exterior.coords, [hole.exterior.coords])], crs=4523)
    planar = planar_area_m2(g)["area_m2"].iloc[0]
    assert planar == pytest.approx(750_000.0, rel=1e-9)
    geo = geodesic_area_m2(g).iloc[0]
    # GK scale at 100 km from the meridian: area × (1 + x²/R²) ≈ 1 + 2.5e-4
    assert geo / planar == pytest.approx(1 - 2.5e-4, abs=5e-5)


def test_kotka_industrial_within_half_percent_of_geodesic():
    k = gpd.read_file(REAL / "kotka" / "osm_kotka_landuse.geojson")
    ind = k[(k["landuse"] == "industrial") & k.geometry.notna()].copy()
    ind["geometry"] = shapely.make_valid(ind.geometry.array)
    a = planar_area_m2(ind)
    assert set(a["measure_epsg"]) == {32635}  # UTM 35N (Finland is outside China)
    rel = (a["area_m2"] / geodesic_area_m2(ind) - 1).abs()
    assert len(rel) == 9
    assert rel.max() < 0.005  # observed 0.08 %: UTM's k0 = 0.9996 shrinks areas by 0.08 %


@pytest.mark.parametrize("code,epsg", [("511300", 4544), ("511322", 4545), ("511324", 4545)])
def test_nanchong_zone_choice_and_area(code, epsg):
    # the city's centroid is at 106.21°E (zone 35); 营山 (106.71°E) and 仪陇 (106.51°E) lie east of 106.5°
    g = gpd.read_file(REAL / "nanchong" / f"{code}.geojson")
    a = planar_area_m2(g)
    assert a["measure_epsg"].tolist() == [epsg]
    rel = abs(a["area_m2"].iloc[0] / geodesic_area_m2(g).iloc[0] - 1)
    assert rel < 0.005  # observed 0.035 %, 0.038 %, 0.050 %


def test_nanchong_city_area_published():
    # Nanchong's land area is about 12 500 km²
    g = gpd.read_file(REAL / "nanchong" / "511300.geojson")
    assert planar_area_m2(g)["area_m2"].iloc[0] / 1e6 == pytest.approx(12_500, rel=0.01)


def test_mixed_layer_keeps_index_order():
    g = pd.concat([rectangles(), rectangles().to_crs(4490).to_crs(4523)]).set_axis(list("abcdefgh"))
    g = gpd.GeoDataFrame(g, crs=4523)
    a = planar_area_m2(g)
    assert a.index.tolist() == list("abcdefgh")
    np.testing.assert_allclose(a["area_m2"], EXACT_M2 * 2, rtol=1e-6)
