"""The 企业-宗地对应表: one row per (firm, parcel), shares, dropped rows, missing columns."""

from __future__ import annotations

import numpy as np
import pytest
import xlsxwriter

from parkland.errors import InputError
from parkland.io.links import LINK_COLUMNS, read_links
from parkland.uscc import make

U1 = make("91511300MA6000001")
U2 = make("91511300MA6000002")


def test_links_split_cells_and_convert_units(tmp_path):
    p = tmp_path / "links.csv"
    p.write_text("企业-宗地对应表\n"
                 "统一社会信用代码,企业名称,宗地代码,用地比例(%),租用面积（亩）\n"
                 f"{U1},甲,\"A1；a-2、A1\",50,\n"
                 f"{U2},乙,A1,,1.5\n"
                 ",,A3,,\n"
                 f"{U1},甲,,,\n"
                 f"{U2[:-1]}0,丙,511302001001GB00001F00010001,１０,\n"
                 "合计,,,,\n", encoding="gbk")
    loaded = read_links(p)
    f = loaded.frame
    assert list(f.columns) == LINK_COLUMNS
    assert f["source_row"].tolist() == [1, 1, 2, 5]
    assert f["file_row"].tolist() == [3, 3, 4, 7]
    assert f["uscc"].tolist() == [U1, U1, U2, U2[:-1] + "0"]
    assert f["uscc_valid"].tolist() == [True, True, True, U2[-1] == "0"]
    assert f["name"].tolist() == ["甲", "甲", "乙", "丙"]
    assert f["parcel_id"].tolist() == ["A1", "A2", "A1", "511302001001GB00001"]
    np.testing.assert_allclose(f["land_share"], [0.5, 0.5, np.nan, 0.1], rtol=1e-12)
    np.testing.assert_allclose(f["occupied_m2"], [np.nan, np.nan, 1000.0, np.nan], rtol=1e-12)
    r = loaded.recon
    got = sorted(zip(r["problem_code"], r["source_row"].astype(object), r["action"]))
    expect = [("MISSING_FIRM", 3, "dropped"), ("MISSING_PARCEL_ID", 4, "dropped"),
              ("SHARE_ON_SEVERAL_PARCELS", 1, "kept"), ("TOTAL_ROW", 6, "dropped")]
    if U2[-1] != "0":
        expect.append(("BAD_USCC", 5, "kept"))
    assert got == sorted(expect)
    assert set(r["source"]) == {"links"}
    assert loaded.meta["encoding"] == "gbk" and loaded.meta["n_links"] == 4


def test_links_from_xlsx_with_numeric_codes(tmp_path):
    p = tmp_path / "links.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet("对应表")
    ws.write_row(0, 0, ["Credit Code", "Parcel ID", "Share"])
    ws.write_row(1, 0, [U1, 511302001001, 0.25])
    wb.close()
    f = read_links(p, sheet="对应表").frame
    assert f["parcel_id"].tolist() == ["511302001001"] and f["land_share"].tolist() == [0.25]
    assert f["name"].tolist() == [None]


@pytest.mark.parametrize(("header", "missing"), [("企业名称,宗地代码", "统一社会信用代码"),
                                                 ("统一社会信用代码,企业名称", "宗地代码")])
def test_links_need_credit_code_and_parcel_code(tmp_path, header, missing):
    p = tmp_path / "l.csv"
    p.write_text(f"{header}\n甲,A\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_links(p)
    assert missing in e.value.zh and e.value.file == str(p)


def test_empty_links_table(tmp_path):
    p = tmp_path / "l.csv"
    p.write_text("统一社会信用代码,宗地代码,用地比例\n", encoding="utf-8")
    loaded = read_links(p)
    assert len(loaded.frame) == 0 and list(loaded.frame.columns) == LINK_COLUMNS
