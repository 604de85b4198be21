"""The header-alias table: every canonical header of DESIGN.md, units in brackets, priority order."""

from __future__ import annotations

import pytest

from parkland.io import columns as cols
from parkland.io.columns import map_columns, match_header, unit_factor

# DESIGN.md "Input rules" table: canonical → Chinese headers accepted (at least)
DESIGN_FIRM = {
    "uscc": ["统一社会信用代码", "信用代码", "社会信用代码"],
    "name": ["企业名称", "单位名称"],
    "parcel_id": ["宗地代码", "宗地编码", "地块编码", "不动产单元号"],
    "scale": ["企业规模", "规模", "是否规上"],
    "revenue_wan": ["营业收入", "主营业务收入"],
    "output_wan": ["工业总产值", "产值"],
    "tax_wan": ["税收", "税收实际入库", "实缴税金", "评价税收"],
    "value_added_wan": ["工业增加值", "增加值"],
    "energy_tce": ["综合能耗"],
    "electricity_10k_kwh": ["用电量"],
    "emissions_t": ["主要污染物排放量", "排放量"],
    "employees": ["年平均职工人数", "从业人员", "职工人数"],
    "rd_wan": ["研发经费支出", "研发经费", "R&D经费支出"],
    "reported_land_mu": ["用地面积", "占地面积"],
    "occupied_m2": ["租用面积", "使用面积"],
    "land_share": ["用地比例", "占地比例"],
    "industry_code": ["行业代码"],
    "park": ["园区", "所属园区"],
    "established": ["成立日期", "投产日期"],
    "lon": ["经度"],
    "lat": ["纬度"],
}
DESIGN_PARCEL = {
    "parcel_id": ["宗地代码", "宗地编码", "ZDDM", "地块编码", "DKDM", "BDCDYH", "parcel_id"],
    "holder_name": ["权利人"],
    "holder_uscc": ["权利人证件号"],
    "cert_area_mu": ["宗地面积"],
    "cert_area_unit": ["面积单位"],
    "land_use": ["用途"],
    "park": ["园区"],
    "industry_code": ["行业代码"],
    "granted": ["供地日期", "出让日期"],
    "agreed_start": ["约定开工日期"],
    "actual_start": ["实际开工日期"],
    "agreed_completion": ["约定竣工日期"],
    "stopped_since": ["停工日期"],
    "agreed_investment_wan": ["约定投资额"],
    "actual_investment_wan": ["实际投资额", "已完成投资"],
    "developed_m2": ["已开发面积"],
    "developed_share": ["开发比例"],
}


@pytest.mark.parametrize(("kind", "table"), [("firm", DESIGN_FIRM), ("parcel", DESIGN_PARCEL)])
def test_every_design_header_is_accepted(kind, table):
    for canonical, headers in table.items():
        for h in headers:
            assert match_header(h, kind).canonical == canonical, h
        # the canonical English name itself, in any case and spacing
        assert match_header(canonical.upper().replace("_", " "), kind).canonical == canonical


def test_link_kind_reads_the_link_columns():
    got = {h: m.canonical for h, m in map_columns(["统一社会信用代码", "企业名称", "宗地代码", "用地比例",
                                                   "租用面积", "税收"], "link").items()}
    assert got == {"统一社会信用代码": "uscc", "企业名称": "name", "宗地代码": "parcel_id",
                   "用地比例": "land_share", "租用面积": "occupied_m2", "税收": None}


@pytest.mark.parametrize(("header", "canonical", "factor"), [
    ("营业收入（元）", "revenue_wan", 1e-4),
    ("营业收入(千元)", "revenue_wan", 0.1),
    ("税收（亿元）", "tax_wan", 1e4),
    ("税收（万元）", "tax_wan", 1.0),
    ("用电量(千瓦时)", "electricity_10k_kwh", 1e-4),
    ("用电量（万千瓦时）", "electricity_10k_kwh", 1.0),
    ("用电量(kWh)", "electricity_10k_kwh", 1e-4),
    ("用地面积(平方米)", "reported_land_mu", 15 / 10000),
    ("用地面积（㎡）", "reported_land_mu", 15 / 10000),
    ("用地面积【公顷】", "reported_land_mu", 15.0),
    ("占地面积(亩)", "reported_land_mu", 1.0),
    ("租用面积（亩）", "occupied_m2", 10000 / 15),
    ("租用面积(m²)", "occupied_m2", 1.0),
    ("用地比例(%)", "land_share", 0.01),
    ("用地比例（％）", "land_share", 0.01),
    ("综合能耗（千克标准煤）", "energy_tce", 1e-3),
    ("主要污染物排放量(千克)", "emissions_t", 1e-3),
    ("年平均职工人数（人）", "employees", 1.0),
    ("R&D经费支出（万元）", "rd_wan", 1.0),
    ("2023年税收(元)", "tax_wan", 1e-4),
    ("税收万元", "tax_wan", 1.0),
    ("营业收入/元", "revenue_wan", 1e-4),
    ("营业收入 (元/年)", "revenue_wan", 1e-4),
    ("Revenue (yuan)", "revenue_wan", 1e-4),
    ("  TAX  ", "tax_wan", 1.0),
    ("＊企业名称", "name", 1.0),
])
def test_units_in_brackets(header, canonical, factor):
    m = match_header(header, "firm")
    assert m.canonical == canonical
    assert m.factor == pytest.approx(factor, rel=1e-12)
    assert m.unit_known


def test_mu_factor_is_exact():
    # 1 亩 = 10000/15 m² exactly: the factor is 15/10000, never 1/666.67
    assert match_header("用地面积(平方米)", "firm").factor == 15.0 / 10000.0
    assert unit_factor("平方米", "area_mu") == 15.0 / 10000.0
    assert unit_factor("公顷", "area_mu") == 15.0
    assert unit_factor(" 亩 ", "area_mu") == 1.0
    assert unit_factor("斤", "area_mu") is None


def test_unknown_unit_is_flagged_not_guessed():
    m = match_header("营业收入(含税)", "firm")
    assert (m.canonical, m.unit, m.factor, m.unit_known) == ("revenue_wan", "含税", 1.0, False)
    # a bracket on a column without a unit kind is not a unit
    m = match_header("统一社会信用代码（必填）", "firm")
    assert (m.canonical, m.factor, m.unit_known) == ("uscc", 1.0, True)


def test_english_headers_case_and_spaces():
    got = {h: m.canonical for h, m in map_columns(["Credit Code", "company name", "Parcel_ID", "Revenue",
                                                   "R&D", "Longitude", "LAT", "Industry Code"], "firm").items()}
    assert got == {"Credit Code": "uscc", "company name": "name", "Parcel_ID": "parcel_id",
                   "Revenue": "revenue_wan", "R&D": "rd_wan", "Longitude": "lon", "LAT": "lat",
                   "Industry Code": "industry_code"}


def test_parcel_id_priority_follows_the_documented_order():
    m = map_columns(["parcel_id", "BDCDYH", "DKDM", "地块编码", "ZDDM", "宗地编码"], "parcel")
    assert m["宗地编码"].canonical == "parcel_id"
    assert [m[h].duplicate_of for h in ("parcel_id", "BDCDYH", "DKDM", "地块编码", "ZDDM")] == ["parcel_id"] * 5
    m = map_columns(["BDCDYH", "ZDDM"], "parcel")
    assert (m["ZDDM"].canonical, m["BDCDYH"].canonical) == ("parcel_id", None)


def test_duplicate_firm_columns_first_alias_wins():
    m = map_columns(["评价税收", "税收"], "firm")
    assert (m["税收"].canonical, m["评价税收"].canonical, m["评价税收"].duplicate_of) == ("tax_wan", None, "tax_wan")


def test_shapefile_truncated_names():
    # 10-byte dBASE names: GBK 约定开工日 (10 bytes), UTF-8 约定开 (9 bytes)
    assert match_header("约定开工日", "parcel").canonical == "agreed_start"
    assert match_header("约定开", "parcel").canonical == "agreed_start"
    assert match_header("实际开工日", "parcel").canonical == "actual_start"
    assert match_header("约定竣工日", "parcel").canonical == "agreed_completion"
    assert match_header("权利人证件", "parcel").canonical == "holder_uscc"
    # short names are not prefixes of anything
    assert match_header("约定", "parcel").canonical is None


def test_unit_glued_with_underscore_and_holder_uscc_in_parcels():
    m = match_header("宗地面积_亩", "parcel")
    assert (m.canonical, m.factor) == ("cert_area_mu", 1.0)
    m = match_header("宗地面积（平方米）", "parcel")
    assert (m.canonical, m.factor) == ("cert_area_mu", 15 / 10000)
    assert match_header("统一社会信用代码", "parcel").canonical == "holder_uscc"
    assert match_header("约定投资额（元）", "parcel").factor == 1e-4


def test_unrelated_headers_are_not_matched():
    for h in ("序号", "备注", "联系人", "2023年度企业亩均效益评价数据表", "法人"):
        assert match_header(h, "firm").canonical is None, h


def test_accepted_lists_names_for_messages():
    assert cols.accepted("parcel_id", 7) == "宗地代码/宗地编码/ZDDM/地块编码/DKDM/BDCDYH/parcel_id"
    with pytest.raises(ValueError):
        match_header("税收", "nonsense")
