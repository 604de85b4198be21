"""indicators.ratio: num / den, missing for a missing input or a denominator ≤ 0, on every input kind."""

from __future__ import annotations

import numpy as np
import pandas as pd

from parkland.indicators import ratio


def _same(got: np.ndarray, want: list[float]) -> None:
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, np.array(want, dtype=float))


def test_ratio_float_columns() -> None:
    _same(ratio(pd.Series([1.0, np.nan, -2.0, 3.0, 5.0]), pd.Series([2.0, 0.0, 1.0, np.nan, -1.0])),
          [0.5, np.nan, -2.0, np.nan, np.nan])  # a refund stays negative; den ≤ 0 or missing → missing


def test_ratio_nullable_and_integer_columns() -> None:
    _same(ratio(pd.Series([1, 2, 3], dtype="Int64"), pd.Series([2.0, None, 4.0], dtype="Float64")),
          [0.5, np.nan, 0.75])
    _same(ratio(np.array([1, 2]), np.array([0.5, -1.0])), [2.0, np.nan])
    _same(ratio(pd.Series([np.inf, 1.0]), pd.Series([1.0, np.inf])), [np.nan, np.nan])


def test_ratio_text_and_booleans_as_before() -> None:
    _same(ratio(pd.Series(["1", "x", None], dtype=object), pd.Series([4.0, 1.0, 1.0])), [0.25, np.nan, np.nan])
    _same(ratio(pd.Series([True, False]), pd.Series([2.0, 2.0])), [0.5, 0.0])
