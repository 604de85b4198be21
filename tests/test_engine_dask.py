"""The dask engine gives the pandas engine's results (1e-9 relative) on a LocalCluster of two worker processes:
the demo city, a synthetic 50k city (buildings, a raster, repeated codes, bow-ties, null geometries) and a
hand-made layer whose repeated codes and Z geometries fall in different partitions."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from dask.distributed import Client, LocalCluster

from parkland.demo_data import demo_data_dir
from parkland.engine.dask import _bounds, assess_dask, distributed_parcels, to_geoparquet
from parkland.geo.parcels import prepare_parcels
from parkland.pipeline import assess

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from synth import X0, Y0, make_city

FRAMES = ("parcels", "firms", "pairs", "recon", "parks", "counties", "cleanup", "idle_floor", "previous", "audit")


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


def assert_same(a, b) -> None:
    """Every frame of two Assessments equal (1e-9 relative), and the same summary.json content."""
    for name in FRAMES:
        x, y = getattr(a, name), getattr(b, name)
        if x is None:
            assert y is None, name
            continue
        pd.testing.assert_frame_equal(x, y, check_exact=False, rtol=1e-9, obj=name)
    sa, sb = a.summary(), b.summary()
    assert sa["run"].pop("engine")["name"] == "pandas" and sb["run"].pop("engine")["name"] == "dask"
    assert json.dumps(sa, sort_keys=True, default=str) == json.dumps(sb, sort_keys=True, default=str)


def test_bounds_cover_every_row_once():
    assert _bounds(10, 3) == [(0, 3), (3, 4), (7, 3)]
    assert _bounds(2, 4) == [(0, 1), (1, 1)]


def test_demo_city_equal(cluster):
    d = demo_data_dir()
    kw = dict(parcels_layer="zongdi", links=str(d / "links.csv"), parks=str(d / "city.gpkg"), parks_layer="parks",
              year=2025, previous_firms=str(d / "firms_2024.xlsx"), buildings=str(d / "city.gpkg"),
              buildings_layer="buildings", rasters={"ndvi": str(d / "ndvi.tif")})
    a = assess(str(d / "city.gpkg"), str(d / "firms_2025.xlsx"), **kw)
    b = assess_dask(str(d / "city.gpkg"), str(d / "firms_2025.xlsx"), scheduler=cluster.scheduler_address,
                    npartitions=3, **kw)
    assert_same(a, b)
    assert b.meta["engine"] == {"name": "dask", "partitions": 3, "workers": 2}
    assert len(b.parcels) == 1029 and len(b.firms) == 852


def _raster(path: Path, bounds: tuple[float, float, float, float]) -> Path:
    x0, y0, x1, y1 = bounds
    cell = 30.0
    w, h = int(np.ceil((x1 - x0) / cell)) + 2, int(np.ceil((y1 - y0) / cell)) + 2
    vals = (np.arange(w * h, dtype="float64").reshape(h, w) % 97 / 100).astype("float32")
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32", crs="EPSG:4523",
                       transform=Affine(cell, 0, x0 - cell, 0, -cell, y1 + cell)) as ds:
        ds.write(vals, 1)
    return path


def test_synthetic_50k_city_equal(cluster, tmp_path):
    paths = make_city(50_000, tmp_path / "city", buildings=True)
    gpkg = paths["parcels"]
    import pyogrio

    tif = _raster(tmp_path / "ndvi.tif", tuple(pyogrio.read_info(str(gpkg), layer="zongdi")["total_bounds"]))
    kw = dict(parcels_layer="zongdi", buildings=str(gpkg), buildings_layer="jianzhu", rasters={"ndvi": str(tif)})
    a = assess(str(gpkg), str(paths["firms"]), **kw)
    b = assess_dask(str(gpkg), str(paths["firms"]), scheduler=cluster.scheduler_address, npartitions=4,
                    workdir=tmp_path / "parts", **kw)
    assert_same(a, b)
    codes = a.recon["problem_code"].value_counts()
    # the synthetic quirks are there, and were merged across partitions
    assert codes["DUPLICATE_PARCEL_ID"] >= 2 and codes["INVALID_GEOMETRY"] >= 1 and codes["NULL_GEOMETRY"] >= 1
    assert a.parcels["ndvi_mean"].notna().all()
    # the prepared partitions are kept as GeoParquet: together, the parcels of the run
    parts = sorted((tmp_path / "parts").glob("parcels-*.parquet"))
    assert len(parts) == 4
    back = pd.concat([gpd.read_parquet(p) for p in parts], ignore_index=True)
    assert back["source_row"].tolist() == a.parcels["source_row"].tolist()
    np.testing.assert_allclose(back["area_m2"], a.parcels["area_m2"], rtol=1e-12)


def test_records_across_partitions(cluster):
    """Codes repeated across partitions, Z in two partitions, and a frame (not a path) as input."""
    n = 9
    geoms = [shapely.box(X0 + 100 * i, Y0, X0 + 100 * i + 40, Y0 + 50) for i in range(n)]
    geoms[1] = shapely.force_3d(geoms[1], 5.0)
    geoms[7] = shapely.force_3d(geoms[7], 6.0)
    codes = [f"511302001001GB{i:05d}" for i in range(n)]
    codes[8] = codes[0]
    codes[5] = codes[0]
    gdf = gpd.GeoDataFrame({"parcel_id": codes}, geometry=geoms, crs="EPSG:4523")
    client = Client(cluster)
    try:
        pre = distributed_parcels(client, gdf, npartitions=3)
    finally:
        client.close()
    single = prepare_parcels(gdf.assign(source_row=np.arange(1, n + 1)))
    pd.testing.assert_frame_equal(pre["prepare"].recon, single.recon)
    got = single.recon.set_index("problem_code")
    assert got.loc["Z_DROPPED", "problem_zh"] == "2 个宗地图形带高程（Z）坐标，已去除，按平面计算（第 2、8 条）"
    assert sorted(got.loc["DUPLICATE_PARCEL_ID", "source_row"].tolist()) == [1, 6, 9]
    assert pre["prepare"].frame["area_m2"].tolist() == [2000.0] * n


def test_out_of_zone_note_counts_the_whole_layer(cluster):
    """COORDINATES_OUTSIDE_ZONE names every parcel off China's zones once, though they sit in two partitions."""
    n = 6
    ys = [Y0, -3_000_000.0, Y0, Y0, -3_000_000.0, Y0]  # about 27°S: outside every CGCS2000 zone in China
    geoms = [shapely.box(X0 + 100 * i, y, X0 + 100 * i + 40, y + 50) for i, y in enumerate(ys)]
    gdf = gpd.GeoDataFrame({"parcel_id": [f"511302001001GB{i:05d}" for i in range(n)]}, geometry=geoms,
                           crs="EPSG:4523")
    client = Client(cluster)
    try:
        pre = distributed_parcels(client, gdf, npartitions=3)
    finally:
        client.close()
    single = prepare_parcels(gdf.assign(source_row=np.arange(1, n + 1)))
    pd.testing.assert_frame_equal(pre["prepare"].recon, single.recon)
    note = single.recon[single.recon["problem_code"] == "COORDINATES_OUTSIDE_ZONE"]
    assert len(note) == 1 and note["problem_zh"].iloc[0].startswith("2 个宗地")
    assert "第 2、5 条" in note["problem_zh"].iloc[0]


def test_unusable_partition_falls_back(cluster, tmp_path):
    """A partition whose every feature lacks geometry cannot be prepared alone: the single-machine stage runs."""
    n = 6
    geoms = [shapely.box(X0 + 100 * i, Y0, X0 + 100 * i + 40, Y0 + 50) for i in range(n)]
    geoms[4] = geoms[5] = None
    gdf = gpd.GeoDataFrame({"宗地代码": [f"511302001001GB{i:05d}" for i in range(n)]}, geometry=geoms,
                           crs="EPSG:4523")
    path = tmp_path / "p.gpkg"
    gdf.to_file(path, layer="zongdi")
    firms = tmp_path / "f.csv"
    firms.write_text("统一社会信用代码,企业名称,宗地代码,税收（万元）\n", encoding="utf-8")
    client = Client(cluster)
    try:
        assert distributed_parcels(client, str(path), npartitions=3) is None
    finally:
        client.close()
    a = assess(str(path), str(firms))
    b = assess_dask(str(path), str(firms), scheduler=cluster.scheduler_address, npartitions=3)
    assert_same(a, b)
    assert len(b.parcels) == 4


def test_parcel_layer_found_without_its_name(cluster, tmp_path):
    """A GPKG whose first layer is not the parcels: both engines read the layer with the parcel codes."""
    paths = make_city(3000, tmp_path / "city")
    gpkg = tmp_path / "two.gpkg"
    gpd.GeoDataFrame({"名称": ["园区甲"]}, geometry=[shapely.box(X0, Y0, X0 + 10, Y0 + 10)],
                     crs="EPSG:4523").to_file(gpkg, layer="aaa_parks")
    gpd.read_file(paths["parcels"], layer="zongdi").to_file(gpkg, layer="zongdi")
    a = assess(str(gpkg), str(paths["firms"]))
    b = assess_dask(str(gpkg), str(paths["firms"]), scheduler=cluster.scheduler_address, npartitions=3)
    assert_same(a, b)
    assert len(b.parcels) > 2990 and "LAYER_CHOSEN" in set(b.recon["problem_code"])


def test_to_geoparquet_round_trip(tmp_path):
    paths = make_city(2000, tmp_path / "city")
    out = to_geoparquet(paths["parcels"], tmp_path / "pq", layer="zongdi", npartitions=3)
    import dask_geopandas

    ddf = dask_geopandas.read_parquet(str(out))
    assert ddf.npartitions == 3
    back = ddf.compute()
    orig = gpd.read_file(paths["parcels"], layer="zongdi")
    assert len(back) == 2000
    assert back["宗地代码"].tolist() == orig["宗地代码"].tolist()
