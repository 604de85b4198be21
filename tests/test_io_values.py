"""Cell parsers: numbers, codes, dates, text, 规上/规下, years."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from parkland.io import values as V


def test_parse_numbers_as_people_type_them():
    cells = pd.Series(["1,234.5", "１２３", "  7 ", "—", "-", "/", "", None, "abc", "-5", "12%", "(3)", "inf",
                       "１，０００．５", "¥1,000", "+2", "12.5万", "0"])
    v, bad = V.parse_numbers(cells)
    expect = [1234.5, 123.0, 7.0, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, -5.0, 0.12, -3.0, np.nan,
              1000.5, 1000.0, 2.0, np.nan, 0.0]
    np.testing.assert_array_equal(v.to_numpy(), np.array(expect))
    assert bad.tolist() == [False] * 8 + [True] + [False] * 3 + [True] + [False] * 3 + [True, False]
    assert v.dtype == np.float64


def test_parse_numbers_numeric_and_mixed_input():
    v, bad = V.parse_numbers(pd.Series([1, 2, None], dtype=object))
    np.testing.assert_array_equal(v.to_numpy(), [1.0, 2.0, np.nan])
    assert not bad.any()
    v, bad = V.parse_numbers(pd.Series([1.5, np.inf, np.nan]))
    np.testing.assert_array_equal(v.to_numpy(), [1.5, np.nan, np.nan])
    assert bad.tolist() == [False, True, False]


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).map(lambda x: round(x, 2)))
def test_parse_numbers_thousands_round_trip(x):
    v, bad = V.parse_numbers(pd.Series([f"{x:,.2f}", f" {x:.2f} "]))
    assert not bad.any()
    assert v.tolist() == [float(f"{x:.2f}")] * 2


def test_normalise_codes():
    cells = pd.Series(["９１５１ 0100-mA6", "123.0", 5.11302e18, 123.0, None, " ", "'0123", '="0456"',
                       "c3670", "511302 001001 GB00001"])
    got = V.normalise_codes(cells)
    assert got.tolist() == ["91510100MA6", "123", "5.11302E+18", "123", None, None, "0123", "0456", "C3670",
                            "511302001001GB00001"]
    assert V.scientific_mask(got).tolist() == [False, False, True] + [False] * 7
    assert got.dtype == object


def test_split_and_join_codes():
    cells = pd.Series(["A;b", "c，d、E\nF", None, "G", "", "H;", "x,x ; y"], index=[10, 11, 12, 13, 14, 15, 16])
    long = V.split_codes(cells)
    assert list(zip(long.index, long)) == [(10, "A"), (10, "B"), (11, "C"), (11, "D"), (11, "E"), (11, "F"),
                                           (13, "G"), (15, "H"), (16, "X"), (16, "X"), (16, "Y")]
    joined = V.join_codes(long, cells.index)
    assert joined.tolist() == ["A;B", "C;D;E;F", "", "G", "", "H", "X;Y"]


def test_parcel_codes_cut_28_to_19():
    bdcdyh = "511302001001GB00001F00010001"  # 28 characters
    assert len(bdcdyh) == 28
    got = V.parcel_codes(pd.Series([bdcdyh, "511302001001GB00001", None]))
    assert got.tolist() == ["511302001001GB00001", "511302001001GB00001", None]


def test_parse_dates_every_written_form():
    cells = pd.Series(["2023-05-01", "2023/5/1", "2023.05.01", "2023年5月1日", "45047", 45047.0, "20230501",
                       "2023-05-01 12:30:00", "2019年5月", "2019", "xx", "", None, dt.date(2023, 5, 1),
                       dt.datetime(2023, 5, 1, 10), "2023-13-01", "２０２３－０５－０１", "2023年05月01号"],
                      dtype=object)
    d, bad = V.parse_dates(cells)
    may1 = pd.Timestamp("2023-05-01")
    expect = [may1] * 8 + [pd.Timestamp("2019-05-01"), pd.Timestamp("2019-01-01"), pd.NaT, pd.NaT, pd.NaT,
                           may1, may1, pd.NaT, may1, may1]
    assert d.tolist() == expect
    assert bad.tolist() == [False] * 10 + [True, False, False, False, False, True, False, False]
    assert str(d.dtype) == "datetime64[ns]"


def test_parse_dates_passes_datetime_columns():
    s = pd.Series(pd.to_datetime(["2020-02-03 10:00", None]))
    d, bad = V.parse_dates(s)
    assert d.tolist()[0] == pd.Timestamp("2020-02-03")
    assert pd.isna(d.tolist()[1]) and not bad.any()
    d, _ = V.parse_dates(pd.Series([44927, np.nan]))  # numeric Excel serials
    assert d.tolist()[0] == pd.Timestamp("2023-01-01")


def test_parse_scale_and_year():
    s, bad = V.parse_scale(pd.Series(["规上", "规下", "是", "否", "Yes", None, "x", "规模以上", "—"]))
    assert s.tolist() == ["above", "below", "above", "below", "above", None, None, "above", None]
    assert bad.tolist() == [False] * 6 + [True, False, False]
    y, bad = V.parse_year(pd.Series(["2023", "2023年", 2023.0, "x", None, "2023.5", "２０２２年度"], dtype=object))
    assert y.tolist() == [2023, 2023, 2023, pd.NA, pd.NA, pd.NA, 2022]
    assert bad.tolist() == [False, False, False, True, False, True, False]
    assert str(y.dtype) == "Int64"


def test_to_text_and_normalise_text():
    cells = pd.Series([1.0, "a", dt.date(2020, 1, 2), 1.5, None, "", True, 1e16, dt.datetime(2020, 1, 2, 3, 4, 5)],
                      dtype=object)
    assert V.to_text(cells).tolist() == ["1", "a", "2020-01-02", "1.5", None, None, "是", "1e+16",
                                         "2020-01-02 03:04:05"]
    assert V.to_text(pd.Series([3, 4])).tolist() == ["3", "4"]
    assert V.normalise_text(pd.Series(["  甲 \u3000 公司 ", "", None, "乙（成都）有限公司"])).tolist() == [
        "甲 公司", None, None, "乙（成都）有限公司"]


def test_valid_codes_with_e_are_not_scientific():
    # real credit codes may hold "E" between digits; Excel's notation always carries a sign
    codes = pd.Series(["9151130230607212E1", "915113020802936E66", "9.15113E+17", "5E+18"])
    assert V.scientific_mask(codes).tolist() == [False, False, True, True]


# --- the vectorised paths (same results as the cell-by-cell forms they replace) ---


def test_nfkc_only_touches_non_ascii_cells_and_matches_str_normalize():
    cells = pd.Series(["abc", "１２３", "ＡＢ c", None, "ﬁ", "e\u0301", "①", "㎡", "", "abc", "１２３", "規"],
                      dtype="str")
    got = V._nfkc(cells)
    assert got.drop(index=3).tolist() == ["abc", "123", "AB c", "fi", "\u00e9", "1", "m2", "", "abc", "123", "規"]
    assert got.isna().tolist() == [False, False, False, True] + [False] * 8
    pd.testing.assert_series_equal(got, cells.str.normalize("NFKC"), check_exact=True)
    ascii_only = pd.Series(["a", None, "b"], dtype="str")
    pd.testing.assert_series_equal(V._nfkc(ascii_only), ascii_only)
    assert V._nfkc(pd.Series([], dtype="str")).tolist() == []


def test_codes_without_any_marker_skip_the_replacements():
    cells = pd.Series(["９１５１", "a-b", "A B", '="0456"', "“X1”", "12.00", "12.50", "1.2E+05", "plain"])
    assert V.normalise_codes(cells).tolist() == ["9151", "AB", "AB", "0456", "X1", "12", "12.50", "1.2E+05",
                                                 "PLAIN"]


def test_join_codes_by_position_keeps_first_order_and_drops_repeats():
    long = pd.Series(["B", "A", "B", "C", "A", "D", "D"], index=[5, 5, 5, 7, 6, 8, 8])
    got = V.join_codes(long, pd.Index([5, 6, 7, 8, 9]))
    assert got.tolist() == ["B;A", "A", "C", "D", ""]
    assert got.dtype == object
    # rows not in row order; a code that is not text takes the label-based path
    got = V.join_codes(pd.Series(["x", "y", "x"], index=[2, 1, 2]), pd.Index([1, 2]))
    assert got.tolist() == ["y", "x"]
    got = V.join_codes(pd.Series(["x", 7, "x"], index=[1, 2, 1], dtype=object), pd.Index([1, 2, 3]))
    assert got.tolist() == ["x", 7, ""]
    assert V.join_codes(pd.Series([], dtype=object), pd.Index([3])).tolist() == [""]


def test_join_codes_on_a_unique_index_by_position():
    codes = pd.Series(["a", "b", "c", "a", "d", "e"], index=[10, 10, 12, 10, 12, 13], dtype=object)
    out = V.join_codes(codes, pd.Index([10, 11, 12, 13, 14]))
    assert out.tolist() == ["a;b", "", "c;d", "e", ""] and out.index.tolist() == [10, 11, 12, 13, 14]


def test_parse_scale_is_parsed_once_per_distinct_text():
    cells = pd.Series(["规上", "规上", " 规 上 ", "x", "x", None, "", "否", "ＹＥＳ"] * 3, index=range(100, 127))
    s, bad = V.parse_scale(cells)
    assert s.tolist() == ["above", "above", "above", None, None, None, None, "below", "above"] * 3
    assert bad.tolist() == [False, False, False, True, True, False, False, False, False] * 3
    assert s.index.tolist() == bad.index.tolist() == list(range(100, 127))
    assert bad.dtype == bool
    empty, bad = V.parse_scale(pd.Series([], dtype=object))
    assert empty.tolist() == [] and bad.tolist() == []


def test_extract_matches_pandas_extract():
    t = pd.Series(["2023-5-1", "2023年5月", "2023/05/", "x", "", "20230501", "2023-5-1-"], dtype="str")
    pat = "^(?P<g0>[0-9]{4})[-年/](?P<g1>[0-9]{1,2})(?:[-月/]?(?P<g2>[0-9]{1,2}))?[-月/]?$"
    got = V._extract(t, pat)
    want = t.str.extract(pat)
    assert got.isna().to_numpy().tolist() == want.isna().to_numpy().tolist()
    assert got[0].tolist()[:3] == ["2023"] * 3 and got[1].tolist()[:3] == ["5", "5", "05"]
    assert got[2].iloc[0] == "1" and pd.isna(got[2].iloc[1])


def test_excel_serial_beyond_what_a_date_column_holds_is_a_bad_date() -> None:
    """Excel serials go to 2958465 (9999-12-31); a datetime64[ns] column ends at 2262-04-11 (serial
    132320): a later serial is listed as a bad date instead of stopping the reader."""
    from parkland.io.values import parse_dates

    d, bad = parse_dates(pd.Series(["450000", "45000", "132320", "132321", None], dtype=object))
    assert d.tolist()[1:3] == [pd.Timestamp("2023-03-15"), pd.Timestamp("2262-04-11")]
    assert d.isna().tolist() == [True, False, False, True, True]
    assert bad.tolist() == [True, False, False, True, False]
    d, bad = parse_dates(pd.Series([2958465, 45000.0]))
    assert d.isna().tolist() == [True, False] and bad.tolist() == [True, False]


def test_parse_date_columns_reads_every_column_as_parse_dates_does():
    """Text columns are parsed together, once per distinct cell text: the same dates and bad masks as
    parse_dates of each column read on its own (object cells), on each column's own index."""
    texts = ["2023-05-01", " 2023/5/1 ", "2023年5月1日", "20230501", "xx", "", None, "２０２３－０５－０１", "45047",
             "2019", "—", "2023-13-01", "2023-05-01 12:30"]
    a = pd.Series(texts * 3, dtype="str", index=range(100, 139))
    b = pd.Series(texts[::-1] * 2 + ["2020-02-29"], dtype="str")
    c = pd.Series([45047.0, np.nan, 2019.0])  # a number column takes its own path
    got = V.parse_date_columns([a, b, c])
    for col, (d, bad) in zip((a, b, c), got):
        want_d, want_bad = V.parse_dates(col.astype(object) if col.dtype != "float64" else col)
        pd.testing.assert_series_equal(d, want_d, check_exact=True)
        pd.testing.assert_series_equal(bad, want_bad, check_exact=True)
        assert d.index.equals(col.index) and str(d.dtype) == "datetime64[ns]"
    d, bad = got[0]
    may1 = pd.Timestamp("2023-05-01")
    assert d.tolist()[:13] == [may1] * 4 + [pd.NaT] * 3 + [may1, may1, pd.Timestamp("2019-01-01"), pd.NaT,
                                                             pd.NaT, may1]
    assert bad.tolist()[:13] == [False] * 4 + [True] + [False] * 6 + [True, False]
    assert got[1][0].iloc[-1] == pd.Timestamp("2020-02-29")
    assert V.parse_date_columns([]) == []


def test_normalise_text_per_distinct_text_of_a_long_column():
    """A long text column whose cells repeat is normalised once per distinct text: the same Python
    strings and None as cell by cell, on the column's index and name."""
    cells = ["  甲 \u3000 公司 ", "", None, "乙（成都）有限公司", "园区\xa03", " ", "园区\xa03"] * 600
    s = pd.Series(cells, dtype="str", index=range(5, 4205), name="园区")
    got = V.normalise_text(s)
    want = V.normalise_text(s.astype(object))  # object cells: cell by cell
    pd.testing.assert_series_equal(got, want, check_exact=True)
    assert got.tolist()[:7] == ["甲 公司", None, None, "乙（成都）有限公司", "园区 3", None, "园区 3"]
    assert got.name == "园区" and got.dtype == object and got.index.equals(s.index)
    assert {type(v) for v in got} == {str, type(None)}


def test_plain_numbers_equal_to_numeric_bit_for_bit():
    # Arrow's cast is used for columns of plain decimals of at most 15 digits: the same bits as pandas
    rng = np.random.default_rng(7)
    cells = []
    for _ in range(20000):
        digits = "".join(map(str, rng.integers(0, 10, rng.integers(1, 16))))
        k = int(rng.integers(1, len(digits) + 1))
        cells.append(("-" if rng.random() < 0.3 else "") + digits[:k] + ("." + digits[k:] if k < len(digits) else ""))
    cells = [c for c in cells if c.lstrip("-").strip("0.") != "" or not c.startswith("-")] + [None]
    s = pd.Series(cells, dtype="str")
    fast = V._plain_numbers(s)
    want = pd.to_numeric(s, errors="coerce").astype("float64").to_numpy()
    assert fast is not None and np.isnan(fast[-1])
    assert np.array_equal(fast.view("i8"), want.view("i8"))
    v, bad, pct = V._parse_numbers(s)
    assert np.array_equal(v.to_numpy().view("i8"), want.view("i8")) and not bad.any() and not pct.any()


def test_plain_numbers_leave_other_columns_to_pandas():
    for cells in (["1", "-0"], ["1", "-0.00"], ["1234567890123456"], ["1", "1e5"], ["1", " 2"], ["1", "1."],
                  ["1", "+2"], ["1", "1,234"], [None, None]):
        assert V._plain_numbers(pd.Series(cells, dtype="str")) is None
    assert V._plain_numbers(pd.Series(["1", "2"], dtype=object)) is None
    # "-0" alone is an integer to pandas (+0.0), beside a fraction −0.0: the pandas path keeps both readings
    v, _, _ = V._parse_numbers(pd.Series(["-0", "1"], dtype="str"))
    assert np.signbit(v.to_numpy()).tolist() == [False, False]
    v, _, _ = V._parse_numbers(pd.Series(["-0", "1.5"], dtype="str"))
    assert np.signbit(v.to_numpy()).tolist() == [True, False]
