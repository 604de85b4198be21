"""Policy files: the 亩均效益 grading rules of one county or province, as data (TOML, read with tomllib).

A policy is a TOML file; ``load_policy("sichuan-2022")`` reads a preset shipped in
``parkland/scoring/presets/``, ``load_policy("my.toml")`` a file. A file that cannot be used raises
:class:`parkland.errors.PolicyError` naming the key and what is allowed. :class:`Policy` carries the
parsed rules and ``sha256``, the hash of the canonical content (the parsed TOML as JSON with sorted keys),
so reformatting or comments do not change it.

Schema (version 1; every key optional unless marked *required*; the same text is in
``presets/README.md``)::

    schema = 1                          # required, the schema version

    [policy]
    name = "huangyan-2023"              # required
    title = "…"; region = "…"; year = 2023
    source = "…"                        # where the published numbers come from
    notes = "…"                         # which numbers are published, which are defaults

    [scope]                             # who is graded at all; the others get status not_graded
    scales = ["above", "below"]         # scale values graded (above = 规上, below = 规下); default both
    unknown_scale = "not_graded"        # firm with no scale: "not_graded" | "above" | "below"
    in_park_only = false                # true: firms with in_park false are not_graded
    min_land_mu = 0.0                   # land_mu below this → not_graded (e.g. 3 or 5 亩)

    [exempt]                            # class T: status exempt, grade T
    industry_codes = ["44", "45", "46"] # prefixes of industry_code (utilities, GB/T 4754-2017)
    max_age_years = 2                   # established less than this many years before the as-of date
    column = "免评"                     # an explicit column …
    values = ["是"]                     # … and the cell values that mean "exempt"

    [tenants]
    mode = "same"   # same: tenants are graded like any firm in the track they match
                    # own_track: tenants only match tracks with match.tenant = true (their own list)
                    # merge: a tenant's figures and land are added to its landholder's
                    #        (landholder_uscc) before scoring; the tenant is not_graded
                    # inherit: a tenant is not scored and takes its landholder's grade and status

    [tracks.above]                      # one table per track; a firm takes the FIRST track it matches
    label = "规上"
    match.scale = ["above"]             # scale in this list (omit: any scale)
    match.min_land_mu = 5               # land_mu >= (omit: no bound)
    match.max_land_mu = 5               # land_mu <  (omit: no bound)
    match.tenant = true                 # true: tenants only; false: non-tenants only (omit: both)
    method = "ratio"                    # ratio | minmax | percentile
    benchmark = "mean"                  # default for the indicators below: a number, "mean",
                                        # "median" or "previous_mean"
    missing = "zero"                    # default missing-data rule: zero | track_average | reweight
    minmax_low = 20                     # minmax only: points at the minimum, in % of the weight
    minmax_high = 100                   # minmax only: points at the maximum, in % of the weight

    [tracks.above.indicators.tax_per_mu]   # one table per scored indicator (keys of schema.INDICATORS)
    weight = 30                         # required, > 0
    benchmark = 24.097                  # overrides the track's benchmark (ratio method)
    missing = "track_average"           # overrides the track's rule
    cap = 60                            # optional: the part is at most this many points
    floor = 0                           # optional: the part is at least this many points

    [grading]
    grades = ["A", "B", "C", "D"]       # best → worst (T is the exempt class, never listed here)
    method = "shares"                   # shares (by rank) | cutoffs (by score)
    group_by = []                       # extra firm columns to rank within, besides the track
    shares.A = { share = 0.30, round = "floor" }   # shares: count = round(share × n); round is
    shares.C = { share = 0.10, round = "ceil" }    # floor | ceil | round; the one grade left out
    shares.D = { share = 0.05, round = "floor" }   # takes the rest
    ties."C/D" = "upper"                # shares: a tie across a boundary goes to the "lower" grade
                                        # (default, so caps hold) or the "upper" one
    cutoffs = { A = 85, B = 70, C = 55 }           # cutoffs: least score of each grade but the last
    max_share.A = { share = 0.30, round = "floor" } # cutoffs: at most; the lowest are moved down,
                                                    # ties at the cut move down too
    min_share.C = { share = 0.10, round = "ceil" }  # cutoffs: at least; the lowest of the better
                                                    # grades are moved down into it (ties too)

    [adjustments]
    max_bonus = 10                      # optional cap on the summed bonus points
    max_penalty = 20                    # optional cap on the summed penalty points

    [[bonus]]                           # 加分 (and [[penalty]], 减分, the same keys; points ≥ 0 are
    name = "high_tech"                  #        subtracted for a penalty)
    column = "高新技术企业"             # a firm column
    values = ["是"]                     # cell values that qualify … or a numeric test:
    min = 1                             # value >= min   (and/or)   max = …  value <= max
    points = 3
    tracks = ["above"]                  # optional: only these tracks

    [[vetoes]]                          # 一票否决
    name = "major_accident"
    column = "重大安全环保事故"
    values = ["是"]                     # default ["是", "有", "1", "true", "y", "yes"]
    grade = "D"                         # default: the worst grade
    reason = "…"

    [consequences.electricity_surcharge]   # output column consequence_<name>
    label = "差别电价加价（元）"
    column = "electricity_10k_kwh"      # money = rate × column × factor; without column the
    factor = 10000                      #   output is the rate itself (e.g. a tax relief in %)
    unit = "元/千瓦时"
    rates = { C = 0.05, D = 0.10 }      # grades not listed: 0; firms without a grade: NaN

    [targets]  …  [land]  …  [plan]  …  # free-form tables read by the land and plan stages

Matching of cell values (vetoes, exemptions, bonus items) is on the text of the cell, stripped and
case-folded; a boolean True cell reads as "true", a number 1 as "1".
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parkland.errors import PolicyError
from parkland.schema import INDICATORS

PRESETS_DIR = Path(__file__).parent / "presets"
SCHEMA_VERSION = 1

METHODS = ("ratio", "minmax", "percentile")
BENCHMARKS = ("mean", "median", "previous_mean")
MISSING_RULES = ("zero", "track_average", "reweight")
TENANT_MODES = ("same", "own_track", "merge", "inherit")
GRADING_METHODS = ("shares", "cutoffs")
ROUNDINGS = ("floor", "ceil", "round")
TIE_SIDES = ("lower", "upper")
SCALES = ("above", "below")
DEFAULT_TRUE_VALUES = ("是", "有", "1", "true", "y", "yes")


@dataclass(frozen=True)
class IndicatorRule:
    """One scored indicator of a track: weight, benchmark (a number or a rule), missing rule, cap/floor."""

    key: str
    weight: float
    benchmark: float | str
    missing: str
    cap: float | None = None
    floor: float | None = None


@dataclass(frozen=True)
class Track:
    """A group of firms scored with the same indicators (规上 / 规下 / by land / tenants)."""

    name: str
    label: str
    method: str
    indicators: tuple[IndicatorRule, ...]
    match_scale: tuple[str, ...] | None = None
    match_min_land_mu: float | None = None
    match_max_land_mu: float | None = None
    match_tenant: bool | None = None
    minmax_low: float = 20.0
    minmax_high: float = 100.0

    @property
    def total_weight(self) -> float:
        return float(sum(r.weight for r in self.indicators))


@dataclass(frozen=True)
class Share:
    share: float
    round: str = "floor"

    def count(self, n):
        """round(share × n) with this rounding (works on numpy arrays); a tiny epsilon keeps 0.3 × 10 = 3."""
        import numpy as np

        x = np.asarray(n, dtype=float) * self.share
        if self.round == "floor":
            return np.floor(x + 1e-9).astype(np.int64)
        if self.round == "ceil":
            return np.ceil(x - 1e-9).astype(np.int64)
        return np.floor(x + 0.5).astype(np.int64)


@dataclass(frozen=True)
class Grading:
    grades: tuple[str, ...]
    method: str
    shares: dict[str, Share] = field(default_factory=dict)
    rest: str | None = None
    ties: dict[str, str] = field(default_factory=dict)
    cutoffs: dict[str, float] = field(default_factory=dict)
    max_share: dict[str, Share] = field(default_factory=dict)
    min_share: dict[str, Share] = field(default_factory=dict)
    group_by: tuple[str, ...] = ()

    def tie_side(self, upper: str, lower: str) -> str:
        return self.ties.get(f"{upper}/{lower}", "lower")


@dataclass(frozen=True)
class Condition:
    """A test on one firm column: the cell's text in ``values``, or min ≤ number ≤ max."""

    column: str
    values: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Veto:
    name: str
    condition: Condition
    grade: str
    reason: str


@dataclass(frozen=True)
class Adjustment:
    name: str
    kind: str  # bonus | penalty
    condition: Condition
    points: float
    tracks: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Exempt:
    industry_codes: tuple[str, ...] = ()
    max_age_years: float | None = None
    condition: Condition | None = None


@dataclass(frozen=True)
class Scope:
    scales: tuple[str, ...] = SCALES
    unknown_scale: str = "not_graded"
    in_park_only: bool = False
    min_land_mu: float = 0.0


@dataclass(frozen=True)
class Consequence:
    name: str
    label: str
    rates: dict[str, float]
    column: str | None = None
    factor: float = 1.0
    unit: str = ""


@dataclass(frozen=True, eq=False)
class Policy:
    """A parsed policy. ``raw`` is the parsed TOML; ``sha256`` the hash of its canonical JSON."""

    name: str
    title: str
    region: str
    year: int | None
    source: str
    notes: str
    scope: Scope
    exempt: Exempt
    tenants: str
    tracks: tuple[Track, ...]
    grading: Grading
    bonuses: tuple[Adjustment, ...]
    penalties: tuple[Adjustment, ...]
    max_bonus: float | None
    max_penalty: float | None
    vetoes: tuple[Veto, ...]
    consequences: tuple[Consequence, ...]
    targets: dict[str, Any]
    land: dict[str, Any]
    plan: dict[str, Any]
    raw: dict[str, Any]
    sha256: str
    path: str | None = None

    @property
    def indicators(self) -> list[str]:
        """Every indicator scored by some track, in first-seen order (the ``part_<indicator>`` columns)."""
        out: list[str] = []
        for t in self.tracks:
            for r in t.indicators:
                if r.key not in out:
                    out.append(r.key)
        return out

    def track(self, name: str) -> Track:
        for t in self.tracks:
            if t.name == name:
                return t
        raise KeyError(name)

    def __repr__(self) -> str:
        return f"Policy({self.name!r}, tracks={[t.name for t in self.tracks]}, sha256={self.sha256[:12]}…)"


# ----------------------------------------------------------------------------------------------------
def canonical_json(raw: dict) -> str:
    """The canonical content of a policy: JSON, sorted keys, no whitespace (dates as ISO text)."""
    return json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def presets() -> list[str]:
    """Names of the presets shipped with parkland."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.toml"))


def load_policy(name_or_path: str | Path | Policy) -> Policy:
    """A preset name (``"sichuan-2022"``) or a path to a TOML file → :class:`Policy` (PolicyError if bad)."""
    if isinstance(name_or_path, Policy):
        return name_or_path
    s = str(name_or_path)
    p = Path(s)
    if not p.exists():
        if s in presets():
            p = PRESETS_DIR / f"{s}.toml"
        else:
            raise PolicyError(
                f"找不到评价政策「{s}」：既不是文件，也不是内置预设（{', '.join(presets())}）",
                f'policy "{s}" not found: neither a file nor a preset ({", ".join(presets())})',
                file=s, hint_zh="请用 --policy 指定预设名称或 TOML 文件路径",
                hint_en="pass a preset name or a TOML file path to --policy")
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise PolicyError(f"无法读取政策文件：{e}", f"cannot read the policy file: {e}", file=p) from e
    return loads_policy(text, path=p)


def loads_policy(text: str, *, path: str | Path | None = None) -> Policy:
    """Parse a policy from TOML text."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise PolicyError(f"政策文件不是有效的 TOML：{e}", f"the policy file is not valid TOML: {e}",
                          file=path) from e
    return parse_policy(raw, path=path)


# ----------------------------------------------------------------------------------------------------
class _V:
    """Validation helpers that raise PolicyError naming the key and what is allowed."""

    def __init__(self, path) -> None:
        self.path = None if path is None else str(path)

    def err(self, key: str, zh: str, en: str):
        return PolicyError(f"键 {key}：{zh}", f"key {key}: {en}", file=self.path, column=key)

    def table(self, d: Any, key: str, allowed: tuple[str, ...] | None = None) -> dict:
        if d is None:
            return {}
        if not isinstance(d, dict):
            raise self.err(key, "应为表（table）", "must be a table")
        if allowed is not None:
            for k in d:
                if k not in allowed:
                    raise self.err(f"{key}.{k}" if key else k, f"未知的键；允许：{', '.join(allowed)}",
                                   f"unknown key; allowed: {', '.join(allowed)}")
        return d

    def number(self, v: Any, key: str, *, positive: bool = False, nonneg: bool = False,
               le1: bool = False) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)):
            raise self.err(key, f"应为数字，而不是 {v!r}", f"must be a number, not {v!r}")
        v = float(v)
        if positive and v <= 0:
            raise self.err(key, f"应大于 0，而不是 {v}", f"must be > 0, not {v}")
        if nonneg and v < 0:
            raise self.err(key, f"应不小于 0，而不是 {v}", f"must be >= 0, not {v}")
        if le1 and not 0 <= v <= 1:
            raise self.err(key, f"应在 0 到 1 之间，而不是 {v}", f"must be between 0 and 1, not {v}")
        return v

    def choice(self, v: Any, key: str, allowed: tuple[str, ...]) -> str:
        if v not in allowed:
            raise self.err(key, f"不能是 {v!r}；允许：{', '.join(allowed)}",
                           f"cannot be {v!r}; allowed: {', '.join(allowed)}")
        return v

    def text(self, v: Any, key: str, *, required: bool = False) -> str:
        if v is None:
            if required:
                raise self.err(key, "必须填写", "is required")
            return ""
        if not isinstance(v, str) or (required and not v.strip()):
            raise self.err(key, f"应为文字，而不是 {v!r}", f"must be text, not {v!r}")
        return v

    def str_list(self, v: Any, key: str) -> tuple[str, ...]:
        if isinstance(v, (str, int)) and not isinstance(v, bool):
            v = [v]
        if not isinstance(v, list) or not all(isinstance(x, (str, int)) and not isinstance(x, bool)
                                              for x in v):
            raise self.err(key, f"应为文字列表，而不是 {v!r}", f"must be a list of text, not {v!r}")
        return tuple(str(x) for x in v)

    def boolean(self, v: Any, key: str) -> bool:
        if not isinstance(v, bool):
            raise self.err(key, f"应为 true 或 false，而不是 {v!r}", f"must be true or false, not {v!r}")
        return v


def _condition(v: _V, d: dict, key: str, *, default_values: bool) -> Condition:
    column = v.text(d.get("column"), f"{key}.column", required=True)
    values = v.str_list(d["values"], f"{key}.values") if "values" in d else None
    lo = v.number(d["min"], f"{key}.min") if "min" in d else None
    hi = v.number(d["max"], f"{key}.max") if "max" in d else None
    if values is None and lo is None and hi is None:
        if not default_values:
            raise v.err(key, "需要 values 或 min/max 之一", "needs values or min/max")
        values = DEFAULT_TRUE_VALUES
    return Condition(column, values, lo, hi)


def _share(v: _V, d: Any, key: str) -> Share:
    if isinstance(d, (int, float)) and not isinstance(d, bool):
        return Share(v.number(d, key, le1=True), "floor")
    d = v.table(d, key, ("share", "round"))
    if "share" not in d:
        raise v.err(f"{key}.share", "必须填写", "is required")
    return Share(v.number(d["share"], f"{key}.share", le1=True),
                 v.choice(d.get("round", "floor"), f"{key}.round", ROUNDINGS))


def parse_policy(raw: dict, *, path: str | Path | None = None) -> Policy:
    """Validate a parsed TOML dict and build a :class:`Policy` (PolicyError naming the key if bad)."""
    v = _V(path)
    top = ("schema", "policy", "scope", "exempt", "tenants", "tracks", "grading", "adjustments", "bonus",
           "penalty", "vetoes", "consequences", "targets", "land", "plan", "notice")
    v.table(raw, "", top)
    notice = v.table(raw.get("notice"), "notice", ("extra_columns",))
    v.str_list(notice.get("extra_columns", []), "notice.extra_columns")
    if raw.get("schema") != SCHEMA_VERSION:
        raise v.err("schema", f"必须为 {SCHEMA_VERSION}，而不是 {raw.get('schema')!r}",
                    f"must be {SCHEMA_VERSION}, not {raw.get('schema')!r}")
    meta = v.table(raw.get("policy"), "policy", ("name", "title", "region", "year", "source", "notes"))
    name = v.text(meta.get("name"), "policy.name", required=True)
    year = meta.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        raise v.err("policy.year", f"应为整数年份，而不是 {year!r}", f"must be an integer year, not {year!r}")

    # scope
    sc = v.table(raw.get("scope"), "scope", ("scales", "unknown_scale", "in_park_only", "min_land_mu"))
    scales = v.str_list(sc.get("scales", list(SCALES)), "scope.scales")
    for i, s in enumerate(scales):
        v.choice(s, f"scope.scales[{i}]", SCALES)
    scope = Scope(
        scales=scales,
        unknown_scale=v.choice(sc.get("unknown_scale", "not_graded"), "scope.unknown_scale",
                               ("not_graded", *SCALES)),
        in_park_only=v.boolean(sc.get("in_park_only", False), "scope.in_park_only"),
        min_land_mu=v.number(sc.get("min_land_mu", 0.0), "scope.min_land_mu", nonneg=True),
    )

    # exemptions
    ex = v.table(raw.get("exempt"), "exempt", ("industry_codes", "max_age_years", "column", "values"))
    exempt = Exempt(
        industry_codes=v.str_list(ex.get("industry_codes", []), "exempt.industry_codes"),
        max_age_years=(v.number(ex["max_age_years"], "exempt.max_age_years", positive=True)
                       if "max_age_years" in ex else None),
        condition=_condition(v, ex, "exempt", default_values=True) if "column" in ex else None,
    )

    te = v.table(raw.get("tenants"), "tenants", ("mode",))
    tenants = v.choice(te.get("mode", "same"), "tenants.mode", TENANT_MODES)

    # tracks
    trs = v.table(raw.get("tracks"), "tracks")
    if not trs:
        raise v.err("tracks", "至少需要一个评价类别（[tracks.<名称>]）", "at least one [tracks.<name>] is needed")
    tracks: list[Track] = []
    track_keys = ("label", "match", "method", "benchmark", "missing", "minmax_low", "minmax_high",
                  "indicators")
    for tname, td in trs.items():
        k = f"tracks.{tname}"
        td = v.table(td, k, track_keys)
        method = v.choice(td.get("method", "ratio"), f"{k}.method", METHODS)
        tb = td.get("benchmark", "mean")
        tmiss = v.choice(td.get("missing", "zero"), f"{k}.missing", MISSING_RULES)
        m = v.table(td.get("match"), f"{k}.match", ("scale", "min_land_mu", "max_land_mu", "tenant"))
        mscale = None
        if "scale" in m:
            mscale = v.str_list(m["scale"], f"{k}.match.scale")
            for i, s in enumerate(mscale):
                v.choice(s, f"{k}.match.scale[{i}]", SCALES)
        inds = v.table(td.get("indicators"), f"{k}.indicators")
        if not inds:
            raise v.err(f"{k}.indicators", "至少需要一个指标", "at least one indicator is needed")
        rules: list[IndicatorRule] = []
        for ikey, idd in inds.items():
            ik = f"{k}.indicators.{ikey}"
            if ikey not in INDICATORS:
                raise v.err(ik, f"未知指标；允许：{', '.join(INDICATORS)}",
                            f"unknown indicator; allowed: {', '.join(INDICATORS)}")
            idd = v.table(idd, ik, ("weight", "benchmark", "missing", "cap", "floor"))
            if "weight" not in idd:
                raise v.err(f"{ik}.weight", "必须填写", "is required")
            bench = idd.get("benchmark", tb)
            if isinstance(bench, str):
                v.choice(bench, f"{ik}.benchmark", BENCHMARKS)
            else:
                bench = v.number(bench, f"{ik}.benchmark", positive=True)
            cap = v.number(idd["cap"], f"{ik}.cap") if "cap" in idd else None
            flo = v.number(idd["floor"], f"{ik}.floor") if "floor" in idd else None
            if cap is not None and flo is not None and flo > cap:
                raise v.err(f"{ik}.floor", f"不能大于 cap（{cap}）", f"cannot exceed cap ({cap})")
            rules.append(IndicatorRule(
                key=ikey, weight=v.number(idd["weight"], f"{ik}.weight", positive=True), benchmark=bench,
                missing=v.choice(idd.get("missing", tmiss), f"{ik}.missing", MISSING_RULES), cap=cap,
                floor=flo))
        lo = v.number(td.get("minmax_low", 20.0), f"{k}.minmax_low")
        hi = v.number(td.get("minmax_high", 100.0), f"{k}.minmax_high")
        if hi <= lo:
            raise v.err(f"{k}.minmax_high", f"应大于 minmax_low（{lo}）", f"must exceed minmax_low ({lo})")
        tracks.append(Track(
            name=str(tname), label=v.text(td.get("label", tname), f"{k}.label"), method=method,
            indicators=tuple(rules), match_scale=mscale,
            match_min_land_mu=(v.number(m["min_land_mu"], f"{k}.match.min_land_mu", nonneg=True)
                               if "min_land_mu" in m else None),
            match_max_land_mu=(v.number(m["max_land_mu"], f"{k}.match.max_land_mu", positive=True)
                               if "max_land_mu" in m else None),
            match_tenant=v.boolean(m["tenant"], f"{k}.match.tenant") if "tenant" in m else None,
            minmax_low=lo, minmax_high=hi))
    if tenants == "own_track" and not any(t.match_tenant for t in tracks):
        raise v.err("tenants.mode", "own_track 需要一个 match.tenant = true 的评价类别",
                    "own_track needs a track with match.tenant = true")

    # grading
    gd = v.table(raw.get("grading"), "grading",
                 ("grades", "method", "group_by", "shares", "ties", "cutoffs", "max_share", "min_share"))
    grades = v.str_list(gd.get("grades", ["A", "B", "C", "D"]), "grading.grades")
    if len(grades) < 2 or len(set(grades)) != len(grades) or "T" in grades:
        raise v.err("grading.grades", "至少两个互不相同的等级，且不能含 T（T 为免评类）",
                    "needs at least two distinct grades, not T (T is the exempt class)")
    gmethod = v.choice(gd.get("method", "shares"), "grading.method", GRADING_METHODS)

    def grade_table(key: str) -> dict:
        d = v.table(gd.get(key), f"grading.{key}")
        for g in d:
            v.choice(g, f"grading.{key}.{g}", grades)
        return d

    shares = {g: _share(v, s, f"grading.shares.{g}") for g, s in grade_table("shares").items()}
    rest = None
    if gmethod == "shares":
        missing = [g for g in grades if g not in shares]
        if len(missing) != 1:
            raise v.err("grading.shares", f"应恰好留一个等级不写比例（它取余下的企业），现在缺 {missing}",
                        f"exactly one grade must be left out (it takes the rest); left out: {missing}")
        rest = missing[0]
        if sum(s.share for s in shares.values()) > 1 + 1e-12:
            raise v.err("grading.shares", "比例之和不能超过 1", "the shares cannot sum to more than 1")
    ties = v.table(gd.get("ties"), "grading.ties")
    bounds = tuple(f"{a}/{b}" for a, b in itertools.pairwise(grades))
    for b, side in ties.items():
        v.choice(b, f"grading.ties.{b}", bounds)
        v.choice(side, f"grading.ties.{b}", TIE_SIDES)
    cut = {g: v.number(x, f"grading.cutoffs.{g}") for g, x in grade_table("cutoffs").items()}
    if gmethod == "cutoffs":
        need = list(grades[:-1])
        if sorted(cut) != sorted(need):
            raise v.err("grading.cutoffs", f"应给出除最后一级外每个等级的最低分：{', '.join(need)}",
                        f"needs the least score of every grade but the last: {', '.join(need)}")
        vals = [cut[g] for g in need]
        if any(a <= b for a, b in itertools.pairwise(vals)):
            raise v.err("grading.cutoffs", "分数线应逐级递减", "cut-offs must decrease from grade to grade")
    grading = Grading(
        grades=grades, method=gmethod, shares=shares, rest=rest, ties=dict(ties), cutoffs=cut,
        max_share={g: _share(v, s, f"grading.max_share.{g}") for g, s in grade_table("max_share").items()},
        min_share={g: _share(v, s, f"grading.min_share.{g}") for g, s in grade_table("min_share").items()},
        group_by=v.str_list(gd.get("group_by", []), "grading.group_by"),
    )

    # adjustments and vetoes
    ad = v.table(raw.get("adjustments"), "adjustments", ("max_bonus", "max_penalty"))
    tnames = tuple(t.name for t in tracks)

    def adjustments(kind: str) -> tuple[Adjustment, ...]:
        items = raw.get(kind, [])
        if not isinstance(items, list):
            raise v.err(kind, f"应写成 [[{kind}]] 数组", f"must be an array of tables [[{kind}]]")
        out = []
        for i, d in enumerate(items):
            k = f"{kind}[{i}]"
            d = v.table(d, k, ("name", "column", "values", "min", "max", "points", "tracks"))
            if "points" not in d:
                raise v.err(f"{k}.points", "必须填写", "is required")
            trk = v.str_list(d["tracks"], f"{k}.tracks") if "tracks" in d else None
            for j, t in enumerate(trk or ()):
                v.choice(t, f"{k}.tracks[{j}]", tnames)
            out.append(Adjustment(v.text(d.get("name", f"{kind}{i + 1}"), f"{k}.name"), kind,
                                  _condition(v, d, k, default_values=True),
                                  v.number(d["points"], f"{k}.points", nonneg=True), trk))
        return tuple(out)

    vetoes = []
    vitems = raw.get("vetoes", [])
    if not isinstance(vitems, list):
        raise v.err("vetoes", "应写成 [[vetoes]] 数组", "must be an array of tables [[vetoes]]")
    for i, d in enumerate(vitems):
        k = f"vetoes[{i}]"
        d = v.table(d, k, ("name", "column", "values", "min", "max", "grade", "reason"))
        nm = v.text(d.get("name", f"veto{i + 1}"), f"{k}.name")
        vetoes.append(Veto(nm, _condition(v, d, k, default_values=True),
                           v.choice(d.get("grade", grades[-1]), f"{k}.grade", grades),
                           v.text(d.get("reason", f"veto {nm}"), f"{k}.reason")))

    cons = []
    for cname, cd in v.table(raw.get("consequences"), "consequences").items():
        k = f"consequences.{cname}"
        cd = v.table(cd, k, ("label", "column", "factor", "unit", "rates"))
        rates = v.table(cd.get("rates"), f"{k}.rates")
        for g, x in rates.items():
            v.choice(g, f"{k}.rates.{g}", (*grades, "T"))
            v.number(x, f"{k}.rates.{g}")
        cons.append(Consequence(str(cname), v.text(cd.get("label", cname), f"{k}.label"),
                                {g: float(x) for g, x in rates.items()},
                                v.text(cd["column"], f"{k}.column") if "column" in cd else None,
                                v.number(cd.get("factor", 1.0), f"{k}.factor"),
                                v.text(cd.get("unit", ""), f"{k}.unit")))

    return Policy(
        name=name, title=v.text(meta.get("title", name), "policy.title"),
        region=v.text(meta.get("region", ""), "policy.region"), year=year,
        source=v.text(meta.get("source", ""), "policy.source"),
        notes=v.text(meta.get("notes", ""), "policy.notes"),
        scope=scope, exempt=exempt, tenants=tenants, tracks=tuple(tracks), grading=grading,
        bonuses=adjustments("bonus"), penalties=adjustments("penalty"),
        max_bonus=(v.number(ad["max_bonus"], "adjustments.max_bonus", nonneg=True)
                   if "max_bonus" in ad else None),
        max_penalty=(v.number(ad["max_penalty"], "adjustments.max_penalty", nonneg=True)
                     if "max_penalty" in ad else None),
        vetoes=tuple(vetoes), consequences=tuple(cons),
        targets=dict(v.table(raw.get("targets"), "targets")),
        land=dict(v.table(raw.get("land"), "land")),
        plan=dict(v.table(raw.get("plan"), "plan")),
        raw=raw,
        sha256=hashlib.sha256(canonical_json(raw).encode("utf-8")).hexdigest(),
        path=None if path is None else str(path),
    )
