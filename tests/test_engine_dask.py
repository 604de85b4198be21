"""The dask engine gives the pandas engine's results (1e-9 relative) on a LocalCluster of two worker processes:
the demo city, a synthetic 50k city (buildings, a raster, repeated codes, bow-ties, null geometries), a
hand-made layer whose repeated codes and Z geometries fall in different partitions, and a hand-made linking
case whose shares, holders, points and records cross parcel partitions and firm chunks. Linking and the land
diagnosis run in the workers (task stream), not on the client."""

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
from dask.distributed import Client, LocalCluster, get_task_stream

from parkland import land, link
from parkland.demo_data import demo_data_dir
from parkland.engine.dask import _bounds, assess_dask, distributed_link, distributed_parcels, to_geoparquet
from parkland.geo.parcels import prepare_parcels
from parkland.land import OUTPUT_COLUMNS
from parkland.link import FIRM_COLUMNS, PAIR_COLUMNS, link_firms
from parkland.pipeline import assess

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from synth import X0, Y0, make_city

from parkland.uscc import make

FRAMES = ("parcels", "firms", "pairs", "recon", "parks", "counties", "cleanup", "idle_floor", "previous", "audit")


@pytest.fixture(scope="module")
def cluster():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


def assert_same(a, b) -> None:
    """Every frame of two Assessments equal (1e-9 relative), and the same summary.json content; the link
    and diagnosis columns named one by one (pairs and shares, per-firm land, every flag and reason)."""
    for cols, x, y, obj in ((list(PAIR_COLUMNS), a.pairs, b.pairs, "pairs"),
                            (list(FIRM_COLUMNS), a.firms, b.firms, "firms (link columns)"),
                            ([*OUTPUT_COLUMNS, "firm_count", "holder_firm_row", "unassigned_share", "park"],
                             a.parcels, b.parcels, "parcels (link and land columns)")):
        pd.testing.assert_frame_equal(x[cols], y[cols], check_exact=False, rtol=1e-9, obj=obj)
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


def _not_on_the_client(*a, **k):
    raise AssertionError("a per-partition stage ran on the client")


def test_demo_city_equal(cluster, monkeypatch):
    d = demo_data_dir()
    kw = dict(parcels_layer="zongdi", links=str(d / "links.csv"), parks=str(d / "city.gpkg"), parks_layer="parks",
              year=2025, previous_firms=str(d / "firms_2024.xlsx"), buildings=str(d / "city.gpkg"),
              buildings_layer="buildings", rasters={"ndvi": str(d / "ndvi.tif")})
    a = assess(str(d / "city.gpkg"), str(d / "firms_2025.xlsx"), **kw)
    # the per-partition link and diagnosis functions fail if called in this (the client's) process; the
    # workers are other processes and run the real ones
    for mod, name in ((link, "parcel_candidates"), (link, "firm_pairs"), (link, "parcel_shares"),
                      (link, "firm_totals"), (land, "park_tax_sums"), (land, "diagnose_parcels")):
        monkeypatch.setattr(mod, name, _not_on_the_client)
    with Client(cluster) as c, get_task_stream(client=c) as ts:
        b = assess_dask(str(d / "city.gpkg"), str(d / "firms_2025.xlsx"), scheduler=cluster.scheduler_address,
                        npartitions=3, **kw)
    monkeypatch.undo()
    assert_same(a, b)
    assert b.meta["engine"] == {"name": "dask", "partitions": 3, "workers": 2}
    assert len(b.parcels) == 1029 and len(b.firms) == 852
    # the scheduler saw the stages as tasks on the two workers: 3 parcel partitions and 3 firm chunks, for
    # this year's firms and last year's, and 3 partitions of the diagnosis (two passes)
    workers = set(cluster.scheduler_info["workers"])
    ran: dict[str, set] = {}
    for t in ts.data:
        stage = str(t["key"]).rsplit("-", 2)[0]
        ran.setdefault(stage, set()).add((str(t["key"]), t["worker"]))
    for stage, n in (("parkland-link-candidates", 6), ("parkland-link-pairs", 6), ("parkland-link-shares", 6),
                     ("parkland-link-totals", 6), ("parkland-diagnose-sums", 3), ("parkland-diagnose-rules", 3)):
        assert len(ran[stage]) == n, stage
        assert {w for _, w in ran[stage]} <= workers
    # what was compared is not trivial: shared parcels, tenants, every kind of flag
    assert (b.pairs["share"] < 1).sum() > 50 and b.firms["is_tenant"].sum() > 10
    for flag in ("idle", "vacant", "stopped", "low_efficiency", "reclaim_warning"):
        assert b.parcels[flag].sum() > 10, flag


U = [make(f"91511302MA{i:07d}") for i in range(1, 13)]


def _code(i: int) -> str:
    return f"511302001001GB{i:05d}"


def _box(x: float, y: float, w: float, h: float):
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def _crossing_case():
    """Six parcels (one per partition in the finest split) and 13 firms whose pairs cross them: P0 shared by
    a coded firm, a firm with a 0.7 share and its landholder; code 1 on two parcels (P1 with 2000 m² of
    floor, P4) where a firm's occupied floor and a bad share meet; P2 big around P3, a point on both; P5
    with link-table shares summing to 1.4; duplicates, unknown codes, bad points and reported land."""
    geoms = [_box(0, 0, 200, 100), _box(300, 0, 100, 100), _box(0, 500, 1000, 500), _box(100, 600, 100, 100),
             _box(500, 0, 60, 50), _box(700, 0, 100, 100)]
    parcels = gpd.GeoDataFrame({
        "source_row": np.arange(1, 7), "parcel_id": [_code(0), _code(1), _code(2), _code(3), _code(1), _code(5)],
        "holder_uscc": [U[2], None, None, None, None, None], "holder_name": ["丙", None, None, None, None, "庚"],
        "park": ["一园", None, None, "二园", None, None], "county": ["511302"] * 6,
        "area_basis_used": ["polygon", "certificate", "polygon", "polygon", "certificate", "polygon"]},
        geometry=geoms, crs="EPSG:4523")
    parcels["area_mu"] = parcels.area * 15 / 10000
    parcels["land_area_mu"] = parcels["area_mu"]
    pts = gpd.GeoSeries([shapely.Point(X0 + 150, Y0 + 650), shapely.Point(X0 + 5000, Y0 + 5000),
                         shapely.Point(X0 + 350, Y0 + 50)], crs="EPSG:4523").to_crs("EPSG:4326")
    rows = [
        dict(uscc=U[0], name="甲", parcel_ids=f"{_code(0)};{_code(1)}"),
        dict(uscc=U[1], name="乙", parcel_ids=_code(0), land_share=0.7),
        dict(uscc=U[2], name="丙"),  # holds P0
        dict(uscc=U[3], name="丁", lon=pts.x[0], lat=pts.y[0]),  # point in P3 and P2: the smaller, P3
        dict(uscc=U[4], name="戊", lon=pts.x[1], lat=pts.y[1]),  # point in no parcel
        dict(uscc=U[0], name="甲重", parcel_ids=_code(5)),  # repeats 甲's code
        dict(uscc=U[5], name="己", parcel_ids=_code(1), occupied_m2=500, land_share=1.2),
        dict(uscc=U[6], name="庚", parcel_ids="511302001001GB99999", reported_land_mu=10),
        dict(uscc=U[7], name="辛", parcel_ids=_code(2), lon=pts.x[2], lat=pts.y[2]),  # point in P1, not P2
        dict(uscc=None, name="庚"),  # makes the name 庚 ambiguous: P5's holder_name matches nobody
        dict(uscc=U[9], name="癸", reported_land_mu=-1),
        dict(uscc=U[10], name="子", parcel_ids=_code(3), land_share=1.0, park="三园"),
        dict(uscc=U[11], name="丑", lon=999, lat=30),
    ]
    cols = ["uscc", "name", "parcel_ids", "land_share", "occupied_m2", "reported_land_mu", "lon", "lat", "park"]
    firms = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows])
    firms.insert(0, "source_row", np.arange(1, len(firms) + 1))
    firms.insert(1, "file_row", np.arange(3, len(firms) + 3))
    firms["uscc_raw"] = firms["uscc"]
    firms["uscc_valid"] = firms["uscc"].notna()
    for c in ["land_share", "occupied_m2", "reported_land_mu", "lon", "lat"]:
        firms[c] = pd.to_numeric(firms[c], errors="coerce").astype(float)
    firms["parcel_ids"] = firms["parcel_ids"].fillna("")
    links = pd.DataFrame({"source_row": [1, 2, 3, 4], "file_row": [2, 3, 4, 5], "uscc": [U[5], U[1], "X", U[1]],
                          "parcel_id": [_code(5), _code(5), _code(0), "NOPE"], "land_share": [0.9, 0.5, 0.1, 0.1]})
    links["uscc_raw"] = links["uscc"]
    kw = dict(floor_area_m2=pd.Series([np.nan, 2000.0, np.nan, np.nan, np.nan, np.nan]),
              park_boundary=pd.Series([None, "二园", "四园", None, None, None]))
    return firms, parcels, links, kw


def test_linking_across_partitions_and_chunks(cluster):
    firms, parcels, links, kw = _crossing_case()
    a = link_firms(firms, parcels, links, **kw)
    f = a.firms.set_index("name")
    # P0 (30 亩): 乙 0.7, 甲 and the holder 丙 split the rest 0.3; P1 (15 亩, 2000 m² floor): 己 500/2000, 甲
    # the rest; P4 (4.5 亩, code 1 too): 己's 500 m² are all the occupied floor → 1, nothing left for 甲;
    # P5 (15 亩): link shares 0.9 + 0.5 normalised
    assert f.loc["甲", "land_mu"] == pytest.approx(30 * 0.15 + 15 * 0.75 + 0.0, rel=1e-12)
    assert f.loc["乙", "land_mu"] == pytest.approx(30 * 0.7 + 15 * 0.5 / 1.4, rel=1e-12)
    assert f.loc["丙", "land_mu"] == pytest.approx(4.5, rel=1e-12)
    assert f.loc["己", "land_mu"] == pytest.approx(15 * 0.25 + 4.5 + 15 * 0.9 / 1.4, rel=1e-12)
    assert f.loc["辛", "land_mu"] == pytest.approx(750.0, rel=1e-12)
    assert f.loc["丁", "land_mu"] == 0.0 and f.loc["丁", "parcel_ids"] == _code(3)
    assert bool(f.loc["乙", "is_tenant"]) and f.loc["乙", "landholder_uscc"] == U[2]
    assert f.loc["庚", "land_source"].iloc[0] == "reported" and pd.isna(f.loc["庚", "land_source"].iloc[1])
    assert a.parcels["firm_count"].tolist() == [3, 2, 1, 2, 2, 2]
    assert a.parcels["park"].tolist()[:4] == ["一园", "二园", "四园", "二园"]
    assert a.parcels["holder_firm_row"].tolist()[0] == 3 and a.parcels["holder_firm_row"].isna().sum() == 5
    assert a.recon["problem_code"].tolist() == [
        "DUPLICATE_USCC", "PARCEL_NOT_FOUND", "CODE_MATCHES_SEVERAL_PARCELS", "CODE_MATCHES_SEVERAL_PARCELS",
        "LINK_FIRM_NOT_FOUND", "PARCEL_NOT_FOUND", "BAD_COORDINATES", "POINT_OUTSIDE_PARCELS",
        "POINT_OUTSIDE_CODED_PARCEL", "BAD_LAND_SHARE", "BAD_LAND_SHARE", "SHARES_EXCEED_ONE", "NO_SHARE_LEFT",
        "NO_SHARE_LEFT", "BAD_REPORTED_LAND", "REPORTED_LAND_USED"]
    assert a.recon["source_row"].tolist() == [6, 8, 1, 7, 3, 4, 13, 5, 9, 7, 7, 6, 1, 4, 11, 8]
    with Client(cluster) as c:
        for parts, chunks in ((6, 13), (2, 3), (1, 1)):
            b = distributed_link(c, firms, parcels, links, npartitions=parts, chunks=chunks, **kw)
            for name in ("firms", "pairs", "parcels", "recon"):
                pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True,
                                              obj=f"{name} ({parts} partitions, {chunks} chunks)")


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
