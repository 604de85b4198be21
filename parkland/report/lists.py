"""The lists people act on: cleanup, idle factory floor, grades, the public-notice list.

Each function returns the frame of one list (canonical column names, in the order the workbook shows
them); ``report.output`` writes them with the one Excel writer (``report.excel``) or, past 50,000 rows,
as CSV. Code values (status, land source, track, tier, link method …) are spelled out in the chosen
language through the label table.

The public-notice list (公示名单) carries the firm's name, credit code, park and grade and nothing else.
A policy may add columns with a ``[notice]`` table::

    [notice]
    extra_columns = ["industry_code", "county"]   # firm columns added after the grade

Columns that would publish money, figures or scores are refused (:data:`NOTICE_FORBIDDEN`): the list
stays public-safe whatever the policy says.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import PolicyError
from ..schema import FIRM_FIGURES, INDICATORS
from .labels import label, reasons_text

CLEANUP_COLUMNS = ["rank", "parcel_id", "park", "area_mu", "cumulative_mu", "selected", "kind", "reasons",
                   "reasons_text", "firms", "firm_count", "operating_firms", "grade", "idle_years",
                   "priority_score", "tier", "county", "source_row"]
IDLE_FLOOR_COLUMNS = ["rank", "parcel_id", "park", "floor_area_m2", "cumulative_m2", "selected", "use", "state",
                      "idle_basis", "source_row", "parcel_row"]
NOTICE_COLUMNS = ["name", "uscc", "park", "grade"]
#: Chinese headers of the notice list (as bureaus print them; no units needed)
NOTICE_HEADERS = {"name": "企业名称", "uscc": "统一社会信用代码", "park": "园区", "grade": "评价等级"}

#: prefixes / names of firm columns that may never appear in the public-notice list
NOTICE_FORBIDDEN_PREFIXES = ("part_", "benchmark_", "consequence_", "change_", "gap_", "score")
NOTICE_FORBIDDEN = {*FIRM_FIGURES, *INDICATORS, "rank", "bonus", "penalty", "weight_factor", "land_mu",
                    "lon", "lat"}

#: code columns spelled out: column → prefix of its value labels (None: the value is a label key itself)
_VALUE_LABELS = {"status": None, "land_source": None, "status_previous": None, "track": "track_",
                 "scale": "track_", "link_method": "link_", "grade_direction": "direction_",
                 "tier": "tier_", "idle_basis": "idle_basis_", "kind": None}


def spell_out(df: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """A copy with code columns (status, land source, track, scale, link method, tier …) replaced by their
    labels; unknown codes are kept as they are."""
    out = df.copy(deep=False)
    for c, prefix in _VALUE_LABELS.items():
        if c not in out.columns:
            continue
        s = out[c]
        # one lookup per distinct code (factorised once), not a Python call per row
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        uniq = np.asarray(uniques, dtype=object)
        labels = np.empty(len(uniq), dtype=object)
        for i, v in enumerate(uniq):
            t = label(f"{prefix or ''}{v}", lang) if isinstance(v, str) else v
            labels[i] = t if not isinstance(v, str) or t != f"{prefix or ''}{v}" else v
        vals = s.to_numpy(dtype=object, copy=True)
        # only text cells are codes: factorize makes True, 1 and 1.0 one value, and they must stay as given
        is_text = np.array([isinstance(v, str) for v in uniq], dtype=bool)
        hit = codes >= 0
        hit[hit] = is_text[codes[hit]]
        vals[hit] = labels[codes[hit]]
        out[c] = pd.Series(vals, index=out.index, dtype=object)
    return out


def cleanup_list(cleanup: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """cleanup.xlsx: every candidate in priority order, with the reasons spelled out."""
    c = pd.DataFrame(cleanup.drop(columns=[g for g in ("geometry",) if g in cleanup.columns]))
    reasons = c["reasons"].astype(object).where(c["reasons"].notna(), "")
    texts = {r: reasons_text(r, lang) for r in pd.unique(reasons)}  # few distinct reason sets
    c["reasons_text"] = reasons.map(texts)
    c = spell_out(c, lang)
    return c[[x for x in CLEANUP_COLUMNS if x in c.columns]]


def idle_floor_list(idle: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """idle_floor.xlsx: idle factory floor, ranked, with the selection toward the target."""
    return spell_out(idle[[x for x in IDLE_FLOOR_COLUMNS if x in idle.columns]], lang)


def notice_extra_columns(policy: Any) -> list[str]:
    """The ``[notice] extra_columns`` of a policy (a :class:`parkland.scoring.policy.Policy` or its raw
    dict; ``None`` → []). PolicyError when the table is malformed or names a column that would publish
    figures or scores."""
    if policy is None:
        return []
    raw = policy if isinstance(policy, dict) else getattr(policy, "raw", {}) or {}
    notice = raw.get("notice")
    path = getattr(policy, "path", None)
    if notice is None:
        return []
    if not isinstance(notice, dict) or set(notice) - {"extra_columns"}:
        raise PolicyError("键 notice：应为表，只允许 extra_columns", "key notice: must be a table with only "
                          "extra_columns", file=path, column="notice")
    cols = notice.get("extra_columns", [])
    if not isinstance(cols, list) or not all(isinstance(c, str) and c for c in cols):
        raise PolicyError("键 notice.extra_columns：应为列名列表", "key notice.extra_columns: must be a list of "
                          "column names", file=path, column="notice.extra_columns")
    bad = [c for c in cols if c in NOTICE_FORBIDDEN or c.startswith(NOTICE_FORBIDDEN_PREFIXES)]
    if bad:
        raise PolicyError(f"键 notice.extra_columns：公示名单不能含税收、营收、得分等数据（{', '.join(bad)}）",
                          f"key notice.extra_columns: the public notice cannot carry figures or scores "
                          f"({', '.join(bad)})", file=path, column="notice.extra_columns")
    return [c for c in dict.fromkeys(cols) if c not in NOTICE_COLUMNS]


def notice_list(firms: pd.DataFrame, lang: str = "zh", extra_columns: list[str] | tuple[str, ...] = ()
                ) -> pd.DataFrame:
    """notice.xlsx (公示名单): graded or exempt firms — name, credit code, park, grade (plus a policy's
    ``extra_columns`` that the frame has), nothing else — sorted by park, then grade, then name."""
    extra = [c for c in extra_columns if c in firms.columns and c not in NOTICE_COLUMNS]
    # only the columns the list shows are filtered and sorted (not the whole firm table)
    keep = list(dict.fromkeys([*NOTICE_COLUMNS, *extra, *(["uscc_raw"] if "uscc_raw" in firms else [])]))
    f = firms.loc[firms["status"].isin(["graded", "exempt"]).to_numpy(bool), keep]
    if "uscc_raw" in f:
        f["uscc"] = f["uscc"].where(f["uscc"].notna(), f["uscc_raw"])
    f = f.sort_values(["park", "grade", "name"], kind="stable", na_position="last")
    return spell_out(f[NOTICE_COLUMNS + extra], lang).reset_index(drop=True)


def grades_list(firms_table: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """grades.xlsx: the firms.csv content; code columns spelled out in the chosen language."""
    return spell_out(firms_table, lang)
