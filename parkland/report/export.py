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

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_start(arr: Any) -> Any:
    """Arrow text array → Boolean array: the text starts with one of FORMULA_START (null → False), in
    Arrow's C++ kernels."""
    import pyarrow.compute as pc

    hit = pc.starts_with(arr, FORMULA_START[0])
    for p in FORMULA_START[1:]:
        hit = pc.or_(hit, pc.starts_with(arr, p))
    return hit.fill_null(False)


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
    import pyarrow.compute as pc

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
        starts = formula_start(arr)
        if pc.any(starts).as_py():
            arr = pc.if_else(starts, pc.binary_join_element_wise("'", arr, ""), arr)
        texts[i] = arr
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


def write_gpkg(gdf: gpd.GeoDataFrame, path: str | os.PathLike, layer: str, *, append_to: bool = False) -> Path:
    """Write one layer of a GeoPackage (pyogrio), text neutralised, geometry in the frame's CRS.

    With ``append_to`` the layer is added to an existing file (written atomically as a whole by the
    caller: write the first layer with ``append_to=False`` into the temporary path, then the others).
    """
    path = Path(path)
    data = _gpkg_ready(neutralise_frame(gdf))
    if append_to:
        _to_gpkg(data, path, layer, mode="a")
        return path
    with atomic_path(path) as tmp:
        _to_gpkg(data, tmp, layer)
    return path


def write_gpkg_layers(layers: dict[str, gpd.GeoDataFrame], path: str | os.PathLike) -> Path:
    """Several layers into one GeoPackage, atomically (first layer creates the file)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        for i, (name, gdf) in enumerate(layers.items()):
            data = _gpkg_ready(neutralise_frame(gdf))
            _to_gpkg(data, tmp, name, mode="w" if i == 0 else "a")
    return path


def write_text(text: str, path: str | os.PathLike) -> Path:
    """A UTF-8 text file, atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return path
