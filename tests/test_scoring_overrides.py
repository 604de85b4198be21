"""Objection reviews: corrected figures, exemptions, manual links and decided grades, all audited."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parkland.errors import InputError
from parkland.io.overrides import normalise_overrides, read_overrides
from parkland.scoring import apply_overrides_after, apply_overrides_before, grade_firms, loads_policy

R = 1e-9
POLICY = loads_policy("""
schema = 1
[policy]
name = "test"
[tracks.all]
method = "ratio"
[tracks.all.indicators.tax_per_mu]
weight = 100
benchmark = 10
[grading]
method = "cutoffs"
cutoffs = { A = 90, B = 70, C = 50 }
[consequences.electricity_surcharge]
column = "electricity_10k_kwh"
factor = 10000
rates = { C = 0.05, D = 0.10 }
""")

CSV = """异议复核结果表
统一社会信用代码,企业名称,类型,字段,新值,理由,文号
U01,企业1,数据更正,税收（元）,"1,500,000",税务局更正入库数据,黄经信〔2024〕12号
U02,企业2,免评,,,新建投产不足一年,黄经信〔2024〕13号
U03,企业3,关联,宗地代码,330003001001GB00001；330003001001GB00002,现场核实,黄自然资〔2024〕5号
U04,企业4,等级,,B类,异议复核上调,黄经信〔2024〕14号
U99,不存在,数据更正,税收,1,理由,文号1
U05,企业5,数据更正,税收,2,,无理由
U05,企业5,其他,税收,2,理由,文号2
U05,企业5,数据更正,年平均职工人数,120,统计局更正,
"""


def firms() -> pd.DataFrame:
    n = 5
    return pd.DataFrame({
        "source_row": np.arange(1, n + 1), "uscc": [f"U0{i}" for i in range(1, n + 1)],
        "name": [f"企业{i}" for i in range(1, n + 1)], "scale": ["above"] * n, "land_mu": [10.0] * n,
        "status": ["not_graded"] * n, "status_reason": ["pending"] * n,
        "tax_wan": [50.0, 95.0, 60.0, 55.0, 80.0], "employees": [10.0, 10.0, 10.0, 10.0, 0.0],
        "revenue_wan": [500.0] * n, "electricity_10k_kwh": [4.0] * n,
        "tax_per_mu": [5.0, 9.5, 6.0, 5.5, 8.0], "revenue_per_employee": [50.0, 50.0, 50.0, 50.0, np.nan],
    })


@pytest.fixture
def overrides(tmp_path):
    p = tmp_path / "复核.csv"
    p.write_text(CSV, encoding="utf-8-sig")
    return read_overrides(p)


def test_read_overrides_normalises_and_lists_bad_rows(overrides):
    ov = overrides.frame
    assert ov["kind"].tolist() == ["figure", "exempt", "link", "grade", "figure", "figure"]
    assert ov["uscc"].tolist() == ["U01", "U02", "U03", "U04", "U99", "U05"]
    assert ov.loc[0, "column"] == "tax_wan" and ov.loc[0, "factor"] == pytest.approx(1e-4, rel=R)
    assert ov.loc[5, "column"] == "employees"
    rec = overrides.recon.set_index("problem_code")
    assert rec.loc["OVERRIDE_NO_REASON", "source_row"] == 6
    assert rec.loc["OVERRIDE_BAD_KIND", "source_row"] == 7
    assert rec.loc["OVERRIDE_BAD_KIND", "file_row"] == 9  # CSV line: a title line and the header above
    assert rec.loc["OVERRIDE_NO_REFERENCE", "action"] == "kept"


def test_before_figures_exemptions_links_and_audit(overrides):
    res = apply_overrides_before(firms(), overrides)
    f = res.frame
    assert f.loc[0, "tax_wan"] == pytest.approx(150.0, rel=R)  # 1,500,000 元 → 150 万元
    assert f.loc[0, "tax_per_mu"] == pytest.approx(15.0, rel=R)  # recomputed: 150 / 10 亩
    assert f.loc[4, "employees"] == 120.0
    assert f.loc[4, "revenue_per_employee"] == pytest.approx(500 / 120, rel=R)
    assert f["override_exempt"].tolist() == [False, True, False, False, False]
    links = res.meta["links"]
    assert links["uscc"].tolist() == ["U03", "U03"]
    assert links["parcel_id"].tolist() == ["330003001001GB00001", "330003001001GB00002"]
    assert links["reference"].tolist() == ["黄自然资〔2024〕5号"] * 2
    a = res.meta["audit"]
    assert a.columns.tolist() == ["uscc", "name", "kind", "field", "old", "new", "reason", "reference",
                                  "override_row"]
    row = a[a["field"] == "tax_wan"].iloc[0]
    assert (row["uscc"], row["old"], row["new"], row["reason"], row["reference"]) == (
        "U01", "50", "150", "税务局更正入库数据", "黄经信〔2024〕12号")
    assert a[a["kind"] == "exempt"]["uscc"].tolist() == ["U02"]
    assert len(a[a["kind"] == "link"]) == 2
    assert res.recon[res.recon["problem_code"] == "OVERRIDE_UNKNOWN_FIRM"]["key"].tolist() == ["U99"]

    g = grade_firms(f, POLICY).frame
    assert g["grade"].tolist() == ["A", "T", "C", "C", "B"]
    assert g.loc[1, "status"] == "exempt"
    assert g.loc[1, "status_reason"] == "exempt by review: 新建投产不足一年（黄经信〔2024〕13号）"


def test_after_grade_decision(overrides):
    g = grade_firms(apply_overrides_before(firms(), overrides).frame, POLICY).frame
    assert g.loc[3, "grade"] == "C"
    assert g.loc[3, "consequence_electricity_surcharge"] == pytest.approx(0.05 * 4 * 10000, rel=R)
    res = apply_overrides_after(g, overrides, POLICY)
    f = res.frame
    assert f.loc[3, "grade"] == "B"
    assert f.loc[3, "status"] == "graded"
    assert f.loc[3, "status_reason"] == "grade set by review: 异议复核上调 (黄经信〔2024〕14号)"
    assert f.loc[3, "consequence_electricity_surcharge"] == 0.0
    assert f.loc[3, "next_grade"] is None and np.isnan(f.loc[3, "gap_tax_per_mu"])
    assert f["grade_override"].tolist() == [False, False, False, True, False]
    a = res.meta["audit"]
    assert a[["uscc", "field", "old", "new", "reason", "reference"]].values.tolist() == [
        ["U04", "grade", "C", "B", "异议复核上调", "黄经信〔2024〕14号"]]
    # the other rows are untouched
    assert f["grade"].tolist() == ["A", "T", "C", "B", "B"]


def test_raw_frame_is_normalised_and_bad_grade_dropped():
    raw = pd.DataFrame({"统一社会信用代码": ["U01", "U02"], "类型": ["定级", "定级"], "新值": ["E", "A"],
                        "理由": ["x", "y"], "文号": ["r1", "r2"]})
    g = grade_firms(firms(), POLICY).frame
    res = apply_overrides_after(g, raw, POLICY)
    assert res.frame.loc[1, "grade"] == "A"
    assert res.recon["problem_code"].tolist() == ["OVERRIDE_BAD_GRADE"]
    with pytest.raises(InputError) as e:
        normalise_overrides(pd.DataFrame({"企业名称": ["x"], "理由": ["y"]}), path="复核.xlsx")
    assert e.value.column == "统一社会信用代码" and e.value.file == "复核.xlsx"
