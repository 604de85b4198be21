"""Scale-out engine: ``assess`` with the stages that grow with the parcel layer run on a dask.distributed cluster.

``assess_dask(parcels, firms, *, scheduler=None, npartitions=None, **assess_kwargs)`` takes the keyword
arguments of :func:`parkland.pipeline.assess` and returns the same :class:`~parkland.pipeline.Assessment`,
equal to the pandas engine's within 1e-9 relative (tested).

What runs where (honestly):

* **distributed, one task per partition of the parcel layer**: reading (each task reads its slice of the file
  with ``io.parcels.read_parcels(rows=(skip, count))`` — pyogrio ``skip_features``/``max_features``, arrow
  where the driver allows; feature numbers stay those of the whole file), header/alias mapping and value
  cleaning, geometry repair and areas (``geo.parcels.prepare_parcels``) and the raster zonal statistics
  (``geo.zonal.zonal_stats``, exactextract per partition). With ``workdir`` each task also writes its
  prepared partition as GeoParquet (``parcels-00000.parquet`` …), the partitioned interchange format other
  cluster jobs read with ``dask_geopandas.read_parquet``.
* **distributed, one task per chunk of the firm table**: the per-firm indicators (``firm_indicators``, row
  local).
* **gathered on the client** (they need the whole population or are small): the layer-wide checks of the
  parcel stage (repeated parcel codes on the gathered code column; the Z and out-of-zone notes, which count
  over the layer, rebuilt; the other per-file notes merged),
  reading the firm table, linking, parcel figures, grading and ranking, building overlay, land diagnosis
  (park averages), the cleanup plan, and everything ``Assessment.write`` does.

The client runs ``pipeline.assess`` itself with those stage functions swapped for their distributed
versions, so the composition is the pandas engine's, line for line. The swap is process-wide for the
duration of the call: do not run the pandas engine in another thread of the same process meanwhile.
If a partition cannot be prepared on its own (every feature of it unusable, coordinates off the earth), the
parcel stage falls back to the single-machine functions, which report the problem for the whole layer.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from parkland import pipeline, recon
from parkland.errors import InputError
from parkland.geo import parcels as geo_parcels
from parkland.geo.zonal import zonal_stats
from parkland.indicators import firm_indicators
from parkland.io.parcels import read_parcels
from parkland.recon import Loaded

#: features per partition when ``npartitions`` is not given (≈ 0.2 s of work and 100 MB per task)
PARTITION_ROWS = 100_000
#: order of the parcel stage's records on one feature (``prepare_parcels`` appends them in this order)
_GEO_ORDER = ("NULL_GEOMETRY", "EMPTY_GEOMETRY", "Z_DROPPED", "MIXED_GEOMETRY", "NOT_POLYGON",
              "INVALID_GEOMETRY", "COORDINATES_OUTSIDE_ZONE", "MISSING_PARCEL_ID", "DUPLICATE_PARCEL_ID",
              "CERT_AREA_MISMATCH")
#: records of the parcel stage whose text counts over the whole layer: recomputed on the gathered layer
_LAYER_WIDE = ("DUPLICATE_PARCEL_ID", "Z_DROPPED", "COORDINATES_OUTSIDE_ZONE")
_SWAPPED = ("read_parcels", "prepare_parcels", "zonal_stats", "firm_indicators")


def assess_dask(parcels: str | os.PathLike | gpd.GeoDataFrame, firms: str | os.PathLike | pd.DataFrame, *,
                scheduler: str | None = None, npartitions: int | None = None,
                workdir: str | os.PathLike | None = None, **kwargs: Any) -> pipeline.Assessment:
    """``pipeline.assess`` on a dask.distributed cluster (see the module docstring for what is distributed).

    ``scheduler``: address of a running scheduler (``tcp://host:8786``); None starts a local cluster of
    one single-threaded worker process per core for the call. ``npartitions``: partitions of the parcel
    layer (default ⌈features / PARTITION_ROWS⌉, at least one per worker). ``workdir``: a folder every
    worker can write (shared storage on a real cluster) to keep the prepared parcel partitions as GeoParquet.
    """
    from dask.distributed import Client, LocalCluster

    owned: list[Any] = []
    if scheduler is None:
        cluster = LocalCluster(n_workers=max(1, min(os.cpu_count() or 1, 8)), threads_per_worker=1,
                               processes=True, dashboard_address=None)
        owned.append(cluster)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    owned.insert(0, client)
    try:
        pre = distributed_parcels(client, parcels, npartitions=npartitions, workdir=workdir,
                                  layer=kwargs.get("parcels_layer"), parcel_id=kwargs.get("parcel_id"),
                                  io_engine=kwargs.get("io_engine", "pyogrio"), crs=kwargs.get("crs"),
                                  area_basis=kwargs.get("area_basis", "polygon"), rasters=kwargs.get("rasters"))
        with _swapped_stages(client, pre):
            a = pipeline.assess(parcels, firms, **kwargs)
        a.meta["engine"] = {"name": "dask", "partitions": (pre or {}).get("npartitions"),
                            "workers": len(client.scheduler_info().get("workers", {}))}
        return a
    finally:
        for o in owned:
            o.close()


# --------------------------------------------------------------------------------------------- partitions
def _count_features(path: str, layer: str | None, io_engine: str) -> int | None:
    """Feature count of a layer file (None when it cannot be had cheaply: the caller falls back)."""
    p = Path(path)
    if not p.is_file() and not (p.is_dir() and p.suffix.lower() == ".gdb"):
        return None
    try:
        if p.suffix.lower() in (".parquet", ".geoparquet"):
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(p).metadata.num_rows)
        import pyogrio

        n = pyogrio.read_info(str(p), layer=layer, force_feature_count=True).get("features")
        return int(n) if n is not None and n >= 0 else None
    except Exception:  # an unreadable file: the single-machine reader reports it properly
        return None


def _z_rows(frame: gpd.GeoDataFrame) -> np.ndarray:
    """source_row of the features whose geometry has Z (as ``prepare_parcels`` counts them)."""
    g = np.asarray(frame.geometry.array, dtype=object)
    alive = ~(shapely.is_missing(g) | shapely.is_empty(g))
    has_z = np.zeros(len(g), dtype=bool)
    has_z[alive] = shapely.has_z(g[alive])
    return frame["source_row"].to_numpy()[has_z]


def _partition_task(src: Any, rows: tuple[int, int] | None, opts: dict[str, Any], index: int) -> dict[str, Any]:
    """One partition: read its slice → canonical frame → repair and measure → zonal statistics."""
    try:
        if rows is not None:
            loaded = read_parcels(src, layer=opts["layer"], id_column=opts["parcel_id"], engine=opts["io_engine"],
                                  rows=rows)
            raw, read_rec, read_meta, path = loaded.frame, loaded.recon, loaded.meta, src
        else:
            raw, read_rec, read_meta, path = src, recon.empty(), {}, None
        z_rows = _z_rows(raw)
        geo = geo_parcels.prepare_parcels(raw, crs=opts["crs"], area_basis=opts["area_basis"], source="parcels",
                                          path=path)
        frame = geo.frame.reset_index(drop=True)
        zs = zonal_stats(frame, opts["rasters"]) if opts["rasters"] else None
    except InputError as e:
        return {"error": e}
    if opts["workdir"] is not None:
        out = Path(opts["workdir"]) / f"parcels-{index:05d}.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(out, index=False)
    return {"n_raw": len(raw), "frame": frame, "read_recon": read_rec, "read_meta": read_meta,
            "geo_recon": geo.recon, "geo_meta": geo.meta, "z_rows": z_rows, "zonal": zs}


def distributed_parcels(client: Any, parcels: Any, *, npartitions: int | None = None,
                        workdir: str | os.PathLike | None = None, layer: str | None = None,
                        parcel_id: str | None = None, io_engine: str = "pyogrio", crs: Any = None,
                        area_basis: str = "polygon", rasters: dict | None = None) -> dict[str, Any] | None:
    """Read, prepare and measure the parcel layer partition by partition on the cluster → the results the
    single-machine ``read_parcels``, ``prepare_parcels`` and ``zonal_stats`` would give, merged:
    ``{"read": Loaded, "prepare": Loaded, "zonal": DataFrame | None, "npartitions": k}``.
    None when the layer cannot be partitioned (a database URL, an unreadable file, a partition that fails
    on its own): the caller then runs the single-machine functions."""
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    opts = {"layer": layer, "parcel_id": parcel_id, "io_engine": io_engine, "crs": crs, "area_basis": area_basis,
            "rasters": dict(rasters) if rasters else None, "workdir": str(workdir) if workdir else None}
    if isinstance(parcels, gpd.GeoDataFrame):
        raw = parcels.copy()
        if "source_row" not in raw:
            raw.insert(0, "source_row", np.arange(1, len(raw) + 1))
        n = len(raw)
        k = _n_parts(n, npartitions, workers)
        bounds = _bounds(n, k)
        srcs = client.scatter([raw.iloc[a:a + m] for a, m in bounds])
        futs = [client.submit(_partition_task, s, None, opts, i, pure=False) for i, s in enumerate(srcs)]
        path = None
    else:
        path = str(parcels)
        count_layer = layer
        if layer is None:  # the layer read_parcels will choose (the first with a parcel-code field)
            from parkland.io.parcels import _parcel_layer

            chosen = _parcel_layer(path, parcel_id)
            count_layer = chosen[0] if chosen else None
        n = _count_features(path, count_layer, io_engine)
        if n is None or n == 0:
            return None
        k = _n_parts(n, npartitions, workers)
        bounds = _bounds(n, k)
        futs = [client.submit(_partition_task, path, b, opts, i, pure=False) for i, b in enumerate(bounds)]
    parts = client.gather(futs)
    if any("error" in p for p in parts):
        return None
    out = _merge(parts, path)
    out["npartitions"] = k
    return out


def _n_parts(n: int, npartitions: int | None, workers: int) -> int:
    k = npartitions or max(workers, math.ceil(n / PARTITION_ROWS))
    return max(1, min(int(k), n))


def _bounds(n: int, k: int) -> list[tuple[int, int]]:
    """(skip, count) of k nearly equal consecutive slices of n rows."""
    edges = np.linspace(0, n, k + 1).round().astype(int)
    return [(int(a), int(b - a)) for a, b in itertools.pairwise(edges) if b > a]


def _file_level_first(rec: pd.DataFrame, rank: dict[str, int] | None = None) -> pd.DataFrame:
    """File-level records (no source_row) once each, first; then by source_row (and the stage's order)."""
    if not len(rec):
        return rec
    file = rec["source_row"].isna().to_numpy()
    dup = file & rec.duplicated(subset=["source", "problem_code", "column", "problem_zh"], keep="first").to_numpy()
    rec = rec.loc[~dup]
    key = pd.DataFrame({"f": (~rec["source_row"].isna()).astype(int).to_numpy(),
                        "r": rec["source_row"].fillna(-1).astype("int64").to_numpy(),
                        "c": rec["problem_code"].map(rank or {}).fillna(-1).to_numpy()})
    order = key.sort_values(["f", "r", "c"], kind="stable").index.to_numpy()
    return rec.iloc[order].reset_index(drop=True)


def _merge(parts: list[dict[str, Any]], path: str | None) -> dict[str, Any]:
    """Partition results → the whole layer's: frames concatenated in feature order; per-file notes once;
    repeated parcel codes and the Z note recomputed over the whole layer."""
    frame = pd.concat([p["frame"] for p in parts], ignore_index=True)
    frame = gpd.GeoDataFrame(frame, geometry=parts[0]["frame"].geometry.name, crs=parts[0]["frame"].crs)
    n_raw = sum(p["n_raw"] for p in parts)

    read_meta = dict(parts[0]["read_meta"])
    if path is not None:
        from parkland.io.tables import sha256_file

        read_meta["sha256"] = sha256_file(path)
        read_meta["n_features"] = n_raw
    read_rec = _file_level_first(recon.concat([p["read_recon"] for p in parts]))

    geo_rec = recon.concat([p["geo_recon"] for p in parts])
    outside = bool(len(geo_rec)) and bool((geo_rec["problem_code"] == "COORDINATES_OUTSIDE_ZONE").any())
    if len(geo_rec):
        geo_rec = geo_rec[~geo_rec["problem_code"].isin(_LAYER_WIDE)]
    extra = []
    if outside:
        from parkland.geo.area import centroid_lonlat

        extra.append(geo_parcels._outside_china_zones(frame, centroid_lonlat(frame), "parcels", frame.geometry.name))
    zrows = np.concatenate([p["z_rows"] for p in parts])
    if len(zrows):
        geom_name = frame.geometry.name
        extra.append(recon.record(
            "parcels", "Z_DROPPED",
            f"{len(zrows)} 个宗地图形带高程（Z）坐标，已去除，按平面计算（第 {geo_parcels._rows_text(zrows)} 条）",
            f"{len(zrows)} parcel geometries had Z coordinates; dropped, measured in 2D "
            f"(features {geo_parcels._rows_text(zrows).replace('、', ', ')})", "repaired", column=geom_name))
    if "parcel_id" in frame.columns:
        pid = frame["parcel_id"].astype("string").str.strip()
        pid = pid.mask(pid == "")
        dup = (pid.duplicated(keep=False) & pid.notna()).to_numpy()
        if dup.any():
            cols = [c for c in ("source_row", "parcel_id", "parcel_id_raw") if c in frame.columns]
            sub = frame.loc[dup, [*cols, frame.geometry.name]].reset_index(drop=True)
            rec = geo_parcels.prepare_parcels(sub, source="parcels", path=path).recon
            extra.append(rec[rec["problem_code"] == "DUPLICATE_PARCEL_ID"])
    geo_rec = _file_level_first(recon.concat([geo_rec, *extra]), {c: i for i, c in enumerate(_GEO_ORDER)})
    geo_meta = dict(parts[0]["geo_meta"])
    geo_meta.update(n_input=n_raw, n_kept=len(frame), z_dropped=len(zrows),
                    measure_epsg=sorted({e for p in parts for e in p["geo_meta"].get("measure_epsg", [])}))

    zonal = None
    if parts[0]["zonal"] is not None:
        zonal = pd.concat([p["zonal"] for p in parts], ignore_index=True)
    stub = pd.DataFrame({"source_row": np.arange(1, n_raw + 1, dtype="int64")})
    return {"read": Loaded(stub, read_rec, read_meta), "prepare": Loaded(frame, geo_rec, geo_meta), "zonal": zonal}


# --------------------------------------------------------------------------------------------- firms
def distributed_firm_indicators(client: Any, firms: pd.DataFrame, chunks: int | None = None) -> pd.DataFrame:
    """``indicators.firm_indicators`` on chunks of the firm table, one task each (the indicators are row
    local: a ratio of two columns of the same firm), concatenated in the original order."""
    if not len(firms):
        return firm_indicators(firms)
    k = chunks or max(1, len(client.scheduler_info().get("workers", {})))
    bounds = _bounds(len(firms), min(k, len(firms)))
    srcs = client.scatter([firms.iloc[a:a + m] for a, m in bounds])
    futs = client.map(firm_indicators, srcs, pure=False)
    return pd.concat(client.gather(futs))


@contextlib.contextmanager
def _swapped_stages(client: Any, pre: dict[str, Any] | None) -> Iterator[None]:
    """Swap the growing stages of ``pipeline.assess`` for their distributed versions for one call.
    ``pre`` (from :func:`distributed_parcels`) answers the first read/prepare/zonal call of the layer."""
    orig = {name: getattr(pipeline, name) for name in _SWAPPED}
    pending = dict(pre or {})

    def read(*a: Any, **k: Any) -> Loaded:
        return pending.pop("read") if "read" in pending else orig["read_parcels"](*a, **k)

    def prepare(*a: Any, **k: Any) -> Loaded:
        if k.get("source", "parcels") == "parcels" and "prepare" in pending:
            pending.pop("read", None)
            return pending.pop("prepare")
        return orig["prepare_parcels"](*a, **k)

    def zonal(parcels: gpd.GeoDataFrame, rasters: Any, *a: Any, **k: Any) -> pd.DataFrame:
        if "zonal" in pending and pending["zonal"] is not None and not a and not k:
            z = pending.pop("zonal")
            return z.set_index(parcels.index)
        return orig["zonal_stats"](parcels, rasters, *a, **k)

    def indicators(firms: pd.DataFrame) -> pd.DataFrame:
        return distributed_firm_indicators(client, firms)

    new = {"read_parcels": read, "prepare_parcels": prepare, "zonal_stats": zonal, "firm_indicators": indicators}
    try:
        for name, fn in new.items():
            setattr(pipeline, name, fn)
        yield
    finally:
        for name, fn in orig.items():
            setattr(pipeline, name, fn)


# --------------------------------------------------------------------------------------------- GeoParquet
def to_geoparquet(path: str | os.PathLike, out_dir: str | os.PathLike, *, layer: str | None = None,
                  npartitions: int = 8, scheduler: str | None = None) -> Path:
    """Convert a bureau's layer (GPKG, SHP, …) into a partitioned GeoParquet dataset (one file per partition,
    read in parallel with ``dask_geopandas.read_file``): the interchange format for national runs, read
    back with ``dask_geopandas.read_parquet(out_dir)``."""
    import dask_geopandas
    from dask.distributed import Client

    client = Client(scheduler) if scheduler else None
    try:
        ddf = dask_geopandas.read_file(str(path), layer=layer, npartitions=npartitions)
        ddf.to_parquet(str(out_dir))
    finally:
        if client is not None:
            client.close()
    return Path(out_dir)
