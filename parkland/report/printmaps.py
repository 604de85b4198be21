"""Printable maps (``parkland export DIR --what print``): static A4/A3 PNG and PDF maps of the city and of
each park, with title, legend, scale bar, north arrow and data date.

Maps are drawn with matplotlib in the data's projected CRS (a Gauss–Krüger zone in metres), so the
scale bar is true: a layer in a geographic CRS or in Web Mercator is first projected to the 3° zone of
its centre (CGCS2000, unprefixed eastings). The north arrow points to grid north (in a 3° zone grid
north differs from true north by at most ~1°). Never GCJ-02.

Themes: ``grades`` (parcels by grade, the fixed colours of ``labels.GRADE_COLORS``) and ``cleanup``
(candidates selected toward the target in red, the other candidates in orange). Files (in ``print/``)::

    city_grades_A3.png / .pdf      city_cleanup_A3.png / .pdf
    park01_<name>_grades_A4.png / .pdf   park01_<name>_cleanup_A4.png / .pdf   …

``<name>`` is the park name with characters unsafe in file names replaced; the number follows the
sorted park names. Chinese text uses "Noto Sans CJK SC" when matplotlib finds it (Debian
fonts-noto-cjk), else another CJK font, else the default font (a warning: Chinese may show as boxes).
"""

from __future__ import annotations

import math
import os
import re
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .export import atomic_path
from .labels import GRADE_COLORS, label

PAPER_MM = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}  # landscape
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "SimHei",
                "Microsoft YaHei", "PingFang SC", "Noto Sans CJK JP")
UNGRADED = "#e0e0e0"


def cjk_font() -> str | None:
    """The first CJK font family matplotlib knows (preferring Noto Sans CJK SC), or None."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    for fam in CJK_FAMILIES:
        if fam in names:
            return fam
    other = sorted(n for n in names if "CJK" in n or "Hei" in n)
    return other[0] if other else None


def use_cjk_font() -> str | None:
    """Make matplotlib draw Chinese: set the CJK family first in ``font.sans-serif``; warn when none."""
    import matplotlib

    fam = cjk_font()
    if fam is None:
        warnings.warn("未找到中文字体（如 fonts-noto-cjk），图中汉字可能显示为方框", stacklevel=2)
        return None
    fams = [fam] + [f for f in matplotlib.rcParams["font.sans-serif"] if f != fam]
    matplotlib.rcParams["font.sans-serif"] = fams
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["axes.unicode_minus"] = False
    return fam


def projected(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame in a metric projected CRS: as is when it already is one (not Web Mercator), else in the
    CGCS2000 3° Gauss–Krüger zone of its centre."""
    from ..geo.crs import gk_epsg, gk_zone

    crs = gdf.crs
    if crs is None:
        return gdf
    if crs.is_projected and crs.to_epsg() not in (3857, 900913):
        return gdf
    lonlat = gdf.to_crs(4326).total_bounds
    try:
        return gdf.to_crs(gk_epsg(int(gk_zone((lonlat[0] + lonlat[2]) / 2)), prefixed=False))
    except ValueError:  # outside China's zones: the UTM zone of the centre
        return gdf.to_crs(gdf.estimate_utm_crs())


def nice_length(x: float) -> float:
    """The largest 1, 2 or 5 × 10^k not above ``x`` (a scale-bar length)."""
    if x <= 0:
        return 0.0
    k = math.floor(math.log10(x))
    for m in (5, 2, 1):
        if m * 10 ** k <= x + 1e-9 * 10 ** k:
            return float(m * 10 ** k)
    return float(10 ** k)


def safe_filename(name: str, max_len: int = 40) -> str:
    """A file-name part: path separators, reserved characters, control characters and leading dots
    replaced by ``_``; at most ``max_len`` characters."""
    s = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", str(name)).strip()
    s = re.sub(r"^\.+", "_", s).replace("..", "__")
    return (s or "_")[:max_len]


def _scale_bar(fig, map_width_m: float, ax_frac_w: float, lang: str, *, x: float = 0.80, y: float = 0.16,
               max_frac: float = 0.16) -> float:
    """A 4-segment scale bar in the right panel (figure coordinates): ``map_width_m`` metres span
    ``ax_frac_w`` of the figure width. Returns its length in metres."""
    from matplotlib.patches import Rectangle

    per_frac = map_width_m / ax_frac_w  # metres per figure-width fraction
    length = nice_length(per_frac * max_frac)
    seg = length / 4 / per_frac
    h = 0.008
    for i in range(4):
        fig.add_artist(Rectangle((x + i * seg, y), seg, h, transform=fig.transFigure, linewidth=0.6,
                                 facecolor="black" if i % 2 == 0 else "white", edgecolor="black"))
    for i, t in ((0, 0.0), (2, length / 2), (4, length)):
        txt = f"{t / 1000:g}" if length >= 1000 else f"{t:g}"
        fig.text(x + i * seg, y + 1.8 * h, txt, ha="center", va="bottom", fontsize=7)
    unit = "km" if length >= 1000 else ("米" if lang != "en" else "m")
    fig.text(x + 4 * seg + 0.006, y + 0.5 * h, unit, ha="left", va="center", fontsize=7)
    return length


def _north_arrow(ax, lang: str) -> None:
    ax.annotate("", xy=(0.955, 0.95), xytext=(0.955, 0.86), xycoords="axes fraction",
                arrowprops={"facecolor": "black", "width": 3, "headwidth": 10, "headlength": 10}, zorder=10)
    ax.text(0.955, 0.955, "北" if lang != "en" else "N", transform=ax.transAxes, ha="center", va="bottom",
            fontsize=11, fontweight="bold", zorder=10)


def draw_map(path_stem: Path, parcels: gpd.GeoDataFrame, *, theme: str = "grades",
             cleanup: gpd.GeoDataFrame | None = None, parks: gpd.GeoDataFrame | None = None,
             extent: tuple[float, float, float, float] | None = None, paper: str = "A4", title: str = "",
             data_date: str = "", lang: str = "zh", dpi: int = 150) -> list[Path]:
    """One map as ``<path_stem>.png`` and ``.pdf`` (landscape ``paper``); frames already projected."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    use_cjk_font()
    w_mm, h_mm = PAPER_MM[paper]
    fig = plt.figure(figsize=(w_mm / 25.4, h_mm / 25.4))
    ax = fig.add_axes((0.03, 0.08, 0.74, 0.82))
    ax.set_axis_off()
    if extent is None:
        extent = tuple(parcels.total_bounds)
    x0, y0, x1, y1 = extent
    # fit the extent to the axes' aspect, with a margin
    ax_w = 0.74 * w_mm
    ax_h = 0.82 * h_mm
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_w, half_h = max((x1 - x0) / 2, 50.0) * 1.06, max((y1 - y0) / 2, 50.0) * 1.06
    if half_w / half_h > ax_w / ax_h:
        half_h = half_w * ax_h / ax_w
    else:
        half_w = half_h * ax_w / ax_h
    x0, x1, y0, y1 = cx - half_w, cx + half_w, cy - half_h, cy + half_h

    handles = []
    if theme == "grades":
        grade = parcels["grade"].astype(object) if "grade" in parcels else pd.Series(None, index=parcels.index)
        colors = grade.map(lambda g: GRADE_COLORS.get(g, UNGRADED) if isinstance(g, str) else UNGRADED)
        parcels.plot(ax=ax, color=colors.to_numpy(), edgecolor="#555555", linewidth=0.2)
        present = set(grade.dropna())
        handles = [Patch(facecolor=c, edgecolor="#555555", label=label(g, lang)) for g, c in GRADE_COLORS.items()
                   if g in present]
        handles.append(Patch(facecolor=UNGRADED, edgecolor="#555555", label=label("map_ungraded", lang)))
    else:
        parcels.plot(ax=ax, color="#f0f0f0", edgecolor="#aaaaaa", linewidth=0.2)
        if cleanup is not None and len(cleanup):
            sel = cleanup["selected"].astype(object).map(lambda v: bool(v) if v is not None and v == v else False)
            cleanup.plot(ax=ax, color=np.where(sel.to_numpy(bool), "#d73027", "#fdae61"), edgecolor="#444444",
                         linewidth=0.3)
        handles = [Patch(facecolor="#d73027", edgecolor="#444444", label=label("map_selected", lang)),
                   Patch(facecolor="#fdae61", edgecolor="#444444", label=label("map_candidate", lang)),
                   Patch(facecolor="#f0f0f0", edgecolor="#aaaaaa", label=label("print_other_parcels", lang))]
    if parks is not None and len(parks):
        parks.boundary.plot(ax=ax, color="#1f3b73", linewidth=1.0)
        handles.append(Patch(facecolor="none", edgecolor="#1f3b73", label=label("map_layer_parks", lang)))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.apply_aspect()  # the drawn axes box and limits: the scale bar and the 1:n text follow them
    pos, (lx0, lx1) = ax.get_position(), ax.get_xlim()
    _scale_bar(fig, lx1 - lx0, pos.width, lang)
    _north_arrow(ax, lang)
    fig.text(0.5, 0.955, title, ha="center", va="center", fontsize=16 if paper == "A3" else 14, fontweight="bold")
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.79, 0.88), title=label("map_legend", lang),
               frameon=False, fontsize=9)
    epsg = parcels.crs.to_epsg() if parcels.crs is not None else None
    scale_txt = f"1 : {round((lx1 - lx0) / (pos.width * w_mm / 1000)):,}"
    foot = ("数据日期：" if lang != "en" else "data date: ") + str(data_date)
    foot += f"    {'坐标系' if lang != 'en' else 'CRS'}：EPSG:{epsg}" if epsg else ""
    foot += f"    {'比例尺约' if lang != 'en' else 'scale ≈'} {scale_txt}    parkland"
    fig.text(0.03, 0.03, foot, ha="left", va="center", fontsize=8, color="#444444")
    out = []
    for ext in ("png", "pdf"):
        target = path_stem.with_name(path_stem.name + f".{ext}")
        with atomic_path(target) as tmp:
            if ext == "png":
                fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None})
            else:
                fig.savefig(tmp, format="pdf", metadata={"CreationDate": None, "Producer": None, "Creator": None})
        out.append(target)
    plt.close(fig)
    return out


def print_maps(out_dir: str | os.PathLike, dest: str | os.PathLike | None = None, *, lang: str = "zh",
               themes: tuple[str, ...] = ("grades", "cleanup"), per_park: bool = True, dpi: int = 150,
               data_date: str | None = None) -> list[Path]:
    """The city map (A3) and one map per park (A4) for each theme, from an output folder; files in
    ``dest`` (default ``<out_dir>/print``)."""
    from .cards import read_summary
    from .gis import read_layers

    out_dir = Path(out_dir)
    dest = Path(dest) if dest is not None else out_dir / "print"
    layers = read_layers(out_dir)
    parcels = projected(layers["parcels"])
    cleanup = projected(layers["cleanup"]).to_crs(parcels.crs) if "cleanup" in layers else None
    parks = projected(layers["parks"]).to_crs(parcels.crs) if "parks" in layers else None
    run = read_summary(out_dir).get("run") or {}
    if data_date is None:
        data_date = f"{run.get('year', '')}（{run.get('as_of', '')}）" if lang != "en" else \
            f"{run.get('year', '')} ({run.get('as_of', '')})"
    zh = lang != "en"
    names = {"grades": "评价等级" if zh else "grades", "cleanup": "低效用地清理" if zh else "cleanup"}
    if "cleanup" in themes and cleanup is None:
        themes = tuple(t for t in themes if t != "cleanup")
    files: list[Path] = []
    for theme in themes:
        files += draw_map(dest / f"city_{theme}_A3", parcels, theme=theme, cleanup=cleanup, parks=parks,
                          paper="A3", title=f"{'全市' if zh else 'city'} · {names[theme]}", data_date=data_date,
                          lang=lang, dpi=dpi)
    if per_park and "park" in parcels:
        park_names = sorted(p for p in parcels["park"].dropna().astype(str).unique())
        for i, park in enumerate(park_names, start=1):
            mine = parcels[parcels["park"].astype(object) == park]
            ext = tuple(mine.total_bounds)
            pk = parks[parks["park"].astype(object) == park] if parks is not None and "park" in parks else None
            if pk is not None and len(pk):
                b = pk.total_bounds
                ext = (min(ext[0], b[0]), min(ext[1], b[1]), max(ext[2], b[2]), max(ext[3], b[3]))
            stem = f"park{i:02d}_{safe_filename(park)}"
            for theme in themes:
                files += draw_map(dest / f"{stem}_{theme}_A4", parcels, theme=theme, cleanup=cleanup,
                                  parks=parks, extent=ext, paper="A4", title=f"{park} · {names[theme]}",
                                  data_date=data_date, lang=lang, dpi=dpi)
    return files
