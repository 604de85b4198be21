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
* **linking** (:func:`distributed_link`, the stages of ``parkland.link``): per parcel partition the landholder
  pairs and the parcels under firm points; per firm chunk the (firm, parcel) pairs, hash-partitioned by
  parcel position so that every pair of a parcel meets in one task; per parcel partition the shares (land
  share, occupied floor, normalisation, equal split of the rest) and the parcel's firm count, holder and
  park; the pairs hash-partitioned back by firm; per firm chunk land_mu, weights, status, main parcel,
  tenant, park and county. The client prepares the firm table (repeated codes, the link table, the
  parcel-code index and landholder look-ups, broadcast to the workers) and gathers the results.
* **land diagnosis** (:func:`distributed_diagnose`, the stages of ``parkland.land``): the client computes the
  firm-side aggregates (stopped firms, industries, implausible figures); the workers return partial park
  sums of tax and area per partition, the client adds them into the park averages (one figure per park)
  and the workers evaluate every per-parcel rule of their partition.
* **per-firm indicators**: one task per chunk of the firm table (row local).
* **gathered on the client** (they need the whole population or are small): the layer-wide checks of the
  parcel stage (repeated parcel codes on the gathered code column; the Z and out-of-zone notes, which count
  over the layer, rebuilt; the other per-file notes merged), reading the firm table, parcel figures,
  grading and ranking, the building overlay, the cleanup plan, and everything ``Assessment.write`` does.
  The parcel table itself is gathered (the outputs need it): linking and diagnosis send each worker the
  slice of the columns they read and take back the columns they add.

The client runs ``pipeline.assess`` itself with the distributed stage functions passed as
``stages=`` (:func:`dask_stages`), so the composition is the pandas engine's, line for line.
If a partition cannot be prepared on its own (every feature of it unusable, coordinates off the earth), the
parcel stage falls back to the single-machine functions, which report the problem for the whole layer.
"""

from __future__ import annotations

import itertools
import math
import os
import uuid
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from parkland import land, link, pipeline, recon
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
        a = pipeline.assess(parcels, firms, stages=dask_stages(client, pre, npartitions=npartitions), **kwargs)
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


# --------------------------------------------------------------------------------------------- stages
def dask_stages(client: Any, pre: dict[str, Any] | None, *, npartitions: int | None = None) -> pipeline.Stages:
    """The distributed stage functions for ``pipeline.assess(..., stages=...)``. ``pre`` (from
    :func:`distributed_parcels`) answers the first read/prepare/zonal call of the parcel layer; linking
    and the land diagnosis use ``pre``'s number of partitions (else ``npartitions``, else one per
    PARTITION_ROWS parcels and at least one per worker)."""
    pending = dict(pre or {})
    parts = (pre or {}).get("npartitions") or npartitions

    def read(*a: Any, **k: Any) -> Loaded:
        return pending.pop("read") if "read" in pending else read_parcels(*a, **k)

    def prepare(*a: Any, **k: Any) -> Loaded:
        if k.get("source", "parcels") == "parcels" and "prepare" in pending:
            pending.pop("read", None)
            return pending.pop("prepare")
        return geo_parcels.prepare_parcels(*a, **k)

    def zonal(parcels: gpd.GeoDataFrame, rasters: Any, *a: Any, **k: Any) -> pd.DataFrame:
        if "zonal" in pending and pending["zonal"] is not None and not a and not k:
            z = pending.pop("zonal")
            return z.set_index(parcels.index)
        return zonal_stats(parcels, rasters, *a, **k)

    def link_stage(*a: Any, **k: Any) -> link.Linked:
        return distributed_link(client, *a, npartitions=parts, **k)

    def diagnose_stage(*a: Any, **k: Any) -> Loaded:
        return distributed_diagnose(client, *a, npartitions=parts, **k)

    return pipeline.Stages(read_parcels=read, prepare_parcels=prepare, zonal_stats=zonal, link_firms=link_stage,
                           firm_indicators=lambda firms: distributed_firm_indicators(client, firms),
                           diagnose=diagnose_stage)


def _workers(client: Any) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))


def _route(frame: pd.DataFrame, column: str, edges: np.ndarray) -> list[pd.DataFrame]:
    """Hash-partition by range: rows whose ``column`` lies in [edges[i], edges[i+1]) → piece i (order kept)."""
    part = np.searchsorted(edges, frame[column].to_numpy(), side="right") - 1
    order = np.argsort(part, kind="stable")
    cuts = np.cumsum(np.bincount(part, minlength=len(edges) - 1))[:-1]
    return [frame.iloc[ix] for ix in np.split(order, cuts)]


def _piece(result: dict[str, Any], i: int) -> pd.DataFrame:
    return result["pieces"][i]


def _field(result: dict[str, Any], *names: str) -> Any:
    return result[names[0]] if len(names) == 1 else {n: result[n] for n in names}


def _concat(pieces: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(pieces, ignore_index=True) if len(pieces) > 1 else pieces[0].reset_index(drop=True)


def _link_candidates(raw: tuple, area_column: str, lookups: tuple, fedges: np.ndarray) -> dict[str, Any]:
    """Worker, per parcel partition: normalise its columns, find landholder pairs and firm points → pieces
    routed to the firm chunks."""
    frame, floor, boundary, offset = raw
    pt = link.parcel_inputs(frame, area_column, floor_area_m2=floor, park_boundary=boundary, offset=offset)
    holders, points = lookups
    c = link.parcel_candidates(pt, holders, points)
    return {"pt": pt, "holder_pos": c["holder_pos"], "per_parcel": c["per_parcel"],
            "pieces": _route(c["pairs"], "fpos", fedges)}


def _link_pairs(ft: link.Block, index: tuple, link_pairs: pd.DataFrame, pieces: list[pd.DataFrame],
                pedges: np.ndarray) -> dict[str, Any]:
    """Worker, per firm chunk: the chunk's pairs → pieces routed to the parcel partitions."""
    codes, multi = index
    r = link.firm_pairs(ft, codes, multi, link_pairs, _concat(pieces))
    return {"had_code": r["had_code"], "recs": r["recs"], "pieces": _route(r["pairs"], "ppos", pedges)}


def _link_shares(cand: dict[str, Any], pieces: list[pd.DataFrame], fedges: np.ndarray) -> dict[str, Any]:
    """Worker, per parcel partition, with every pair of its parcels: shares → pieces routed to firm chunks."""
    r = link.parcel_shares(cand["pt"], cand["holder_pos"], _concat(pieces))
    return {"per_parcel": {**cand["per_parcel"], **r["per_parcel"]}, "recs": r["recs"],
            "pieces": _route(r["pairs"], "fpos", fedges)}


def _link_totals(ft: link.Block, had_code: np.ndarray, pieces: list[pd.DataFrame]) -> dict[str, Any]:
    """Worker, per firm chunk, with every pair of its firms: the per-firm totals."""
    return link.firm_totals(ft, had_code, _concat(pieces))


def distributed_link(client: Any, firms: pd.DataFrame, parcels: gpd.GeoDataFrame, links: pd.DataFrame | None = None,
                     *, area_column: str = "land_area_mu", floor_area_m2: pd.Series | None = None,
                     firm_coords: str = "wgs84", park_boundary: pd.Series | None = None, source: str = "firms",
                     npartitions: int | None = None, chunks: int | None = None) -> link.Linked:
    """``link.link_firms`` on the cluster, with its result.

    The client runs :func:`link.prepare_link` (the firm table: repeated codes, the link table, the
    parcel-code index, landholder look-ups, projected points) and sends each worker its slices. Then, as
    tasks: per parcel partition the landholder pairs and point hits (routed by firm position to the firm
    chunks) → per firm chunk the pairs (routed by parcel position to the parcel partitions: every pair of a
    parcel meets in one task) → per parcel partition the shares (routed back by firm) → per firm chunk the
    totals. Gathered: the per-firm columns, the pairs and the per-parcel link columns (what the rest of
    the run and the outputs read), and the records."""
    parcels = parcels.reset_index(drop=True)
    plan = link.prepare_link(firms, parcels, links, area_column=area_column, firm_coords=firm_coords)
    n_p, n_f = len(parcels), len(plan.firms)
    if n_p == 0 or n_f == 0:  # nothing to link: the single-machine function
        return link.link_firms(firms, parcels, links, area_column=area_column, floor_area_m2=floor_area_m2,
                               firm_coords=firm_coords, park_boundary=park_boundary, source=source)
    workers = _workers(client)
    pb = _bounds(n_p, _n_parts(n_p, npartitions, workers))
    fb = _bounds(n_f, _n_parts(n_f, chunks or npartitions, workers))
    pedges = np.array([a for a, _ in pb] + [n_p])
    fedges = np.array([a for a, _ in fb] + [n_f])
    token = uuid.uuid4().hex[:8]
    cols = [c for c in ("source_row", "parcel_id", plan.area_column, "holder_uscc", "holder_name", "park", "county",
                        "area_basis_used") if c in parcels.columns]
    if len(plan.points) and isinstance(parcels, gpd.GeoDataFrame) and parcels._geometry_column_name in parcels.columns:
        cols.append(parcels.geometry.name)  # only firm points need the parcels' shapes
    sub = parcels[cols]
    fa = None if floor_area_m2 is None else pd.Series(floor_area_m2).reset_index(drop=True)
    bd = None if park_boundary is None else pd.Series(park_boundary).reset_index(drop=True)
    raws = client.scatter([(sub.iloc[a:a + m], None if fa is None else fa.iloc[a:a + m],
                            None if bd is None else bd.iloc[a:a + m], a) for a, m in pb])
    lookups = client.scatter([(plan.holders, plan.points)], broadcast=True)[0]
    index = client.scatter([(plan.codes, plan.multi)], broadcast=True)[0]
    fts = client.scatter([plan.ft.slice(a, a + m) for a, m in fb])
    lp = plan.link_pairs
    lps = client.scatter([lp[(lp["fpos"] >= a) & (lp["fpos"] < a + m)] for a, m in fb])
    K, C = len(pb), len(fb)

    def sub_(fn: Any, name: str, *args: Any) -> Any:
        return client.submit(fn, *args, key=f"parkland-{name}-{token}", pure=False)

    cand = [sub_(_link_candidates, f"link-candidates-{k}", raws[k], plan.area_column, lookups, fedges) for k in range(K)]
    pairs = [sub_(_link_pairs, f"link-pairs-{c}", fts[c], index, lps[c],
                  [sub_(_piece, f"piece-c{k}-{c}", cand[k], c) for k in range(K)], pedges) for c in range(C)]
    shares = [sub_(_link_shares, f"link-shares-{k}", cand[k],
                   [sub_(_piece, f"piece-p{c}-{k}", pairs[c], k) for c in range(C)], fedges) for k in range(K)]
    totals = [sub_(_link_totals, f"link-totals-{c}", fts[c], sub_(_field, f"had-code-{c}", pairs[c], "had_code"),
                   [sub_(_piece, f"piece-s{k}-{c}", shares[k], c) for k in range(K)]) for c in range(C)]
    pair_recs = [sub_(_field, f"pair-recs-{c}", pairs[c], "recs") for c in range(C)]
    share_out = [sub_(_field, f"share-out-{k}", shares[k], "per_parcel", "recs") for k in range(K)]
    got_totals, got_pair_recs, got_shares = client.gather([totals, pair_recs, share_out])
    return link.assemble(plan, got_totals, [s["per_parcel"] for s in got_shares],
                         [*got_pair_recs, *(s["recs"] for s in got_shares), *(t["recs"] for t in got_totals)],
                         parcels.index, source=source)


def _diagnose_sums(part: pd.DataFrame, pairs: pd.DataFrame, ctx: land.DiagnosisContext) -> pd.DataFrame | None:
    return land.park_tax_sums(part, pairs, ctx)


def _diagnose_rules(part: pd.DataFrame, pairs: pd.DataFrame, ctx: land.DiagnosisContext,
                    raster: pd.DataFrame | None) -> Loaded:
    """Worker, per parcel partition: every per-parcel rule → only the columns the diagnosis adds or rewrites."""
    res = land.diagnose_parcels(part, pairs, ctx, raster_stats=raster)
    keep = {*land.OUTPUT_COLUMNS, *(raster.columns if raster is not None else ())}
    return Loaded(res.frame[[c for c in res.frame.columns if c not in part.columns or c in keep]], res.recon,
                  res.meta)


def distributed_diagnose(client: Any, parcels: pd.DataFrame, firms: pd.DataFrame | None, pairs: pd.DataFrame | None,
                         *, as_of: Any, thresholds: dict | None = None, previous_firms: pd.DataFrame | None = None,
                         raster_stats: pd.DataFrame | None = None, npartitions: int | None = None) -> Loaded:
    """``land.diagnose`` on the cluster, with its result. The client computes the firm-side aggregates
    (:func:`land.diagnosis_context`: stopped firms, industries, ABSURD_VALUE records) and sends each worker
    its parcel partition with the pairs of its parcels; the workers return the partial park sums of tax and
    area, the client adds them up into the park averages (one figure per park) and sends them back; the
    workers then evaluate every per-parcel rule of their partition. Gathered: the flagged partitions."""
    ctx = land.diagnosis_context(firms, as_of=as_of, thresholds=thresholds, previous_firms=previous_firms)
    n = len(parcels)
    src = pd.Index(parcels["source_row"]) if "source_row" in parcels.columns else None
    if n == 0 or src is None or not src.is_unique:  # nothing to split, or pairs cannot be placed: one machine
        return land.diagnose(parcels, firms, pairs, as_of=as_of, thresholds=thresholds,
                             previous_firms=previous_firms, raster_stats=raster_stats)
    bounds = _bounds(n, _n_parts(n, npartitions, _workers(client)))
    edges = np.array([a for a, _ in bounds] + [n])
    slim = pd.DataFrame({"firm_row": pd.Series([], dtype="int64"), "parcel_row": pd.Series([], dtype="int64")})
    if pairs is not None and len(pairs):
        slim = pairs[["firm_row", "parcel_row"]].copy()
        slim["_p"] = src.get_indexer(slim["parcel_row"])
        slim = slim[slim["_p"] >= 0]
    pair_parts = _route(slim, "_p", edges) if "_p" in slim else [slim] * len(bounds)
    token = uuid.uuid4().hex[:8]
    # the partitions travel with the columns the rules read (no geometry), and come back as the added columns
    read = [c for c in parcels.columns if c in land.DIAGNOSIS_INPUTS or str(c).endswith(("_mean", "_coverage"))]
    slim_p = pd.DataFrame(parcels[read])
    slices = [slim_p.iloc[a:a + m] for a, m in bounds]
    parts = client.scatter(slices)
    pps = client.scatter([p[["firm_row", "parcel_row"]] for p in pair_parts])
    ctx_f = client.scatter([ctx], broadcast=True)[0]
    sums = client.gather([client.submit(_diagnose_sums, parts[i], pps[i], ctx_f, key=f"parkland-diagnose-sums-{i}-{token}",
                                        pure=False) for i in range(len(bounds))])
    ctx.park_avg = land.park_averages(sums)
    ctx_f = client.scatter([ctx], broadcast=True)[0]
    rs = None if raster_stats is None else client.scatter([raster_stats.reindex(s.index) for s in slices])
    res = client.gather([client.submit(_diagnose_rules, parts[i], pps[i], ctx_f, None if rs is None else rs[i],
                                       key=f"parkland-diagnose-rules-{i}-{token}", pure=False)
                         for i in range(len(bounds))])
    return land.diagnosis_result(ctx, res, base=parcels)


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
