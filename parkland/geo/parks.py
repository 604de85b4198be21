"""Parks (园区): which park each parcel belongs to, and park outlines for the map.

A parcel's park is its own ``park`` value where present, else the park boundary (``--parks``) that
contains the parcel's representative point (``shapely.point_on_surface``: always inside the parcel,
unlike the centroid of an L-shaped lot), else None. Park outlines without a boundary layer are the
convex hulls of each park's parcels.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from parkland.errors import InputError
from parkland.geo.parcels import polygonal_parts

#: header of the park name in a boundary layer, first match wins (then case-insensitively)
PARK_NAME_COLUMNS = ("园区", "园区名称", "园区名", "所属园区", "名称", "name", "NAME", "park", "park_name")


def detect_park_name_column(parks_gdf: gpd.GeoDataFrame) -> str | None:
    """The park-name column of a boundary layer: the first of :data:`PARK_NAME_COLUMNS` present
    (exact, then ignoring case and surrounding spaces), else None."""
    cols = [c for c in parks_gdf.columns if c != parks_gdf.geometry.name]
    for cand in PARK_NAME_COLUMNS:
        if cand in cols:
            return cand
    folded = {str(c).strip().casefold(): c for c in cols}
    for cand in PARK_NAME_COLUMNS:
        if cand.casefold() in folded:
            return folded[cand.casefold()]
    return None


def _clean_names(values: pd.Series) -> pd.Series:
    """Text with surrounding spaces removed; '' and missing → None (object dtype)."""
    s = values.astype("string").str.strip()
    s = s.mask(s == "")
    return pd.Series(s.to_numpy(dtype=object), index=values.index, dtype=object).where(s.notna().to_numpy(), None)


def assign_parks(
    parcels: gpd.GeoDataFrame,
    parks_gdf: gpd.GeoDataFrame | None = None,
    *,
    park_name_column: str | None = None,
) -> pd.Series:
    """Park of every parcel (object Series named ``park`` on ``parcels``' index, None when unknown).

    Rule: the parcel's own ``park`` (non-blank) → else the name of the first boundary (in layer order)
    containing ``point_on_surface(parcel)``, the boundaries reprojected to the parcels' CRS → else None.
    The name column is ``park_name_column`` or detected (:func:`detect_park_name_column`).
    Vectorised with an STRtree query.
    """
    if "park" in parcels.columns:
        park = _clean_names(parcels["park"])
    else:
        park = pd.Series([None] * len(parcels), index=parcels.index, dtype=object)
    park.name = "park"
    if parks_gdf is None or not len(parks_gdf):
        return park
    col = park_name_column or detect_park_name_column(parks_gdf)
    if col is None or col not in parks_gdf.columns:
        cols = "、".join(str(c) for c in parks_gdf.columns if c != parks_gdf.geometry.name)
        raise InputError(f"园区边界图层中找不到园区名称列（现有列：{cols}）",
                         f"no park name column in the park boundary layer (columns: {cols})",
                         column=park_name_column,
                         hint_zh="请将园区名称列命名为「园区」或「名称」。",
                         hint_en='name the park column "园区" or "name".')
    if parks_gdf.crs is None:
        raise InputError("园区边界图层没有坐标系", "the park boundary layer has no CRS",
                         hint_zh="请为园区边界图层补充 .prj 文件或声明坐标系。",
                         hint_en="add a .prj file or declare the CRS of the park layer.")
    geoms = np.asarray(parcels.geometry.array, dtype=object)
    need = park.isna().to_numpy() & ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not need.any():
        return park
    bounds = parks_gdf
    if parcels.crs is not None and not CRS.from_user_input(parks_gdf.crs).equals(CRS.from_user_input(parcels.crs)):
        bounds = parks_gdf.to_crs(parcels.crs)
    pgeoms = np.asarray(bounds.geometry.array, dtype=object)
    bad = ~shapely.is_missing(pgeoms) & ~shapely.is_valid(pgeoms)
    if bad.any():
        pgeoms = pgeoms.copy()
        pgeoms[bad] = polygonal_parts(shapely.make_valid(pgeoms[bad]))
    names = _clean_names(parks_gdf[col].reset_index(drop=True)).to_numpy(dtype=object)
    usable = ~shapely.is_missing(pgeoms) & pd.notna(names)
    tree_idx = np.flatnonzero(usable)
    if not len(tree_idx):
        return park
    tree = shapely.STRtree(pgeoms[tree_idx])
    idx = np.flatnonzero(need)
    points = shapely.point_on_surface(geoms[idx])
    hit_point, hit_park = tree.query(points, predicate="within")
    if len(hit_point):
        order = np.lexsort((hit_park, hit_point))  # by point, then by park in layer order
        hit_point, hit_park = hit_point[order], hit_park[order]
        first = np.unique(hit_point, return_index=True)[1]
        rows = idx[hit_point[first]]
        values = park.to_numpy(dtype=object).copy()
        values[rows] = names[tree_idx[hit_park[first]]]
        park = pd.Series(values, index=parcels.index, dtype=object, name="park")
    return park


def park_hulls(parcels: gpd.GeoDataFrame, park: pd.Series | None = None) -> gpd.GeoDataFrame:
    """Outline of each park as the convex hull of its parcels (for the map when no boundary layer is
    given): columns ``park``, ``parcel_count``, ``area_mu`` (Σ parcel area_mu, when the parcels have it),
    ``geometry`` in the parcels' CRS, sorted by park name. ``park`` defaults to ``parcels["park"]``.
    """
    if park is None:
        park = parcels["park"] if "park" in parcels.columns else pd.Series(None, index=parcels.index)
    names = _clean_names(park)
    geoms = np.asarray(parcels.geometry.array, dtype=object)
    ok = names.notna().to_numpy() & ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    cols = ["park", "parcel_count", "area_mu"]
    if not ok.any():
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=gpd.GeoSeries([], crs=parcels.crs),
                                crs=parcels.crs)
    codes, uniques = pd.factorize(names[ok], sort=True)
    order = np.argsort(codes, kind="stable")
    gathered = shapely.geometrycollections(geoms[ok][order], indices=codes[order])
    hulls = shapely.convex_hull(gathered)
    count = np.bincount(codes, minlength=len(uniques))
    if "area_mu" in parcels.columns:
        area = np.bincount(codes, weights=parcels["area_mu"].to_numpy(dtype="float64")[ok],
                           minlength=len(uniques))
    else:
        area = np.full(len(uniques), np.nan)
    return gpd.GeoDataFrame({"park": pd.Series(np.asarray(uniques, dtype=object), dtype=object),
                             "parcel_count": count.astype("int64"), "area_mu": area},
                            geometry=gpd.GeoSeries(hulls, crs=parcels.crs), crs=parcels.crs)
