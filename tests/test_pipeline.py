"""End to end on the hand-made park: exact land, per-mu figures, statuses, reconciliation."""

import numpy as np
import pandas as pd
import pyogrio
import pytest

from parkland.pipeline import assess


@pytest.fixture
def result(small_park):
    return assess(small_park["parcels"], small_park["firms"], parcels_layer="zongdi", links=small_park["links"])


def test_land_and_per_mu(result):
    f = result.firms.set_index("name")
    assert f.loc["甲公司", "land_mu"] == pytest.approx(45.0, rel=1e-9)
    assert f.loc["甲公司", "revenue_wan"] == pytest.approx(900.0, rel=1e-12)  # 9,000,000 元
    assert f.loc["甲公司", "tax_per_mu"] == pytest.approx(2.0, rel=1e-9)
    assert f.loc["甲公司", "revenue_per_mu"] == pytest.approx(20.0, rel=1e-9)
    assert f.loc["乙公司", "land_mu"] == pytest.approx(9.0, rel=1e-9)
    assert f.loc["乙公司", "tax_per_mu"] == pytest.approx(1.0, rel=1e-9)
    assert bool(f.loc["乙公司", "is_tenant"])
    assert f.loc["丙公司", "land_mu"] == pytest.approx(36.0, rel=1e-9)
    assert f.loc["戊公司", "land_source"] == "reported"
    assert f.loc["戊公司", "tax_per_mu"] == pytest.approx(0.5, rel=1e-12)
    assert f.loc["己公司", "land_mu"] == pytest.approx(4.5, rel=1e-9)
    assert np.isnan(f.loc["辛公司", "tax_per_mu"])


def test_statuses(result):
    f = result.firms.set_index("name")
    assert f.loc["丁公司", "status"] == "parcel_not_found"
    assert f.loc["辛公司", "status"] == "no_land"
    assert f.loc["庚公司", "status"] == "not_graded"
    assert "duplicate of row" in f.loc["庚公司", "status_reason"]
    assert pd.isna(f.loc["庚公司", "land_mu"])


def test_parcels_and_areas(result):
    p = result.parcels.set_index("parcel_id")
    assert p["area_mu"].tolist() == pytest.approx([30.0, 15.0, 45.0, 4.5], rel=1e-9)
    assert p.loc["511302001001GB00003", "tax_wan"] == pytest.approx(81.0, rel=1e-9)
    assert p.loc["511302001001GB00001", "tax_per_mu"] == pytest.approx(2.0, rel=1e-9)
    assert p.loc["511302001001GB00002", "cert_area_mu"] == pytest.approx(15.0, rel=1e-12)
    assert p.loc["511302001001GB00003", "cert_area_mu"] == pytest.approx(45.0, rel=1e-12)  # 3 公顷
    assert p["county"].tolist() == ["511302"] * 4


def test_reconciliation_lists_problems(result, small_park):
    r = result.recon
    bad = r[r["problem_code"].str.contains("USCC") & (r["key"] == small_park["bad_f"])]
    assert len(bad) == 1 and bad["action"].iloc[0] == "kept"
    assert ((r["problem_code"] == "PARCEL_NOT_FOUND") & (r["source"] == "firms")).sum() == 1
    assert (r["problem_code"] == "DUPLICATE_USCC").sum() == 1


def test_written_and_read_back(result, tmp_path):
    out = result.write(tmp_path / "out")
    firms = pd.read_csv(out / "firms.csv", encoding="utf-8-sig", dtype={"uscc": str})
    assert len(firms) == 8  # 8 firms in → 8 rows out
    assert firms["source_row"].tolist() == list(range(1, 9))
    assert (out / "firms.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    gp = pyogrio.read_dataframe(out / "parcels.gpkg", layer="parcels")
    assert gp.crs.to_epsg() == 4523
    assert gp["area_mu"].tolist() == pytest.approx([30.0, 15.0, 45.0, 4.5], rel=1e-9)
    assert gp["firm_count"].tolist() == [1, 1, 2, 1]
    rec = pd.read_csv(out / "reconciliation.csv", encoding="utf-8-sig")
    assert set(rec["action"]) <= {"dropped", "repaired", "kept"}
    import json
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["counts"]["firms_in"] == 8
    assert s["areas"]["parcels_mu"] == pytest.approx(94.5, rel=1e-9)


def test_code_counts_of_joined_reason_cells() -> None:
    """summary.json's land.flag_reasons: each code counted once per cell it is in; empty codes, blank
    and missing cells are not codes."""
    from parkland.pipeline import _code_counts

    s = pd.Series(["LOW_TAX;IDLE", None, "", "IDLE", "LOW_TAX;;VACANT", float("nan"), "VACANT;"], dtype=object)
    assert _code_counts(s) == {"IDLE": 2, "LOW_TAX": 2, "VACANT": 2}
    assert list(_code_counts(s)) == ["IDLE", "LOW_TAX", "VACANT"]
    assert _code_counts(pd.Series(["B;A", None], dtype="str")) == {"A": 1, "B": 1}
    assert _code_counts(pd.Series([], dtype=object)) == {}


def test_value_counts_of_arrow_text_equal_the_object_path() -> None:
    """summary.value_counts counts Arrow text in Arrow: the same dict (keys, order, counts) as for the same
    values held as Python objects; missing values left out."""
    import numpy as np

    from parkland.report.summary import value_counts

    rng = np.random.default_rng(3)
    pool = np.array(["A", "B", "长", "", "a", "Z9", None], dtype=object)
    for _ in range(50):
        vals = pool[rng.integers(0, len(pool), rng.integers(0, 30))]
        as_obj = value_counts(pd.Series(vals, dtype=object))
        as_str = value_counts(pd.Series(vals, dtype="str"))
        assert as_str == as_obj and list(as_str) == list(as_obj)
        assert all(type(k) is str and type(v) is int for k, v in as_str.items())
    assert value_counts(pd.Series(["b", "a", None, "b"], dtype="str")) == {"a": 1, "b": 2}
