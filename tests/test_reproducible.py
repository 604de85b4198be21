"""Reproducible runs: the demo city (with hostile names) assessed twice gives byte-identical CSV, JSON and map
files, identical GPKG tables and workbook cells; summary.json records the package version, the policy hash
and the sha256 of every input file, and they are right."""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import tomllib
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pyogrio
import pytest

import parkland
from parkland.scoring.policy import canonical_json

try:
    from test_safety import hostile_demo, run_hostile
except ImportError:  # tests/ imported as a package
    from tests.test_safety import hostile_demo, run_hostile

EPOCH = "1735689600"  # 2025-01-01T00:00:00Z


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("repro")
    inputs = hostile_demo(base / "in")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        run_hostile(inputs, base / "a")
        run_hostile(inputs, base / "b")
    return {"a": base / "a", "b": base / "b", "inputs": inputs}


@pytest.mark.parametrize("name", ["firms.csv", "reconciliation.csv", "summary.json", "map.html"])
def test_text_outputs_byte_identical(two_runs: dict[str, Any], name: str) -> None:
    a, b = (two_runs[k] / name for k in "ab")
    assert a.read_bytes() == b.read_bytes()


def test_geojson_exports_byte_identical(two_runs: dict[str, Any]) -> None:
    from click.testing import CliRunner

    from parkland.cli import main

    for k in "ab":
        r = CliRunner().invoke(main, ["export", str(two_runs[k]), "--what", "geojson"])
        assert r.exit_code == 0, r.output
    files = sorted(p.relative_to(two_runs["a"]) for p in two_runs["a"].rglob("*.geojson"))
    assert len(files) >= 2
    for f in files:
        assert (two_runs["a"] / f).read_bytes() == (two_runs["b"] / f).read_bytes(), f


def test_map_data_identical(two_runs: dict[str, Any]) -> None:
    blocks = [re.findall(r'<script type="application/json"[^>]*>(.*?)</script>',
                         (two_runs[k] / "map.html").read_text(encoding="utf-8"), flags=re.S) for k in "ab"]
    assert blocks[0] and blocks[0] == blocks[1]


@pytest.mark.parametrize("name,layer", [("parcels.gpkg", "parcels"), ("parcels.gpkg", "parks"),
                                        ("cleanup.gpkg", "cleanup")])
def test_gpkg_tables_identical(two_runs: dict[str, Any], name: str, layer: str) -> None:
    a, b = (pyogrio.read_dataframe(two_runs[k] / name, layer=layer) for k in "ab")
    assert len(a) > 0
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert a.geometry.to_wkb().tolist() == b.geometry.to_wkb().tolist()
    assert a.crs == b.crs


@pytest.mark.parametrize("name", ["grades.xlsx", "notice.xlsx", "cleanup.xlsx", "idle_floor.xlsx"])
def test_workbook_cells_identical(two_runs: dict[str, Any], name: str) -> None:
    wa, wb = (openpyxl.load_workbook(two_runs[k] / name) for k in "ab")
    assert wa.sheetnames == wb.sheetnames
    for sa, sb in zip(wa.worksheets, wb.worksheets):
        assert list(sa.iter_rows(values_only=True)) == list(sb.iter_rows(values_only=True))


def _sha(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_summary_records_hashes_and_version(two_runs: dict[str, Any]) -> None:
    import json

    s = json.loads((two_runs["a"] / "summary.json").read_text(encoding="utf-8"))
    assert s["version"] == parkland.__version__ == importlib.metadata.version("parkland")
    inp = two_runs["inputs"]
    want = {"parcels": inp["parcels"], "firms": inp["firms"], "links": inp["links"], "parks": inp["parks"],
            "buildings": inp["buildings"], "previous_firms": inp["previous_firms"],
            "raster_ndvi": inp["rasters"]["ndvi"]}
    for key, path in want.items():
        assert s["inputs"][key]["sha256"] == _sha(path), key
        assert s["inputs"][key]["file"] == Path(path).name
    preset = Path(parkland.__file__).parent / "scoring" / "presets" / "sichuan-2022.toml"
    raw = tomllib.loads(preset.read_text(encoding="utf-8"))
    assert s["policy"]["name"] == "sichuan-2022"
    assert s["policy"]["sha256"] == hashlib.sha256(canonical_json(raw).encode("utf-8")).hexdigest()


def test_policy_file_hash_is_its_content(tmp_path: Path, small_park: dict[str, Any]) -> None:
    """A policy file passed by path: the recorded hash is that of its canonical content, so a comment or a
    reformat does not change it, and a changed number does."""
    preset = Path(parkland.__file__).parent / "scoring" / "presets" / "sichuan-2022.toml"
    text = preset.read_text(encoding="utf-8")
    p1, p2, p3 = tmp_path / "p1.toml", tmp_path / "p2.toml", tmp_path / "p3.toml"
    p1.write_text(text, encoding="utf-8")
    p2.write_text("# 本地修订说明\n" + text, encoding="utf-8")
    p3.write_text(text.replace("low_tax_per_mu = 8.0", "low_tax_per_mu = 9.0"), encoding="utf-8")
    hashes = []
    for p in (p1, p2, p3):
        a = parkland.assess(str(small_park["parcels"]), str(small_park["firms"]), policy=str(p))
        hashes.append(a.summary()["policy"]["sha256"])
    raw = tomllib.loads(text)
    assert hashes[0] == hashes[1] == hashlib.sha256(canonical_json(raw).encode("utf-8")).hexdigest()
    assert hashes[2] != hashes[0]
