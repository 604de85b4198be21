"""Cell values as people type them: numbers, codes, dates, text, 规上/规下 — vectorised.

Every parser takes a pandas Series of cells (strings, numbers or a mix, as read) and returns Series on
the same index, plus a boolean mask of the cells that could not be read (they become NaN / NaT / None
and the reader lists them in reconciliation). Missing cells (empty, ``—``, ``-``, ``/``) are not bad.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from parkland.frames import arrow_text, join_groups, objects

#: separators between several codes in one cell: ; ； , ， 、 and line breaks
CODE_SEPARATORS = r"[;；,，、\r\n]+"
#: cells that mean "no value"
_MISSING = r"(?i)(|-+|—+|–+|―+|/+|\\+|\.+|…+|nan|none|null|n/?a|#n/?a|无|空|暂无|不详)"
#: a code Excel turned into a number in scientific notation: its digits are lost
_SCIENTIFIC = r"[0-9]+(\.[0-9]+)?E[+-][0-9]+"  # Excel always writes the sign: 9.15113E+17
#: whitespace characters, spelled out (RE2 in pyarrow misses some with \s; pandas then falls back to re)
_WS_CHARS = " \t\r\n\f\v\u3000\xa0"
_WS = "[" + _WS_CHARS + "]"
_TRUE = {"是", "规上", "规模以上", "规上企业", "规模以上企业", "y", "yes", "true", "1", "above", "上"}
_FALSE = {"否", "规下", "规模以下", "规下企业", "规模以下企业", "n", "no", "false", "0", "below", "下"}


def nones(index: pd.Index) -> pd.Series:
    """An object Series of None (pandas would otherwise store NaN or infer the ``str`` dtype)."""
    return pd.Series([None] * len(index), index=index, dtype=object)


def _as_object(series: pd.Series) -> pd.Series:
    """Object Series with None for missing (whatever the input dtype). Text held in Arrow goes straight
    to Python strings."""
    if isinstance(series.dtype, pd.StringDtype):
        return pd.Series(objects(series), index=series.index, dtype=object, name=series.name, copy=False)
    s = series.astype(object)
    return s.where(series.notna(), None)


#: a text column longer than this is first sampled: when its first cells repeat, the cell rules run once
#: per distinct text (:func:`_per_distinct`)
_DISTINCT_MIN = 2000


def _per_distinct(series: pd.Series, func) -> pd.Series | None:
    """``func`` (an element-wise rule: ``str`` Series → object Series, ``None`` for missing) applied once
    per distinct text of a long ``str`` Series whose first cells repeat, and spread back to every cell;
    None when the column is not such a column (the caller applies ``func`` to all of it)."""
    if not isinstance(series.dtype, pd.StringDtype) or len(series) < _DISTINCT_MIN:
        return None
    if len(pd.unique(series.iloc[:_DISTINCT_MIN])) > _DISTINCT_MIN // 4:
        return None
    codes, uniq = pd.factorize(series)
    # one more, missing text: code -1 (an empty cell) takes it
    u = pd.Series(uniq, dtype=series.dtype).reindex(range(len(uniq) + 1))
    res = func(u).to_numpy(dtype=object)
    return pd.Series(res[codes], index=series.index, dtype=object, name=series.name, copy=False)


def _to_str(series: pd.Series) -> pd.Series:
    """Cells as pandas' (Arrow-backed) ``str`` dtype, NaN for empty / blank cells.

    Numbers lose a spurious ``.0`` (``123.0`` → ``"123"``) when they are whole and below 10¹⁵ (beyond
    that a float has lost digits, so the number keeps its float form, e.g. ``"5.11302e+18"``); dates
    become ISO ``YYYY-MM-DD`` (with ``HH:MM:SS`` when there is a time of day); strings are kept."""
    if len(series) == 0:
        return pd.Series([], index=series.index, dtype="str")
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        s = series.astype("str")
    elif pd.api.types.is_bool_dtype(dtype):
        s = series.astype(object).map(lambda b: "是" if b else "否", na_action="ignore").astype("str")
    elif pd.api.types.is_numeric_dtype(dtype):
        s = _numbers_to_text(series).astype("str")
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        s = _dates_to_text(series).astype("str")
    else:
        obj = _as_object(series)
        if pd.api.types.infer_dtype(obj.to_numpy(), skipna=True) in ("string", "empty"):  # text only
            return _blank_to_nan(obj.astype("str"))
        kinds = obj.map(type)
        is_str = kinds.eq(str) | obj.isna()
        if is_str.all():
            s = obj.astype("str")
        else:
            out = obj.copy()
            is_num = kinds.isin([float, int, np.float64, np.int64, np.float32, np.int32])
            if is_num.any():
                out[is_num] = _numbers_to_text(pd.to_numeric(obj[is_num]).astype(float))
            is_date = kinds.isin([dt.date, dt.datetime, pd.Timestamp])
            if is_date.any():
                out[is_date] = _dates_to_text(pd.to_datetime(obj[is_date].astype(object)))
            is_bool = kinds.isin([bool, np.bool_])
            if is_bool.any():
                out[is_bool] = obj[is_bool].map(lambda b: "是" if b else "否")
            rest = ~(is_str | is_num | is_date | is_bool) & obj.notna()
            if rest.any():
                out[rest] = obj[rest].map(str)
            s = out.astype("str")
    return _blank_to_nan(s)


def _blank_to_nan(s: pd.Series) -> pd.Series:
    blank = s.str.strip().eq("").fillna(False).astype(bool)
    return s.where(~blank)


def to_text(series: pd.Series) -> pd.Series:
    """Cells as text, the way a person reads them (object dtype, None when empty); see :func:`_to_str`."""
    return _as_object(_to_str(series))


def _numbers_to_text(series: pd.Series) -> pd.Series:
    a = pd.to_numeric(series, errors="coerce").astype("float64").to_numpy()
    out = nones(series.index)
    ok = np.isfinite(a)
    whole = ok & (a == np.floor(np.where(ok, a, 0))) & (np.abs(np.where(ok, a, 0)) < 1e15)
    if whole.any():
        out[whole] = a[whole].astype(np.int64).astype(str).astype(object)
    frac = ok & ~whole
    if frac.any():
        out[frac] = pd.Series(a[frac]).astype(str).to_numpy(dtype=object)
    return out


def _dates_to_text(series: pd.Series) -> pd.Series:
    d = pd.to_datetime(series, errors="coerce")
    midnight = d.dt.normalize().eq(d)
    out = d.dt.strftime("%Y-%m-%d %H:%M:%S").astype(object)
    out = out.where(~midnight, d.dt.strftime("%Y-%m-%d").astype(object))
    return out.where(d.notna(), None).astype(object)


def _clean(series: pd.Series) -> pd.Series:
    """Text cells (``str`` dtype), NFKC-normalised (full-width → half-width) and stripped; NaN = empty."""
    t = _nfkc(_to_str(series)).str.strip()
    return t.where(t.ne("").fillna(False).astype(bool))


def _nfkc(t: pd.Series) -> pd.Series:
    """``t.str.normalize("NFKC")`` on a ``str`` Series, computed only where it can change anything.

    An ASCII string is its own NFKC form, so only the non-ASCII cells are normalised, once per distinct
    value (pandas normalises the composing forms one element at a time in Python)."""
    if len(t) == 0:
        return t.str.normalize("NFKC")
    todo = (t.notna() & ~t.str.isascii().fillna(True).astype(bool)).to_numpy()
    if not todo.any():
        return t
    codes, uniques = pd.factorize(t[todo])
    norm = pd.Series(uniques, dtype="str").str.normalize("NFKC").to_numpy()
    out = t.copy()
    out[todo] = norm[codes]
    return out


#: a plain decimal number: optional minus, digits, optional fraction
_PLAIN = r"^-?[0-9]+(\.[0-9]+)?$"


def _plain_numbers(s: pd.Series) -> np.ndarray | None:
    """float64 values of a ``str`` column whose every cell is a plain decimal of at most 15 digits in all
    and not a negative zero (NaN for missing cells), cast by Arrow; None for any other column.

    Equal bits to ``pd.to_numeric``: such a number is m / 10^k or m × 1 with the integer m < 10^15 < 2^53
    and k ≤ 15, both exact doubles, so the one division rounds correctly in pandas, as Arrow's parser
    does. ("-0" is left out: pandas reads it as an integer, +0.0, or as −0.0 when any cell has a
    fraction.)"""
    arr = arrow_text(s)
    if arr is None or len(arr) == arr.null_count:
        return None
    if not pc.all(pc.match_substring_regex(arr, _PLAIN)).as_py():
        return None
    digits = pc.subtract(pc.subtract(pc.binary_length(arr), pc.starts_with(arr, "-").cast(pa.int64())),
                         pc.match_substring(arr, ".").cast(pa.int64()))
    if pc.max(digits).as_py() > 15 or pc.any(pc.match_substring_regex(arr, r"^-[0.]+$")).as_py():
        return None
    return pc.cast(arr, pa.float64()).to_numpy(zero_copy_only=False)  # NaN for missing cells


def _parse_numbers(series: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """floats, bad mask and percent mask (cells written with a trailing %, already divided by 100)."""
    idx = series.index
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        v = pd.to_numeric(series, errors="coerce").astype("float64")
        bad = pd.Series(~np.isfinite(v.to_numpy()) & v.notna().to_numpy(), index=idx)
        v = v.where(~bad)
        return v, bad, pd.Series(False, index=idx)
    s = _to_str(series)
    plain = _plain_numbers(s)
    if plain is not None:  # every cell a plain decimal: no cell is bad, none a percentage
        v = pd.Series(plain, index=idx, name=s.name)
        return v, pd.Series(False, index=idx), pd.Series(False, index=idx)
    v = pd.to_numeric(s, errors="coerce").astype("float64")  # fast path: plain numbers
    bad = pd.Series(False, index=idx)
    pct = pd.Series(False, index=idx)
    need = (v.isna() & s.notna()).to_numpy()
    if need.any():
        t = _clean(s[need])
        t = t.str.replace("[" + _WS_CHARS + ",'’¥$]|^=|元$", "", regex=True)
        t = t.str.replace(r"^\((.+)\)$", r"-\1", regex=True)  # accounting negatives: (123) → -123
        t = t.str.replace(r"^\+", "", regex=True)
        missing = t.isna() | t.str.fullmatch(_MISSING).fillna(True).astype(bool)
        p = t.str.endswith("%").fillna(False).astype(bool) & ~missing
        t = t.str.replace(r"%$", "", regex=True)
        w = pd.to_numeric(t.where(~missing), errors="coerce").astype("float64")
        w = w.where(~p, w / 100.0)
        v[need] = w.to_numpy()
        bad[need] = (~missing & w.isna()).to_numpy()
        pct[need] = p.to_numpy()
    finite = np.isfinite(v.to_numpy())
    bad = bad | (v.notna() & ~pd.Series(finite, index=idx))
    v = v.where(finite)
    return v, bad, pct


def parse_numbers(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Numbers as people type them → (float64 Series, bad mask).

    Accepted: ``1,234.5``, full-width digits (``１２３``), spaces, a leading ``+``/``¥``, ``(123)`` as −123,
    ``12%`` as 0.12. Missing (NaN, not bad): empty, ``—``, ``-``, ``/``, ``nan``, ``无``. Anything else that
    is not a finite number is NaN and flagged bad. Negative numbers are returned as they are.
    """
    v, bad, _ = _parse_numbers(series)
    return v, bad


def normalise_text(series: pd.Series) -> pd.Series:
    """Names and labels: stripped, inner runs of whitespace (also full-width and non-breaking spaces)
    made one space; empty → None. Characters are otherwise kept as written (object dtype)."""
    out = _per_distinct(series, _normalise_text)
    return _normalise_text(series) if out is None else out


def _normalise_text(series: pd.Series) -> pd.Series:
    t = _to_str(series).str.replace(_WS + "+", " ", regex=True).str.strip()
    return _as_object(t.where(t.ne("").fillna(False).astype(bool)))


#: every character one of the replacements in :func:`_codes` needs: a cell without any is left as it is
_CODE_MARKS = "[=.'‘’\"“”" + _WS_CHARS + "\\-‐‑‒–—―]"


def _codes(series: pd.Series) -> pd.Series:
    t = _clean(series).str.upper()
    marked = t.str.contains(_CODE_MARKS, regex=True).fillna(False).astype(bool).to_numpy()
    if marked.any():
        m = t[marked]
        m = m.str.replace(r'^="(.*)"$', r"\1", regex=True)
        m = m.str.replace(r"^['‘’\"“”]+|['‘’\"“”]+$", "", regex=True)
        m = m.str.replace("[" + _WS_CHARS + "\\-‐‑‒–—―]+", "", regex=True)
        m = m.str.replace(r"^([0-9]+)\.0+$", r"\1", regex=True)
        t = t.copy()
        t[marked] = m.to_numpy()
    return t.where(t.ne("").fillna(False).astype(bool))


def normalise_codes(series: pd.Series) -> pd.Series:
    """Codes (credit codes, parcel codes, industry codes): full-width → half-width, upper case, spaces
    and hyphens removed, Excel's text markers (leading ``'``, ``="…"``) dropped, a whole number Excel
    stored as float read as its digits (``123.0`` → ``123``). Empty → None (object dtype). Codes in
    scientific notation are left as they are (see :func:`scientific_mask`): their digits are lost and
    are not guessed."""
    return _as_object(_codes(series))


def scientific_mask(codes: pd.Series) -> pd.Series:
    """True where a (normalised) code is a number in scientific notation, e.g. ``5.11302E+18``."""
    return _to_str(codes).str.fullmatch(_SCIENTIFIC).fillna(False).astype(bool)


def parcel_codes(codes: pd.Series) -> pd.Series:
    """A 28-character 不动产单元号 links through its first 19 characters (the 宗地代码); others unchanged."""
    c = _to_str(codes)
    c = c.where(~c.str.len().eq(28).fillna(False).astype(bool), c.str.slice(0, 19))
    return _as_object(c)


def split_codes(series: pd.Series) -> pd.Series:
    """Cells holding several codes (separated by ; ； , ， 、 or line breaks) → one normalised code per
    element, indexed by the cell's index (repeated), in cell order; empty pieces are left out."""
    t = _to_str(series)
    has_sep = t.str.contains(CODE_SEPARATORS, regex=True).fillna(False).astype(bool)
    if not has_sep.any():
        return normalise_codes(t).dropna()
    one = t[~has_sep]
    many = t[has_sep].str.split(CODE_SEPARATORS, regex=True).explode()
    longs = pd.concat([one, many.astype("str")])
    pos = pd.Series(np.arange(len(t)), index=t.index)
    order = np.argsort(pos.reindex(longs.index).to_numpy(), kind="stable") if t.index.is_unique else \
        np.arange(len(longs))
    return normalise_codes(longs.iloc[order]).dropna()


def join_codes(codes: pd.Series, index: pd.Index) -> pd.Series:
    """Long Series of codes (index = cell index, possibly repeated) → one ``;``-joined string per index
    entry (duplicates dropped, first order kept; ``""`` when none)."""
    out = pd.Series("", index=index, dtype=object)
    if len(codes) == 0:
        return out
    c = codes.to_numpy(dtype=object)
    if index.is_unique and pd.api.types.infer_dtype(c, skipna=False) == "string":
        pos = index.get_indexer(codes.index)
        if (pos >= 0).all():
            return pd.Series(join_groups(pos, c, len(index)), index=index, dtype=object)
    df = pd.DataFrame({"i": codes.index, "c": c}).drop_duplicates()
    counts = df["i"].value_counts()
    single = df["i"].map(counts).eq(1).to_numpy()
    out.loc[df["i"][single].to_numpy()] = df["c"][single].to_numpy()
    if (~single).any():
        joined = df[~single].groupby("i", sort=False)["c"].agg(";".join)
        out.loc[joined.index] = joined.to_numpy()
    return out


_DATE_SEP = r"[年月/.\-_]"


#: the last Excel serial a datetime64[ns] can hold (2262-04-11); a larger one (Excel goes to 2958465,
#: 9999-12-31) is listed as a bad date instead of stopping the run
_SERIAL_MAX = (pd.Timestamp("2262-04-11") - pd.Timestamp("1899-12-30")).days


def parse_dates(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates as people write them → (datetime64[ns] Series, bad mask).

    Accepted: ``2023-05-01``, ``2023/5/1``, ``2023.05.01``, ``2023年5月1日``, ``20230501``, with an optional
    time of day (dropped), ``2023-05`` / ``2023年5月`` (day 1), a bare year 1900–2100 (January 1), Excel
    serial numbers from 10000 to 2262-04-11 (day 0 = 1899-12-30; a later serial is bad), and datetime
    cells. Missing cells are NaT, not bad.
    """
    idx = series.index
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        d = series.dt.tz_localize(None) if getattr(series.dt, "tz", None) is not None else series
        return d.dt.normalize().astype("datetime64[ns]"), pd.Series(False, index=idx)
    if isinstance(series.dtype, pd.StringDtype):
        return parse_date_columns([series])[0]
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        series = _numbers_to_text(series)
    codes, uniques = pd.factorize(_clean(series).fillna(""))
    d_u, bad_u = _parse_date_texts(pd.Series(uniques, dtype="str"))
    return _spread_dates(d_u.to_numpy(), bad_u.to_numpy(), codes, idx)


def _spread_dates(d_u: np.ndarray, bad_u: np.ndarray, codes: np.ndarray, idx: pd.Index
                  ) -> tuple[pd.Series, pd.Series]:
    d = pd.Series(d_u[codes], index=idx).astype("datetime64[ns]")
    bad = pd.Series(bad_u[codes], index=idx)
    return d, bad


def parse_date_columns(columns: list[pd.Series]) -> list[tuple[pd.Series, pd.Series]]:
    """:func:`parse_dates` of each column. The text (``str``) columns are parsed together: each distinct
    cell text of all of them is cleaned and parsed once (a cell is read the same in any column)."""
    out: list[tuple[pd.Series, pd.Series] | None] = [None] * len(columns)
    text = [i for i, c in enumerate(columns) if isinstance(c.dtype, pd.StringDtype)]
    for i, c in enumerate(columns):
        if i not in text:
            out[i] = parse_dates(c)
    if text:
        found = [pd.factorize(columns[i]) for i in text]
        # the distinct texts of all the columns, then one more, "" (empty): code -1 (a missing cell) takes it
        every = pd.Series(np.concatenate([np.asarray(u, dtype=object) for _, u in found]
                                         + [np.array([""], dtype=object)]), dtype="str")
        codes_all, uniq = pd.factorize(every)
        d_u, bad_u = _parse_date_texts(_clean(pd.Series(uniq, dtype="str")).fillna(""))
        d_u, bad_u = d_u.to_numpy()[codes_all], bad_u.to_numpy()[codes_all]
        start = 0
        for i, (codes, u) in zip(text, found):
            take = np.append(np.arange(start, start + len(u)), len(every) - 1)[codes]
            start += len(u)
            out[i] = _spread_dates(d_u, bad_u, take, columns[i].index)
    return out  # type: ignore[return-value]


def _extract(t: pd.Series, pattern: str) -> pd.DataFrame:
    """``t.str.extract(pattern)`` (columns 0, 1, … for the named groups g0, g1, …) by Arrow's RE2 at once
    instead of Python's ``re`` cell by cell. For the anchored patterns here, on stripped text (so Python's
    ``$`` cannot match before a trailing newline), both give the same groups; each group matches at least
    one character, so Arrow's ``""`` for a group that took no part is NaN as in pandas."""
    found = pc.extract_regex(pa.array(t.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True),
                             pattern)
    out = {}
    for i in range(found.type.num_fields):
        g = pd.Series(pc.struct_field(found, [i]).to_pandas(), index=t.index, dtype="str")
        out[i] = g.where(g.ne("").fillna(False).astype(bool))
    return pd.DataFrame(out, index=t.index)


def _parse_date_texts(t: pd.Series) -> tuple[pd.Series, pd.Series]:
    """parse_dates on distinct cleaned texts ("" = empty)."""
    d9 = "[0-9]"
    missing = t.str.fullmatch(_MISSING).fillna(True).astype(bool)
    t = t.str.replace("(?:" + _WS + "+|T)" + d9 + "{1,2}:" + d9 + "{2}(:" + d9 + "{2}(\\." + d9 + "+)?)?$", "",
                      regex=True)
    t = t.str.replace(r"日$|号$", "", regex=True).str.strip()
    sep = _DATE_SEP + _WS + "*"
    ymd = _extract(t, "^(?P<g0>" + d9 + "{4})" + sep + "(?P<g1>" + d9 + "{1,2})(?:" + _DATE_SEP + "?" + _WS
                   + "*(?P<g2>" + d9 + "{1,2}))?" + _DATE_SEP + "?$")
    compact = _extract(t, "^(?P<g0>" + d9 + "{4})(?P<g1>" + d9 + "{2})(?P<g2>" + d9 + "{2})$")
    is_num = t.str.fullmatch(d9 + "+(\\." + d9 + "+)?").fillna(False).astype(bool)
    num = pd.to_numeric(t.where(is_num), errors="coerce")
    year = pd.to_numeric(ymd[0], errors="coerce").fillna(pd.to_numeric(compact[0], errors="coerce"))
    month = pd.to_numeric(ymd[1], errors="coerce").fillna(pd.to_numeric(compact[1], errors="coerce"))
    day = pd.to_numeric(ymd[2], errors="coerce")
    day = day.where(ymd[1].isna() | day.notna(), 1).fillna(pd.to_numeric(compact[2], errors="coerce"))
    bare_year = num.between(1900, 2100) & (num == np.floor(num))
    year = year.where(~bare_year, num)
    month = month.where(~bare_year, 1)
    day = day.where(~bare_year, 1)
    ok = year.notna() & month.notna() & day.notna()
    parts = pd.DataFrame({"year": year.where(ok, 2000), "month": month.where(ok, 1),
                          "day": day.where(ok, 1)}).astype("int64")
    d = pd.to_datetime(parts, errors="coerce").where(ok)
    serial = num.between(10000, _SERIAL_MAX) & ~bare_year & compact[0].isna()
    if serial.any():
        base = pd.Timestamp("1899-12-30")
        days = np.floor(num.where(serial, 0).to_numpy()).astype("int64")
        sd = pd.Series(base + pd.to_timedelta(days, unit="D"), index=t.index)
        d = d.where(~serial, sd)
    d = pd.to_datetime(d).astype("datetime64[ns]")
    return d, d.isna() & ~missing


def parse_scale(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """规上/规下 → ``"above"`` / ``"below"`` (also 是/否, yes/no, 1/0, 规模以上/规模以下); empty → None;
    anything else → None and flagged bad. Each distinct cell text is parsed once."""
    codes, uniques = pd.factorize(_to_str(series))
    t = _clean(pd.Series(uniques, dtype="str")).str.lower().str.replace(_WS + "+", "", regex=True)
    above = t.isin(_TRUE).fillna(False).astype(bool).to_numpy()
    below = t.isin(_FALSE).fillna(False).astype(bool).to_numpy()
    bad = ~above & ~below & t.notna().to_numpy() & ~t.fillna("").str.fullmatch(_MISSING).astype(bool).to_numpy()
    # code -1 (an empty cell) takes the appended last entry: neither above, below nor bad
    above, below, bad = (np.append(a, False)[codes] for a in (above, below, bad))
    out = pd.Series(np.where(above, "above", np.where(below, "below", None)).astype(object), index=series.index,
                    dtype=object)
    return out, pd.Series(bad, index=series.index)


def parse_year(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """年份 cells (``2023``, ``2023年``, ``2023年度``) → (Int64 Series, bad mask)."""
    t = _clean(series).str.replace(r"年度?$", "", regex=True)
    v, bad, _ = _parse_numbers(t)
    whole = v.notna() & (v == np.floor(v)) & v.between(1900, 2200)
    bad = bad | (v.notna() & ~whole)
    return v.where(whole).round().astype("Int64"), bad
