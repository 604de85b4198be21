"""frames.join_groups: the values of each group joined, in the order given."""

from __future__ import annotations

import numpy as np
import pandas as pd

from parkland.frames import arrow_text, factorized, first_positions, join_groups, positions, take, text_column


def test_join_groups_in_order_distinct_and_blank_free() -> None:
    keys = np.array([2, 0, 2, 0, 2, 3, 0, 1])
    vals = np.array(["c", "a", "d", "b", "c", "", "a", None], dtype=object)
    assert join_groups(keys, vals, 5).tolist() == ["a;b", "", "c;d", "", ""]
    assert join_groups(keys, vals, 5, "、", distinct=False).tolist() == ["a、b、a", "", "c、d、c", "", ""]
    assert join_groups(np.array([], dtype=int), np.array([], dtype=object), 2).tolist() == ["", ""]


def test_join_groups_values_that_are_not_text() -> None:
    """Repeats are the values as given (5 and "5" are two values, True and 1.0 one), joined as text."""
    keys = np.array([0, 0, 1, 1, 1, 2])
    vals = np.array([5, "5", True, 1.0, 2.5, np.nan], dtype=object)
    assert join_groups(keys, vals, 3).tolist() == ["5;5", "True;2.5", ""]
    assert join_groups(np.array([0]), np.array([7], dtype=object), 1).tolist() == ["7"]


def test_space_at_ends_and_blank_are_python_whitespace() -> None:
    """Arrow's trim is Python's str.isspace / str.strip, checked on every code point (surrogates aside)."""
    import pyarrow as pa

    from parkland.frames import blank, space_at_ends

    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    got = space_at_ends(pa.array(chars)).to_numpy(zero_copy_only=False)
    assert [c for c, g in zip(chars, got) if g != c.isspace()] == []
    got = blank(pa.array(chars)).to_numpy(zero_copy_only=False)
    assert [c for c, g in zip(chars, got) if g != c.isspace()] == []
    texts = pa.array(["a b", " a", "a\u3000", "\x1ca", None, ""])
    assert space_at_ends(texts).to_pylist() == [False, True, True, True, False, False]
    assert blank(texts).to_pylist() == [False, False, False, False, True, True]
    assert blank(pa.array([" \u3000\t", "\x85", "\u200b"])).to_pylist() == [True, True, False]


def test_objects_none_for_every_missing_value():
    """frames.objects: a new object array, None where pandas sees a missing value, whatever the dtype."""
    from parkland.frames import objects

    cases = [
        (pd.Series(["a", None, "b"], dtype="str"), ["a", None, "b"]),
        (pd.Series(["a", pd.NA, ""], dtype="string"), ["a", None, ""]),
        (pd.Series([1.5, np.nan, 2.0]), [1.5, None, 2.0]),
        (pd.Series(["x", np.nan, None, 3], dtype=object), ["x", None, None, 3]),
        (pd.Series(pd.to_datetime(["2024-01-02", None])), [pd.Timestamp("2024-01-02"), None]),
    ]
    for s, expected in cases:
        out = objects(s)
        assert out.dtype == object and out.tolist() == expected
        out[0] = "changed"  # a copy: the frame's column stays as it was
        assert s.iloc[0] != "changed"


def test_objects_copies_python_backed_text_without_missing_values():
    """Python-backed string columns with nothing missing hand pandas' own array back from to_numpy: objects
    must still return a new array (scoring.classify writes statuses into it; the caller's frame stays)."""
    from parkland.frames import objects

    for dtype in (pd.StringDtype("python"), pd.StringDtype("python", na_value=np.nan)):
        s = pd.Series(["a", "b"], dtype=dtype)
        out = objects(s)
        assert out.tolist() == ["a", "b"]
        out[0] = "changed"
        assert s.tolist() == ["a", "b"]


def test_positions_of_text_keys() -> None:
    keys = np.array(["a", "b", "粤B", " c"], dtype=object)
    vals = np.array(["b", None, "c", " c", "粤B", np.nan, "a", "b"], dtype=object)
    assert positions(vals, keys).tolist() == [1, -1, -1, 3, 2, -1, 0, 1]
    assert positions(np.array([None, None], dtype=object), keys).tolist() == [-1, -1]
    assert positions(np.array([], dtype=object), keys).tolist() == []
    assert positions(vals[:2], np.array([], dtype=object)).tolist() == [-1, -1]


def test_positions_and_first_positions_agree_with_pandas_on_any_objects() -> None:
    """Random mixes of text, missing values, numbers and a lone surrogate (which Arrow refuses: the
    pandas path) give what pandas' hash tables give."""
    rng = np.random.default_rng(7)
    pool = np.array(["x", "y", "z", "长", "", " x", None, np.nan, 5, 5.0, "\ud800", "w"], dtype=object)
    for trial in range(300):
        kinds = pool if trial % 3 == 0 else pool[[0, 1, 2, 3, 4, 5, 6, 7, 11]]  # text only, two in three
        vals = kinds[rng.integers(0, len(kinds), rng.integers(0, 40))]
        keys = pd.unique(pd.Series(kinds[rng.integers(0, len(kinds), 8)], dtype=object).dropna())
        at = {key: i for i, key in enumerate(keys)}  # Python's equality: 5 and 5.0 are one key
        expect = [-1 if pd.isna(x) else at.get(x, -1) for x in vals]
        assert positions(vals, keys).tolist() == expect
        first, count = first_positions(vals)
        s = pd.Series(vals, dtype=object)
        ok = s.notna().to_numpy()
        exp_first = np.arange(len(vals))
        exp_count = np.zeros(len(vals), int)
        if ok.any():
            grp = s[ok].groupby(pd.factorize(s[ok])[0])
            exp_first[ok] = pd.Series(np.flatnonzero(ok)).groupby(pd.factorize(s[ok])[0]).transform("first")
            exp_count[ok] = grp.transform("size").to_numpy()
        assert first.tolist() == exp_first.tolist()
        assert count.tolist() == exp_count.tolist()


def test_first_positions_hand_case() -> None:
    first, count = first_positions(np.array(["b", "a", None, "b", "c", "a", "b"], dtype=object))
    assert first.tolist() == [0, 1, 2, 0, 4, 1, 0]
    assert count.tolist() == [3, 2, 0, 3, 1, 2, 3]


def test_factorized_text_and_objects() -> None:
    for s in (pd.Series(["乙", None, "甲", "乙"], dtype="str"), pd.Series(["乙", None, "甲", "乙"], dtype=object),
              pd.Series(["乙", np.nan, "甲", "乙"], dtype=object)):
        codes, uniq = factorized(s)
        assert codes.tolist() == [0, -1, 1, 0] and uniq.tolist() == ["乙", "甲"] and uniq.dtype == object
        codes, uniq = factorized(s, sort=True)
        assert uniq.tolist() == sorted(["乙", "甲"]) and uniq[codes[0]] == "乙" and codes[1] == -1
    codes, uniq = factorized(pd.Series([3, 1, 3]))
    assert codes.tolist() == [0, 1, 0] and uniq.tolist() == [3, 1]


def test_text_column_is_what_pandas_infers() -> None:
    """The same column (dtype, values, Arrow type) as assigning the object array to a frame, for text with
    gaps, and the array itself where pandas keeps objects (numbers, bytes, all missing, a surrogate)."""
    import pyarrow as pa

    cases = [["a", None, "长", np.nan, ""], ["x"], [None, None], [np.nan], ["a", 1], [b"a", "b"], ["a", True],
             [], ["a", pd.NA]]
    for vals in cases:
        v = np.array(vals, dtype=object)
        got = text_column(v)
        expect = pd.DataFrame(index=range(len(v)))
        expect["c"] = v
        have = pd.DataFrame(index=range(len(v)))
        have["c"] = got
        pd.testing.assert_frame_equal(have, expect, check_exact=True)
        if isinstance(expect["c"].dtype, pd.StringDtype):
            assert pa.array(have["c"].array).type == pa.array(expect["c"].array).type
        else:
            assert got is v


def test_arrow_text_of_arrow_backed_columns_only() -> None:
    import pyarrow as pa

    arr = arrow_text(pd.Series(["甲", None, "乙"], dtype="str"))
    assert arr.to_pylist() == ["甲", None, "乙"] and pa.types.is_large_string(arr.type)
    assert arrow_text(pd.Series(["a", None], dtype="string[pyarrow]")).to_pylist() == ["a", None]
    for s in (pd.Series(["a"], dtype=object), pd.Series(["a"], dtype="string[python]"), pd.Series([1.5])):
        assert arrow_text(s) is None


def test_take_fills_the_missing_positions() -> None:
    assert take(np.array(["a", "b"], dtype=object), np.array([1, -1, 0]), None).tolist() == ["b", None, "a"]
    got = take(np.array([1.5, 2.5]), np.array([-1, 1]), np.nan)
    assert np.isnan(got[0]) and got[1] == 2.5 and got.dtype == np.float64
    assert take(np.array([], dtype=object), np.array([-1]), None).tolist() == [None]
