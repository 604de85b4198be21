"""统一社会信用代码: check digit and the vectorised valid_mask (byte matrix via Arrow)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parkland.uscc import ALPHABET, check_digit, is_valid, make, valid_mask

#: the worked example of GB 32100-2015 (check digit 3)
EXAMPLE = "91350100M000100Y43"


def test_check_digit_of_the_standard_example():
    # Σ value × weight over 91350100M000100Y4 = 1640 = 52 × 31 + 28; (31 − 28) mod 31 = 3
    values = [ALPHABET.index(c) for c in EXAMPLE[:17]]
    weights = [pow(3, i, 31) for i in range(17)]
    assert sum(v * w for v, w in zip(values, weights)) == 1640
    assert check_digit(EXAMPLE[:17]) == "3"
    assert is_valid(EXAMPLE)
    with pytest.raises(ValueError):
        check_digit("123")


def test_valid_mask_cell_by_cell():
    bad_digit = EXAMPLE[:-1] + "4"
    cells = pd.Series([EXAMPLE, EXAMPLE.lower(), bad_digit, EXAMPLE[:-1], EXAMPLE + "0", None, np.nan,
                       "中" * 6,  # 18 bytes in UTF-8 but 6 characters
                       "Ｍ" + EXAMPLE[1:],  # full-width: 18 characters, not 18 ASCII bytes
                       EXAMPLE[:8] + "I" + EXAMPLE[9:],  # I is not in the alphabet
                       913501001, "", make("91511302MA62E1234")], index=range(10, 23), dtype=object)
    got = valid_mask(cells)
    assert got.index.tolist() == list(range(10, 23))
    assert got.dtype == bool
    assert got.tolist() == [True, False, False, False, False, False, False, False, False, False, False, False,
                            True]


def test_valid_mask_on_str_dtype_repeated_index_and_empty():
    s = pd.Series([EXAMPLE, None, "X"], index=[7, 7, 7], dtype="str")
    assert valid_mask(s).tolist() == [True, False, False]
    assert valid_mask(s).index.tolist() == [7, 7, 7]
    assert valid_mask(pd.Series([], dtype=object)).tolist() == []
    assert valid_mask(pd.Series([1.5, None])).tolist() == [False, False]
    assert valid_mask(s.iloc[1:]).tolist() == [False, False]  # a sliced Arrow array (offset ≠ 0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.text(alphabet=ALPHABET + "IOZSVabc中Ａ", min_size=16, max_size=19),
                          st.text(alphabet=ALPHABET, min_size=17, max_size=17).map(make), st.none()),
                max_size=30))
def test_valid_mask_agrees_with_is_valid(cells):
    s = pd.Series(cells, dtype=object)
    assert valid_mask(s).tolist() == [is_valid(c) for c in cells]
