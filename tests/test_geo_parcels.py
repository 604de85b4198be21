"""Tests of parkland.geo.parcels.prepare_parcels."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from parkland.errors import InputError
from parkland.geo.area import geodesic_area_m2
from parkland.geo.parcels import polygonal_parts, prepare_parcels

REAL = Path(__file__).parent / "data" / "real"
X0, Y0 = 35_600_000.0, 3_400_000.0  # EPSG:4523, near Nanchong


def box(i: int, w: float = 200.0, h: float = 100.0) -> shapely.Polygon:
    return shapely.box(X0 + 1000 * i, Y0, X0 + 1000 * i + w, Y0 + h)


def layer() -> gpd.GeoDataFrame:
    """Eleven features, source_row 1..11, of every kind prepare_parcels must handle."""
    bowtie = shapely.Polygon([(X0 + 5000, Y0), (X0 + 5200, Y0 + 200), (X0 + 5200, Y0),
                              (X0 + 5000, Y0 + 200), (X0 + 5000, Y0)])  # make_valid → 2 triangles, 20000 m²
    z_poly = shapely.Polygon([(X0 + 7000, Y0, 300.0), (X0 + 7200, Y0, 300.0),
                              (X0 + 7200, Y0 + 100, 301.0), (X0 + 7000, Y0 + 100, 301.0)])
    collection = shapely.GeometryCollection([box(8), shapely.LineString([(X0, Y0), (X0 + 1, Y0 + 1)])])
    rows = [
        ("5113020010010000001", box(0), 30.0),  # 1: 30 亩 exactly, certificate agrees
        ("5113020010010000002", box(1, 150, 40), 10.0),  # 2: 9 亩, certificate 10 → 11 % apart
        ("5113020010010000002", box(2, 30, 20), np.nan),  # 3: duplicate id of row 2; 0.9 亩
        (None, box(3), 30.5),  # 4: no id; certificate 1.7 % off → not listed
        ("5113020010010000003", None, 1.0),  # 5: no geometry
        ("5113020010010000004", shapely.Polygon(), 1.0),  # 6: empty
        ("ZD-0001", shapely.Point(X0, Y0), 1.0),  # 7: a point
        ("5113020010010000005", bowtie, 29.0),  # 8: invalid, repaired
        ("5113020010010000006", z_poly, np.nan),  # 9: with Z
        ("5113020010010000007", collection, np.nan),  # 10: collection → its polygon
        ("5113020010010000002", box(11, 100, 100), 15.0),  # 11: third row with row 2's id
    ]
    return gpd.GeoDataFrame(
        {"source_row": np.arange(1, 12, dtype="int64"),
         "parcel_id": [r[0] for r in rows],
         "parcel_id_raw": [r[0] for r in rows],
         "cert_area_mu": [r[2] for r in rows],
         "park": ["A"] * 11},
        geometry=[r[1] for r in rows], crs=4523)


def codes(rec: pd.DataFrame) -> list[tuple]:
    return [(None if pd.isna(r) else int(r), c, a) for r, c, a in
            zip(rec["source_row"], rec["problem_code"], rec["action"])]


def test_prepare_parcels_full_layer():
    loaded = prepare_parcels(layer(), path="zd.shp")
    f, rec = loaded.frame, loaded.recon
    assert f["source_row"].tolist() == [1, 2, 3, 4, 8, 9, 10, 11]
    assert f.crs.to_epsg() == 4523
    np.testing.assert_allclose(f["area_m2"], [20000, 6000, 600, 20000, 20000, 20000, 20000, 10000], rtol=1e-9)
    np.testing.assert_allclose(f["area_mu"], [30, 9, 0.9, 30, 30, 30, 30, 15], rtol=1e-9)
    assert f["area_mu"].iloc[0] == pytest.approx(30.0, rel=1e-12)
    assert f["measure_epsg"].tolist() == [4523] * 8
    # geometry stays in the input CRS, untouched where valid
    assert shapely.equals_exact(f.geometry.iloc[0], box(0), tolerance=0)
    assert not shapely.has_z(f.geometry.array).any()
    assert f.geometry.iloc[4].geom_type == "MultiPolygon" and f.geometry.is_valid.all()
    assert f.geometry.iloc[6].equals(box(8))
    # county from the first six digits
    assert f["county"].tolist() == ["511302", "511302", "511302", None, "511302", "511302", "511302", "511302"]
    assert f["county"].dtype == object
    # polygon basis by default
    np.testing.assert_allclose(f["land_area_mu"], f["area_mu"], rtol=0)
    assert set(f["area_basis_used"]) == {"polygon"}
    assert codes(rec) == [
        (None, "Z_DROPPED", "repaired"),
        (2, "DUPLICATE_PARCEL_ID", "kept"),
        (2, "CERT_AREA_MISMATCH", "kept"),
        (3, "DUPLICATE_PARCEL_ID", "kept"),
        (4, "MISSING_PARCEL_ID", "kept"),
        (5, "NULL_GEOMETRY", "dropped"),
        (6, "EMPTY_GEOMETRY", "dropped"),
        (7, "NOT_POLYGON", "dropped"),
        (8, "INVALID_GEOMETRY", "repaired"),
        (10, "MIXED_GEOMETRY", "repaired"),
        (11, "DUPLICATE_PARCEL_ID", "kept"),
    ]
    by = {(r, c): (zh, en) for r, c, zh, en in
          zip(rec["source_row"], rec["problem_code"], rec["problem_zh"], rec["problem_en"])}
    assert "另见第 3、11 条" in by[(2, "DUPLICATE_PARCEL_ID")][0]
    assert "see also feature(s) 2, 11" in by[(3, "DUPLICATE_PARCEL_ID")][1]
    assert "Self-intersection" in by[(8, "INVALID_GEOMETRY")][0]
    assert "10.00" in by[(2, "CERT_AREA_MISMATCH")][0] and "9.00" in by[(2, "CERT_AREA_MISMATCH")][0]
    assert "+11.1%" in by[(2, "CERT_AREA_MISMATCH")][1]
    assert "Point" in by[(7, "NOT_POLYGON")][1]
    z = rec[rec["problem_code"] == "Z_DROPPED"].iloc[0]
    assert "1 parcel geometries had Z" in z["problem_en"] and "9" in z["problem_zh"]
    assert rec.loc[rec["source_row"] == 8, "key"].iloc[0] == "5113020010010000005"
    assert rec.loc[rec["source_row"] == 8, "file_row"].iloc[0] == 8
    assert loaded.meta["n_input"] == 11 and loaded.meta["n_kept"] == 8
    assert loaded.meta["crs"] == "EPSG:4523" and loaded.meta["crs_source"] == "layer"
    assert loaded.meta["z_dropped"] == 1 and loaded.meta["measure_epsg"] == [4523]


def test_certificate_basis():
    f = prepare_parcels(layer(), area_basis="certificate").frame
    # rows 1, 2, 4, 8, 11 have a certificate area; 3, 9, 10 do not
    np.testing.assert_allclose(f["land_area_mu"], [30, 10, 0.9, 30.5, 29, 30, 30, 15], rtol=1e-12)
    assert f["area_basis_used"].tolist() == ["certificate", "certificate", "polygon", "certificate",
                                             "certificate", "polygon", "polygon", "certificate"]
    np.testing.assert_allclose(f["area_mu"], [30, 9, 0.9, 30, 30, 30, 30, 15], rtol=1e-9)
    with pytest.raises(ValueError):
        prepare_parcels(layer(), area_basis="reported")


def test_no_crs_suggests_zone_and_names_the_file():
    g = layer().set_crs(None, allow_override=True)
    with pytest.raises(InputError) as e:
        prepare_parcels(g, path=Path("/data/南充/宗地_2023.shp"))
    msg = str(e.value)
    assert "宗地_2023.shp" in msg and "EPSG:4523" in msg
    assert "EPSG:4523" in e.value.message("en") and "35" in e.value.message("en")


def test_no_crs_six_digit_eastings_says_zone_unknown():
    g = gpd.GeoDataFrame(geometry=[shapely.box(600_000, 3_400_000, 600_200, 3_400_100)])
    with pytest.raises(InputError) as e:
        prepare_parcels(g, path="zd.gpkg")
    assert "EPSG:4534" in str(e.value) and "无法判断" in str(e.value)


def test_crs_given_for_a_layer_without_one():
    g = layer().set_crs(None, allow_override=True)
    loaded = prepare_parcels(g, crs="EPSG:4523")
    assert loaded.frame.crs.to_epsg() == 4523 and loaded.meta["crs_source"] == "--crs"
    assert loaded.frame["area_mu"].iloc[0] == pytest.approx(30.0, rel=1e-12)
    assert "CRS_OVERRIDE_IGNORED" not in set(loaded.recon["problem_code"])


def test_crs_given_but_layer_has_another_keeps_the_layer():
    g = layer().to_crs(4490)
    loaded = prepare_parcels(g, crs="EPSG:4523")
    assert loaded.frame.crs.to_epsg() == 4490
    note = loaded.recon[loaded.recon["problem_code"] == "CRS_OVERRIDE_IGNORED"]
    assert len(note) == 1 and note["action"].iloc[0] == "kept" and pd.isna(note["source_row"].iloc[0])
    np.testing.assert_allclose(loaded.frame["area_mu"].iloc[:4], [30, 9, 0.9, 30], rtol=1e-6)
    assert loaded.frame["measure_epsg"].iloc[0] == 4544


def test_wrong_crs_is_an_input_error():
    # 8-digit prefixed eastings declared as the no-prefix zone: the parcels fall off the earth
    g = layer().set_crs(4544, allow_override=True)
    with pytest.raises(InputError) as e:
        prepare_parcels(g, path="zd.shp")
    assert "EPSG:4523" in str(e.value) and "zd.shp" in str(e.value)
    with pytest.raises(InputError):
        prepare_parcels(layer().set_crs(None, allow_override=True), crs="EPSG:99999999")


def test_plain_frame_without_optional_columns():
    g = gpd.GeoDataFrame(geometry=[box(0), box(1)], crs=4523)
    loaded = prepare_parcels(g)
    f = loaded.frame
    assert f["source_row"].tolist() == [1, 2]
    assert f["county"].tolist() == [None, None]
    np.testing.assert_allclose(f["area_mu"], [30, 30], rtol=1e-12)
    # one file-level note: the layer has no id column
    assert codes(loaded.recon) == [(None, "MISSING_PARCEL_ID", "kept")]


def test_county_only_from_six_ascii_digits():
    ids = ["511302001001", "51130A001", "５１１３０２００１", "  511381 0001 ", "", None]
    g = gpd.GeoDataFrame({"parcel_id": ids}, geometry=[box(i) for i in range(6)], crs=4523)
    f = prepare_parcels(g).frame
    assert f["county"].tolist() == ["511302", None, None, "511381", None, None]


def test_polygonal_parts():
    a = shapely.box(0, 0, 1, 1)
    b = shapely.box(1, 0, 2, 1)  # shares an edge with a
    gc = shapely.GeometryCollection([a, b, shapely.Point(5, 5)])
    out = polygonal_parts(np.array([a, shapely.Point(0, 0), gc, shapely.GeometryCollection([shapely.Point(1, 1)])],
                                   dtype=object))
    assert out[0] is a and out[1] is None and out[3] is None
    assert out[2].is_valid and out[2].area == pytest.approx(2.0)


def test_kotka_real_layer():
    k = gpd.read_file(REAL / "kotka" / "osm_kotka_landuse.geojson")
    k["parcel_id"] = k["osm_way_id"]
    loaded = prepare_parcels(k, path=REAL / "kotka" / "osm_kotka_landuse.geojson")
    f, rec = loaded.frame, loaded.recon
    assert loaded.meta["n_input"] == 54 and len(f) == 50
    dropped = rec[rec["action"] == "dropped"]
    assert dropped.loc[dropped["problem_code"] == "NULL_GEOMETRY", "source_row"].tolist() == [6, 31, 48]
    # a ring with too few points has nothing polygonal left
    lost = dropped[dropped["problem_code"] == "INVALID_GEOMETRY"]
    assert lost["source_row"].tolist() == [30]
    assert "Too few points" in lost["problem_en"].iloc[0]
    repaired = rec[rec["action"] == "repaired"]
    assert repaired["source_row"].tolist() == [2, 3, 10, 16, 18, 49, 50]
    assert set(repaired["problem_code"]) == {"INVALID_GEOMETRY"}
    assert f.geometry.is_valid.all()
    assert set(f["measure_epsg"]) == {32635}
    ind = f[f["landuse"] == "industrial"]
    assert len(ind) == 9 and 49 in set(ind["source_row"])  # the invalid industrial polygon, repaired
    rel = (ind["area_m2"] / geodesic_area_m2(ind) - 1).abs()
    assert rel.max() < 0.005  # observed max 0.080 % (UTM scale 0.9996)
    # the OSM way ids are digits: their first six become "county" (meaningless here, but the rule)
    assert f["county"].iloc[0] == "753910"


def test_nanchong_real_boundaries_as_parcels():
    g = pd.concat([gpd.read_file(REAL / "nanchong" / f"{c}.geojson") for c in ("511300", "511322", "511324")],
                  ignore_index=True)
    g = gpd.GeoDataFrame(g, crs=4326)
    g["parcel_id"] = ["511300", "511322", "511324"]
    loaded = prepare_parcels(g)
    f = loaded.frame
    assert f["measure_epsg"].tolist() == [4544, 4545, 4545]
    assert f["county"].tolist() == ["511300", "511322", "511324"]
    rel = (f["area_m2"] / geodesic_area_m2(f) - 1).abs()
    assert rel.max() < 0.005  # observed max 0.050 %
    assert loaded.meta["measure_epsg"] == [4544, 4545]


def test_no_usable_parcel_is_an_input_error():
    g = gpd.GeoDataFrame({"parcel_id": ["a", "b"]}, geometry=[None, shapely.Point(X0, Y0)], crs=4523)
    with pytest.raises(InputError) as e:
        prepare_parcels(g, path="zd.shp")
    assert "zd.shp" in str(e.value) and "NULL_GEOMETRY 1" in str(e.value) and "NOT_POLYGON 1" in str(e.value)
    with pytest.raises(InputError):
        prepare_parcels(gpd.GeoDataFrame(geometry=[], crs=4523))


def test_many_duplicates_are_named_briefly():
    g = gpd.GeoDataFrame({"parcel_id": ["5113020000000000001"] * 30},
                         geometry=[box(i, 10, 10) for i in range(30)], crs=4523)
    rec = prepare_parcels(g).recon
    assert len(rec) == 30 and set(rec["problem_code"]) == {"DUPLICATE_PARCEL_ID"}
    first = rec["problem_zh"].iloc[0]
    assert "另见第 2、3、4、5、6、7、8、9、10、11 等共 29 条" in first
    assert "see also feature(s) 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 … (29 in all)" in rec["problem_en"].iloc[29]
