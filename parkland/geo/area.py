"""Parcel areas in square metres, measured where a surveyor would measure them.

``planar_area_m2`` measures each feature in a conformal projection centred near it:

* the layer's own CRS, unchanged, when it is a Gauss–Krüger projection whose central meridian lies
  within 1.5° (+ :data:`GK_TOLERANCE_DEG`) of the feature's centroid longitude — the area the bureau's
  certificate shows — or whose feature falls outside China (a city's independent grid behind a
  Gauss–Krüger .prj: its own plane is the only sensible measure);
* otherwise, inside China (73–136°E, 3–54°N), the CGCS2000 3° GK zone of the feature's own centroid,
  without prefix: EPSG:4534 + (round(λ / 3) − 25);
* outside China, the WGS84 UTM zone of the feature: EPSG:326zz (north) / 327zz (south),
  zz = floor((λ + 180) / 6) + 1.

A layer spanning several zones is grouped by zone and reprojected once per group. Never in degrees,
Web Mercator or GCJ-02.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Geod, Transformer

from parkland.errors import InputError
from parkland.geo.crs import GK3_PLAIN_BASE, GK3_ZONES, gk_central_meridian, gk_zone

#: tolerance beyond the 1.5° half-width of a 3° zone within which the layer's own GK CRS is kept
GK_TOLERANCE_DEG = 0.1
#: the box inside which CGCS2000 GK zones are used (else UTM)
CHINA_MEASURE_LON = (73.0, 136.0)
CHINA_MEASURE_LAT = (3.0, 54.0)


def _geoms(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    geom = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    return np.asarray(geom.array, dtype=object)


def centroid_lonlat(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude (degrees, of the layer's geodetic datum) of each feature's centroid;
    NaN for null or empty geometries. The centroid is taken in the layer's CRS, then the points are
    transformed (used only to pick a zone, never to measure).
    """
    crs = gdf.crs
    if crs is None:
        raise ValueError("the layer has no CRS")
    geoms = _geoms(gdf)
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    c = shapely.centroid(geoms[ok])
    x[ok], y[ok] = shapely.get_x(c), shapely.get_y(c)
    crs = CRS.from_user_input(crs)
    if crs.is_geographic:
        return x, y
    geodetic = crs.geodetic_crs or CRS.from_epsg(4490)
    t = Transformer.from_crs(crs, geodetic, always_xy=True)
    lon, lat = t.transform(x, y)
    return np.asarray(lon, dtype="float64"), np.asarray(lat, dtype="float64")


def measure_epsg_for(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """EPSG code to measure a feature at (lon, lat) in: the no-prefix CGCS2000 3° GK zone inside China
    (4534 + zone − 25, zone = round(lon / 3) clipped to 25–45), else WGS84 UTM (32600/32700 + zone).
    0 where lon/lat is NaN. Vectorised.
    """
    lon = np.asarray(lon, dtype="float64")
    lat = np.asarray(lat, dtype="float64")
    out = np.zeros(lon.shape, dtype="int64")
    finite = np.isfinite(lon) & np.isfinite(lat)
    china = (finite & (lon >= CHINA_MEASURE_LON[0]) & (lon <= CHINA_MEASURE_LON[1])
             & (lat >= CHINA_MEASURE_LAT[0]) & (lat <= CHINA_MEASURE_LAT[1]))
    zone = np.clip(gk_zone(np.where(china, lon, 105.0)), GK3_ZONES.start, GK3_ZONES.stop - 1)
    out[china] = GK3_PLAIN_BASE + zone[china] - GK3_ZONES.start
    other = finite & ~china
    lon_w = ((lon[other] + 180.0) % 360.0) - 180.0
    utm = np.clip(np.floor((lon_w + 180.0) / 6.0).astype("int64") + 1, 1, 60)
    out[other] = np.where(lat[other] >= 0, 32600, 32700) + utm
    return out


def planar_area_m2(gdf: gpd.GeoDataFrame | gpd.GeoSeries,
                   lonlat: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """Planar area of every feature, in m², and the EPSG code it was measured in.

    Returns a frame on ``gdf``'s index with ``area_m2`` (float; NaN for null/empty geometry) and
    ``measure_epsg`` (Int64; the layer's own EPSG when measured in it, <NA> when that CRS has no EPSG
    code or the geometry is null). See the module docstring for the zone rule. Vectorised: one
    reprojection per zone. ``lonlat``: the centroids of :func:`centroid_lonlat`, when already known.
    """
    if gdf.crs is None:
        raise InputError("图层没有坐标系，无法计算面积。", "the layer has no CRS: no area can be measured.")
    geoms = _geoms(gdf)
    n = len(geoms)
    area = np.full(n, np.nan)
    epsg = pd.array(np.full(n, pd.NA), dtype="Int64")
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not ok.any():
        return pd.DataFrame({"area_m2": area, "measure_epsg": epsg}, index=gdf.index)
    lon, lat = lonlat if lonlat is not None else centroid_lonlat(gdf)
    crs = CRS.from_user_input(gdf.crs)
    cm = gk_central_meridian(crs)
    own = np.zeros(n, dtype=bool)
    if cm is not None:
        # a GK layer whose features fall outside China is a local grid (or a wrong .prj): its own plane
        # is the best measure there (geo.parcels lists it as COORDINATES_OUTSIDE_ZONE)
        outside = ~((lon >= CHINA_MEASURE_LON[0]) & (lon <= CHINA_MEASURE_LON[1]) & (lat >= CHINA_MEASURE_LAT[0])
                    & (lat <= CHINA_MEASURE_LAT[1]))
        own = ok & ((np.abs(lon - cm) <= 1.5 + GK_TOLERANCE_DEG) | outside)
        area[own] = shapely.area(geoms[own])
        own_epsg = crs.to_epsg()
        if own_epsg is not None:
            epsg[own] = own_epsg
    rest = ok & ~own
    if rest.any():
        codes = measure_epsg_for(lon, lat)
        idx = np.flatnonzero(rest)
        for code in np.unique(codes[idx]):
            sel = idx[codes[idx] == code]
            projected = gpd.GeoSeries(geoms[sel], crs=crs).to_crs(epsg=int(code))
            area[sel] = shapely.area(np.asarray(projected.array, dtype=object))
            epsg[sel] = int(code)
    return pd.DataFrame({"area_m2": area, "measure_epsg": epsg}, index=gdf.index)


def geodesic_area_m2(gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> pd.Series:
    """Area on the WGS84 ellipsoid (pyproj.Geod, Karney's algorithm), m², NaN for null/empty.

    Reference function for tests and checks only: it loops over features calling
    ``Geod.geometry_area_perimeter`` (pyproj has no batch call), so it must not be used on the
    pipeline's path. Polygons are oriented (exterior counter-clockwise, holes clockwise) first, so the
    signed sum is exterior minus holes.
    """
    if gdf.crs is None:
        raise ValueError("the layer has no CRS")
    geom = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    wgs = geom.to_crs(4326)
    geoms = shapely.orient_polygons(np.asarray(wgs.array, dtype=object), exterior_cw=False)
    geod = Geod(ellps="WGS84")
    out = np.full(len(geoms), np.nan)
    for i, g in enumerate(geoms):  # reference only: see docstring
        if g is not None and not g.is_empty:
            out[i] = abs(geod.geometry_area_perimeter(g)[0])
    return pd.Series(out, index=gdf.index, name="geodesic_area_m2")
