"""benchmarks/run.py at 10k prints its one table with the expected columns (nothing about time is asserted:
the 100k and 1M figures are measured by hand, see benchmarks/README.md); synth.py makes what it says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from parkland.uscc import valid_mask

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from run import COLUMNS  # noqa: E402
from synth import make_city  # noqa: E402


def test_synth_city_shapes_and_codes(tmp_path):
    paths = make_city(1000, tmp_path / "c", buildings=True)
    info = pyogrio.read_info(str(paths["parcels"]), layer="zongdi")
    assert info["crs"] == "EPSG:4523" and info["features"] == 1000
    p = gpd.read_file(paths["parcels"], layer="zongdi")
    assert p["宗地代码"].str.len().eq(19).all()
    live = p.geometry.notna()
    assert (~live).sum() >= 0 and shapely.is_valid(p.geometry[live].to_numpy()).mean() > 0.99
    b = gpd.read_file(paths["parcels"], layer="jianzhu")
    assert len(b) >= live.sum() and set(b.columns) >= {"层数", "建筑面积", "使用状态", "geometry"}
    f = pd.read_csv(paths["firms"], encoding="gbk", dtype=str)
    assert len(f) == 1000 and valid_mask(f["统一社会信用代码"]).all()
    # eastings carry the zone prefix 35
    assert np.all(p.geometry[live].bounds["minx"] > 35_000_000)


def test_run_prints_the_table(tmp_path):
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--sizes", "10000", "--workdir",
                          str(tmp_path), "--repeat", "1", "--pairs", "2"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = [ln for ln in res.stdout.splitlines() if ln.strip()]
    header = lines[0]
    for col in COLUMNS:
        assert col in header
    assert COLUMNS[:4] == ["parcels", "firms", "engine", "parkland s"]
    row = lines[1].split()
    assert row[:3] == ["10000", "10000", "pandas"]
    cell = dict(zip(COLUMNS[3:], row[3:]))
    lo, hi = (float(x) for x in cell["ratio range"].split("-"))
    assert int(cell["pairs"]) == 2 and 0 < lo <= float(cell["ratio"]) <= hi  # the median of two lies between
    assert (tmp_path / "out-10000-pandas" / "map.html").is_file()
    assert (tmp_path / "baseline-10000" / "map.html").is_file()


def test_bench_outputs_prints_old_beside_new(tmp_path):
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_outputs.py"), "--size", "2000",
                          "--workdir", str(tmp_path), "--repeat", "1"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = [ln for ln in res.stdout.splitlines() if ln.strip()]
    assert lines[0].split() == ["step", "old", "s", "new", "s", "new/old"]
    steps = [ln.split("  ")[0] for ln in lines[1:]]
    assert steps[0].startswith("read parcels + firms") and steps[1].startswith("firms.csv")
    assert steps[2].startswith("cleanup.xlsx") and steps[3].startswith("grades.xlsx 2000×")
    assert steps[4].startswith("write_outputs") and steps[5].startswith("assess + write (early files)")
    for ln in lines[1:]:
        old_s, new_s, ratio = (float(x) for x in ln.split()[-3:])
        assert old_s > 0 and new_s > 0 and ratio > 0
        if old_s >= 0.5:  # printed to 2 decimals: the ratio is checkable when the times are not tiny
            assert abs(ratio - new_s / old_s) < 0.05
    # both output folders were written in full
    for lane in ("one", "two"):
        assert (tmp_path / "bench-outputs-2000" / lane / "summary.json").is_file()


def test_byte_compile_writes_current_bytecode_for_every_module():
    """run.py byte-compiles parkland as pip does: a cached module for each source file, even under
    PYTHONDONTWRITEBYTECODE (which only stops the import system from writing)."""
    import importlib.util

    from run import byte_compile

    import parkland

    assert byte_compile() is True
    pkg = Path(parkland.__file__).parent
    for src in pkg.rglob("*.py"):
        cached = Path(importlib.util.cache_from_source(str(src)))
        assert cached.is_file(), src
        assert cached.stat().st_mtime >= src.stat().st_mtime - 1, src
