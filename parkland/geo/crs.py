"""Coordinate reference systems: Gauss–Krüger zone choice and the display datums GCJ-02 / BD-09.

Gauss–Krüger (GK) zones of CGCS2000 (EPSG:4490):

* 3° zones 25–45 (central meridian 3° × zone, 75°E…135°E):
  EPSG:4513–4533 with the zone number prefixed to the easting (false easting zone × 10⁶ + 500 000,
  e.g. 35 605 000 in zone 35), EPSG:4534–4554 without the prefix (false easting 500 000).
* 6° zones 13–23 (central meridian 6° × zone − 3°): EPSG:4491–4501 prefixed, 4502–4512 not.

A feature at longitude λ belongs to 3° zone ``round(λ / 3)`` (a longitude exactly on a zone edge,
3n + 1.5, goes to the eastern zone n + 1).

GCJ-02 (国测局坐标, 高德/腾讯) and BD-09 (百度) are obfuscated display datums. They are used only to
draw on those base maps or to read coordinates people copied from them; never to measure or export.
The formulas are the widely published ones (Krasovsky a = 6378245 m, e² = 0.00669342162296594323);
points outside China's bounding box (72.004–137.8347°E, 0.8293–55.8271°N) are returned unchanged.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from pyproj import CRS

#: CGCS2000 3° GK zone numbers and their EPSG codes
GK3_ZONES = range(25, 46)
GK3_PREFIXED_BASE = 4513  # zone 25 with zone prefix; zone z → 4513 + z − 25
GK3_PLAIN_BASE = 4534  # zone 25 without prefix (CM 75°E); zone z → 4534 + z − 25
#: CGCS2000 6° GK zone numbers and their EPSG codes
GK6_ZONES = range(13, 24)
GK6_PREFIXED_BASE = 4491
GK6_PLAIN_BASE = 4502

#: China's bounding box for the display datums (the published out_of_china test)
CHINA_LON = (72.004, 137.8347)
CHINA_LAT = (0.8293, 55.8271)

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0  # BD-09 constant


# --------------------------------------------------------------------------------------------------
# Gauss–Krüger zones
# --------------------------------------------------------------------------------------------------
def gk_zone(lon: Any) -> Any:
    """3° Gauss–Krüger zone number of a longitude: ``zone = floor(lon / 3 + 0.5)`` (= round(lon / 3),
    a zone edge going east). Vectorised: a scalar gives an int, an array gives an int64 array.
    """
    arr = np.floor(np.asarray(lon, dtype="float64") / 3.0 + 0.5)
    if arr.ndim == 0:
        return int(arr)
    return arr.astype("int64")


def gk_epsg(zone: Any, prefixed: bool = False) -> Any:
    """EPSG code of the CGCS2000 3° GK zone ``zone`` (25–45).

    ``prefixed=False`` → EPSG:4534 + (zone − 25) (easting without the zone number);
    ``prefixed=True`` → EPSG:4513 + (zone − 25) (easting = zone × 10⁶ + 500 000 + x).
    Vectorised like :func:`gk_zone`; a zone outside 25–45 raises ValueError.
    """
    z = np.asarray(zone)
    if np.any((z < GK3_ZONES.start) | (z > GK3_ZONES.stop - 1)):
        raise ValueError(f"CGCS2000 3° Gauss–Krüger zones are 25–45, not {zone!r}")
    base = GK3_PREFIXED_BASE if prefixed else GK3_PLAIN_BASE
    out = base + z.astype("int64") - GK3_ZONES.start
    return int(out) if out.ndim == 0 else out


@lru_cache(maxsize=256)
def _cm_of(wkt: str) -> float | None:
    crs = CRS.from_wkt(wkt)
    if crs.is_bound:
        crs = crs.source_crs
    if crs is None or not crs.is_projected:
        return None
    op = crs.coordinate_operation
    if op is None or op.method_name.lower() != "transverse mercator":
        return None
    params = {p.name.lower(): p.value for p in op.params}
    k = params.get("scale factor at natural origin")
    lon0 = params.get("longitude of natural origin")
    lat0 = params.get("latitude of natural origin", 0.0)
    if k is None or lon0 is None or abs(k - 1.0) > 1e-12 or abs(lat0) > 1e-12:
        return None
    unit = crs.axis_info[0].unit_name.lower() if crs.axis_info else "metre"
    if unit not in ("metre", "meter", "m"):
        return None
    if abs(lon0 / 3.0 - round(lon0 / 3.0)) > 1e-9:
        return None
    return float(lon0)


def gk_central_meridian(crs: Any) -> float | None:
    """Central meridian (degrees) of a Gauss–Krüger CRS, or None when ``crs`` is not one.

    A GK CRS is recognised by its projection parameters, not by EPSG ranges: Transverse Mercator,
    scale factor k = 1, latitude of origin 0, metres, central meridian a multiple of 3° (6° zones'
    meridians 6n − 3 are multiples of 3 too). This covers CGCS2000 3°/6° zones (4513–4554, 4491–4512),
    Xian 1980 (2327–2390), Beijing 1954 (2401–2442) and custom ``+proj=tmerc +k=1`` definitions;
    UTM (k = 0.9996) and Web Mercator are not GK.
    """
    if crs is None:
        return None
    try:
        wkt = CRS.from_user_input(crs).to_wkt()
    except Exception:
        return None
    return _cm_of(wkt)


def is_gauss_kruger(crs: Any) -> bool:
    """True when ``crs`` is a Gauss–Krüger projection (see :func:`gk_central_meridian`)."""
    return gk_central_meridian(crs) is not None


def suggest_crs_from_bounds(bounds: Any) -> str | None:
    """Suggest the CRS of a layer that declares none, from its bounds (minx, miny, maxx, maxy).

    * 8-digit eastings whose first two digits are a 3° zone 25–45 (both edges in the same zone, a
      northing of 0–10 000 km) → ``"EPSG:45xx"`` = 4513 + zone − 25 (prefixed 3° zone);
      first two digits 13–23 → the prefixed 6° zone, 4491 + zone − 13.
    * 6-digit eastings around 500 000 (100 000–900 000) with a northing in metres →
      ``"EPSG:4534-4554"``: a no-prefix GK zone — which one cannot be told from the coordinates.
    * Degrees (|x| ≤ 180, |y| ≤ 90) → ``"EPSG:4490"`` inside China's bounding box, else ``"EPSG:4326"``.
    * Anything else → None.

    Never used to set a CRS: only to word the error message (:func:`crs_hint`).
    """
    if bounds is None:
        return None
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    if not np.all(np.isfinite([minx, miny, maxx, maxy])):
        return None
    if -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90:
        inside = CHINA_LON[0] <= minx and maxx <= CHINA_LON[1] and CHINA_LAT[0] <= miny and maxy <= CHINA_LAT[1]
        return "EPSG:4490" if inside else "EPSG:4326"
    if not (0 <= miny <= maxy <= 10_000_000):
        return None
    if 10_000_000 <= minx <= maxx < 100_000_000:
        zone = int(minx // 1_000_000)
        if int(maxx // 1_000_000) != zone:
            return None
        if zone in GK3_ZONES:
            return f"EPSG:{GK3_PREFIXED_BASE + zone - GK3_ZONES.start}"
        if zone in GK6_ZONES:
            return f"EPSG:{GK6_PREFIXED_BASE + zone - GK6_ZONES.start}"
        return None
    if 100_000 <= minx <= maxx <= 900_000:
        return f"EPSG:{GK3_PLAIN_BASE}-{GK3_PLAIN_BASE + len(GK3_ZONES) - 1}"
    return None


def crs_hint(bounds: Any) -> tuple[str, str]:
    """The (Chinese, English) sentence that words :func:`suggest_crs_from_bounds` for a user."""
    s = suggest_crs_from_bounds(bounds)
    if s is None:
        return ("无法从坐标判断坐标系，请用 --crs 指定（如 EPSG:4523）。",
                "the coordinates do not tell the CRS; pass it with --crs (e.g. EPSG:4523).")
    if s.startswith("EPSG:45") and "-" in s:
        return ("横坐标为 6 位数（约 500000），应为不带带号的 CGCS2000 3 度带（EPSG:4534–4554），"
                "但从坐标无法判断是哪一带，请用 --crs 指定（如南充为 EPSG:4544）。",
                "6-digit eastings around 500000: a CGCS2000 3-degree Gauss–Krüger zone without prefix "
                "(EPSG:4534-4554), but which one cannot be told from the coordinates; pass it with --crs "
                "(e.g. EPSG:4544 for Nanchong).")
    if s in ("EPSG:4490", "EPSG:4326"):
        return (f"坐标为经纬度，可能是 {s}（CGCS2000 与 WGS84 在此精度下相同），请用 --crs {s} 指定。",
                f"the coordinates are degrees, probably {s} (CGCS2000 and WGS84 agree at map scale); "
                f"pass --crs {s}.")
    code = int(s.split(":")[1])
    zone = (code - GK3_PREFIXED_BASE + GK3_ZONES.start if code >= GK3_PREFIXED_BASE
            else code - GK6_PREFIXED_BASE + GK6_ZONES.start)
    kind_zh = "3 度带" if code >= GK3_PREFIXED_BASE else "6 度带"
    kind_en = "3-degree" if code >= GK3_PREFIXED_BASE else "6-degree"
    return (f"横坐标为 8 位数且以 {zone} 开头，可能是带带号的 CGCS2000 {kind_zh}第 {zone} 带 {s}，"
            f"请确认后用 --crs {s} 指定。",
            f"8-digit eastings starting with {zone}: probably the prefixed CGCS2000 {kind_en} "
            f"Gauss–Krüger zone {zone}, {s}; check and pass --crs {s}.")


# --------------------------------------------------------------------------------------------------
# GCJ-02 / BD-09 (display only)
# --------------------------------------------------------------------------------------------------
def _arrays(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    x = np.asarray(lon, dtype="float64")
    y = np.asarray(lat, dtype="float64")
    scalar = x.ndim == 0 and y.ndim == 0
    x, y = np.broadcast_arrays(np.atleast_1d(x), np.atleast_1d(y))
    return x.astype("float64", copy=True), y.astype("float64", copy=True), scalar


def _out(x: np.ndarray, y: np.ndarray, scalar: bool) -> tuple[Any, Any]:
    if scalar:
        return float(x[0]), float(y[0])
    return x, y


def in_china(lon: Any, lat: Any) -> np.ndarray:
    """The bounding-box test of the display datums (vectorised); NaN is outside."""
    x = np.asarray(lon, dtype="float64")
    y = np.asarray(lat, dtype="float64")
    return (x >= CHINA_LON[0]) & (x <= CHINA_LON[1]) & (y >= CHINA_LAT[0]) & (y <= CHINA_LAT[1])


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 offset (dlon, dlat) in degrees at a WGS84 point (the published polynomial)."""
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + common
            + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + common
            + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0)
    radlat = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[Any, Any]:
    """WGS84 → GCJ-02: (lon + dlon, lat + dlat) inside China, unchanged outside. Vectorised."""
    x, y, scalar = _arrays(lon, lat)
    m = in_china(x, y)
    dlon, dlat = _gcj_delta(x[m], y[m])
    x[m] += dlon
    y[m] += dlat
    return _out(x, y, scalar)


def gcj02_to_wgs84(lon: Any, lat: Any, *, tol: float = 1e-10, max_iter: int = 30) -> tuple[Any, Any]:
    """GCJ-02 → WGS84 by fixed-point iteration: w₀ = g − δ(g), wₖ₊₁ = wₖ − (wgs84_to_gcj02(wₖ) − g),
    until every point's residual is below ``tol`` degrees (1e-10 by default, 3 to 5 iterations).
    Points outside China's box are returned unchanged. Vectorised.
    """
    x, y, scalar = _arrays(lon, lat)
    m = in_china(x, y)
    gx, gy = x[m], y[m]
    dlon, dlat = _gcj_delta(gx, gy)
    wx, wy = gx - dlon, gy - dlat
    for _ in range(max_iter):
        dlon, dlat = _gcj_delta(wx, wy)
        ex, ey = wx + dlon - gx, wy + dlat - gy
        wx -= ex
        wy -= ey
        if ex.size == 0 or max(np.nanmax(np.abs(ex)), np.nanmax(np.abs(ey))) < tol:
            break
    x[m], y[m] = wx, wy
    return _out(x, y, scalar)


def gcj02_to_bd09(lon: Any, lat: Any) -> tuple[Any, Any]:
    """GCJ-02 → BD-09: z = √(x² + y²) + 2e-5·sin(y·π·3000/180), θ = atan2(y, x) + 3e-6·cos(x·π·3000/180),
    (z cos θ + 0.0065, z sin θ + 0.006). Unchanged outside China. Vectorised.
    """
    x, y, scalar = _arrays(lon, lat)
    m = in_china(x, y)
    gx, gy = x[m], y[m]
    z = np.hypot(gx, gy) + 0.00002 * np.sin(gy * _X_PI)
    theta = np.arctan2(gy, gx) + 0.000003 * np.cos(gx * _X_PI)
    x[m] = z * np.cos(theta) + 0.0065
    y[m] = z * np.sin(theta) + 0.006
    return _out(x, y, scalar)


def bd09_to_gcj02(lon: Any, lat: Any, *, tol: float = 1e-10, max_iter: int = 30) -> tuple[Any, Any]:
    """BD-09 → GCJ-02: the published closed form (x = lon − 0.0065, y = lat − 0.006,
    z = √(x² + y²) − 2e-5·sin(y·π·3000/180), θ = atan2(y, x) − 3e-6·cos(x·π·3000/180),
    (z cos θ, z sin θ)), whose error is up to 2e-6°, refined by fixed-point iteration on
    :func:`gcj02_to_bd09` until the residual is below ``tol`` degrees. Unchanged outside China. Vectorised.
    """
    x, y, scalar = _arrays(lon, lat)
    m = in_china(x, y)
    tx, ty = x[m], y[m]
    bx, by = tx - 0.0065, ty - 0.006
    z = np.hypot(bx, by) - 0.00002 * np.sin(by * _X_PI)
    theta = np.arctan2(by, bx) - 0.000003 * np.cos(bx * _X_PI)
    gx, gy = z * np.cos(theta), z * np.sin(theta)
    for _ in range(max_iter):
        fx, fy = gcj02_to_bd09(gx, gy)
        ex, ey = fx - tx, fy - ty
        gx -= ex
        gy -= ey
        if ex.size == 0 or max(np.nanmax(np.abs(ex)), np.nanmax(np.abs(ey))) < tol:
            break
    x[m], y[m] = gx, gy
    return _out(x, y, scalar)


def wgs84_to_bd09(lon: Any, lat: Any) -> tuple[Any, Any]:
    """WGS84 → GCJ-02 → BD-09. Vectorised."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: Any, lat: Any) -> tuple[Any, Any]:
    """BD-09 → GCJ-02 → WGS84 (the GCJ-02 step iterative). Vectorised."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
