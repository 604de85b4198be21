"""The demo city: regenerating gives the committed content, and the documented counts hold.

Every count asserted here is stated in data/demo/README.md.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from rasterio.features import rasterize

from parkland import demo, uscc
from parkland.units import AREA_TO_MU, MU_PER_M2

DATA = Path(__file__).resolve().parent.parent / "data" / "demo"
LAYERS = ("zongdi", "buildings", "parks")
AS_OF = pd.Timestamp("2025-12-31")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, demo.DemoCity]:
    out = tmp_path_factory.mktemp("demo")
    return out, demo.generate(out)


@pytest.fixture(scope="module")
def layers() -> dict[str, gpd.GeoDataFrame]:
    return {name: pyogrio.read_dataframe(DATA / "city.gpkg", layer=name) for name in LAYERS}


def _sheet(path: Path) -> tuple[str, pd.DataFrame]:
    ws = openpyxl.load_workbook(path, read_only=True)[demo.SHEET]
    rows = list(ws.iter_rows(values_only=True))
    return rows[0][0], pd.DataFrame(rows[2:], columns=rows[1])


@pytest.fixture(scope="module")
def firms() -> pd.DataFrame:
    return _sheet(DATA / "firms_2025.xlsx")[1]


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.map(lambda v: v.replace(",", "") if isinstance(v, str) else v), errors="coerce")


# ------------------------------------------------------------------------------------------ determinism
def test_regenerated_content_equals_committed(fresh):
    out, _ = fresh
    assert sorted(p.name for p in DATA.iterdir() if p.name != "README.md") == sorted(demo.FILES)
    # vector layers: attributes and WKB geometry
    assert [tuple(x) for x in pyogrio.list_layers(out / "city.gpkg")] == [
        tuple(x) for x in pyogrio.list_layers(DATA / "city.gpkg")
    ]
    for name in LAYERS:
        a = pyogrio.read_dataframe(DATA / "city.gpkg", layer=name)
        b = pyogrio.read_dataframe(out / "city.gpkg", layer=name)
        assert a.crs == b.crs
        pd.testing.assert_frame_equal(
            pd.DataFrame(a.drop(columns="geometry")), pd.DataFrame(b.drop(columns="geometry"))
        )
        assert list(shapely.to_wkb(a.geometry.to_numpy())) == list(shapely.to_wkb(b.geometry.to_numpy()))
    # workbooks cell by cell
    for name in ("firms_2025.xlsx", "firms_2024.xlsx"):
        wa = openpyxl.load_workbook(DATA / name)
        wb = openpyxl.load_workbook(out / name)
        assert wa.sheetnames == wb.sheetnames == [demo.SHEET]
        assert wa.properties.created == wb.properties.created == demo.CREATED
        sa, sb = wa[demo.SHEET], wb[demo.SHEET]
        assert list(sa.iter_rows(values_only=True)) == list(sb.iter_rows(values_only=True))
        assert [str(r) for r in sa.merged_cells.ranges] == [str(r) for r in sb.merged_cells.ranges]
    assert (DATA / "links.csv").read_bytes() == (out / "links.csv").read_bytes()
    with rasterio.open(DATA / "ndvi.tif") as ra, rasterio.open(out / "ndvi.tif") as rb:
        assert ra.transform == rb.transform and ra.crs == rb.crs and ra.nodata == rb.nodata
        np.testing.assert_array_equal(ra.read(1), rb.read(1))


def test_size_under_3_mb():
    assert sum(p.stat().st_size for p in DATA.iterdir()) < 3 * 1024 * 1024


# --------------------------------------------------------------------------------------------- parcels
def test_parcels(layers):
    p = layers["zongdi"]
    assert 800 <= len(p) <= 1500 and len(p) == 1030
    assert p.crs.to_epsg() == 4523
    xmin, _, xmax, _ = p.total_bounds
    assert 35_500_000 < xmin < xmax < 35_700_000  # zone-prefixed eastings
    assert p["宗地代码"].str.fullmatch(r"51130[234]\d{6}GB\d{5}").all()
    assert p.geom_type.value_counts().to_dict() == {"Polygon": 1022, "MultiPolygon": 8}
    assert (~p.is_valid).sum() == 2 and p.is_empty.sum() == 1
    assert p["宗地代码"].duplicated().sum() == 1
    assert sum(g.geom_type == "Polygon" and len(g.exterior.coords) == 7 for g in p.geometry) == 14  # L-shapes
    assert p["面积单位"].value_counts().to_dict() == {"平方米": 609, "亩": 266, "公顷": 155}
    assert p["用途"].value_counts().to_dict() == {"工业用地": 983, "仓储用地": 47}
    cert_mu = p["宗地面积"] * p["面积单位"].map(AREA_TO_MU)
    ok = p.is_valid & ~p.is_empty
    rel = (cert_mu / (p.area * MU_PER_M2) - 1).abs()[ok]
    assert (rel > 0.05).sum() == 6 and rel[rel <= 0.05].max() < 0.001
    area_mu = shapely.area(shapely.make_valid(p.geometry.to_numpy())) * MU_PER_M2
    assert 20_000 < area_mu.sum() < 45_000 and 25 < area_mu.mean() < 40
    assert round(area_mu.sum()) == 28141
    assert p["园区"].isna().sum() == 130
    iso = p["供地日期"].dropna().str.fullmatch(r"\d{4}-\d\d-\d\d")
    assert (~iso).sum() == 8
    # no two parcels overlap
    v = shapely.make_valid(p.geometry[~p.is_empty].to_numpy())
    tree = shapely.STRtree(v)
    a, b = tree.query(v, predicate="intersects")
    inter = shapely.area(shapely.intersection(v[a[a < b]], v[b[a < b]]))
    assert (inter > 1.0).sum() == 0


def test_idle_rules_bite(layers):
    p = layers["zongdi"]

    def d(c: str) -> pd.Series:
        return pd.to_datetime(p[c], format="mixed")

    agreed, actual, stop = d("约定开工日期"), d("实际开工日期"), d("停工日期")
    not_started = actual.isna() & agreed.notna() & (agreed + pd.DateOffset(years=1) <= AS_OF)
    reclaim = not_started & (agreed + pd.DateOffset(years=2) <= AS_OF)
    cert_m2 = p["宗地面积"] * p["面积单位"].map(AREA_TO_MU) / MU_PER_M2
    under = (p["已开发面积（平方米）"] / cert_m2 < 1 / 3) | (
        p["实际投资额（万元）"] / p["约定投资额（万元）"] < 0.25
    )
    stalled = actual.notna() & stop.notna() & (stop + pd.DateOffset(years=1) <= AS_OF)
    assert not_started.sum() == 31 and reclaim.sum() == 20
    assert (stalled & under).sum() == 15 and stop.notna().sum() == 18
    # the boundary cases are there: just idle and just not idle
    assert {"2024-12-20", "2025-01-10"} <= set(p.loc[actual.isna(), "约定开工日期"].dropna())
    assert {"2024-12-20", "2025-01-10"} <= set(p["停工日期"].dropna())


def test_parks_and_buildings(layers):
    p, b, k = layers["zongdi"], layers["buildings"], layers["parks"]
    assert k.crs.to_epsg() == 4490 and len(k) == 4 and k["园区名称"].is_unique
    kp = k.to_crs(4523)
    pts = p[~p.is_empty].copy()
    pts["geometry"] = shapely.point_on_surface(shapely.make_valid(pts.geometry.to_numpy()))
    j = gpd.sjoin(pts, kp, predicate="within")
    assert len(j) == 989 and len(pts) - len(j) == 40  # the scattered land lies in no park
    named = j[j["园区"].notna()]
    assert (named["园区"] == named["园区名称"]).all() and len(j) - len(named) == 90

    assert b.crs.to_epsg() == 4523 and len(b) == 2041
    assert b["用途"].value_counts().to_dict() == {"厂房": 954, "办公": 924, "仓库": 163}
    assert b["使用状态"].value_counts().to_dict() == {"在用": 2018, "空置": 15, "闲置": 8}
    assert (b["层高（米）"] > 8).sum() == 12 and b["建筑面积（平方米）"].isna().sum() == 155
    floor = b["建筑面积（平方米）"].fillna(b.area * b["层数"])
    idle_floor = floor[(b["使用状态"] == "闲置") & (b["用途"] == "厂房")].sum()
    assert idle_floor > 20_000 and 30_000 < idle_floor < 60_000 and round(idle_floor) == 41357
    # straddling and overlapping footprints
    pv = shapely.make_valid(p.geometry[~p.is_empty].to_numpy())
    bg = b.geometry.to_numpy()
    bi, pi = shapely.STRtree(pv).query(bg, predicate="intersects")
    inside = shapely.area(shapely.intersection(bg[bi], pv[pi])) > 1.0
    per_building = np.bincount(bi[inside], minlength=len(b))
    assert (per_building == 0).sum() == 0 and (per_building > 1).sum() == 4
    x, y = shapely.STRtree(bg).query(bg, predicate="intersects")
    pair = x < y
    assert (shapely.area(shapely.intersection(bg[x[pair]], bg[y[pair]])) > 1.0).sum() == 4


# ----------------------------------------------------------------------------------------------- firms
def test_firm_table_layout_and_defects(firms, layers):
    title, _ = _sheet(DATA / "firms_2025.xlsx")
    assert title == "2025年度南充市工业企业亩均效益评价基础数据"
    f = firms
    assert list(f.columns) == demo.FIRM_HEADERS
    assert 500 <= len(f) <= 900 and len(f) == 852
    assert f["企业规模"].value_counts().to_dict() == {"规上": 479, "规下": 373}
    assert 0.5 < (f["企业规模"] == "规上").mean() < 0.6
    codes = f["统一社会信用代码"]
    valid = uscc.valid_mask(codes)
    assert (
        (~valid).sum() == 3
        and (~valid & codes.str.len().eq(18)).sum() == 2
        and codes.str.len().eq(17).sum() == 1
    )
    assert codes.duplicated().sum() == 1
    assert codes[valid].str.fullmatch(r"9151130[234][0-9A-HJ-NP-RTUW-Y]{10}").all()
    cell = f["宗地代码"].fillna("")
    assert cell.str.contains("、").sum() == 75 and cell.str.contains("；").sum() == 73
    assert cell.str.fullmatch(r"\d{12}GB\d{5}F\d{8}").sum() == 4
    known = set(layers["zongdi"]["宗地代码"])
    parts = [c[:19] for cs in cell.str.split("[、；]", regex=True) for c in cs if c]
    assert sum(c not in known for c in parts) == 4
    assert f["企业名称"].isin(demo.HOSTILE_NAMES).sum() == 2
    assert layers["zongdi"]["权利人"].isin(demo.HOSTILE_NAMES).sum() >= 2
    text = {h: f[h].map(lambda v: isinstance(v, str)).sum() for h in f.columns[7:18]}
    assert text["营业收入（万元）"] == 4 and text["工业总产值（万元）"] == 2 and sum(text.values()) == 6
    blank = f[list(demo.MISSING_CELLS)].isna().sum().to_dict()
    assert blank == demo.MISSING_CELLS
    assert f["主要污染物排放量（吨）"].isna().sum() == 1
    assert f.loc[f["主要污染物排放量（吨）"].isna(), "企业规模"].tolist() == ["规上"]
    tax = _num(f["税收实际入库（万元）"])
    assert (tax < 0).sum() == 2
    stopped = (_num(f["营业收入（万元）"]) == 0) & (tax == 0) & (_num(f["用电量（万千瓦时）"]) == 0)
    assert stopped.sum() == 39 and (stopped & f["企业规模"].eq("规上")).sum() == 23
    assert (f["重大安全环保事故"] == "是").sum() == 3
    assert f["行业代码"].str[:2].isin(["44", "45", "46"]).sum() == 5
    assert (pd.to_datetime(f["成立日期"]) >= "2024-01-01").sum() == 6
    assert f["所属园区"].isna().sum() == 81
    no_code = cell.eq("")
    assert no_code.sum() == 40
    assert (no_code & f["经度"].notna()).sum() == 13 and (no_code & f["用地面积（亩）"].notna()).sum() == 8
    assert f["租用面积（平方米）"].notna().sum() == 51


def test_points_fall_in_parcels(firms, layers):
    f, p = firms, layers["zongdi"]
    has = f["经度"].notna()
    assert has.sum() == 330
    pts = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(f.loc[has, "经度"], f.loc[has, "纬度"]), index=f.index[has], crs=4326
    ).to_crs(4523)
    pv = p[~p.is_empty].copy()
    pv["geometry"] = shapely.make_valid(pv.geometry.to_numpy())
    j = gpd.sjoin(pts, pv[["宗地代码", "geometry"]], predicate="within")
    assert len(j) == 330 and j.index.is_unique
    cell = f.loc[j.index, "宗地代码"].fillna("")
    outside = [c != "" and code not in c for c, code in zip(cell, j["宗地代码"])]
    assert sum(outside) == 1


def test_links_and_last_year(firms):
    raw = (DATA / "links.csv").read_bytes()
    assert raw.startswith("统一社会信用代码,企业名称,宗地代码,租用面积（平方米）,用地比例\r\n".encode("gbk"))
    links = pd.read_csv(DATA / "links.csv", encoding="gbk", dtype=str)
    assert len(links) == 19 and links["用地比例"].notna().sum() == 10
    cell = firms.set_index("统一社会信用代码")["宗地代码"]
    assert links["统一社会信用代码"].isin(cell[cell.isna()].index).all()

    title, f4 = _sheet(DATA / "firms_2024.xlsx")
    assert title == "2024年度南充市工业企业亩均效益评价基础数据"
    assert "营业收入（元）" in f4.columns and "税收实际入库（元）" in f4.columns and len(f4) == 845
    assert (f4["年份"] == 2024).all()
    c25, c24 = set(firms["统一社会信用代码"]), set(f4["统一社会信用代码"])
    assert len(c25 - c24) == 15 and len(c24 - c25) == 9
    both = firms.drop_duplicates("统一社会信用代码").merge(f4, on="统一社会信用代码", suffixes=("", "_24"))
    r25, r24 = _num(both["营业收入（万元）"]), both["营业收入（元）"] / 1e4
    assert ((r25 > 0) & (r25 < 0.25 * r24)).sum() == 6  # collapsed revenue
    g_out = _num(both["工业总产值（万元）"]).sum() / both["工业总产值（万元）_24"].sum()
    g_tax = _num(both["税收实际入库（万元）"]).sum() / (both["税收实际入库（元）"].sum() / 1e4)
    assert 1.04 < g_out < 1.08 and 1.02 < g_tax < 1.04


# ----------------------------------------------------------------------------------- calibration, land
def test_calibration_and_targets(fresh, firms, layers):
    _, city = fresh
    tf, tp = city.truth_firms, city.truth_parcels
    g = tf[tf.graded_like]
    assert len(g) == 453
    tax_mu, rev_mu = g.tax_wan.sum() / g.land_mu.sum(), g.revenue_wan.sum() / g.land_mu.sum()
    assert abs(tax_mu / 14 - 1) < 0.25 and abs(rev_mu / 430 - 1) < 0.25
    per = g.tax_wan / g.land_mu
    assert (per > 50).sum() == 7 and (per < 8).sum() == 200
    assert tp.area_mu[tp.candidate].sum() >= 1300
    assert (tp.vacant.sum(), tp.idle.sum(), tp.stopped.sum()) == (59, 46, 51)
    assert (tp.buildings[tp.vacant] == 0).all()

    # the truth's land is the files' land: a landholder alone on its parcels has their polygon area,
    # less the 用地比例 its links tenants take
    p, f = layers["zongdi"], firms
    area = pd.Series(shapely.area(shapely.make_valid(p.geometry.to_numpy())) * MU_PER_M2, index=p["宗地代码"])
    area = area[~area.index.duplicated(keep=False)]
    links = pd.read_csv(DATA / "links.csv", encoding="gbk", dtype=str)
    taken = (
        links.dropna(subset=["用地比例"])
        .groupby("宗地代码")["用地比例"]
        .apply(lambda s: s.astype(float).sum())
    )
    truth = tf.drop_duplicates("uscc").set_index("uscc")
    holders = f[f["统一社会信用代码"].isin(p["权利人证件号"]) & f["宗地代码"].notna()].drop_duplicates(
        "统一社会信用代码"
    )
    checked = 0
    for code, cell in zip(holders["统一社会信用代码"], holders["宗地代码"]):
        ids = [c[:19] for c in cell.replace("；", "、").split("、")]
        land = sum(area[i] * (1 - taken.get(i, 0.0)) for i in ids)
        assert truth.at[code, "land_mu"] == pytest.approx(land, rel=1e-9)
        checked += 1
    assert checked == 753  # 756 landholders less the 3 whose credit code is broken


def test_ndvi(fresh, layers):
    _, city = fresh
    with rasterio.open(DATA / "ndvi.tif") as r:
        assert (
            r.crs.to_epsg() == 32648 and r.res == (10.0, 10.0) and r.nodata == 255 and r.dtypes == ("uint8",)
        )
        assert r.profile["compress"] == "deflate" and r.profile["tiled"]
        a, t = r.read(1), r.transform
    assert a[a != 255].max() <= 200 and (a == 255).any()
    p = layers["zongdi"].to_crs(32648)
    keep = ~p.is_empty.to_numpy()
    ids = rasterize(
        [(g, i + 1) for i, g in zip(np.flatnonzero(keep), p.geometry[keep])],
        out_shape=a.shape,
        transform=t,
        dtype="int32",
    )
    m = (ids > 0) & (a != 255)
    mean = pd.Series(a[m]).groupby(ids[m] - 1).mean()
    tp = city.truth_parcels
    vacant = mean.reindex(np.flatnonzero(tp.vacant)).mean()
    built = mean.reindex(np.flatnonzero((tp.role == "active") & ~tp.stopped)).mean()
    assert vacant > 145 and built < 115
    assert mean.reindex(np.flatnonzero(~tp.in_park)).isna().all()  # no NDVI outside the parks
