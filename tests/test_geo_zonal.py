"""Zonal statistics with exact cell coverage: a hand-made raster, and NDVI from real Sentinel-2 bands
checked against a 20× supersampled reference computed here."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine

from parkland.geo.zonal import zonal_stats

REAL = Path(__file__).parent / "data" / "real" / "sentinel2"


@pytest.fixture
def small_raster(tmp_path):
    """4×4 cells of 10 m at (500000, 3000040) in EPSG:32650; value = 10 × row + col; cell (0,0) nodata."""
    arr = (10.0 * np.arange(4)[:, None] + np.arange(4)[None, :]).astype("float32")
    arr[0, 0] = -9999.0
    path = tmp_path / "small.tif"
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32",
                       crs="EPSG:32650", transform=Affine(10, 0, 500_000, 0, -10, 3_000_040), nodata=-9999.0) as ds:
        ds.write(arr, 1)
    return path


def test_exact_coverage_mean_nodata_and_outside(small_raster):
    x0, ytop = 500_000.0, 3_000_040.0
    parcels = gpd.GeoDataFrame(
        {"parcel_id": ["half", "nodata_corner", "outside", "straddle", "empty"]},
        geometry=[
            # rows 1–2, column 0 fully and column 1 half: cells 10, 11, 20, 21 with weights 1, .5, 1, .5
            shapely.box(x0, ytop - 30, x0 + 15, ytop - 10),
            # 5 m × 5 m inside the nodata cell (0,0) and 5 m × 5 m outside the raster
            shapely.box(x0 - 5, ytop - 5, x0 + 5, ytop + 5),
            shapely.box(x0 + 1000, ytop, x0 + 1010, ytop + 10),
            # 10 × 10 m over the east edge: half on cell (3,3) = 33, half off the raster
            shapely.box(x0 + 35, ytop - 40, x0 + 45, ytop - 30),
            None,
        ],
        crs="EPSG:32650")
    z = zonal_stats(parcels, {"v": small_raster}, stats=("mean", "coverage", "max"))
    assert list(z.columns) == ["v_mean", "v_coverage", "v_max"]
    assert z.loc[0, "v_mean"] == pytest.approx((10 + 0.5 * 11 + 20 + 0.5 * 21) / 3.0, rel=1e-12)
    assert z.loc[0, "v_coverage"] == pytest.approx(1.0, rel=1e-12)
    assert z.loc[0, "v_max"] == 21.0
    # inside the extent but only on nodata: coverage 0, mean NaN
    assert np.isnan(z.loc[1, "v_mean"]) and z.loc[1, "v_coverage"] == 0.0
    # off the raster: NaN, not 0
    assert z.loc[2].isna().all()
    assert z.loc[3, "v_mean"] == pytest.approx(33.0) and z.loc[3, "v_coverage"] == pytest.approx(0.5)
    assert z.loc[4].isna().all()


def test_parcels_in_another_crs_are_reprojected_not_the_raster(small_raster):
    x0, ytop = 500_000.0, 3_000_040.0
    p = gpd.GeoDataFrame(geometry=[shapely.box(x0 + 2, ytop - 38, x0 + 27, ytop - 3)], crs="EPSG:32650")
    ref = zonal_stats(p, {"v": small_raster})
    got = zonal_stats(p.to_crs(4326), {"v": small_raster})
    assert got.loc[0, "v_mean"] == pytest.approx(ref.loc[0, "v_mean"], rel=1e-9)
    assert got.loc[0, "v_coverage"] == pytest.approx(ref.loc[0, "v_coverage"], rel=1e-6)


@pytest.fixture(scope="module")
def ndvi(tmp_path_factory):
    """NDVI = (NIR − red) / (NIR + red) of the real Sentinel-2 bands (float32, same grid)."""
    with rasterio.open(REAL / "sentinel2_red_epsg32719.tif") as r, \
            rasterio.open(REAL / "sentinel2_nir_epsg32719.tif") as n:
        red, nir = r.read(1).astype("float64"), n.read(1).astype("float64")
        profile = r.profile
    arr = ((nir - red) / (nir + red)).astype("float32")
    path = tmp_path_factory.mktemp("s2") / "ndvi.tif"
    profile.update(dtype="float32", nodata=np.nan)
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(arr, 1)
    with rasterio.open(path) as ds:
        return path, ds.read(1).astype("float64"), ds.transform


def _supersampled(geom, arr, transform, k=20):
    """Mean of the cell values at k×k sub-cell centres inside ``geom`` (the reference), and the plain
    cell-centre mean (k = 1)."""
    x0, y0 = transform.c, transform.f
    res = transform.a
    minx, miny, maxx, maxy = geom.bounds
    c0, c1 = int((minx - x0) // res), int((maxx - x0) // res) + 1
    r0, r1 = int((y0 - maxy) // res), int((y0 - miny) // res) + 1
    sub = (np.arange(c0 * k, c1 * k) + 0.5) / k
    xs = x0 + sub * res
    ys = y0 - (np.arange(r0 * k, r1 * k) + 0.5) / k * res
    gx, gy = np.meshgrid(xs, ys)
    inside = shapely.contains_xy(geom, gx, gy)
    cols = (np.arange(c0 * k, c1 * k) // k)[None, :].repeat(len(ys), 0)
    rows = (np.arange(r0 * k, r1 * k) // k)[:, None].repeat(len(xs), 1)
    return float(arr[rows[inside], cols[inside]].mean())


def test_ndvi_mean_is_exact_coverage_not_cell_centres(ndvi):
    path, arr, transform = ndvi
    x0, ytop = transform.c, transform.f
    geoms = [
        # a triangle cutting cells at odd angles (35 m × 43 m)
        shapely.Polygon([(x0 + 1003.0, ytop - 1002.0), (x0 + 1038.0, ytop - 1011.0), (x0 + 1017.0, ytop - 1045.0)]),
        # a rotated rectangle of about 0.8 ha
        shapely.affinity.rotate(shapely.box(x0 + 1500.0, ytop - 700.0, x0 + 1600.0, ytop - 620.0), 23.0),
        # a small 12 m × 7 m plot across four cells of a field edge (NDVI 0.06–0.30 around it)
        shapely.box(x0 + 474.0, ytop - 396.0, x0 + 486.0, ytop - 389.0),
        # an L-shaped yard
        shapely.Polygon([(x0 + 300.3, ytop - 300.7), (x0 + 361.1, ytop - 300.7), (x0 + 361.1, ytop - 322.2),
                         (x0 + 322.4, ytop - 322.2), (x0 + 322.4, ytop - 377.9), (x0 + 300.3, ytop - 377.9)]),
    ]
    parcels = gpd.GeoDataFrame({"parcel_id": ["tri", "rot", "small", "L"]}, geometry=geoms, crs="EPSG:32719")
    z = zonal_stats(parcels, {"ndvi": path})
    ref = np.array([_supersampled(g, arr, transform, 20) for g in geoms])
    centre = np.array([_supersampled(g, arr, transform, 1) for g in geoms])
    # exact coverage agrees with 400 samples per cell to the sampling error (< 2e-3 NDVI)
    np.testing.assert_allclose(z["ndvi_mean"], ref, atol=2e-3)
    np.testing.assert_allclose(z["ndvi_coverage"], 1.0, rtol=1e-7)
    # ... while cell centres miss the small plot: it covers parts of 4 cells but holds one cell centre
    # (exact 0.1744 against 0.1895 from the centre alone)
    assert z.loc[2, "ndvi_mean"] == pytest.approx(0.1744, abs=5e-5)
    assert centre[2] == pytest.approx(0.1895, abs=5e-5)
    assert abs(ref[2] - z.loc[2, "ndvi_mean"]) < 1e-4
    # the same parcels given in WGS84 (reprojected to the raster's UTM 19S) give the same means
    zg = zonal_stats(parcels.to_crs(4326), {"ndvi": path})
    np.testing.assert_allclose(zg["ndvi_mean"], z["ndvi_mean"], rtol=1e-6)


def test_missing_raster_is_an_input_error(tmp_path):
    from parkland.errors import InputError
    p = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:32650")
    with pytest.raises(InputError, match="无法读取栅格文件"):
        zonal_stats(p, {"x": tmp_path / "nope.tif"})


def test_scale_and_offset_are_applied(tmp_path):
    """A band stored as DN with GDAL scale 0.01 and offset −1 (NDVI = DN/100 − 1) gives NDVI means."""
    import geopandas as gpd
    import numpy as np
    import rasterio
    import shapely
    from rasterio.transform import from_origin

    from parkland.geo.zonal import zonal_stats

    dn = np.array([[150, 150, 50, 50]] * 2, dtype="uint8")
    path = tmp_path / "ndvi_dn.tif"
    with rasterio.open(path, "w", driver="GTiff", width=4, height=2, count=1, dtype="uint8", crs="EPSG:32648",
                       transform=from_origin(500000, 3400020, 10, 10), nodata=255) as dst:
        dst.write(dn, 1)
        dst.scales = (0.01,)
        dst.offsets = (-1.0,)
    # a parcel over the left half (DN 150 → 0.5) and one straddling both halves equally (→ 0.0)
    parcels = gpd.GeoDataFrame(geometry=[shapely.box(500000, 3400000, 500020, 3400020),
                                         shapely.box(500010, 3400000, 500030, 3400020)], crs="EPSG:32648")
    z = zonal_stats(parcels, {"ndvi": path})
    assert z["ndvi_mean"].tolist() == [pytest.approx(0.5, abs=1e-6), pytest.approx(0.0, abs=1e-6)]
    assert z["ndvi_coverage"].tolist() == [pytest.approx(1.0), pytest.approx(1.0)]
