"""``parkland export DIR --what …``: the heavier deliverables, made from an output folder alone.

============  ===========================================================================================
what          files (in DIR)
============  ===========================================================================================
cards         cards.html — one A4 page per graded firm (:mod:`parkland.report.cards`)
gpkg          gis/parkland.gpkg — parcels, cleanup (and parks) with QGIS styles (:mod:`.gis`)
shp           gis/parcels.shp, gis/cleanup.shp (+ .shx .dbf .prj .cpg, and ``*_fields.csv`` name maps)
geojson       gis/parcels.geojson, gis/cleanup.geojson (RFC 7946, WGS 84)
kml           gis/parcels.kml/.kmz, gis/cleanup.kml/.kmz (WGS 84, for field apps)
print         print/city_*_A3.png/.pdf, print/parkNN_<name>_*_A4.png/.pdf (:mod:`.printmaps`)
report        report.html, report.pdf (:mod:`.report`)
all           everything above
============  ===========================================================================================

Inputs read: parcels.gpkg (layers parcels, parks), cleanup.gpkg, firms.csv, reconciliation.csv,
summary.json, and policy.toml when present (else the preset named in summary.json, when its hash
matches). Missing inputs raise :class:`parkland.errors.InputError` naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import InputError

WHAT = ("cards", "gpkg", "shp", "geojson", "kml", "print", "report")
#: the files each kind needs (beyond the folder)
NEEDS = {"cards": ("firms.csv", "parcels.gpkg"), "gpkg": ("parcels.gpkg",), "shp": ("parcels.gpkg",),
         "geojson": ("parcels.gpkg",), "kml": ("parcels.gpkg",), "print": ("parcels.gpkg",),
         "report": ("summary.json",)}
SHP_ENCODINGS = ("GBK", "UTF-8")


def parse_what(what: list[str] | str) -> list[str]:
    """``["cards", "gpkg,shp"]`` or ``"all"`` → the kinds in :data:`WHAT` order (InputError if unknown)."""
    items = [w.strip().lower() for part in ([what] if isinstance(what, str) else what) for w in str(part).split(",")]
    items = [w for w in items if w]
    bad = [w for w in items if w not in (*WHAT, "all")]
    if bad:
        raise InputError(f"未知的导出类型：{', '.join(bad)}；可选：{', '.join(WHAT)}, all",
                         f"unknown export kind: {', '.join(bad)}; choose from {', '.join(WHAT)}, all",
                         column="--what")
    if not items or "all" in items:
        return list(WHAT)
    return [w for w in WHAT if w in items]


def export_dir(out_dir: str | os.PathLike, what: list[str], *, lang: str = "zh", shp_encoding: str = "GBK"
               ) -> list[Path]:
    """Write the deliverables ``what`` (see the module table) into ``out_dir``; returns the files written.

    ``shp_encoding``: GBK (default; what Chinese desktop GIS expects) or UTF-8, written to the .cpg.
    The report is written last, so that it links to the cards and printable maps of the same export.
    """
    out_dir = Path(out_dir)
    kinds = parse_what(what)
    if not out_dir.is_dir():
        raise InputError(f"结果目录不存在：{out_dir}", f"output folder not found: {out_dir}", file=out_dir,
                         hint_zh="请先运行 parkland assess --out 该目录", hint_en="run parkland assess --out DIR first")
    enc = shp_encoding.upper().replace("_", "-")
    enc = "UTF-8" if enc in ("UTF8", "UTF-8") else enc
    if enc not in SHP_ENCODINGS:
        raise InputError(f"Shapefile 编码只能是 GBK 或 UTF-8，而不是 {shp_encoding}",
                         f"the Shapefile encoding must be GBK or UTF-8, not {shp_encoding}", column="--shp-encoding")
    for k in kinds:
        for f in NEEDS[k]:
            if not (out_dir / f).exists():
                raise InputError(f"结果目录缺少 {f}，无法导出 {k}", f"{f} is missing from the output folder: cannot "
                                 f"export {k}", file=out_dir / f, hint_zh="请重新运行 parkland assess",
                                 hint_en="rerun parkland assess")
    files: list[Path] = []
    if "cards" in kinds:
        from .cards import write_cards

        files.append(write_cards(out_dir, lang=lang))
    gis = [k for k in ("gpkg", "shp", "geojson", "kml") if k in kinds]
    if gis:
        from .gis import export_gis

        files += export_gis(out_dir, gis, lang=lang, shp_encoding=enc)
    if "print" in kinds:
        from .printmaps import print_maps

        files += print_maps(out_dir, lang=lang)
    if "report" in kinds:
        from .report import write_report

        files += write_report(out_dir, lang=lang)
    return files
