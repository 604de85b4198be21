"""Small vectorised helpers on frames shared by several stages."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def space_at_ends(arr: Any) -> Any:
    """Arrow text array → Boolean array: the text starts or ends with Python whitespace (null → False).

    Arrow's ``utf8_trim_whitespace`` removes exactly what ``str.strip`` removes (``str.isspace``, checked
    on every code point in the tests), so a text has whitespace at an end when trimming changes it."""
    import pyarrow.compute as pc

    return pc.not_equal(pc.utf8_trim_whitespace(arr), arr).fill_null(False)


def blank(arr: Any) -> Any:
    """Arrow text array → Boolean array: missing, or nothing but Python whitespace."""
    import pyarrow.compute as pc

    return pc.or_kleene(pc.is_null(arr), pc.equal(pc.utf8_trim_whitespace(arr), ""))


def object_series(values: Any, index: pd.Index | None = None) -> pd.Series:
    """Values as an object column as they are: no string-dtype inference (None stays None)."""
    return pd.Series(np.asarray(values, dtype=object), index=index, dtype=object)


def objects(s: pd.Series) -> np.ndarray:
    """A column as a new object array with None for every missing value (safe for == comparisons and
    dictionary look-ups). Text columns go straight from Arrow to Python strings."""
    if isinstance(s.dtype, pd.StringDtype):
        # Arrow builds a new array; python-backed text without a missing value would hand its own back
        return s.to_numpy(dtype=object, na_value=None, copy=s.dtype.storage != "pyarrow")
    a = s.astype(object).to_numpy(copy=True)
    a[pd.isna(s).to_numpy()] = None
    return a


def join_groups(keys: np.ndarray, values: np.ndarray, n: int, sep: str = ";", *, distinct: bool = True) -> np.ndarray:
    """For group keys 0..n-1, the non-empty values of each group joined by ``sep`` in the order given
    ("" for an empty group); ``distinct`` drops repeats within a group.

    Vectorised: a group of one value takes it as it is; repeats are found on integer pairs (the values
    factorised once); the other groups are put together by a stable sort of their keys and joined by
    Arrow (``binary_join`` over list offsets).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    out = np.full(n, "", dtype=object)
    if len(keys) == 0:
        return out
    k = np.asarray(keys)
    v = np.asarray(values, dtype=object)
    keep = ~(pd.isna(k) | pd.isna(v))
    keep[keep] = v[keep] != ""
    k, v = k[keep].astype(np.int64), v[keep]
    if not len(k):
        return out
    text = v if pd.api.types.infer_dtype(v, skipna=False) == "string" else \
        pd.Series(v, dtype=object).map(str).to_numpy(dtype=object)
    one = np.bincount(k, minlength=n)[k] == 1
    out[k[one]] = text[one]
    if one.all():
        return out
    k, v, text = k[~one], v[~one], text[~one]
    if distinct:  # repeats (of the values as given) only matter in groups of several values
        codes, _ = pd.factorize(v)
        first = ~pd.DataFrame({"k": k, "c": codes}).duplicated().to_numpy()
        k, text = k[first], text[first]
    v = text
    order = np.argsort(k, kind="stable")  # order within a group kept
    k, v = k[order], v[order]
    starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
    lists = pa.ListArray.from_arrays(pa.array(np.r_[starts, len(k)].astype(np.int32)),
                                     pa.array(v, type=pa.large_string()))
    out[k[starts]] = np.asarray(pc.binary_join(lists, pa.scalar(sep, pa.large_string())).to_pylist(), dtype=object)
    return out
