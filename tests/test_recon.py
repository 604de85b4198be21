"""recon.py: reconciliation records keep every row, in order, with text columns as text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parkland import recon


def test_records_broadcast_and_text_columns() -> None:
    r = recon.records("firms", "BAD_CODE", "信用代码校验位错误", "bad check digit", "kept",
                      source_row=[2, 5, None], key=["911", 91511302, None], column="统一社会信用代码")
    assert list(r.columns) == recon.COLUMNS and len(r) == 3
    assert r["source_row"].tolist() == [2, 5, pd.NA] and str(r["source_row"].dtype) == "Int64"
    assert r["key"].tolist() == ["911", "91511302", ""]  # a number as its text, missing as ""
    assert r["column"].tolist() == ["统一社会信用代码"] * 3 and r["problem_code"].tolist() == ["BAD_CODE"] * 3
    assert r["file_row"].isna().all()
    with pytest.raises(ValueError):
        recon.records("firms", "X", "x", "x", "deleted")


def test_concat_keeps_order_and_skips_empty() -> None:
    a = recon.records("parcels", "A", "甲", "a", "dropped", source_row=[1])
    b = recon.records("firms", "B", "乙", "b", "repaired", source_row=[7, 8], key=[1.5, np.nan])
    out = recon.concat([a, None, recon.empty(), b])
    assert out["problem_code"].tolist() == ["A", "B", "B"] and out["source_row"].tolist() == [1, 7, 8]
    assert out["key"].tolist() == ["", "1.5", ""]
    assert recon.concat([]).columns.tolist() == recon.COLUMNS
    assert recon.render(out, "en")["problem"].tolist() == ["a", "b", "b"]
    assert recon.render(out)["problem"].tolist() == ["甲", "乙", "乙"]
