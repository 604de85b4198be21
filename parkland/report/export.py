"""Writers: one per format. CSV (UTF-8 with BOM), GeoPackage; every file written atomically.

* Text cells that start with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return are neutralised with a
  leading apostrophe so Excel never runs them as formulas; numeric columns stay numbers.
* Files are written to a temporary name beside the target and renamed (``os.replace``): a crash never
  leaves half a file.
* Output is deterministic: the same frame gives the same bytes (no timestamps in CSV).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from parkland.frames import arrow_text

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_start(arr: Any) -> Any:
    """Arrow text array → Boolean array: the text starts with one of FORMULA_START (null → False); read
    from the first byte of each text (:func:`_formula_marks`)."""
    import pyarrow as pa

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = arr.cast(pa.large_string())
    return pa.array(_formula_marks(arr), type=pa.bool_())


def neutralise_arrow(arr: Any) -> Any:
    """An Arrow text array with ``'`` put before each text that starts a formula (:func:`formula_start`);
    the array itself when none does."""
    import pyarrow as pa
    import pyarrow.compute as pc

    starts = formula_start(arr)
    if not pc.any(starts).as_py():
        return arr
    return pc.if_else(starts, pc.binary_join_element_wise(pa.scalar("'", arr.type), arr, pa.scalar("", arr.type)),
                      arr)


def _starts_arrow(txt: pd.Series) -> np.ndarray | None:
    """Which cells of an all-text object column start with one of FORMULA_START (:func:`formula_start`,
    about 3× pandas' per-cell ``str.startswith`` on object columns); None when Arrow refuses the text."""
    import pyarrow as pa

    try:
        arr = pa.array(txt.to_numpy(), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
        return None
    return formula_start(arr).to_numpy(zero_copy_only=False).astype(bool, copy=False)


def neutralise_text(s: pd.Series) -> pd.Series:
    """Prefix text cells starting with = + - @ TAB CR with an apostrophe (formula-injection guard)."""
    if not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s)):
        return s
    if isinstance(s.dtype, pd.StringDtype):  # arrow strings: startswith runs in C, no Python per cell
        starts = s.str.startswith(FORMULA_START).fillna(False).to_numpy(bool)
        if not starts.any():
            return s
        txt = s.astype("object")
    elif (kind := pd.api.types.infer_dtype(s, skipna=True)) in ("string", "empty"):  # one C pass
        if kind == "empty":
            return s
        txt = s.astype("object")
        starts = _starts_arrow(txt)
        if starts is None:  # text Arrow cannot take (a lone surrogate): pandas' per-cell test
            starts = txt.str.startswith(FORMULA_START).fillna(False).to_numpy(bool)
    else:
        txt = s.astype("object")  # mixed cells: only the text ones can start a formula
        is_str = txt.map(lambda v: isinstance(v, str)).to_numpy(bool)
        if not is_str.any():
            return s
        starts = np.zeros(len(txt), bool)
        starts[is_str] = pd.Series(txt[is_str]).str.startswith(FORMULA_START).to_numpy(bool)
    if not starts.any():
        return s
    out = txt.copy()
    out[starts] = "'" + txt[starts].to_numpy(object)  # only text cells start a formula
    return out


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """:func:`neutralise_text` on every text column of a frame (geometry untouched)."""
    out = df.copy(deep=False)  # columns replaced below; the others are shared (copy-on-write)
    for i in range(out.shape[1]):  # by position: repeated column names are columns too
        s = out.iloc[:, i]
        if isinstance(s.dtype, gpd.array.GeometryDtype):
            continue
        t = neutralise_text(s)
        if t is not s:
            out.isetitem(i, t)
    return out


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``, else delete it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix or ".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()  # writers that refuse an existing file (GDAL) get a free name
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _csv_ready(df: pd.DataFrame) -> pd.DataFrame:
    """Columns as Arrow writes them the way pandas' ``to_csv`` would: booleans as ``True``/``False``,
    dates as ``YYYY-MM-DD``; other date-times, time-zone-aware ones (with their offset), durations,
    periods, intervals and object columns that are not all text as their text (``str``); missing cells
    stay missing (an empty field)."""
    out = df.copy(deep=False)
    for i in range(out.shape[1]):  # by position: repeated column names are columns too
        s = out.iloc[:, i]
        if pd.api.types.is_bool_dtype(s) or isinstance(s.dtype, pd.BooleanDtype):
            b = s.astype("boolean")
            t = pd.Series(np.where(b.fillna(False).to_numpy(bool), "True", "False"), index=s.index,
                          dtype=object).where(b.notna(), None)
        elif pd.api.types.is_datetime64_any_dtype(s) and getattr(s.dt, "tz", None) is None and bool(
                (s.dropna() == s.dropna().dt.normalize()).all()):
            t = s.dt.strftime("%Y-%m-%d").astype(object).where(s.notna(), None)
        elif (pd.api.types.is_datetime64_any_dtype(s) or pd.api.types.is_timedelta64_dtype(s)
              or isinstance(s.dtype, (pd.PeriodDtype, pd.IntervalDtype))):
            t = s.astype(str).astype(object).where(s.notna(), None)
        elif pd.api.types.is_object_dtype(s) and pd.api.types.infer_dtype(s, skipna=True) not in ("string", "empty"):
            t = s.map(str, na_action="ignore").astype(object).where(s.notna(), None)
        else:
            continue
        out.isetitem(i, t)
    return out


def _csv_names(df: pd.DataFrame) -> list[str]:
    """The header texts of a frame's columns (a missing name is an empty header)."""
    return ["" if pd.api.types.is_scalar(c) and pd.isna(c) else str(c) for c in df.columns]


def _arrow_errors() -> tuple[type[BaseException], ...]:
    """What Arrow raises for a frame or a type it cannot take (the CSV writers then fall back to pandas)."""
    import pyarrow as pa

    return pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError, TypeError


def _csv_table(data: pd.DataFrame) -> Any:
    """The Arrow table Arrow's CSV writer gets for an already neutralised frame (:func:`_csv_ready`, the
    header texts as column names); None when Arrow cannot take it."""
    import pyarrow as pa

    try:
        ready = _csv_ready(data)
        ready.columns = _csv_names(ready)
        return pa.Table.from_pandas(ready, preserve_index=False)
    except _arrow_errors():
        return None


def _neutral_csv_table(df: pd.DataFrame) -> Any:
    """``_csv_table(neutralise_frame(df))``, the same table, with each all-text object column converted to
    Arrow once (neutralised there: :func:`formula_start`, then ``'`` before the cells it marks) instead
    of once to test the cells and again to build the table. None when Arrow cannot take the frame."""
    import pyarrow as pa

    names = _csv_names(df)
    if len(set(names)) != len(names):  # Arrow refuses repeated names (pandas writes those)
        return None
    texts: dict[int, Any] = {}
    for i in range(df.shape[1]):
        s = df.iloc[:, i]
        if not pd.api.types.is_object_dtype(s) or pd.api.types.infer_dtype(s, skipna=True) != "string":
            continue
        try:
            arr = pa.array(s.to_numpy(), type=pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
            return _csv_table(neutralise_frame(df))  # text Arrow cannot take: the frame as it always went
        texts[i] = neutralise_arrow(arr)
    rest = [i for i in range(df.shape[1]) if i not in texts]
    if not texts:
        return _csv_table(neutralise_frame(df))
    sub = df.iloc[:, rest]
    sub.columns = [str(i) for i in rest]
    table = _csv_table(neutralise_frame(sub))
    if table is None:
        return None
    cols = dict(zip(rest, table.columns))
    return pa.Table.from_arrays([texts[i] if i in texts else cols[i] for i in range(df.shape[1])], names=names)


def write_csv(df: pd.DataFrame, path: str | os.PathLike) -> Path:
    """UTF-8 with BOM, ``\\n`` line ends, text neutralised, atomic. Returns the path.

    Written by Arrow's CSV writer (C++, about 8× ``DataFrame.to_csv`` on a 100k-firm list) after
    :func:`_csv_ready`. Every text field and the header are quoted (RFC 4180; Arrow's "needed" style
    quotes all strings), numbers are not; floats are written in their shortest round-trip form (``546``
    for 546.0, ``0.1`` for 0.1); a missing cell is an empty field, an empty text ``""``. A frame Arrow
    cannot take falls back to ``DataFrame.to_csv``.
    """
    import pyarrow.csv as pacsv

    path = Path(path)
    table = None
    # one column with a missing cell would be an empty line, which readers skip: pandas writes ""
    if df.shape[1] > 1 or not df.isna().to_numpy().any():
        table = _neutral_csv_table(df)
    with atomic_path(path) as tmp:
        if table is not None:
            try:
                with open(tmp, "wb") as fh:
                    fh.write("\ufeff".encode())
                    pacsv.write_csv(table, fh, pacsv.WriteOptions(quoting_style="needed"))
            except _arrow_errors():  # a type Arrow cannot write as text: pandas writes the file instead
                table = None
        if table is None:
            neutralise_frame(df).to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\n")
    return path


def _same_values(x: pd.Series, y: pd.Series) -> bool:
    """The two columns hold the very same array (the same memory, not merely equal values: ``1`` and
    ``True`` are equal but written differently), so they are written alike. False when unsure."""
    if x.dtype != y.dtype or len(x) != len(y):
        return False
    xa, ya = x.array, y.array
    xp, yp = getattr(xa, "_pa_array", None), getattr(ya, "_pa_array", None)
    if xp is not None or yp is not None:  # Arrow-backed columns (text)
        return xp is yp
    if isinstance(x.dtype, np.dtype):
        xv, yv = x.to_numpy(copy=False), y.to_numpy(copy=False)
        return xv.__array_interface__ == yv.__array_interface__  # data pointer, shape, strides and type
    if isinstance(xa, pd.api.extensions.ExtensionArray) and type(xa) is type(ya):  # masked: Int64, boolean
        parts = [(getattr(xa, k, None), getattr(ya, k, None)) for k in ("_data", "_mask")]
        return all(isinstance(p, np.ndarray) and isinstance(q, np.ndarray)
                   and p.__array_interface__ == q.__array_interface__ for p, q in parts)
    return False


#: rows of the CSVs :func:`write_csvs` renders at a time (memory stays flat at 1M rows)
CSV_CHUNK_ROWS = 65_536


class _LineBreak(Exception):
    """A text field holds a line break: the rendered rows cannot be told apart by their line ends."""


def _csv_piece(table: Any, last: bool) -> Any:
    """The rows of ``table`` as Arrow's CSV writer writes them (no header), one text per row: its fields
    and its row end, a ``,`` in place of the line end unless ``last`` (the row's last columns)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    sink = pa.BufferOutputStream()
    pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    buf = sink.getvalue()
    data = np.frombuffer(buf, dtype=np.uint8)
    ends = np.flatnonzero(data == 10)
    if len(ends) != table.num_rows:
        raise _LineBreak
    if not last:
        data = data.copy()
        data[ends] = ord(",")
        buf = pa.py_buffer(data)
    offsets = np.empty(len(ends) + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = ends + 1
    return pa.Array.from_buffers(pa.large_string(), len(ends), [None, pa.py_buffer(offsets), buf])


def write_csvs(items: Sequence[tuple[pd.DataFrame, str | os.PathLike]]) -> list[Path]:
    """Several CSVs, each exactly as :func:`write_csv` writes it; a column that every frame has at the
    same place with the very same array (a list and its copy with other headers and a few columns spelled
    out) is neutralised, converted and rendered once for all of them. Returns the paths.

    Each file is the header line, then per row the texts of its runs of columns joined (Arrow's CSV
    writer renders a run of columns, and the row ends of all but the last run become ``,``). When that
    cannot be done (frames of other lengths, one column, repeated headers, a type or text Arrow cannot
    take, a text with a line break) each file is written by :func:`write_csv` on its own."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    paths = [Path(p) for _, p in items]
    frames = [df for df, _ in items]
    plan = _shared_plan(frames) if len(frames) > 1 else None
    if plan is not None:
        try:
            with contextlib.ExitStack() as stack:
                tmps = [stack.enter_context(atomic_path(p)) for p in paths]
                handles = [stack.enter_context(open(t, "wb")) for t in tmps]
                runs, tables, names = plan
                for fh, cols in zip(handles, names):
                    fh.write("\ufeff".encode())
                    empty = pa.Table.from_arrays([pa.array([], type=pa.null())] * len(cols), names=cols)
                    pacsv.write_csv(empty, fh, pacsv.WriteOptions(quoting_style="needed"))
                n = len(frames[0])
                for a in range(0, n, CSV_CHUNK_ROWS):
                    pieces: list[list[Any]] = [[] for _ in frames]
                    for r, (shared, sel) in enumerate(runs):
                        last = r == len(runs) - 1
                        if shared:
                            piece = _csv_piece(tables[0].select(sel).slice(a, CSV_CHUNK_ROWS), last)
                            for ps in pieces:
                                ps.append(piece)
                        else:
                            for ps, t, s in zip(pieces, tables, sel):
                                ps.append(_csv_piece(t.select(s).slice(a, CSV_CHUNK_ROWS), last))
                    for fh, ps in zip(handles, pieces):
                        rows = pc.binary_join_element_wise(*ps, pa.scalar("", type=pa.large_string()))
                        offsets = np.frombuffer(rows.buffers()[1], dtype=np.int64, count=len(rows) + 1,
                                                offset=8 * rows.offset)
                        fh.write(memoryview(rows.buffers()[2])[int(offsets[0]):int(offsets[-1])])
            return paths
        except (_LineBreak, *_arrow_errors()):
            pass  # the files were not put in place: each is written on its own below
    return [write_csv(df, p) for df, p in zip(frames, paths)]


def _shared_plan(frames: list[pd.DataFrame]) -> tuple[list[tuple[bool, Any]], list[Any], list[list[str]]] | None:
    """For :func:`write_csvs`: the runs of columns (shared by all frames, column positions in the first
    frame's table; or each frame's own, positions in its table), the Arrow tables (the first frame's whole;
    the others' own columns only) and each file's header texts. None when the frames cannot share."""
    first = frames[0]
    n, k = first.shape
    if n == 0 or k < 2 or any(f.shape != (n, k) for f in frames):
        return None
    names = [_csv_names(f) for f in frames]
    if any(len(set(c)) != len(c) for c in names):  # Arrow refuses repeated names: pandas writes those
        return None
    shared = [all(_same_values(first.iloc[:, i], f.iloc[:, i]) for f in frames[1:]) for i in range(k)]
    if not any(shared):
        return None
    own = [i for i in range(k) if not shared[i]]
    base = _neutral_csv_table(first)
    if base is None:
        return None
    tables = [base]
    for f in frames[1:]:
        sub = f.iloc[:, own]
        sub.columns = [str(i) for i in own]
        t = _neutral_csv_table(sub) if own else base.select([])
        if t is None:
            return None
        tables.append(t)
    runs: list[tuple[bool, Any]] = []
    i = 0
    while i < k:
        j = i
        while j < k and shared[j] == shared[i]:
            j += 1
        if shared[i]:
            runs.append((True, list(range(i, j))))
        else:
            pos = [own.index(x) for x in range(i, j)]
            runs.append((False, [list(range(i, j))] + [pos] * (len(frames) - 1)))
        i = j
    return runs, tables, names


def _gpkg_ready(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.copy(deep=False)
    for c in out.columns:
        if c == out.geometry.name:
            continue
        s = out[c]
        if pd.api.types.is_bool_dtype(s):
            out[c] = s.astype("Int8") if s.isna().any() else s.astype(bool)
        elif isinstance(s.dtype, pd.BooleanDtype):
            out[c] = s.astype("Int8")
        elif isinstance(s.dtype, pd.StringDtype):
            out[c] = s.astype("object").where(s.notna(), None)
        elif pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
            # mixed bools (True/False/None) become 1/0/null; everything else text
            if pd.api.types.infer_dtype(s, skipna=True) == "boolean":  # one C pass over the cells
                out[c] = s.astype("boolean").astype("Int8")
            else:
                out[c] = s.astype("object").where(s.notna(), None)
    return out


#: a layer longer than this is written in slices of this many features (appended in order), so the
#: Arrow copy of one slice, not of the whole layer, is what writing adds to memory (1M parcels: +1 GiB)
GPKG_CHUNK_ROWS = 250_000


def _to_gpkg(data: gpd.GeoDataFrame, path: Path, layer: str, mode: str = "w") -> None:
    """pyogrio through arrow (about twice as fast on large layers); the plain path when a column cannot
    become an arrow array (mixed Python objects), which raises before the file is touched. Long layers
    go in slices of GPKG_CHUNK_ROWS: the first creates the layer, the others append (``data`` is already
    prepared as a whole by :func:`_gpkg_ready`, so every slice has the same column types)."""
    import pyarrow as pa

    step = max(int(GPKG_CHUNK_ROWS), 1)
    for k, start in enumerate(range(0, max(len(data), 1), step)):
        part = data if len(data) <= step else data.iloc[start:start + step]
        how = mode if k == 0 else "a"
        try:
            part.to_file(path, layer=layer, driver="GPKG", engine="pyogrio", mode=how, use_arrow=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            part.to_file(path, layer=layer, driver="GPKG", engine="pyogrio", mode=how)


#: shapely's geometry type ids → the names pyogrio infers a layer's geometry type from (``geom_type``)
_GEOM_NAMES = ("Point", "LineString", "LinearRing", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon",
               "GeometryCollection")
#: single type id → its multi type id, for a layer mixing the two (GPKG then takes the multi type)
_MULTI_OF = {0: 4, 1: 5, 3: 6}


def _gpkg_text(s: pd.Series) -> Any:
    """A text column (``str`` dtype, or object holding only text or nothing) as the Arrow text array that
    ``_gpkg_ready(neutralise_frame(...))`` and pyarrow make of it (missing → null), the formula guard
    applied in Arrow (:func:`_formula_marks`, then ``'`` before the cells it marks). None when it is no
    such column or Arrow refuses its text (a lone surrogate: the plain path then writes the layer)."""
    import pyarrow as pa

    arr = None
    if isinstance(s.dtype, pd.StringDtype):
        held = arrow_text(s)
        if held is not None and held.type in (pa.string(), pa.large_string()):
            held = held.combine_chunks() if isinstance(held, pa.ChunkedArray) else held
            arr = held.cast(pa.string())
            values = None
        else:
            values = s.to_numpy(dtype=object, na_value=None)
    elif pd.api.types.is_object_dtype(s):
        kind = pd.api.types.infer_dtype(s, skipna=True)
        if kind == "empty":
            return pa.nulls(len(s), pa.string())
        if kind != "string":
            return None
        values = s.to_numpy()
    else:
        return None
    if arr is None:
        try:
            arr = pa.array(values, type=pa.string(), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
            return None
    return neutralise_arrow(arr)


#: byte → it starts a formula (FORMULA_START are single ASCII characters)
_FORMULA_BYTES = np.zeros(256, dtype=bool)
_FORMULA_BYTES[[ord(c) for c in FORMULA_START]] = True


def _formula_marks(arr: Any) -> np.ndarray:
    """Arrow ``string``/``large_string`` array → which cells start with one of FORMULA_START (null →
    False), read from the first byte of each text (every FORMULA_START is one ASCII byte, and in UTF-8 no
    other character starts with an ASCII byte): one numpy look-up instead of a pass per prefix."""
    import pyarrow as pa

    n = len(arr)
    bufs = arr.buffers()
    width = 8 if pa.types.is_large_string(arr.type) else 4
    offsets = np.frombuffer(bufs[1], dtype=np.int64 if width == 8 else np.int32, count=n + 1,
                            offset=width * arr.offset)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    first = np.zeros(n, dtype=np.uint8)
    filled = offsets[1:] > offsets[:-1]
    first[filled] = data[offsets[:-1][filled]]
    marks = _FORMULA_BYTES[first]
    if arr.null_count:
        marks &= arr.is_valid().to_numpy(zero_copy_only=False)
    return marks


def _gpkg_value(s: pd.Series) -> Any:
    """Any other attribute column as the Arrow array pyogrio writes for it after :func:`_gpkg_ready`:
    booleans as ``bool`` (``Int8`` 1/0/null when some are missing, and object columns of True/False/None),
    numbers and time-zone-free date-times as they are (NaN/NaT → null). None for any other type (the
    plain path then writes the layer)."""
    import pyarrow as pa

    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        ready = s.astype("Int8") if s.isna().any() else s.astype(bool)
    elif pd.api.types.is_object_dtype(dtype):
        if pd.api.types.infer_dtype(s, skipna=True) != "boolean":
            return None
        ready = s.astype("boolean").astype("Int8")
    elif isinstance(dtype, np.dtype) and (dtype.kind in "iuM" or (dtype.kind == "f" and dtype.itemsize >= 4)):
        return pa.array(s.to_numpy(), from_pandas=True)
    elif isinstance(s.array, (pd.arrays.IntegerArray, pd.arrays.FloatingArray)):
        ready = s
    else:
        return None
    if isinstance(ready.dtype, np.dtype):
        return pa.array(ready.to_numpy(), from_pandas=True)
    return pa.array(ready.array)


def _gpkg_columns(gdf: gpd.GeoDataFrame) -> tuple[list[str], list[Any], int] | None:
    """The attribute columns of a layer as Arrow arrays (the geometry's place left None), their names and
    the geometry's position; None when the layer is unusual (the plain path then writes it): not exactly
    one geometry column, an index ``to_file`` would write, names that are repeated or not text, a column
    of a type :func:`_gpkg_text`/:func:`_gpkg_value` do not take."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        return None
    try:
        geometry = gdf.geometry.name
    except AttributeError:  # no active geometry column
        return None
    names = list(gdf.columns)
    if not all(isinstance(c, str) for c in names) or len(set(names)) != len(names):
        return None
    if list(gdf.index.names) != [None] or not pd.api.types.is_integer_dtype(gdf.index.dtype):
        return None  # to_file would write the index as a column
    kinds = [isinstance(t, gpd.array.GeometryDtype) for t in gdf.dtypes]
    if sum(kinds) != 1 or names[kinds.index(True)] != geometry:
        return None
    arrays: list[Any] = []
    for i in range(gdf.shape[1]):
        if kinds[i]:
            arrays.append(None)
            continue
        s = gdf.iloc[:, i]
        arr = _gpkg_text(s)
        if arr is None:
            arr = _gpkg_value(s)
        if arr is None:
            return None
        arrays.append(arr)
    return names, arrays, kinds.index(True)


def _gpkg_geometry(geoms: np.ndarray, ids: np.ndarray) -> tuple[Any, str]:
    """One slice of 2D geometries (shapely type ids ``ids``) → (WKB as Arrow binary, the layer's geometry
    type), as pyogrio's ``write_dataframe`` infers them: one type → that type; a single type mixed with its
    multi type → the multi type, each single geometry written as a multi geometry of one part (its WKB
    behind a multi header with count 1, which is the WKB of ``shapely.multipolygons([g])``); anything else
    → Unknown."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import shapely

    arr = pa.array(shapely.to_wkb(geoms), type=pa.binary())
    present = [int(t) for t in np.unique(ids[ids >= 0])]
    if len(present) == 1:
        return arr, _GEOM_NAMES[present[0]]
    if len(present) == 2 and _MULTI_OF.get(present[0]) == present[1]:
        single, multi = present
        mask = ids == single
        if mask.any():
            maker = {4: shapely.multipoints, 5: shapely.multilinestrings, 6: shapely.multipolygons}[multi]
            one = {0: shapely.Point(0, 0), 1: shapely.LineString([(0, 0), (1, 1)]),
                   3: shapely.Polygon([(0, 0), (1, 0), (1, 1)])}[single]
            head = shapely.to_wkb(maker([one]))[:9]  # byte order, multi type, count 1
            prefix = pc.if_else(pa.array(mask), pa.scalar(head, pa.binary()), pa.scalar(b"", pa.binary()))
            arr = pc.binary_join_element_wise(prefix, arr, pa.scalar(b"", pa.binary()))
        return arr, _GEOM_NAMES[multi]
    return arr, "Unknown"


def _gpkg_crs(gdf: gpd.GeoDataFrame) -> str | None:
    """The CRS pyogrio passes to GDAL: ``EPSG:<code>`` when it has one, else its WKT1 (GDAL flavour)."""
    crs = gdf.geometry.crs
    if not crs:
        return None
    epsg = crs.to_epsg()
    return f"EPSG:{epsg}" if epsg else crs.to_wkt("WKT1_GDAL")


def _arrow_gpkg(gdf: gpd.GeoDataFrame, path: Path, layer: str, mode: str = "w") -> bool:
    """Write ``gdf`` as layer ``layer`` the way ``_to_gpkg(_gpkg_ready(neutralise_frame(gdf)), ...)`` does,
    with the Arrow table built here: text columns go to Arrow once (``str`` ones as they are) with the
    formula guard, booleans and numbers as :func:`_gpkg_value`, geometry to WKB with the type and CRS
    pyogrio would infer, then ``pyogrio.write_arrow`` (the same GDAL call ``to_file`` ends in, without its
    pandas → Arrow round trip and its per-geometry promotion to multi types). Slices of GPKG_CHUNK_ROWS
    as :func:`_to_gpkg`. False, before touching the file, for a layer this does not take (3D geometry,
    linear rings, types :func:`_gpkg_columns` refuses)."""
    import pyarrow as pa
    import shapely
    from pyogrio.raw import write_arrow

    cols = _gpkg_columns(gdf)
    if cols is None:
        return False
    names, arrays, gpos = cols
    geoms = np.asarray(gdf.geometry.array, dtype=object)
    ids = shapely.get_type_id(geoms)
    if (ids == 2).any():
        return False
    solid = (ids >= 0) & ~shapely.is_empty(geoms)
    if shapely.has_z(geoms[solid]).any():
        return False
    crs = _gpkg_crs(gdf)
    n = len(gdf)
    step = max(int(GPKG_CHUNK_ROWS), 1)
    for k, start in enumerate(range(0, max(n, 1), step)):
        stop = n if n <= step else min(start + step, n)
        wkb, gtype = _gpkg_geometry(geoms[start:stop], ids[start:stop]) if n else (
            pa.array([], type=pa.binary()), "Unknown")
        part = [wkb if j == gpos else a if n <= step else a.slice(start, stop - start)
                for j, a in enumerate(arrays)]
        table = pa.Table.from_arrays(part, names=names)
        write_arrow(table, path, layer=layer, driver="GPKG", geometry_name=names[gpos], geometry_type=gtype,
                    crs=crs, encoding=None, append=(mode if k == 0 else "a") == "a")
    return True


def _write_layer(gdf: gpd.GeoDataFrame, path: Path, layer: str, mode: str) -> None:
    """:func:`_arrow_gpkg`, or for a layer it does not take the plain path (:func:`_gpkg_ready`,
    :func:`_to_gpkg`)."""
    if not _arrow_gpkg(gdf, path, layer, mode):
        _to_gpkg(_gpkg_ready(neutralise_frame(gdf)), path, layer, mode=mode)


def write_gpkg(gdf: gpd.GeoDataFrame, path: str | os.PathLike, layer: str, *, append_to: bool = False) -> Path:
    """Write one layer of a GeoPackage (pyogrio), text neutralised, geometry in the frame's CRS.

    With ``append_to`` the layer is added to an existing file (written atomically as a whole by the
    caller: write the first layer with ``append_to=False`` into the temporary path, then the others).
    """
    path = Path(path)
    if append_to:
        _write_layer(gdf, path, layer, "a")
        return path
    with atomic_path(path) as tmp:
        _write_layer(gdf, tmp, layer, "w")
    return path


def write_gpkg_layers(layers: dict[str, gpd.GeoDataFrame], path: str | os.PathLike) -> Path:
    """Several layers into one GeoPackage, atomically (first layer creates the file)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        for i, (name, gdf) in enumerate(layers.items()):
            _write_layer(gdf, tmp, name, "w" if i == 0 else "a")
    return path


def write_text(text: str, path: str | os.PathLike) -> Path:
    """A UTF-8 text file, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return path
