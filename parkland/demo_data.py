"""Where the embedded demo city lives: package data in a wheel, ``data/demo`` in a source checkout."""

from __future__ import annotations

from pathlib import Path

#: the files `parkland demo` passes to `assess`
DEMO_FILES = ("city.gpkg", "firms_2025.xlsx", "firms_2024.xlsx", "links.csv", "ndvi.tif")


def demo_data_dir() -> Path:
    """The folder holding the demo inputs (``parkland/_demo_data`` when installed from a wheel)."""
    here = Path(__file__).resolve().parent
    for cand in (here / "_demo_data", here.parent / "data" / "demo"):
        if (cand / "city.gpkg").is_file():
            return cand
    raise FileNotFoundError("demo data not found: reinstall parkland (pip install .) or run from a checkout")
