"""The lists people act on: cleanup, idle factory floor, grades, the public-notice list.

Each function returns the frame of one list (canonical column names, in the order the workbook shows
them); ``report.output`` writes them with the one Excel writer (``report.excel``) or, past 50,000 rows,
as CSV.
"""

from __future__ import annotations

import pandas as pd

from .labels import label, reasons_text

CLEANUP_COLUMNS = ["rank", "parcel_id", "park", "area_mu", "cumulative_mu", "selected", "kind", "reasons",
                   "reasons_text", "firms", "firm_count", "operating_firms", "grade", "idle_years",
                   "priority_score", "tier", "county", "source_row"]
IDLE_FLOOR_COLUMNS = ["rank", "parcel_id", "park", "floor_area_m2", "cumulative_m2", "selected", "use", "state",
                      "idle_basis", "source_row", "parcel_row"]
NOTICE_COLUMNS = ["name", "uscc", "park", "grade"]


def cleanup_list(cleanup: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """cleanup.xlsx: every candidate in priority order, with the reasons spelled out."""
    c = pd.DataFrame(cleanup.drop(columns=[g for g in ("geometry",) if g in cleanup.columns]))
    c["reasons_text"] = c["reasons"].fillna("").map(lambda r: reasons_text(r, lang))
    c["kind"] = c["kind"].map(lambda k: label(k, lang) if isinstance(k, str) else k)
    return c[[x for x in CLEANUP_COLUMNS if x in c.columns]]


def idle_floor_list(idle: pd.DataFrame) -> pd.DataFrame:
    """idle_floor.xlsx: idle factory floor, ranked, with the selection toward the target."""
    return idle[[x for x in IDLE_FLOOR_COLUMNS if x in idle.columns]].copy()


def notice_list(firms: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """notice.xlsx (公示名单): graded or exempt firms — name, credit code, park, grade, nothing else —
    sorted by park, then grade, then name."""
    f = firms[firms["status"].isin(["graded", "exempt"])].copy()
    f["uscc"] = f["uscc"].where(f["uscc"].notna(), f.get("uscc_raw"))
    f = f.sort_values(["park", "grade", "name"], kind="stable", na_position="last")
    return f[NOTICE_COLUMNS].reset_index(drop=True)


def grades_list(firms_table: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """grades.xlsx: the firms.csv content; status and land source spelled out in the chosen language."""
    g = firms_table.copy()
    for c in ("status", "land_source"):
        if c in g:
            g[c] = g[c].map(lambda v: label(v, lang) if isinstance(v, str) else v)
    return g
