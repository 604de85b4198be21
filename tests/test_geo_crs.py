"""Tests of parkland.geo.crs: Gauss–Krüger zones, CRS suggestions, GCJ-02 / BD-09."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import CRS

from parkland.geo import crs as gc

# --------------------------------------------------------------------------------------------------
# zones and EPSG codes
# --------------------------------------------------------------------------------------------------


def test_gk_zone_scalar_and_vector():
    assert gc.gk_zone(106.1) == 35  # Nanchong
    assert isinstance(gc.gk_zone(106.1), int)
    z = gc.gk_zone(np.array([75.0, 76.49, 76.5, 104.99, 106.49, 106.5, 106.51, 135.0]))
    assert z.dtype == np.int64
    # a zone edge (3n + 1.5) goes to the eastern zone
    assert z.tolist() == [25, 25, 26, 35, 35, 36, 36, 45]


def test_gk_epsg_numbers():
    assert gc.gk_epsg(35) == 4544
    assert gc.gk_epsg(35, prefixed=True) == 4523
    assert gc.gk_epsg(25) == 4534 and gc.gk_epsg(45) == 4554
    assert gc.gk_epsg(25, prefixed=True) == 4513 and gc.gk_epsg(45, prefixed=True) == 4533
    assert gc.gk_epsg(np.array([35, 36])).tolist() == [4544, 4545]
    with pytest.raises(ValueError):
        gc.gk_epsg(24)
    with pytest.raises(ValueError):
        gc.gk_epsg(46, prefixed=True)


@pytest.mark.parametrize("zone", range(25, 46))
def test_gk_epsg_matches_the_epsg_database(zone):
    plain = CRS.from_epsg(gc.gk_epsg(zone)).coordinate_operation
    pref = CRS.from_epsg(gc.gk_epsg(zone, prefixed=True)).coordinate_operation
    p = {x.name: x.value for x in plain.params}
    q = {x.name: x.value for x in pref.params}
    assert p["Longitude of natural origin"] == 3.0 * zone
    assert q["Longitude of natural origin"] == 3.0 * zone
    assert p["False easting"] == 500000.0
    assert q["False easting"] == zone * 1_000_000 + 500000.0
    assert gc.gk_central_meridian(gc.gk_epsg(zone)) == 3.0 * zone


@pytest.mark.parametrize("epsg,cm", [
    (4513, 75.0), (4523, 105.0), (4533, 135.0), (4534, 75.0), (4544, 105.0), (4554, 135.0),  # CGCS2000 3°
    (4491, 75.0), (4501, 135.0), (4502, 75.0), (4512, 135.0),  # CGCS2000 6°
    (2327, 75.0), (2383, 114.0), (2390, 135.0),  # Xian 1980
    (2401, 75.0), (2442, 135.0),  # Beijing 1954
])
def test_is_gauss_kruger_true(epsg, cm):
    assert gc.is_gauss_kruger(epsg)
    assert gc.is_gauss_kruger(f"EPSG:{epsg}")
    assert gc.gk_central_meridian(CRS.from_epsg(epsg)) == cm


def test_is_gauss_kruger_custom_definition():
    assert gc.gk_central_meridian("+proj=tmerc +lat_0=0 +lon_0=105 +k=1 +x_0=35500000 +y_0=0 "
                                  "+ellps=GRS80 +units=m +no_defs") == 105.0
    # a local tmerc with an odd meridian is not a GK zone
    assert not gc.is_gauss_kruger("+proj=tmerc +lon_0=104.5 +k=1 +x_0=500000 +ellps=GRS80 +units=m")


@pytest.mark.parametrize("crs", [32648, 32650, 3857, 4326, 4490, None, "not a crs"])
def test_is_gauss_kruger_false(crs):
    assert not gc.is_gauss_kruger(crs)
    assert gc.gk_central_meridian(crs) is None


def test_suggest_crs_from_bounds():
    s = gc.suggest_crs_from_bounds
    assert s((35_600_000, 3_400_000, 35_610_000, 3_410_000)) == "EPSG:4523"  # Nanchong, prefixed zone 35
    assert s((39_450_000, 4_400_000, 39_460_000, 4_410_000)) == "EPSG:4527"  # Beijing, zone 39
    assert s((18_500_000, 3_400_000, 18_510_000, 3_410_000)) == "EPSG:4496"  # prefixed 6° zone 18
    assert s((35_990_000, 3_400_000, 36_010_000, 3_410_000)) is None  # two zones: not one CRS
    assert s((600_000, 3_400_000, 610_000, 3_410_000)) == "EPSG:4534-4554"  # zone cannot be told
    assert s((105.4, 30.4, 107.0, 31.9)) == "EPSG:4490"
    assert s((26.93, 60.52, 26.97, 60.54)) == "EPSG:4326"  # Kotka, outside China
    assert s((1e9, 1e9, 1e9 + 1, 1e9 + 1)) is None
    assert s(None) is None


def test_crs_hint_words_the_suggestion():
    zh, en = gc.crs_hint((35_600_000, 3_400_000, 35_610_000, 3_410_000))
    assert "EPSG:4523" in zh and "35" in zh and "--crs" in zh
    assert "EPSG:4523" in en
    zh, en = gc.crs_hint((600_000, 3_400_000, 610_000, 3_410_000))
    assert "无法判断" in zh and "cannot be told" in en


# --------------------------------------------------------------------------------------------------
# GCJ-02 / BD-09
# --------------------------------------------------------------------------------------------------
# Published vectors of the widely used coordtransform library, point (116.404, 39.915):
# wandergis/coordtransform test/app.js (the same numbers are asserted in coordtransform_rs's tests).
P = (116.404, 39.915)
CT_WGS84_TO_GCJ02 = (116.41024449916938, 39.91640428150164)
CT_GCJ02_TO_BD09 = (116.41036949371029, 39.92133699351021)
CT_WGS84_TO_BD09 = (116.41662724378733, 39.922699552216216)
# the library's inverses are one-step approximations (g − δ(g), closed-form BD inverse), not exact:
CT_GCJ02_TO_WGS84 = (116.39775550083061, 39.91359571849836)
CT_BD09_TO_GCJ02 = (116.39762729119315, 39.90865673957631)
CT_BD09_TO_WGS84 = (116.3913836995125, 39.907253214522164)

# googollee/eviltransform python/test.py TESTS: (wgsLat, wgsLng, gcjLat, gcjLng)
EVIL = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # beijing
]


def test_forward_vectors_coordtransform():
    assert gc.wgs84_to_gcj02(*P) == pytest.approx(CT_WGS84_TO_GCJ02, abs=1e-12)
    assert gc.gcj02_to_bd09(*P) == pytest.approx(CT_GCJ02_TO_BD09, abs=1e-12)
    assert gc.wgs84_to_bd09(*P) == pytest.approx(CT_WGS84_TO_BD09, abs=1e-12)


def test_inverse_vectors_coordtransform():
    # ours are exact inverses: forward of the result gives the input back
    w = gc.gcj02_to_wgs84(*P)
    assert gc.wgs84_to_gcj02(*w) == pytest.approx(P, abs=1e-10)
    g = gc.bd09_to_gcj02(*P)
    assert gc.gcj02_to_bd09(*g) == pytest.approx(P, abs=1e-10)
    w2 = gc.bd09_to_wgs84(*P)
    assert gc.wgs84_to_bd09(*w2) == pytest.approx(P, abs=1e-10)
    # and agree with the published approximations to within their approximation error
    assert w == pytest.approx(CT_GCJ02_TO_WGS84, abs=1e-6)  # differs by 2.5e-7°, 5.2e-7°
    assert g == pytest.approx(CT_BD09_TO_GCJ02, abs=1e-6)  # 2.0e-7°, 4.0e-7°
    assert w2 == pytest.approx(CT_BD09_TO_WGS84, abs=3e-6)  # 2.2e-6°, 1.8e-6°


@pytest.mark.parametrize("wlat,wlng,glat,glng", EVIL)
def test_eviltransform_vectors_both_ways(wlat, wlng, glat, glng):
    assert gc.wgs84_to_gcj02(wlng, wlat) == pytest.approx((glng, glat), abs=1e-9)
    assert gc.gcj02_to_wgs84(glng, glat) == pytest.approx((wlng, wlat), abs=1e-9)


def test_vectorised_matches_scalar():
    lats = np.array([e[0] for e in EVIL])
    lngs = np.array([e[1] for e in EVIL])
    gx, gy = gc.wgs84_to_gcj02(lngs, lats)
    assert isinstance(gx, np.ndarray) and gx.shape == (3,)
    np.testing.assert_allclose(gx, [e[3] for e in EVIL], atol=1e-9, rtol=0)
    np.testing.assert_allclose(gy, [e[2] for e in EVIL], atol=1e-9, rtol=0)
    # input arrays are not modified
    assert lngs[0] == 121.5272106


def test_round_trips_in_china():
    rng = np.random.default_rng(7)
    lon = rng.uniform(74.0, 135.0, 20_000)
    lat = rng.uniform(4.0, 53.0, 20_000)
    w = gc.gcj02_to_wgs84(*gc.wgs84_to_gcj02(lon, lat))
    assert np.abs(w[0] - lon).max() < 1e-9 and np.abs(w[1] - lat).max() < 1e-9
    g = gc.bd09_to_gcj02(*gc.gcj02_to_bd09(lon, lat))
    assert np.abs(g[0] - lon).max() < 1e-9 and np.abs(g[1] - lat).max() < 1e-9
    b = gc.bd09_to_wgs84(*gc.wgs84_to_bd09(lon, lat))
    assert np.abs(b[0] - lon).max() < 1e-9 and np.abs(b[1] - lat).max() < 1e-9


def test_offset_size_in_nanchong():
    # GCJ-02 shifts by some hundred metres: at Nanchong (106.1°E, 30.8°N)
    gx, gy = gc.wgs84_to_gcj02(106.1, 30.8)
    dx = (gx - 106.1) * 111_320 * np.cos(np.radians(30.8))
    dy = (gy - 30.8) * 110_574
    assert 50 < np.hypot(dx, dy) < 700


@pytest.mark.parametrize("fn", [gc.wgs84_to_gcj02, gc.gcj02_to_wgs84, gc.gcj02_to_bd09, gc.bd09_to_gcj02,
                                gc.wgs84_to_bd09, gc.bd09_to_wgs84])
def test_outside_china_unchanged(fn):
    lon = np.array([26.95, 0.0, -74.0, 139.7])  # Kotka, null island, New York, Tokyo (east of the box)
    lat = np.array([60.53, 0.0, 40.7, 35.7])
    x, y = fn(lon, lat)
    assert x.tolist() == lon.tolist() and y.tolist() == lat.tolist()
    assert fn(26.95, 60.53) == (26.95, 60.53)
