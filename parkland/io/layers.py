"""Generic vector layers (parcels, buildings, park boundaries): every OGR format and GeoParquet.

GeoPackage (with a layer name), Shapefile (a GBK-encoded .dbf without .cpg is detected), Esri File
Geodatabase (a .gdb directory), GeoJSON, FlatGeobuf, KML/KMZ, zipped shapefiles — through pyogrio
(``use_arrow=True``) by default or fiona with ``engine="fiona"`` — and GeoParquet through
geopandas/pyarrow. Features are returned in file order with ``source_row`` = 1..n; a missing CRS is
returned as ``None`` (the geo stage decides what to do about it).
"""

from __future__ import annotations

import codecs
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from parkland import recon
from parkland.errors import InputError
from parkland.io.tables import require_file, sha256_file

PARQUET_EXT = {".parquet", ".geoparquet", ".pq"}
ENGINES = ("pyogrio", "fiona")
#: drivers read through pyogrio's Arrow stream (faster); others use the plain path: with GDAL 3.12 and
#: pyogrio 0.13 a FlatGeobuf layer holding a null geometry crashes the Arrow reader
ARROW_DRIVERS = {"GPKG", "ESRI Shapefile", "OpenFileGDB", "GeoJSON", "GeoJSONSeq"}
#: bytes of a .dbf sampled to detect its encoding
_DBF_SAMPLE = 4 << 20


def _is_parquet(p: Path) -> bool:
    return p.suffix.lower() in PARQUET_EXT


def _open_error(p: Path, e: Exception, source: str) -> InputError:
    return InputError(f"无法作为矢量图层读取（{type(e).__name__}）", f"cannot be read as a vector layer "
                      f"({type(e).__name__}: {e})", file=p,
                      hint_zh="请提供 GeoPackage、Shapefile（含 .shp/.shx/.dbf）、GDB 文件夹、GeoJSON、"
                              "FlatGeobuf、KML 或 GeoParquet 文件，并检查扩展名是否与内容相符。",
                      hint_en="Provide a GeoPackage, Shapefile (.shp with .shx/.dbf), .gdb folder, GeoJSON, "
                              "FlatGeobuf, KML or GeoParquet file whose extension matches its content.")


def list_layers(path: str | Path) -> list[str]:
    """Names of the layers in a vector dataset (one name, the file stem, for GeoParquet)."""
    p = require_file(path, "图层文件", "layer file")
    if _is_parquet(p):
        return [p.stem]
    import pyogrio

    try:
        return [str(n) for n in pyogrio.list_layers(str(p))[:, 0]]
    except Exception as e:  # pyogrio.errors.DataSourceError and GDAL errors
        raise _open_error(p, e, "") from e


def shapefile_encoding(path: str | Path) -> str | None:
    """Encoding to read a shapefile's .dbf with, when GDAL would otherwise guess wrong.

    None when a .cpg file exists or the .dbf header names a language driver (GDAL uses those), or when
    the text is plain ASCII. Else the bytes (field names and records) are tried as strict UTF-8, then
    GBK, then GB18030: the first that decodes is returned ("UTF-8", "GBK", "GB18030")."""
    p = Path(path)
    if p.suffix.lower() != ".shp":
        return None
    dbf = next((p.with_suffix(s) for s in (".dbf", ".DBF") if p.with_suffix(s).exists()), None)
    if dbf is None or any(p.with_suffix(s).exists() for s in (".cpg", ".CPG")):
        return None
    with open(dbf, "rb") as fh:
        data = fh.read(_DBF_SAMPLE)
    if len(data) < 32 or data[29] != 0:
        return None
    header_len = int.from_bytes(data[8:10], "little")
    names = data[32:header_len]
    records = data[header_len:]
    for chunk in (records, names):
        if all(b < 128 for b in chunk):
            continue
        for enc in ("utf-8", "gbk", "gb18030"):
            try:
                codecs.getincrementaldecoder(enc)().decode(chunk, final=False)
                return enc.upper()
            except UnicodeDecodeError:
                continue
    return None


def read_layer(path: str | Path, *, layer: str | None = None, engine: str = "pyogrio",
               source: str = "buildings", rows: tuple[int, int] | None = None) -> recon.Loaded:
    """Read one vector layer as a GeoDataFrame: ``source_row`` (1..n in feature order) first, then the
    original attribute columns and ``geometry`` (null geometries kept). Meta: path, sha256, driver,
    layer, layers, crs (string or None), encoding, engine, n_features.
    Raises InputError for a missing or unreadable file, an unknown layer (the message lists the layers)
    or a layer without geometry. A PostgreSQL URL reads a PostGIS table or query (io/postgis.py).

    ``rows=(skip, count)`` reads one partition (the scale-out engine): features skip+1 … skip+count, with
    ``source_row`` numbered as in the whole file; the file is then not hashed (``sha256`` None: the caller
    hashes it once)."""
    from .postgis import is_db_url

    if is_db_url(path):  # a PostGIS table or query: same frame, crs None for SRID 0
        from .postgis import read_db_layer

        return read_db_layer(str(path), source=source)
    p = require_file(path, "图层文件", "layer file")
    if engine not in ENGINES:
        raise InputError(f"不支持的读取引擎「{engine}」，可选 pyogrio 或 fiona",
                         f'unsupported io engine "{engine}": use pyogrio or fiona', file=p)
    meta: dict = {"path": str(p), "sha256": sha256_file(p) if rows is None else None, "engine": engine,
                  "source": source}
    recs: list[pd.DataFrame] = []
    if _is_parquet(p):
        gdf = _read_parquet(p)
        if rows is not None:
            gdf = gdf.iloc[rows[0]:rows[0] + rows[1]]
        meta.update(driver="GeoParquet", layer=p.stem, layers=[p.stem], encoding=None)
    else:
        layers = _layers(p, engine)
        if layer is None:
            if not layers:
                raise InputError("文件中没有图层", "the file has no layer", file=p)
            chosen = layers[0]
            if len(layers) > 1:
                recs.append(recon.record(source, "FIRST_LAYER_USED", f"文件有 {len(layers)} 个图层，使用第一个"
                                         f"「{chosen}」；其他图层：{'、'.join(layers[1:])}",
                                         f'the file has {len(layers)} layers; the first, "{chosen}", is used; '
                                         f"others: {', '.join(layers[1:])}", "kept"))
        else:
            if str(layer) not in layers:
                flag = {"parcels": "--parcels-layer", "buildings": "--buildings-layer",
                        "parks": "--parks-layer"}.get(source, "--layer")
                raise InputError(f"没有名为「{layer}」的图层；现有图层：{'、'.join(layers)}",
                                 f'no layer named "{layer}"; the layers are: {", ".join(layers)}', file=p,
                                 hint_zh=f"请用 {flag} 指定上面列出的一个图层。",
                                 hint_en=f"Name one of the layers above with {flag}.")
            chosen = str(layer)
        enc = shapefile_encoding(p)
        driver = _driver(p, chosen)
        gdf, used = _read_ogr(p, chosen, engine, enc, use_arrow=driver in ARROW_DRIVERS, rows=rows)
        meta.update(layer=chosen, layers=layers, encoding=enc, engine_used=used, driver=driver)
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise InputError("图层没有几何图形（只有属性表）", "the layer has no geometry (attributes only)", file=p,
                         hint_zh="请提供面图层。", hint_en="Provide a polygon layer.")
    gdf = gdf.reset_index(drop=True)
    if "source_row" in gdf.columns:
        gdf = gdf.rename(columns={"source_row": "source_row_input"})
    first = 1 if rows is None else rows[0] + 1
    gdf.insert(0, "source_row", np.arange(first, first + len(gdf), dtype=np.int64))
    meta["crs"] = gdf.crs.to_string() if gdf.crs is not None else None
    meta["n_features"] = len(gdf)
    return recon.Loaded(gdf, recon.concat(recs), meta)


def _layers(p: Path, engine: str) -> list[str]:
    if engine == "fiona" and p.suffix.lower() not in (".kml", ".kmz"):
        import fiona

        try:
            return [str(n) for n in fiona.listlayers(str(p))]
        except Exception as e:  # fiona.errors.DriverError and friends
            raise _open_error(p, e, "") from e
    return list_layers(p)


def _driver(p: Path, layer: str | None = None) -> str | None:
    import pyogrio

    try:
        return pyogrio.read_info(str(p), layer=layer).get("driver")
    except Exception:  # informational only
        return None


def _read_parquet(p: Path) -> gpd.GeoDataFrame:
    try:
        return gpd.read_parquet(p)
    except ValueError as e:  # no geo metadata: a plain Parquet table
        raise InputError("Parquet 文件没有 GeoParquet 几何元数据", "the Parquet file has no GeoParquet "
                         "geometry metadata", file=p,
                         hint_zh="请用 geopandas 的 to_parquet 或 GDAL 导出 GeoParquet。",
                         hint_en="Export it as GeoParquet (geopandas to_parquet or GDAL).") from e
    except Exception as e:  # pyarrow.ArrowInvalid for a file that is not Parquet at all
        raise _open_error(p, e, "") from e


def _read_ogr(p: Path, layer: str, engine: str, encoding: str | None,
              use_arrow: bool = True, rows: tuple[int, int] | None = None) -> tuple[gpd.GeoDataFrame, str]:
    """(frame, engine actually used). fiona's wheels ship GDAL without LIBKML, whose plain KML driver
    drops every attribute: KML is always read through pyogrio. ``rows=(skip, count)``: one slice."""
    kw: dict = {"encoding": encoding} if encoding else {}
    if engine == "fiona" and p.suffix.lower() not in (".kml", ".kmz"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                fkw = {"rows": slice(rows[0], rows[0] + rows[1])} if rows is not None else {}
                return gpd.read_file(str(p), layer=layer, engine="fiona", **kw, **fkw), "fiona"
        except Exception as e:  # fiona.errors.DriverError etc.
            raise _open_error(p, e, "") from e
    import pyogrio

    if rows is not None:
        kw.update(skip_features=rows[0], max_features=rows[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if use_arrow:
            try:
                return pyogrio.read_dataframe(str(p), layer=layer, use_arrow=True, **kw), "pyogrio"
            except pyogrio.errors.DataSourceError as e:
                raise _open_error(p, e, "") from e
            except Exception:  # the arrow path does not support this driver or field type: plain path
                pass
        try:
            return pyogrio.read_dataframe(str(p), layer=layer, use_arrow=False, **kw), "pyogrio"
        except UnicodeDecodeError as e:
            # a .cpg names the encoding, but GDAL cut a field name inside a character (UTF-8 Chinese names
            # longer than dBASE's 10 bytes): read as Latin-1 and decode here, like a detected encoding
            encoding = encoding or _cpg_encoding(p)
            if not encoding:
                raise _open_error(p, e, "") from e
        except Exception as e:  # GDAL errors
            raise _open_error(p, e, "") from e
        # field names cut inside a character (dBASE's 10 bytes): read bytes as Latin-1, decode here
        try:
            raw = pyogrio.read_dataframe(str(p), layer=layer, use_arrow=False,
                                         **{**kw, "encoding": "ISO-8859-1"})
        except Exception as e:  # GDAL errors
            raise _open_error(p, e, "") from e
        return _recode(raw, encoding), "pyogrio"


def _cpg_encoding(p: Path) -> str | None:
    """The Python codec named by a shapefile's .cpg (UTF-8, GBK, 936 …), None when absent or unknown."""
    if p.suffix.lower() != ".shp":
        return None
    cpg = next((p.with_suffix(s) for s in (".cpg", ".CPG") if p.with_suffix(s).exists()), None)
    if cpg is None:
        return None
    name = cpg.read_bytes()[:64].decode("ascii", errors="ignore").strip()
    name = {"936": "gbk", "54936": "gb18030", "65001": "utf-8"}.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _recode(gdf: gpd.GeoDataFrame, encoding: str) -> gpd.GeoDataFrame:
    """Undo a Latin-1 read: names and text cells back to bytes, decoded with ``encoding``. A name whose
    last character was cut by the 10-byte limit ends in "…" (matched as a truncated alias)."""

    def name(n: str) -> str:
        t = n.encode("latin-1").decode(encoding, errors="replace")
        return re.sub("\ufffd+$", "…", t).replace("\ufffd", "")

    geom = gdf.geometry.name
    out = gdf.rename(columns={c: name(c) for c in gdf.columns if c != geom})
    for c in out.columns:
        if c != geom and (out[c].dtype == object or isinstance(out[c].dtype, pd.StringDtype)):
            s = out[c].astype(object)
            out[c] = s.map(lambda v: v.encode("latin-1").decode(encoding, errors="replace")
                           if isinstance(v, str) else v, na_action="ignore").astype(object)
    return out
