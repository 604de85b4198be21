"""Raw tables: CSV encodings and delimiters, Excel via calamine, header row found, bad files refused."""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
import pytest
import xlsxwriter

from parkland.errors import InputError
from parkland.io.tables import detect_encoding, read_table, sha256_file

CSV_TEXT = ("2023年度企业亩均效益数据\n"
            "\n"
            "企业名称,统一社会信用代码,税收（万元）,宗地代码\n"
            "甲公司,91511300MA6000001G,\"1,234.5\",A1\n"
            "\n"
            "乙公司（成都）,91511300MA6000002X,12,A2;A3\n")


def _cells(frame: pd.DataFrame, col: str) -> list:
    return [None if pd.isna(v) else v for v in frame[col]]


@pytest.mark.parametrize(("encoding", "label"), [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"),
                                                 ("gbk", "gbk"), ("utf-16", "utf-16")])
def test_csv_encodings_title_and_blank_rows(tmp_path, encoding, label):
    p = tmp_path / "firms.csv"
    p.write_bytes(CSV_TEXT.encode(encoding))
    t = read_table(p)
    assert t.meta["encoding"] == label
    assert t.meta["header_row"] == 3
    assert t.meta["title"] == "2023年度企业亩均效益数据"
    assert t.meta["headers"] == ["企业名称", "统一社会信用代码", "税收（万元）", "宗地代码"]
    f = t.frame
    assert f["source_row"].tolist() == [1, 2]
    assert f["file_row"].tolist() == [4, 6]  # CSV lines; the blank line 5 is not a record
    assert _cells(f, "企业名称") == ["甲公司", "乙公司（成都）"]
    assert _cells(f, "税收（万元）") == ["1,234.5", "12"]
    assert t.meta["sha256"] == hashlib.sha256(p.read_bytes()).hexdigest()


def test_gb18030_only_characters(tmp_path):
    p = tmp_path / "f.csv"
    text = "企业名称,宗地代码\n㐀䶮科技有限公司,A1\n"
    p.write_bytes(text.encode("gb18030"))
    t = read_table(p)
    assert t.meta["encoding"] == "gb18030"
    assert _cells(t.frame, "企业名称") == ["㐀䶮科技有限公司"]
    assert detect_encoding(text.encode("gb18030")) == "gb18030"


def test_tab_and_semicolon_delimiters(tmp_path):
    p = tmp_path / "f.tsv"
    p.write_text("企业名称\t宗地代码\n甲\tA;B\n", encoding="utf-8")
    t = read_table(p)
    assert (t.meta["delimiter"], _cells(t.frame, "宗地代码")) == ("\t", ["A;B"])
    p = tmp_path / "g.csv"
    p.write_text("企业名称;宗地代码;税收\n甲;A1;3\n", encoding="utf-8")
    t = read_table(p)
    assert (t.meta["delimiter"], _cells(t.frame, "税收")) == (";", ["3"])


def test_ragged_csv_rows_are_kept(tmp_path):
    p = tmp_path / "f.csv"
    p.write_text("企业名称,宗地代码\n甲,A1,extra\n乙\n", encoding="utf-8")
    t = read_table(p)
    assert _cells(t.frame, "企业名称") == ["甲", "乙"]
    assert _cells(t.frame, "宗地代码") == ["A1", None]
    assert _cells(t.frame, "列3") == ["extra", None]


def _workbook(path, sheets):
    wb = xlsxwriter.Workbook(str(path))
    fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if isinstance(v, dt.date):
                    ws.write_datetime(r, c, dt.datetime(v.year, v.month, v.day), fmt)
                elif v is not None:
                    ws.write(r, c, v)
    wb.close()


def test_xlsx_title_row_types_and_rows(tmp_path):
    p = tmp_path / "f.xlsx"
    _workbook(p, {"说明": [["本表说明"]],
                  "数据": [["南充市2023年亩均效益评价数据表"], [], [None, "单位：万元"],
                           ["企业名称", "宗地代码", "税收", "成立日期", "从业人员"],
                           ["甲", 123.0, 12.5, dt.date(2020, 5, 1), 30],
                           [],
                           ["乙", "5.11302E+18", -1, 43831, None]]})
    t = read_table(p)
    assert t.meta["sheet"] == "数据"  # the notes sheet has no header: skipped
    assert t.meta["sheets"] == ["说明", "数据"]
    assert t.meta["header_row"] == 4
    assert t.meta["title"] == "南充市2023年亩均效益评价数据表 单位：万元"
    f = t.frame
    assert f["file_row"].tolist() == [5, 7]
    assert f["source_row"].tolist() == [1, 2]
    assert _cells(f, "宗地代码") == ["123", "5.11302E+18"]
    assert _cells(f, "税收") == ["12.5", "-1"]
    assert _cells(f, "成立日期") == ["2020-05-01", "43831"]
    assert _cells(f, "从业人员") == ["30", None]


def test_xlsx_sheet_by_name_and_missing_sheet(tmp_path):
    p = tmp_path / "f.xlsx"
    _workbook(p, {"A": [["企业名称", "宗地代码"], ["甲", "X1"]], "B": [["企业名称", "宗地代码"], ["乙", "X2"]]})
    assert _cells(read_table(p, sheet="B").frame, "企业名称") == ["乙"]
    assert _cells(read_table(p, sheet=" b ").frame, "企业名称") == ["乙"]
    with pytest.raises(InputError) as e:
        read_table(p, sheet="企业")
    assert "A、B" in e.value.zh and "企业" in e.value.zh and e.value.file == str(p)
    assert "A, B" in e.value.en


def test_header_only_table(tmp_path):
    p = tmp_path / "f.csv"
    p.write_text("企业名称,宗地代码\n", encoding="utf-8")
    t = read_table(p)
    assert len(t.frame) == 0
    assert list(t.frame.columns) == ["source_row", "file_row", "企业名称", "宗地代码"]


@pytest.mark.parametrize(("name", "content", "words"), [
    ("f.xlsx", "企业名称,宗地代码\n甲,A\n".encode(), ["不是 Excel", "CSV"]),
    ("f.xlsx", bytes(range(256)) * 4, ["不是 Excel"]),
    ("f.csv", b"PK\x03\x04" + b"\0" * 100, ["Excel 工作簿", ".xlsx"]),
    ("f.dat", b"\0\1\2\3" * 100, ["不是文本表格"]),
])
def test_file_not_what_its_extension_says(tmp_path, name, content, words):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(InputError) as e:
        read_table(p)
    text = e.value.message("zh")
    assert all(w in text for w in words), text
    assert str(p) in text


def test_broken_xlsx_zip(tmp_path):
    p = tmp_path / "f.xlsx"
    p.write_bytes(b"PK\x03\x04" + b"garbage" * 50)
    with pytest.raises(InputError) as e:
        read_table(p)
    assert "无法读取 Excel 工作簿" in e.value.zh


def test_missing_file(tmp_path):
    with pytest.raises(InputError) as e:
        read_table(tmp_path / "nope.csv")
    assert "不存在" in e.value.zh and e.value.file.endswith("nope.csv")


def test_sha256_of_a_directory_is_stable(tmp_path):
    d = tmp_path / "x.gdb"
    d.mkdir()
    (d / "b").write_bytes(b"2")
    (d / "a").write_bytes(b"1")
    h = hashlib.sha256(b"a\x001b\x002").hexdigest()
    assert sha256_file(d) == h


def test_gbk_text_is_the_gb18030_text():
    # _decode keeps the GBK decoding instead of decoding again as GB18030: every one- and two-byte code
    # GBK accepts reads the same in both codecs (and GB18030's four-byte codes start with a second byte
    # 0x30-0x39, which is never a GBK trail byte, so both split a GBK text the same way)
    checked = 0
    for code in [bytes([b]) for b in range(256)] + [bytes([a, b]) for a in range(0x81, 0xFF) for b in range(0x40, 0xFF)]:
        try:
            text = code.decode("gbk")
        except UnicodeDecodeError:
            continue
        assert code.decode("gb18030") == text
        checked += 1
    assert checked > 21000  # 128 ASCII codes and the two-byte GBK codes


def test_decode_equals_detect_then_decode():
    from parkland.io.tables import _decode

    samples = ["企业名称,税收\n甲,1\n".encode("gbk"), "企业,1\n".encode(), "\ufeff企业,1\n".encode(),
               "企业,1\n".encode("utf-16"), "企业𠀇,1\n".encode("gb18030"), b"plain,1\n"]
    for data in samples:
        enc = detect_encoding(data)
        assert _decode(data, "x.csv") == (enc, data.decode("gb18030" if enc == "gbk" else enc))


def test_first_lines_equal_splitlines():
    from parkland.io.tables import _first_lines

    long = "".join(f"行{i},{i}" + ("\r\n" if i % 3 else "\n") for i in range(40000))
    for text in (long, long[: (1 << 16) - 1] + "\r\n" + long, "a\nb", "", "x" * 70000 + "\n" * 3):
        assert _first_lines(text, 50) == text.splitlines()[:50]


@pytest.mark.parametrize("text", [
    "标题\n\n企业名称,税收\n甲,1\n乙,\n,3\n",                 # title and blank line above the header
    "企业名称,税收\r\n甲,1\r\n乙,2\r\n\r\n\r\n",                # CRLF, blank lines at the end
    "企业名称\n甲\n\n乙\n",                                      # one column: a blank line is a record
    "企业名称,税收\n甲,1\n\n乙,2\n",                               # two: a record of empty fields
    "企业名称\t税收\n甲\t 1 \n乙\t\u3000\n",                     # tab, spaces kept
    "企业名称,税收\n甲,1\n",                                      # no final line break
])
def test_arrow_body_reads_as_pandas(text):
    from parkland.io.tables import _arrow_body, _pandas_body

    sep = "\t" if "\t" in text else ","
    h = 2 if text.startswith("标题") else 0
    width = len(text.splitlines()[h].split(sep))
    fast = _arrow_body(text, None, h, sep, width)
    slow, w = _pandas_body(text, h, sep, width)
    assert w == width
    n = len(fast)  # pandas reads the blank lines at the end as empty records (dropped later)
    assert slow.iloc[n:].eq("").all().all()
    pd.testing.assert_frame_equal(fast, slow.iloc[:n].astype("str"), check_exact=True)


@pytest.mark.parametrize("text", [
    '企业名称,税收\n"甲,乙",1\n',        # a quote
    "企业名称,税收\n甲\n",                # a short record
    "企业名称,税收\n甲,1,2\n",            # a long record
    "企业名称,税收\r甲,1\r",              # lone CR
    "企业名称,税收\n甲\x1a,1\n",          # a control character
    "标题\u2028\n企业名称,税收\n甲,1\n",   # a line break only splitlines knows, above the header
    "企业名称,税收\n",                     # no records
])
def test_arrow_body_leaves_other_texts_to_pandas(text):
    from parkland.io.tables import _arrow_body

    h = 1 if text.startswith("标题") else 0
    assert _arrow_body(text, None, h, ",", 2) is None


def test_csv_read_table_arrow_and_pandas_paths_agree(tmp_path):
    # the same table with and without a quoted cell: one goes through Arrow, the other through pandas
    rows = [f"企业{i},91511300MA6000001G,{i * 1.25},A{i}" for i in range(300)]
    head = "企业名称,统一社会信用代码,税收（万元）,宗地代码\n"
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_bytes((head + "\n".join(rows) + "\n").encode("gbk"))
    b.write_bytes((head + "\n".join(rows) + '\n"企业x",,,\n').encode("gbk"))
    ta, tb = read_table(a), read_table(b)
    pd.testing.assert_frame_equal(ta.frame, tb.frame.iloc[:300], check_exact=True)
    assert ta.meta["sha256"] == sha256_file(a) == hashlib.sha256(a.read_bytes()).hexdigest()
    assert tb.frame["企业名称"].iloc[300] == "企业x"
    assert ta.frame["税收（万元）"].iloc[3] == "3.75"


@pytest.mark.parametrize("first", ["\ufeff", "\ufeff甲"])
def test_a_zero_width_no_break_space_opening_the_records_is_kept(tmp_path, first):
    # Arrow's CSV reader drops a U+FEFF at the start of what it reads (a byte-order mark); after the
    # header it is a cell's own character, which pandas keeps: such a text is left to pandas
    from parkland.io.tables import _arrow_body

    text = f"企业名称,税收\n{first},1\n乙,2\n"
    assert _arrow_body(text, None, 0, ",", 2) is None
    p = tmp_path / "a.csv"
    p.write_bytes(("\ufeff" + text).encode())
    assert read_table(p).frame["企业名称"].tolist() == [first, "乙"]


def test_a_lone_carriage_return_ends_a_record_instead_of_stopping_the_run(tmp_path):
    """Lone CRs (old Mac line ends, or one inside an unquoted cell) once stopped the reader with the csv
    module's "new-line character seen in unquoted field"; they end a record, as in pandas' parser."""
    p = tmp_path / "cr.csv"
    p.write_bytes("企业名称,税收\n甲\r乙,1\n丙,2\n".encode())
    f = read_table(p).frame
    assert f["企业名称"].tolist() == ["甲", "乙", "丙"] and f["税收"].tolist()[1:] == ["1", "2"]
    p.write_bytes('企业名称,税收\r甲,1\r乙,"2"\r'.encode())
    assert read_table(p).frame["税收"].tolist() == ["1", "2"]
