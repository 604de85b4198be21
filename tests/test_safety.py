"""Safe outputs: input text escaped in maps (Chromium, the demo city with hostile names), formulas
neutralised in CSV and Excel, file names sanitised, atomic writes, public modes free of tax/revenue/score.

Browser tests fail (not skip) on CI (CI=true) when Chromium is missing, like tests/test_maps_browser.py.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

import parkland
from parkland.cli import main
from parkland.demo_data import demo_data_dir
from parkland.report import export, maps

#: hostile firm names written into the demo's firm table (rows 1–7)
HOSTILE_NAMES = [
    "<img src=x onerror=alert(1)>",
    "</script><script>alert(2)</script>",
    '"><svg onload=alert(3)>',
    "=cmd|' /C calc'!A0",
    '+HYPERLINK("http://evil.example","点我")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
]
HOSTILE_PARK = "../../<b onmouseover=alert(4)>物流园</b>/.."
FORMULA_START = ("=", "+", "-", "@")


def hostile_demo(d: Path) -> dict[str, Any]:
    """The demo city's inputs with hostile firm names, a hostile credit-code cell and a hostile park name."""
    src = demo_data_dir()
    d.mkdir(parents=True, exist_ok=True)
    for name in ("city.gpkg", "links.csv", "firms_2024.xlsx", "ndvi.tif"):
        shutil.copy(src / name, d / name)
    wb = openpyxl.load_workbook(src / "firms_2025.xlsx")
    ws = wb["企业数据"]
    head = [c.value for c in ws[2]]
    col = head.index("企业名称") + 1
    for i, name in enumerate(HOSTILE_NAMES):
        ws.cell(row=3 + i, column=col, value=name).data_type = "s"
    ws.cell(row=3 + len(HOSTILE_NAMES), column=head.index("统一社会信用代码") + 1, value="=1+1").data_type = "s"
    wb.save(d / "firms_2025.xlsx")
    z = pyogrio.read_dataframe(d / "city.gpkg", layer="zongdi")
    z.loc[z["园区"] == "南充现代物流园", "园区"] = HOSTILE_PARK
    pyogrio.write_dataframe(z, d / "city.gpkg", layer="zongdi", driver="GPKG")
    return {"parcels": str(d / "city.gpkg"), "parcels_layer": "zongdi", "firms": str(d / "firms_2025.xlsx"),
            "links": str(d / "links.csv"), "parks": str(d / "city.gpkg"), "parks_layer": "parks",
            "buildings": str(d / "city.gpkg"), "buildings_layer": "buildings",
            "previous_firms": str(d / "firms_2024.xlsx"), "rasters": {"ndvi": str(d / "ndvi.tif")}, "year": 2025}


def run_hostile(inputs: dict[str, Any], out: Path) -> parkland.pipeline.Assessment:
    kw = dict(inputs)
    a = parkland.assess(kw.pop("parcels"), kw.pop("firms"), **kw)
    a.write(out)
    return a


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("hostile")
    inputs = hostile_demo(base / "in")
    out = base / "out"
    run_hostile(inputs, out)
    pub = base / "public"
    r = CliRunner().invoke(main, ["map", str(out), "--out", str(pub), "--public"])
    assert r.exit_code == 0, r.output
    p = pyogrio.read_dataframe(out / "parcels.gpkg", layer="parcels", read_geometry=False)
    park_parcel = str(p.loc[p["park"] == HOSTILE_PARK, "parcel_id"].iloc[0])
    return {"in": base / "in", "out": out, "public": pub, "park_parcel": park_parcel}


# --------------------------------------------------------------------------------------------------
# CSV and Excel: formula injection
# --------------------------------------------------------------------------------------------------
def test_firms_csv_neutralises_formulas(hostile: dict[str, Any]) -> None:
    with open(hostile["out"] / "firms.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    names = [r["name"] for r in rows[:len(HOSTILE_NAMES)]]
    for raw, cell in zip(HOSTILE_NAMES, names):
        assert cell == ("'" + raw if raw.startswith(FORMULA_START) else raw)
    assert rows[len(HOSTILE_NAMES)]["uscc"] == "'=1+1"
    # no text cell anywhere in the written CSVs starts a formula
    for name in ("firms.csv", "reconciliation.csv"):
        with open(hostile["out"] / name, encoding="utf-8-sig", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    assert not cell.startswith(("=", "+", "@")) or _is_number(cell), (name, cell)
    # numbers stay numbers
    firms = pd.read_csv(hostile["out"] / "firms.csv", encoding="utf-8-sig")
    assert firms["tax_wan"].dtype == "float64" and firms["land_mu"].dtype == "float64"


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


@pytest.mark.parametrize("book", ["grades.xlsx", "notice.xlsx", "cleanup.xlsx"])
def test_workbooks_hold_strings_never_formulas(hostile: dict[str, Any], book: str) -> None:
    wb = openpyxl.load_workbook(hostile["out"] / book)
    seen = set()
    for ws in wb.worksheets:
        assert "/" not in ws.title and "\\" not in ws.title
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (book, ws.title, c.coordinate, c.value)
                if isinstance(c.value, str):
                    seen.add(c.value.lstrip("'"))
    if book == "grades.xlsx":  # every firm is listed there (notice.xlsx: graded firms only)
        assert set(HOSTILE_NAMES) <= seen, set(HOSTILE_NAMES) - seen


def test_gpkg_text_neutralised(hostile: dict[str, Any]) -> None:
    p = pyogrio.read_dataframe(hostile["out"] / "parcels.gpkg", layer="parcels", read_geometry=False)
    parks = set(p["park"].dropna())
    assert HOSTILE_PARK in parks  # not a formula start: kept as written


# --------------------------------------------------------------------------------------------------
# public outputs
# --------------------------------------------------------------------------------------------------
#: a field or word about tax, revenue or score (not inside a base64 blob: no letter or digit before it)
SECRET = re.compile(r"(?<![A-Za-z0-9])(tax|revenue|score)|税收|营业收入|营收|得分", re.IGNORECASE)


def test_notice_is_public_safe(hostile: dict[str, Any]) -> None:
    wb = openpyxl.load_workbook(hostile["out"] / "notice.xlsx")
    data = wb.worksheets[0]
    head = [c.value for c in data[1]]
    assert head == ["企业名称", "统一社会信用代码", "园区", "评价等级"]
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str):
                    assert not SECRET.search(c.value), (ws.title, c.coordinate, c.value)
    firms = pd.read_csv(hostile["out"] / "firms.csv", encoding="utf-8-sig")
    taxes = {round(v, 2) for v in firms["tax_wan"].dropna()} - {0.0}
    for row in data.iter_rows(min_row=2, values_only=True):
        assert not any(isinstance(v, (int, float)) and round(v, 2) in taxes for v in row)


def test_public_map_has_no_tax_revenue_score(hostile: dict[str, Any]) -> None:
    doc = (hostile["public"] / "map.html").read_text(encoding="utf-8")
    data = _map_data(doc)
    assert not SECRET.search(data), data[max(0, SECRET.search(data).start() - 80):SECRET.search(data).end() + 40]
    assert not re.search(r"tax_per_mu|revenue_per_mu|\"score\"|part_", doc)
    internal = (hostile["out"] / "map.html").read_text(encoding="utf-8")
    assert "tax_per_mu" in internal  # the internal map does carry them: the check above can fail


def _map_data(doc: str) -> str:
    """The JSON data blocks of a map page (not its code)."""
    blocks = re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', doc, flags=re.S)
    assert blocks
    out = []
    for b in blocks:
        obj = json.loads(b)
        if isinstance(obj, dict) and isinstance(obj.get("text"), dict):
            obj["text"].pop("map_public_note", None)  # "公开版：不含税收、营收与得分" says what is left out
        out.append(json.dumps(obj, ensure_ascii=False))
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------
# HTML escaping in Chromium
# --------------------------------------------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.parametrize("which", ["out", "public"])
def test_demo_map_hostile_names_fire_nothing(browser: Any, hostile: dict[str, Any], which: str) -> None:
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    dialogs: list[str] = []
    errors: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
    try:
        page.goto((hostile[which] / "map.html").as_uri())
        n = page.evaluate("window.parkland.ready")
        assert n > 1000
        opened = page.evaluate("window.parkland.openAll()")
        assert opened == n
        # the search box lists firm names: type a hostile one
        box = page.locator(".pk-search input")
        if which == "out":
            box.fill("onerror")
            assert "<img src=x onerror=alert(1)>" in page.inner_text(".pk-results")
            box.press("Enter")
            assert "<img src=x onerror=alert(1)>" in page.inner_text(".leaflet-popup-content")
        # a parcel of the hostile park: its name is text in the popup
        assert page.evaluate(f"window.parkland.openParcel({hostile['park_parcel']!r})") is True
        assert HOSTILE_PARK in page.inner_text(".leaflet-popup-content")
        assert page.eval_on_selector_all("img[src='x'], svg[onload], b[onmouseover]", "els => els.length") == 0
        assert dialogs == [] and errors == []
    finally:
        page.close()


# --------------------------------------------------------------------------------------------------
# file names and atomic writes
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../../etc/passwd", "a/b\\c", "..", "/", "一园/../二园", "<b>三园</b>", "", None])
def test_safe_filename(name: Any, tmp_path: Path) -> None:
    s = maps.safe_filename(name)
    assert s and "/" not in s and "\\" not in s and ".." not in s and not s.startswith(".")
    assert (tmp_path / f"{s}.html").resolve().parent == tmp_path.resolve()


def test_per_park_maps_stay_in_their_folder(hostile: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "maps"
    r = CliRunner().invoke(main, ["map", str(hostile["out"]), "--out", str(out), "--per-park"])
    assert r.exit_code == 0, r.output
    files = sorted(p.name for p in out.iterdir())
    assert "park_001_b_onmouseover_alert_4_物流园_b.html" in files and "index.html" in files
    assert all(p.parent == out for p in out.rglob("*"))
    assert not any(".." in f for f in files)


def _no_temp(d: Path) -> None:
    left = [p.name for p in d.iterdir() if p.name.startswith(".")]
    assert left == [], left


def test_csv_crash_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "firms.csv"
    export.write_csv(pd.DataFrame({"a": [1, 2]}), target)
    old = target.read_bytes()

    import pyarrow.csv as pacsv

    def half_then_crash(table: Any, sink: Any, *a: Any, **k: Any) -> None:
        sink.write(b"9\n")  # half a file
        raise OSError("disk full")

    monkeypatch.setattr(pacsv, "write_csv", half_then_crash)  # the body writer
    with pytest.raises(OSError, match="disk full"):
        export.write_csv(pd.DataFrame({"a": [9, 9, 9]}), target)
    assert target.read_bytes() == old
    _no_temp(tmp_path)


def test_gpkg_crash_keeps_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import geopandas as gpd
    import shapely

    g = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4523")
    target = tmp_path / "parcels.gpkg"
    export.write_gpkg_layers({"parcels": g}, target)
    old = target.read_bytes()
    import pyogrio.raw

    real = pyogrio.raw.write_arrow  # what every plain layer is written with
    calls = {"n": 0}

    def second_layer_crashes(*a: Any, **k: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("killed mid-write")
        real(*a, **k)

    monkeypatch.setattr(pyogrio.raw, "write_arrow", second_layer_crashes)
    with pytest.raises(RuntimeError, match="mid-write"):
        export.write_gpkg_layers({"parcels": g, "parks": g}, target)
    assert calls["n"] == 2 and target.read_bytes() == old  # the crash came in the second layer's write
    _no_temp(tmp_path)


def test_assessment_write_crash_leaves_complete_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       small_park: dict[str, Any]) -> None:
    a = parkland.assess(str(small_park["parcels"]), str(small_park["firms"]), links=str(small_park["links"]))
    out = tmp_path / "out"
    a.write(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def boom(*args: Any, **kw: Any) -> None:
        raise RuntimeError("crash while writing the map")

    monkeypatch.setattr(maps, "write_map", boom)
    with pytest.raises(RuntimeError, match="crash"):
        a.write(out)
    _no_temp(out)
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(after) == set(before)
    assert after["map.html"] == before["map.html"]  # the old map stays whole
    assert after["firms.csv"] == before["firms.csv"]  # rewritten whole, same bytes
