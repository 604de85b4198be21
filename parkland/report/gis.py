"""GIS exports of the parcels and the cleanup candidates: GeoPackage (with a QGIS style), Shapefile,
GeoJSON, KML/KMZ. Every file is written through pyogrio, to a temporary name, then renamed.

* **GeoPackage** (``gis/parkland.gpkg``): layers ``parcels``, ``cleanup`` (and ``parks`` when the
  output folder has them), coordinates in the input CRS, and a ``layer_styles`` table in the QGIS
  convention (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, styleQML,
  styleSLD, useAsDefault, description, owner, ui, update_time): QGIS opens ``parcels`` coloured by
  ``grade`` (a categorized renderer with the fixed colours of ``labels.GRADE_COLORS``) and ``cleanup``
  coloured by ``kind``.
* **Shapefile** (``gis/<layer>.shp``): field names within 10 bytes in the chosen encoding (a fixed table
  of short names, else the name cut to 10 bytes, made unique); the map short → original → Chinese label
  is written beside it as ``<layer>_fields.csv``; a ``.cpg`` names the encoding (GBK by default, or
  UTF-8). A Shapefile is several files: they are written into a temporary folder beside the target and
  each moved into place (``os.replace``).
* **GeoJSON** (``gis/<layer>.geojson``): RFC 7946 — WGS 84 longitude/latitude, no ``crs`` member,
  coordinates rounded to 7 decimals (≈ 1 cm). Byte-identical on rerun.
* **KML / KMZ** (``gis/<layer>.kml``, ``.kmz``; LIBKML driver, WGS 84): each placemark is named by the
  parcel code and carries a plain-text description (park, area in 亩, grade, reasons) for field apps
  such as 奥维互动地图, and a style coloured by grade (parcels) or by selection (cleanup). The KMZ is the
  KML zipped as ``doc.kml`` with a fixed timestamp.

Coordinates are never GCJ-02: the input CRS, or WGS 84 where the format demands it.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from .export import _gpkg_ready, atomic_path, neutralise_frame, write_csv
from .labels import GRADE_COLORS, label, reasons_text
from .summary import run_timestamp

#: fixed short names for the Shapefile (dBase: at most 10 bytes)
SHP_NAMES: dict[str, str] = {
    "source_row": "src_row", "cert_area_mu": "cert_mu", "land_area_mu": "land_mu", "measure_epsg": "meas_epsg",
    "firm_count": "firm_cnt", "revenue_wan": "revenue", "output_wan": "output", "value_added_wan": "va_wan",
    "revenue_per_mu": "rev_mu", "output_per_mu": "out_mu", "value_added_per_mu": "va_mu",
    "building_coverage": "bldg_cov", "floor_area_m2": "floor_m2", "low_efficiency": "low_eff",
    "flag_reasons": "flags", "parcel_id_raw": "pid_raw", "holder_name": "holder", "holder_uscc": "holder_id",
    "industry_code": "industry", "agreed_start": "agr_start", "actual_start": "act_start",
    "agreed_completion": "agr_compl", "stopped_since": "stopped_at", "agreed_investment_wan": "agr_inv",
    "actual_investment_wan": "act_inv", "developed_m2": "dev_m2", "developed_share": "dev_share",
    "area_basis_used": "area_basis", "unassigned_share": "unassigned", "electricity_10k_kwh": "elec_10kwh",
    "emissions_t": "emissions", "revenue_per_employee": "rev_emp", "labour_productivity": "labour_pro",
    "va_per_energy": "va_energy", "revenue_per_energy": "rev_energy", "va_per_emission": "va_emis",
    "tax_per_electricity": "tax_elec", "rd_intensity": "rd_intens", "footprint_m2": "footprint",
    "idle_floor_m2": "idle_floor", "building_count": "bldg_cnt", "flag_detail": "flag_det",
    "idle_fee_due": "idle_fee", "reclaim_warning": "reclaim", "huzhou_kind": "huzhou",
    "control_code_2002": "ctrl_2002", "control_source": "ctrl_src", "developed_share_used": "dev_used",
    "investment_share": "inv_share", "cumulative_mu": "cum_mu", "operating_firms": "oper_firms",
    "shortfall_ratio": "shortfall", "priority_score": "priority", "reasons": "reasons",
}

#: colours of the cleanup kinds (maps, QGIS style)
KIND_COLORS: dict[str, str] = {"idle": "#7b3294", "vacant": "#c2a5cf", "stopped": "#e66101",
                               "low_efficiency": "#fdb863"}
UNGRADED_COLOR = "#d9d9d9"


# ---------------------------------------------------------------------------------------------------
# reading the output folder
def read_layers(out_dir: str | os.PathLike) -> dict[str, gpd.GeoDataFrame]:
    """The layers an output folder holds: ``parcels`` (and ``parks``) from parcels.gpkg, ``cleanup``
    from cleanup.gpkg when present."""
    out_dir = Path(out_dir)
    layers: dict[str, gpd.GeoDataFrame] = {}
    src = out_dir / "parcels.gpkg"
    names = [str(n) for n in pyogrio.list_layers(src)[:, 0]]
    layers["parcels"] = gpd.read_file(src, layer="parcels", engine="pyogrio")
    if (out_dir / "cleanup.gpkg").exists():
        layers["cleanup"] = gpd.read_file(out_dir / "cleanup.gpkg", layer="cleanup", engine="pyogrio")
    if "parks" in names:
        layers["parks"] = gpd.read_file(src, layer="parks", engine="pyogrio")
    return layers


# ---------------------------------------------------------------------------------------------------
# QGIS style
def _rgba(hex_color: str, alpha: int = 255) -> str:
    h = hex_color.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha}"


def _qml_symbol(name: str, color: str) -> str:
    c = _rgba(color)
    props = {"color": c, "outline_color": "80,80,80,255", "outline_style": "solid", "outline_width": "0.2",
             "outline_width_unit": "MM", "style": "solid", "joinstyle": "bevel"}
    opts = "".join(f'<Option name="{k}" type="QString" value="{v}"/>' for k, v in props.items())
    legacy = "".join(f'<prop k="{k}" v="{v}"/>' for k, v in props.items())
    return (f'<symbol type="fill" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleFill" enabled="1" locked="0" pass="0"><Option type="Map">{opts}</Option>'
            f'{legacy}</layer></symbol>')


def style_qml(attr: str, categories: list[tuple[str, str, str]]) -> str:
    """A QGIS QML document: a categorized fill renderer on ``attr``; ``categories`` = (value, label,
    colour); the empty value is the "all other values" category."""
    cats = "".join(f'<category symbol="{i}" value="{html.escape(v)}" label="{html.escape(lbl)}" render="true"/>'
                   for i, (v, lbl, _c) in enumerate(categories))
    syms = "".join(_qml_symbol(str(i), c) for i, (_v, _l, c) in enumerate(categories))
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            '<qgis version="3.28.0" styleCategories="Symbology">'
            f'<renderer-v2 type="categorizedSymbol" attr="{html.escape(attr)}" symbollevels="0" '
            f'enableorderby="0" forceraster="0"><categories>{cats}</categories><symbols>{syms}</symbols>'
            '</renderer-v2></qgis>\n')


def style_sld(layer: str, attr: str, categories: list[tuple[str, str, str]]) -> str:
    """The same style as an OGC SLD 1.1 document (rules with PropertyIsEqualTo; an ElseFilter for the
    empty value)."""
    rules = []
    for v, lbl, c in categories:
        flt = ("<se:ElseFilter/>" if v == "" else
               f"<ogc:Filter><ogc:PropertyIsEqualTo><ogc:PropertyName>{html.escape(attr)}</ogc:PropertyName>"
               f"<ogc:Literal>{html.escape(v)}</ogc:Literal></ogc:PropertyIsEqualTo></ogc:Filter>")
        rules.append(f"<se:Rule><se:Name>{html.escape(lbl)}</se:Name>{flt}<se:PolygonSymbolizer><se:Fill>"
                     f'<se:SvgParameter name="fill">{c}</se:SvgParameter></se:Fill><se:Stroke>'
                     '<se:SvgParameter name="stroke">#505050</se:SvgParameter>'
                     '<se:SvgParameter name="stroke-width">0.5</se:SvgParameter></se:Stroke>'
                     "</se:PolygonSymbolizer></se:Rule>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<StyledLayerDescriptor version="1.1.0" '
            'xmlns="http://www.opengis.net/sld" xmlns:ogc="http://www.opengis.net/ogc" '
            'xmlns:se="http://www.opengis.net/se"><NamedLayer>'
            f"<se:Name>{html.escape(layer)}</se:Name><UserStyle><se:Name>{html.escape(layer)}</se:Name>"
            f"<se:FeatureTypeStyle>{''.join(rules)}</se:FeatureTypeStyle></UserStyle></NamedLayer>"
            "</StyledLayerDescriptor>\n")


def grade_categories(lang: str = "zh") -> list[tuple[str, str, str]]:
    """(value, label, colour) of each grade, then the "not graded" rest."""
    return [(g, label(g, lang), c) for g, c in GRADE_COLORS.items()] + [("", label("map_ungraded", lang),
                                                                         UNGRADED_COLOR)]


def kind_categories(lang: str = "zh") -> list[tuple[str, str, str]]:
    return [(k, label(k, lang), c) for k, c in KIND_COLORS.items()] + [("", label("map_no_data", lang),
                                                                        UNGRADED_COLOR)]


def layer_styles(layers: dict[str, gpd.GeoDataFrame], lang: str = "zh") -> pd.DataFrame:
    """Rows of the QGIS ``layer_styles`` table for the layers that have a style (parcels by grade,
    cleanup by kind, parks as a grey outline)."""
    rows = []
    when = pd.Timestamp(run_timestamp().replace("Z", "")).to_pydatetime()
    for name, gdf in layers.items():
        if name == "cleanup":
            attr, cats, what = "kind", kind_categories(lang), "清理候选宗地按类型着色"
        elif "grade" in gdf.columns:
            attr, cats, what = "grade", grade_categories(lang), "宗地按评价等级着色"
        else:
            continue
        rows.append({"f_table_catalog": "", "f_table_schema": "", "f_table_name": name,
                     "f_geometry_column": "geom", "styleName": f"{name}_{attr}",
                     "styleQML": style_qml(attr, cats), "styleSLD": style_sld(name, attr, cats),
                     "useAsDefault": True, "description": what if lang != "en" else f"{name} by {attr}",
                     "owner": "parkland", "ui": None, "update_time": when})
    df = pd.DataFrame(rows, columns=["f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column",
                                     "styleName", "styleQML", "styleSLD", "useAsDefault", "description", "owner",
                                     "ui", "update_time"])
    df["useAsDefault"] = df["useAsDefault"].astype(bool)
    df["ui"] = df["ui"].astype(object)
    return df


def write_styled_gpkg(layers: dict[str, gpd.GeoDataFrame], path: str | os.PathLike, *, lang: str = "zh") -> Path:
    """A GeoPackage of ``layers`` (input CRS, text neutralised) with the QGIS ``layer_styles`` table."""
    path = Path(path)
    with atomic_path(path) as tmp:
        for i, (name, gdf) in enumerate(layers.items()):
            data = _gpkg_ready(neutralise_frame(gdf))
            pyogrio.write_dataframe(data, tmp, layer=name, driver="GPKG", append=i > 0, GEOMETRY_NAME="geom")
        styles = layer_styles(layers, lang)
        if len(styles):
            pyogrio.write_dataframe(styles, tmp, layer="layer_styles", driver="GPKG", append=True, FID="id")
    return path


# ---------------------------------------------------------------------------------------------------
# Shapefile
def _cut_bytes(name: str, n: int, encoding: str) -> str:
    while len(name.encode(encoding, errors="replace")) > n:
        name = name[:-1]
    return name


def shapefile_names(columns: list[str], encoding: str = "GBK") -> dict[str, str]:
    """Column → dBase field name of at most 10 bytes in ``encoding``, unique ignoring case: the fixed
    short name of :data:`SHP_NAMES`, else the name cut to 10 bytes; a clash gets ``_2``, ``_3`` …"""
    out: dict[str, str] = {}
    used: set[str] = set()
    for c in columns:
        base = _cut_bytes(SHP_NAMES.get(c, c), 10, encoding) or "field"
        name, i = base, 2
        while name.lower() in used:
            suffix = f"_{i}"
            name = _cut_bytes(base, 10 - len(suffix), encoding) + suffix
            i += 1
        used.add(name.lower())
        out[c] = name
    return out


def _replace_files(tmpdir: Path, stem: str, dest: Path) -> list[Path]:
    moved = []
    for f in sorted(tmpdir.iterdir()):
        target = dest / (stem + f.name[len(stem):]) if f.name.startswith(stem) else dest / f.name
        os.replace(f, target)
        moved.append(target)
    return moved


def write_shapefile(gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, encoding: str = "GBK",
                    lang: str = "zh") -> list[Path]:
    """``path`` (.shp) with its .shx/.dbf/.prj/.cpg in the frame's CRS, and ``<stem>_fields.csv`` (columns
    field, column, label: the short dBase name, the original column, its label). Returns the files."""
    path = Path(path)
    enc = {"UTF8": "UTF-8", "UTF-8": "UTF-8"}.get(encoding.upper().replace("_", "-"), encoding.upper())
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    names = shapefile_names(cols, enc)
    data = _gpkg_ready(neutralise_frame(gdf))
    for c in cols:  # datetimes → dates (dBase has no time), big text cut by GDAL to 254 bytes
        if pd.api.types.is_datetime64_any_dtype(data[c]):
            data[c] = data[c].dt.strftime("%Y-%m-%d").astype(object).where(data[c].notna(), None)
    data = data.rename(columns=names)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmpdir = Path(tempfile.mkdtemp(prefix=f".{path.stem}.", dir=path.parent))
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # GDAL: text cut to 254 bytes
            pyogrio.write_dataframe(data, tmpdir / path.name, driver="ESRI Shapefile", encoding=enc)
        files = _replace_files(tmpdir, path.stem, path.parent)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    fmap = pd.DataFrame({"field": [names[c] for c in cols], "column": cols,
                         "label": [label(c, lang) for c in cols]})
    files.append(write_csv(fmap, path.with_name(f"{path.stem}_fields.csv")))
    return files


# ---------------------------------------------------------------------------------------------------
# GeoJSON
def write_geojson(gdf: gpd.GeoDataFrame, path: str | os.PathLike) -> Path:
    """RFC 7946 GeoJSON: reprojected to WGS 84 (lon, lat), no crs member, 7 decimals, text neutralised."""
    path = Path(path)
    data = _gpkg_ready(neutralise_frame(gdf))
    if data.crs is None:
        raise ValueError("GeoJSON export needs a CRS")
    data = data.to_crs(4326)
    for c in data.columns:
        if c != data.geometry.name and pd.api.types.is_datetime64_any_dtype(data[c]):
            data[c] = data[c].dt.strftime("%Y-%m-%d").astype(object).where(data[c].notna(), None)
    with atomic_path(path) as tmp:
        pyogrio.write_dataframe(data, tmp, driver="GeoJSON", layer=path.stem, RFC7946="YES",
                                COORDINATE_PRECISION=7, WRITE_NAME="NO")
    return path


# ---------------------------------------------------------------------------------------------------
# KML / KMZ
def _ogr_style(fill: str, alpha: int = 0xA0, outline: str = "#333333") -> str:
    return f"BRUSH(fc:{fill}{alpha:02x});PEN(c:{outline}ff,w:1px)"


def _fmt(x: object, nd: int = 2) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return ""
    return "" if not np.isfinite(v) else f"{v:,.{nd}f}"


def kml_frame(gdf: gpd.GeoDataFrame, layer: str, lang: str = "zh") -> gpd.GeoDataFrame:
    """The KML attributes of a parcels or cleanup layer: ``name`` (parcel code), ``description`` (plain
    text, one "label：value" per line, every input text HTML-escaped), ``OGR_STYLE`` (the fill colour),
    and a few attributes; WGS 84."""
    g = gdf.to_crs(4326)
    n = len(g)

    def col(c: str) -> pd.Series:
        return g[c].astype(object) if c in g.columns else pd.Series([None] * n, index=g.index, dtype=object)

    def text(s: pd.Series) -> pd.Series:
        return s.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else html.escape(str(v)))

    reasons_col = "reasons" if layer == "cleanup" else "flag_reasons"
    grade = text(col("grade"))
    lines = [
        (label("park", lang), text(col("park"))),
        (label("area_mu", lang), col("area_mu").map(_fmt)),
        (label("grade", lang), grade.map(lambda v: label(v, lang) if v else "")),
        (label("flag_reasons", lang), col(reasons_col).map(lambda r: html.escape(reasons_text(r, lang))
                                                          if isinstance(r, str) else "")),
    ]
    if layer == "cleanup":
        lines.insert(0, (label("rank", lang), col("rank").map(lambda v: _fmt(v, 0))))
        lines.append((label("selected", lang), col("selected").map(
            lambda v: "" if v is None else (label("map_selected", lang) if bool(v) else
                                            label("map_candidate", lang)))))
        lines.append((label("firms", lang), text(col("firms"))))
    desc = pd.Series([""] * n, index=g.index, dtype=object)
    for lbl, vals in lines:
        desc = desc + np.where(vals.to_numpy(dtype=object) != "", f"{lbl}：" + vals.astype(str) + "\n", "")
    if layer == "cleanup":
        sel = col("selected").map(lambda v: bool(v) if v is not None else False)
        style = np.where(sel.to_numpy(bool), _ogr_style("#d73027"), _ogr_style("#fdae61"))
    else:
        style = grade.map(lambda v: _ogr_style(GRADE_COLORS.get(v, UNGRADED_COLOR))).to_numpy(dtype=object)
    keep = [c for c in ("parcel_id", "park", "area_mu", "grade", "rank", "selected", "kind", reasons_col)
            if c in g.columns]
    out = gpd.GeoDataFrame({"name": text(col("parcel_id")).to_numpy(dtype=object),
                            "description": desc.str.rstrip("\n").to_numpy(dtype=object),
                            **{c: g[c].to_numpy() for c in keep}, "OGR_STYLE": style},
                           geometry=g.geometry.to_numpy(), crs=4326)
    return _gpkg_ready(out)


def _zip_time() -> tuple[int, int, int, int, int, int]:
    t = pd.Timestamp(run_timestamp().replace("Z", ""))
    t = max(t, pd.Timestamp("1980-01-01"))
    return (t.year, t.month, t.day, t.hour, t.minute, t.second)


def write_kml(gdf: gpd.GeoDataFrame, path: str | os.PathLike, *, layer: str = "parcels", lang: str = "zh",
              kmz: bool = True) -> list[Path]:
    """``<stem>.kml`` (LIBKML, WGS 84) and, with ``kmz``, ``<stem>.kmz`` (the KML as doc.kml)."""
    path = Path(path).with_suffix(".kml")
    data = kml_frame(gdf, layer, lang)
    with atomic_path(path) as tmp:
        pyogrio.write_dataframe(data, tmp, driver="LIBKML", layer=path.stem)
    files = [path]
    if kmz:
        kz = path.with_suffix(".kmz")
        with atomic_path(kz) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            info = zipfile.ZipInfo("doc.kml", date_time=_zip_time())
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, path.read_bytes())
        files.append(kz)
    return files


# ---------------------------------------------------------------------------------------------------
def export_gis(out_dir: str | os.PathLike, formats: list[str], *, dest: str | os.PathLike | None = None,
               lang: str = "zh", shp_encoding: str = "GBK") -> list[Path]:
    """Write ``formats`` (any of gpkg, shp, geojson, kml) of the parcels and cleanup layers of an output
    folder into ``dest`` (default ``<out_dir>/gis``). Returns the files written."""
    layers = read_layers(out_dir)
    dest = Path(dest) if dest is not None else Path(out_dir) / "gis"
    files: list[Path] = []
    main = {k: v for k, v in layers.items() if k in ("parcels", "cleanup")}
    if "gpkg" in formats:
        files.append(write_styled_gpkg(layers, dest / "parkland.gpkg", lang=lang))
    for name, gdf in main.items():
        if "shp" in formats:
            files += write_shapefile(gdf, dest / f"{name}.shp", encoding=shp_encoding, lang=lang)
        if "geojson" in formats:
            files.append(write_geojson(gdf, dest / f"{name}.geojson"))
        if "kml" in formats:
            files += write_kml(gdf, dest / f"{name}.kml", layer=name, lang=lang)
    return files
