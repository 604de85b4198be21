"""Shared helpers of the analyst notebooks: a CJK font for matplotlib and the demo assessment.

The notebooks import this file (``import _setup``), so run them with ``notebooks/`` as the working
directory (Jupyter does this when you open a notebook there; papermill: ``--cwd notebooks``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
import parkland as pk
from matplotlib import font_manager
from parkland.demo_data import demo_data_dir

#: fonts tried in order: Debian/Ubuntu (fonts-noto-cjk), Adobe's twin, Windows, macOS
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimHei", "PingFang SC",
             "Heiti SC", "WenQuanYi Zen Hei")

#: the evaluation date of the demo city (DESIGN: Dec 31 of the data year)
DEMO_AS_OF = pd.Timestamp("2025-12-31")

#: the grade order used by every table and chart
GRADES = ["A", "B", "C", "D", "T"]


def use_cjk_font() -> str:
    """Make matplotlib draw Chinese: the first installed font of :data:`CJK_FONTS` goes first in
    ``font.sans-serif`` (and the minus sign is drawn as ASCII, which every CJK font has).

    Returns the font's name; raises RuntimeError naming what to install when none is found (Debian:
    ``apt-get install fonts-noto-cjk``), since a chart of boxes would mislead more than no chart.
    """
    installed = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in installed:
            matplotlib.rcParams["font.family"] = "sans-serif"
            matplotlib.rcParams["font.sans-serif"] = [name, *matplotlib.rcParams["font.sans-serif"]]
            matplotlib.rcParams["axes.unicode_minus"] = False
            return name
    raise RuntimeError("no CJK font for matplotlib: install fonts-noto-cjk (Debian/Ubuntu) or use Windows' "
                       "Microsoft YaHei; tried " + ", ".join(CJK_FONTS))


def demo_inputs() -> dict[str, Any]:
    """The keyword arguments ``parkland demo`` passes to :func:`parkland.assess` (embedded demo city:
    parcels, firms 2025 and 2024, links, buildings, park boundaries, NDVI raster; data year 2025)."""
    d = demo_data_dir()
    return {
        "parcels": str(d / "city.gpkg"), "parcels_layer": "zongdi",
        "firms": str(d / "firms_2025.xlsx"), "links": str(d / "links.csv"),
        "parks": str(d / "city.gpkg"), "parks_layer": "parks",
        "buildings": str(d / "city.gpkg"), "buildings_layer": "buildings",
        "rasters": {"ndvi": str(d / "ndvi.tif")},
        "previous_firms": str(d / "firms_2024.xlsx"), "year": 2025,
    }


def demo_assessment(policy: str | os.PathLike | Any = "sichuan-2022", **overrides: Any) -> pk.Assessment:
    """Assess the embedded demo city (about 5 s) under ``policy``; ``overrides`` replace any input."""
    kw = demo_inputs()
    kw.update(overrides)
    parcels, firms = kw.pop("parcels"), kw.pop("firms")
    return pk.assess(parcels, firms, policy=policy, **kw)


def grade_counts(firms: pd.DataFrame) -> dict[str, int]:
    """Grades of the graded and exempt firms, in the order A B C D T (what summary.json reports)."""
    f = firms[firms["status"].isin(["graded", "exempt"])]
    vc = f["grade"].value_counts()
    return {g: int(vc[g]) for g in GRADES if g in vc.index}


def regradable(firms: pd.DataFrame) -> pd.DataFrame:
    """The graded firm frame made ready to grade again under another policy (for
    :func:`parkland.scoring.grade_firms`): firms a policy's scope left out (status_reason "out of
    scope: …") go back to the pending state that linking gives them. Exempt and graded firms are
    re-assessed anyway; firms that could not be linked or repeat a credit code stay as they are.
    Regrading the result under the assessment's own policy gives back exactly its grades."""
    f = firms.copy()
    out = f["status_reason"].astype(object).fillna("").astype(str).str.startswith("out of scope").to_numpy()
    f.loc[out, "status"] = "not_graded"
    f.loc[out, "status_reason"] = "pending"
    return f


def iframe_srcdoc(html_text: str, height: int = 560) -> str:
    """An ``<iframe srcdoc=…>`` holding a whole HTML page, for ``IPython.display.HTML``: the page keeps
    its own scripts and styles, works offline, and survives export to HTML (no file path to serve)."""
    import html

    return (f'<div><iframe srcdoc="{html.escape(html_text, quote=True)}" style="width:100%;height:{height}px;'
            'border:1px solid #ccc" sandbox="allow-scripts"></iframe></div>')


def notebooks_dir() -> Path:
    """This folder (for files the notebooks write next to them)."""
    return Path(__file__).resolve().parent
