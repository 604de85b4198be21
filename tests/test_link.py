"""Linking by hand: codes, link table, holders, points, shares, duplicates, reported land."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from parkland.indicators import firm_indicators, group_indicators, parcel_figures
from parkland.link import link_firms
from parkland.uscc import make

MU = 15 / 10000
X0, Y0 = 35_600_000.0, 3_400_000.0


def rect(x, y, w, h):
    return shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


U1, U2, U3, U4, U5, U6 = (make(f"91511302MA{i:07d}") for i in range(1, 7))


@pytest.fixture
def parcels():
    # P1 200×100 m = 30 亩, P2 100×100 m = 15 亩, P3 300×100 = 45 亩 (held by U3), P4 60×50 = 4.5 亩
    g = [rect(0, 0, 200, 100), rect(300, 0, 100, 100), rect(0, 300, 300, 100), rect(500, 0, 60, 50)]
    gdf = gpd.GeoDataFrame({
        "source_row": [1, 2, 3, 4],
        "parcel_id": ["511302001001GB00001", "511302001001GB00002", "511302001001GB00003", "511302001001GB00004"],
        "holder_uscc": [None, None, U3, None],
        "holder_name": [None, None, "丙公司", None],
        "park": ["一园", "一园", None, None],
        "county": ["511302"] * 4,
    }, geometry=g, crs="EPSG:4523")
    gdf["area_mu"] = gdf.area * MU
    gdf["land_area_mu"] = gdf["area_mu"]
    return gdf


def firm_frame(rows):
    cols = ["uscc", "name", "parcel_ids", "tax_wan", "revenue_wan", "employees", "land_share", "occupied_m2",
            "reported_land_mu", "lon", "lat", "park"]
    df = pd.DataFrame([{c: r.get(c) for c in cols} for r in rows])
    df.insert(0, "source_row", np.arange(1, len(df) + 1))
    df.insert(1, "file_row", np.arange(3, len(df) + 3))
    df["uscc_raw"] = df["uscc"]
    df["uscc_valid"] = df["uscc"].notna()
    for c in ["tax_wan", "revenue_wan", "employees", "land_share", "occupied_m2", "reported_land_mu", "lon", "lat"]:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    df["parcel_ids"] = df["parcel_ids"].fillna("")
    return df


def test_two_parcels_tenant_shares_duplicates(parcels):
    firms = firm_frame([
        # A on P1 and P2: 45 亩, tax 90 → 2 万元/亩
        {"uscc": U1, "name": "甲", "parcel_ids": "511302001001GB00001;511302001001GB00002", "tax_wan": 90, "revenue_wan": 900},
        # B a tenant on P3 (held by C) with a 0.2 share given in the link table
        {"uscc": U2, "name": "乙", "tax_wan": 9, "revenue_wan": 100},
        # C the landholder of P3 (no code in its cell): keeps the rest 0.8 × 45 = 36 亩
        {"uscc": U3, "name": "丙公司", "tax_wan": 72},
        # D: code not found, no reported land
        {"uscc": U4, "name": "丁", "parcel_ids": "511302001001GB09999", "tax_wan": 1},
        # E: no code, reported 12 亩
        {"uscc": U5, "name": "戊", "reported_land_mu": 12, "tax_wan": 6},
        # F: repeats A's code → duplicate
        {"uscc": U1, "name": "甲（重复）", "parcel_ids": "511302001001GB00004", "tax_wan": 50},
        # G: no code, nothing
        {"uscc": U6, "name": "己"},
    ])
    links = pd.DataFrame({"source_row": [1], "file_row": [2], "uscc": [U2], "uscc_raw": [U2],
                          "parcel_id": ["511302001001GB00003"], "land_share": [0.2], "occupied_m2": [np.nan]})
    res = link_firms(firms, parcels, links)
    f = res.firms.set_index("name")
    assert f.loc["甲", "land_mu"] == pytest.approx(45.0, rel=1e-12)
    assert f.loc["乙", "land_mu"] == pytest.approx(9.0, rel=1e-12)
    assert f.loc["丙公司", "land_mu"] == pytest.approx(36.0, rel=1e-12)
    assert bool(f.loc["乙", "is_tenant"]) and f.loc["乙", "landholder_uscc"] == U3
    assert not bool(f.loc["丙公司", "is_tenant"])
    assert f.loc["丁", "status"] == "parcel_not_found"
    assert f.loc["戊", "land_source"] == "reported" and f.loc["戊", "land_mu"] == 12
    assert f.loc["己", "status"] == "no_land"
    assert f.loc["甲（重复）", "status"] == "not_graded"
    assert "duplicate of row 3" in f.loc["甲（重复）", "status_reason"]
    assert np.isnan(f.loc["甲（重复）", "land_mu"])
    assert f.loc["甲", "status_reason"] == "pending"
    assert f.loc["甲", "park"] == "一园"
    codes = set(res.recon["problem_code"])
    assert {"DUPLICATE_USCC", "PARCEL_NOT_FOUND"} <= codes
    # indicators
    fi = firm_indicators(res.firms).set_index("name")
    assert fi.loc["甲", "tax_per_mu"] == pytest.approx(2.0, rel=1e-12)
    assert fi.loc["乙", "tax_per_mu"] == pytest.approx(1.0, rel=1e-12)
    assert fi.loc["丙公司", "tax_per_mu"] == pytest.approx(2.0, rel=1e-12)
    assert fi.loc["戊", "tax_per_mu"] == pytest.approx(0.5, rel=1e-12)
    assert np.isnan(fi.loc["己", "tax_per_mu"])  # missing, never 0
    # parcels: A's tax splits 30:15 over P1/P2; P3 gets B's 9 + C's 72
    pf = parcel_figures(parcels, res.firms, res.pairs)
    assert pf["tax_wan"].tolist()[:3] == pytest.approx([60.0, 30.0, 81.0], rel=1e-12)
    assert np.isnan(pf["tax_wan"].iloc[3])  # P4: no firm, the duplicate took no land
    assert pf["tax_per_mu"].iloc[2] == pytest.approx(81 / 45, rel=1e-12)
    assert res.parcels["firm_count"].tolist() == [1, 1, 2, 0]
    # park table: 一园 = A only (P1, P2)
    gt = group_indicators(fi.reset_index(), "park")
    assert gt.loc["一园", "tax_per_mu"] == pytest.approx(2.0, rel=1e-12)


def test_occupied_floor_shares_and_equal_split(parcels):
    firms = firm_frame([
        {"uscc": U1, "name": "甲", "parcel_ids": "511302001001GB00001", "occupied_m2": 300},
        {"uscc": U2, "name": "乙", "parcel_ids": "511302001001GB00001", "occupied_m2": 100},
        {"uscc": U4, "name": "丁", "parcel_ids": "511302001001GB00002"},
        {"uscc": U5, "name": "戊", "parcel_ids": "511302001001GB00002"},
    ])
    res = link_firms(firms, parcels)
    f = res.firms.set_index("name")
    assert f.loc["甲", "land_mu"] == pytest.approx(22.5, rel=1e-12)  # 300/400 × 30
    assert f.loc["乙", "land_mu"] == pytest.approx(7.5, rel=1e-12)
    assert f.loc["丁", "land_mu"] == pytest.approx(7.5, rel=1e-12)  # equal halves of 15
    # with a known floor area of 800 m² on P1, the rest (400/800) is unassigned (no holder firm)
    fa = pd.Series([800.0, np.nan, np.nan, np.nan], index=parcels.index)
    res2 = link_firms(firms, parcels, floor_area_m2=fa)
    f2 = res2.firms.set_index("name")
    assert f2.loc["甲", "land_mu"] == pytest.approx(30 * 300 / 800, rel=1e-12)
    assert res2.parcels["unassigned_share"].iloc[0] == pytest.approx(0.5, rel=1e-12)


def test_shares_over_one_normalised(parcels):
    firms = firm_frame([
        {"uscc": U1, "name": "甲", "parcel_ids": "511302001001GB00001", "land_share": 0.9},
        {"uscc": U2, "name": "乙", "parcel_ids": "511302001001GB00001", "land_share": 0.6},
    ])
    res = link_firms(firms, parcels)
    f = res.firms.set_index("name")
    assert f.loc["甲", "land_mu"] == pytest.approx(30 * 0.9 / 1.5, rel=1e-12)
    assert "SHARES_EXCEED_ONE" in set(res.recon["problem_code"])
    assert (res.recon.loc[res.recon["problem_code"] == "SHARES_EXCEED_ONE", "action"] == "repaired").all()


def test_points_link_only_without_code(parcels):
    pts = gpd.GeoSeries([shapely.Point(X0 + 50, Y0 + 50), shapely.Point(X0 + 350, Y0 + 50),
                         shapely.Point(X0 + 5000, Y0 + 5000)], crs="EPSG:4523").to_crs("EPSG:4326")
    firms = firm_frame([
        {"uscc": U1, "name": "点在P1", "lon": pts.x[0], "lat": pts.y[0]},
        # coded to P1 but the point is in P2: linked by code, listed
        {"uscc": U2, "name": "点不符", "parcel_ids": "511302001001GB00001", "lon": pts.x[1], "lat": pts.y[1]},
        # a wrong code is not rescued by the point
        {"uscc": U4, "name": "错码", "parcel_ids": "511302001001GB09999", "lon": pts.x[0], "lat": pts.y[0]},
        {"uscc": U5, "name": "点在外", "lon": pts.x[2], "lat": pts.y[2]},
    ])
    res = link_firms(firms, parcels)
    f = res.firms.set_index("name")
    assert f.loc["点在P1", "parcel_ids"] == "511302001001GB00001"
    assert f.loc["点在P1", "link_method"] == "point"
    assert f.loc["点不符", "parcel_ids"] == "511302001001GB00001"
    assert f.loc["错码", "status"] == "parcel_not_found"
    assert f.loc["点在外", "status"] == "no_land"
    codes = res.recon["problem_code"].tolist()
    assert "POINT_OUTSIDE_CODED_PARCEL" in codes and "POINT_OUTSIDE_PARCELS" in codes
    # both P1 firms share P1 equally
    assert f.loc["点在P1", "land_mu"] == pytest.approx(15.0, rel=1e-12)


def test_gcj02_points_converted(parcels):
    from parkland.geo.crs import wgs84_to_gcj02
    p = gpd.GeoSeries([shapely.Point(X0 + 100, Y0 + 50)], crs="EPSG:4523").to_crs("EPSG:4326")
    glon, glat = wgs84_to_gcj02(p.x.to_numpy(), p.y.to_numpy())
    firms = firm_frame([{"uscc": U1, "name": "高德坐标", "lon": glon[0], "lat": glat[0]}])
    assert link_firms(firms, parcels, firm_coords="gcj02").firms["parcel_ids"].iloc[0] == "511302001001GB00001"
    # read as WGS84 the GCJ-02 point is several hundred metres off and misses P1
    assert link_firms(firms, parcels).firms["parcel_ids"].iloc[0] != "511302001001GB00001"
