"""Raster evidence per parcel: exact zonal statistics with exactextract.

For a raster NAME and a parcel p, with c_i the exact fraction of cell i covered by p (exactextract's
polygon–grid intersection, not cell centres) over the cells whose value v_i is not nodata:

* ``NAME_mean``     = Σ c_i v_i / Σ c_i                        (coverage-weighted mean)
* ``NAME_coverage`` = Σ c_i × A_cell / A_p                      (fraction of the parcel covered by valid
  cells; both areas in the raster's CRS, a ratio — for a geographic raster the degree² scale cancels
  over a parcel-sized area; capped at 1, as exactextract sums fractions in single precision);
* any other exactextract operation named in ``stats`` (``min``, ``max``, ``stdev``, ``median``,
  ``count``, ``sum``…) as ``NAME_<op>``.

The parcels are reprojected to the raster's CRS (the raster is never warped); nodata is respected;
a parcel that does not touch the raster's extent gets NaN in every column (not 0); a parcel inside the
extent on nodata cells only gets coverage 0 and mean NaN. Parcels without geometry get NaN.
Only this module (with ``io``/``report``) touches files: it streams raster windows through exactextract.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from parkland.errors import InputError


def zonal_stats(
    parcels: gpd.GeoDataFrame,
    rasters: Mapping[str, str | Path],
    stats: Iterable[str] = ("mean", "coverage"),
    *,
    strategy: str = "feature-sequential",
) -> pd.DataFrame:
    """Zonal statistics of each raster over each parcel → DataFrame on ``parcels.index`` with one
    column ``NAME_<stat>`` per raster and stat (see the module docstring for the formulas).

    ``rasters``: name → path of a single-band raster readable by rasterio (band 1 is used).
    ``stats``: ``"mean"`` and ``"coverage"`` by default; other names are passed to exactextract.
    A band's GDAL scale and offset are honoured (exactextract applies them): value = DN × scale + offset.
    """
    stats = list(stats)
    if parcels.crs is None:
        raise InputError("宗地图层没有坐标系，无法统计遥感数据。", "the parcel layer has no CRS: no raster statistics.")
    geoms = np.asarray(parcels.geometry.array, dtype=object)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    out = pd.DataFrame(index=parcels.index)
    ops = [s for s in stats if s != "coverage"]
    need_count = "coverage" in stats and "count" not in ops
    ee_ops = ops + (["count"] if need_count else [])
    import rasterio  # here, not at import: most runs have no raster (0.05 s of start-up)

    for name, path in rasters.items():
        try:
            ds = rasterio.open(path)
        except Exception as e:  # rasterio raises several kinds; the user needs the file named
            raise InputError(f"无法读取栅格文件：{e}", f"cannot read the raster: {e}", file=path,
                             hint_zh="请提供 GeoTIFF 等 GDAL 可读的单波段栅格。",
                             hint_en="give a single-band raster GDAL can read (e.g. GeoTIFF).") from e
        with ds:
            if ds.crs is None:
                raise InputError("栅格没有坐标系。", "the raster has no CRS.", file=path)
            res = _one_raster(parcels, geoms, ok, ds, name, ee_ops)
        for s in stats:
            if s == "coverage":
                cell = abs(ds.transform.a * ds.transform.e - ds.transform.b * ds.transform.d)
                with np.errstate(invalid="ignore", divide="ignore"):
                    frac = res["count"].to_numpy() * cell / res["_area"].to_numpy()
                # exactextract sums coverage fractions in single precision: 1 + 3e-8 is 1
                out[f"{name}_coverage"] = np.minimum(frac, 1.0)
            else:
                out[f"{name}_{s}"] = res[s].to_numpy()
    return out


def _one_raster(parcels: gpd.GeoDataFrame, geoms: np.ndarray, ok: np.ndarray, ds: Any, name: str,
                ops: list[str]) -> pd.DataFrame:
    """exactextract on the parcels (reprojected to the raster CRS) → frame aligned with the parcels,
    plus ``_area`` (parcel area in raster CRS units); NaN rows for parcels off the raster extent."""
    n = len(parcels)
    sub = gpd.GeoDataFrame(geometry=geoms[ok], crs=parcels.crs)
    if not sub.crs.equals(ds.crs):
        sub = sub.to_crs(ds.crs)
    g = np.asarray(sub.geometry.array, dtype=object)
    left, bottom, right, top = ds.bounds
    touches = shapely.intersects(g, shapely.box(left, bottom, right, top))
    frame = pd.DataFrame(np.nan, index=np.arange(n), columns=[*ops, "_area"])
    pos = np.flatnonzero(ok)
    frame.loc[pos, "_area"] = shapely.area(g)
    if touches.any():
        src = sub.iloc[np.flatnonzero(touches)] if not touches.all() else sub
        from exactextract import exact_extract

        res = exact_extract(ds, src, ops, output="pandas")
        for op in ops:
            frame.loc[pos[touches], op] = res[op].to_numpy("float64")
    frame.loc[pos[~touches], "_area"] = np.nan
    return frame
