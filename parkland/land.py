"""Land diagnosis: idle, vacant, stopped and low-efficiency parcels, each flag with its reason codes and a
Chinese note for the land officer saying what it was based on.

Rules (``as_of`` is the evaluation date; "Y years after d" is the calendar date d + Y years, so a rule
that needs "one year" is met on the anniversary itself):

Legal idle land (闲置土地处置办法, 国土资源部令第53号, 2012) — ``idle``:

* ``IDLE_NOT_STARTED``: agreed_start + ``idle_start_years`` ≤ as_of, and no actual_start, or an
  actual_start later than agreed_start + ``idle_start_years``. idle_years = (min(actual_start, as_of) −
  agreed_start) in years (365.2425 days).
* ``IDLE_STOPPED``: started (actual_start ≤ as_of), developed share < ``idle_developed_share`` (1/3) or
  investment share < ``idle_investment_share`` (25 %), and stopped_since + ``idle_stopped_years`` ≤
  as_of. developed share = developed_m2 / area_m2 where both are known, else developed_share;
  investment share = actual_investment_wan / agreed_investment_wan. idle_years = (as_of − stopped_since).
* ``idle_fee_due`` (20 % of the land price) = idle (one year reached); ``reclaim_warning`` and
  ``IDLE_RECLAIM``: the same date test with ``reclaim_years`` (2) instead of one year.

Vacant — ``vacant``: no linked firm (firm_count = 0) and no building (building_count = 0: ``VACANT``);
or no firm, no building known, and raster evidence of no use (``VACANT_RASTER``): with
``vacant_raster = {name, min_mean | max_mean, min_coverage}``, ``<name>_mean`` ≥ min_mean (e.g. NDVI of
vegetation) or ≤ max_mean, on parcels whose ``<name>_coverage`` ≥ min_coverage.

Stopped — ``stopped``: every firm linked to the parcel (pairs) has stopped: revenue_wan, tax_wan and
electricity_10k_kwh all reported and all 0 (``STOPPED``; a missing figure is unknown, not zero), or
(with ``previous_firms``, matched by uscc) each of revenue_wan and electricity_10k_kwh known in both
years fell by more than ``stopped_drop`` (70 %) (``STOPPED_DROP``).

Low efficiency — ``low_efficiency`` (parcels with at least one linked firm for the money tests; parcels
with at least one building for the control indicators):

* ``LOW_TAX``: tax_per_mu < ``low_tax_per_mu`` (8 万元/亩, the Sichuan 标准地 entry figure);
* ``LOW_REVENUE``: revenue_per_mu < ``low_revenue_per_mu`` (off when None);
* ``LOW_TAX_PARK``: tax_per_mu < ``park_tax_fraction`` (0.5) × the park's Σ tax_wan / Σ area_mu over its
  parcels with firms and a known tax;
* ``LOW_FAR``: far < the 2008 minimum 容积率 of the parcel's industry (control table, see
  :func:`far_min_for`); ``LOW_COVERAGE``: building_coverage < ``coverage_min`` (30 %);
* ``GRADE_D``: grade == "D" (when the column exists);
* ``OVERDUE_COMPLETION``: agreed_completion + ``overdue_completion_years`` (2) ≤ as_of and not completed
  by then: an ``actual_completion`` column, when present, is NaT or later; without it, the parcel must
  show it is unfinished (developed share < 0.99; an investment under budget is no such sign).

A parcel's industry is its landholder's (the firm whose uscc = holder_uscc, or ``holder_firm_row``),
else the strictest (highest minimum FAR) among its linked firms, else its own industry_code.

Huzhou's five kinds (``huzhou_kind``, the first that applies, also added to flag_reasons):
批而未供 (``granted`` column present but empty, no holder, no firm), 供而未用 (granted ≤ as_of, not
started, past the agreed start — else one year after granting —, no firm, no building), 用而未尽
(started and developed share < 1, or built with LOW_FAR/LOW_COVERAGE), 建而未投 (buildings but no
firm, or stopped), 投而未达标 (firms operating, LOW_TAX/LOW_REVENUE/LOW_TAX_PARK/GRADE_D).

Threshold keys (the policy's ``[land]`` table; defaults in :data:`DEFAULTS`; the preset spellings
``idle_after_years``, ``reclaim_after_years``, ``low_tax_park_ratio`` and ``min_building_coverage`` are
accepted as aliases): low_tax_per_mu, low_revenue_per_mu, park_tax_fraction, stopped_drop,
idle_start_years, idle_developed_share, idle_investment_share, idle_stopped_years, reclaim_years,
overdue_completion_years, vacant_raster, industry_edition ("2017" or "2002"), far_min_overrides
({2002 division: minimum}), far_min_add, far_min_add_codes, coverage_min, huzhou (bool), absurd_per_mu (table indicator → 万元/亩;
firms above it are listed ABSURD_VALUE, kept: tax_per_mu 1000, revenue_per_mu and output_per_mu 100000,
value_added_per_mu 30000 by default).
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from parkland import recon
from parkland.errors import PolicyError
from parkland.frames import factorized, positions, take
from parkland.indicators import ABSURD_PER_MU, absurd_values
from parkland.io.values import to_text
from parkland.recon import Loaded
from parkland.report.labels import REASON_LABELS

DAYS_PER_YEAR = 365.2425
#: default thresholds (configurable in the policy's [land] table)
DEFAULTS: dict[str, Any] = {
    "low_tax_per_mu": 8.0,
    "low_revenue_per_mu": None,
    "park_tax_fraction": 0.5,
    "stopped_drop": 0.7,
    "idle_start_years": 1.0,
    "idle_developed_share": 1.0 / 3.0,
    "idle_investment_share": 0.25,
    "idle_stopped_years": 1.0,
    "reclaim_years": 2.0,
    "overdue_completion_years": 2.0,
    # NDVI ≥ 0.4 over at least half the parcel: green (grass, shrubs, crops), not roofs or paving
    "vacant_raster": {"name": "ndvi", "min_mean": 0.4, "min_coverage": 0.5},
    "industry_edition": "2017",
    "far_min_overrides": {},
    "far_min_add": 0.0,
    "far_min_add_codes": None,
    "coverage_min": None,  # None: the control file's 0.30
    "huzhou": True,
    # per-mu values listed as implausible (ABSURD_VALUE, kept), 万元/亩: [land.absurd_per_mu] in a policy
    "absurd_per_mu": dict(ABSURD_PER_MU),
}
#: other spellings of the keys (as in the shipped presets)
ALIASES = {"idle_after_years": "idle_start_years", "reclaim_after_years": "reclaim_years",
           "low_tax_park_ratio": "park_tax_fraction", "min_building_coverage": "coverage_min"}
_NUMBER_KEYS = ("low_tax_per_mu", "low_revenue_per_mu", "park_tax_fraction", "stopped_drop",
                "idle_start_years", "idle_developed_share", "idle_investment_share", "idle_stopped_years",
                "reclaim_years", "overdue_completion_years", "far_min_add", "coverage_min")
#: the order of reason codes in flag_reasons
REASON_ORDER = tuple(REASON_LABELS)
HUZHOU = ("HUZHOU_APPROVED_NOT_SUPPLIED", "HUZHOU_SUPPLIED_NOT_USED", "HUZHOU_USED_NOT_FULL",
          "HUZHOU_BUILT_NOT_OPERATING", "HUZHOU_OPERATING_BELOW_STANDARD")
#: columns :func:`diagnose` adds
OUTPUT_COLUMNS = ("idle", "vacant", "stopped", "low_efficiency", "flag_reasons", "flag_detail", "idle_years",
                  "idle_fee_due", "reclaim_warning", "huzhou_kind", "control_code_2002", "control_source",
                  "far_min", "coverage_min", "developed_share_used", "investment_share")
#: the parcel columns the per-parcel rules read (besides the rasters' ``<name>_mean`` / ``<name>_coverage``):
#: the dask engine sends only these to its workers, so a rule that reads another column adds it here
DIAGNOSIS_INPUTS = ("source_row", "parcel_id", "area_m2", "area_mu", "agreed_start", "actual_start", "stopped_since",
                    "agreed_completion", "actual_completion", "granted", "developed_m2", "developed_share",
                    "agreed_investment_wan", "actual_investment_wan", "firm_count", "building_count",
                    "building_coverage", "far", "tax_per_mu", "revenue_per_mu", "tax_wan", "revenue_wan", "park",
                    "grade", "holder_uscc", "holder_name", "holder_firm_row", "industry_code")


# --------------------------------------------------------------------------------------------------
# control indicators and the GB/T 4754 crosswalk
# --------------------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def control_indicators() -> dict[str, Any]:
    """The 2008 control table (``parkland/data/control_indicators.toml``): ``far_min`` {2002 division:
    minimum 容积率}, ``coverage_min`` (0.30), ``high_storey_m`` (8), ``source``."""
    text = resources.files("parkland.data").joinpath("control_indicators.toml").read_text("utf-8")
    return tomllib.loads(text)


@lru_cache(maxsize=1)
def crosswalk() -> pd.DataFrame:
    """GB/T 4754-2017 division (or group) → 2002 division (``parkland/data/gbt4754_2017_to_2002.csv``):
    columns code_2017, code_2002 (None: no 2002 manufacturing division), names, note, source."""
    with resources.files("parkland.data").joinpath("gbt4754_2017_to_2002.csv").open("r", encoding="utf-8") as f:
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
    df["code_2002"] = df["code_2002"].where(df["code_2002"] != "", None)
    return df


def _digits(codes: pd.Series) -> pd.Series:
    """'C3811' / 'c 38-11' / 3811.0 → '3811'; None when there are no digits."""
    t = to_text(codes).astype("string").str.normalize("NFKC").str.upper()
    t = t.str.replace(r"^[A-T]", "", regex=True).str.replace(r"[^0-9]", "", regex=True).astype(object)
    return t.where(t.notna() & (t != ""), None)


def to_gbt2002(codes: pd.Series, edition: str = "2017") -> pd.Series:
    """2002 two-digit division of industry codes (GB/T 4754; a leading section letter is ignored).

    ``edition`` "2017" (also right for 2011: the manufacturing divisions are the same) maps through the
    crosswalk, the longest matching prefix first (a 3-digit group such as 292 plastics → 2002 30 wins
    over its division 29 → 29); "2002" takes the first two digits. None when no 2002 manufacturing
    division corresponds (e.g. 2017 43 repair) or the code is missing.
    """
    if len(codes) and _distinct_safe(codes):  # each distinct code converted once (the rules are element-wise)
        k, uniq = pd.factorize(codes)
        # (the result's name depends on the dtype only: a missing code stands for the codes when all are missing)
        u = _to_gbt2002(pd.Series(uniq, dtype=codes.dtype, name=codes.name) if len(uniq) else codes.iloc[:1], edition)
        out = np.append(u.to_numpy(dtype=object)[:len(uniq)], None)[k]  # k = -1 (missing): None
        return pd.Series(out, index=codes.index, dtype=object, name=u.name)
    return _to_gbt2002(codes, edition)


def _distinct_safe(codes: pd.Series) -> bool:
    """Whether values that pandas counts as one distinct value always give one text (not so for object
    columns mixing True and 1, or 1 and 1.0 with text of another kind)."""
    dt = codes.dtype
    if isinstance(dt, pd.StringDtype):
        return True
    if pd.api.types.is_object_dtype(dt):
        return pd.api.types.infer_dtype(codes, skipna=True) in ("string", "empty")
    return pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_bool_dtype(dt) and isinstance(dt, np.dtype)


def _to_gbt2002(codes: pd.Series, edition: str) -> pd.Series:
    d = _digits(codes)
    if str(edition) == "2002":
        out = d.str[:2] if len(d) else d
        return out.astype(object).where(d.notna(), None)
    cw = crosswalk()
    table = dict(zip(cw["code_2017"], cw["code_2002"]))
    out = pd.Series(None, index=codes.index, dtype=object)
    done = pd.Series(False, index=codes.index)
    for width in sorted({len(k) for k in table}, reverse=True):
        if not len(d):
            break
        pre = d.str[:width].where(d.str.len() >= width)
        hit = pre.isin(list(table)) & ~done
        out[hit] = pre[hit].map(table)
        done |= hit
    return out.where(out.notna(), None)


def far_table(thresholds: dict | None = None) -> dict[str, float]:
    """The minimum-FAR table by 2002 division after the policy: (override or table value) + add."""
    t = _thresholds(thresholds)
    base = {str(k): float(v) for k, v in control_indicators()["far_min"].items()}
    for k, v in (t["far_min_overrides"] or {}).items():
        base[str(k)] = float(v)
    add = float(t["far_min_add"] or 0.0)
    codes = t["far_min_add_codes"]
    if add:
        for k in base:
            if codes is None or k in {str(c) for c in codes}:
                base[k] = base[k] + add
    return base


def far_min_for(codes: pd.Series, thresholds: dict | None = None, edition: str | None = None) -> pd.Series:
    """Minimum 容积率 of each industry code (NaN when no control value applies)."""
    t = _thresholds(thresholds)
    c02 = to_gbt2002(codes, edition or t["industry_edition"])
    return c02.map(far_table(t)).astype("float64")


def coverage_min(thresholds: dict | None = None) -> float:
    """The 建筑系数 floor: the policy's coverage_min, else the control file's (0.30)."""
    t = _thresholds(thresholds)
    v = t["coverage_min"]
    return float(control_indicators()["coverage_min"] if v is None else v)


# --------------------------------------------------------------------------------------------------
# thresholds
# --------------------------------------------------------------------------------------------------
def _thresholds(thresholds: dict | None) -> dict[str, Any]:
    """Defaults updated with the policy's values (aliases accepted; a nested ``control`` table merged)."""
    t = copy.deepcopy(DEFAULTS)
    given = dict(thresholds or {})
    if isinstance(given.get("control"), dict):
        given = {**given.pop("control"), **given}
    for k, v in given.items():
        k = ALIASES.get(k, k)
        if k == "absurd_per_mu" and isinstance(v, dict):
            t[k] = {**DEFAULTS[k], **v}
        elif k == "vacant_raster" and isinstance(v, dict):
            t[k] = {**(DEFAULTS["vacant_raster"] if v.get("name", "ndvi") == "ndvi" else {}), **v}
        else:
            t[k] = v
    for k in _NUMBER_KEYS:
        v = t[k]
        if v is None and k in ("low_revenue_per_mu", "coverage_min"):
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
            raise PolicyError(f"[land] {k} 应为非负数，当前为 {v!r}", f"[land] {k} must be a non-negative number, not {v!r}",
                              column=k)
    absurd = t["absurd_per_mu"]
    if not isinstance(absurd, dict) or any(
            k not in ABSURD_PER_MU or isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0
            for k, v in absurd.items()):
        raise PolicyError(f"[land] absurd_per_mu 应为表，键为 {'、'.join(ABSURD_PER_MU)}，值为正数（万元/亩）",
                          f"[land] absurd_per_mu must be a table of {', '.join(ABSURD_PER_MU)} → positive "
                          "numbers (万元/亩)", column="absurd_per_mu")
    if t["vacant_raster"] is not None and not isinstance(t["vacant_raster"], dict):
        raise PolicyError("[land] vacant_raster 应为表，如 {name = \"ndvi\", min_mean = 0.4}",
                          "[land] vacant_raster must be a table like {name = \"ndvi\", min_mean = 0.4}",
                          column="vacant_raster")
    return t


# --------------------------------------------------------------------------------------------------
# small vectorised helpers
# --------------------------------------------------------------------------------------------------
def _col(df: pd.DataFrame, name: str, kind: str = "float") -> pd.Series:
    if kind == "date":
        if name in df.columns:
            return pd.to_datetime(df[name], errors="coerce").astype("datetime64[ns]")
        return pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    if name in df.columns:
        return pd.to_numeric(df[name], errors="coerce").astype("float64")
    return pd.Series(np.nan, index=df.index, dtype="float64")


def _plus_years(dates: pd.Series, years: float) -> pd.Series:
    """Calendar date + years (whole months: 1.5 years = 18 months); NaT stays NaT."""
    months = round(float(years) * 12)
    return dates + pd.DateOffset(months=months)


# The rule texts are built only on the rows a rule flags (see :class:`_Flagged`), as Arrow string arrays:
# each distinct value is formatted once (pandas' own str of it), and a text's pieces are joined in one pass.
_LS = pa.large_string()


def _words(values: pd.Series | np.ndarray, fmt: Callable[[pd.Series], pd.Series], missing: str) -> pa.Array:
    """``fmt`` (a Series of the distinct values → their texts) applied to each value; NaN/NaT/None →
    ``missing``."""
    codes, uniq = pd.factorize(values)
    words = np.append(np.asarray(fmt(pd.Series(uniq)), dtype=object), missing)
    return pa.array(words, _LS).take(pa.array(np.where(codes < 0, len(uniq), codes)))


def _ds(dates: pd.Series) -> pa.Array:
    """Dates as YYYY-MM-DD, "无" when missing."""
    return _words(dates, lambda u: u.dt.strftime("%Y-%m-%d").astype("str"), "无")


def _num(x: pd.Series | np.ndarray, nd: int = 2) -> pa.Array:
    """Numbers rounded to ``nd`` decimals as Python writes them (pandas' str), "未知" when missing."""
    r = np.round(np.asarray(x, dtype="float64"), nd) + 0.0  # + 0.0 turns -0.0 into 0.0
    return _words(r, lambda u: u.astype("str"), "未知")


def _pct(x: pd.Series | np.ndarray, nd: int = 2) -> pa.Array:
    """Shares as percentages (0.5 → "50.0%"), "未知" when missing."""
    r = np.round(np.asarray(x, dtype="float64") * 100.0, nd) + 0.0
    return _words(r, lambda u: u.astype("str") + "%", "未知")


def _str(x: pd.Series) -> pa.Array:
    """Values without missing ones (counts, codes) as pandas' str of them."""
    return _words(x, lambda u: u.astype("str"), "")


def _cat(*parts: str | pa.Array) -> pa.Array:
    """Element-wise concatenation of texts (arrays of one length) and constants."""
    return pc.binary_join_element_wise(*(pa.scalar(p, _LS) if isinstance(p, str) else p for p in parts),
                                       pa.scalar("", _LS))


def _detail_column(mask: np.ndarray, text: str | list[str | pa.Array]) -> pa.Array:
    """A rule's texts as a column of the whole table: the text on the rows of ``mask``, null elsewhere. The
    pieces are joined into one array of the flagged rows' texts, whose bytes the column shares (its offsets
    repeat an offset over the rows between two flagged ones)."""
    if not isinstance(text, str) and all(isinstance(p, str) for p in text):
        text = "".join(text)
    if isinstance(text, str):
        return pc.if_else(pa.array(mask), pa.scalar(text, _LS), pa.scalar(None, _LS))
    flagged = _cat(*text)
    if isinstance(flagged, pa.ChunkedArray):
        flagged = flagged.combine_chunks()
    before = np.concatenate([[0], np.cumsum(mask)])  # flagged rows before row i (the text index of row i)
    assert len(flagged) == before[-1] and not flagged.null_count, "one text per flagged row"
    _, off_buf, data = flagged.buffers()
    off = np.frombuffer(off_buf, dtype=np.int64)[flagged.offset:flagged.offset + len(flagged) + 1]
    bitmap = pa.array(mask).buffers()[1]
    return pa.Array.from_buffers(_LS, len(mask), [bitmap, pa.py_buffer(off[before]), data])


def _join_columns(columns: list[pa.Array], flagged: np.ndarray, sep: str) -> Any:
    """Row by row, the non-null texts of ``columns`` joined by ``sep``, "" on the rows where none is
    (``flagged`` False): pandas' ``str`` array (what an object array of strings becomes in a column), an
    object array on an empty table."""
    if not len(flagged):
        return np.empty(0, dtype=object)
    none = pc.if_else(pa.array(flagged), pa.scalar(None, _LS), pa.scalar("", _LS))  # "" once all others are null
    joined = pc.binary_join_element_wise(*columns, none, pa.scalar(sep, _LS), null_handling="skip")
    return pd.array(joined, dtype="str")


def _fmt(v: float) -> str:
    return f"{v:g}"


# --------------------------------------------------------------------------------------------------
# the parcel's industry
# --------------------------------------------------------------------------------------------------
def parcel_industry(parcels: pd.DataFrame, firms: pd.DataFrame | None, pairs: pd.DataFrame | None,
                    thresholds: dict | None = None) -> pd.DataFrame:
    """Industry that sets each parcel's control indicator: ``control_code_2002``, ``control_source``
    (holder / firm / parcel / ""), ``far_min`` (NaN when none applies).

    Order: the landholder's code (firm with uscc = holder_uscc, or the parcel's ``holder_firm_row``);
    else the linked firm whose code has the highest minimum FAR; else the parcel's industry_code.
    """
    t = _thresholds(thresholds)
    return _parcel_industry(parcels, firm_industry(firms, t), pairs, t)


def firm_industry(firms: pd.DataFrame | None, thresholds: dict | None = None) -> dict[str, pd.DataFrame] | None:
    """The firm side of :func:`parcel_industry` (firm-sized look-ups, computed once for all parcel
    partitions): 2002 division and minimum FAR by firm row (``by_row``, firms with a code), by credit
    code (``by_uscc``) and for every firm row (``fr``). None without firms or an industry_code column."""
    t = _thresholds(thresholds)
    if firms is None or not len(firms) or "industry_code" not in firms.columns:
        return None
    c02 = to_gbt2002(firms["industry_code"], t["industry_edition"])
    k, divisions = pd.factorize(c02)  # each division looked up once
    far = pd.Series(np.append(pd.Series(divisions, dtype=object).map(far_table(t)).to_numpy("float64"), np.nan)[k],
                    index=firms.index)
    frow = pd.to_numeric(firms["source_row"], errors="coerce") if "source_row" in firms else pd.Series(
        np.arange(1, len(firms) + 1), index=firms.index)
    has_code = c02.notna()
    by_row = pd.DataFrame({"row": frow.to_numpy(), "c": c02.to_numpy(), "far": far.to_numpy()}
                          )[has_code.to_numpy()].drop_duplicates("row").set_index("row")
    by_uscc = None
    if "uscc" in firms.columns:  # only the three columns it needs (not a copy of the firm table)
        by_uscc = pd.DataFrame({"uscc": firms["uscc"], "_c02": c02, "_far": far}, index=firms.index)
        by_uscc = by_uscc[has_code & firms["uscc"].notna()].drop_duplicates("uscc").set_index("uscc")
    fr = pd.DataFrame({"firm_row": frow.to_numpy(), "c": c02.to_numpy(),
                       "far": far.to_numpy()}).drop_duplicates("firm_row")
    return {"by_row": by_row, "by_uscc": by_uscc, "fr": fr}


def _parcel_industry(parcels: pd.DataFrame, fi: dict[str, pd.DataFrame] | None, pairs: pd.DataFrame | None,
                     t: dict[str, Any]) -> pd.DataFrame:
    """The parcel side of :func:`parcel_industry` on any slice of the parcels (with the pairs of its parcels)."""
    idx = parcels.index
    n = len(parcels)
    far = np.full(n, np.nan)
    code = np.full(n, None, dtype=object)
    src = np.full(n, "", dtype=object)
    edition = t["industry_edition"]
    if fi is not None:
        # landholder (each look-up is what Series.map does: the key's position in the table's index)
        holder_at = np.full(n, -1, dtype=np.int64)
        by_row = fi["by_row"]
        if "holder_firm_row" in parcels.columns:
            holder_at = by_row.index.get_indexer(pd.to_numeric(parcels["holder_firm_row"], errors="coerce"))
        holder_code = take(by_row["c"].to_numpy(object), holder_at, None)
        holder_far = take(by_row["far"].to_numpy("float64"), holder_at, np.nan)
        if "holder_uscc" in parcels.columns and fi["by_uscc"] is not None:
            by_uscc = fi["by_uscc"]
            miss = pd.isna(holder_code)
            at = positions(parcels["holder_uscc"].astype(object), by_uscc.index)
            holder_code = np.where(miss, take(by_uscc["_c02"].to_numpy(object), at, None), holder_code)
            holder_far = np.where(miss, take(by_uscc["_far"].to_numpy("float64"), at, np.nan), holder_far)
        ok = ~pd.isna(holder_code)
        code[ok], far[ok], src[ok] = holder_code[ok], holder_far[ok], "holder"
        # strictest linked firm
        if pairs is not None and len(pairs) and "source_row" in parcels.columns:
            fr = fi["fr"]
            at = pd.Index(fr["firm_row"]).get_indexer(pairs["firm_row"])  # the inner join on firm_row
            c = take(fr["c"].to_numpy(object), at, None)
            keep = (at >= 0) & ~pd.isna(c)
            prow, c = pairs["parcel_row"].to_numpy()[keep], c[keep]
            f = fr["far"].to_numpy("float64")[at[keep]]
            # parcel_row ascending, far descending, code ascending (missing last), stable: a parcel's first
            # pair names its strictest firm
            ccode = pd.factorize(c, sort=True)[0]
            o = np.lexsort((ccode, np.where(np.isnan(f), np.inf, -f), prow))
            first = o[~pd.Index(prow[o]).duplicated()]
            best = pd.Index(prow[first]).get_indexer(pd.to_numeric(parcels["source_row"], errors="coerce"))
            fc, ff = take(c[first], best, None), take(f[first], best, np.nan)
            use = pd.isna(code) & ~pd.isna(fc)
            code[use], far[use], src[use] = fc[use], ff[use], "firm"
    if "industry_code" in parcels.columns:
        own = to_gbt2002(parcels["industry_code"], edition)
        use = (pd.isna(code) & own.notna().to_numpy())
        code[use] = own.to_numpy(object)[use]
        far[use] = own[use].map(far_table(t)).astype("float64").to_numpy()
        src[use] = "parcel"
    code[pd.isna(code)] = None
    return pd.DataFrame({"control_code_2002": pd.Series(code, index=idx, dtype=object),
                         "control_source": pd.Series(src, index=idx, dtype=object),
                         "far_min": pd.Series(far, index=idx, dtype="float64")}, index=idx)


# --------------------------------------------------------------------------------------------------
# stopped firms
# --------------------------------------------------------------------------------------------------
def firm_stopped(firms: pd.DataFrame, previous_firms: pd.DataFrame | None = None,
                 stopped_drop: float = 0.7) -> pd.DataFrame:
    """Per firm: ``zero`` (revenue, tax and electricity all reported as 0), ``dropped`` (each of revenue
    and electricity known in both years fell by more than ``stopped_drop``; last year's figure > 0;
    matched on uscc, first row of a repeated code), ``drop`` (the smallest of those falls, NaN when
    none is known)."""
    rev, tax, ele = (_col(firms, c) for c in ("revenue_wan", "tax_wan", "electricity_10k_kwh"))
    zero = (rev == 0) & (tax == 0) & (ele == 0)
    dropped = pd.Series(False, index=firms.index)
    drop = pd.Series(np.nan, index=firms.index)
    if previous_firms is not None and len(previous_firms) and "uscc" in previous_firms and "uscc" in firms:
        prev = previous_firms[previous_firms["uscc"].notna()].drop_duplicates("uscc").set_index("uscc")
        at = prev.index.get_indexer(firms["uscc"])  # what Series.map does, once for both figures (-1: none)
        falls = []
        for c in ("revenue_wan", "electricity_10k_kwh"):
            if c not in prev.columns:
                continue
            figure = pd.to_numeric(prev[c], errors="coerce").astype("float64").to_numpy()
            last = pd.Series(np.where(at >= 0, figure[at], np.nan), index=firms.index, name=firms["uscc"].name)
            now = _col(firms, c)
            with np.errstate(invalid="ignore", divide="ignore"):
                fall = (1.0 - now / last).where((last > 0) & now.notna())
            falls.append(fall)
        if falls:
            fdf = pd.concat(falls, axis=1)
            known = fdf.notna().any(axis=1)
            beyond = (fdf > stopped_drop) | fdf.isna()
            dropped = known & beyond.all(axis=1)
            drop = fdf.min(axis=1)
    return pd.DataFrame({"zero": zero.astype(bool), "dropped": dropped.astype(bool) & ~zero,
                         "drop": drop}, index=firms.index)


# --------------------------------------------------------------------------------------------------
# diagnose
# --------------------------------------------------------------------------------------------------
class _Flagged(dict):
    """Rule texts built only on the parcels the rule flags: at a million parcels, twenty full-length text
    columns cost gigabytes, and formatting numbers nobody reads most of the diagnosis time.

    ``reasons[code]`` is set first (and not changed after); ``detail[code] = lambda s: [...]`` is then called
    with ``s`` taking the flagged rows of a parcel column (``s(tax_mu)``) and keeps the text's pieces: constants
    and Arrow arrays with one text per flagged row, in row order (joined once, by :func:`_detail_column`); a
    plain ``str`` is the same text on every flagged row."""

    def __init__(self, reasons: dict[str, pd.Series]) -> None:
        super().__init__()
        self.reasons = reasons

    def __setitem__(self, code: str, text: Any) -> None:
        if callable(text):
            pos = np.flatnonzero(self.reasons[code].fillna(False).astype(bool).to_numpy())
            text = text(lambda x: x.iloc[pos]) if len(pos) else []
        super().__setitem__(code, text)


@dataclass
class DiagnosisContext:
    """What the per-parcel rules need from the whole population, computed once (small: firm-sized look-ups
    and one figure per park): the thresholds, the evaluation date, each firm's stopped status, the firms'
    industries, the ABSURD_VALUE records, and the park averages of tax per mu (:func:`park_averages`)."""

    t: dict[str, Any]
    as_of: pd.Timestamp
    stopped: pd.DataFrame | None = None  # firm_row, zero, dropped, drop (one row per firm row)
    industry: dict[str, pd.DataFrame] | None = None  # firm_industry()
    absurd: pd.DataFrame | None = None  # reconciliation records
    park_avg: pd.Series | None = None  # park → Σ tax_wan / Σ area_mu


def diagnosis_context(firms: pd.DataFrame | None, *, as_of: Any, thresholds: dict | None = None,
                      previous_firms: pd.DataFrame | None = None) -> DiagnosisContext:
    """The firm-side aggregates of :func:`diagnose` (the park averages are added by :func:`park_averages`)."""
    t = _thresholds(thresholds)
    ctx = DiagnosisContext(t=t, as_of=pd.Timestamp(as_of).normalize())
    if firms is not None and len(firms):  # implausible per-mu figures: listed, kept (see indicators.absurd_values)
        ctx.absurd = absurd_values(firms, t["absurd_per_mu"])
        fs = firm_stopped(firms, previous_firms, t["stopped_drop"])
        frow = (pd.to_numeric(firms["source_row"], errors="coerce") if "source_row" in firms
                else pd.Series(np.arange(1, len(firms) + 1), index=firms.index))
        fs["firm_row"] = frow.to_numpy()
        ctx.stopped = fs.drop_duplicates("firm_row")
    ctx.industry = firm_industry(firms, t)
    return ctx


def _firms_on(out: pd.DataFrame, pairs: pd.DataFrame | None, ctx: DiagnosisContext) -> dict[str, pd.Series]:
    """Per parcel: linked firms (pairs), how many halted, with all-zero figures, any dropped, the worst drop;
    and ``firm_n`` (firm_count, else the linked count)."""
    idx = out.index
    n = len(out)
    linked, halted_n, zero_n = (np.zeros(n, dtype="int64") for _ in range(3))
    drop_any, worst_drop = np.zeros(n, dtype=bool), np.full(n, np.nan)
    if ctx.stopped is not None and pairs is not None and len(pairs):
        p = pairs[["firm_row", "parcel_row"]].drop_duplicates()
        st = ctx.stopped  # one row per firm_row: the pairs' firms looked up by position (an inner join)
        at = pd.Index(st["firm_row"]).get_indexer(p["firm_row"])
        hit = at >= 0
        at = at[hit]
        zero, dropped = st["zero"].to_numpy(bool)[at], st["dropped"].to_numpy(bool)[at]
        drop = st["drop"].to_numpy("float64")[at]
        codes, parcel_rows = pd.factorize(p["parcel_row"].to_numpy()[hit])  # missing parcel_row: −1, no group
        ok = codes >= 0
        codes, zero, dropped, drop = codes[ok], zero[ok], dropped[ok], drop[ok]
        g = len(parcel_rows)
        pos = pd.Index(parcel_rows).get_indexer(_rows(out))
        there = pos >= 0
        pos = pos[there]
        linked[there] = np.bincount(codes, minlength=g)[pos]
        halted_n[there] = np.bincount(codes[zero | dropped], minlength=g)[pos]
        zero_n[there] = np.bincount(codes[zero], minlength=g)[pos]
        drop_any[there] = (np.bincount(codes[dropped], minlength=g) > 0)[pos]
        worst = pd.Series(drop[dropped]).groupby(codes[dropped]).min()
        wg = np.full(g, np.nan)
        wg[worst.index.to_numpy()] = worst.to_numpy()
        worst_drop[there] = wg[pos]
    r = {"linked": pd.Series(linked, index=idx), "halted_n": pd.Series(halted_n, index=idx),
         "zero_n": pd.Series(zero_n, index=idx), "drop_any": pd.Series(drop_any, index=idx),
         "worst_drop": pd.Series(worst_drop, index=idx)}
    if "firm_count" in out.columns:
        firm_n = _col(out, "firm_count").fillna(0)
        r["firm_n"] = firm_n.where(firm_n > 0, r["linked"].astype("float64"))
    else:
        r["firm_n"] = r["linked"].astype("float64")
    return r


def park_tax_sums(parcels: pd.DataFrame, pairs: pd.DataFrame | None, ctx: DiagnosisContext) -> pd.DataFrame | None:
    """Per park, over this slice's parcels with a firm, a known tax and an area: Σ tax_wan (``tax``) and
    Σ area_mu (``mu``); None without a park column. Partial sums of slices add up (:func:`park_averages`)."""
    if "park" not in parcels.columns:
        return None
    has_firm = ~(_firms_on(parcels, pairs, ctx)["firm_n"] <= 0)
    tax_wan, area_mu = _col(parcels, "tax_wan"), _col(parcels, "area_mu")
    codes, parks = factorized(parcels["park"], sort=True)  # in the order groupby sorts the parks
    base = (has_firm & tax_wan.notna() & (area_mu > 0)).to_numpy() & (codes >= 0)
    sums = pd.DataFrame({"tax": tax_wan.to_numpy()[base], "mu": area_mu.to_numpy()[base]}).groupby(codes[base]).sum()
    sums.index = pd.Index(parks[sums.index.to_numpy()], dtype=object, name="park")
    return sums


def park_averages(sums: list[pd.DataFrame | None]) -> pd.Series | None:
    """Σ tax / Σ mu per park from the slices' :func:`park_tax_sums` (None without a park column)."""
    sums = [s for s in sums if s is not None]
    if not sums:
        return None
    total = pd.concat(sums).groupby(level=0).sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        return (total["tax"] / total["mu"]).where(total["mu"] > 0)


def diagnose(
    parcels: pd.DataFrame,
    firms: pd.DataFrame | None,
    pairs: pd.DataFrame | None,
    *,
    as_of: Any,
    thresholds: dict | None = None,
    previous_firms: pd.DataFrame | None = None,
    raster_stats: pd.DataFrame | None = None,
) -> Loaded:
    """Flag each parcel idle / vacant / stopped / low-efficiency (rules in the module docstring).

    ``parcels``: after linking and indicators (area_m2, area_mu, park, firm_count, tax_wan, tax_per_mu,
    revenue_per_mu, the idle-rule dates and figures; building_coverage, far, building_count from
    :func:`parkland.geo.buildings.building_metrics`; grade when graded). ``firms``/``pairs``: the link
    stage's frames. ``raster_stats``: :func:`parkland.geo.zonal.zonal_stats` output on the parcels'
    index (its columns are added to the frame). Returns ``Loaded`` with a copy of the parcels plus
    :data:`OUTPUT_COLUMNS`; ``meta`` holds the thresholds used and counts.

    Composed of :func:`diagnosis_context` (firm-side aggregates), :func:`park_tax_sums` /
    :func:`park_averages` (the park averages) and :func:`diagnose_parcels` (the per-parcel rules, which
    can run on any slice of the parcels with the pairs of its parcels); :func:`diagnosis_result` puts
    the slices together.
    """
    ctx = diagnosis_context(firms, as_of=as_of, thresholds=thresholds, previous_firms=previous_firms)
    ctx.park_avg = park_averages([park_tax_sums(parcels, pairs, ctx)])
    return diagnosis_result(ctx, [diagnose_parcels(parcels, pairs, ctx, raster_stats=raster_stats)])


def diagnosis_result(ctx: DiagnosisContext, parts: list[Loaded], base: pd.DataFrame | None = None) -> Loaded:
    """Slices of :func:`diagnose_parcels` (in parcel order) → the ``Loaded`` of :func:`diagnose`. With
    ``base`` (the parcels), the slices may carry only the columns the diagnosis adds or rewrites; they are
    set on a copy of ``base``. A column whose dtype differs between slices (e.g. all-None object in one,
    strings in another) is re-inferred from its values, as the whole-table diagnosis infers it."""
    frames = [p.frame for p in parts]
    if len(frames) == 1:
        out = frames[0]
    else:
        out = pd.concat(frames)
        for c in out.columns:
            if len({str(f[c].dtype) for f in frames}) > 1:
                out[c] = out[c].to_numpy(dtype=object)
    if base is not None:
        new = out.set_axis(base.index)
        out = base.copy()
        for c in new.columns:
            out[c] = new[c]
    t = ctx.t
    counts: dict[str, Any] = {k: sum(p.meta["counts"][k] for p in parts)
                              for k in ("parcels", "idle", "vacant", "stopped", "low_efficiency", "reclaim_warning")}
    counts["reasons"] = {c: sum(p.meta["counts"]["reasons"].get(c, 0) for p in parts)
                         for c in REASON_ORDER if any(c in p.meta["counts"]["reasons"] for p in parts)}
    meta = {"as_of": ctx.as_of.strftime("%Y-%m-%d"), "thresholds": t, "far_min_table": far_table(t),
            "counts": counts}
    return Loaded(out, recon.concat([ctx.absurd, *(p.recon for p in parts)]), meta)


def diagnose_parcels(parcels: pd.DataFrame, pairs: pd.DataFrame | None, ctx: DiagnosisContext, *,
                     raster_stats: pd.DataFrame | None = None) -> Loaded:
    """The per-parcel rules of :func:`diagnose` on ``parcels`` (any slice, with ``pairs`` holding at least
    the pairs of its parcels) given the whole population's aggregates ``ctx``."""
    t, as_of = ctx.t, ctx.as_of
    out = parcels.copy(deep=False)  # copy-on-write: the columns set below leave the caller's frame as it is
    if raster_stats is not None and len(raster_stats.columns):
        rs = raster_stats.reindex(out.index)
        for c in rs.columns:
            out[c] = rs[c].to_numpy()
    idx = out.index
    n = len(out)
    reasons: dict[str, pd.Series] = {}
    detail: dict[str, pd.Series] = _Flagged(reasons)
    recs: list[pd.DataFrame] = []

    area_m2 = _col(out, "area_m2")
    area_mu = _col(out, "area_mu")
    agreed, actual = _col(out, "agreed_start", "date"), _col(out, "actual_start", "date")
    stopped_since = _col(out, "stopped_since", "date")
    agreed_done = _col(out, "agreed_completion", "date")
    granted = _col(out, "granted", "date")
    with np.errstate(invalid="ignore", divide="ignore"):
        dev = (_col(out, "developed_m2") / area_m2).where(area_m2 > 0)
        dev = dev.where(dev.notna(), _col(out, "developed_share"))
        inv_agreed = _col(out, "agreed_investment_wan")
        inv = (_col(out, "actual_investment_wan") / inv_agreed).where(inv_agreed > 0)
    # certificate / design areas and measured polygons differ by rounding: list only > 1 % over
    over = dev > 1.01
    if over.any():
        sel = over.to_numpy()
        recs.append(recon.records("parcels", "DEVELOPED_OVER_AREA", "已开发面积（比例）超过宗地面积，按原值使用",
                                  "developed area (share) exceeds the parcel: kept as given", "kept",
                                  source_row=_rows(out)[sel], key=_keys(out)[sel],
                                  column="developed_m2" if "developed_m2" in out else "developed_share"))

    # ---- legal idle land -----------------------------------------------------------------------
    y_start, y_stop, y_rec = t["idle_start_years"], t["idle_stopped_years"], t["reclaim_years"]
    deadline = _plus_years(agreed, y_start)
    not_started_now = actual.isna() | (actual > as_of)
    late = actual.notna() & (actual > deadline)
    idle_ns = agreed.notna() & (deadline <= as_of) & (not_started_now | late)
    ns_end = actual.where(actual.notna() & (actual <= as_of), as_of)
    started = actual.notna() & (actual <= as_of)
    under = (dev < t["idle_developed_share"]) | (inv < t["idle_investment_share"])
    idle_st = started & under & stopped_since.notna() & (_plus_years(stopped_since, y_stop) <= as_of)
    years_ns = ((ns_end - agreed).dt.days / DAYS_PER_YEAR).where(idle_ns)
    years_st = ((as_of - stopped_since).dt.days / DAYS_PER_YEAR).where(idle_st)
    idle = (idle_ns | idle_st).fillna(False).astype(bool)
    idle_years = pd.concat([years_ns, years_st], axis=1).max(axis=1).where(idle)
    reclaim = (idle_ns & (_plus_years(agreed, y_rec) <= ns_end)) | (
        idle_st & (_plus_years(stopped_since, y_rec) <= as_of))
    reclaim = reclaim.fillna(False).astype(bool)
    fee_note = "；应缴土地闲置费（土地出让或划拨价款的20%）"
    reasons["IDLE_NOT_STARTED"] = idle_ns
    detail["IDLE_NOT_STARTED"] = lambda s: [
        "约定开工日期", _ds(s(agreed)), "，实际开工日期", _ds(s(actual)), "，至评价日"
        + as_of.strftime("%Y-%m-%d") + "已超过约定开工日期满" + _fmt(y_start) + "年（", _ds(s(deadline)),
        "）未按期动工；闲置", _num(s(years_ns)), "年（自约定开工日期起算）" + fee_note]
    reasons["IDLE_STOPPED"] = idle_st
    detail["IDLE_STOPPED"] = lambda s: [
        "已于", _ds(s(actual)), "开工，已开发面积占比", _pct(s(dev)), "（标准"
        + _fmt(round(t["idle_developed_share"] * 100, 1)) + "%）、已投资占比", _pct(s(inv)), "（标准"
        + _fmt(round(t["idle_investment_share"] * 100, 1)) + "%），自", _ds(s(stopped_since)), "停工至"
        + as_of.strftime("%Y-%m-%d") + "满" + _fmt(y_stop) + "年；闲置", _num(s(years_st)),
        "年（自停工日期起算）" + fee_note]
    reasons["IDLE_RECLAIM"] = reclaim
    detail["IDLE_RECLAIM"] = f"闲置满{_fmt(y_rec)}年，可依法无偿收回国有建设用地使用权"

    # ---- firms and buildings on the parcel --------------------------------------------------------
    on = _firms_on(out, pairs, ctx)
    linked, halted_n, zero_n, drop_any, worst_drop, firm_n = (
        on[k] for k in ("linked", "halted_n", "zero_n", "drop_any", "worst_drop", "firm_n"))
    no_firm = firm_n <= 0
    has_bld_col = "building_count" in out.columns
    bld = _col(out, "building_count")
    no_building = bld == 0
    built = bld > 0

    # ---- stopped -------------------------------------------------------------------------------------
    stopped = (linked > 0) & (halted_n == linked)
    reasons["STOPPED"] = stopped & (zero_n > 0)
    detail["STOPPED"] = lambda s: ["关联企业", _str(s(linked)), "家均已停产，其中营业收入、税收、用电量均为零的",
                                   _str(s(zero_n)), "家"]
    reasons["STOPPED_DROP"] = stopped & drop_any
    detail["STOPPED_DROP"] = lambda s: ["关联企业营业收入、用电量较上年降幅超过" + _fmt(t["stopped_drop"] * 100)
                                        + "%（最小降幅", _pct(s(worst_drop)), "）"]

    # ---- vacant ---------------------------------------------------------------------------------------
    reasons["VACANT"] = no_firm & no_building
    detail["VACANT"] = "无入驻企业，宗地内无建筑物"
    vr = t["vacant_raster"]
    vac_r = pd.Series(False, index=idx)
    raster_text = None
    if vr:
        name = vr.get("name", "ndvi")
        mean_c, cov_c = f"{name}_mean", f"{name}_coverage"
        if mean_c in out.columns:
            mean = _col(out, mean_c)
            cond = pd.Series(True, index=idx)
            rule = []
            if vr.get("min_mean") is not None:
                cond &= mean >= float(vr["min_mean"])
                rule.append(f"≥{_fmt(float(vr['min_mean']))}")
            if vr.get("max_mean") is not None:
                cond &= mean <= float(vr["max_mean"])
                rule.append(f"≤{_fmt(float(vr['max_mean']))}")
            cov = _col(out, cov_c)
            if cov_c in out.columns and vr.get("min_coverage") is not None:
                cond &= cov >= float(vr["min_coverage"])
            if rule:
                vac_r = no_firm & ~built & cond & mean.notna()

            def raster_text(s: Any) -> list[str | pa.Array]:
                return ["无入驻企业，遥感" + name + "均值", _num(s(mean), 3), "（认定阈值" + "且".join(rule)
                        + "），有效像元覆盖宗地", _pct(s(cov))]
    reasons["VACANT_RASTER"] = vac_r & ~reasons["VACANT"]
    vacant = reasons["VACANT"] | reasons["VACANT_RASTER"]
    if raster_text is not None:
        detail["VACANT_RASTER"] = raster_text
    if not has_bld_col:
        base = detail.get("VACANT_RASTER", "")
        detail["VACANT_RASTER"] = base + "（未提供建筑数据）" if isinstance(base, str) else [*base, "（未提供建筑数据）"]

    # ---- low efficiency ---------------------------------------------------------------------------------
    tax_mu = _col(out, "tax_per_mu")
    rev_mu = _col(out, "revenue_per_mu")
    tax_wan = _col(out, "tax_wan")
    with np.errstate(invalid="ignore", divide="ignore"):
        if "tax_per_mu" not in out.columns:
            tax_mu = (tax_wan / area_mu).where(area_mu > 0)
        if "revenue_per_mu" not in out.columns:
            rev_mu = (_col(out, "revenue_wan") / area_mu).where(area_mu > 0)
    has_firm = ~no_firm
    thr_tax = float(t["low_tax_per_mu"])
    reasons["LOW_TAX"] = has_firm & (tax_mu < thr_tax)
    detail["LOW_TAX"] = lambda s: ["亩均税收", _num(s(tax_mu)), "万元/亩，低于" + _fmt(thr_tax) + "万元/亩"]
    if t["low_revenue_per_mu"] is not None:
        thr_rev = float(t["low_revenue_per_mu"])
        reasons["LOW_REVENUE"] = has_firm & (rev_mu < thr_rev)
        detail["LOW_REVENUE"] = lambda s: ["亩均营业收入", _num(s(rev_mu)), "万元/亩，低于" + _fmt(thr_rev) + "万元/亩"]
    park_avg = pd.Series(np.nan, index=idx)
    if "park" in out.columns and ctx.park_avg is not None:
        codes, parks = factorized(out["park"])  # each park looked up once (what Series.map does)
        at = ctx.park_avg.index.get_indexer(pd.Index(parks, dtype=object))
        avg = take(ctx.park_avg.to_numpy("float64"), at, np.nan)
        park_avg = pd.Series(np.append(avg, np.nan)[codes], index=idx)
    frac = float(t["park_tax_fraction"])
    reasons["LOW_TAX_PARK"] = has_firm & (tax_mu < frac * park_avg)
    detail["LOW_TAX_PARK"] = lambda s: ["亩均税收", _num(s(tax_mu)), "万元/亩，低于园区亩均税收", _num(s(park_avg)),
                                        "万元/亩的" + _fmt(frac * 100) + "%（", _num(frac * s(park_avg)), "）"]
    ind = _parcel_industry(out, ctx.industry, pairs, t)
    cmin = coverage_min(t)
    far = _col(out, "far")
    cov_b = _col(out, "building_coverage")
    check_ctrl = built if has_bld_col else far.notna() | cov_b.notna()
    reasons["LOW_FAR"] = check_ctrl & (far < ind["far_min"])
    src_zh = {"holder": "权利人企业", "firm": "宗地内企业", "parcel": "宗地"}
    detail["LOW_FAR"] = lambda s: ["容积率", _num(s(far)), "，低于", _str(s(ind["control_source"]).map(src_zh).fillna("")),
                                   "行业（GB/T 4754-2002 ", _str(s(ind["control_code_2002"]).fillna("")),
                                   "大类）控制指标", _num(s(ind["far_min"]), 2)]
    reasons["LOW_COVERAGE"] = check_ctrl & (cov_b < cmin)
    detail["LOW_COVERAGE"] = lambda s: ["建筑系数", _pct(s(cov_b)), "，低于控制指标" + _fmt(cmin * 100) + "%"]
    if "grade" in out.columns:
        reasons["GRADE_D"] = out["grade"].astype(object).eq("D")
        detail["GRADE_D"] = "亩均效益综合评价为D类"
    y_over = t["overdue_completion_years"]
    over_deadline = _plus_years(agreed_done, y_over)
    if "actual_completion" in out.columns:
        done = _col(out, "actual_completion", "date")
        unfinished = done.isna() | (done > over_deadline)

        def how(s: Any) -> list[str | pa.Array]:
            return ["实际竣工日期", _ds(s(done))]
    else:
        # investment under budget is no sign of an unfinished project; undeveloped land is (1 % slack
        # for the difference between the design area and the measured polygon)
        unfinished = dev < 0.99

        def how(s: Any) -> list[str | pa.Array]:
            return ["开发比例", _pct(s(dev)), "、投资比例", _pct(s(inv))]
    reasons["OVERDUE_COMPLETION"] = agreed_done.notna() & (over_deadline <= as_of) & unfinished
    detail["OVERDUE_COMPLETION"] = lambda s: ["约定竣工日期", _ds(s(agreed_done)), "，至" + as_of.strftime("%Y-%m-%d")
                                              + "已超过" + _fmt(y_over) + "年仍未竣工（", *how(s), "）"]

    # ---- Huzhou five kinds ---------------------------------------------------------------------------
    if t["huzhou"]:
        holder = pd.Series(False, index=idx)
        for c in ("holder_uscc", "holder_name"):
            if c in out.columns:
                holder |= out[c].notna() & out[c].astype(object).ne("")
        money_low = reasons["LOW_TAX"] | reasons.get("LOW_REVENUE", False) | reasons["LOW_TAX_PARK"] | \
            reasons.get("GRADE_D", pd.Series(False, index=idx))
        supply_due = agreed.where(agreed.notna(), _plus_years(granted, y_start))
        kinds = [
            ("HUZHOU_APPROVED_NOT_SUPPLIED", ("granted" in out.columns) & granted.isna() & ~holder & no_firm,
             "未办理供地（无供地日期、无权利人、无企业）"),
            ("HUZHOU_SUPPLIED_NOT_USED", granted.notna() & (granted <= as_of) & not_started_now
             & (supply_due <= as_of) & no_firm & ~built, "已供地未动工，无企业、无建筑"),
            ("HUZHOU_USED_NOT_FULL", (started & (dev < 0.99)) | (built & (reasons["LOW_FAR"] | reasons["LOW_COVERAGE"])),
             "已动工但未按约定全部开发或容积率、建筑系数不足"),
            ("HUZHOU_BUILT_NOT_OPERATING", built & (no_firm | stopped), "已建成但无企业投产或企业已停产"),
            ("HUZHOU_OPERATING_BELOW_STANDARD", has_firm & ~stopped & money_low, "已投产但亩均效益未达标"),
        ]
        kind = np.full(n, "", dtype=object)
        free = np.ones(n, dtype=bool)  # no kind yet
        for code, mask, text in kinds:
            m = mask.fillna(False).astype(bool).to_numpy() & free
            free &= ~m
            kind[m] = code
            reasons[code] = pd.Series(m, index=idx)
            detail[code] = "湖州五类：" + REASON_LABELS[code][0] + "（" + text + "）"
        kind = pd.Series(kind, index=idx, dtype=object)
    else:
        kind = pd.Series("", index=idx, dtype=object)

    # ---- assemble ----------------------------------------------------------------------------------
    flags = {k: v.fillna(False).astype(bool) if isinstance(v, pd.Series) else pd.Series(bool(v), index=idx)
             for k, v in reasons.items()}
    low_codes = ("LOW_TAX", "LOW_REVENUE", "LOW_TAX_PARK", "LOW_FAR", "LOW_COVERAGE", "GRADE_D",
                 "OVERDUE_COMPLETION")
    low = pd.Series(False, index=idx)
    for c in low_codes:
        if c in flags:
            low |= flags[c]
    # flag_reasons / flag_detail: per rule a column with its text on the rows it flags (null elsewhere), joined
    # row by row in rule order by Arrow, the rules a parcel does not meet skipped
    code_cols: list[pa.Array] = []
    text_cols: list[pa.Array] = []
    any_flag = np.zeros(n, dtype=bool)
    for code in REASON_ORDER:
        if code not in flags:
            continue
        m = flags[code].to_numpy(bool)
        if not m.any():
            continue
        label = "【" + REASON_LABELS[code][0] + "】"
        text = detail[code]
        any_flag |= m
        code_cols.append(_detail_column(m, code))
        text_cols.append(_detail_column(m, label + text if isinstance(text, str) else [label, *text]))
    reason_str = _join_columns(code_cols, any_flag, ";")
    detail_str = _join_columns(text_cols, any_flag, "；")
    out["idle"] = idle.to_numpy()
    out["vacant"] = vacant.fillna(False).astype(bool).to_numpy()
    out["stopped"] = stopped.fillna(False).astype(bool).to_numpy()
    out["low_efficiency"] = low.to_numpy()
    out["flag_reasons"] = reason_str
    out["flag_detail"] = detail_str
    out["idle_years"] = idle_years.to_numpy("float64")
    out["idle_fee_due"] = idle.to_numpy()
    out["reclaim_warning"] = reclaim.to_numpy()
    out["huzhou_kind"] = kind.to_numpy()
    out["control_code_2002"] = ind["control_code_2002"].to_numpy()
    out["control_source"] = ind["control_source"].to_numpy()
    out["far_min"] = ind["far_min"].to_numpy()
    out["coverage_min"] = cmin
    out["developed_share_used"] = dev.to_numpy("float64")
    out["investment_share"] = inv.to_numpy("float64")
    meta = {
        "counts": {"parcels": int(n), "idle": int(out["idle"].sum()), "vacant": int(out["vacant"].sum()),
                   "stopped": int(out["stopped"].sum()), "low_efficiency": int(out["low_efficiency"].sum()),
                   "reclaim_warning": int(out["reclaim_warning"].sum()),
                   "reasons": {c: int(flags[c].sum()) for c in REASON_ORDER if c in flags}},
    }
    return Loaded(out, recon.concat(recs), meta)


def _rows(df: pd.DataFrame) -> np.ndarray:
    if "source_row" in df.columns:
        return pd.to_numeric(df["source_row"], errors="coerce").fillna(0).to_numpy("int64")
    return np.arange(1, len(df) + 1, dtype="int64")


def _keys(df: pd.DataFrame) -> np.ndarray:
    if "parcel_id" in df.columns:
        return df["parcel_id"].astype(object).where(df["parcel_id"].notna(), "").astype(str).to_numpy()
    return np.full(len(df), "", dtype=object)
