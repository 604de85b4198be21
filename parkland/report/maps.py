"""The bureau map: one self-contained HTML page (Leaflet inlined, no request leaves it by default).

``build_map_html(parcels, firms, ...)`` returns the page and a list of warnings for the CLI to print;
``write_map(path, ...)`` writes it atomically; ``render_dir(out_dir, ...)`` re-renders the maps of an
output folder (``map.html``, or one map per park plus ``index.html``).

Above :data:`MAP_DETAIL_MAX` parcels (200 000; ``detail_max=`` overrides) ``write_map`` writes instead
a parks overview at ``path`` (``build_overview_html``: one feature per park, its given boundary or the
convex hull of its parcels, coloured by the park's 亩均税收 Σtax/Σland, figures from
:func:`park_overview`, a link to the park's page) and one detail page per park in ``map_parks/`` beside
it (``park_<nnn>_<safe name>.html``, the same pages as ``render_dir(per_park=True)``), built one park
at a time so memory follows the largest park rather than the city (1M parcels: +0.14 GiB instead of
+1.5 GiB over the resident tables).

What the page shows (labels from :mod:`parkland.report.labels`):

* parcels by grade (fixed :data:`GRADE_COLORS`; ungraded parcels grey outline);
* choropleths of 亩均税收 / 亩均营收 / 亩均产值 / 亩均增加值 (internal maps only), classes from
  :func:`nice_breaks` (quantiles rounded to two significant digits);
* idle / vacant / stopped / low-efficiency flags, the cleanup selection, park boundaries (given, else
  each park's convex hull of parcels), firms without land as points;
* a tooltip (code, grade), a popup (area, firms with credit code, grade, score and its parts, per-mu
  figures, flags with reasons), and a search box (firm name, credit code, parcel code).

How the data travels (small files, fast drawing): display coordinates are WGS84 lon/lat (GCJ-02 only
for the 高德 base map, for display), quantised to integers q = round(deg × 10⁶) (≈0.1 m; 10⁴ ≈ 11 m in
public mode), the closing vertex of each ring and repeated vertices dropped, then delta-encoded per axis
(Δq_k = q_k − q_{k−1}), zig-zag mapped (z = 2v for v ≥ 0, −2v − 1 for v < 0) and written as LEB128
varints in base64. Numeric columns go the same way as round(x × 10^d) with 0 reserved for missing
(stored z + 1). Text columns with few values are dictionary-encoded. Everything sits in one
``<script type="application/json">`` whose ``<``, ``>``, ``&`` are escaped as ``\\u003c`` etc., and the
page builds every text node with ``textContent``. Parcels are drawn on one Leaflet canvas renderer;
layers other than the default are built when first switched on.

For automated checks the page sets ``window.parkland = {map, features, ready, openAll, openParcel,
search, mode: "detail", parcels}`` (the overview: ``{map, features, ready, openAll, openPark,
mode: "overview", parcels}``, ``features`` being the parks drawn and ``parcels`` the city's parcels):
the Leaflet map, the number of parcel features loaded, a Promise resolving (to ``features``)
once the default layers are drawn, and ``openAll()``, which opens every parcel's popup in turn,
synchronously, in feature order, without panning, and returns a Promise resolving to the number of
popups opened (rejecting with the first error); ``openParcel(code or index)`` zooms to one parcel and
opens its popup, ``search(text)`` returns the search box's matches.

Public mode keeps an allow-list: parcel code, park, area, firm count, grade, flags and reasons; firm
name, credit code, grade and status. No tax, revenue, score or part figure is written anywhere, the
geometry is simplified by 5 m (in a metric CRS) and quantised to 10⁻⁴°, and no tile key is embedded.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import math
import os
import re
import secrets
import unicodedata
import warnings as warnings_mod
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from parkland.errors import InputError
from parkland.frames import arrow_text, blank
from parkland.report import labels as lb
from parkland.report.export import write_text
from parkland.report.map_assets import leaflet_css, leaflet_js, template

__all__ = [
    "MAP_DETAIL_MAX",
    "build_map_html",
    "build_overview_html",
    "nice_breaks",
    "park_overview",
    "render_dir",
    "safe_filename",
    "write_map",
]

#: quantisation of display coordinates: 1e-6° ≈ 0.11 m (internal), 1e-4° ≈ 11 m (public)
GEOM_SCALE = 1_000_000
PUBLIC_GEOM_SCALE = 10_000
#: simplification tolerance of public maps, metres (in a metric CRS)
PUBLIC_SIMPLIFY_M = 5.0
#: longest side of a raster base map, pixels
RASTER_MAX_PX = 2048
#: above this many parcels write_map writes the parks overview and one detail page per park
MAP_DETAIL_MAX = 200_000
#: folder of the per-park detail pages, beside the overview
PARK_MAPS_DIR = "map_parks"

FLAGS: dict[str, tuple[int, str]] = {  # column → (bit, colour)
    "idle": (1, "#7b3294"),
    "vacant": (2, "#2c7bb6"),
    "stopped": (4, "#e66101"),
    "low_efficiency": (8, "#b35806"),
}
CHOROPLETHS = ("tax_per_mu", "revenue_per_mu", "output_per_mu", "value_added_per_mu")
#: ColorBrewer YlGnBu by number of classes
RAMPS: dict[int, list[str]] = {
    1: ["#41b6c4"],
    2: ["#a1dab4", "#225ea8"],
    3: ["#edf8b1", "#7fcdbb", "#2c7fb8"],
    4: ["#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"],
    5: ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"],
    6: ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"],
}
UNGRADED_COLOR = "#8c8c8c"
CLEANUP_SELECTED = "#b2182b"
CLEANUP_CANDIDATE = "#ef8a62"
PARK_COLOR = "#1f3a93"

# popup fields: column → (decimals, format); "pct" shows a ratio as a percentage
_PARCEL_FIELDS_PUBLIC: dict[str, tuple[int, str]] = {
    "area_mu": (1, "num"), "cert_area_mu": (1, "num"), "firm_count": (0, "num"),
}
_PARCEL_FIELDS_INTERNAL: dict[str, tuple[int, str]] = {
    "area_mu": (2, "num"), "cert_area_mu": (2, "num"), "firm_count": (0, "num"),
    "tax_wan": (2, "num"), "revenue_wan": (2, "num"),
    "tax_per_mu": (2, "num"), "revenue_per_mu": (2, "num"),
    "output_per_mu": (2, "num"), "value_added_per_mu": (2, "num"),
    "building_coverage": (4, "pct"), "far": (2, "num"),
}
_FIRM_FIELDS_INTERNAL: dict[str, tuple[int, str]] = {
    "score": (2, "num"), "land_mu": (2, "num"),
    "tax_per_mu": (2, "num"), "revenue_per_mu": (2, "num"),
    "output_per_mu": (2, "num"), "value_added_per_mu": (2, "num"),
}
_POINT_STATUSES = ("no_land", "parcel_not_found")
#: the columns build_map_html reads (besides geometry and part_*): per-park pages copy only these
_MAP_PARCEL_COLUMNS = {"parcel_id", "source_row", "park", "grade", "flag_reasons", *FLAGS,
                       *_PARCEL_FIELDS_INTERNAL}
_MAP_FIRM_COLUMNS = {"parcel_ids", "name", "uscc", "grade", "status", "status_reason", "lon", "lat",
                     *_FIRM_FIELDS_INTERNAL}
_TRUE = {"true", "1", "yes", "y", "t", "是", "1.0"}

_TEXT_KEYS = [
    "map_title", "map_basemap_none", "map_ungraded", "map_no_data", "map_search", "map_no_match",
    "map_firms", "map_flags", "map_selected", "map_candidate", "map_cleanup_rank", "map_score_parts",
    "map_legend", "map_public_note", "park", "grade", "flag_reasons", "parcel_id", "uscc", "status",
    "status_reason", "name", "map_layer_firms_no_land",
]


def _msg(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


# --------------------------------------------------------------------------------------------------
# compact encodings
# --------------------------------------------------------------------------------------------------
class _B64(str):
    """Base64 text (A–Z, a–z, 0–9, +, /, =): JSON writes it between quotes as it is, and nothing in it
    needs escaping in a <script>; :func:`_json_for_script` copies the long ones in without scanning."""

    __slots__ = ()


def _b64(data: bytes) -> str:
    return _B64(base64.b64encode(data).decode("ascii"))


#: word types of the varint writer by byte count (little-endian, so a word's bytes are in output order)
_WORDS = {2: np.dtype("<u2"), 4: np.dtype("<u4"), 8: np.dtype("<u8")}


def _uvarint(values: Any) -> bytes:
    """LEB128 varints of non-negative integers (7 bits a byte, low groups first, high bit = more),
    vectorised: bytes b = (z >> 7j) & 0x7F for j below the value's byte count (at least 1, and 1 more for
    each further non-zero 7-bit group), 0x80 added on all but the last byte of each value.

    Values below 2⁵⁶ (up to 8 bytes): each value's 7-bit groups spread over the bytes of one word
    w = Σ ((z << j) & (0x7F << 8j)); byte j continues (0x80) when a byte above it is non-zero (an OR of
    the higher bytes, then (b + 0x7F) & 0x80 per byte, all ≤ 0x7F so nothing carries); the words' bytes
    kept are byte 0 and each byte after a continued one: contiguous passes over n words, one compress."""
    z = np.asarray(values)
    z = (z if z.dtype == np.uint64 else z.astype(np.uint64)).ravel()
    n = z.size
    if n == 0:
        return b""
    top = int(z.max())
    if top < 0x80:  # one byte each
        return z.astype(np.uint8).tobytes()
    m = (top.bit_length() + 6) // 7  # bytes of the largest value
    if m <= 8:
        width = 2 if m <= 2 else 4 if m <= 4 else 8
        dt = _WORDS[width]
        t = dt.type
        zz = z.astype(dt)
        w = zz & t(0x7F)
        for j in range(1, m):
            w |= (zz << t(j)) & t(0x7F << (8 * j))
        above = w >> t(8)  # byte j: the OR of bytes j + 1 … of w
        shift = 8
        while shift < 8 * (width - 1):
            above |= above >> t(shift)
            shift *= 2
        cont = (above + t(int.from_bytes(b"\x7f" * width, "little"))) & t(int.from_bytes(b"\x80" * width, "little"))
        w |= cont
        keep = (cont << t(1)) | t(1)  # 0/1 bytes: byte 0, and each byte after a continued one
        return w.view(np.uint8)[keep.view(np.bool_)].tobytes()
    # values of 2⁵⁶ and more: byte j written for the values that have it
    nb = np.ones(n, dtype=np.int64)
    levels = []
    idx = np.flatnonzero(z >= 0x80)
    t = np.uint64
    while idx.size:
        levels.append(idx)
        nb[idx] += 1
        if len(levels) + 1 >= m:
            break
        idx = idx[z[idx] >= t(1 << (7 * (len(levels) + 1)))]
    ends = np.cumsum(nb)
    starts = ends - nb
    out = np.empty(int(ends[-1]), dtype=np.uint8)
    low = (z & t(0x7F)).astype(np.uint8)
    low[levels[0]] |= 0x80
    out[starts] = low
    for j, idx in enumerate(levels, start=1):
        byte = ((z[idx] >> t(7 * j)) & t(0x7F)).astype(np.uint8)
        byte[nb[idx] > j + 1] |= 0x80
        out[starts[idx] + j] = byte
    return out.tobytes()


def _zigzag(v: Any) -> np.ndarray:
    """z = 2v (v ≥ 0), −2v − 1 (v < 0)."""
    v = np.asarray(v, dtype=np.int64)
    return ((v << 1) ^ (v >> 63)).view(np.uint64)


def _floats(values: Any) -> np.ndarray:
    """Numbers as float64 (text parsed, anything else missing → NaN); float64 input as it is (not
    copied: callers only read it)."""
    if isinstance(values, np.ndarray) and values.dtype == np.float64 and values.ndim == 1:
        return values
    if isinstance(values, pd.Series) and values.dtype == np.dtype("float64"):
        return values.to_numpy()
    s = pd.Series(values)
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        s = pd.to_numeric(s, errors="coerce")
    return s.astype("float64").to_numpy(na_value=np.nan)


def _num_column(values: Any, decimals: int) -> dict[str, Any]:
    """round(x × 10^d) → zig-zag + 1 (0 = missing) → varint → base64."""
    x = _floats(values)
    ok = np.isfinite(x)
    q = np.rint(np.where(ok, x, 0.0) * 10.0**decimals).astype(np.int64)  # missing: q = 0, so z = 0 below
    z = _zigzag(q)
    z += ok.view(np.uint8)
    return {"d": decimals, "b": _b64(_uvarint(z))}


def _arrow_text(values: Any) -> pa.Array | None:
    """A column of texts as one Arrow string array, null exactly where pandas sees a missing value, when
    it holds nothing but str (pandas' Arrow-backed string dtypes, or object columns of str); None for
    anything else (numbers, bytes, mixed), which the callers take the pandas way (written as str(x))."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):  # already converted (by this function)
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            return None
        return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    arr = arrow_text(s)
    if arr is None and pd.api.types.is_object_dtype(s.dtype):
        try:
            arr = pa.array(s.to_numpy(), from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError, OverflowError):
            return None
        # a string array: every value was a str or a missing marker (None, NaN, NA, NaT), which pandas'
        # isna sees as missing too, so the nulls are where pandas has them
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            return None
    if arr is None:
        return None
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _missing(s: pd.Series) -> np.ndarray:
    """Missing or blank (only whitespace) values of a column."""
    arr = _arrow_text(s)
    if arr is not None:
        return blank(arr).to_numpy(zero_copy_only=False)
    as_str = s.astype(object).where(s.notna(), "")
    return (s.isna() | (as_str.astype(str).str.strip() == "")).to_numpy()


def _text_series(values: Any) -> pd.Series:
    """Texts as a string Series, blank → missing."""
    s = pd.Series(values).reset_index(drop=True)
    miss = _missing(s)
    return s.astype("string").where(~miss, pd.NA)


def _text_arrow(values: Any) -> pa.Array:
    """Texts as one Arrow string array, blank → null (the texts of :func:`_text_series`)."""
    arr = _arrow_text(values)
    if arr is None:  # not all str: written as pandas writes them
        s = _text_series(values)
        return pa.array(s.astype(object).where(s.notna(), None).tolist(), type=pa.large_string())
    return pc.if_else(blank(arr), pa.scalar(None, arr.type), arr)


def _texts(values: Any) -> list[str | None]:
    return _text_arrow(values).to_pylist()


def _upper_codes(values: Any) -> pd.Series:
    """Grade letters as written ('a ', 'B') → 'A', 'B'; missing → None."""
    s = _text_series(values).str.strip().str.upper()
    return s.astype(object).where(s.notna(), None)


_FRONT_MAX_CELLS = 40_000_000


def _char_rows(padded: pa.Array, k: int, width: int, ascii_only: bool) -> np.ndarray:
    """``k`` texts of ``width`` code points each (no nulls) as a (k, width) matrix: bytes when all are
    ASCII, else UCS-4 code points (the UTF-8 data decoded once, not text by text)."""
    padded = padded.cast(pa.large_string())
    offs = np.frombuffer(padded.buffers()[1], dtype=np.int64)[padded.offset:padded.offset + k + 1]
    data = padded.buffers()[2]
    raw = np.frombuffer(data, dtype=np.uint8)[offs[0]:offs[-1]] if data is not None else np.zeros(0, np.uint8)
    if ascii_only:
        return raw.reshape(k, width)
    return np.frombuffer(raw.tobytes().decode("utf-8").encode("utf-32-le"), dtype=np.uint32).reshape(k, width)


def _strings(values: Any) -> dict[str, Any] | list[str | None]:
    """Front-and-back coding of a text column against the previous non-missing text (a column of few
    distinct texts, at most one per 8 rows, is dictionary coded instead: {"v": texts, "b": varint(code + 1),
    0 = missing}, as :func:`_codes`).

    For each text t_i after t_{i-1}: p = the common prefix length, s = the common suffix length of the
    rest (p + s ≤ both lengths), m = t_i[p : len − s]. Stored as varints (p + 1, s, |m|) per row (p + 1 =
    0 for missing), lengths in UTF-16 code units as JavaScript counts them, and all m concatenated in one
    string. Parcel codes in layer order and firm names ending in 有限公司 shrink to a few characters.
    Vectorised on a fixed-width matrix of code points (bytes when all texts are ASCII; UCS-4 otherwise)
    filled from Arrow's padded buffers; very long texts fall back to a plain list.
    """
    texts = _text_arrow(values)
    n = len(texts)
    # few distinct texts (reasons, statuses), at most n / 8: a dictionary is smaller. More than n / 8
    # distinct among the first n / 4 already rules it out (the usual case of codes and names)
    if n >= 64 and pc.count_distinct(texts.slice(0, n // 4)).as_py() * 8 <= n:
        enc = pc.dictionary_encode(texts)  # codes in order of first appearance, as pandas' factorize
        if len(enc.dictionary) * 8 <= n:
            return _dict_coded(enc)
    present = texts.is_valid().to_numpy(zero_copy_only=False)
    vals = texts.drop_null()
    k = len(vals)
    width = int(pc.max(pc.utf8_length(vals)).as_py()) if k else 0
    if k == 0 or width == 0 or k * width > _FRONT_MAX_CELLS:
        return texts.to_pylist()
    cols = np.arange(width)[None, :]
    # the texts padded to one width by Arrow, left- and right-aligned: one row of code points each
    ascii_only = pc.all(pc.string_is_ascii(vals)).as_py()
    mat = _char_rows(pc.utf8_rpad(vals, width=width, padding=" "), k, width, ascii_only)
    if not (mat == 0).any():  # no NUL character (padding is a space)
        right = _char_rows(pc.utf8_lpad(vals, width=width, padding=" "), k, width, ascii_only)
        ln = pc.utf8_length(vals).to_numpy().astype(np.int64)
    else:  # NUL characters (not expected in names): NUL-padded rows, lengths without the NULs
        mat = np.array(vals.to_pylist(), dtype=f"<U{width}").view(np.uint32).reshape(k, width)
        ln = (mat != 0).sum(axis=1)
        src = cols - (width - ln)[:, None]  # right-aligned view
        right = np.where(src >= 0, np.take_along_axis(mat, np.clip(src, 0, width - 1), axis=1), 0)
    prev_ln = np.concatenate([[0], ln[:-1]])
    minlen = np.minimum(ln, prev_ln)
    eq = np.zeros((k, width + 1), dtype=bool)  # a last False column: argmin finds the first mismatch
    eq[1:, :width] = mat[1:] == mat[:-1]
    pre = np.minimum(np.argmin(eq, axis=1), minlen)  # the padding lies beyond minlen: never counted
    req = np.zeros((k, width + 1), dtype=bool)  # reversed, with a last False column as above
    req[1:, :width] = (right[1:] == right[:-1])[:, ::-1]
    suf = np.minimum(np.argmin(req, axis=1), minlen - pre)
    # UTF-16 lengths: characters beyond the BMP count twice in JavaScript
    astral = mat > 0xFFFF if mat.dtype == np.uint32 else None
    if astral is not None and astral.any():
        acum = np.concatenate([np.zeros((k, 1), np.int64), np.cumsum(astral, axis=1, dtype=np.int64)], axis=1)
        rows = np.arange(k)
        a_pre = acum[rows, pre]
        a_mid_end = acum[rows, ln - suf]
        a_end = acum[rows, ln]
    else:  # no character beyond the BMP (the usual case): UTF-16 lengths are character counts
        a_pre = a_mid_end = a_end = 0
    pre16 = pre + a_pre
    suf16 = suf + (a_end - a_mid_end)
    mid16 = (ln - suf - pre) + (a_mid_end - a_pre)
    in_mid = (cols >= pre[:, None]) & (cols < (ln - suf)[:, None])
    middle = (mat[in_mid].astype("<u4").tobytes().decode("utf-32-le") if mat.dtype == np.uint32
              else mat[in_mid].tobytes().decode("ascii"))
    trip = np.zeros((n, 3), dtype=np.int64)
    trip[present, 0] = pre16 + 1
    trip[present, 1] = suf16
    trip[present, 2] = mid16
    return {"b": _b64(_uvarint(trip.ravel())), "m": middle}


def _dict_coded(enc: pa.DictionaryArray, mapping: Mapping[str, str] | None = None) -> dict[str, Any]:
    """{"v": the dictionary's texts (through ``mapping``), "b": varint(code + 1), 0 = null}."""
    vals = enc.dictionary.to_pylist()
    if mapping is not None:
        vals = [mapping.get(v, v) for v in vals]
    codes = pc.fill_null(pc.add(enc.indices.cast(pa.int64()), 1), 0).to_numpy()
    return {"v": vals, "b": _b64(_uvarint(codes))}


def _grade_codes(values: Any, mapping: Mapping[str, str] | None = None) -> dict[str, Any]:
    """:func:`_codes` of :func:`_upper_codes`: grade letters trimmed and upper-cased, in Arrow."""
    texts = _text_arrow(values)
    return _dict_coded(pc.dictionary_encode(pc.utf8_upper(pc.utf8_trim_whitespace(texts))), mapping)


def _codes(values: Any, mapping: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Dictionary encoding: {"v": distinct texts, "b": varint(code + 1), 0 = missing}."""
    arr = _arrow_text(values)
    if arr is not None:  # all str: coded in Arrow (equal texts, equal codes, as factorize on str)
        return _dict_coded(pc.dictionary_encode(pc.if_else(blank(arr), pa.scalar(None, arr.type), arr)),
                           mapping)
    s = pd.Series(values).reset_index(drop=True)
    miss = _missing(s)
    obj = s.astype(object).where(~miss, None)
    codes, uniques = pd.factorize(obj, use_na_sentinel=True)
    vals = [str(u) for u in uniques]
    if mapping is not None:
        vals = [mapping.get(v, v) for v in vals]
    return {"v": vals, "b": _b64(_uvarint(codes.astype(np.int64) + 1))}


def _truthy(s: pd.Series) -> np.ndarray:
    """Booleans as written in a GPKG/CSV: bool, 0/1, 'True'/'False', '是'."""
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.fillna(False).astype(bool).to_numpy()
    if pd.api.types.is_numeric_dtype(s.dtype):
        return (s.fillna(0).to_numpy(dtype="float64") != 0)
    return s.astype(object).where(s.notna(), "").astype(str).str.strip().str.lower().isin(_TRUE).to_numpy()


def _json_for_script(obj: Any) -> str:
    """JSON safe inside <script>: '<', '>', '&', U+2028/9 only occur in strings and are escaped."""
    return "".join(_json_pieces(obj))


def _json_pieces(obj: Any) -> list[str]:
    """:func:`_json_for_script` as pieces to join.

    Long base64 texts (:class:`_B64`, the bulk of a page) stand aside while the rest is dumped and
    escaped, each replaced by a placeholder found exactly once, then put back as '"' + text + '"' (what
    json.dumps writes for them), so the escaping passes read the small part only."""
    token = "\x00" + secrets.token_hex(8) + ":"
    big: list[str] = []

    def aside(o: Any) -> Any:
        if isinstance(o, dict):
            return {k: aside(v) for k, v in o.items()}
        if isinstance(o, _B64) and len(o) >= 1024:
            big.append(o)
            return f"{token}{len(big) - 1}"
        return o

    text = json.dumps(aside(obj), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    if not big:
        return [text]
    if text.count(json.dumps(token)[:-1]) != len(big):  # pragma: no cover - a text holding the random token
        return [_json_for_script_plain(obj)]
    pieces: list[str] = []
    at = 0
    for i, b in enumerate(big):  # placeholders come in the order they were set aside
        mark = json.dumps(f"{token}{i}")
        pos = text.find(mark, at)
        if pos < 0:  # pragma: no cover - cannot happen: each placeholder is written once
            return [_json_for_script_plain(obj)]
        pieces += [text[at:pos], '"', b, '"']
        at = pos + len(mark)
    pieces.append(text[at:])
    return pieces


def _json_for_script_plain(obj: Any) -> str:
    """:func:`_json_for_script` in one piece."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                    ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


# --------------------------------------------------------------------------------------------------
# geometry
# --------------------------------------------------------------------------------------------------
def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Polygons/MultiPolygons as they are; the polygon parts of collections; None when there is none."""
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    tid = shapely.get_type_id(geoms)
    bad = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    out[bad] = None
    other = ~bad & (tid != 3) & (tid != 6)
    if other.any():
        sub = np.flatnonzero(other)
        parts, idx = shapely.get_parts(geoms[sub], return_index=True)
        ptid = shapely.get_type_id(parts)
        if (ptid == 6).any():  # nested multipolygons inside collections
            parts, idx2 = shapely.get_parts(parts, return_index=True)
            idx = idx[idx2]
            ptid = shapely.get_type_id(parts)
        keep = (ptid == 3) & ~shapely.is_empty(parts)
        out[sub] = None
        if keep.any():
            uniq, inv = np.unique(idx[keep], return_inverse=True)
            out[sub[uniq]] = shapely.multipolygons(parts[keep], indices=inv)
    return out


def _polygon_parts(geoms: np.ndarray, tid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``shapely.get_parts(geoms, return_index=True)`` for Polygons (type id 3, taken as they are) and
    MultiPolygons (6, split): only the MultiPolygons are exploded, so no Polygon is copied (any other
    member: shapely's get_parts)."""
    geoms = np.asarray(geoms, dtype=object)
    if tid is None:
        tid = shapely.get_type_id(geoms)
    if not ((tid == 3) | (tid == 6)).all():
        return shapely.get_parts(geoms, return_index=True)
    multi = tid == 6
    nparts = np.ones(len(geoms), dtype=np.int64)
    if not multi.any():
        return geoms, np.arange(len(geoms))
    nparts[multi] = shapely.get_num_geometries(geoms[multi])
    sub, sidx = shapely.get_parts(geoms[multi], return_index=True)
    starts = np.cumsum(nparts) - nparts
    parts = np.empty(int(nparts.sum()), dtype=object)
    parts[starts[~multi]] = geoms[~multi]
    mstarts = starts[multi]
    first = np.searchsorted(sidx, np.arange(int(multi.sum())))  # first part of each MultiPolygon in sub
    parts[mstarts[sidx] + (np.arange(len(sub)) - first[sidx])] = sub
    return parts, np.repeat(np.arange(len(geoms)), nparts)


def _ragged_polygons(geoms: np.ndarray, tid: np.ndarray | None = None) -> tuple[np.ndarray, ...] | None:
    """(x/y coordinates, ring sizes, rings per part, parts per geometry) of Polygons/MultiPolygons, the
    numbers ``shapely.to_ragged_array`` gives, counted without copying each polygon and ring (holes
    are split into rings only for the polygons that have them). None when a geometry is missing, empty
    or not polygonal, or a part is empty. ``tid``: the type ids of geometries known to be non-empty."""
    geoms = np.asarray(geoms, dtype=object)
    if tid is None:
        tid = shapely.get_type_id(geoms)
        if not ((tid == 3) | (tid == 6)).all() or shapely.is_empty(geoms).any():
            return None
    parts, pidx = _polygon_parts(geoms, tid)
    if len(parts) != len(geoms) and shapely.is_empty(parts).any():
        return None
    parts_per_geom = np.bincount(pidx, minlength=len(geoms))
    holes = shapely.get_num_interior_rings(parts).astype(np.int64)
    rings_per_part = holes + 1
    ring_start = np.cumsum(rings_per_part) - rings_per_part
    ring_len = np.empty(int(rings_per_part.sum()), dtype=np.int64)
    simple = holes == 0
    ring_len[ring_start[simple]] = shapely.get_num_coordinates(parts[simple])
    if not simple.all():
        rings, ridx = shapely.get_rings(parts[~simple], return_index=True)
        rfirst = np.searchsorted(ridx, np.arange(int((~simple).sum())))
        ring_len[ring_start[~simple][ridx] + (np.arange(len(rings)) - rfirst[ridx])] = \
            shapely.get_num_coordinates(rings)
    coords = shapely.get_coordinates(geoms)
    if len(coords) != int(ring_len.sum()):  # pragma: no cover - a ring count GEOS disagrees with
        return None
    return coords, ring_len, rings_per_part, parts_per_geom


def _encode_geoms(geoms: np.ndarray, scale: int) -> dict[str, Any]:
    """Polygonal geometries (lon/lat) → {"s", "r" ring sizes, "p" rings per part, "g" parts per
    feature, "c" zig-zag deltas of the quantised coordinates} (see the module docstring)."""
    n = len(geoms)
    if n == 0:
        return {"s": scale, "r": "", "p": "", "g": "", "c": ""}
    ragged = _ragged_polygons(geoms)
    if ragged is None:  # missing, empty or non-polygonal members: shapely's ragged arrays (or its error)
        typ, coords, offsets = shapely.to_ragged_array(geoms)
        if typ == shapely.GeometryType.POLYGON:
            ring_off, geom_rings = offsets
            rings_per_part = np.diff(geom_rings)
            parts_per_geom = np.ones(n, dtype=np.int64)
        else:
            ring_off, part_off, geom_off = offsets
            rings_per_part = np.diff(part_off)
            parts_per_geom = np.diff(geom_off)
        ragged = (coords, np.diff(ring_off), rings_per_part, parts_per_geom)
    return _encode_ragged(*ragged, scale)


def _encode_ragged(coords: np.ndarray, ring_len: np.ndarray, rings_per_part: np.ndarray,
                   parts_per_geom: np.ndarray, scale: int) -> dict[str, Any]:
    """:func:`_encode_geoms` of geometries given as ragged arrays (display coordinates)."""
    ring_len = np.asarray(ring_len, dtype=np.int64)
    ring_off = np.concatenate([[0], np.cumsum(ring_len)])
    nr = ring_len.size
    q = np.rint(coords[:, :2] * scale).astype(np.int64)
    keep = np.ones(len(q), dtype=bool)
    keep[ring_off[1:] - 1] = False  # the closing vertex
    same = np.zeros(len(q), dtype=bool)
    same[1:] = (q[1:, 0] == q[:-1, 0]) & (q[1:, 1] == q[:-1, 1])
    same[ring_off[:-1]] = False
    cand = keep & ~same
    if nr and (ring_len > 0).all():  # sums per ring over consecutive runs
        cnt = np.add.reduceat(cand, ring_off[:-1], dtype=np.int64)
        final = np.where(np.repeat(cnt < 3, ring_len), keep, cand)
        new_len = np.add.reduceat(final, ring_off[:-1], dtype=np.int64)
    else:
        ring_id = np.repeat(np.arange(nr), ring_len)
        cnt = np.bincount(ring_id, weights=cand, minlength=nr)
        final = np.where((cnt < 3)[ring_id], keep, cand)
        new_len = np.bincount(ring_id[final], minlength=nr)
    q = q.view(np.complex128).ravel()[final].view(np.int64).reshape(-1, 2)  # whole x/y pairs selected
    dq = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    return {
        "s": scale,
        "r": _b64(_uvarint(new_len)),
        "p": _b64(_uvarint(rings_per_part)),
        "g": _b64(_uvarint(parts_per_geom)),
        "c": _b64(_uvarint(_zigzag(dq.ravel()))),
    }


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions starts[i] … starts[i] + lengths[i] − 1, for each i in turn."""
    lengths = np.asarray(lengths, dtype=np.int64)
    before = np.cumsum(lengths) - lengths
    return np.repeat(np.asarray(starts, dtype=np.int64) - before, lengths) + np.arange(int(lengths.sum()))


def _grouped_hulls(ragged: tuple[np.ndarray, ...], xy: np.ndarray, rows: np.ndarray,
                   group: np.ndarray, k: int) -> np.ndarray:
    """``shapely.convex_hull(shapely.multipolygons(parts, indices=group))`` of the parts of the geometries
    ``rows`` of a :func:`_ragged_polygons` result (``group`` per row, 0 … k − 1, each group used), from the
    display coordinates ``xy``: GEOS builds a hull from the set of distinct vertices of its input (then
    sorted radially; the order and the geometry type play no part), so each group's hull is taken of one
    LineString through its vertices (each ring's closing vertex, a repeat of its first, left out) instead
    of 10⁵ polygons built and walked."""
    _, ring_len, rings_per_part, parts_per_geom = ragged
    ring_len = np.asarray(ring_len, dtype=np.int64)
    rings_per_part = np.asarray(rings_per_part, dtype=np.int64)
    parts_per_geom = np.asarray(parts_per_geom, dtype=np.int64)
    gfirst = np.cumsum(parts_per_geom) - parts_per_geom  # (every geometry has a part, every part a ring)
    grings = np.add.reduceat(rings_per_part, gfirst)  # rings per geometry
    gcount = np.add.reduceat(ring_len, np.cumsum(grings) - grings)  # coordinates per geometry
    gstart = np.cumsum(gcount) - gcount
    rows = np.asarray(rows, dtype=np.int64)
    srows = rows[np.argsort(group, kind="stable")]
    idx = _ranges(gstart[srows], gcount[srows])  # the groups' coordinates, group after group
    cnt = np.bincount(group, weights=gcount[rows], minlength=k).astype(np.int64)
    if len(ring_len) and int(ring_len.min()) >= 2:  # each ring's closing vertex: no new vertex
        opening = np.ones(len(xy), dtype=bool)
        opening[np.cumsum(ring_len) - 1] = False
        idx = idx[opening[idx]]
        cnt -= np.bincount(group, weights=grings[rows], minlength=k).astype(np.int64)
    if len(cnt) != k or int(cnt.min()) < 2:  # pragma: no cover - every group has a ring of ≥ 4 coordinates
        raise ValueError("a park without vertices")
    lines = shapely.linestrings(xy[idx], indices=np.repeat(np.arange(k), cnt))
    return shapely.convex_hull(lines)


def _source_polygons(gdf: gpd.GeoDataFrame, *, public: bool) -> tuple[np.ndarray, tuple[np.ndarray, ...]] | None:
    """When display coordinates may be computed without building display geometries (not public: no
    simplification; a CRS; no Z; nothing but Polygons and MultiPolygons besides missing or empty ones;
    no empty part): the geometries as :func:`_polygonal` returns them (missing/empty → None) and the
    :func:`_ragged_polygons` of the others, in the source CRS. None otherwise."""
    if public or len(gdf) == 0 or gdf.geometry.crs is None:
        return None
    arr = np.asarray(gdf.geometry.array, dtype=object)
    tid = shapely.get_type_id(arr)
    bad = shapely.is_missing(arr) | shapely.is_empty(arr)
    if not ((tid == 3) | (tid == 6) | bad).all() or shapely.has_z(arr).any():
        return None
    ragged = _ragged_polygons(arr[~bad], tid[~bad])
    if ragged is None:
        return None
    out = arr.copy()
    out[bad] = None
    return out, ragged


def _display_xy(geo: gpd.GeoSeries, coords: np.ndarray, gaode: bool,
                ring_len: np.ndarray | None = None) -> np.ndarray:
    """x/y in ``geo``'s CRS → display lon/lat, the numbers :func:`_to_display` gives (not public): the
    transformer of GeoSeries.to_crs(4326), then GCJ-02 for 高德, point by point. With ``ring_len`` (the
    coordinates' ring sizes) the closing vertex of each ring, bit for bit its first one, is not
    transformed but copied from the first one's result (a point's result does not depend on the others)."""
    xy = coords
    if not geo.crs.equals("EPSG:4326"):
        tr = _wgs84_transformer(geo.crs)
        closing = _closing_vertices(coords, ring_len)
        if closing is None:
            xy = np.array(tr.transform(coords[:, 0], coords[:, 1])).T
        else:  # vertices as complex numbers x + iy: one 16-byte element each to select and place
            first, last, pts = closing
            keep = np.ones(len(pts), dtype=bool)
            keep[last] = False
            sub = pts[keep]
            x, y = np.ascontiguousarray(sub.real), np.ascontiguousarray(sub.imag)
            tr.transform(x, y, inplace=True)
            sub.real, sub.imag = x, y
            out = np.empty(len(pts), dtype=np.complex128)
            out[keep] = sub
            out[last] = out[first]
            xy = out.view(np.float64).reshape(-1, 2)
    if gaode:
        from parkland.geo.crs import wgs84_to_gcj02

        c = np.ascontiguousarray(xy)
        x, y = wgs84_to_gcj02(c[:, 0], c[:, 1])
        xy = np.column_stack([x, y])
    return np.ascontiguousarray(xy)


def _closing_vertices(coords: np.ndarray,
                      ring_len: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(first, last coordinate position of each ring, the coordinates as complex x + iy) when the
    coordinates are float64 x/y, every ring has at least 2 of them and its last equals its first bit
    for bit; None otherwise."""
    if (ring_len is None or len(ring_len) == 0 or coords.ndim != 2 or coords.shape[1] != 2
            or coords.dtype != np.float64):
        return None
    ring_len = np.asarray(ring_len, dtype=np.int64)
    if int(ring_len.min()) < 2 or int(ring_len.sum()) != len(coords):
        return None
    last = np.cumsum(ring_len) - 1
    first = last - (ring_len - 1)
    pts = np.ascontiguousarray(coords).view(np.complex128).ravel()
    same = np.array_equal(pts[first].view(np.uint64), pts[last].view(np.uint64))
    return (first, last, pts) if same else None


@functools.lru_cache(maxsize=8)
def _wgs84_transformer(crs: Any) -> Any:
    """The pyproj transformer GeoSeries.to_crs(4326) builds for ``crs`` (always_xy)."""
    from pyproj import CRS, Transformer

    return Transformer.from_crs(crs, CRS.from_user_input(4326), always_xy=True)


def _gcj_shift(geoms: np.ndarray) -> np.ndarray:
    from parkland.geo.crs import wgs84_to_gcj02

    def fn(c: np.ndarray) -> np.ndarray:
        x, y = wgs84_to_gcj02(c[:, 0], c[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, fn)


#: reasons whose label states a tax or revenue fact, and what a public map says instead
_PUBLIC_REASON = {"LOW_TAX": "LOW_EFFICIENCY_PUBLIC", "LOW_TAX_PARK": "LOW_EFFICIENCY_PUBLIC",
                  "LOW_REVENUE": "LOW_EFFICIENCY_PUBLIC", "STOPPED": "STOPPED_PUBLIC"}


def _public_reasons(codes: str | None) -> str:
    """Reason codes for a public map: tax/revenue facts replaced by neutral ones (duplicates dropped)."""
    out = [_PUBLIC_REASON.get(c, c) for c in str(codes or "").split(";") if c]
    return ";".join(dict.fromkeys(out))


def _to_display(gdf: gpd.GeoDataFrame, *, public: bool, gaode: bool, lang: str,
                warnings: list[str], what: tuple[str, str]) -> np.ndarray:
    """Geometries in EPSG:4326 (public: simplified by 5 m in a metric CRS first; 高德: GCJ-02)."""
    if len(gdf) == 0:
        return np.empty(0, dtype=object)
    geo = gdf.geometry
    if geo.crs is None:
        minx, miny, maxx, maxy = geo.total_bounds
        if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90:
            warnings.append(_msg(lang, f"{what[0]}图层没有坐标系，按经纬度（EPSG:4326）显示",
                                 f"the {what[1]} layer has no CRS; drawn as longitude/latitude (EPSG:4326)"))
            geo = geo.set_crs(4326)
        else:
            raise InputError(f"{what[0]}图层没有坐标系，无法绘制地图", f"the {what[1]} layer has no CRS; cannot map it",
                             hint_zh="请用 --crs 指定坐标系后重新运行", hint_en="pass --crs and run again")
    if public:
        metric = geo.crs.is_projected and geo.crs.to_epsg() != 3857
        if not metric:
            work = geo.to_crs(geo.estimate_utm_crs())
            geo = work.simplify(PUBLIC_SIMPLIFY_M, preserve_topology=True).to_crs(4326)
        else:
            geo = geo.simplify(PUBLIC_SIMPLIFY_M, preserve_topology=True)
    if not geo.crs.equals("EPSG:4326"):
        geo = geo.to_crs(4326)
    arr = np.asarray(geo.array, dtype=object)
    if gaode:
        arr = _gcj_shift(arr)
    return arr


# --------------------------------------------------------------------------------------------------
# class breaks
# --------------------------------------------------------------------------------------------------
def _nice(x: float, digits: int = 2) -> float:
    """x rounded to ``digits`` significant digits (12.345 → 12, 0.01234 → 0.012, 1234 → 1200)."""
    if x == 0 or not math.isfinite(x):
        return 0.0
    e = math.floor(math.log10(abs(x))) - (digits - 1)
    return float(round(x / 10.0**e) * 10.0**e) if e >= 0 else round(x, -e)


def nice_breaks(values: Any, k: int = 5) -> list[float]:
    """Inner class breaks b₁ < … < b_{m} for a choropleth of ``values``: the ``k``-quantile upper
    bounds (linear interpolation at 100·i/k %, i = 1…k, exactly what ``mapclassify.Quantiles``
    computes, without its 1.4 s scipy import) but the maximum, rounded to 2 significant digits,
    deduplicated. Classes are x < b₁, b₁ ≤ x < b₂, …, x ≥ b_m; missing and infinite values are left out.
    """
    x = _floats(values)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return []
    distinct = np.unique(x[:4096]).size  # k distinct values among the first ones settle it
    kk = int(min(k, distinct if distinct >= k else np.unique(x).size))
    if kk < 2:
        return []
    pct = np.minimum(np.arange(1, kk + 1) * (100.0 / kk), 100.0)
    bins = np.unique(np.percentile(x, pct))[:-1]
    out = sorted({_nice(float(b)) for b in bins})
    lo, hi = float(x.min()), float(x.max())
    out = [b for b in out if lo < b <= hi] or [b for b in out if lo <= b <= hi]
    return out


def _fmt_break(b: float) -> str:
    return f"{b:,.6g}"


def _choropleth_legend(breaks: list[float], colors: list[str], lang: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    if not breaks:
        items.append({"c": colors[0], "t": _msg(lang, "全部", "all")})
    else:
        items.append({"c": colors[0], "t": f"< {_fmt_break(breaks[0])}"})
        for i in range(1, len(breaks)):
            items.append({"c": colors[i], "t": f"{_fmt_break(breaks[i - 1])} – {_fmt_break(breaks[i])}"})
        items.append({"c": colors[len(breaks)], "t": f"≥ {_fmt_break(breaks[-1])}"})
    items.append({"c": None, "o": UNGRADED_COLOR, "t": lb.label("map_no_data", lang)})
    return items


# --------------------------------------------------------------------------------------------------
# base maps
# --------------------------------------------------------------------------------------------------
_TDT = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
        "&TILECOL={x}&tk={key}")


def _basemap(basemap: str, *, public: bool, lang: str,
             warnings: list[str]) -> tuple[dict[str, Any] | None, bool]:
    """(tile spec for the page or None, whether overlays are shifted to GCJ-02)."""
    b = (basemap or "none").strip()
    low = b.lower()
    if low == "none":
        return None, False
    if low == "tianditu":
        key = os.environ.get("PARKLAND_TIANDITU_KEY", "").strip()
        if public:
            warnings.append(_msg(lang, "公开版地图不嵌入天地图密钥：未加底图",
                                 "a public map embeds no Tianditu key: no base map"))
            return None, False
        if not key:
            warnings.append(_msg(lang, "未设置天地图密钥（环境变量 PARKLAND_TIANDITU_KEY）：未加底图",
                                 "no Tianditu key (environment PARKLAND_TIANDITU_KEY): no base map"))
            return None, False
        warnings.append(_msg(lang, "天地图密钥已写入地图页面，任何拿到文件的人都能看到它",
                             "the Tianditu key is embedded in the page: anyone with the file can read it"))
        urls = [_TDT.replace("{layer}", lay).replace("{key}", key) for lay in ("vec", "cva")]
        return {"name": lb.label("map_basemap_tianditu", lang), "urls": urls, "sub": "01234567",
                "attr": "天地图 © 国家地理信息公共服务平台", "maxZoom": 18}, False
    if low == "gaode":
        return {"name": lb.label("map_basemap_gaode", lang),
                "urls": ["https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
                         "&x={x}&y={y}&z={z}"], "sub": "1234", "attr": "© 高德地图", "maxZoom": 18}, True
    if low == "osm":
        return {"name": lb.label("map_basemap_osm", lang),
                "urls": ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"], "sub": "",
                "attr": "© OpenStreetMap contributors", "maxZoom": 19}, False
    if all(t in b for t in ("{x}", "{y}", "{z}")) and re.match(r"^(https?:)?//|^[\w./-]", b):
        return {"name": lb.label("map_basemap_custom", lang), "urls": [b],
                "sub": "abc" if "{s}" in b else "", "attr": "", "maxZoom": 20}, False
    raise InputError(
        f"底图「{b}」无法识别", f'base map "{b}" not understood', column="--basemap",
        hint_zh="可选 none、tianditu、gaode、osm，或含 {x}{y}{z} 的瓦片地址模板",
        hint_en="use none, tianditu, gaode, osm, or a tile URL template with {x}{y}{z}")


def _raster_overlay(path: str | os.PathLike[str], *, gaode: bool, lang: str, warnings: list[str],
                    max_px: int = RASTER_MAX_PX) -> dict[str, Any] | None:
    """A GeoTIFF as a PNG data URI and its lon/lat bounds for an L.imageOverlay.

    Resampled (bilinear) into Web Mercator, the grid Leaflet stretches an image over, at most
    ``max_px`` pixels on its longer side; the bounds are the corners in WGS84 (GCJ-02 on 高德).
    One band → grey, three or more → RGB; values stretched linearly between the 2nd and 98th
    percentile unless already 8-bit; nodata / NaN transparent.
    """
    import rasterio
    from affine import Affine
    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.io import MemoryFile
    from rasterio.warp import Resampling, reproject, transform_bounds

    p = Path(path)
    if not p.is_file():
        raise InputError("影像文件不存在", "raster file not found", file=p)
    with rasterio.open(p) as src:
        if src.crs is None:
            warnings.append(_msg(lang, f"影像 {p.name} 没有坐标系：未加影像底图",
                                 f"raster {p.name} has no CRS: not added"))
            return None
        left, bottom, right, top = transform_bounds(src.crs, "EPSG:3857", *src.bounds, densify_pts=21)
        w_m, h_m = right - left, top - bottom
        px = max(src.width, src.height)
        size = min(max_px, max(px, 1))
        if w_m >= h_m:
            width, height = size, max(1, round(size * h_m / w_m))
        else:
            width, height = max(1, round(size * w_m / h_m)), size
        dst_t = Affine((right - left) / width, 0.0, left, 0.0, -(top - bottom) / height, top)
        bands = [1, 2, 3] if src.count >= 3 else [1]
        eight_bit = all(src.dtypes[b - 1] == "uint8" for b in bands)
        data = np.full((len(bands), height, width), np.nan, dtype="float32")
        for i, b in enumerate(bands):
            reproject(source=rasterio.band(src, b), destination=data[i], src_transform=src.transform,
                      src_crs=src.crs, src_nodata=src.nodata, dst_transform=dst_t, dst_crs="EPSG:3857",
                      dst_nodata=np.nan, resampling=Resampling.bilinear)
    valid = np.isfinite(data).all(axis=0)
    rgb = np.zeros((3, height, width), dtype="uint8")
    for i in range(len(bands)):
        band = data[i]
        if eight_bit:
            scaled = np.clip(np.nan_to_num(band), 0, 255)
        else:
            v = band[valid]
            lo, hi = (np.percentile(v, [2, 98]) if v.size else (0.0, 1.0))
            hi = hi if hi > lo else lo + 1.0
            scaled = np.clip((np.nan_to_num(band, nan=lo) - lo) / (hi - lo) * 255.0, 0, 255)
        rgb[i] = scaled.astype("uint8")
    if len(bands) == 1:
        rgb[1] = rgb[0]
        rgb[2] = rgb[0]
    alpha = np.where(valid, 255, 0).astype("uint8")
    with warnings_mod.catch_warnings():
        warnings_mod.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile() as mem:
            with mem.open(driver="PNG", width=width, height=height, count=4, dtype="uint8") as dst:
                dst.write(rgb, [1, 2, 3])
                dst.write(alpha, 4)
            png = mem.read()
    west, south, east, north = transform_bounds("EPSG:3857", "EPSG:4326", left, bottom, right, top)
    if gaode:
        from parkland.geo.crs import wgs84_to_gcj02

        (west, east), (south, north) = wgs84_to_gcj02(np.array([west, east]), np.array([south, north]))
    return {"name": lb.label("map_basemap_raster", lang) + f"（{p.name}）",
            "uri": "data:image/png;base64," + _b64(png),
            "bounds": [[float(south), float(west)], [float(north), float(east)]]}


# --------------------------------------------------------------------------------------------------
# the page
# --------------------------------------------------------------------------------------------------
def _col(df: pd.DataFrame, name: str) -> pd.Series | None:
    if name in df.columns and not df[name].isna().all():
        return df[name].reset_index(drop=True)
    return None


def _field_specs(df: pd.DataFrame, fields: Mapping[str, tuple[int, str]], lang: str,
                 label_fn: Any = None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    specs: list[dict[str, Any]] = []
    cols: dict[str, Any] = {}
    for key, (d, kind) in fields.items():
        if key not in df.columns:
            continue
        s = df[key]
        if not (isinstance(s, pd.Series) and s.dtype == np.dtype("float64")):  # all missing: no finite value
            s = _col(df, key)
            if s is None:
                continue
        fl = _floats(s)
        if not np.isfinite(fl).any():
            continue
        specs.append({"k": key, "t": label_fn(key) if label_fn else lb.label(key, lang), "d": d, "f": kind})
        cols[key] = _num_column(fl, d)
    return specs, cols


def _part_label(col: str, lang: str) -> str:
    ind = col[len("part_"):]
    base = lb.label(ind, lang)
    base = re.split(r"[（(]", base)[0].strip()
    return f"{base}{lb.label('map_part_suffix', lang)}" if lang != "en" else f"{base} {lb.label('map_part_suffix', lang)}"


def _arrow_strings(values: Any) -> pa.Array:
    """Texts as one Arrow large_string array (missing → null; numbers as their text)."""
    arr = _arrow_text(values)
    if arr is not None:  # all str already: no round trip through Python objects
        return arr.cast(pa.large_string())
    arr = pa.array(pd.Series(values).reset_index(drop=True).astype("string").array)
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return arr.cast(pa.large_string())


def _firm_links(firms: pd.DataFrame, parcel_ids: pd.Series | pa.Array) -> pd.DataFrame:
    """(f = firm position, p = parcel position) for every parcel code of a firm found among the parcels,
    sorted by (p, f). The ";"-joined codes are split and trimmed in Arrow (no Python string per code)."""
    if "parcel_ids" not in firms.columns or len(firms) == 0 or len(parcel_ids) == 0:
        return pd.DataFrame({"f": np.empty(0, np.int64), "p": np.empty(0, np.int64)})
    lists = pc.split_pattern(_arrow_strings(firms["parcel_ids"]), pattern=";")
    flat = pc.utf8_trim_whitespace(pc.list_flatten(lists))
    keep = pc.fill_null(pc.not_equal(flat, ""), False)
    f = np.asarray(pc.list_parent_indices(lists).filter(keep)).astype(np.int64)
    codes = flat.filter(keep)
    # the parcels' codes, distinct: each firm code → its distinct code → every parcel position holding it
    enc = pc.dictionary_encode(_arrow_strings(parcel_ids))
    pcode = pc.fill_null(enc.indices.cast(pa.int64()), -1).to_numpy()
    u = pc.index_in(codes, value_set=enc.dictionary)
    hit = u.is_valid().to_numpy(zero_copy_only=False)
    u = pc.fill_null(u, 0).to_numpy().astype(np.int64)[hit]
    f = f[hit]
    order = np.argsort(pcode, kind="stable")
    order = order[pcode[order] >= 0]
    size = np.bincount(pcode[order], minlength=len(enc.dictionary))
    first = np.cumsum(size) - size
    rep = size[u]
    within = np.arange(int(rep.sum())) - np.repeat(np.cumsum(rep) - rep, rep)
    p = order[np.repeat(first[u], rep) + within]
    nf = np.int64(len(firms))
    key = np.sort(p * nf + np.repeat(f, rep))  # (p, f) sorted by p then f; repeats dropped below
    key = key[np.concatenate([[True], key[1:] != key[:-1]])] if len(key) else key
    return pd.DataFrame({"f": key % nf, "p": key // nf})


def _point_firms(firms: pd.DataFrame) -> np.ndarray:
    """Firms without land that have coordinates (status no_land / parcel_not_found, or no parcel code)."""
    if len(firms) == 0 or "lon" not in firms.columns or "lat" not in firms.columns:
        return np.zeros(len(firms), dtype=bool)
    lon, lat = _floats(firms["lon"]), _floats(firms["lat"])
    ok = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    if "status" in firms.columns:
        noland = firms["status"].astype(object).isin(_POINT_STATUSES).to_numpy()
    elif "parcel_ids" in firms.columns:
        noland = _missing(firms["parcel_ids"])
    else:
        noland = np.ones(len(firms), dtype=bool)
    return ok & noland


def _grade_labels(lang: str) -> dict[str, str]:
    return {g: lb.label(g, lang) for g in lb.GRADE_COLORS}


def build_map_html(
    parcels: gpd.GeoDataFrame,
    firms: pd.DataFrame | None,
    *,
    parks: gpd.GeoDataFrame | None = None,
    cleanup: pd.DataFrame | None = None,
    basemap: str = "none",
    public: bool = False,
    title: str | None = None,
    lang: str = "zh",
    raster: str | os.PathLike[str] | None = None,
    home: str | None = None,
) -> tuple[str, list[str]]:
    """The bureau map as one self-contained HTML page, and the warnings to print.

    ``parcels``: the parcels.gpkg columns (any CRS; missing columns are simply left out);
    ``firms``: the firms.csv columns (``parcel_ids`` ";"-joined; lon/lat WGS84); ``parks``: park
    boundaries with a ``park`` column (else each park's convex hull of parcels is drawn); ``cleanup``:
    the cleanup candidates (parcel_id, rank, selected, reasons…); ``basemap``: "none" (no request at
    all), "tianditu" (key from PARKLAND_TIANDITU_KEY, embedded: warned), "gaode" (overlays shifted to
    GCJ-02 for display), "osm" or a URL template with {x}{y}{z}; ``raster``: a GeoTIFF drawn as an
    offline base map; ``public``: no tax/revenue/score/part figure, coarsened geometry, no tile key;
    ``home``: a relative link back to the parks overview (per-park pages of a large city).
    """
    lang = "en" if lang == "en" else "zh"
    warnings: list[str] = []
    tiles, gaode = _basemap(basemap, public=public, lang=lang, warnings=warnings)
    firms = pd.DataFrame() if firms is None else firms.reset_index(drop=True)
    scale = PUBLIC_GEOM_SCALE if public else GEOM_SCALE
    pfields = _PARCEL_FIELDS_PUBLIC if public else _PARCEL_FIELDS_INTERNAL

    # ---- parcels
    par = parcels.reset_index(drop=True)
    src = _source_polygons(par, public=public)
    ragged = None  # the drawn parcels as ragged arrays in their own CRS, and `xy` their display lon/lat
    if src is not None:  # projected once, coordinates only (no display geometry is built)
        disp, ragged = src  # in the source CRS
        xy = _display_xy(par.geometry, ragged[0], gaode, ragged[1])
    else:
        disp = _polygonal(_to_display(par, public=public, gaode=gaode, lang=lang, warnings=warnings,
                                      what=("宗地", "parcel")))
    has = ~shapely.is_missing(disp) if len(disp) else np.zeros(0, bool)
    if (~has).any():
        warnings.append(_msg(lang, f"{int((~has).sum())} 宗地没有面状图形，未画入地图",
                             f"{int((~has).sum())} parcels have no polygon and are not drawn"))
        par = par[has].reset_index(drop=True)
        disp = disp[has]
    n = len(par)
    ids = (par["parcel_id"] if "parcel_id" in par.columns
           else pd.Series(par.get("source_row", pd.Series(np.arange(1, n + 1))), dtype=object))
    ids = ids.reset_index(drop=True)
    ids_text = _arrow_text(ids)  # converted once for the coding, the firms' links and the cleanup
    ids_any = ids if ids_text is None else ids_text
    geom = _encode_ragged(xy, *ragged[1:], scale) if ragged is not None else _encode_geoms(disp, scale)
    pdata: dict[str, Any] = {"n": n, "geom": geom, "id": _strings(ids_any)}
    pspecs, pcols = _field_specs(par, pfields, lang)
    pdata["num"] = pcols
    pdata["fields"] = pspecs
    if _col(par, "park") is not None:
        pdata["park"] = _codes(par["park"])
    grade_lab = _grade_labels(lang)
    grade_s = _col(par, "grade")
    if grade_s is not None:
        pdata["grade"] = _grade_codes(grade_s)
    flags = np.zeros(n, dtype=np.int64)
    present_flags = []
    for colname, (bit, _c) in FLAGS.items():
        if colname in par.columns:
            t = _truthy(par[colname])
            flags |= np.where(t, bit, 0)
            present_flags.append(colname)
    if present_flags:
        pdata["flags"] = _b64(_uvarint(flags))
    if _col(par, "flag_reasons") is not None:
        rs = par["flag_reasons"]
        codes = _codes(rs)
        codes["v"] = [lb.reasons_text(_public_reasons(v) if public else v, lang) for v in codes["v"]]
        pdata["reasons"] = codes

    # ---- cleanup
    cl_state = None
    if cleanup is not None and len(cleanup) and "parcel_id" in cleanup.columns and n:
        c = pd.DataFrame(cleanup).reset_index(drop=True)
        sel = _truthy(c["selected"]) if "selected" in c.columns else np.zeros(len(c), bool)
        rank = _floats(c["rank"]) if "rank" in c.columns else np.full(len(c), np.nan)
        cpid, ipid = _arrow_text(c["parcel_id"]), ids_text
        if cpid is not None and ipid is not None and not cpid.null_count and not ipid.null_count:
            # texts on both sides: each parcel's first cleanup row with its code, looked up in Arrow
            at = pc.index_in(ipid.cast(pa.large_string()), value_set=cpid.cast(pa.large_string()))
            hit = at.is_valid().to_numpy(zero_copy_only=False)
            at = pc.fill_null(at, 0).to_numpy().astype(np.int64)
            cl_state = np.where(hit, np.where(sel, 2, 1)[at], 0).astype(np.int64)
            cl_rank = np.where(hit, rank[at], np.nan)
        else:
            cc = pd.DataFrame({"pid": c["parcel_id"].astype(object).astype(str).to_numpy(),
                               "st": np.where(sel, 2, 1), "rank": rank}).drop_duplicates("pid")
            pos = pd.DataFrame({"pid": ids.astype(object).astype(str).to_numpy(), "p": np.arange(n)})
            j = pos.merge(cc, on="pid", how="left")
            cl_state = j["st"].fillna(0).to_numpy(dtype=np.int64)
            cl_rank = j["rank"].to_numpy(dtype=np.float64)
        if cl_state.any():
            pdata["cl"] = _b64(_uvarint(cl_state))
            pdata["clRank"] = _num_column(cl_rank, 0)
        else:
            cl_state = None

    # ---- firms on the parcels, and firms without land as points
    links = _firm_links(firms, ids_any)
    pts_mask = _point_firms(firms)
    in_use = np.zeros(len(firms), dtype=bool)
    in_use[links["f"].to_numpy()] = True
    in_use |= pts_mask
    used = np.flatnonzero(in_use)  # sorted, distinct
    if len(firms):  # only the columns read below are copied
        fsub = firms.loc[:, [c in _MAP_FIRM_COLUMNS or str(c).startswith("part_") for c in firms.columns]]
        fsub = fsub.iloc[used].reset_index(drop=True)
    else:
        fsub = firms
    remap = np.full(len(firms), -1, dtype=np.int64)
    remap[used] = np.arange(used.size)
    counts = np.bincount(links["p"].to_numpy(), minlength=n) if n else np.zeros(0, np.int64)
    pdata["fc"] = _b64(_uvarint(counts))
    pdata["fi"] = _b64(_uvarint(remap[links["f"].to_numpy()]))
    fdata: dict[str, Any] = {"n": len(fsub)}
    if len(fsub):
        fdata["name"] = _strings(fsub["name"]) if "name" in fsub.columns else [None] * len(fsub)
        if "uscc" in fsub.columns:
            fdata["uscc"] = _strings(fsub["uscc"])
        if "grade" in fsub.columns:
            fdata["grade"] = _grade_codes(fsub["grade"], grade_lab)
        if "status" in fsub.columns:
            smap = {k: v[1 if lang == "en" else 0] for k, v in lb.STATUS_LABELS.items()}
            fdata["status"] = _codes(fsub["status"], smap)
        if not public:
            if _col(fsub, "status_reason") is not None:
                fdata["reason"] = _strings(fsub["status_reason"])
            fspecs, fcols = _field_specs(fsub, _FIRM_FIELDS_INTERNAL, lang)
            parts = {c: (2, "num") for c in fsub.columns if str(c).startswith("part_")}
            pspec2, pcols2 = _field_specs(fsub, parts, lang, label_fn=lambda c: _part_label(c, lang))
            fdata["fields"], fdata["parts"] = fspecs, pspec2
            fdata["num"] = {**fcols, **pcols2}
    pts_idx = remap[np.flatnonzero(pts_mask)]
    points: dict[str, Any] | None = None
    if pts_idx.size:
        lon = _floats(firms["lon"])[pts_mask]
        lat = _floats(firms["lat"])[pts_mask]
        if gaode:
            from parkland.geo.crs import wgs84_to_gcj02

            lon, lat = wgs84_to_gcj02(lon, lat)
        d = 4 if public else 6
        points = {"f": pts_idx.tolist(), "lat": np.round(lat, d).tolist(), "lon": np.round(lon, d).tolist()}

    # ---- parks
    parks_data: dict[str, Any] | None = None
    if parks is not None and len(parks) and "park" in parks.columns:
        pk = parks.reset_index(drop=True)
        pg = _polygonal(_to_display(pk, public=public, gaode=gaode, lang=lang, warnings=warnings,
                                    what=("园区", "park")))
        ok = ~shapely.is_missing(pg) if len(pg) else np.zeros(0, bool)
        if ok.any():
            parks_data = {"name": _texts(pk["park"][ok]), "geom": _encode_geoms(pg[ok], scale),
                          "hull": False}
    elif _col(par, "park") is not None and n:
        ptext = _arrow_text(par["park"])
        if ptext is not None:  # all str: the same codes from Arrow (first appearance order)
            ptext = pc.if_else(blank(ptext), pa.scalar(None, ptext.type), ptext)
            okp = ptext.is_valid().to_numpy(zero_copy_only=False)
            enc = pc.dictionary_encode(ptext.drop_null())
            codes_ = enc.indices.to_numpy().astype(np.int64)
            uniq = np.asarray(enc.dictionary.to_pylist(), dtype=object)
        else:
            names = par["park"].astype(object).where(~_missing(par["park"]), None)
            okp = names.notna().to_numpy()
            codes_, uniq = pd.factorize(names[okp]) if okp.any() else (np.zeros(0, np.int64), [])
        if okp.any():
            if ragged is not None:  # the same hulls, from the display coordinates
                hull = _polygonal(_grouped_hulls(ragged, xy, np.flatnonzero(okp), codes_, len(uniq)))
            else:
                parts, gi = _polygon_parts(disp[okp])
                order = np.argsort(codes_[gi], kind="stable")
                mp = shapely.multipolygons(parts[order], indices=codes_[gi][order])
                hull = _polygonal(shapely.convex_hull(mp))
            ok = ~shapely.is_missing(hull)
            if ok.any():
                parks_data = {"name": [str(u) for u in np.asarray(uniq, dtype=object)[ok]],
                              "geom": _encode_geoms(hull[ok], scale), "hull": True}

    # ---- layers and legends
    gcolors = dict(lb.GRADE_COLORS)
    layers: list[dict[str, Any]] = []
    grade_legend = [{"c": gcolors[g], "t": grade_lab[g]} for g in gcolors]
    grade_legend.append({"c": None, "o": UNGRADED_COLOR, "t": lb.label("map_ungraded", lang)})
    layers.append({"key": "grade", "kind": "grade", "name": lb.label("map_layer_grade", lang), "on": True,
                   "legend": grade_legend})
    if not public:
        for colname in CHOROPLETHS:
            if colname not in pcols:
                continue
            breaks = nice_breaks(par[colname])
            colors = RAMPS[len(breaks) + 1] if len(breaks) + 1 in RAMPS else RAMPS[6]
            layers.append({"key": colname, "kind": "choropleth", "col": colname,
                           "name": lb.label(colname, lang), "breaks": breaks, "colors": colors,
                           "legend": _choropleth_legend(breaks, colors, lang)})
    for colname in present_flags:
        bit, color = FLAGS[colname]
        cnt = int(((flags & bit) > 0).sum())
        layers.append({"key": colname, "kind": "flag", "bit": bit, "color": color,
                       "name": f"{lb.label(colname, lang)}（{cnt}）" if lang != "en" else f"{lb.label(colname, lang)} ({cnt})",
                       "legend": [{"c": color, "t": lb.label(colname, lang)}]})
    if cl_state is not None:
        layers.append({"key": "cleanup", "kind": "cleanup", "name": lb.label("map_layer_cleanup", lang),
                       "legend": [{"c": CLEANUP_SELECTED, "o": CLEANUP_SELECTED,
                                   "t": lb.label("map_selected", lang)},
                                  {"c": None, "o": CLEANUP_CANDIDATE, "dash": True,
                                   "t": lb.label("map_candidate", lang)}]})
    if parks_data is not None:
        key = "map_layer_parks_hull" if parks_data["hull"] else "map_layer_parks"
        layers.append({"key": "parks", "kind": "parks", "name": lb.label(key, lang), "on": True,
                       "legend": [{"c": None, "o": PARK_COLOR, "dash": True, "t": lb.label(key, lang)}]})
    if points is not None:
        layers.append({"key": "points", "kind": "points", "name": lb.label("map_layer_firms_no_land", lang),
                       "on": True, "legend": [{"c": "#ffffff", "o": "#444444", "dot": True,
                                               "t": lb.label("map_layer_firms_no_land", lang)}]})

    raster_spec = None
    if raster is not None:
        raster_spec = _raster_overlay(raster, gaode=gaode, lang=lang, warnings=warnings)

    page_title = title or lb.label("map_title", lang)
    text = {k: lb.label(k, lang) for k in _TEXT_KEYS if not (public and k == "map_score_parts")}
    text["flag"] = {k: lb.label(k, lang) for k in FLAGS}
    payload = {
        "v": 1, "mode": "detail", "lang": lang, "public": bool(public), "title": page_title, "text": text,
        "gradeColors": gcolors, "gradeLabels": grade_lab, "ungraded": UNGRADED_COLOR,
        "parcels": pdata, "firms": fdata, "points": points, "parks": parks_data, "layers": layers,
        "flagBits": {k: FLAGS[k][0] for k in present_flags},
        "tiles": tiles, "raster": raster_spec,
        "colors": {"selected": CLEANUP_SELECTED, "candidate": CLEANUP_CANDIDATE, "park": PARK_COLOR},
    }
    if home:
        payload["home"] = {"href": home, "t": lb.label("map_overview_back", lang)}
    return _page(payload, page_title, lang, tiles), warnings


def _page(payload: dict[str, Any], page_title: str, lang: str, tiles: dict[str, Any] | None) -> str:
    """The HTML document: CSP (no request unless a tile layer is configured), inlined Leaflet, the data
    as escaped JSON, map.css and map.js (joined once, the data's pieces included)."""
    img_src = "data: blob:" + (" https: http:" if tiles else "")
    csp = (f"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src {img_src}; "
           "base-uri 'none'; form-action 'none'")
    head = (
        "<!DOCTYPE html>\n"
        f'<html lang="{"en" if lang == "en" else "zh-CN"}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="generator" content="parkland">\n'
        f"<title>{html.escape(page_title)}</title>\n"
        f"<style>\n{leaflet_css()}\n</style>\n<style>\n{template('map.css')}\n</style>\n"
        "</head>\n<body>\n<div id=\"map\"></div>\n"
        '<script type="application/json" id="parkland-data">'
    )
    tail = (
        "</script>\n"
        f"<script>\n{leaflet_js()}\n</script>\n<script>\n{template('map.js')}\n</script>\n"
        "</body>\n</html>\n"
    )
    return "".join([head, *_json_pieces(payload), tail])


# --------------------------------------------------------------------------------------------------
# the parks overview (cities above MAP_DETAIL_MAX parcels)
# --------------------------------------------------------------------------------------------------
def _clean_uniques(uniq: Any, none_name: str) -> pd.Series:
    """Distinct park texts as str; blank → ``none_name``."""
    u = pd.Series(np.asarray(uniq, dtype=object), dtype=object)
    if len(u) == 0:
        return u
    return u.where(~_missing(u), none_name).astype(str)


def _park_groups(park: pd.Series | None, n: int, none_name: str) -> tuple[np.ndarray, list[str]]:
    """(park code per row, park names sorted as text): the parks of ``n`` parcels, a missing or blank
    park becoming ``none_name``. Factorised once, so the text work is per distinct park, not per parcel."""
    if n == 0:
        return np.zeros(0, np.int64), []
    if park is None:
        return np.zeros(n, np.int64), [none_name]
    codes, uniq = pd.factorize(park.reset_index(drop=True), use_na_sentinel=True)
    labels = pd.concat([_clean_uniques(uniq, none_name), pd.Series([none_name], dtype=object)],
                       ignore_index=True)  # code -1 (missing) → the last entry
    lab_codes, names = pd.factorize(labels)
    order = sorted(range(len(names)), key=lambda i: str(names[i]))  # one step per park
    rank = np.empty(len(names), np.int64)
    rank[order] = np.arange(len(names))
    row = rank[lab_codes][codes]
    used = np.unique(row)
    remap = np.full(len(names), -1, np.int64)
    remap[used] = np.arange(used.size)
    sorted_names = [str(names[i]) for i in order]
    return remap[row], [sorted_names[i] for i in used]


def _firm_park_codes(firms: pd.DataFrame, names: list[str], none_name: str) -> np.ndarray:
    """Each firm's park (its ``park`` column, blank → ``none_name``) as a position in ``names``; −1 when
    the park has no parcels. Without a ``park`` column every firm counts as ``none_name``."""
    none_pos = names.index(none_name) if none_name in names else -1
    if "park" not in firms.columns:
        return np.full(len(firms), none_pos, np.int64)
    codes, uniq = pd.factorize(firms["park"].reset_index(drop=True), use_na_sentinel=True)
    pos = pd.Index(names, dtype=object).get_indexer(_clean_uniques(uniq, none_name))
    return np.append(pos, none_pos).astype(np.int64)[codes]


def _by_park(codes: np.ndarray, k: int, values: np.ndarray | None = None) -> np.ndarray:
    """Σ per park of ``values`` (count when None)."""
    return np.bincount(codes, weights=values, minlength=k)[:k].astype("float64")


def _selected_mask(parcels: pd.DataFrame, cleanup: pd.DataFrame | None) -> np.ndarray | None:
    """Parcels selected for cleanup (their parcel_id among the cleanup rows with selected true)."""
    if cleanup is None or "parcel_id" not in cleanup.columns or "parcel_id" not in parcels.columns:
        return None
    sel = _truthy(cleanup["selected"]) if "selected" in cleanup.columns else np.zeros(len(cleanup), bool)
    ids = pd.unique(cleanup["parcel_id"].astype(object).to_numpy()[sel])
    return parcels["parcel_id"].isin(ids).to_numpy()


def park_overview(parcels: pd.DataFrame, firms: pd.DataFrame | None, *, cleanup: pd.DataFrame | None = None,
                  lang: str = "zh") -> pd.DataFrame:
    """One row per park (index: park name, sorted as text; parcels without a park under "未分园区").

    Columns: ``parcels`` (count), ``area_mu`` = Σ area_mu, ``firms`` (firms whose ``park`` is the park;
    without that column, firms by the park of their first linked parcel), ``grade_A`` … ``grade_T`` (those
    firms by grade), ``tax_wan`` = Σ tax_wan, ``tax_per_mu`` = Σ tax_wan / Σ land over the parcels that
    report tax (land = land_area_mu when present, else area_mu; as the parcel's own tax_per_mu),
    ``revenue_wan`` and ``revenue_per_mu`` alike, ``<flag>_mu`` = Σ area_mu of the parcels flagged idle /
    vacant / stopped / low_efficiency (flags present only), ``cleanup_mu`` = Σ area_mu of the parcels
    selected in ``cleanup`` (when given). All by bincount over one park code per parcel.
    """
    lang = "en" if lang == "en" else "zh"
    none_name = lb.label("map_no_park", lang)
    firms = pd.DataFrame() if firms is None else firms.reset_index(drop=True)
    n = len(parcels)
    codes, names = _park_groups(parcels["park"] if "park" in parcels.columns else None, n, none_name)
    k = len(names)
    out = pd.DataFrame(index=pd.Index(names, dtype=object, name="park"))
    out["parcels"] = _by_park(codes, k).astype(np.int64)
    area = (_floats(parcels["area_mu"]) if "area_mu" in parcels.columns else np.full(n, np.nan))
    out["area_mu"] = _by_park(codes, k, np.nan_to_num(area))
    land = _floats(parcels["land_area_mu"]) if "land_area_mu" in parcels.columns else area

    # firms
    if len(firms) and ("park" in firms.columns or "parcel_ids" not in firms.columns or "parcel_id" not in parcels):
        fpark = _firm_park_codes(firms, names, none_name)
    elif len(firms):
        links = _firm_links(firms, parcels["parcel_id"].reset_index(drop=True))
        first = links.sort_values(["f", "p"], kind="stable").drop_duplicates("f")
        fpark = np.full(len(firms), -1, np.int64)
        fpark[first["f"].to_numpy()] = codes[first["p"].to_numpy()]
    else:
        fpark = np.zeros(0, np.int64)
    has_park = fpark >= 0
    out["firms"] = _by_park(fpark[has_park], k).astype(np.int64)
    fgrade = (_upper_codes(firms["grade"]).to_numpy(dtype=object) if "grade" in firms.columns
              else np.full(len(firms), None, dtype=object))
    for g in lb.GRADE_COLORS:
        out[f"grade_{g}"] = _by_park(fpark[has_park & (fgrade == g)], k).astype(np.int64)

    # figures: Σ X / Σ land over the parcels reporting X
    for fig, ind in (("tax_wan", "tax_per_mu"), ("revenue_wan", "revenue_per_mu")):
        x = _floats(parcels[fig]) if fig in parcels.columns else np.full(n, np.nan)
        ok = np.isfinite(x) & np.isfinite(land)
        num = _by_park(codes, k, np.where(ok, x, 0.0))
        den = _by_park(codes, k, np.where(ok, land, 0.0))
        cnt = _by_park(codes, k, ok.astype("float64"))
        out[fig] = np.where(cnt > 0, num, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[ind] = np.where((cnt > 0) & (den > 0), num / np.where(den > 0, den, 1.0), np.nan)

    # land flags and the cleanup selection, in 亩
    a0 = np.nan_to_num(area)
    for colname in FLAGS:
        if colname in parcels.columns:
            out[f"{colname}_mu"] = _by_park(codes, k, np.where(_truthy(parcels[colname]), a0, 0.0))
    sel = _selected_mask(parcels, cleanup)
    if sel is not None:
        out["cleanup_mu"] = _by_park(codes, k, np.where(sel, a0, 0.0))
    return out


def _park_hulls(parcels: gpd.GeoDataFrame, codes: np.ndarray, which: np.ndarray) -> np.ndarray:
    """Convex hull of the parcels of each park code in ``which`` (in the parcels' CRS): one GEOS call
    per park on the collection of its parcels, grouped by one argsort; memory is one park at a time."""
    geoms = np.asarray(parcels.geometry.array, dtype=object)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(int(codes.max()) + 2))
    hulls = np.full(len(which), None, dtype=object)
    for i, j in enumerate(which):  # one step per park
        g = geoms[order[bounds[j]:bounds[j + 1]]]
        g = g[~(shapely.is_missing(g) | shapely.is_empty(g))]
        if len(g):
            hulls[i] = shapely.convex_hull(shapely.geometrycollections(g))
    return hulls


def _clean(v: Any) -> float | None:
    f = float(v)
    return f if math.isfinite(f) else None


def build_overview_html(
    parcels: gpd.GeoDataFrame,
    firms: pd.DataFrame | None,
    *,
    parks: gpd.GeoDataFrame | None = None,
    cleanup: pd.DataFrame | None = None,
    basemap: str = "none",
    public: bool = False,
    title: str | None = None,
    lang: str = "zh",
    raster: str | os.PathLike[str] | None = None,
    links: Mapping[str, str] | None = None,
) -> tuple[str, list[str]]:
    """The parks overview page: one feature per park, and the warnings to print.

    Each park is drawn by its boundary from ``parks`` (its ``park`` column) when there is one, else by
    the convex hull of its parcels; coloured by the park's 亩均税收 Σtax/Σland (quantile classes of
    :func:`nice_breaks`, as the detail map), with 亩均营收 as a second layer; the popup lists the
    figures of :func:`park_overview` and a link to ``links[park]`` (a relative href). Public: the parks
    in one colour, popups with counts and 亩 only, geometry simplified and quantised as the detail map.
    """
    lang = "en" if lang == "en" else "zh"
    warnings: list[str] = []
    tiles, gaode = _basemap(basemap, public=public, lang=lang, warnings=warnings)
    scale = PUBLIC_GEOM_SCALE if public else GEOM_SCALE
    links = dict(links or {})
    none_name = lb.label("map_no_park", lang)
    stats = park_overview(parcels, firms, cleanup=cleanup, lang=lang)
    names = list(stats.index)
    k0 = len(names)
    n_total = len(parcels)

    # ---- geometry: given boundaries first, hulls of parcels for the rest
    codes, _ = _park_groups(parcels["park"] if "park" in parcels.columns else None, n_total, none_name)
    geo = np.full(len(names), None, dtype=object)
    hull = np.ones(len(names), dtype=bool)
    if parks is not None and len(parks) and "park" in parks.columns:
        pk = parks.reset_index(drop=True)
        pg = _polygonal(_to_display(pk, public=public, gaode=gaode, lang=lang, warnings=warnings,
                                    what=("园区", "park")))
        pcodes, pnames = _park_groups(pk["park"], len(pk), none_name)
        ok = ~shapely.is_missing(pg)
        extra = [nm for nm in pnames if nm not in stats.index]
        if extra:  # parks with a boundary but no parcel: drawn, with zero counts and no link
            stats = pd.concat([stats, pd.DataFrame(index=pd.Index(extra, dtype=object, name="park"))])
            for c in stats.columns:
                if c == "parcels" or c == "firms" or c.startswith("grade_"):
                    stats[c] = stats[c].fillna(0).astype(np.int64)
                elif c.endswith("_mu") and not c.endswith("per_mu"):
                    stats[c] = stats[c].fillna(0.0)
            names = list(stats.index)
            geo = np.concatenate([geo, np.full(len(extra), None, dtype=object)])
            hull = np.concatenate([hull, np.ones(len(extra), dtype=bool)])
        pos = {nm: i for i, nm in enumerate(names)}
        for j, nm in enumerate(pnames):  # one step per park
            parts = shapely.get_parts(pg[(pcodes == j) & ok])
            if len(parts):
                geo[pos[nm]] = shapely.multipolygons(parts) if len(parts) > 1 else parts[0]
                hull[pos[nm]] = False
    need = np.flatnonzero(hull[:k0])  # parks of the parcels without a given boundary
    if need.size:
        hg = gpd.GeoDataFrame(geometry=list(_park_hulls(parcels, codes, need)), crs=parcels.crs)
        geo[need] = _polygonal(_to_display(hg, public=public, gaode=gaode, lang=lang, warnings=warnings,
                                           what=("宗地", "parcel")))
    drawn = ~shapely.is_missing(geo.astype(object)) if len(geo) else np.zeros(0, bool)
    if (~drawn).any():
        lost = [names[i] for i in np.flatnonzero(~drawn)]
        warnings.append(_msg(lang, f"{len(lost)} 个园区没有可画的范围，未画入总览：{'、'.join(lost)}",
                             f"{len(lost)} parks have no drawable extent: {', '.join(lost)}"))
    idx = np.flatnonzero(drawn)
    st = stats.iloc[idx]

    # ---- popup fields (values as plain numbers: a few dozen parks)
    def field(key: str, label: str, d: int) -> dict[str, Any]:
        return {"k": key, "t": label, "d": d, "f": "num", "v": [_clean(v) for v in st[key].to_numpy(float)]}

    fields = [field("parcels", lb.label("map_parcels", lang), 0),
              field("area_mu", lb.label("map_overview_area", lang), 1 if public else 2),
              field("firms", lb.label("firm_count", lang), 0)]
    if not public:
        fields += [field(c, lb.label(c, lang), 2) for c in ("tax_per_mu", "revenue_per_mu")]
    suffix = lb.label("map_overview_flag_mu", lang)
    for colname in FLAGS:
        if f"{colname}_mu" in st.columns:
            lab = f"{lb.label(colname, lang)}{suffix}" if lang != "en" else f"{lb.label(colname, lang)} {suffix}"
            fields.append(field(f"{colname}_mu", lab, 1 if public else 2))
    if "cleanup_mu" in st.columns:
        fields.append(field("cleanup_mu", lb.label("map_overview_cleanup_mu", lang), 1 if public else 2))
    grade_short = {g: (f"{g}类" if lang != "en" else g) for g in lb.GRADE_COLORS}
    grades = [{"g": g, "t": grade_short[g], "v": st[f"grade_{g}"].astype(int).tolist()} for g in lb.GRADE_COLORS]
    park_names = [str(x) for x in st.index]

    # ---- layers
    layers: list[dict[str, Any]] = []
    if not public:
        for i, colname in enumerate(("tax_per_mu", "revenue_per_mu")):
            vals = st[colname].to_numpy(float)
            breaks = nice_breaks(vals)
            colors = RAMPS[len(breaks) + 1] if len(breaks) + 1 in RAMPS else RAMPS[6]
            layers.append({"key": colname, "kind": "choropleth", "name": lb.label(colname, lang), "on": i == 0,
                           "v": [_clean(v) for v in vals], "breaks": breaks, "colors": colors,
                           "legend": _choropleth_legend(breaks, colors, lang)})
    else:
        layers.append({"key": "parks", "kind": "plain", "name": lb.label("map_overview_layer", lang), "on": True,
                       "color": PARK_COLOR, "legend": [{"c": PARK_COLOR, "o": PARK_COLOR,
                                                        "t": lb.label("map_overview_layer", lang)}]})
    layers.append({"key": "labels", "kind": "labels", "name": lb.label("park", lang), "on": True})

    raster_spec = None
    if raster is not None:
        raster_spec = _raster_overlay(raster, gaode=gaode, lang=lang, warnings=warnings)
    page_title = title or lb.label("map_overview_title", lang)
    text = {k: lb.label(k, lang) for k in _TEXT_KEYS if not (public and k == "map_score_parts")}
    for k in ("map_overview_list", "map_overview_open", "map_overview_grades", "map_overview_hull",
              "map_basemap_none"):
        text[k] = lb.label(k, lang)
    text["map_overview_note"] = lb.label("map_overview_note", lang).replace("{n}", f"{n_total:,}")
    payload = {
        "v": 1, "mode": "overview", "lang": lang, "public": bool(public), "title": page_title, "text": text,
        "overview": {"n": len(idx), "total": n_total, "name": park_names,
                     "href": [links.get(nm) for nm in park_names], "hull": hull[idx].tolist(),
                     "geom": _encode_geoms(geo[idx], scale), "fields": fields, "grades": grades},
        "layers": layers, "tiles": tiles, "raster": raster_spec,
        "colors": {"park": PARK_COLOR, "none": UNGRADED_COLOR},
    }
    return _page(payload, page_title, lang, tiles), warnings


# --------------------------------------------------------------------------------------------------
# files
# --------------------------------------------------------------------------------------------------
def write_map(path: str | os.PathLike[str], parcels: gpd.GeoDataFrame, firms: pd.DataFrame | None, *,
              detail_max: int | None = None, **kwargs: Any) -> list[str]:
    """:func:`build_map_html` written to ``path`` atomically (temp file, then os.replace); returns the
    warnings. Above ``detail_max`` parcels (None: :data:`MAP_DETAIL_MAX`) ``path`` gets the parks
    overview (:func:`build_overview_html`) and each park its detail page in ``map_parks/`` beside it,
    written one park at a time."""
    return _write_map(path, parcels, firms, detail_max=detail_max, **kwargs)[1]


def _write_map(path: str | os.PathLike[str], parcels: gpd.GeoDataFrame, firms: pd.DataFrame | None, *,
               detail_max: int | None = None, **kwargs: Any) -> tuple[list[Path], list[str]]:
    """(written files, warnings) of :func:`write_map`."""
    path = Path(path)
    limit = MAP_DETAIL_MAX if detail_max is None else int(detail_max)
    if len(parcels) <= limit:
        doc, warnings = build_map_html(parcels, firms, **kwargs)
        write_text(doc, path)
        return [path], warnings
    return _write_overview(path, parcels, firms, **kwargs)


_PARK_PAGE = re.compile(r"park_\d{3}_[\w\-]*\.html")


def _slim_cleanup(cleanup: pd.DataFrame | None) -> pd.DataFrame | None:
    """The cleanup columns a map reads (parcel_id, selected, rank), without its geometry."""
    if cleanup is None:
        return None
    cols = [c for c in ("parcel_id", "selected", "rank") if c in cleanup.columns]
    return pd.DataFrame({c: cleanup[c].to_numpy() for c in cols})


def _write_overview(path: Path, parcels: gpd.GeoDataFrame, firms: pd.DataFrame | None, *,
                    parks: gpd.GeoDataFrame | None = None, cleanup: pd.DataFrame | None = None,
                    title: str | None = None, **kw: Any) -> tuple[list[Path], list[str]]:
    """The parks overview at ``path`` and the detail pages in ``map_parks/`` beside it (park pages left
    there by an earlier run and not rewritten now are removed)."""
    lang = "en" if kw.get("lang") == "en" else "zh"
    kw["lang"] = lang
    cleanup = _slim_cleanup(cleanup)
    mdir = path.parent / PARK_MAPS_DIR
    mdir.mkdir(parents=True, exist_ok=True)
    entries, written, park_warnings = _write_park_maps(mdir, parcels, firms, parks=parks, cleanup=cleanup,
                                                       home=f"../{quote(path.name)}", **kw)
    keep = {p.name for p in written}
    for old in mdir.glob("park_*.html"):  # pages of parks of an earlier run: not linked, so removed
        if old.name not in keep and _PARK_PAGE.fullmatch(old.name) and old.is_file():
            old.unlink()
    links = {name: f"{PARK_MAPS_DIR}/{quote(fname)}" for name, fname, _ in entries}
    doc, warnings = build_overview_html(parcels, firms, parks=parks, cleanup=cleanup, title=title, links=links,
                                        **kw)
    write_text(doc, path)
    del doc
    seen = set(warnings)  # base-map warnings are the same on every page: said once
    warnings += [f"{name}: {w}" for name, w in park_warnings if w not in seen]
    return [path, *written], warnings


def _write_park_maps(mdir: Path, parcels: gpd.GeoDataFrame, firms: pd.DataFrame | None, *,
                     parks: gpd.GeoDataFrame | None = None, cleanup: pd.DataFrame | None = None,
                     home: str | None = None, lang: str = "zh",
                     **kw: Any) -> tuple[list[tuple[str, str, int]], list[Path], list[tuple[str, str]]]:
    """One detail page per park in ``mdir`` (``park_<nnn>_<safe name>.html``, parks numbered in text
    order, parcels without a park under "未分园区"), built and written one park at a time so memory
    follows the largest park. A park's page holds its parcels, the firms on them and the firms without
    land whose ``park`` is the park. Returns ([(park, file name, parcels)], written paths,
    [(park, warning)])."""
    lang = "en" if lang == "en" else "zh"
    firms = pd.DataFrame() if firms is None else firms.reset_index(drop=True)
    none_name = lb.label("map_no_park", lang)
    n = len(parcels)
    codes, names = _park_groups(parcels["park"] if "park" in parcels.columns else None, n, none_name)
    k = len(names)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(k + 1))
    # firms on the parcels (one pass over the city), grouped by the park of the parcel
    if "parcel_id" in parcels.columns and len(firms):
        links = _firm_links(firms, parcels["parcel_id"].reset_index(drop=True))
    else:
        links = pd.DataFrame({"f": np.empty(0, np.int64), "p": np.empty(0, np.int64)})
    lpark = codes[links["p"].to_numpy()]
    lorder = np.argsort(lpark, kind="stable")
    lf = links["f"].to_numpy()[lorder]
    lbounds = np.searchsorted(lpark[lorder], np.arange(k + 1))
    del links, lpark, lorder
    pts = _point_firms(firms) if len(firms) else np.zeros(0, bool)
    fpark = _firm_park_codes(firms, names, none_name) if len(firms) else np.zeros(0, np.int64)
    # only the columns build_map_html reads travel to each park's page (the output tables are wide)
    pcols = [c for c in parcels.columns if c in _MAP_PARCEL_COLUMNS or c == parcels.geometry.name]
    parcels = parcels[pcols]
    if len(firms):
        firms = firms[[c for c in firms.columns if c in _MAP_FIRM_COLUMNS or str(c).startswith("part_")]]
    pk_names = None
    if parks is not None and "park" in parks.columns:
        pk_names = parks["park"].astype(object).to_numpy()
    entries: list[tuple[str, str, int]] = []
    written: list[Path] = []
    warnings: list[tuple[str, str]] = []
    root = mdir.resolve()
    for j, name in enumerate(names):  # one step per park
        rows = order[bounds[j]:bounds[j + 1]]
        sub = parcels.iloc[rows]
        fmask = np.zeros(len(firms), dtype=bool)
        fmask[lf[lbounds[j]:lbounds[j + 1]]] = True
        if len(firms):
            fmask |= pts & (fpark == j)
        pk = parks[pk_names == name] if pk_names is not None else None
        fname = f"park_{j + 1:03d}_{safe_filename(name)}.html"
        target = mdir / fname
        if target.resolve().parent != root:  # pragma: no cover - safe_filename guarantees it
            raise ValueError(f"unsafe file name {fname!r}")
        title = f"{lb.label('map_title', lang)} · {name}"
        doc, w = build_map_html(sub, firms[fmask] if len(firms) else firms, parks=pk, cleanup=cleanup,
                                title=title, lang=lang, home=home, **kw)
        write_text(doc, target)
        del doc, sub
        warnings += [(name, x) for x in w]
        written.append(target)
        entries.append((str(name), fname, int(rows.size)))
    return entries, written, warnings


_UNSAFE = re.compile(r"[^\w\-]+", flags=re.UNICODE)


def safe_filename(name: Any, *, max_len: int = 60) -> str:
    """A park name as a file-name stem: NFKC, anything but letters/digits/_/- replaced by '_',
    no leading dots or separators, at most ``max_len`` characters; 'park' when nothing is left."""
    s = unicodedata.normalize("NFKC", "" if name is None else str(name))
    s = _UNSAFE.sub("_", s).strip("_.-")
    s = re.sub(r"_+", "_", s)[:max_len].strip("_.-")
    return s or "park"


_NUMERIC_FIRM = ["land_mu", "score", "lon", "lat", "rank", *CHOROPLETHS]


def _read_firms_csv(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    for c in df.columns:
        if c in _NUMERIC_FIRM or c.startswith("part_") or c.endswith(("_wan", "_per_mu")):
            df[c] = pd.to_numeric(df[c].str.strip().replace("", None), errors="coerce")
    for c in ("uscc", "name", "parcel_ids", "status", "status_reason", "grade", "park"):
        if c in df.columns:
            df[c] = df[c].astype(object).where(df[c] != "", None)
    return df


def render_dir(out_dir: str | os.PathLike[str], map_dir: str | os.PathLike[str] | None = None, *,
               per_park: bool = False, basemap: str = "none", public: bool = False,
               lang: str = "zh", detail_max: int | None = None) -> tuple[list[Path], list[str]]:
    """Re-render the maps of an output folder: reads parcels.gpkg (layers ``parcels`` and ``parks``
    when present), firms.csv (utf-8-sig) and cleanup.gpkg (layer ``cleanup``) when present; writes
    ``map.html`` into ``map_dir`` (default ``out_dir``) as :func:`write_map` does (above ``detail_max``
    parcels the parks overview plus ``map_parks/``), or with ``per_park`` one page per park
    (``park_<nnn>_<safe name>.html``, parcels without a park under "未分园区") and ``index.html``.
    Returns (written paths, warnings)."""
    import pyogrio

    out = Path(out_dir)
    mdir = Path(map_dir) if map_dir is not None else out
    gpkg = out / "parcels.gpkg"
    if not gpkg.is_file():
        raise InputError("输出目录中没有 parcels.gpkg", "parcels.gpkg not found in the output folder", file=gpkg)
    layers = [str(x[0]) for x in pyogrio.list_layers(gpkg)]
    parcels = gpd.read_file(gpkg, layer="parcels" if "parcels" in layers else layers[0], engine="pyogrio")
    parks = gpd.read_file(gpkg, layer="parks", engine="pyogrio") if "parks" in layers else None
    fpath = out / "firms.csv"
    firms = _read_firms_csv(fpath) if fpath.is_file() else pd.DataFrame()
    cpath = out / "cleanup.gpkg"
    cleanup = None
    if cpath.is_file():
        cl_layers = [str(x[0]) for x in pyogrio.list_layers(cpath)]
        cleanup = pyogrio.read_dataframe(cpath, layer="cleanup" if "cleanup" in cl_layers else cl_layers[0],
                                         read_geometry=False)
    kw = {"basemap": basemap, "public": public, "lang": lang}
    if not per_park:
        return _write_map(mdir / "map.html", parcels, firms, parks=parks, cleanup=cleanup, detail_max=detail_max,
                          **kw)

    entries, written, park_warnings = _write_park_maps(mdir, parcels, firms, parks=parks,
                                                       cleanup=_slim_cleanup(cleanup), **kw)
    warnings = [f"{name}: {x}" for name, x in park_warnings]
    idx_title = lb.label("map_index_title", lang)
    rows = "\n".join(
        f'<li><a href="{html.escape(f, quote=True)}">{html.escape(nm)}</a> '
        f"<span>{html.escape(lb.label('map_parcels', lang))} {cnt}</span></li>"
        for nm, f, cnt in entries)
    doc = ("<!DOCTYPE html>\n"
           f'<html lang="{"en" if lang == "en" else "zh-CN"}">\n<head>\n<meta charset="utf-8">\n'
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
           f"<title>{html.escape(idx_title)}</title>\n"
           "<style>body{font-family:\"Noto Sans CJK SC\",\"Microsoft YaHei\",sans-serif;margin:2em;}"
           "li{margin:.3em 0;}span{color:#666;margin-left:1em;}</style>\n</head>\n<body>\n"
           f"<h1>{html.escape(idx_title)}</h1>\n<ul>\n{rows}\n</ul>\n</body>\n</html>\n")
    ip = mdir / "index.html"
    write_text(doc, ip)
    written.append(ip)
    return written, warnings
