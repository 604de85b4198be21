"""The firm table: canonical columns, units, codes, dates, reconciliation and errors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import xlsxwriter

from parkland.errors import InputError
from parkland.io.firms import FIRM_COLUMNS, read_firms
from parkland.uscc import make

U1 = make("91511300MA6000001")
U2 = make("91511300MA6000002")
U3 = make("91511300MA6000003")
BAD = U2[:-1] + ("X" if U2[-1] != "X" else "Y")
BDCDYH = "511302001001GB00003F00010001"  # 28-character 不动产单元号

HEADER = ["序号", "统一社会信用代码", "企业名称", "宗地代码", "是否规上", "营业收入（元）", "税收（万元）",
          "用电量(千瓦时)", "用地面积(平方米)", "用地比例(%)", "租用面积（㎡）", "综合能耗", "年平均职工人数",
          "行业代码", "所属园区", "成立日期", "经度", "纬度", "年份", "重大安全环保事故"]


def _rows():
    return [
        [1, U1, " 甲公司 ", "511302001001GB00001；511302001001gb00002", "是", "12,345,000", 12.5, 100000,
         6666.666666666667, 50, 1200, "1,000", 30, 3670.0, "南充经开区", dt.date(2020, 5, 1), 106.1, 30.8,
         2023, "否"],
        [2, BAD, "乙公司", 5.11302e18, "规下", "—", -3, "", "", "", "", "abc", "", "C3670", None, 43831, "",
         "", "2023年", None],
        [3, U3.lower(), "丙公司", BDCDYH, "否", "１２３４", 0, "/", 10000, "30%", None, None, None, None, None,
         "2019年5月1日", 200, 30.1, None, "是"],
    ]


def _xlsx(path, rows, title=True, total=True):
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("企业")
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    r0 = 0
    if title:
        ws.write(0, 0, "2023年度亩均效益评价企业数据")
        r0 = 2
    ws.write_row(r0, 0, HEADER)
    for i, row in enumerate(rows, start=r0 + 1):
        for j, v in enumerate(row):
            if isinstance(v, dt.date):
                ws.write_datetime(i, j, dt.datetime(v.year, v.month, v.day), date_fmt)
            elif v is not None:
                ws.write(i, j, v)
    if total:
        ws.write_row(r0 + 1 + len(rows), 0, ["合计", None, None, None, None, 999, 9.5])
    wb.close()
    return path


def test_xlsx_firm_frame_values(tmp_path):
    loaded = read_firms(_xlsx(tmp_path / "firms.xlsx", _rows()))
    f = loaded.frame
    assert list(f.columns[: len(FIRM_COLUMNS)]) == FIRM_COLUMNS
    assert list(f.columns[len(FIRM_COLUMNS):]) == ["序号", "重大安全环保事故"]
    assert f["source_row"].tolist() == [1, 2, 3]
    assert f["file_row"].tolist() == [4, 5, 6]  # Excel rows: title on 1, header on 3
    assert f["uscc"].tolist() == [U1, BAD, U3]
    assert f["uscc_raw"].tolist() == [U1, BAD, U3.lower()]
    assert f["uscc_valid"].tolist() == [True, False, True]
    assert f["name"].tolist() == ["甲公司", "乙公司", "丙公司"]
    assert f["parcel_ids"].tolist() == ["511302001001GB00001;511302001001GB00002", "", "511302001001GB00003"]
    assert f["scale"].tolist() == ["above", "below", "below"]
    np.testing.assert_allclose(f["revenue_wan"], [1234.5, np.nan, 0.1234], rtol=1e-12)
    np.testing.assert_allclose(f["tax_wan"], [12.5, -3.0, 0.0], rtol=1e-12)
    np.testing.assert_allclose(f["electricity_10k_kwh"], [10.0, np.nan, np.nan], rtol=1e-12)
    np.testing.assert_allclose(f["reported_land_mu"], [10.0, np.nan, 15.0], rtol=1e-12)
    np.testing.assert_allclose(f["land_share"], [0.5, np.nan, 0.3], rtol=1e-12)
    np.testing.assert_allclose(f["occupied_m2"], [1200.0, np.nan, np.nan], rtol=1e-12)
    np.testing.assert_allclose(f["energy_tce"], [1000.0, np.nan, np.nan], rtol=1e-12)
    np.testing.assert_allclose(f["employees"], [30.0, np.nan, np.nan], rtol=1e-12)
    assert f["output_wan"].isna().all() and f["rd_wan"].isna().all()
    assert f["industry_code"].tolist() == ["3670", "C3670", None]
    assert f["park"].tolist() == ["南充经开区", None, None]
    assert f["established"].tolist() == [pd.Timestamp("2020-05-01"), pd.Timestamp("2020-01-01"),
                                         pd.Timestamp("2019-05-01")]
    np.testing.assert_allclose(f["lon"], [106.1, np.nan, np.nan])
    np.testing.assert_allclose(f["lat"], [30.8, np.nan, 30.1])
    assert f["year"].tolist() == [2023, 2023, pd.NA]
    assert f["重大安全环保事故"].tolist()[0] == "否"
    dtypes = f.dtypes.astype(str).to_dict()
    assert dtypes["source_row"] == dtypes["file_row"] == "int64"
    assert dtypes["uscc"] == dtypes["parcel_ids"] == dtypes["name"] == "object"
    assert (dtypes["uscc_valid"], dtypes["established"], dtypes["year"]) == ("bool", "datetime64[ns]", "Int64")

    r = loaded.recon
    got = sorted(zip(r["problem_code"], r["source_row"].astype(object), r["file_row"].astype(object),
                     r["column"], r["action"]))
    assert got == sorted([
        ("BAD_USCC", 2, 5, "统一社会信用代码", "kept"),
        ("PARCEL_ID_SCIENTIFIC", 2, 5, "宗地代码", "kept"),
        ("NEGATIVE_VALUE", 2, 5, "税收（万元）", "kept"),
        ("BAD_NUMBER", 2, 5, "综合能耗", "kept"),
        ("BAD_COORDINATE", 3, 6, "经度", "kept"),
        ("TOTAL_ROW", 4, 7, "企业名称", "dropped"),
    ])
    assert set(r["source"]) == {"firms"}
    bad = r[r["problem_code"] == "BAD_USCC"].iloc[0]
    assert bad["key"] == BAD and BAD in bad["problem_zh"] and BAD in bad["problem_en"]
    assert "abc" in r[r["problem_code"] == "BAD_NUMBER"].iloc[0]["problem_zh"]

    m = loaded.meta
    assert (m["sheet"], m["header_row"], m["encoding"], m["n_rows"]) == ("企业", 3, "xlsx", 3)
    assert m["columns"]["营业收入（元）"] == "revenue_wan" and m["units"]["营业收入（元）"] == 1e-4
    assert m["present"] == ["uscc", "name", "parcel_id", "scale", "revenue_wan", "tax_wan", "energy_tce",
                            "electricity_10k_kwh", "employees", "reported_land_mu", "occupied_m2", "land_share",
                            "industry_code", "park", "established", "lon", "lat", "year"]
    assert len(m["sha256"]) == 64


def test_csv_gbk_reads_the_same_as_xlsx(tmp_path):
    x = read_firms(_xlsx(tmp_path / "f.xlsx", _rows(), title=False, total=False)).frame
    df = pd.DataFrame(_rows(), columns=HEADER).astype(object)
    df["成立日期"] = ["2020-05-01", "43831", "2019年5月1日"]
    df["宗地代码"] = ["511302001001GB00001；511302001001gb00002", "5.11302E+18", BDCDYH]
    p = tmp_path / "f.csv"
    p.write_bytes(df.to_csv(index=False).encode("gbk"))
    loaded = read_firms(p)
    c = loaded.frame
    assert loaded.meta["encoding"] == "gbk"
    assert c["file_row"].tolist() == [2, 3, 4]
    skip = {"file_row", "序号", "行业代码", "industry_code"}
    pd.testing.assert_frame_equal(c.drop(columns=list(skip & set(c.columns))),
                                  x.drop(columns=list(skip & set(x.columns))), check_dtype=False)


def test_title_unit_applies_to_money_columns_without_unit(tmp_path):
    p = tmp_path / "f.csv"
    p.write_text("企业数据（单位：元）\n企业名称,宗地代码,营业收入,税收(万元),用电量\n甲,A1,20000,3,5\n",
                 encoding="utf-8")
    f = read_firms(p).frame
    assert (f["revenue_wan"].iloc[0], f["tax_wan"].iloc[0], f["electricity_10k_kwh"].iloc[0]) == (2.0, 3.0, 5.0)


def test_empty_table_has_every_column(tmp_path):
    p = tmp_path / "f.csv"
    p.write_text("企业名称,统一社会信用代码,备注\n", encoding="utf-8")
    loaded = read_firms(p)
    assert len(loaded.frame) == 0
    assert list(loaded.frame.columns) == [*FIRM_COLUMNS, "备注"]
    assert str(loaded.frame["established"].dtype) == "datetime64[ns]"
    assert len(loaded.recon) == 0


def test_no_linking_column_is_an_input_error(tmp_path):
    p = tmp_path / "f.csv"
    p.write_text("企业名称,税收\n甲,1\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_firms(p)
    msg = e.value.message("zh")
    assert "宗地代码" in msg and "统一社会信用代码" in msg and "经度" in msg and "用地面积" in msg
    assert e.value.file == str(p) and e.value.row == 1
    assert "parcel code" in e.value.message("en")


@pytest.mark.parametrize("header", ["统一社会信用代码", "宗地编码", "用地面积", "经度,纬度"])
def test_any_one_linking_column_is_enough(tmp_path, header):
    p = tmp_path / "f.csv"
    values = ",".join(["1"] * (header.count(",") + 1))
    p.write_text(f"企业名称,{header}\n甲,{values}\n", encoding="utf-8")
    assert len(read_firms(p).frame) == 1


def test_english_headers_and_previous_firms_source(tmp_path):
    p = tmp_path / "f.csv"
    p.write_text(f"Credit Code,Name,Parcel ID,Tax,Revenue (yuan)\n{U1},A Ltd,x-1 ,1,\"10,000\"\n",
                 encoding="utf-8")
    loaded = read_firms(p, source="previous_firms")
    f = loaded.frame
    assert (f["uscc"].iloc[0], f["name"].iloc[0], f["parcel_ids"].iloc[0]) == (U1, "A Ltd", "X1")
    assert (f["tax_wan"].iloc[0], f["revenue_wan"].iloc[0]) == (1.0, 1.0)
    assert loaded.meta["source"] == "previous_firms"


def test_unknown_unit_and_duplicate_column_notes(tmp_path):
    p = tmp_path / "f.csv"
    p.write_text("宗地代码,税收,评价税收,营业收入(含税)\nA,1,2,3\n", encoding="utf-8")
    loaded = read_firms(p)
    r = loaded.recon
    assert sorted(r["problem_code"]) == ["DUPLICATE_COLUMN", "UNKNOWN_UNIT"]
    assert r["source_row"].isna().all()
    f = loaded.frame
    assert (f["tax_wan"].iloc[0], f["revenue_wan"].iloc[0], f["评价税收"].iloc[0]) == (1.0, 3.0, "2")


def test_uscc_in_scientific_notation_is_listed_not_guessed(tmp_path):
    p = tmp_path / "f.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet()
    ws.write_row(0, 0, ["统一社会信用代码", "企业名称"])
    ws.write_row(1, 0, [915113000000000000, "甲"])
    wb.close()
    loaded = read_firms(p)
    assert loaded.frame["uscc"].tolist() == [None]
    assert loaded.frame["uscc_raw"].tolist() == ["9.15113e+17"]
    assert loaded.recon["problem_code"].tolist() == ["USCC_SCIENTIFIC"]


def test_missing_file(tmp_path):
    with pytest.raises(InputError):
        read_firms(tmp_path / "none.xlsx")


# --- lazy messages and the trailing-total scan ---


def test_recorder_quotes_only_the_flagged_rows():
    from parkland.io.firms import Recorder

    raw = pd.DataFrame({"source_row": [1, 2, 3], "file_row": [2, 3, 4]}, index=[10, 11, 12])
    rec = Recorder("firms", raw, pd.Series(["k1", None, "k3"], index=raw.index, dtype=object))

    class Unquotable:  # a cell whose text would fail: it must not be quoted when its row is not flagged
        def __str__(self):
            raise AssertionError("quoted an unflagged row")

    cells = pd.Series([1234.0, Unquotable(), "  x  y "], index=raw.index, dtype=object)
    rec.rows("BAD_NUMBER", pd.Series([True, False, True], index=raw.index), "无法识别的数字「{}」，按缺失处理",
             "unreadable number '{}', treated as missing", "kept", "营业收入", quote=cells)
    rec.rows("NONE", pd.Series([False] * 3, index=raw.index), "「{}」", "'{}'", "kept", "x", quote=cells)
    out = rec.result()
    assert out["problem_zh"].tolist() == ["无法识别的数字「1234」，按缺失处理", "无法识别的数字「  x  y 」，按缺失处理"]
    assert out["problem_en"].tolist() == ["unreadable number '1234', treated as missing",
                                          "unreadable number '  x  y ', treated as missing"]
    assert out["file_row"].tolist() == [2, 4] and out["key"].tolist() == ["k1", "k3"]


def test_trailing_totals_scan_a_long_run_and_ignore_totals_above_it():
    from parkland.io.firms import trailing_totals

    names = ["甲", "合计", "乙"] + [f"丙{i}" for i in range(60)] + ["小计"] * 20 + ["合 计", "Total:", "总计"]
    raw = pd.DataFrame({"企业名称": names, "信用代码": [None] * len(names)})
    got = trailing_totals(raw, ["企业名称", "信用代码"])
    assert got.dtype == bool and got.index.equals(raw.index)
    assert got.tolist() == [False] * 63 + [True] * 23
    assert trailing_totals(raw.iloc[:63], ["企业名称"]).sum() == 0
    assert trailing_totals(pd.DataFrame({"a": ["合计"] * 100}), ["a"]).tolist() == [True] * 100
    assert trailing_totals(raw.iloc[:0], ["企业名称"]).tolist() == []


def test_uscc_shares_the_string_of_uscc_raw_when_equal(tmp_path):
    p = tmp_path / "firms.csv"
    good = make("91511300MA6000001")
    p.write_text(f"企业名称,统一社会信用代码,宗地代码,税收（万元）\n甲,{good},A1,1\n乙,{good[:9]} {good[9:]},A2,2\n丙,,A3,3\n",
                 encoding="utf-8")
    f = read_firms(p).frame
    assert f["uscc"].tolist() == [good, good, None]
    assert f["uscc_raw"].tolist() == [good, f"{good[:9]} {good[9:]}", None]
    assert f["uscc"].iloc[0] is f["uscc_raw"].iloc[0]  # one string object: pickled once
    assert f["tax_wan"].tolist() == [1.0, 2.0, 3.0]
