"""report/lists.py: code columns spelled out as labels, once per distinct code."""

from __future__ import annotations

import numpy as np
import pandas as pd

from parkland.report.lists import spell_out


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "status": pd.Series(["graded", None, 3, "unknown_code", np.nan, "no_land", "graded"], dtype=object),
        "track": pd.Series(["above", "below", None, "above", "x", "below", "above"], dtype="str"),
        "link_method": pd.Series(["code", "code", "code", None, "code", "code", "code"], dtype=object),
        "tier": [1.5, np.nan, 2.0, 3.0, np.nan, 1.0, 2.0],
        "name": ["graded"] * 7,  # not a code column: left as it is
    }).set_axis([10, 3, 7, 0, 1, 2, 99])


def test_codes_become_labels_and_the_rest_stays() -> None:
    df = _frame()
    zh = spell_out(df, "zh")
    assert zh["status"].tolist()[:4] == ["已评价", None, 3, "unknown_code"]
    assert pd.isna(zh["status"].iloc[4]) and zh["status"].tolist()[5:] == ["无用地", "已评价"]
    assert zh["track"].tolist()[:2] == ["规上", "规下"] and pd.isna(zh["track"].iloc[2])
    assert zh["track"].tolist()[3:] == ["规上", "x", "规下", "规上"]
    assert zh["link_method"].tolist() == ["宗地代码"] * 3 + [None] + ["宗地代码"] * 3
    # numbers in a code column are not codes: the same values (the column is object, as every code column)
    np.testing.assert_array_equal(zh["tier"].astype(float).to_numpy(), df["tier"].to_numpy())
    assert zh["name"].tolist() == ["graded"] * 7
    assert list(zh.index) == [10, 3, 7, 0, 1, 2, 99] and zh["status"].dtype == object
    en = spell_out(df, "en")
    assert en["status"].tolist()[0] == "graded" and en["status"].tolist()[5] == "no land"
    assert en["track"].tolist()[:2] == ["above size", "below size"]
    assert df["status"].tolist()[0] == "graded"  # the input frame is not changed


def test_notice_list_reads_only_its_columns() -> None:
    """The notice list filters and sorts only the columns it shows: other columns change nothing, the
    raw credit code fills a missing one, extra columns follow the grade."""
    from parkland.report.lists import notice_list

    firms = pd.DataFrame({
        "name": ["乙", "甲", "丙", "丁"], "uscc": ["U2", None, "U3", "U4"], "uscc_raw": ["r2", "r1", "r3", "r4"],
        "park": ["B", "A", "A", None], "grade": ["A", "B", "A", "C"],
        "status": ["graded", "exempt", "graded", "excluded"], "county": ["c2", "c1", "c3", "c4"],
        "tax_wan": [1.0, 2.0, 3.0, 4.0],
    })
    nt = notice_list(firms, "zh", ["county", "county"])
    assert nt.columns.tolist() == ["name", "uscc", "park", "grade", "county", "county"]
    assert nt.values.tolist() == [["丙", "U3", "A", "A", "c3", "c3"], ["甲", "r1", "A", "B", "c1", "c1"],
                                  ["乙", "U2", "B", "A", "c2", "c2"]]
    more = firms.assign(other=[object()] * 4)
    pd.testing.assert_frame_equal(notice_list(more, "zh", ["county"]), notice_list(firms, "zh", ["county"]))
