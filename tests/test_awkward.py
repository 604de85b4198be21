"""The awkward-input corpus (tests/data/awkward/, README.md there): every case through `parkland assess`
in-process (click's CliRunner), one test id per case, with its expected outcome checked.

Common to every case: never a traceback; exit 0 keeps every firm record (firms.csv source_row 1..n) and
writes no inf; exit 2 prints at most three lines naming the file.
"""

from __future__ import annotations

import json
import math
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from parkland.cli import main

AWKWARD = Path(__file__).parent / "data" / "awkward"
sys.path.insert(0, str(AWKWARD))
import make_corpus as mc  # noqa: E402

sys.path.remove(str(AWKWARD))

BY_ID = {c.id: c for c in mc.CASES}
LAND = [30.0, 15.0, 45.0, 4.5]
TAX_PER_MU = [2.0, 1.0, 2.0, 2.0]


@dataclass
class Run:
    exit_code: int
    output: str
    out: Path
    case_dir: Path

    @property
    def firms(self) -> pd.DataFrame:
        return pd.read_csv(self.out / "firms.csv", encoding="utf-8-sig", dtype={"uscc": str, "parcel_ids": str})

    @property
    def recon(self) -> pd.DataFrame:
        return pd.read_csv(self.out / "reconciliation.csv", encoding="utf-8-sig", dtype={"key": str})

    @property
    def summary(self) -> dict:
        return json.loads((self.out / "summary.json").read_text(encoding="utf-8"))

    @property
    def parcels(self) -> pd.DataFrame:
        return pyogrio.read_dataframe(self.out / "parcels.gpkg", layer="parcels", read_geometry=False)

    def codes(self, source: str | None = None) -> Counter:
        r = self.recon
        if source:
            r = r[r["source"] == source]
        return Counter(r["problem_code"])

    def rec(self, code: str) -> pd.DataFrame:
        r = self.recon
        return r[r["problem_code"] == code]


def run_case(case: mc.Case, tmp: Path, *extra: str) -> Run:
    d = mc.CASES_DIR / case.id
    out = tmp / "out"
    args = ["assess", *mc.resolve(case.args, d), *extra, "--out", str(out)]
    r = CliRunner().invoke(main, args)
    return Run(r.exit_code, r.output, out, d)


def close(a, b, rel: float = 1e-9) -> bool:
    return np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=rel, atol=0)


def base_ok(r: Run, rel: float = 1e-9) -> pd.DataFrame:
    """The four base firms read and linked: land 30/15/45/4.5 亩, tax 2/1/2/2 万元/亩."""
    f = r.firms
    assert list(f["source_row"]) == [1, 2, 3, 4]
    assert close(f["land_mu"], LAND, rel), f["land_mu"].tolist()
    assert close(f["tax_per_mu"], TAX_PER_MU, rel), f["tax_per_mu"].tolist()
    return f


# --------------------------------------------------------------------------------------------------
# one check per case
# --------------------------------------------------------------------------------------------------
def xlsx_title_rows(r: Run) -> None:
    f = base_ok(r)
    assert close(f["tax_wan"], [60, 15, 90, 9]) and list(f["file_row"]) == [5, 6, 7, 8]
    assert r.summary["inputs"]["firms"]["header_row"] == 4


def xlsx_merged_cells(r: Run) -> None:
    f = base_ok(r)
    assert list(f["scale"]) == ["above", "above", "above", "below"]
    assert list(f["name"]) == ["甲公司", "乙公司", "丙公司", "丁公司"]
    assert r.summary["inputs"]["firms"]["header_row"] == 3


def xlsx_several_sheets(r: Run) -> None:
    base_ok(r)
    assert r.summary["inputs"]["firms"]["sheet"] == "企业数据"


def xlsx_sheet_option(r: Run) -> None:
    base_ok(r)
    assert r.summary["inputs"]["firms"]["sheet"] == "2025年"


def xlsx_hidden_sheet(r: Run) -> None:
    base_ok(r)
    assert r.summary["inputs"]["firms"]["sheet"] == "企业数据"


def xlsx_hidden_rows(r: Run) -> None:
    base_ok(r)


def xlsx_numbers_as_text(r: Run) -> None:
    f = base_ok(r)
    assert f["revenue_wan"].iloc[0] == 1234.5 and f["revenue_wan"].iloc[1] == 150.0
    assert math.isnan(f["revenue_wan"].iloc[2])  # '—' is missing, not 0
    assert "BAD_NUMBER" not in r.codes()


def xlsx_codes_as_numbers(r: Run) -> None:
    f = base_ok(r)
    assert list(f["parcel_ids"]) == [str(5113020010001 + i) for i in range(4)]
    sci = r.rec("USCC_SCIENTIFIC")
    assert list(sci["source_row"]) == [4] and pd.isna(f["uscc"].iloc[3])


def xlsx_dates_chinese(r: Run) -> None:
    f = base_ok(r)
    assert list(f["established"]) == ["2023-05-01"] * 4
    assert "BAD_DATE" not in r.codes()


def xlsx_formulas(r: Run) -> None:
    f = base_ok(r)
    assert close(f["tax_wan"], [60, 15, 90, 9])


def csv_gbk_crlf(r: Run) -> None:
    f = base_ok(r)
    assert r.summary["inputs"]["firms"]["encoding"] == "gbk"
    assert list(f["name"]) == ["甲公司", "乙公司", "丙公司", "丁公司"]


def csv_gb18030(r: Run) -> None:
    f = base_ok(r)
    assert f["name"].iloc[0] == "䶮科技有限公司"


def csv_utf8(r: Run) -> None:
    base_ok(r)
    assert r.summary["inputs"]["firms"]["encoding"] == "utf-8"


def csv_utf8_bom(r: Run) -> None:
    base_ok(r)
    assert r.summary["inputs"]["firms"]["encoding"] == "utf-8-sig"
    assert "企业名称" in r.summary["inputs"]["firms"]["columns"]


def txt_utf16_tab(r: Run) -> None:
    f = base_ok(r)
    assert r.summary["inputs"]["firms"]["encoding"] == "utf-16" and f["name"].iloc[3] == "丁公司"


def csv_total_row(r: Run) -> None:
    base_ok(r)
    t = r.rec("TOTAL_ROW")
    assert list(t["action"]) == ["dropped"] and list(t["file_row"]) == [6]


def csv_headers_units(r: Run) -> None:
    f = base_ok(r)
    assert close(f["revenue_wan"], [600, 150, 900, 90]) and close(f["tax_wan"], [60, 15, 90, 9])
    assert close(f["electricity_10k_kwh"], [100] * 4)


def csv_codes_scientific(r: Run) -> None:
    f = r.firms
    assert len(f) == 4
    assert set(r.rec("USCC_SCIENTIFIC")["source_row"]) == {2}
    assert set(r.rec("PARCEL_ID_SCIENTIFIC")["source_row"]) == {2}
    assert pd.isna(f["uscc"].iloc[1]) and pd.isna(f["land_mu"].iloc[1]) and f["status"].iloc[1] == "no_land"
    assert close(f["land_mu"].iloc[[0, 2, 3]], [30, 45, 4.5])


def csv_ragged(r: Run) -> None:
    f = r.firms
    assert close(f["land_mu"], LAND) and close(f["tax_wan"].iloc[:3], [60, 15, 90])
    assert math.isnan(f["tax_wan"].iloc[3])
    assert f["列7"].iloc[0] == "备注多出一列"


def csv_blank_lines(r: Run) -> None:
    f = base_ok(r)
    assert list(f["file_row"]) == [2, 4, 5, 7]


def csv_multiline_codes(r: Run) -> None:
    f = r.firms
    assert len(f) == 3
    assert f["parcel_ids"].iloc[0] == f"{mc.PIDS[0]};{mc.PIDS[1]}"
    assert close(f["land_mu"], [45, 45, 4.5]) and close(f["tax_per_mu"], [60 / 45, 2, 2])


def csv_fullwidth_codes(r: Run) -> None:
    f = base_ok(r)
    assert list(f["parcel_ids"]) == mc.PIDS


def csv_bdcdyh_28(r: Run) -> None:
    f = base_ok(r)
    assert list(f["parcel_ids"]) == mc.PIDS


def csv_dup_uscc(r: Run) -> None:
    f = r.firms
    assert len(f) == 5
    assert f["status"].iloc[4] == "not_graded" and f["status_reason"].iloc[4] == "duplicate of row 2"
    assert pd.isna(f["land_mu"].iloc[4]) or f["land_mu"].iloc[4] == 0
    assert list(r.rec("DUPLICATE_USCC")["source_row"]) == [5]
    assert close(f["land_mu"].iloc[:4], LAND)  # P2 is not shared with the duplicate


def csv_bad_uscc(r: Run) -> None:
    f = base_ok(r)
    bad = r.rec("BAD_USCC")
    assert sorted(bad["source_row"]) == [1, 2, 3] and set(bad["action"]) == {"kept"}
    assert list(f["uscc_valid"]) == [False, False, False, True]


def csv_negative_tax(r: Run) -> None:
    f = r.firms
    assert close(f["tax_per_mu"], [2, -5 / 15, 2, 2])
    neg = r.rec("NEGATIVE_VALUE")
    assert list(neg["source_row"]) == [2] and list(neg["action"]) == ["kept"]
    assert math.isnan(f["revenue_wan"].iloc[2]) and math.isnan(f["revenue_per_mu"].iloc[2])


def csv_zero_land(r: Run) -> None:
    f = r.firms
    assert len(f) == 5 and f["tax_per_mu"].iloc[3] == 0.0
    assert f["status"].iloc[4] == "no_land" and math.isnan(f["tax_per_mu"].iloc[4])
    assert list(r.rec("BAD_REPORTED_LAND")["source_row"]) == [5]


def csv_absurd_values(r: Run) -> None:
    f = r.firms
    assert close(f["tax_per_mu"], [2, 1, 2, 1_000_000])
    ab = r.rec("ABSURD_VALUE")
    assert list(ab["source_row"]) == [4] and list(ab["action"]) == ["kept"] and list(ab["column"]) == ["tax_per_mu"]
    assert "1,000,000.00" in ab["problem"].iloc[0] and "1,000" in ab["problem"].iloc[0]


def csv_unknown_parcel(r: Run) -> None:
    f = r.firms
    assert f["status"].iloc[2] == "parcel_not_found"
    assert list(r.rec("PARCEL_NOT_FOUND")["source_row"]) == [3]
    assert close(f["tax_per_mu"].iloc[[0, 1, 3]], [2, 1, 2])


def csv_lonlat_only(r: Run) -> None:
    f = base_ok(r)
    assert list(f["parcel_ids"]) == mc.PIDS and set(f["link_method"]) == {"point"}


def csv_header_only(r: Run) -> None:
    assert len(r.firms) == 0
    s = r.summary
    assert s["counts"]["parcels"] == 4 and s["counts"]["firms_in"] == 0
    assert close(s["areas"]["parcels_mu"], 94.5)


def csv_hostile_text(r: Run) -> None:
    f = base_ok(r)
    names = list(f["name"])
    assert names[0].startswith("'=HYPERLINK") and names[2].startswith("'+1+1") and names[3] == "'@SUM(A1)"
    assert names[1] == "<script>alert(1)</script>"  # not a formula: kept as is in CSV
    html = (r.out / "map.html").read_text(encoding="utf-8")
    assert "<script>alert(1)" not in html and "<img src=x" not in html


def shp_gbk_no_cpg(r: Run) -> None:
    base_ok(r)
    assert list(r.parcels["park"]) == mc.PARKS
    assert r.summary["inputs"]["parcels"]["encoding"] == "GBK"


def shp_no_prj_crs_given(r: Run) -> None:
    base_ok(r)
    assert set(r.parcels["measure_epsg"]) == {4523}


def shp_xian80(r: Run) -> None:
    base_ok(r)
    assert set(r.parcels["measure_epsg"]) == {2359}


def gpkg_beijing54(r: Run) -> None:
    base_ok(r)
    assert set(r.parcels["measure_epsg"]) == {2411}


def custom_city_grid(r: Run) -> None:
    base_ok(r, rel=1e-3)
    assert set(r.parcels["measure_epsg"]) == {4544}
    assert "COORDINATES_OUTSIDE_ZONE" not in r.codes()


def local_grid_declared_cgcs2000(r: Run) -> None:
    base_ok(r)  # measured in the layer's own plane
    w = r.rec("COORDINATES_OUTSIDE_ZONE")
    assert len(w) == 1 and w["action"].iloc[0] == "kept" and pd.isna(w["source_row"].iloc[0])
    assert w["problem"].iloc[0].startswith("4 个宗地") and "独立坐标系" in w["problem"].iloc[0]


def geojson_wgs84(r: Run) -> None:
    base_ok(r, rel=1e-6)
    assert set(r.parcels["measure_epsg"]) == {4544}


def geojson_gcj02_as_wgs84(r: Run) -> None:
    f = r.firms
    err = f["land_mu"].to_numpy(float) / np.array(LAND) - 1
    assert np.all((err > 0.001) & (err < 0.01)), err  # read, areas a few ‰ off: the shift is not detected


def gpkg_multilayer(r: Run) -> None:
    base_ok(r)
    note = r.rec("LAYER_CHOSEN")
    assert len(note) == 1 and "zongdi" in note["problem"].iloc[0] and "buildings" in note["problem"].iloc[0]
    assert r.summary["inputs"]["parcels"]["layer"] == "zongdi"


def gpkg_multilayer_named(r: Run) -> None:
    base_ok(r)
    assert "LAYER_CHOSEN" not in r.codes() and "FIRST_LAYER_USED" not in r.codes()


def mixed_polygon_multipolygon(r: Run) -> None:
    base_ok(r)
    assert close(r.parcels["area_mu"], LAND)


def bad_geometries(r: Run) -> None:
    base_ok(r)
    p = r.parcels
    assert list(p["source_row"]) == [1, 2, 3, 4, 5]
    assert close(p["area_mu"].iloc[4], 5000 * 15 / 10000)  # two triangles of 2500 m²
    c = r.recon[r.recon["source"] == "parcels"].set_index("source_row")
    assert c.loc[5, "problem_code"] == "INVALID_GEOMETRY" and c.loc[5, "action"] == "repaired"
    assert (c.loc[6, "problem_code"], c.loc[6, "action"]) == ("EMPTY_GEOMETRY", "dropped")
    assert (c.loc[7, "problem_code"], c.loc[7, "action"]) == ("NULL_GEOMETRY", "dropped")
    assert (c.loc[8, "problem_code"], c.loc[8, "action"]) == ("NOT_POLYGON", "dropped")
    assert (c.loc[9, "problem_code"], c.loc[9, "action"]) == ("INVALID_GEOMETRY", "dropped")
    assert r.summary["counts"]["parcels_in"] == 9 and r.summary["counts"]["parcels_dropped"] == 4


def z_coordinates(r: Run) -> None:
    base_ok(r)
    z = r.rec("Z_DROPPED")
    assert len(z) == 1 and z["action"].iloc[0] == "repaired"


def dup_parcel_id(r: Run) -> None:
    f = r.firms
    assert close(f["land_mu"], [30, 15, 45, 4.5 + 6])
    assert sorted(r.rec("DUPLICATE_PARCEL_ID")["source_row"]) == [4, 5]


def no_id_field_given(r: Run) -> None:
    base_ok(r)


def links_awkward(r: Run) -> None:
    f = r.firms
    assert close(f["land_mu"], [30, 45 * 0.6 / 1.3, 45 * 0.7 / 1.3, 4.5])
    codes = r.codes("links")
    assert codes["LINK_FIRM_NOT_FOUND"] == 1 and codes["PARCEL_NOT_FOUND"] == 1
    assert r.codes("parcels")["SHARES_EXCEED_ONE"] == 1


def park_names_hostile(r: Run) -> None:
    base_ok(r)
    assert list(r.parcels["park"]) == ["../../etc/一园", "../../etc/一园", "a/b\\c", "<b>三园</b>"]
    maps = r.out / "maps"
    res = CliRunner().invoke(main, ["map", str(r.out), "--out", str(maps), "--per-park"])
    assert res.exit_code == 0, res.output
    files = sorted(p.name for p in maps.iterdir())
    assert all(p.parent == maps for p in maps.rglob("*"))
    assert not (r.out.parent / "etc").exists()
    parks = [n for n in files if n.startswith("park_")]
    assert len(parks) == 3 and all("/" not in n and "\\" not in n and ".." not in n for n in files)
    idx = (maps / "index.html").read_text(encoding="utf-8")
    assert "<b>三园</b>" not in idx and "&lt;b&gt;三园&lt;/b&gt;" in idx
    # above --detail-max parcels: a parks overview, one page per park in map_parks/, nothing outside
    over = r.out / "overview"
    res = CliRunner().invoke(main, ["map", str(r.out), "--out", str(over), "--detail-max", "2"])
    assert res.exit_code == 0, res.output
    pages = sorted(p.name for p in (over / "map_parks").iterdir())
    assert len(pages) == 3 and all(n.startswith("park_") and ".." not in n for n in pages)
    assert all(p.is_relative_to(over) for p in over.rglob("*")) and not (r.out.parent / "etc").exists()
    doc = (over / "map.html").read_text(encoding="utf-8")
    assert '"mode":"overview"' in doc  # the payload the page draws
    assert "<b>三园</b>" not in doc


def _exit2(*needles: str):
    def check(r: Run) -> None:
        for n in needles:
            assert n in r.output, (n, r.output)
    return check


CHECKS = {
    "xlsx_sheet_missing": _exit2("firms.xlsx", "2024年、2025年", "--firms-sheet"),
    "xlsx_is_csv": _exit2("firms.xlsx", ".xlsx", "CSV"),
    "xlsx_corrupt": _exit2("firms.xlsx", "无法读取 Excel 工作簿"),
    "csv_no_link_column": _exit2("firms.csv", "第 1 行", "宗地代码", "统一社会信用代码"),
    "csv_empty_file": _exit2("firms.csv", "空"),
    "csv_is_binary": _exit2("firms.csv", "不是文本表格"),
    "csv_is_xlsx": _exit2("firms.csv", ".xlsx"),
    "firms_missing": _exit2("nope.xlsx", "不存在"),
    "firms_is_dir": _exit2("folder.csv", "文件夹"),
    "shp_no_prj": _exit2("parcels.shp", "坐标系", "EPSG:4523", "--crs"),
    "local_grid_no_prj": _exit2("parcels.shp", "无法从坐标判断坐标系", "--crs"),
    "gpkg_layer_missing": _exit2("city.gpkg", "buildings、zongdi", "--parcels-layer"),
    "no_id_field": _exit2("parcels.geojson", "编号", "--parcel-id"),
    "empty_layer": _exit2("parcels.geojson", "没有任何要素"),
    "all_null_geometry": _exit2("parcels.geojson", "没有可用的宗地", "NULL_GEOMETRY 4"),
    "layer_is_csv": _exit2("parcels.gpkg", "无法作为矢量图层读取"),
    "parcels_missing": _exit2("nope.gpkg", "不存在"),
    "policy_missing": _exit2("nope.toml"),
    "policy_broken": _exit2("policy.toml", "TOML", "line 2"),
    "as_of_bad": _exit2("2025-13-45"),
    "raster_bad_spec": _exit2("--raster", "名称=路径"),
}
for _c in mc.CASES:
    if _c.id not in CHECKS and _c.id in globals():
        CHECKS[_c.id] = globals()[_c.id]


def test_corpus_is_big_enough_and_documented():
    assert len(mc.CASES) >= 40 and len(BY_ID) == len(mc.CASES)
    assert set(CHECKS) == set(BY_ID), set(BY_ID) ^ set(CHECKS)
    readme = (AWKWARD / "README.md").read_text(encoding="utf-8")
    for c in mc.CASES:
        assert f"`{c.id}`" in readme and (mc.CASES_DIR / c.id).is_dir()
    size = sum(p.stat().st_size for p in AWKWARD.rglob("*") if p.is_file())
    assert size < 2_000_000


@pytest.mark.parametrize("case_id", list(BY_ID))
def test_case(case_id: str, tmp_path: Path) -> None:
    case = BY_ID[case_id]
    r = run_case(case, tmp_path)
    assert "Traceback" not in r.output
    assert r.exit_code == case.exit_code, r.output
    if case.exit_code == 2:
        assert 1 <= len(r.output.strip().splitlines()) <= 3, r.output
        assert not (r.out / "firms.csv").exists()
    else:
        f = r.firms
        n_in = r.summary["counts"]["firms_in"]
        assert list(f["source_row"]) == list(range(1, n_in + 1))  # every firm record is in firms.csv
        num = f.select_dtypes("number").to_numpy(float)
        assert not np.isinf(num).any()
        assert (r.parcels["area_mu"] > 0).all()
    CHECKS[case_id](r)


def test_absurd_threshold_is_policy_configurable(tmp_path: Path) -> None:
    """[land.absurd_per_mu] in a policy file lowers the limit (here 1.5 万元/亩: 甲, 丙, 丁 at 2 are listed);
    a limit that is not a positive number is a policy error (exit 2, the key named)."""
    import parkland

    preset = Path(parkland.__file__).parent / "scoring" / "presets" / "sichuan-2022.toml"
    text = preset.read_text(encoding="utf-8")
    pol = tmp_path / "local.toml"
    pol.write_text(text + "\n[land.absurd_per_mu]\ntax_per_mu = 1.5\n", encoding="utf-8")
    base = mc.resolve([], mc.BASE)
    r = CliRunner().invoke(main, ["assess", *base, "--policy", str(pol), "--out", str(tmp_path / "o")])
    assert r.exit_code == 0, r.output
    rec = pd.read_csv(tmp_path / "o" / "reconciliation.csv", encoding="utf-8-sig")
    assert sorted(rec.loc[rec["problem_code"] == "ABSURD_VALUE", "source_row"]) == [1, 3, 4]
    bad = tmp_path / "bad.toml"
    bad.write_text(text + "\n[land.absurd_per_mu]\ntax_per_mu = -1\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["assess", *base, "--policy", str(bad), "--out", str(tmp_path / "o2")])
    assert r.exit_code == 2 and "absurd_per_mu" in r.output and "Traceback" not in r.output
