"""The command line, in-process (click's runner): exit codes, messages, outputs."""

import json

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from parkland.cli import main


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_assess_writes_contract_folder(small_park, tmp_path):
    out = tmp_path / "out"
    r = run("assess", "--parcels", small_park["parcels"], "--parcels-layer", "zongdi", "--firms", small_park["firms"],
            "--links", small_park["links"], "--out", out)
    assert r.exit_code == 0, r.output
    assert "完成" in r.output and str(out) in r.output
    for name in ("parcels.gpkg", "firms.csv", "reconciliation.csv", "summary.json"):
        assert (out / name).is_file()
    firms = pd.read_csv(out / "firms.csv", encoding="utf-8-sig")
    assert len(firms) == 8
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["counts"]["firms_by_status"] == {"graded": 4, "no_land": 1, "not_graded": 2, "parcel_not_found": 1}
    # sichuan-2022 over 4 graded firms: A ⌊0.3·4⌋ = 1, C ⌈0.1·4⌉ = 1, D ⌊0.05·4⌋ = 0 — but 甲 and 丙 tie on
    # every indicator (2 万元/亩 tax, 20 万元/亩 revenue) across the A/B line, so both go to B
    assert s["grades"] == {"B": 3, "C": 1}
    assert s["policy"]["name"] == "sichuan-2022" and len(s["policy"]["sha256"]) == 64
    assert s["inputs"]["firms"]["encoding"] == "gbk"
    assert len(s["inputs"]["parcels"]["sha256"]) == 64


def test_reruns_are_byte_identical(small_park, tmp_path):
    args = ["assess", "--parcels", small_park["parcels"], "--parcels-layer", "zongdi", "--firms", small_park["firms"],
            "--links", small_park["links"]]
    assert run(*args, "--out", tmp_path / "a").exit_code == 0
    assert run(*args, "--out", tmp_path / "b").exit_code == 0
    for name in ("firms.csv", "reconciliation.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    pa = pyogrio.read_dataframe(tmp_path / "a" / "parcels.gpkg", layer="parcels")
    pb = pyogrio.read_dataframe(tmp_path / "b" / "parcels.gpkg", layer="parcels")
    pd.testing.assert_frame_equal(pa, pb)


def test_missing_file_exit_2_names_it(small_park, tmp_path):
    r = run("assess", "--parcels", small_park["parcels"], "--firms", tmp_path / "nope.xlsx", "--out", tmp_path / "o")
    assert r.exit_code == 2
    assert "nope.xlsx" in r.output
    assert "Traceback" not in r.output
    assert len(r.output.strip().splitlines()) <= 3


def test_no_crs_exit_2_suggests_zone(small_park, tmp_path):
    g = gpd.read_file(small_park["parcels"], layer="zongdi")
    g = gpd.GeoDataFrame({"ZDDM": g["宗地代码"]}, geometry=g.geometry.to_numpy(), crs=None)
    shp = tmp_path / "nocrs.shp"
    with pytest.warns(UserWarning, match="crs"):
        g.to_file(shp, driver="ESRI Shapefile")
    assert not (tmp_path / "nocrs.prj").exists()
    r = run("assess", "--parcels", shp, "--firms", small_park["firms"], "--out", tmp_path / "o")
    assert r.exit_code == 2, r.output
    assert "nocrs.shp" in r.output and "4523" in r.output
    assert "Traceback" not in r.output
    r2 = run("assess", "--parcels", shp, "--firms", small_park["firms"], "--crs", "EPSG:4523", "--out", tmp_path / "o2")
    assert r2.exit_code == 0, r2.output
    p = pyogrio.read_dataframe(tmp_path / "o2" / "parcels.gpkg", layer="parcels")
    assert p["area_mu"].sum() == 94.5 or abs(p["area_mu"].sum() - 94.5) < 1e-9


def test_english_messages(small_park, tmp_path):
    r = run("assess", "--parcels", small_park["parcels"], "--parcels-layer", "nope", "--firms", small_park["firms"],
            "--out", tmp_path / "o", "--lang", "en")
    assert r.exit_code == 2
    assert "zongdi" in r.output and "layer" in r.output.lower()


def test_overrides_applied_and_audited(small_park, tmp_path):
    """异议复核: a corrected tax (in 元), and a grade set by decision, both traced in grades.xlsx and
    summary.json."""
    from conftest import USCC
    from openpyxl import load_workbook

    ov = tmp_path / "overrides.csv"
    ov.write_text(
        "统一社会信用代码,类型,字段,新值,理由,文号\n"
        f"{USCC['B']},数据更正,税收（元）,450000,税务局更正入库数,南经信〔2026〕12号\n"
        f"{USCC['C']},评价等级,,A,复核认定,南经信〔2026〕13号\n", encoding="utf-8")
    out = tmp_path / "out"
    r = run("assess", "--parcels", small_park["parcels"], "--parcels-layer", "zongdi", "--firms", small_park["firms"],
            "--links", small_park["links"], "--overrides", ov, "--out", out)
    assert r.exit_code == 0, r.output
    firms = pd.read_csv(out / "firms.csv", encoding="utf-8-sig").set_index("name")
    assert firms.loc["乙公司", "tax_wan"] == pytest.approx(45.0, rel=1e-12)  # 450,000 元
    assert firms.loc["乙公司", "tax_per_mu"] == pytest.approx(45.0 / 9.0, rel=1e-9)
    assert firms.loc["丙公司", "grade"] == "A"
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["overrides"]["applied"] == 2
    refs = {a["reference"] for a in s["overrides"]["audit"]}
    assert refs == {"南经信〔2026〕12号", "南经信〔2026〕13号"}
    wb = load_workbook(out / "grades.xlsx")
    assert "异议复核" in wb.sheetnames
    ws = wb["异议复核"]
    texts = [c.value for row in ws.iter_rows() for c in row if c.value is not None]
    assert "南经信〔2026〕13号" in texts



def test_tune_process_sets_the_allocator_and_the_collector(monkeypatch):
    """The command's own process: Arrow buffers from the system allocator (unless the user chose a pool),
    the collector's first threshold at 10,000. Global state, so it is put back afterwards."""
    import gc

    import pyarrow as pa

    from parkland.cli import _tune_process

    pool, thresholds = pa.default_memory_pool(), gc.get_threshold()
    try:
        monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
        _tune_process()
        assert gc.get_threshold() == (10_000, 10, 10)
        assert pa.default_memory_pool().backend_name == "system"
        pa.set_memory_pool(pool)
        monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
        _tune_process()
        assert pa.default_memory_pool().backend_name == pool.backend_name  # the user's choice stands
    finally:
        pa.set_memory_pool(pool)
        gc.set_threshold(*thresholds)


def test_a_caller_of_main_keeps_its_process_as_it_was(small_park, tmp_path):
    """main() called by another program (here click's runner): no process settings, no early exit."""
    import gc

    import pyarrow as pa

    pool, thresholds = pa.default_memory_pool().backend_name, gc.get_threshold()
    r = run("assess", "--parcels", small_park["parcels"], "--parcels-layer", "zongdi", "--firms", small_park["firms"],
            "--links", small_park["links"], "--out", tmp_path / "out")
    assert r.exit_code == 0, r.output
    assert gc.get_threshold() == thresholds and pa.default_memory_pool().backend_name == pool


def test_the_command_in_its_own_process_ends_with_everything_written(small_park, tmp_path):
    """`python -m parkland assess`: the process ends right after its last line (os._exit), and by then
    every file is complete, the messages are out and no hidden staging folder is left."""
    import subprocess
    import sys

    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-m", "parkland", "assess", "--parcels", str(small_park["parcels"]),
                          "--parcels-layer", "zongdi", "--firms", str(small_park["firms"]),
                          "--links", str(small_park["links"]), "--out", str(out)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = res.stdout.strip().splitlines()
    assert lines[-1].startswith("完成") and str(out) in lines[-1] and "评价结果" in lines[-2]
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["grades"] == {"B": 3, "C": 1}
    assert (out / "map.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    assert len(pyogrio.read_dataframe(out / "parcels.gpkg", layer="parcels")) == 4
    assert len(pd.read_csv(out / "firms.csv", encoding="utf-8-sig")) == 8
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
    bad = subprocess.run([sys.executable, "-m", "parkland", "assess", "--parcels", str(tmp_path / "nope.gpkg"),
                          "--firms", str(small_park["firms"]), "--out", str(tmp_path / "o2")],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and bad.stderr.strip()  # an input error still exits 2 with its message
