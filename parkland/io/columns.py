"""The one header-alias table: input headers (Chinese or English) → canonical column names and units.

A header is matched after normalising it: Unicode NFKC (full-width letters, digits and brackets become
half-width), lower case, spaces, underscores, hyphens and a leading ``*`` removed, a leading year
(``2023年``, ``2023年度``) dropped. A unit written in brackets — ``营业收入（元）``, ``用电量(千瓦时)``,
``用地面积【平方米】`` — or glued to the end (``宗地面积_亩``) gives the factor that converts the column to
its canonical unit::

    value_canonical = value_as_written × factor        e.g. 元 → 万元: factor = 1e-4

Factors come from :mod:`parkland.units`. Shapefile field names cut to 10 bytes (``约定开工日`` for
``约定开工日期``) match the one alias they are a prefix of.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from parkland import units

#: canonical → (unit kind or None, accepted headers in priority order: the first present wins)
ALIASES: dict[str, tuple[str | None, tuple[str, ...]]] = {
    # --- firms ------------------------------------------------------------------------------------
    "uscc": (None, ("统一社会信用代码", "信用代码", "社会信用代码", "统一信用代码", "统一代码",
                    "社会统一信用代码", "企业信用代码", "纳税人识别号", "uscc", "credit code",
                    "unified social credit code", "social credit code", "credit_code")),
    "name": (None, ("企业名称", "单位名称", "企业全称", "公司名称", "纳税人名称", "企业", "name",
                    "firm", "firm name", "company", "company name", "enterprise", "enterprise name")),
    "parcel_id": (None, ("宗地代码", "宗地编码", "ZDDM", "地块编码", "DKDM", "BDCDYH", "parcel_id",
                         "不动产单元号", "不动产单元代码", "宗地号", "宗地编号", "地块编号", "地块代码",
                         "parcel code", "parcel ids", "parcel", "parcel no")),
    "scale": (None, ("企业规模", "规模", "是否规上", "是否规模以上", "规上规下", "规模类型", "scale",
                     "size", "size class")),
    "revenue_wan": ("money", ("营业收入", "主营业务收入", "营收", "销售收入", "revenue",
                              "operating revenue", "revenue wan")),
    "output_wan": ("money", ("工业总产值", "产值", "总产值", "output", "gross output", "output wan")),
    "tax_wan": ("money", ("税收", "税收实际入库", "实缴税金", "评价税收", "实缴税收", "入库税收",
                          "税收总额", "纳税额", "实际入库税收", "tax", "tax paid", "tax wan")),
    "value_added_wan": ("money", ("工业增加值", "增加值", "value added", "value added wan")),
    "energy_tce": ("energy", ("综合能耗", "能耗", "综合能源消费量", "能源消费量", "energy",
                              "energy use", "energy tce")),
    "electricity_10k_kwh": ("electricity", ("用电量", "电耗", "年用电量", "总用电量", "electricity",
                                            "power use", "electricity 10k kwh")),
    "emissions_t": ("mass", ("主要污染物排放量", "排放量", "污染物排放量", "emissions", "emission",
                             "emissions t")),
    "employees": ("people", ("年平均职工人数", "从业人员", "职工人数", "从业人员平均人数",
                             "从业人数", "年末从业人员", "员工人数", "employees", "staff", "workers")),
    "rd_wan": ("money", ("研发经费支出", "研发经费", "R&D经费支出", "R&D经费", "研发投入",
                         "研发费用", "rd", "r&d", "rd spending", "r&d spending", "rd wan")),
    "reported_land_mu": ("area_mu", ("用地面积", "占地面积", "自有用地面积", "土地面积",
                                     "reported land", "land area", "land", "reported land mu")),
    "occupied_m2": ("area_m2", ("租用面积", "使用面积", "租赁面积", "占用面积", "occupied",
                                "occupied area", "occupied floor", "occupied m2")),
    "land_share": ("ratio", ("用地比例", "占地比例", "面积比例", "用地份额", "land share", "share")),
    "industry_code": (None, ("行业代码", "国民经济行业代码", "行业分类代码", "行业类别代码",
                             "industry code", "industry", "nace", "industry_code")),
    "park": (None, ("园区", "所属园区", "园区名称", "所在园区", "park", "park name")),
    "established": (None, ("成立日期", "投产日期", "注册日期", "成立时间", "投产时间", "established",
                           "founded", "start of production")),
    "lon": ("degrees", ("经度", "lon", "lng", "long", "longitude")),
    "lat": ("degrees", ("纬度", "lat", "latitude")),
    "year": (None, ("年份", "年度", "数据年份", "统计年度", "year")),
    # --- parcels ----------------------------------------------------------------------------------
    "holder_name": (None, ("权利人", "权利人名称", "土地使用权人", "使用权人", "QLR", "QLRMC",
                           "holder", "holder name", "landholder", "企业名称", "单位名称")),
    "holder_uscc": (None, ("权利人证件号", "权利人证件号码", "证件号", "证件号码", "证件编号",
                           "QLRZJH", "holder uscc", "统一社会信用代码", "信用代码", "社会信用代码")),
    "land_use": (None, ("用途", "土地用途", "宗地用途", "规划用途", "批准用途", "实际用途", "YT",
                        "TDYT", "land use", "landuse", "use")),
    "cert_area_mu": ("area_mu", ("宗地面积", "证载面积", "登记面积", "土地面积", "ZDMJ", "面积",
                                 "cert area", "certificate area", "cert area mu", "area")),
    "cert_area_unit": (None, ("面积单位", "宗地面积单位", "单位", "MJDW", "area unit", "unit")),
    "granted": (None, ("供地日期", "出让日期", "供应日期", "划拨日期", "合同签订日期", "签订日期",
                       "granted", "grant date", "date granted")),
    "agreed_start": (None, ("约定开工日期", "合同约定开工日期", "约定动工日期", "约定开工时间",
                            "agreed start", "agreed start date")),
    "actual_start": (None, ("实际开工日期", "开工日期", "实际动工日期", "动工日期", "实际开工时间",
                            "actual start", "actual start date")),
    "agreed_completion": (None, ("约定竣工日期", "合同约定竣工日期", "约定竣工时间",
                                 "agreed completion", "agreed completion date")),
    "stopped_since": (None, ("停工日期", "停工时间", "停产日期", "stopped since", "stop date")),
    "agreed_investment_wan": ("money", ("约定投资额", "约定投资总额", "合同约定投资额", "约定投资",
                                        "agreed investment")),
    "actual_investment_wan": ("money", ("实际投资额", "已完成投资", "已完成投资额", "累计完成投资",
                                        "实际投资", "actual investment")),
    "developed_m2": ("area_m2", ("已开发面积", "已建面积", "已开发土地面积", "developed area",
                                 "developed")),
    "developed_share": ("ratio", ("开发比例", "已开发比例", "开发率", "developed share")),
}

#: Which canonical columns each kind of table reads (a table may hold others under their own names)
KINDS: dict[str, tuple[str, ...]] = {
    "firm": ("uscc", "name", "parcel_id", "scale", "revenue_wan", "output_wan", "tax_wan",
             "value_added_wan", "energy_tce", "electricity_10k_kwh", "emissions_t", "employees", "rd_wan",
             "reported_land_mu", "occupied_m2", "land_share", "industry_code", "park", "established",
             "lon", "lat", "year"),
    "parcel": ("parcel_id", "holder_name", "holder_uscc", "land_use", "park", "industry_code",
               "cert_area_mu", "cert_area_unit", "granted", "agreed_start", "actual_start",
               "agreed_completion", "stopped_since", "agreed_investment_wan", "actual_investment_wan",
               "developed_m2", "developed_share"),
    "link": ("uscc", "name", "parcel_id", "land_share", "occupied_m2"),
}

_EXTRA_UNITS: dict[str, dict[str, float]] = {
    "money": {"yuan": 1e-4, "cny": 1e-4, "rmb": 1e-4, "人民币元": 1e-4, "万元人民币": 1.0, "万": 1.0,
              "10kyuan": 1.0, "10,000yuan": 1.0, "wan": 1.0, "wanyuan": 1.0, "亿": 1e4,
              "千": 0.1},
    "electricity": {"10kkwh": 1.0, "kw·h": 1e-4, "千瓦·时": 1e-4, "万千瓦·时": 1.0, "万kwh": 1.0,
                    "万kw·h": 1.0, "gwh": 100.0},
    "area_mu": {"sqm": units.MU_PER_M2, "平方": units.MU_PER_M2},
    "area_m2": {"sqm": units.M2_PER_MU * units.MU_PER_M2, "平方": 1.0},
    "people": {"persons": 1.0, "people": 1.0},
    "mass": {},
    "energy": {"吨标准煤当量": 1.0},
    "ratio": {"百分比": 0.01, "percent": 0.01},
    "degrees": {"度": 1.0, "°": 1.0, "deg": 1.0, "degrees": 1.0, "wgs84": 1.0},
}


def _unit_key(u: str) -> str:
    u = unicodedata.normalize("NFKC", str(u)).lower()
    u = re.sub(r"\s+", "", u)
    u = re.sub(r"^单位[:：]?", "", u)
    return re.sub(r"(/年|每年|/a|/yr|/year)$", "", u)


def _unit_table(kind: str) -> dict[str, float]:
    base = {
        "money": units.MONEY_TO_WAN,
        "electricity": units.ELECTRICITY_TO_10K_KWH,
        "area_mu": units.AREA_TO_MU,
        "area_m2": units.AREA_TO_M2,
        "energy": units.ENERGY_TO_TCE,
        "mass": units.MASS_TO_T,
        "people": units.PEOPLE,
        "ratio": units.RATIO,
        "degrees": {},
    }[kind]
    table = {_unit_key(k): float(v) for k, v in base.items()}
    table.update({_unit_key(k): float(v) for k, v in _EXTRA_UNITS.get(kind, {}).items()})
    return table


#: unit kind → {normalised unit: factor to the canonical unit}
UNIT_FACTORS: dict[str, dict[str, float]] = {k: _unit_table(k) for k in _EXTRA_UNITS}
#: canonical unit of each unit kind (for messages)
CANONICAL_UNIT = {"money": "万元", "electricity": "万千瓦时", "area_mu": "亩", "area_m2": "平方米",
                  "energy": "吨标准煤", "mass": "吨", "people": "人", "ratio": "比例", "degrees": "度"}

_OPEN = "([【〔<《{"
_CLOSE = ")]】〕>》}"
_BRACKET = re.compile(r"^(.*?)[" + re.escape(_OPEN) + r"]([^" + re.escape(_OPEN + _CLOSE) + r"]*)["
                      + re.escape(_CLOSE) + r"]\s*$")


def norm_header(h: object) -> str:
    """The matching key of a header: NFKC, lower case, no spaces/underscores/hyphens/asterisks."""
    s = unicodedata.normalize("NFKC", str(h)).lower().strip()
    s = re.sub(r"[\s_\-*※#:：/]+", "", s)
    return re.sub(r"^(19|20)\d\d年度?", "", s)


def _alias_index() -> dict[str, dict[str, tuple[str, int]]]:
    out: dict[str, dict[str, tuple[str, int]]] = {}
    for kind, canon in KINDS.items():
        idx: dict[str, tuple[str, int]] = {}
        for c in canon:
            for i, a in enumerate(ALIASES[c][1]):
                idx.setdefault(norm_header(a), (c, i))
            idx.setdefault(norm_header(c), (c, len(ALIASES[c][1])))
        out[kind] = idx
    return out


_INDEX = _alias_index()


@dataclass(frozen=True)
class ColumnMatch:
    """How one input header maps: ``canonical`` (None when not recognised or a lower-priority duplicate),
    the unit written in the header, and ``factor`` (value_canonical = value × factor)."""

    header: str
    canonical: str | None
    unit: str | None = None
    factor: float = 1.0
    unit_known: bool = True
    duplicate_of: str | None = None
    priority: int = 0
    #: a truncated name that fits several canonical columns (resolved against the other headers)
    candidates: tuple[str, ...] = ()


def _split_unit(h: str) -> tuple[str, str | None]:
    """'营业收入（元）' → ('营业收入', '元'); no bracket → (h, None)."""
    s = unicodedata.normalize("NFKC", str(h)).strip()
    m = _BRACKET.match(s)
    if m and m.group(1).strip():
        return m.group(1), m.group(2)
    return s, None


def _truncated(key: str, raw: str, kind: str) -> tuple[str, int] | set[str] | None:
    """A shapefile field name cut at 10 bytes: the unique canonical whose alias starts with it, or the
    set of candidate canonicals when several fit (resolved by :func:`map_columns`)."""
    nbytes = {len(raw.encode("utf-8")), len(raw.encode("gb18030", errors="replace"))}
    cut = key.endswith(("…", "..."))  # a name whose last character was cut in half (see io.layers)
    key = key.rstrip("….")
    if len(key) < 2 or not (cut or nbytes & {9, 10}) or key.isascii():
        return None
    hits = {v for a, v in _INDEX[kind].items() if a.startswith(key)}
    canon = {c for c, _ in hits}
    if len(canon) == 1:
        return min(hits, key=lambda t: t[1])[0], 1000 + min(i for _, i in hits)
    return canon or None


def match_header(header: object, kind: str) -> ColumnMatch:
    """Match one header against the alias table of ``kind`` ("firm", "parcel", "link")."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {tuple(KINDS)}, not {kind!r}")
    raw = "" if header is None else str(header)
    idx = _INDEX[kind]
    base, unit = _split_unit(raw)
    key = norm_header(base)
    hit = idx.get(key)
    if hit is None and unit is not None:  # a bracket that is part of the name, e.g. "R&D(研发)经费"
        hit = idx.get(norm_header(raw))
        unit = None if hit is not None else unit
    if hit is None:  # unit glued to the end: 宗地面积_亩, 税收万元
        full = norm_header(raw)
        for c in KINDS[kind]:
            ukind = ALIASES[c][0]
            if ukind is None:
                continue
            for u in sorted(UNIT_FACTORS[ukind], key=len, reverse=True):
                if u and full.endswith(u) and len(full) > len(u):
                    h2 = idx.get(full[: -len(u)])
                    if h2 is not None and h2[0] == c:
                        hit, unit = h2, u
                        break
            if hit is not None:
                break
    if hit is None:
        hit = _truncated(key, raw.strip(), kind)
        if isinstance(hit, set):
            return ColumnMatch(raw, None, candidates=tuple(sorted(hit)))
    if hit is None:
        return ColumnMatch(raw, None)
    canonical, prio = hit
    ukind = ALIASES[canonical][0]
    if unit is None or ukind is None:
        return ColumnMatch(raw, canonical, None, 1.0, True, None, prio)
    factor = UNIT_FACTORS[ukind].get(_unit_key(unit))
    if factor is None:
        return ColumnMatch(raw, canonical, unit, 1.0, False, None, prio)
    return ColumnMatch(raw, canonical, unit, factor, True, None, prio)


def map_columns(headers: list, kind: str) -> dict[str, ColumnMatch]:
    """For each original header, its :class:`ColumnMatch` (canonical name and unit factor).

    A shapefile name cut at 10 bytes that fits several columns (宗地面… for 宗地面积 or 宗地面积单位) takes
    the one no other header names. When several headers map to one canonical column, the one whose
    alias comes first in :data:`ALIASES` wins (ties: the leftmost column); the others get
    ``canonical=None`` and ``duplicate_of`` set, and are kept under their own names by the readers.
    """
    matches = [match_header(h, kind) for h in headers]
    changed = True
    while changed:  # truncated names fitting several columns: drop the columns other headers already have
        changed = False
        taken = {m.canonical for m in matches if m.canonical}
        for i, m in enumerate(matches):
            left = [c for c in m.candidates if c not in taken]
            if m.canonical is None and len(left) == 1:
                matches[i] = ColumnMatch(m.header, left[0], priority=1000)
                changed = True
                break
    best: dict[str, int] = {}
    for i, m in enumerate(matches):
        if m.canonical is None:
            continue
        j = best.get(m.canonical)
        if j is None or m.priority < matches[j].priority:
            best[m.canonical] = i
    out: dict[str, ColumnMatch] = {}
    for i, m in enumerate(matches):
        if m.canonical is not None and best[m.canonical] != i:
            m = ColumnMatch(m.header, None, m.unit, m.factor, m.unit_known, m.canonical, m.priority, m.candidates)
        out[str(headers[i])] = m
    return out


def accepted(canonical: str, n: int | None = None) -> str:
    """The accepted headers of a canonical column for messages: '宗地代码/宗地编码/…'."""
    names = list(ALIASES[canonical][1])
    return "/".join(names[:n] if n else names)


def header_score(cells: list, kinds: tuple[str, ...] = ("firm", "link", "parcel")) -> int:
    """How many distinct canonical columns a candidate header row names (used to find the header)."""
    found: set[str] = set()
    for c in cells:
        if c is None or str(c).strip() == "":
            continue
        for k in kinds:
            m = match_header(c, k)
            if m.canonical is not None:
                found.add(m.canonical)
                break
    return len(found)


def unit_factor(unit: object, unit_kind: str) -> float | None:
    """Factor of a unit written in a cell (e.g. a 面积单位 field holding 平方米/亩/公顷), None if unknown."""
    if unit is None:
        return None
    return UNIT_FACTORS[unit_kind].get(_unit_key(unit))
