"""The Excel lists, read back with openpyxl: headers with units, formats, frozen header, autofilter, no
formula cells, equal workbooks on rerun, the notes sheet, per-park sheets, the public-notice list."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.escape import unescape

from parkland.errors import PolicyError
from parkland.report import excel
from parkland.report.excel import Sheet, header, number_format, safe_sheet_name, write_workbook
from parkland.report.lists import NOTICE_COLUMNS, notice_extra_columns, notice_list
from parkland.scoring.policy import load_policy

try:
    from test_export_dir import EPOCH, EPOCH_ISO, demo_run, source_date_epoch
except ImportError:  # tests/ imported as a package
    from tests.test_export_dir import EPOCH, EPOCH_ISO, demo_run, source_date_epoch

HOSTILE = ['=HYPERLINK("http://x","点我")', "+1+1", "-2+3", "@SUM(A1)", "\tTab", "\rCR", "普通企业"]
LONG = "某某省某某市某某县高新技术产业开发区西区一期工程配套园区"  # 31+ characters


def hand_frame() -> pd.DataFrame:
    n = len(HOSTILE)
    return pd.DataFrame({
        "name": HOSTILE,
        "uscc": ["91511302MA0000001X"] * n,
        "area_mu": np.linspace(1.005, 7.5, n),
        "tax_wan": [12.345, -4.31, 0.0, np.nan, 1e6, 3.0, 2.5],
        "rd_intensity": [0.0123] * n,
        "employees": [10, 20, 30, 40, 50, 60, 70],
        "in_park": [True, False, True, True, False, True, True],
        "park": ["一园", "二园/东区", "../三园", LONG, "一园", "二园_东区", "History"],
    })


def cells(ws):
    return [[c for c in row] for row in ws.iter_rows()]


@pytest.mark.parametrize("fast", [False, True], ids=["cell-by-cell", "row-xml"])
def test_headers_formats_frozen_filter_and_strings(tmp_path, monkeypatch, fast):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.setattr(excel, "BY_CELL", not fast)
    df = hand_frame()
    p = write_workbook(tmp_path / "t.xlsx", [Sheet("列表", df)], notes={"数据年份": 2025, "公式": "=1+1"})
    wb = openpyxl.load_workbook(p)
    assert wb.sheetnames == ["列表", "说明"]
    ws = wb["列表"]
    assert [c.value for c in ws[1]] == ["企业名称", "统一社会信用代码", "宗地面积（亩，图形）", "税收（万元）",
                                        "研发投入强度", "年平均职工人数（人）", "是否在园区内", "园区"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:H8"
    # text cells: exactly the input, string type, the quote prefix on the formula-like ones
    for r, text in enumerate(HOSTILE, start=2):
        c = ws.cell(r, 1)
        assert c.data_type == "s" and unescape(c.value) == text  # openpyxl leaves CR as _x000D_
        assert c.quotePrefix is (text[0] in "=+-@\t\r")
    # numbers stay numbers with their formats; a missing number is an empty cell
    assert ws["C2"].value == pytest.approx(1.005) and ws["C2"].number_format == "#,##0.00"
    assert ws["D3"].value == -4.31 and ws["D3"].data_type == "n" and ws["D3"].number_format == "#,##0.00"
    assert ws["D5"].value is None
    assert ws["E2"].number_format == "0.0%" and ws["E2"].value == 0.0123
    assert ws["F2"].value == 10 and ws["F2"].number_format == "0"
    assert [ws.cell(r, 7).value for r in range(2, 5)] == ["是", "否", "是"]
    for sheet in wb:
        for row in cells(sheet):
            assert all(c.data_type != "f" for c in row)
    notes = {r[0].value: r[1].value for r in cells(wb["说明"])[1:]}
    assert notes == {"数据年份": "2025", "公式": "=1+1"}
    assert wb["说明"]["B3"].quotePrefix is True
    assert wb.properties.created.isoformat() == EPOCH_ISO.replace("Z", "")
    # columns fitted: the 18-character credit code column is at least 20 wide, nothing above 62
    widths = {k: v.width for k, v in ws.column_dimensions.items()}
    assert widths["B"] >= 20 and max(widths.values()) <= 62


def test_constant_memory_long_list(tmp_path):
    n = 20_001
    df = pd.DataFrame({"parcel_id": [f"P{i:06d}" for i in range(n)], "area_mu": np.arange(n) / 3,
                       "name": ["=cmd|' /C calc'!A0"] * n})
    p = write_workbook(tmp_path / "long.xlsx", [Sheet("s", df)])
    ws = openpyxl.load_workbook(p, read_only=True)["s"]
    rows = list(ws.iter_rows(min_row=n + 1, max_row=n + 1, values_only=True))
    assert rows == [("P020000", pytest.approx(20_000 / 3), "=cmd|' /C calc'!A0")]


def test_sheet_names_for_awkward_parks(tmp_path):
    taken: set[str] = set()
    names = [safe_sheet_name(n, taken) for n in ["二园/东区", "二园_东区", "../三园", LONG, LONG, "History",
                                                 "'引号'", "a[1]:b*?"]]
    assert names[0] == "二园_东区" and names[1] == "二园_东区(2)"
    assert names[2] == ".._三园"
    assert names[3] == LONG[:31] and len(names[4]) == 31 and names[4].endswith("(2)")
    assert names[5] == "History_" and names[6] == "引号" and names[7] == "a_1__b__"
    df = hand_frame()
    sheets = [Sheet(str(p), df[df["park"] == p]) for p in df["park"]]
    wb = openpyxl.load_workbook(write_workbook(tmp_path / "parks.xlsx", sheets))
    assert len(wb.sheetnames) == 7 and len({s.lower() for s in wb.sheetnames}) == 7
    assert all(len(s) <= 31 and "/" not in s for s in wb.sheetnames)
    assert wb.worksheets[3]["H2"].value == LONG  # the full park name is in the cells


def test_number_formats_and_derived_headers():
    assert number_format("area_mu") == "#,##0.00"
    assert number_format("tax_per_mu") == "#,##0.00"
    assert number_format("revenue_per_employee") == "#,##0.00"
    assert number_format("benchmark_rd_intensity") == "0.0%"
    assert number_format("part_tax_per_mu") == "0.00"
    assert number_format("change_pct_tax_per_mu") == "0.00"
    assert number_format("consequence_land_tax_relief_pct") == "0.00"
    assert number_format("floor_area_m2") == "#,##0"
    assert number_format("grade_A") == "0"
    assert number_format("name") is None
    assert header("change_pct_tax_per_mu") == "亩均税收同比变化（%）"
    assert header("change_tax_per_mu") == "亩均税收同比变化（万元/亩）"
    assert header("change_rd_intensity") == "研发投入强度同比变化（百分点）"
    assert header("change_tax_per_mu", "en") == "tax per mu change (10k yuan/mu)"


# ---------------------------------------------------------------------------------------------------
# the demo city's workbooks, as assess writes them
@pytest.fixture(scope="module")
def demo():
    return demo_run()


def test_demo_grades_headers_and_numbers(demo):
    _a, out = demo
    wb = openpyxl.load_workbook(out / "grades.xlsx")
    assert wb.sheetnames == ["评价结果", "说明"]
    ws = wb["评价结果"]
    head = [c.value for c in ws[1]]
    # every header is a label: no snake_case column name leaks through
    assert not [h for h in head if re.fullmatch(r"[a-z0-9_]+", h)]
    firms = pd.read_csv(out / "firms.csv", encoding="utf-8-sig")
    assert ws.max_row == len(firms) + 1 == 853
    j = head.index("亩均税收（万元/亩）") + 1
    assert ws.cell(1, j).value == "亩均税收（万元/亩）"
    col = [ws.cell(r, j) for r in range(2, ws.max_row + 1)]
    assert all(c.data_type == "n" for c in col)
    assert all(c.number_format == "#,##0.00" for c in col if c.value is not None)
    vals = np.array([np.nan if c.value is None else c.value for c in col], dtype=float)
    np.testing.assert_allclose(vals, firms["tax_per_mu"].to_numpy(float), rtol=1e-12, equal_nan=True)
    # gap to the next grade is in the list
    for h in ("上一档等级", "距上一档差分", "升档需增亩均税收（万元/亩）", "评价等级", "综合得分"):
        assert h in head
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}853"
    # code values spelled out
    assert {ws.cell(r, head.index("评价状态") + 1).value for r in range(2, 853)} == {
        "已评价", "不参评", "免评（T类）", "宗地未找到"}


def test_demo_notes_sheet(demo):
    _, out = demo
    for name in ("grades", "notice", "cleanup", "idle_floor"):
        wb = openpyxl.load_workbook(out / f"{name}.xlsx")
        notes = {r[0].value: r[1].value for r in cells(wb["说明"])[1:]}
        assert notes["评价办法"] == "sichuan-2022（四川省工业企业亩均效益评价（2022））"
        assert notes["数据年份"] == "2025" and notes["评价日期"] == "2025-12-31"
        assert notes["生成时间"] == EPOCH_ISO
        assert len(notes["评价办法哈希"]) == 64


def test_demo_notice_is_public_safe_and_sorted(demo):
    a, out = demo
    wb = openpyxl.load_workbook(out / "notice.xlsx")
    parks = sorted(a.firms.loc[a.firms["status"].isin(["graded", "exempt"]), "park"].dropna().unique())
    assert wb.sheetnames == ["公示名单", *parks, "说明"]
    ws = wb["公示名单"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("企业名称", "统一社会信用代码", "园区", "评价等级")
    body = rows[1:]
    assert len(body) == 453 + 5  # graded + exempt
    # no figure at all: every cell is text, none parses as a number, grades are letters
    for r in ws.iter_rows(min_row=2):
        assert all(c.data_type == "s" for c in r)
    for name, _uscc, park, grade in body:
        assert grade in {"A", "B", "C", "D", "T"}
        for v in (name, park):
            with pytest.raises(ValueError):
                float(v)
    firms = pd.read_csv(out / "firms.csv", encoding="utf-8-sig")
    figures = {f"{v:.2f}" for v in pd.concat([firms["tax_wan"], firms["revenue_wan"], firms["score"]]).dropna()}
    flat = {str(v) for row in body for v in row}
    assert not any(f in v for v in flat for f in figures if len(f) > 5)
    key = [(p, g, n) for n, _, p, g in body]
    assert key == sorted(key)
    for p in parks:
        assert wb[p].max_row - 1 == sum(1 for r in body if r[2] == p)


def test_demo_cleanup_sheets(demo):
    a, out = demo
    wb = openpyxl.load_workbook(out / "cleanup.xlsx")
    ws = wb["清理计划"]
    head = [c.value for c in ws[1]]
    assert head[:6] == ["排名", "宗地代码", "园区", "宗地面积（亩，图形）", "累计面积（亩）", "是否纳入"]
    assert ws["D2"].number_format == "#,##0.00" and ws["A2"].value == 1
    assert [ws.cell(r, 1).value for r in range(2, ws.max_row + 1)] == list(range(1, len(a.cleanup) + 1))
    tiers = {ws.cell(r, head.index("优先档次") + 1).value for r in range(2, ws.max_row + 1)}
    assert "闲置满两年（可收回）" in tiers and not any(re.fullmatch(r"[a-z_]+", t or "") for t in tiers)


def workbook_content(path):
    """Every cell's value, number format, type and style (read-only mode: fast), and the created time."""
    wb = openpyxl.load_workbook(path, read_only=True)
    return {ws.title: [[(c.value, c.number_format, c.data_type, tuple(getattr(c, "style_array", ()))) for c in row]
                       for row in ws.iter_rows()] for ws in wb}, wb.properties.created


def test_rerun_gives_equal_workbooks(demo, tmp_path):
    a, out = demo
    with source_date_epoch():
        a.write(tmp_path, lang="zh", map_html=False)
    for name in ("grades", "notice", "cleanup", "idle_floor"):
        assert workbook_content(out / f"{name}.xlsx") == workbook_content(tmp_path / f"{name}.xlsx"), name
    assert (out / "firms.csv").read_bytes() == (tmp_path / "firms.csv").read_bytes()


# ---------------------------------------------------------------------------------------------------
def firms_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "name": ['=HYPERLINK("http://x","点我")', "乙公司", "甲公司", "丙公司", "丁公司"],
        "uscc": ["91511302MA0000001X", None, "91511302MA0000003X", "91511302MA0000004X", "91511302MA0000005X"],
        "uscc_raw": ["91511302MA0000001X", "9151 1302MA0000002X", None, None, None],
        "park": ["一园", "一园", "一园", None, "二园"],
        "grade": ["B", "A", "A", "C", None],
        "status": ["graded", "graded", "graded", "exempt", "not_graded"],
        "tax_wan": [1.0, 2.0, 3.0, 4.0, 5.0], "score": [50.0, 90.0, 95.0, np.nan, np.nan],
        "industry_code": ["3811", "3812", "3813", "4412", "3814"],
    })


def test_notice_list_content_order_and_formula_name(tmp_path):
    nt = notice_list(firms_frame())
    assert list(nt.columns) == NOTICE_COLUMNS
    # park, then grade, then name (in code-point order: 乙 U+4E59 before 甲 U+7532); no park last
    assert nt["name"].tolist() == ["乙公司", "甲公司", '=HYPERLINK("http://x","点我")', "丙公司"]
    assert nt["uscc"].tolist()[0] == "9151 1302MA0000002X"  # the code as written when not normalised
    p = write_workbook(tmp_path / "n.xlsx", [Sheet("公示名单", nt)])
    c = openpyxl.load_workbook(p)["公示名单"]["A4"]
    assert c.data_type == "s" and c.value == '=HYPERLINK("http://x","点我")'


def test_notice_extra_columns_from_policy():
    pol = load_policy("sichuan-2022")
    assert notice_extra_columns(pol) == []
    with_extra = dataclasses.replace(pol, raw={**pol.raw, "notice": {"extra_columns": ["industry_code", "park"]}})
    assert notice_extra_columns(with_extra) == ["industry_code"]
    nt = notice_list(firms_frame(), extra_columns=notice_extra_columns(with_extra))
    assert list(nt.columns) == [*NOTICE_COLUMNS, "industry_code"]
    assert nt["industry_code"].tolist() == ["3812", "3813", "3811", "4412"]
    for bad in (["tax_wan"], ["score"], ["part_tax_per_mu"], ["tax_per_mu"], "industry_code", [1]):
        with pytest.raises(PolicyError):
            notice_extra_columns({"notice": {"extra_columns": bad}})
    with pytest.raises(PolicyError):
        notice_extra_columns({"notice": {"columns": ["x"]}})


# --------------------------------------------------------------------------------------------------
# the row-XML writer against xlsxwriter's own cell-by-cell output (BY_CELL)
# --------------------------------------------------------------------------------------------------
def tricky_frame() -> pd.DataFrame:
    """Every kind of cell; the first row has a value in every column (so xlsxwriter gives the formats
    their style indices in column order, as the row writer does)."""
    texts = ["甲", None, " lead", "trail ", "a&b<c>d\"e'", "=SUM(A1)", "-3", "ctl\x01x\x1f", "_x0041_ lit",
             "\u3000全角", "line\nbreak", "tab\tin", "", "+1", "@x", "end\u00a0", "\ufffe", "x" * 40_000]
    n = len(texts)
    return pd.DataFrame({
        "name": texts,
        "tax_wan": [1.5, np.nan, np.inf, -0.0, 1e20, 0.1 + 0.2, 123456789.123456789, 3.0, 1e-7, -2.5,
                    *range(n - 10)],
        "idle": pd.Series([True, False, None, *([True, False] * n)][:n], dtype=object),
        "supply_date": pd.to_datetime(["2024-01-02", None, "1900-01-05", "1900-03-01", "2024-02-29 13:45:10.250",
                                       *["2020-05-05"] * (n - 5)], format="mixed"),
        "mixed": [1, "a", None, 2.5, True, "b", *["x"] * (n - 6)],
    })


def _parts(path):
    import zipfile

    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n != "docProps/core.xml"}  # core: the file's title


def test_row_xml_is_what_xlsxwriter_writes(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.setattr(excel, "CONSTANT_MEMORY_ROWS", 0)  # xlsxwriter's inline strings, as the row writer
    df = tricky_frame()
    sheets = [Sheet("s", df), Sheet("t", df.iloc[:3])]
    monkeypatch.setattr(excel, "BY_CELL", True)
    slow = _parts(write_workbook(tmp_path / "slow.xlsx", sheets, notes={"a": "b"}))
    monkeypatch.setattr(excel, "BY_CELL", False)
    monkeypatch.setattr(excel, "_CHUNK_ROWS", 7)  # rows made in chunks give the same bytes
    fast = _parts(write_workbook(tmp_path / "fast.xlsx", sheets, notes={"a": "b"}))
    assert slow.keys() == fast.keys()
    for name in slow:
        assert slow[name] == fast[name], name
    xml = fast["xl/worksheets/sheet1.xml"].decode()
    assert '<dimension ref="A1:E19"/>' in xml and "ctl_x0001_x_x001F_" in xml and "_x005F_x0041_ lit" in xml
    assert '<t xml:space="preserve">end\u00a0</t>' in xml and "a&amp;b&lt;c&gt;d\"e'" in xml
    assert "x" * 32_767 + "<" in xml and "x" * 32_768 not in xml  # Excel's limit per cell
    # a date is Excel's serial number: 1900-03-01 is 61 (after Excel's leap day 1900-02-29), 1900-01-05 is 5
    assert '<c r="D4" s="3"><v>5</v></c>' in xml and '<c r="D5" s="3"><v>61</v></c>' in xml


def test_row_xml_escapes_rich_text_lookalikes(tmp_path, monkeypatch):
    """xlsxwriter (constant_memory) writes a text shaped like ``<r>…</r>`` into the XML raw; the row writer
    escapes it, so such a firm name stays plain text."""
    name = '<r><t>x</t></r><c r="Z9"><v>1</v></c><r>y</r>'
    df = pd.DataFrame({"name": [name, "ok"]})
    ws = openpyxl.load_workbook(write_workbook(tmp_path / "r.xlsx", [Sheet("s", df)]))["s"]
    assert ws["A2"].value == name and ws["A3"].value == "ok" and ws["Z9"].value is None


def test_excel_serials_match_xlsxwriter():
    from xlsxwriter.utility import _datetime_to_excel_datetime

    days = pd.to_datetime(["1900-01-01", "1900-02-28", "1900-03-01", "1999-12-31 23:59:59.999999",
                           "2024-02-29 13:45:10.250", None], format="mixed")
    got = excel.excel_serials(pd.Series(days))
    want = [_datetime_to_excel_datetime(d.to_pydatetime(), False, True) for d in days[:-1]]
    assert got[:-1].tolist() == want and np.isnan(got[-1])
    assert want[1:3] == [59, 61]


@pytest.mark.parametrize("by_cell", [True, False], ids=["cell-by-cell", "row-xml"])
def test_rich_text_lookalikes_stay_plain_text_everywhere(tmp_path, monkeypatch, by_cell):
    monkeypatch.setattr(excel, "BY_CELL", by_cell)
    rows = 10
    import python_calamine

    name = "<r>甲&乙公司</r>"
    df = pd.DataFrame({"name": [name] + ["普通企业"] * (rows - 1), "tax_wan": np.arange(rows, dtype=float)})
    p = write_workbook(tmp_path / "r.xlsx", [Sheet("s", df, {"tax_wan": "<r>A&B</r>"})],
                       notes={"<r>x</r>": "<r>A&B</r>"})
    wb = openpyxl.load_workbook(p)  # a corrupt file fails to parse here
    assert wb["s"]["A2"].value == name and wb["s"]["B1"].value == "<r>A&B</r>"
    assert wb["说明"]["A2"].value == "<r>x</r>" and wb["说明"]["B2"].value == "<r>A&B</r>"
    cal = python_calamine.CalamineWorkbook.from_path(str(p)).get_sheet_by_name("s").to_python()
    assert cal[1][0] == name and len(cal) == rows + 1


def test_dates_far_ahead_and_with_time_zones(tmp_path, monkeypatch):
    """9999-12-31 (a common "no end date") and a time-zone-aware column: the same cells on both paths
    (the local wall-clock time), exact serial numbers."""
    t = pd.Series(pd.to_datetime(["9999-12-31", "2300-01-01", "2024-06-30 08:00"], format="mixed"))
    assert excel.excel_serials(t).tolist() == [2958465.0, 146099.0, 45473 + 8 / 24]  # as xlsxwriter
    aware = pd.Series(pd.to_datetime(["2024-01-01 08:00"] * 3).tz_localize("Asia/Shanghai"))
    df = pd.DataFrame({"end_date": t.astype("datetime64[us]"), "stopped_since": aware})
    got = {}
    for fast in (False, True):
        monkeypatch.setattr(excel, "BY_CELL", not fast)
        ws = openpyxl.load_workbook(write_workbook(tmp_path / f"d{fast}.xlsx", [Sheet("s", df)]))["s"]
        got[fast] = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    assert got[True] == got[False]
    assert got[True][0][0].year == 9999 and got[True][0][1].hour == 8  # Shanghai wall time, not UTC


def test_a_long_sheet_without_columns(tmp_path):
    p = write_workbook(tmp_path / "z.xlsx", [Sheet("s", pd.DataFrame(index=range(201)))])
    assert openpyxl.load_workbook(p)["s"].max_column == 1


def test_a_list_longer_than_a_sheet_goes_on(tmp_path, monkeypatch):
    monkeypatch.setattr(excel, "MAX_ROWS", 4)  # Excel's 1,048,575, made small
    df = pd.DataFrame({"parcel_id": [f"P{i}" for i in range(10)], "area_mu": np.arange(10.0)})
    wb = openpyxl.load_workbook(write_workbook(tmp_path / "long.xlsx", [Sheet("清理计划", df)], notes={"a": 1}))
    assert wb.sheetnames == ["清理计划", "清理计划(2)", "清理计划(3)", "说明"]
    ids = [r[0] for name in wb.sheetnames[:3] for r in wb[name].iter_rows(min_row=2, values_only=True)]
    assert ids == [f"P{i}" for i in range(10)]  # every row, in order
    assert [c.value for c in wb["清理计划(3)"][1]] == [c.value for c in wb["清理计划"][1]]  # the same header


def test_row_xml_of_few_distinct_values_is_what_xlsxwriter_writes(tmp_path, monkeypatch):
    """Columns of few distinct texts / numbers (rendered once per distinct value) and a Boolean column:
    the same cells as xlsxwriter's own, -0.0 apart from 0.0, missing cells left out."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.setattr(excel, "CONSTANT_MEMORY_ROWS", 0)
    n = 1100  # more than 4 × _FEW_DISTINCT rows: the per-distinct-value path
    texts = ["一园", "=SUM(A1)", "-3", " lead", "a&b<c>", "ctl\x01x", None, "\rCR", "普通"]
    nums = [1.5, -0.0, 0.0, np.nan, np.inf, 0.1 + 0.2, 3.0, 1e-7, 123456.789]
    df = pd.DataFrame({
        "park": [texts[i % len(texts)] for i in range(n)],
        "tax_wan": [nums[i % len(nums)] for i in range(n)],
        "in_park": np.arange(n) % 3 == 0,
        "name": [f"企业{i}" for i in range(n)],  # many distinct: the plain path
        "area_mu": np.arange(n) / 7,
    })
    assert n >= 4 * excel._FEW_DISTINCT
    sheets = [Sheet("s", df)]
    monkeypatch.setattr(excel, "BY_CELL", True)
    slow = _parts(write_workbook(tmp_path / "slow.xlsx", sheets))
    monkeypatch.setattr(excel, "BY_CELL", False)
    fast = _parts(write_workbook(tmp_path / "fast.xlsx", sheets))
    assert slow.keys() == fast.keys()
    for name in slow:
        assert slow[name] == fast[name], name
    xml = fast["xl/worksheets/sheet1.xml"].decode()
    assert '<c r="B3" s="2"><v>-0</v></c>' in xml and '<c r="B4" s="2"><v>0</v></c>' in xml
    assert '<c r="B9" s="2"><v>1E-07</v></c>' in xml and '<c r="B5"' not in xml and '<c r="B6"' not in xml
    assert '<c r="C2" t="inlineStr"><is><t>是</t></is></c>' in xml and '<c r="A8"' not in xml
    assert '<c r="A3" s="3" t="inlineStr"><is><t>=SUM(A1)</t></is></c>' in xml  # the quote prefix style
    assert '<c r="A9" s="3" t="inlineStr"><is><t>_x000D_CR</t></is></c>' in xml
