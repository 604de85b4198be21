"""Deterministic demo city: a Nanchong-like set of industrial parks, as a bureau would hand it over.

Run ``python -m parkland.demo [--out DIR]`` (default: the repository's ``data/demo/``). It writes

- ``city.gpkg``: layers ``zongdi`` (parcels, EPSG:4523), ``buildings`` (EPSG:4523), ``parks`` (EPSG:4490);
- ``firms_2025.xlsx`` / ``firms_2024.xlsx``: the firm tables (sheet 企业数据, one title row);
- ``links.csv``: the 企业-宗地对应表 (GBK);
- ``ndvi.tif``: NDVI over the parks, EPSG:32648, uint8, DN = 100 × (NDVI + 1), nodata 255.

Everything comes from one ``numpy.random.Generator`` seeded with :data:`SEED`, so a rerun gives the
same content (GPKG timestamps aside). ``data/demo/README.md`` lists every field and deliberate defect.

Calibration: after drawing per-mu figures from log-normal distributions, the 规上 firms' figures are
scaled so that, over the graded-like population (规上, land from parcels, inside a park, not exempt,
not a duplicate row), Σtax / Σland = :data:`TARGET_TAX_PER_MU` and Σrevenue / Σland =
:data:`TARGET_REVENUE_PER_MU`; last year's figures are scaled so that, over firms present in both years,
Σoutput₂₀₂₅ / Σoutput₂₀₂₄ = 1.06 (revenue likewise) and Σtax₂₀₂₅ / Σtax₂₀₂₄ = 1.03.

This module is a generator beside the assessment flow, not part of it: it builds a few thousand
records with plain loops where that reads best.
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import rasterio
import shapely
import xlsxwriter
from pyproj import Transformer
from rasterio import Affine
from rasterio.features import rasterize

from parkland import uscc
from parkland.units import M2_PER_MU, MU_PER_M2

SEED = 20251231
YEAR = 2025
AS_OF = pd.Timestamp("2025-12-31")
TARGET_TAX_PER_MU = 14.0
TARGET_REVENUE_PER_MU = 430.0
GROWTH_OUTPUT = 1.06
GROWTH_TAX = 1.03
CRS_PARCELS = "EPSG:4523"
CRS_PARKS = "EPSG:4490"
CRS_NDVI = "EPSG:32648"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "data" / "demo"
CREATED = dt.datetime(2026, 1, 15, 9, 30, 0)
SHEET = "企业数据"
FILES = ("city.gpkg", "firms_2025.xlsx", "firms_2024.xlsx", "links.csv", "ndvi.tif")

RESERVE_NAME = "南充市土地储备中心"
RESERVE_USCC = uscc.make("12511300" + "MB1575839")

# name, county, lon, lat, parcels, grid rotation (deg), 地籍区, industries (GB/T 4754-2017 code, name word),
# share of 仓储用地, platform company
PARKS = [
    (
        "南充经济开发区",
        "511302",
        106.070,
        30.835,
        360,
        8.0,
        "004",
        [
            ("3670", "汽车零部件"),
            ("3612", "汽车制造"),
            ("2614", "化工"),
            ("2651", "新材料"),
            ("3831", "电线电缆"),
            ("3811", "电机"),
            ("3360", "金属表面处理"),
        ],
        0.02,
        "南充经开区投资集团有限公司",
    ),
    (
        "南充高坪航空港经济开发区",
        "511303",
        106.150,
        30.800,
        290,
        -12.0,
        "012",
        [
            ("3982", "电子电路"),
            ("3976", "光电子器件"),
            ("3744", "航空装备"),
            ("3484", "机械零部件"),
            ("3311", "钢结构"),
            ("3432", "输送设备"),
        ],
        0.02,
        "南充航空港投资开发有限公司",
    ),
    (
        "嘉陵工业园区",
        "511304",
        106.030,
        30.745,
        230,
        4.0,
        "007",
        [
            ("1741", "丝绸"),
            ("1810", "服装"),
            ("1353", "食品"),
            ("1512", "酒业"),
            ("1469", "调味品"),
            ("2231", "包装"),
        ],
        0.02,
        "嘉陵工业园区建设开发有限公司",
    ),
    (
        "南充现代物流园",
        "511303",
        106.200,
        30.745,
        110,
        15.0,
        "015",
        [("5920", "仓储"), ("5990", "物流"), ("3130", "钢材加工"), ("2929", "塑料制品")],
        0.30,
        "南充现代物流园开发有限公司",
    ),
]
OUTSIDE = (
    "",
    "511302",
    106.120,
    30.870,
    40,
    2.0,
    "002",
    [("3021", "水泥制品"), ("2110", "家具"), ("3311", "金属结构")],
    0.0,
    "",
)
UTILITIES = [
    ("4430", "热力", "南充经开区热力有限公司"),
    ("4511", "燃气", "南充高坪天然气有限公司"),
    ("4610", "供水", "嘉陵工业园区供水有限公司"),
    ("4620", "污水处理", "南充嘉陵污水处理有限公司"),
    ("4412", "热电", "南充航空港热电有限公司"),
]
HOSTILE_NAMES = ["<img src=x onerror=alert(1)>", '=HYPERLINK("http://x","点我")']

BRAND1 = "华嘉顺高安宏永金瑞新恒鑫天泰利盛中兴丰通川蜀凯德力源广明和远"
BRAND2 = "达丰源盛泰鑫恒诚信邦锐博海发润科宇航祥乐美佳云能峰晟威茂隆辉"
ALNUM = "0123456789ABCDEFGHJKLMNPQRTUWXY"

FIRM_HEADERS = [
    "企业名称",
    "统一社会信用代码",
    "宗地代码",
    "企业规模",
    "行业代码",
    "所属园区",
    "成立日期",
    "营业收入（万元）",
    "工业总产值（万元）",
    "税收实际入库（万元）",
    "工业增加值（万元）",
    "综合能耗（吨标准煤）",
    "用电量（万千瓦时）",
    "主要污染物排放量（吨）",
    "年平均职工人数（人）",
    "研发经费支出（万元）",
    "用地面积（亩）",
    "租用面积（平方米）",
    "经度",
    "纬度",
    "重大安全环保事故",
    "年份",
]
LINK_HEADERS = ["统一社会信用代码", "企业名称", "宗地代码", "租用面积（平方米）", "用地比例"]
PARCEL_FIELDS = [
    "宗地代码",
    "用途",
    "宗地面积",
    "面积单位",
    "权利人",
    "权利人证件号",
    "园区",
    "行业代码",
    "供地日期",
    "约定开工日期",
    "实际开工日期",
    "约定竣工日期",
    "停工日期",
    "约定投资额（万元）",
    "实际投资额（万元）",
    "已开发面积（平方米）",
]

# deliberate defects (counts documented in data/demo/README.md)
N_RESERVE, N_RECENT, N_RECENT_NEW_FIRM = 20, 14, 4
N_IDLE_NS_1Y, N_IDLE_NS_2Y, N_IDLE_NS_IN_TABLE = 10, 20, 8
N_IDLE_ST = 12
N_PLATFORM_CODE, N_PLATFORM_LINK_SHARE, N_PLATFORM_LINK_OCC, N_PLATFORM_POINT, N_PLATFORM_EMPTY = (
    12,
    3,
    3,
    5,
    2,
)
N_HOLDER_LINK_TENANTS = 3
N_REPORTED_ONLY = 8
N_UNKNOWN_CODE, N_UNIT_NUMBER, N_CERT_OFF = 4, 4, 6
N_THOUSANDS, N_ACCIDENT, N_COLLAPSED, N_GONE, N_NEW_TENANTS = 6, 3, 6, 6, 6
N_L_SHAPE, N_MULTI, N_TALL, N_STRADDLE, N_OVERLAP = 14, 8, 12, 4, 4
MISSING_CELLS = {
    "综合能耗（吨标准煤）": 3,
    "用电量（万千瓦时）": 2,
    "年平均职工人数（人）": 2,
    "研发经费支出（万元）": 2,
    "工业增加值（万元）": 1,
}
IDLE_FLOOR_TARGET = (40_000.0, 50_000.0)


@dataclass
class DemoCity:
    """Everything the generator made, as written, plus the design truth used for checks."""

    parcels: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    parks: gpd.GeoDataFrame
    firms_2025: pd.DataFrame
    firms_2024: pd.DataFrame
    links: pd.DataFrame
    ndvi: np.ndarray
    ndvi_transform: object
    truth_firms: pd.DataFrame
    truth_parcels: pd.DataFrame
    stats: dict = field(default_factory=dict)


# --------------------------------------------------------------------------------------------- helpers
class _Names:
    """Unique firm names and credit codes."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used_names: set[str] = set(HOSTILE_NAMES) | {RESERVE_NAME}
        self.used_codes: set[str] = {RESERVE_USCC}

    def name(self, word: str, *, kind: str = "firm") -> str:
        rng = self.rng
        while True:
            brand = BRAND1[rng.integers(len(BRAND1))] + BRAND2[rng.integers(len(BRAND2))]
            if kind == "project":
                prefix = ["南充", "四川"][int(rng.random() < 0.3)]
                name = f"{prefix}{brand}{word}有限公司"
            else:
                prefix = ["南充", "四川", "四川南充"][int(rng.choice(3, p=[0.55, 0.35, 0.10]))]
                suffix = ["有限公司", "股份有限公司", "有限责任公司"][
                    int(rng.choice(3, p=[0.75, 0.15, 0.10]))
                ]
                name = f"{prefix}{brand}{word}{suffix}"
            if name not in self.used_names:
                self.used_names.add(name)
                return name

    def code(self, county: str) -> str:
        rng = self.rng
        while True:
            body = "".join(ALNUM[i] for i in rng.integers(0, 10, 6)) + "".join(
                ALNUM[i] for i in rng.integers(0, len(ALNUM), 3)
            )
            code = uscc.make("91" + county + body)
            if code not in self.used_codes:
                self.used_codes.add(code)
                return code


# ---------------------------------------------------------------------------------------------- layout
def _layout(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """Parcels along a road grid in a local frame (x along the frontage road, y away from it), metres.

    Areas are log-normal (median 18 亩, σ 0.9) clipped to 3–300 亩; each parcel is a rectangle or a
    trapezoid (back corners at depth d(1±s), so the area stays w × d). Parcels of similar depth share a
    row (rows then come in random order), neighbours share boundaries or keep a few metres apart, a 36 m
    road runs between rows and a 30 m cross road every 600 m. Rows come out in order, left to right.
    """
    area = np.clip(rng.lognormal(np.log(18.0), 0.9, n), 3.0, 300.0) * M2_PER_MU
    ratio = rng.uniform(0.55, 1.7, n)
    depth = np.sqrt(area / ratio)
    width = area / depth
    skew = np.where(rng.random(n) < 0.35, rng.uniform(-0.08, 0.08, n), 0.0)
    gap = np.where(rng.random(n) < 0.6, 0.0, rng.uniform(3.0, 15.0, n))
    row_len = np.sqrt(area.sum() * 1.3)
    by_depth = np.argsort(-depth, kind="stable")
    row_of = np.empty(n, dtype=np.int64)
    used, r = 0.0, 0
    for i in by_depth:
        if used > 0 and used + width[i] > row_len:
            used, r = 0.0, r + 1
        row_of[i] = r
        used += width[i] + gap[i] + 3.0
    n_rows = r + 1
    x0 = np.empty(n)
    for r in range(n_rows):
        x, cross = 0.0, 600.0
        for i in rng.permutation(np.flatnonzero(row_of == r)):
            if x + width[i] / 2 > cross:  # the parcel would sit across the next cross road
                x = max(x, cross) + 30.0
                cross += 600.0
            x0[i] = x
            x += width[i] + gap[i]
    height = pd.Series(depth * (1 + np.abs(skew))).groupby(row_of).max().to_numpy()
    place = rng.permutation(n_rows)  # row r goes to position place[r]
    pitch = height[np.argsort(place)] + 36.0
    y_at = np.concatenate([[0.0], np.cumsum(pitch)[:-1]])
    row = place[row_of]
    y0 = y_at[row]
    cx = (x0.min() + (x0 + width).max()) / 2
    cy = (y0.min() + (y0 + depth * (1 + np.abs(skew))).max()) / 2
    frame = pd.DataFrame(
        {"x0": x0 - cx, "x1": x0 + width - cx, "y0": y0 - cy, "depth": depth, "slant": skew, "row": row}
    )
    return frame.sort_values(["row", "x0"], kind="stable").reset_index(drop=True)


def _local_polygon(p: pd.Series) -> shapely.Geometry:
    """The parcel's polygon in its park's local frame, by shape kind."""
    x0, x1, y0, d, s = p.x0, p.x1, p.y0, p.depth, p.slant
    w = x1 - x0
    if p.form == "L":
        return shapely.Polygon(
            [
                (x0, y0),
                (x1, y0),
                (x1, y0 + 0.55 * d),
                (x0 + 0.6 * w, y0 + 0.55 * d),
                (x0 + 0.6 * w, y0 + d),
                (x0, y0 + d),
            ]
        )
    if p.form == "multi":
        xm = x0 + 0.5 * w
        return shapely.MultiPolygon(
            [shapely.box(x0, y0, xm - 5, y0 + d), shapely.box(xm + 5, y0, x1, y0 + d)]
        )
    if p.form == "bowtie":
        return shapely.Polygon([(x0, y0), (x1, y0 + d), (x1, y0), (x0, y0 + d)])
    if p.form == "empty":
        return shapely.Polygon()
    return shapely.Polygon([(x0, y0), (x1, y0), (x1, y0 + d * (1 - s)), (x0, y0 + d * (1 + s))])


def _inner_box(p: pd.Series) -> tuple[float, float, float, float]:
    """Where buildings may stand on a parcel (local frame): setbacks, the front part of an L, the left
    part of a two-part parcel, the shallow side of a trapezoid."""
    w = p.x1 - p.x0
    x_right = p.x0 + 0.5 * w - 5 if p.form == "multi" else p.x1
    d = 0.55 * p.depth if p.form == "L" else p.depth * (1 - abs(p.slant))
    return p.x0 + 6.0, p.y0 + 10.0, x_right - 6.0, p.y0 + d - 6.0


class _Frame:
    """Local park frame → EPSG:4523: rotate by the grid angle, then shift to the park centre."""

    def __init__(self, lon: float, lat: float, angle_deg: float) -> None:
        e, n = Transformer.from_crs(CRS_PARKS, CRS_PARCELS, always_xy=True).transform(lon, lat)
        self.e, self.n = e, n
        a = np.radians(angle_deg)
        self.c, self.s = np.cos(a), np.sin(a)

    def __call__(self, xy: np.ndarray) -> np.ndarray:
        x, y = xy[:, 0], xy[:, 1]
        out = np.column_stack([self.e + x * self.c - y * self.s, self.n + x * self.s + y * self.c])
        return np.round(out, 3)


# ------------------------------------------------------------------------------------------------ build
def build(seed: int = SEED) -> DemoCity:
    """Generate the demo city in memory (no file is written)."""
    rng = np.random.default_rng(seed)
    names = _Names(rng)
    specs = [*PARKS, OUTSIDE]
    frames = [_Frame(sp[2], sp[3], sp[5]) for sp in specs]

    # ---- layout and roles -------------------------------------------------------------------------------
    P = pd.concat([_layout(rng, sp[4]).assign(park=k) for k, sp in enumerate(specs)], ignore_index=True)
    n = len(P)
    P["area_design"] = (P.x1 - P.x0) * P.depth
    mu = P.area_design * MU_PER_M2
    inpark = P.park < len(PARKS)
    role = np.full(n, "active", dtype=object)
    eligible = rng.permutation(np.flatnonzero(inpark & mu.between(8, 80)))
    n_platform = (
        N_PLATFORM_CODE + N_PLATFORM_LINK_SHARE + N_PLATFORM_LINK_OCC + N_PLATFORM_POINT + N_PLATFORM_EMPTY
    )
    platform = eligible[:n_platform]
    role[platform] = "platform"
    rest = rng.permutation(np.setdiff1d(np.flatnonzero(inpark), platform))
    counts = [
        ("reserve", N_RESERVE),
        ("recent", N_RECENT),
        ("idle_ns", N_IDLE_NS_1Y + N_IDLE_NS_2Y + 2),
        ("idle_st", N_IDLE_ST + 6),
    ]
    pos = 0
    for r, k in counts:
        role[rest[pos : pos + k]] = r
        pos += k
    P["role"] = role

    # shapes: L-shapes and two-part parcels on built parcels, bow-ties and the empty one on reserve land
    shape = np.where(P["slant"] != 0, "trap", "rect").astype(object)
    cand = rng.permutation(np.flatnonzero((shape == "rect") & (role == "active") & (mu > 10)))
    shape[cand[:N_L_SHAPE]] = "L"
    shape[cand[N_L_SHAPE : N_L_SHAPE + N_MULTI]] = "multi"
    reserve = np.flatnonzero(role == "reserve")
    shape[reserve[:2]] = "bowtie"
    shape[reserve[2]] = "empty"
    P["form"] = shape

    # ---- holder firms: runs of 1–3 neighbouring active parcels ----------------------------------------
    firms: list[dict] = []
    owner = np.full(n, -1)
    for i in range(n):
        if role[i] != "active":
            continue
        prev = firms[-1] if firms else None
        if (
            prev is not None
            and prev["kind"] == "holder"
            and i - 1 == prev["parcels"][-1]
            and P.park[i] == P.park[i - 1]
            and P.row[i] == P.row[i - 1]
            and len(prev["parcels"]) < 3
            and rng.random() < 0.22
        ):
            prev["parcels"].append(i)
        else:
            firms.append({"kind": "holder", "parcels": [i], "park": int(P.park[i])})
        owner[i] = len(firms) - 1
    n_holders = len(firms)
    hidx = np.arange(n_holders)
    in_park_h = np.array([f["park"] < len(PARKS) for f in firms])
    stopped = rng.random(n_holders) < 0.055
    for k in hidx:
        f = firms[k]
        sp = specs[f["park"]]
        f["county"] = sp[1]
        code, word = sp[7][rng.integers(len(sp[7]))]
        f["industry"], f["word"] = code, word
        f["stopped"] = bool(stopped[k])
        f["scale"] = "规上" if rng.random() < (0.5 if stopped[k] else 0.62) else "规下"

    def pick(mask: np.ndarray, k: int, taken: set[int]) -> list[int]:
        pool = [int(i) for i in rng.permutation(np.flatnonzero(mask)) if int(i) not in taken]
        out = pool[:k]
        taken.update(out)
        return out

    taken: set[int] = set()
    normal = ~stopped
    above = np.array([f["scale"] == "规上" for f in firms])
    single = np.array([len(f["parcels"]) == 1 for f in firms])
    utilities = pick(normal & in_park_h & single, len(UTILITIES), taken)
    collapsed = pick(normal & in_park_h & above, N_COLLAPSED, taken)
    hostile = pick(normal & ~above, 2, taken)
    broken = pick(normal, 3, taken)
    negative = pick(normal & ~above, 2, taken)
    no_emission = pick(normal & in_park_h & above, 1, taken)
    accident = pick(normal & above, N_ACCIDENT, taken)
    unit_number = pick(normal & single, N_UNIT_NUMBER, taken)
    duplicate_of = pick(normal & single, 1, taken)
    idle_owners = pick(normal & in_park_h, N_IDLE_NS_IN_TABLE, taken)
    point_outside = pick(normal & single & in_park_h, 1, taken)
    missing_pool = pick(normal, sum(MISSING_CELLS.values()), taken)
    for j, k in enumerate(utilities):
        code, word, name = UTILITIES[j]
        firms[k].update(industry=code, word=word, name=name, scale="规上", utility=True)
        names.used_names.add(name)
    for k in collapsed:
        firms[k]["collapsed"] = True
    for j, k in enumerate(hostile):
        firms[k]["name"] = HOSTILE_NAMES[j]
    for k in hidx:
        f = firms[k]
        if "name" not in f:
            f["name"] = names.name(f["word"])
        f["uscc"] = names.code(f["county"])

    # ---- parcel attributes -------------------------------------------------------------------------------
    holder_name = np.empty(n, dtype=object)
    holder_code = np.empty(n, dtype=object)
    industry = np.full(n, None, dtype=object)
    for i in range(n):
        if owner[i] >= 0:
            f = firms[owner[i]]
            holder_name[i], holder_code[i], industry[i] = f["name"], f["uscc"], f["industry"]
    platform_holders = {}
    for k, sp in enumerate(PARKS):
        platform_holders[k] = (sp[9], names.code(sp[1]))
    recent_idx = np.flatnonzero(role == "recent")
    idle_ns_idx = np.flatnonzero(role == "idle_ns")
    new_holders = []
    for i in np.flatnonzero(role != "active"):
        sp = specs[P.park[i]]
        if role[i] == "reserve":
            holder_name[i], holder_code[i] = RESERVE_NAME, RESERVE_USCC
        elif role[i] == "platform":
            holder_name[i], holder_code[i] = platform_holders[P.park[i]]
        else:
            code, word = sp[7][rng.integers(len(sp[7]))]
            industry[i] = code
            if role[i] == "recent" and i in recent_idx[:N_RECENT_NEW_FIRM]:
                f = {
                    "kind": "holder_new",
                    "parcels": [int(i)],
                    "park": int(P.park[i]),
                    "county": sp[1],
                    "industry": code,
                    "word": word,
                    "stopped": False,
                    "scale": "规下",
                }
                f["name"] = names.name(word)
                f["uscc"] = names.code(sp[1])
                firms.append(f)
                owner[i] = len(firms) - 1
                new_holders.append(owner[i])
                holder_name[i], holder_code[i] = f["name"], f["uscc"]
            else:
                holder_name[i] = names.name(
                    ["实业", "科技", "置业", "新材料"][rng.integers(4)], kind="project"
                )
                holder_code[i] = names.code(sp[1])
    # in-table firms that also hold a never-started parcel
    for k, i in zip(idle_owners, idle_ns_idx[:N_IDLE_NS_IN_TABLE]):
        f = firms[k]
        f["parcels"].append(int(i))
        owner[i] = k
        holder_name[i], holder_code[i], industry[i] = f["name"], f["uscc"], f["industry"]

    # land use
    wshare = np.array([specs[k][8] for k in P.park])
    land_use = np.where(rng.random(n) < wshare, "仓储用地", "工业用地").astype(object)
    land_use[role == "reserve"] = "工业用地"
    P["_land_use"] = land_use
    # dates and investment
    rs = rng.random((n, 8))

    def day(lo: str, hi: str, u: np.ndarray) -> pd.Series:
        a, b = pd.Timestamp(lo), pd.Timestamp(hi)
        return pd.Series(a + pd.to_timedelta(np.floor(u * (b - a).days), unit="D"))

    granted = day("2003-01-01", "2022-06-30", rs[:, 0])
    agreed = granted + pd.to_timedelta(np.floor(90 + 150 * rs[:, 1]), unit="D")
    actual = agreed + pd.to_timedelta(np.floor(-20 + 220 * rs[:, 2]), unit="D")
    completion = agreed + pd.to_timedelta(np.floor(540 + 360 * rs[:, 3]), unit="D")
    stop = pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]")
    area_design = P.area_design.to_numpy().copy()
    agreed_inv = np.round(area_design * MU_PER_M2 * (150 + 230 * rs[:, 4]), 2)
    actual_inv = np.round(agreed_inv * (0.85 + 0.5 * rs[:, 5]), 2)
    # completed projects developed their whole parcel; one in ten stopped part-way (用而未尽)
    developed = np.round(area_design * np.where(rs[:, 6] < 0.1, 0.5 + 4.5 * rs[:, 6], 1.0), 2)
    old = (granted < pd.Timestamp("2008-01-01")).to_numpy() & (role == "active")
    # idle, never started: 1–2 years and over 2 years past the agreed start, plus the two boundary cases
    ns = idle_ns_idx
    lag = np.concatenate([rng.uniform(380, 720, N_IDLE_NS_1Y), rng.uniform(760, 2600, N_IDLE_NS_2Y)])
    ns_agreed = list(AS_OF - pd.to_timedelta(np.floor(lag), unit="D"))
    ns_agreed += [pd.Timestamp("2024-12-20"), pd.Timestamp("2025-01-10")]  # just idle / just not yet
    order = rng.permutation(len(ns))
    ns_agreed = [ns_agreed[j] for j in order]
    for i, a in zip(ns, ns_agreed):
        agreed[i] = a
        granted[i] = a - pd.Timedelta(days=int(rng.integers(90, 240)))
        completion[i] = a + pd.Timedelta(days=int(rng.integers(540, 900)))
        actual[i] = pd.NaT
        actual_inv[i] = np.nan
        developed[i] = 0.0
    # idle after starting: (developed share, investment share, stopped since)
    st = np.flatnonzero(role == "idle_st")
    st_cases = [
        (rng.uniform(0.04, 0.30), rng.uniform(0.05, 0.22) if j % 2 else rng.uniform(0.3, 0.6), None)
        for j in range(N_IDLE_ST)
    ]
    st_cases += [
        (0.32, 0.40, "2023-06-15"),
        (0.35, 0.40, "2023-06-15"),
        (0.60, 0.24, "2023-03-01"),
        (0.60, 0.26, "2023-03-01"),
        (0.20, 0.10, "2024-12-20"),
        (0.20, 0.10, "2025-01-10"),
    ]
    st_boundary = []
    for j, i in enumerate(st):
        dshare, ishare, since = st_cases[j]
        granted[i] = day("2011-01-01", "2019-06-30", rng.random(1))[0]
        agreed[i] = granted[i] + pd.Timedelta(days=int(rng.integers(90, 240)))
        actual[i] = agreed[i] + pd.Timedelta(days=int(rng.integers(0, 150)))
        completion[i] = agreed[i] + pd.Timedelta(days=int(rng.integers(540, 900)))
        if since is None:
            lo = actual[i] + pd.Timedelta(days=200)
            stop[i] = lo + pd.Timedelta(
                days=int(rng.integers(0, max((pd.Timestamp("2024-10-31") - lo).days, 1)))
            )
        else:
            stop[i] = pd.Timestamp(since)
            st_boundary.append(int(i))
        developed[i] = round(dshare * P.area_design[i], 2)
        actual_inv[i] = round(ishare * agreed_inv[i], 2)
    # recently granted: the agreed start is less than a year ago or still ahead
    for i in recent_idx:
        agreed[i] = day("2025-02-01", "2026-03-31", rng.random(1))[0]
        granted[i] = agreed[i] - pd.Timedelta(days=int(rng.integers(90, 200)))
        completion[i] = agreed[i] + pd.Timedelta(days=int(rng.integers(540, 900)))
        actual[i] = pd.NaT
        actual_inv[i] = np.nan
        developed[i] = 0.0
    res = role == "reserve"
    for arr in (granted, agreed, actual, completion):
        arr[res] = pd.NaT
    for arr in (agreed, completion):
        arr[old] = pd.NaT
    agreed_inv[res | old] = np.nan
    actual_inv[res | old] = np.nan
    developed[res] = np.nan

    # ---- geometry -------------------------------------------------------------------------------------
    local = [_local_polygon(p) for p in P.itertuples()]
    geom = np.empty(n, dtype=object)
    for k, fr in enumerate(frames):
        idx = np.flatnonzero(P.park == k)
        geom[idx] = shapely.transform(np.array([local[i] for i in idx], dtype=object), fr)
    valid_area = shapely.area(shapely.make_valid(geom))
    area_m2 = np.where(np.isin(P["form"], ["bowtie", "empty"]), P.area_design, shapely.area(geom))
    cert_factor = np.ones(n)
    off = _pick_from(rng, (role == "active") & (owner >= 0), N_CERT_OFF)
    cert_factor[off] = [1.08, 1.12, 0.90, 0.86, 1.25, 0.93][:N_CERT_OFF]
    cert_m2 = area_m2 * cert_factor
    unit = np.array(["平方米", "亩", "公顷"], dtype=object)[rng.choice(3, n, p=[0.6, 0.25, 0.15])]
    cert_value = np.where(
        unit == "平方米",
        np.round(cert_m2, 2),
        np.where(unit == "亩", np.round(cert_m2 * MU_PER_M2, 2), np.round(cert_m2 / 1e4, 4)),
    )

    # parcel codes: county + 地籍区 + 地籍子区 (3 rows each) + GB + sequence with gaps
    codes = np.empty(n, dtype=object)
    for k, sp in enumerate(specs):
        idx = np.flatnonzero(P.park == k)
        seq: dict[int, int] = {}
        for i in idx:
            sub = int(P.row[i]) // 3 + 1
            seq[sub] = seq.get(sub, 0) + 1 + (int(rng.integers(1, 5)) if rng.random() < 0.2 else 0)
            codes[i] = f"{sp[1]}{sp[6]}{sub:03d}GB{seq[sub]:05d}"
    dup_target = reserve[4]
    codes[reserve[3]] = codes[dup_target]  # one duplicated 宗地代码 (two reserve polygons)
    park_field = np.array([specs[k][0] for k in P.park], dtype=object)
    blank_park = _pick_from(rng, inpark.to_numpy(), 90)
    park_field[blank_park] = None  # NULL inside a park: the boundary decides
    park_field[~inpark.to_numpy()] = None

    # ---- firms beyond the holders ----------------------------------------------------------------------
    pairs: list[tuple[int, int, float]] = []  # (firm, parcel, share)
    links: list[dict] = []
    for k in range(len(firms)):
        for i in firms[k]["parcels"]:
            pairs.append((k, i, 1.0))

    def tenant(kind: str, park: int, scale: str = "规下") -> int:
        sp = specs[park]
        code, word = sp[7][rng.integers(len(sp[7]))]
        f = {
            "kind": kind,
            "parcels": [],
            "park": park,
            "county": sp[1],
            "industry": code,
            "word": word,
            "stopped": False,
            "scale": scale,
            "name": names.name(word),
            "uscc": names.code(sp[1]),
        }
        firms.append(f)
        return len(firms) - 1

    pl = rng.permutation(platform)
    cuts = np.cumsum([N_PLATFORM_CODE, N_PLATFORM_LINK_SHARE, N_PLATFORM_LINK_OCC, N_PLATFORM_POINT])
    pl_code, pl_lshare, pl_locc, pl_point, pl_empty = np.split(pl, cuts)
    point_of: dict[int, tuple[int, tuple[float, float]]] = {}
    for i in pl_code:
        m = int(rng.integers(3, 6))
        ks = [
            tenant("tenant_code", int(P.park[i]), "规上" if rng.random() < 0.15 else "规下") for _ in range(m)
        ]
        occ = np.round(rng.uniform(800, 6000, m))
        for k, o in zip(ks, occ):
            firms[k]["parcels"] = [int(i)]
            firms[k]["occupied"] = float(o)
            pairs.append((k, int(i), float(o / occ.sum())))
    for i in pl_lshare:
        m = int(rng.integers(2, 4))
        shares = np.round(rng.dirichlet(np.ones(m)) * rng.uniform(0.6, 0.95), 2)
        for s_ in shares:
            k = tenant("tenant_link", int(P.park[i]))
            occ = float(np.round(s_ * P.area_design[i] * rng.uniform(0.8, 1.6)))
            pairs.append((k, int(i), float(s_)))
            links.append({"firm": k, "parcel": int(i), "occupied": occ, "share": float(s_)})
    for i in pl_locc:
        m = int(rng.integers(2, 4))
        occ = np.round(rng.uniform(800, 5000, m))
        for o in occ:
            k = tenant("tenant_link", int(P.park[i]))
            pairs.append((k, int(i), float(o / occ.sum())))
            links.append({"firm": k, "parcel": int(i), "occupied": float(o), "share": np.nan})
    holder_link_parcels = _pick_from(
        rng,
        (role == "active")
        & (owner >= 0)
        & inpark.to_numpy()
        & np.isin(P["form"], ["rect", "trap"])
        & ~np.isin(np.arange(n), off),
        N_HOLDER_LINK_TENANTS,
    )
    for i in holder_link_parcels:
        s_ = float(np.round(rng.uniform(0.1, 0.3), 2))
        k = tenant("tenant_link", int(P.park[i]))
        links.append(
            {"firm": k, "parcel": int(i), "occupied": float(np.round(rng.uniform(500, 3000))), "share": s_}
        )
        pairs = [(a, b, 1.0 - s_) if (b == i and a == owner[i]) else (a, b, c) for a, b, c in pairs]
        pairs.append((k, int(i), s_))
    for i in pl_point:
        m = int(rng.integers(2, 4))
        bx = _inner_box(P.loc[i])
        for _ in range(m):
            k = tenant("tenant_point", int(P.park[i]))
            u = rng.uniform(0.25, 0.75, 2)
            point_of[k] = (int(P.park[i]), (bx[0] + u[0] * (bx[2] - bx[0]), bx[1] + u[1] * (bx[3] - bx[1])))
            pairs.append((k, int(i), 1.0 / m))
    for _ in range(N_REPORTED_ONLY):
        k = tenant("tenant_reported", int(rng.integers(len(PARKS))))
        firms[k]["reported"] = float(np.round(rng.uniform(2, 12), 1))
    # firms whose cell names a parcel that does not exist
    unknown = []
    for j in range(N_UNKNOWN_CODE):
        park = int(rng.integers(len(PARKS)))
        k = tenant("unknown_code", park, "规上" if j == 0 else "规下")
        sp = specs[park]
        firms[k]["cell"] = (
            f"{sp[1]}{sp[6]}{int(rng.integers(1, 4)):03d}GB{int(rng.integers(90000, 99999)):05d}"
        )
        firms[k]["pseudo_land"] = float(rng.uniform(5, 30))
        unknown.append(k)
    tenants_code = [k for k, f in enumerate(firms) if f["kind"] == "tenant_code"]
    new_tenants = [int(k) for k in rng.permutation(tenants_code)[:2]]
    for k in new_tenants:
        firms[k]["kind"] = "tenant_code_new"
    for k in new_holders:
        firms[k]["kind"] = "holder_new"

    # ---- truth land --------------------------------------------------------------------------------------
    pf = pd.DataFrame(pairs, columns=["firm", "parcel", "share"])
    pf["area_mu"] = valid_area[pf.parcel] * MU_PER_M2
    pf["land_mu"] = pf.share * pf.area_mu
    land = pf.groupby("firm")["land_mu"].sum().reindex(range(len(firms)), fill_value=0.0).to_numpy().copy()
    nf = len(firms)
    kind = np.array([f["kind"] for f in firms], dtype=object)
    for k in range(nf):
        if kind[k] == "tenant_reported":
            land[k] = firms[k]["reported"]

    # ---- figures (2025) ----------------------------------------------------------------------------------
    scale = np.array([f["scale"] for f in firms], dtype=object)
    is_above = scale == "规上"
    stop_f = np.array([f["stopped"] for f in firms])
    utility = np.array([bool(f.get("utility")) for f in firms])
    new_f = np.isin(kind, ["holder_new", "tenant_code_new"])
    coll_f = np.array([bool(f.get("collapsed")) for f in firms])
    f_park = np.array([f["park"] for f in firms])
    f_inpark = f_park < len(PARKS)
    base_land = np.where(land > 0, land, [f.get("pseudo_land", 5.0) for f in firms])
    tpm = np.where(is_above, rng.lognormal(np.log(9.5), 0.85, nf), rng.lognormal(np.log(4.0), 0.9, nf))
    rratio = np.where(is_above, rng.lognormal(np.log(30), 0.35, nf), rng.lognormal(np.log(35), 0.35, nf))
    tax = tpm * base_land
    revenue = tax * rratio
    tax_24_base, rev_24_base = tax.copy(), revenue.copy()  # what a stopped firm used to make
    collapse = rng.uniform(0.05, 0.2, nf)
    revenue = np.where(coll_f, revenue * collapse, revenue)
    tax = np.where(coll_f, tax * collapse, tax)
    revenue[new_f] = rng.uniform(50, 800, new_f.sum())
    tax[new_f] = rng.uniform(1, 20, new_f.sum())
    revenue[stop_f] = 0.0
    tax[stop_f] = 0.0
    graded_like = is_above & (land > 0) & f_inpark & ~utility & ~new_f & (kind != "tenant_reported")
    scalable = is_above & ~stop_f & ~new_f
    tax[scalable] *= TARGET_TAX_PER_MU * land[graded_like].sum() / tax[graded_like].sum()
    revenue[scalable] *= TARGET_REVENUE_PER_MU * land[graded_like].sum() / revenue[graded_like].sum()
    tax = np.round(tax, 2)
    revenue = np.round(revenue, 2)
    output = np.round(revenue * rng.uniform(0.92, 1.12, nf), 2)
    va = np.round(output * rng.uniform(0.2, 0.32, nf), 2)
    energy = np.round(revenue / rng.lognormal(np.log(5.5), 0.6, nf), 2)
    elec = np.round(revenue * rng.lognormal(np.log(0.11), 0.5, nf), 2)
    emis = np.round(va / rng.lognormal(np.log(3000), 1.0, nf), 3)
    emp = np.maximum(5, np.round(revenue / rng.lognormal(np.log(120), 0.5, nf)))
    rd = np.round(
        revenue
        * np.where(is_above, rng.lognormal(np.log(0.012), 0.7, nf), rng.lognormal(np.log(0.004), 0.7, nf)),
        2,
    )
    emp[stop_f] = rng.integers(2, 9, stop_f.sum())
    for arr in (output, va, energy, elec, emis, rd):
        arr[stop_f] = 0.0
    tax[negative] = -np.round(rng.uniform(0.5, 5.0, len(negative)), 2)
    emis = emis.astype(float)
    emis[no_emission] = np.nan

    # ---- 2024 figures: same firms, a few new this year, a few gone ------------------------------------
    g_rev = rng.lognormal(0, 0.12, nf)
    g_out = g_rev * rng.uniform(0.98, 1.02, nf)
    g_tax = rng.lognormal(0, 0.12, nf)
    stop_zero = rng.random(nf) < 0.5
    back = rng.uniform(5, 12, nf)
    special = stop_f | coll_f
    rev24 = np.where(
        stop_f,
        np.where(stop_zero, 0.0, rev_24_base * rng.uniform(0.02, 0.15, nf)),
        np.where(coll_f, revenue * back, revenue / g_rev),
    )
    out24 = np.where(
        stop_f, rev24 * rng.uniform(0.92, 1.12, nf), np.where(coll_f, output * back, output / g_out)
    )
    tax24 = np.where(
        stop_f,
        np.where(stop_zero, 0.0, tax_24_base * rng.uniform(0.02, 0.15, nf)),
        np.where(coll_f, tax * back, tax / g_tax),
    )
    tenants_new = [
        int(k) for k in rng.permutation(np.flatnonzero(np.isin(kind, ["tenant_code", "tenant_link"])))
    ][:N_NEW_TENANTS]
    new_this_year = sorted(set(np.flatnonzero(new_f).tolist()) | set(tenants_new))
    both = ~np.isin(np.arange(nf), new_this_year)
    for now, prev, target in (
        (revenue, rev24, GROWTH_OUTPUT),
        (output, out24, GROWTH_OUTPUT),
        (tax, tax24, GROWTH_TAX),
    ):
        norm = both & ~special
        fac = (now[both].sum() / target - prev[both & special].sum()) / prev[norm].sum()
        prev[norm] *= fac
    other24 = rng.uniform(0.95, 1.05, (nf, 6))

    # ---- firm cells --------------------------------------------------------------------------------------
    lonlat = Transformer.from_crs(CRS_PARCELS, "EPSG:4326", always_xy=True)
    holder_points = _pick_from(rng, (np.isin(kind, ["holder"]) & (rng.random(nf) < 0.4)), None)
    coords: dict[int, tuple[float, float]] = {}
    for k in [*holder_points, *point_outside]:
        i = firms[k]["parcels"][0]
        if k in point_outside:  # the point lies on a neighbouring parcel, not the coded one
            i = i + 1 if i + 1 < n and P.park[i + 1] == P.park[i] else i - 1
        bx = _inner_box(P.loc[i])
        xy = np.array([[(bx[0] + bx[2]) / 2, (bx[1] + bx[3]) / 2]])
        e, nn = frames[int(P.park[i])](xy)[0]
        coords[k] = lonlat.transform(e, nn)
    for k, (park, xy) in point_of.items():
        e, nn = frames[park](np.array([xy]))[0]
        coords[k] = lonlat.transform(e, nn)
    seps = ["、", "；"]
    for k, f in enumerate(firms):
        if "cell" in f:
            continue
        if kind[k] in ("tenant_link", "tenant_point", "tenant_reported"):
            f["cell"] = None
            continue
        pc = [codes[i] for i in f["parcels"]]
        if k in unit_number:
            pc = [pc[0] + "F" + f"0001{int(rng.integers(1, 30)):04d}"]
        f["cell"] = seps[k % 2].join(pc)
    granted_first = {k: granted[f["parcels"][0]] for k, f in enumerate(firms) if f["parcels"]}
    established = []
    for k in range(len(firms)):
        if new_f[k]:
            d = day("2024-02-01", "2025-09-30", rng.random(1))[0]
        elif kind[k] == "holder" and not pd.isna(granted_first.get(k, pd.NaT)):
            d = granted_first[k] - pd.Timedelta(days=int(rng.integers(0, 1100)))
            d = max(d, pd.Timestamp("1992-03-01"))
        else:
            d = day("2006-01-01", "2022-12-31", rng.random(1))[0]
        established.append(d.date())
    reported = np.full(nf, np.nan)
    for k, f in enumerate(firms):
        if kind[k] == "tenant_reported":
            reported[k] = f["reported"]
        elif kind[k] == "holder" and rng.random() < 0.3:
            cm = sum(cert_m2[i] for i in f["parcels"]) * MU_PER_M2
            reported[k] = round(cm * (1.0 if rng.random() < 0.8 else rng.uniform(0.8, 1.2)), 1)
    occupied = np.array([f.get("occupied", np.nan) for f in firms])
    park_cell = np.array([specs[p][0] for p in f_park], dtype=object)
    park_cell[rng.random(nf) < 0.05] = ""
    park_cell[kind == "tenant_reported"] = [specs[p][0] for p in f_park[kind == "tenant_reported"]]
    park_cell[park_cell == ""] = None
    ind_cell = np.array(
        [
            f["industry"] if (utility[k] or rng.random() >= 0.15) else f["industry"][:2]
            for k, f in enumerate(firms)
        ],
        dtype=object,
    )
    uscc_cell = np.array([f["uscc"] for f in firms], dtype=object)
    bad = []
    for j, k in enumerate(broken):
        c = uscc_cell[k]
        if j < 2:
            wrong = ALNUM[(ALNUM.index(c[-1]) + 7 + j) % len(ALNUM)]
            uscc_cell[k] = c[:-1] + wrong
        else:
            uscc_cell[k] = c[:-1]
        bad.append(k)

    cols = {h: [None] * nf for h in FIRM_HEADERS}
    cols["企业名称"] = [f["name"] for f in firms]
    cols["统一社会信用代码"] = list(uscc_cell)
    cols["宗地代码"] = [f["cell"] for f in firms]
    cols["企业规模"] = list(scale)
    cols["行业代码"] = list(ind_cell)
    cols["所属园区"] = list(park_cell)
    cols["成立日期"] = established
    figures = {
        "营业收入（万元）": revenue,
        "工业总产值（万元）": output,
        "税收实际入库（万元）": tax,
        "工业增加值（万元）": va,
        "综合能耗（吨标准煤）": energy,
        "用电量（万千瓦时）": elec,
        "主要污染物排放量（吨）": emis,
        "年平均职工人数（人）": emp,
        "研发经费支出（万元）": rd,
        "用地面积（亩）": reported,
        "租用面积（平方米）": occupied,
    }
    for h, v in figures.items():
        cols[h] = [None if np.isnan(x) else (int(x) if h == "年平均职工人数（人）" else float(x)) for x in v]
    cols["经度"] = [round(coords[k][0], 6) if k in coords else None for k in range(nf)]
    cols["纬度"] = [round(coords[k][1], 6) if k in coords else None for k in range(nf)]
    cols["重大安全环保事故"] = ["是" if k in accident else None for k in range(nf)]
    cols["年份"] = [YEAR] * nf
    f25 = pd.DataFrame(cols, dtype=object)
    # missing figures (blank cells, never zeros)
    j = 0
    for h, c in MISSING_CELLS.items():
        for k in missing_pool[j : j + c]:
            f25.at[k, h] = None
        j += c
    # numbers typed with thousands separators
    big = [
        k
        for k in rng.permutation(nf)
        if revenue[k] >= 1000 and not stop_f[k] and k not in missing_pool and k not in duplicate_of
    ]
    for j, k in enumerate(big[:N_THOUSANDS]):
        h = "营业收入（万元）" if j < 4 else "工业总产值（万元）"
        f25.at[k, h] = f"{f25.at[k, h]:,.2f}"

    # 2024 table
    f24 = f25.copy()
    f24 = f24.rename(
        columns={"营业收入（万元）": "营业收入（元）", "税收实际入库（万元）": "税收实际入库（元）"}
    )
    f24["营业收入（元）"] = [float(round(x * 1e4)) for x in rev24]
    f24["税收实际入库（元）"] = [float(round(x * 1e4)) for x in tax24]
    f24["工业总产值（万元）"] = [float(round(x, 2)) for x in out24]
    for j, h in enumerate(
        [
            "工业增加值（万元）",
            "综合能耗（吨标准煤）",
            "用电量（万千瓦时）",
            "主要污染物排放量（吨）",
            "年平均职工人数（人）",
            "研发经费支出（万元）",
        ]
    ):
        v = np.array([figures[h][k] for k in range(nf)], dtype=float) / other24[:, j]
        f24[h] = [
            None if np.isnan(x) else (round(x) if h == "年平均职工人数（人）" else float(round(x, 3)))
            for x in v
        ]
    f24["统一社会信用代码"] = [f["uscc"] for f in firms]
    f24["宗地代码"] = [
        None if f["cell"] is None else f["cell"].split("F")[0] if k in unit_number else f["cell"]
        for k, f in enumerate(firms)
    ]
    f24["重大安全环保事故"] = None
    f24["年份"] = YEAR - 1
    # new this year: the exempt newcomers and a few tenants; gone: tenants that left a shared building
    gone_rows = []
    for _ in range(N_GONE):
        i = int(rng.choice(pl_code))
        park = int(P.park[i])
        sp = specs[park]
        code, word = sp[7][rng.integers(len(sp[7]))]
        r24 = float(np.round(rng.uniform(200, 3000), 2))
        row = dict.fromkeys(f24.columns)
        row.update(
            {
                "企业名称": names.name(word),
                "统一社会信用代码": names.code(sp[1]),
                "宗地代码": codes[i],
                "企业规模": "规下",
                "行业代码": code,
                "所属园区": sp[0],
                "成立日期": day("2008-01-01", "2020-12-31", rng.random(1))[0].date(),
                "营业收入（元）": float(round(r24 * 1e4)),
                "工业总产值（万元）": float(round(r24 * 1.02, 2)),
                "税收实际入库（元）": float(round(r24 / 35 * 1e4)),
                "工业增加值（万元）": float(round(r24 * 0.25, 2)),
                "综合能耗（吨标准煤）": float(round(r24 / 6, 2)),
                "用电量（万千瓦时）": float(round(r24 * 0.1, 2)),
                "主要污染物排放量（吨）": float(round(r24 * 0.25 / 3000, 3)),
                "年平均职工人数（人）": 20,
                "研发经费支出（万元）": 0.0,
                "租用面积（平方米）": float(np.round(rng.uniform(800, 3000))),
                "年份": YEAR - 1,
            }
        )
        gone_rows.append(row)

    # row order: by park, shuffled inside; the duplicate row near the end
    order = np.lexsort((rng.random(nf), f_park))
    dup_k = duplicate_of[0]
    dup_row = f25.loc[dup_k].copy()
    for h in ("营业收入（万元）", "税收实际入库（万元）", "工业总产值（万元）"):
        dup_row[h] = float(round(dup_row[h] * 0.97, 2))
    f25_out = pd.concat([f25.loc[order[:-5]], dup_row.to_frame().T, f25.loc[order[-5:]]], ignore_index=False)
    firm_row = list(f25_out.index)
    f25_out = f25_out.reset_index(drop=True)
    keep24 = [k for k in order if k not in new_this_year]
    f24_out = pd.concat([f24.loc[keep24], pd.DataFrame(gone_rows)], ignore_index=True)

    links_out = pd.DataFrame(
        {
            "统一社会信用代码": [firms[r["firm"]]["uscc"] for r in links],
            "企业名称": [firms[r["firm"]]["name"] for r in links],
            "宗地代码": [codes[r["parcel"]] for r in links],
            "租用面积（平方米）": [f"{r['occupied']:.0f}" for r in links],
            "用地比例": ["" if np.isnan(r["share"]) else f"{r['share']:.2f}" for r in links],
        }
    )
    links_out = links_out.iloc[rng.permutation(len(links_out))].reset_index(drop=True)

    # ---- parcels frame ------------------------------------------------------------------------------------
    def datestr(s: pd.Series) -> list:
        return [None if pd.isna(x) else x.strftime("%Y-%m-%d") for x in s]

    parcels = gpd.GeoDataFrame(
        {
            "宗地代码": codes,
            "用途": land_use,
            "宗地面积": cert_value,
            "面积单位": unit,
            "权利人": holder_name,
            "权利人证件号": holder_code,
            "园区": park_field,
            "行业代码": industry,
            "供地日期": datestr(granted),
            "约定开工日期": datestr(agreed),
            "实际开工日期": datestr(actual),
            "约定竣工日期": datestr(completion),
            "停工日期": datestr(stop),
            "约定投资额（万元）": agreed_inv,
            "实际投资额（万元）": actual_inv,
            "已开发面积（平方米）": developed,
        },
        geometry=list(geom),
        crs=CRS_PARCELS,
    )
    # a few dates written the way people type them
    alt = _pick_from(rng, (role == "active") & ~old, 8)
    for j, i in enumerate(alt):
        t = granted[i]
        parcels.at[i, "供地日期"] = (
            f"{t.year}年{t.month}月{t.day}日" if j < 4 else f"{t.year}/{t.month}/{t.day}"
        )

    # ---- buildings ---------------------------------------------------------------------------------------
    stopped_parcels = {i for k in np.flatnonzero(stop_f) for i in firms[k]["parcels"]}
    b = _buildings(rng, P, role, owner, firms, pl_empty, st_boundary, stopped_parcels, developed, frames)
    idle_floor = b.loc[(b["使用状态"] == "闲置") & (b["用途"] == "厂房"), "_floor"].sum()
    buildings = b.drop(columns=["_floor", "_parcel"])

    # ---- parks ---------------------------------------------------------------------------------------------
    hulls = []
    for k in range(len(PARKS)):
        g = parcels.geometry[(P.park == k).to_numpy()]
        hull = shapely.segmentize(
            shapely.convex_hull(shapely.union_all(shapely.make_valid(g.to_numpy()))).buffer(
                80.0, quad_segs=4
            ),
            50.0,
        )
        hulls.append(hull)
    parks = gpd.GeoDataFrame({"园区名称": [sp[0] for sp in PARKS]}, geometry=hulls, crs=CRS_PARCELS).to_crs(
        CRS_PARKS
    )
    parks["geometry"] = shapely.set_precision(parks.geometry.to_numpy(), 1e-7)

    # ---- NDVI ------------------------------------------------------------------------------------------------
    ndvi, transform = _ndvi(rng, parcels, buildings, parks, role, stopped_parcels, b)

    # ---- truth -------------------------------------------------------------------------------------------------
    tf = pd.DataFrame(
        {
            "kind": kind,
            "name": [f["name"] for f in firms],
            "uscc": uscc_cell,
            "scale": scale,
            "park": [specs[p][0] for p in f_park],
            "in_park": f_inpark,
            "land_mu": land,
            "stopped": stop_f,
            "exempt": utility | new_f,
            "collapsed": coll_f,
            "tax_wan": tax,
            "revenue_wan": revenue,
            "output_wan": output,
            "graded_like": graded_like,
            "in_2024": ~np.isin(np.arange(nf), new_this_year),
        }
    )
    tf["rev24_wan"] = rev24
    tf["out24_wan"] = out24
    tf["tax24_wan"] = tax24
    pf["tax"] = tax[pf.firm] * pf.land_mu / np.where(land[pf.firm] > 0, land[pf.firm], 1)
    firms_on = pf.groupby("parcel")["firm"].agg(list).reindex(range(n))
    bcount = b.groupby("_parcel").size().reindex(range(n), fill_value=0)
    area_mu = valid_area * MU_PER_M2
    ptax = pf.groupby("parcel")["tax"].sum().reindex(range(n), fill_value=0.0).to_numpy()
    has_firm = firms_on.map(lambda v: isinstance(v, list)).to_numpy()
    all_stopped = firms_on.map(lambda v: isinstance(v, list) and all(stop_f[k] for k in v)).to_numpy()
    dev_share = developed / np.where(area_m2 > 0, area_m2, np.nan)
    inv_share = actual_inv / agreed_inv
    not_started = (
        actual.isna().to_numpy()
        & agreed.notna().to_numpy()
        & ((agreed + pd.DateOffset(years=1) <= AS_OF).to_numpy())
    )
    stopped_yr = stop.notna().to_numpy() & (stop + pd.DateOffset(years=1) <= AS_OF).to_numpy()
    started_idle = actual.notna().to_numpy() & stopped_yr & ((dev_share < 1 / 3) | (inv_share < 0.25))
    tp = pd.DataFrame(
        {
            "parcel_id": codes,
            "role": role,
            "shape": P["form"],
            "park": [specs[k][0] for k in P.park],
            "in_park": inpark.to_numpy(),
            "area_mu": area_mu,
            "cert_mu": cert_m2 * MU_PER_M2,
            "buildings": bcount.to_numpy(),
            "has_firm": has_firm,
        }
    )
    tp["vacant"] = ~has_firm & (tp.buildings == 0) & (P["form"] != "empty").to_numpy()
    tp["idle_not_started"] = not_started
    tp["idle_reclaim"] = not_started & (agreed + pd.DateOffset(years=2) <= AS_OF).to_numpy()
    tp["idle_stopped"] = started_idle
    tp["idle"] = not_started | started_idle
    tp["stopped"] = all_stopped
    tp["tax_per_mu"] = np.where(has_firm, ptax / np.where(area_mu > 0, area_mu, np.nan), np.nan)
    tp["low_tax"] = has_firm & ~all_stopped & (tp.tax_per_mu < 8)
    tp["candidate"] = tp.vacant | tp.idle | tp.stopped
    tp["cert_off"] = np.isin(np.arange(n), off)

    g = tf[tf.graded_like]
    both_t = tf[tf.in_2024]
    stats = {
        "parcels": n,
        "parcels_area_mu": float(tp.area_mu.sum()),
        "parcels_mean_mu": float(tp.area_mu.mean()),
        "firms_2025_rows": len(f25_out),
        "firms_2024_rows": len(f24_out),
        "links_rows": len(links_out),
        "buildings": len(buildings),
        "firm_kinds": tf.kind.value_counts().to_dict(),
        "above_share": float((tf.scale == "规上").mean()),
        "tax_per_mu_above_park": float(g.tax_wan.sum() / g.land_mu.sum()),
        "revenue_per_mu_above_park": float(g.revenue_wan.sum() / g.land_mu.sum()),
        "output_growth": float(both_t.output_wan.sum() / both_t.out24_wan.sum()),
        "tax_growth": float(both_t.tax_wan.sum() / both_t.tax24_wan.sum()),
        "idle_factory_floor_m2": float(idle_floor),
        "candidate_mu": float(tp.area_mu[tp.candidate].sum()),
        "candidate_or_low_tax_mu": float(tp.area_mu[tp.candidate | tp.low_tax].sum()),
        "vacant": int(tp.vacant.sum()),
        "idle": int(tp.idle.sum()),
        "stopped_parcels": int(tp.stopped.sum()),
        "low_tax_parcels": int(tp.low_tax.sum()),
        "firm_row_of": firm_row,
    }
    return DemoCity(parcels, buildings, parks, f25_out, f24_out, links_out, ndvi, transform, tf, tp, stats)


def _pick_from(rng: np.random.Generator, mask: np.ndarray, k: int | None) -> list[int]:
    """k random indices where mask is true (all of them, shuffled, when k is None)."""
    idx = rng.permutation(np.flatnonzero(np.asarray(mask)))
    return [int(i) for i in (idx if k is None else idx[:k])]


# ------------------------------------------------------------------------------------------- buildings
def _buildings(
    rng: np.random.Generator,
    P: pd.DataFrame,
    role: np.ndarray,
    owner: np.ndarray,
    firms: list[dict],
    pl_empty: np.ndarray,
    st_boundary: list[int],
    stopped_parcels: set[int],
    developed: np.ndarray,
    frames: list[_Frame],
) -> gpd.GeoDataFrame:
    """Footprints (自然幢) inside the parcels, in the local frame first, then moved to EPSG:4523.

    Built parcels get an office (办公, 3–6 floors) at the front corner and a main building (厂房, or 仓库
    on 仓储用地) sized to a building coverage of 20–50 %, sometimes a 仓库 behind it; shared parcels get
    3–5 multi-storey standard factories; half the stalled projects an unfinished shell (空置).
    """
    recs: list[list] = []  # parcel, xa, ya, xb, yb, use, floors, status
    idle_st = np.flatnonzero(role == "idle_st")
    partial = set(st_boundary) | {int(i) for i in idle_st[:6]}
    empty_platform = {int(i) for i in pl_empty}
    uses = P["_land_use"].to_numpy()
    for p in P.itertuples():
        i = p.Index
        r = role[i]
        X0, Y0, X1, Y1 = _inner_box(p)
        W, D = X1 - X0, Y1 - Y0
        if W < 15 or D < 15:
            continue
        if r == "active":
            ow, od = float(np.clip(0.22 * W, 12, 40)), float(np.clip(0.2 * D, 12, 25))
            recs.append([i, X0, Y0, X0 + ow, Y0 + od, "办公", int(rng.integers(3, 7)), "在用"])
            fx0 = X0 + ow + 8 if W - ow - 8 >= 20 else X0
            fy0 = Y0 if fx0 > X0 else Y0 + od + 8
            fw = X1 - fx0
            if Y1 - fy0 < 15:
                continue
            target = rng.uniform(0.3, 0.55) * p.area_design - ow * od
            fd = float(np.clip(target / fw, 15, Y1 - fy0))
            main = "仓库" if uses[i] == "仓储用地" else "厂房"
            floors = 1 if main == "仓库" else int(rng.choice([1, 2, 3, 4], p=[0.2, 0.35, 0.3, 0.15]))
            recs.append([i, fx0, fy0, X1, fy0 + fd, main, floors, "在用"])
            room = Y1 - (fy0 + fd + 8)
            if room > 30 and rng.random() < 0.4:
                recs.append(
                    [i, fx0, fy0 + fd + 8, fx0 + 0.6 * fw, fy0 + fd + 8 + min(40.0, room), "仓库", 1, "在用"]
                )
        elif r == "platform":
            k = int(rng.integers(3, 6))
            while k > 1 and (W - (k - 1) * 12) / k < 20:
                k -= 1
            bw = (W - (k - 1) * 12) / k
            depth = min(D, 60.0)
            status = "空置" if i in empty_platform else "在用"
            for j in range(k):
                xa = X0 + j * (bw + 12)
                recs.append([i, xa, Y0, xa + bw, Y0 + depth, "厂房", int(rng.integers(3, 6)), status])
        elif r == "idle_st" and i in partial:
            fp = min(developed[i] * 0.6, W * D * 0.8)
            bw = min(W, np.sqrt(fp) * 1.3)
            recs.append([i, X0, Y0, X0 + bw, Y0 + min(D, fp / bw), "厂房", 1, "空置"])
    b = pd.DataFrame(recs, columns=["_parcel", "xa", "ya", "xb", "yb", "用途", "层数", "使用状态"])

    # a few buildings straddling the common boundary of two neighbouring parcels
    nxt = np.arange(len(P) - 1)
    ok = (
        (role[nxt] == "active")
        & (role[nxt + 1] == "active")
        & (owner[nxt] != owner[nxt + 1])
        & (P.park.to_numpy()[nxt] == P.park.to_numpy()[nxt + 1])
        & (P.row.to_numpy()[nxt] == P.row.to_numpy()[nxt + 1])
        & (np.abs(P.x0.to_numpy()[nxt + 1] - P.x1.to_numpy()[nxt]) < 1e-9)
        & (np.minimum(P.depth.to_numpy()[nxt], P.depth.to_numpy()[nxt + 1]) > 80)
        & np.isin(P["form"].to_numpy()[nxt], ["rect", "trap"])
        & np.isin(P["form"].to_numpy()[nxt + 1], ["rect", "trap"])
    )
    cand = [int(i) for i in rng.permutation(np.flatnonzero(ok))]
    chosen: list[int] = []
    for i in cand:
        if all(abs(i - j) > 1 for j in chosen):
            chosen.append(i)
        if len(chosen) == N_STRADDLE:
            break
    extra = []
    for i in chosen:
        xe = P.x1[i]
        left, right = b._parcel == i, b._parcel == i + 1
        b.loc[left, "xb"] = np.minimum(b.loc[left, "xb"], xe - 15)
        b.loc[right, "xa"] = np.maximum(b.loc[right, "xa"], xe + 15)
        y = P.y0[i] + 10
        extra.append([i, xe - 12, y, xe + 12, y + 20, "仓库", 1, "在用"])
    b = b[(b.xb - b.xa) >= 8].reset_index(drop=True)
    b["_straddle"] = False
    b = pd.concat([b, pd.DataFrame(extra, columns=b.columns[:-1]).assign(_straddle=True)], ignore_index=True)
    # a few offices digitised twice, a few metres apart (overlapping footprints)
    offices = b.index[(b["用途"] == "办公") & ~b._parcel.isin([*chosen, *[c + 1 for c in chosen]])]
    dup = b.loc[rng.permutation(offices)[:N_OVERLAP]].copy()
    dup[["xa", "xb"]] += 3.0
    dup[["ya", "yb"]] += 2.0
    b = pd.concat([b, dup], ignore_index=True).sort_values("_parcel", kind="stable").reset_index(drop=True)

    geom = np.empty(len(b), dtype=object)
    boxes = shapely.box(b.xa, b.ya, b.xb, b.yb)
    park = P.park.to_numpy()[b._parcel]
    for k, fr in enumerate(frames):
        m = park == k
        geom[m] = shapely.transform(boxes[m], fr)
    footprint = shapely.area(geom)
    nb = len(b)
    floor = footprint * b["层数"].to_numpy() * rng.uniform(0.97, 1.03, nb)
    floor_area = np.round(floor, 2)
    missing = rng.random(nb) < 0.08
    floor_area[missing] = np.nan
    height = np.full(nb, np.nan)
    rec = rng.random(nb) < 0.35
    one = b["层数"].to_numpy() == 1
    use = b["用途"].to_numpy()
    h = np.where(
        use == "办公",
        rng.uniform(3.6, 4.2, nb),
        np.where(one, rng.uniform(6.0, 7.8, nb), rng.uniform(4.5, 6.0, nb)),
    )
    height[rec] = np.round(h[rec], 1)
    tall_pool = np.flatnonzero(one & np.isin(use, ["厂房", "仓库"]) & (role[b._parcel] == "active"))
    tall = rng.permutation(tall_pool)[:N_TALL]
    height[tall] = np.round(rng.uniform(8.5, 12.0, N_TALL), 1)

    # idle factory floor: whole stopped plants marked 闲置, 40,000–50,000 m² of 厂房 floor in all
    fl = np.where(np.isnan(floor_area), footprint * b["层数"].to_numpy(), floor_area)
    status = b["使用状态"].to_numpy().copy()
    per_parcel = pd.Series(np.where(use == "厂房", fl, 0.0)).groupby(b._parcel.to_numpy()).sum()
    cum = 0.0
    for i in rng.permutation(sorted(stopped_parcels)):
        f = float(per_parcel.get(i, 0.0))
        if f <= 0 or cum + f > IDLE_FLOOR_TARGET[1]:
            continue
        status[b._parcel.to_numpy() == i] = "闲置"
        cum += f
        if cum >= IDLE_FLOOR_TARGET[0]:
            break
    return gpd.GeoDataFrame(
        {
            "层数": b["层数"].to_numpy(),
            "建筑面积（平方米）": floor_area,
            "层高（米）": height,
            "用途": use,
            "使用状态": status,
            "_floor": fl,
            "_parcel": b._parcel.to_numpy(),
        },
        geometry=list(geom),
        crs=CRS_PARCELS,
    )


# ------------------------------------------------------------------------------------------------ NDVI
def _smooth(rng: np.random.Generator, h: int, w: int, cell: int) -> np.ndarray:
    """Smooth noise (unit variance at the nodes): a coarse normal grid, bilinearly interpolated."""
    coarse = rng.normal(size=(h // cell + 2, w // cell + 2))
    yi, xi = np.arange(h) / cell, np.arange(w) / cell
    y0, x0 = yi.astype(int), xi.astype(int)
    fy, fx = (yi - y0)[:, None], (xi - x0)[None, :]
    a = coarse[np.ix_(y0, x0)]
    b = coarse[np.ix_(y0, x0 + 1)]
    c = coarse[np.ix_(y0 + 1, x0)]
    d = coarse[np.ix_(y0 + 1, x0 + 1)]
    return a * (1 - fy) * (1 - fx) + b * (1 - fy) * fx + c * fy * (1 - fx) + d * fy * fx


def _blur3(a: np.ndarray) -> np.ndarray:
    """3 × 3 box mean with edge padding."""
    p = np.pad(a, 1, mode="edge")
    h, w = a.shape
    return sum(p[i : i + h, j : j + w] for i in range(3) for j in range(3)) / 9.0


def _ndvi(
    rng: np.random.Generator,
    parcels: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    parks: gpd.GeoDataFrame,
    role: np.ndarray,
    stopped_parcels: set[int],
    b: gpd.GeoDataFrame,
) -> tuple[np.ndarray, object]:
    """NDVI at 10 m in EPSG:32648 over each park's bounding box (nodata 255 elsewhere).

    DN = round(100 × (NDVI + 1)), so 0–200 ↔ NDVI −1…1. Fields around the parks ≈ 150 (NDVI 0.5), roads
    and verges inside a park ≈ 118, built plots ≈ 110, roofs ≈ 100, vacant and long-idle plots 150–165.
    """

    parks_u = parks.to_crs(CRS_NDVI)
    parcels_u = parcels.to_crs(CRS_NDVI)
    build_u = buildings.to_crs(CRS_NDVI)
    bounds = np.array([g.bounds for g in parks_u.geometry])
    lo = np.floor(bounds[:, :2] / 10.0) * 10.0 - 100.0
    hi = np.ceil(bounds[:, 2:] / 10.0) * 10.0 + 100.0
    xmin, ymin = lo.min(axis=0)
    xmax, ymax = hi.max(axis=0)
    width, height = round((xmax - xmin) / 10), round((ymax - ymin) / 10)
    transform = Affine(10.0, 0.0, xmin, 0.0, -10.0, ymax)
    out = np.full((height, width), 255, dtype=np.uint8)

    idle_buildings = set(b._parcel[b["使用状态"] == "闲置"])
    base = {
        "active": 110.0,
        "platform": 106.0,
        "recent": 138.0,
        "idle_st": 142.0,
        "idle_ns": 156.0,
        "reserve": 163.0,
    }
    value = np.array([base[r] for r in role]) + rng.normal(0, 4, len(role))
    for i in stopped_parcels:
        value[i] = (134.0 if i in idle_buildings else 118.0) + rng.normal(0, 3)
    keep = ~parcels_u.geometry.is_empty.to_numpy()
    shapes_p = list(zip(parcels_u.geometry[keep], value[keep]))
    shapes_b = [(g, 100.0) for g in build_u.geometry]
    for k in range(len(parks_u)):
        c0 = round((lo[k, 0] - xmin) / 10)
        r0 = round((ymax - hi[k, 1]) / 10)
        w = round((hi[k, 0] - lo[k, 0]) / 10)
        h = round((hi[k, 1] - lo[k, 1]) / 10)
        wt = Affine(10.0, 0.0, lo[k, 0], 0.0, -10.0, hi[k, 1])
        field_ = 150.0 + 10.0 * _smooth(rng, h, w, 25)
        inside = rasterize(
            [(parks_u.geometry.iloc[k], 1)], out_shape=(h, w), transform=wt, fill=0, dtype="uint8"
        )
        land = rasterize(shapes_p, out_shape=(h, w), transform=wt, fill=0.0, dtype="float32")
        roofs = rasterize(shapes_b, out_shape=(h, w), transform=wt, fill=0.0, dtype="float32")
        v = np.where(inside == 1, 118.0, field_)
        v = np.where(land > 0, land, v)
        v = np.where(roofs > 0, roofs, v)
        v = _blur3(v + 4.0 * _smooth(rng, h, w, 8) + rng.normal(0, 1.5, (h, w)))
        out[r0 : r0 + h, c0 : c0 + w] = np.clip(np.round(v), 0, 200).astype(np.uint8)
    return out, transform


# ------------------------------------------------------------------------------------------------ write
def _is_blank(v: object) -> bool:
    return v is None or v == "" or (not isinstance(v, (str, dt.date)) and bool(pd.isna(v)))


def _write_xlsx(frame: pd.DataFrame, path: Path, title: str) -> None:
    wb = xlsxwriter.Workbook(
        str(path), {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
    )
    wb.set_properties({"title": title, "author": "parkland demo", "created": CREATED})
    ws = wb.add_worksheet(SHEET)
    f_title = wb.add_format({"bold": True, "font_size": 14, "align": "center"})
    f_head = wb.add_format({"bold": True, "text_wrap": True, "valign": "vcenter", "border": 1})
    f_date = wb.add_format({"num_format": "yyyy-mm-dd"})
    ncol = frame.shape[1]
    ws.merge_range(0, 0, 0, ncol - 1, title, f_title)
    for c, h in enumerate(frame.columns):
        ws.write_string(1, c, h, f_head)
    for r, row in enumerate(frame.itertuples(index=False), start=2):
        for c, v in enumerate(row):
            if _is_blank(v):
                continue
            if isinstance(v, str):
                ws.write_string(r, c, v)
            elif isinstance(v, dt.date):
                ws.write_datetime(r, c, dt.datetime.combine(v, dt.time()), f_date)
            else:
                ws.write_number(r, c, float(v))
    ws.set_column(0, 0, 34)
    ws.set_column(1, 2, 22)
    ws.set_column(3, ncol - 1, 12)
    ws.freeze_panes(2, 2)
    wb.close()


def write(city: DemoCity, out: Path) -> dict[str, Path]:
    """Write the demo files into ``out`` (created if needed); returns name → path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / name for name in FILES}
    gpkg = paths["city.gpkg"]
    if gpkg.exists():
        gpkg.unlink()
    pyogrio.write_dataframe(city.parcels, gpkg, layer="zongdi", driver="GPKG", promote_to_multi=False)
    pyogrio.write_dataframe(city.buildings, gpkg, layer="buildings", driver="GPKG", geometry_type="Polygon")
    pyogrio.write_dataframe(city.parks, gpkg, layer="parks", driver="GPKG", geometry_type="Polygon")
    _write_xlsx(city.firms_2025, paths["firms_2025.xlsx"], f"{YEAR}年度南充市工业企业亩均效益评价基础数据")
    _write_xlsx(
        city.firms_2024, paths["firms_2024.xlsx"], f"{YEAR - 1}年度南充市工业企业亩均效益评价基础数据"
    )
    city.links.to_csv(paths["links.csv"], index=False, encoding="gbk", lineterminator="\r\n")
    h, w = city.ndvi.shape
    with rasterio.open(
        paths["ndvi.tif"],
        "w",
        driver="GTiff",
        width=w,
        height=h,
        count=1,
        dtype="uint8",
        crs=CRS_NDVI,
        transform=city.ndvi_transform,
        nodata=255,
        compress="deflate",
        predictor=2,
        tiled=True,
        blockxsize=256,
        blockysize=256,
    ) as dst:
        dst.write(city.ndvi, 1)
        dst.update_tags(NDVI_SCALE="NDVI = DN / 100 - 1", SOURCE="parkland demo (synthetic)")
        dst.scales = (0.01,)  # GDAL scale/offset: readers (and zonal_stats) get NDVI itself
        dst.offsets = (-1.0,)
    return paths


def generate(out: Path = DEFAULT_OUT, *, seed: int = SEED) -> DemoCity:
    """Build the demo city and write it into ``out``."""
    city = build(seed)
    write(city, out)
    return city


def main(argv: list[str] | None = None) -> int:
    """``python -m parkland.demo [--out DIR]``: write the demo city and print its totals."""
    ap = argparse.ArgumentParser(
        prog="python -m parkland.demo", description="生成演示城市数据 / write the demo city"
    )
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: data/demo)")
    ap.add_argument("--seed", type=int, default=SEED, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    city = generate(args.out, seed=args.seed)
    s = city.stats
    print(f"parcels {s['parcels']}  ({s['parcels_area_mu']:.0f} 亩, mean {s['parcels_mean_mu']:.1f} 亩)")
    print(
        f"firm rows 2025 {s['firms_2025_rows']}, 2024 {s['firms_2024_rows']}, links {s['links_rows']}, "
        f"buildings {s['buildings']}"
    )
    print("firm kinds", s["firm_kinds"], f"规上 share {s['above_share']:.2f}")
    print(
        f"park 规上 Σtax/Σland {s['tax_per_mu_above_park']:.2f} 万元/亩, "
        f"Σrevenue/Σland {s['revenue_per_mu_above_park']:.1f} 万元/亩"
    )
    print(f"growth output {s['output_growth']:.3f}, tax {s['tax_growth']:.3f}")
    print(
        f"vacant {s['vacant']}, idle {s['idle']}, stopped {s['stopped_parcels']}, low tax {s['low_tax_parcels']}; "
        f"candidates {s['candidate_mu']:.0f} 亩 (with low tax {s['candidate_or_low_tax_mu']:.0f} 亩)"
    )
    print(f"idle factory floor {s['idle_factory_floor_m2']:.0f} m²")
    for name in FILES:
        print(f"{name}: {(args.out / name).stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
