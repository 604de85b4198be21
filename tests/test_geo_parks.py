"""Tests of parkland.geo.parks: park of each parcel, park outlines."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from parkland.errors import InputError
from parkland.geo.parks import assign_parks, detect_park_name_column, park_hulls

X0, Y0 = 35_600_000.0, 3_400_000.0  # EPSG:4523


def sq(x: float, y: float, s: float = 100.0) -> shapely.Polygon:
    return shapely.box(X0 + x, Y0 + y, X0 + x + s, Y0 + y + s)


# an L-shaped lot whose centroid (≈ 27.6, 27.6 m from its corner) lies outside the lot itself
L_LOT = shapely.union(shapely.box(X0 + 5000, Y0, X0 + 5100, Y0 + 10), shapely.box(X0 + 5000, Y0, X0 + 5010, Y0 + 100))


def parcels() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"parcel_id": list("abcdefg"),
         "park": ["自带园区", None, "  ", None, None, None, "自带园区"],
         "area_mu": [15.0, 15.0, 15.0, 15.0, 15.0, 0.15, 15.0]},
        geometry=[sq(0, 0), sq(200, 0), sq(2200, 0), sq(9000, 9000), L_LOT, sq(5300, 0, 10), None],
        crs=4523)


def boundaries(crs: int = 4490) -> gpd.GeoDataFrame:
    b = gpd.GeoDataFrame(
        {"园区名称": ["经开区", "化工园", "重叠园", "L园"]},
        geometry=[shapely.box(X0 - 50, Y0 - 50, X0 + 1000, Y0 + 1000),
                  shapely.box(X0 + 2000, Y0 - 50, X0 + 3000, Y0 + 1000),
                  shapely.box(X0 + 2100, Y0 - 50, X0 + 2500, Y0 + 500),  # overlaps 化工园: layer order wins
                  shapely.buffer(L_LOT, 1.0, join_style="mitre")],
        crs=4523)
    return b.to_crs(crs)


def test_assign_parks_own_value_then_boundary():
    p = assign_parks(parcels(), boundaries())
    assert p.name == "park" and p.dtype == object
    assert p.index.tolist() == list(range(7))
    # a: own value kept even though it lies in 经开区; b: 经开区 by boundary; c: blank → 化工园 (first of
    # two overlapping parks); d: outside every park; e: L-lot, its point on surface is inside L园 although
    # its centroid is not; f: a small square in no park; g: own value, no geometry
    assert p.tolist() == ["自带园区", "经开区", "化工园", None, "L园", None, "自带园区"]
    assert not boundaries(4523).contains(shapely.centroid(L_LOT)).any()


def test_assign_parks_without_boundaries():
    p = assign_parks(parcels())
    assert p.tolist() == ["自带园区", None, None, None, None, None, "自带园区"]
    no_col = parcels().drop(columns="park")
    assert assign_parks(no_col).tolist() == [None] * 7
    assert assign_parks(no_col, boundaries(4523)).tolist() == ["经开区", "经开区", "化工园", None, "L园", None, None]


def test_park_name_column_detection():
    b = boundaries()
    assert detect_park_name_column(b) == "园区名称"
    assert detect_park_name_column(b.rename(columns={"园区名称": " Name "})) == " Name "
    assert detect_park_name_column(b.assign(园区="x")) == "园区"
    assert detect_park_name_column(b.rename(columns={"园区名称": "编号"})) is None
    p = assign_parks(parcels(), b.rename(columns={"园区名称": "编号"}), park_name_column="编号")
    assert p.tolist()[1] == "经开区"
    with pytest.raises(InputError) as e:
        assign_parks(parcels(), b.rename(columns={"园区名称": "编号"}))
    assert "编号" in str(e.value)


def test_parks_without_crs():
    with pytest.raises(InputError):
        assign_parks(parcels(), boundaries(4523).set_crs(None, allow_override=True))


def test_park_hulls():
    p = parcels()
    p["park"] = ["甲", "甲", "乙", None, "乙", " ", "甲"]
    h = park_hulls(p)
    assert h.crs.to_epsg() == 4523
    assert h["park"].tolist() == ["乙", "甲"]
    assert h["parcel_count"].tolist() == [2, 2]  # the row without geometry is not counted
    np.testing.assert_allclose(h["area_mu"], [30.0, 30.0])
    # 甲: squares (0..100) and (200..300) × (0..100) → hull 300 × 100
    assert h.geometry.iloc[1].area == pytest.approx(30000.0, rel=1e-12)
    expected = shapely.convex_hull(shapely.union(sq(2200, 0), L_LOT))
    assert h.geometry.iloc[0].equals(expected)
    # from an assigned series
    h2 = park_hulls(p, park=pd.Series(["x"] * 7))
    assert h2["park"].tolist() == ["x"] and h2["parcel_count"].tolist() == [6]
    empty = park_hulls(p.drop(columns="park"))
    assert len(empty) == 0 and list(empty.columns) == ["park", "parcel_count", "area_mu", "geometry"]
