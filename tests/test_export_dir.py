"""``export_dir``: every deliverable from an output folder alone; the demo city as the realistic fixture.

``demo_run()`` / ``demo_exported()`` are shared with the other report tests (one demo run and one export
per test session: they are cached).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from parkland.errors import InputError
from parkland.report.exporter import WHAT, export_dir, parse_what

#: the run time written into files (SOURCE_DATE_EPOCH) = 2023-11-14T22:13:20Z
EPOCH = "1700000000"
EPOCH_ISO = "2023-11-14T22:13:20Z"


@contextlib.contextmanager
def source_date_epoch(value: str = EPOCH):
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old


def _tmpdir(prefix: str) -> Path:
    d = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, d, True)
    return d


@functools.cache
def demo_run():
    """(Assessment, output folder) of the demo city, assessed as ``parkland demo`` does, written with
    SOURCE_DATE_EPOCH set (no map: the map has its own tests)."""
    from parkland.demo_data import demo_data_dir
    from parkland.pipeline import assess

    d = demo_data_dir()
    a = assess(str(d / "city.gpkg"), str(d / "firms_2025.xlsx"), parcels_layer="zongdi", links=str(d / "links.csv"),
               parks=str(d / "city.gpkg"), parks_layer="parks", buildings=str(d / "city.gpkg"),
               buildings_layer="buildings", rasters={"ndvi": str(d / "ndvi.tif")}, year=2025,
               previous_firms=str(d / "firms_2024.xlsx"), lang="zh")
    out = _tmpdir("parkland-demo-")
    with source_date_epoch():
        a.write(out, lang="zh", map_html=False)
    return a, out


@functools.cache
def demo_exported() -> tuple[Path, tuple[Path, ...]]:
    """The demo output folder after ``export_dir(out, ["all"])``, and the files it returned."""
    _, out = demo_run()
    with source_date_epoch():
        files = export_dir(out, ["all"])
    return out, tuple(files)


@pytest.fixture(scope="module")
def exported() -> tuple[Path, tuple[Path, ...]]:
    return demo_exported()


def test_all_writes_every_deliverable(exported):
    out, files = exported
    rel = sorted(str(f.relative_to(out)) for f in files)
    assert all(f.exists() and f.stat().st_size > 0 for f in files)
    expected = {"cards.html", "report.html", "report.pdf", "gis/parkland.gpkg",
                "gis/parcels.shp", "gis/parcels.shx", "gis/parcels.dbf", "gis/parcels.prj", "gis/parcels.cpg",
                "gis/parcels_fields.csv", "gis/cleanup.shp", "gis/cleanup_fields.csv", "gis/parcels.geojson",
                "gis/cleanup.geojson", "gis/parcels.kml", "gis/parcels.kmz", "gis/cleanup.kml", "gis/cleanup.kmz",
                "print/city_grades_A3.png", "print/city_grades_A3.pdf", "print/city_cleanup_A3.png",
                "print/city_cleanup_A3.pdf"}
    assert expected <= set(rel)
    # four demo parks × two themes × (png, pdf)
    assert len([r for r in rel if r.startswith("print/park")]) == 16
    assert len(rel) == len(set(rel))


def test_no_temporary_files_left(exported):
    out, _ = exported
    leftovers = [p for p in out.rglob("*") if p.name.startswith(".")]
    assert leftovers == []


def test_parse_what():
    assert parse_what(["gpkg,shp"]) == ["gpkg", "shp"]
    assert parse_what(["report", "cards"]) == ["cards", "report"]  # fixed order: the report links the cards
    assert parse_what("all") == list(WHAT)
    assert parse_what(["print", "all"]) == list(WHAT)
    with pytest.raises(InputError) as e:
        parse_what(["pdf"])
    assert "pdf" in e.value.zh and e.value.column == "--what"


def test_missing_folder_and_missing_input(tmp_path):
    with pytest.raises(InputError) as e:
        export_dir(tmp_path / "nope", ["report"])
    assert "结果目录不存在" in e.value.zh
    (tmp_path / "summary.json").write_text("{}", encoding="utf-8")
    with pytest.raises(InputError) as e:
        export_dir(tmp_path, ["cards"])
    assert "firms.csv" in e.value.zh and e.value.file.endswith("firms.csv")


def test_shapefile_encoding_option(tmp_path):
    _, out = demo_run()
    d = tmp_path / "o"
    d.mkdir()
    shutil.copy(out / "parcels.gpkg", d / "parcels.gpkg")
    files = export_dir(d, ["shp"], shp_encoding="utf8")
    assert (d / "gis" / "parcels.cpg").read_text() == "UTF-8"
    assert d / "gis" / "parcels.shp" in files
    with pytest.raises(InputError) as e:
        export_dir(d, ["shp"], shp_encoding="latin1")
    assert e.value.column == "--shp-encoding"
