"""The output folder of DESIGN.md: parcels.gpkg, firms.csv, reconciliation.csv, summary.json.

Column order follows the contract; columns that a stage did not produce are simply absent, except the
contract's key columns, which are always present (missing values when unknown).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from .. import recon
from ..schema import FIRM_FIGURES, INDICATORS
from .export import write_csv, write_gpkg_layers, write_text
from .summary import dumps

if TYPE_CHECKING:
    from ..pipeline import Assessment

PARCEL_FIRST = ["source_row", "parcel_id", "park", "county", "area_mu", "cert_area_mu", "land_area_mu",
                "area_m2", "measure_epsg", "firm_count", "tax_wan", "revenue_wan", "output_wan",
                "value_added_wan", "tax_per_mu", "revenue_per_mu", "output_per_mu", "value_added_per_mu",
                "building_coverage", "far", "floor_area_m2", "grade", "idle", "vacant", "stopped",
                "low_efficiency", "flag_reasons"]
PARCEL_REQUIRED = ["source_row", "parcel_id", "park", "county", "area_mu", "firm_count", "tax_wan",
                   "revenue_wan", "tax_per_mu", "revenue_per_mu"]
FIRM_FIRST = ["source_row", "file_row", "uscc", "uscc_valid", "name", "parcel_ids", "land_mu", "land_source",
              "status", "status_reason", "track", "score", "grade", "rank", "park", "county", "in_park",
              "is_tenant", "landholder_uscc", "main_parcel_id", "link_method", "scale", "industry_code",
              "established", "lon", "lat"]
FIRM_REQUIRED = ["source_row", "uscc", "name", "parcel_ids", "land_mu", "land_source", "status",
                 "status_reason", "tax_per_mu", "revenue_per_mu"]
#: internal helper columns that are not written
FIRM_DROP = {"uscc_raw", "parcel_ids_input", "year"}


def _order(df: pd.DataFrame, first: list[str], required: list[str], tail: list[str] | None = None) -> list[str]:
    for c in required:
        if c not in df.columns:
            df[c] = None
    cols = [c for c in first if c in df.columns]
    cols += [c for c in (tail or []) if c in df.columns and c not in cols]
    cols += [c for c in df.columns if c not in cols]
    return cols


def parcels_table(a: Assessment) -> gpd.GeoDataFrame:
    """parcels.gpkg layer ``parcels``: the contract's columns first, geometry in the input CRS."""
    p = a.parcels.copy()
    geom = p.geometry.name
    drop = {"park_own", "holder_firm_row"}
    cols = [c for c in _order(p, PARCEL_FIRST, PARCEL_REQUIRED) if c != geom and c not in drop]
    return gpd.GeoDataFrame(p[cols], geometry=p.geometry, crs=p.crs)


def firms_table(a: Assessment) -> pd.DataFrame:
    """firms.csv: one row per input firm, in input order."""
    f = a.firms.copy()
    figures = list(FIRM_FIGURES)
    inds = list(INDICATORS)
    parts = sorted(c for c in f.columns if c.startswith("part_"))
    cols = _order(f, FIRM_FIRST, FIRM_REQUIRED, figures + inds + parts)
    cols = [c for c in cols if c not in FIRM_DROP]
    out = f[cols].sort_values("source_row", kind="stable")
    if "established" in out:
        out["established"] = pd.to_datetime(out["established"], errors="coerce").dt.strftime("%Y-%m-%d")
    return out


def write_outputs(a: Assessment, out: Path, *, lang: str = "zh") -> Path:
    """Write the output folder; returns it."""
    out.mkdir(parents=True, exist_ok=True)
    layers = {"parcels": parcels_table(a)}
    if a.park_boundaries is not None and len(a.park_boundaries):
        pb = a.park_boundaries.copy()
        if pb.crs is not None and a.parcels.crs is not None and pb.crs != a.parcels.crs:
            pb = pb.to_crs(a.parcels.crs)
        layers["parks"] = pb
    write_gpkg_layers(layers, out / "parcels.gpkg")
    write_csv(firms_table(a), out / "firms.csv")
    write_csv(recon.render(a.recon, lang), out / "reconciliation.csv")
    write_text(dumps(a.summary()), out / "summary.json")
    return out
