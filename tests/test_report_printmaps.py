"""Printable maps: A3/A4 PNG and PDF of the city and each park, in a projected CRS with a true scale bar."""

from __future__ import annotations

import re

import geopandas as gpd
import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import pytest
import shapely
from matplotlib.patches import Rectangle

from parkland.geo.area import geodesic_area_m2
from parkland.report.printmaps import (
    _scale_bar,
    draw_map,
    nice_length,
    projected,
    safe_filename,
)

try:
    from test_export_dir import demo_exported
except ImportError:  # tests/ imported as a package
    from tests.test_export_dir import demo_exported


@pytest.fixture(scope="module")
def out():
    return demo_exported()[0]


def pdf_box(path) -> tuple[float, float]:
    m = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", path.read_bytes())
    return float(m.group(1)), float(m.group(2))


def test_demo_print_files_and_paper_sizes(out):
    files = sorted(p.name for p in (out / "print").iterdir())
    assert files[:4] == ["city_cleanup_A3.pdf", "city_cleanup_A3.png", "city_grades_A3.pdf", "city_grades_A3.png"]
    assert "park01_南充现代物流园_grades_A4.png" in files and "park04_嘉陵工业园区_cleanup_A4.pdf" in files
    assert len(files) == 4 + 4 * 4
    # A3 landscape at 150 dpi: 420 × 297 mm → 2480 × 1753 px; PDF in points (1/72 in)
    img = mpimg.imread(out / "print" / "city_grades_A3.png")
    assert img.shape[:2] == (1753, 2480)
    assert pdf_box(out / "print" / "city_grades_A3.pdf") == pytest.approx((1190.55, 841.89), abs=0.01)
    img = mpimg.imread(out / "print" / "park01_南充现代物流园_grades_A4.png")
    assert img.shape[:2] == (1240, 1753)
    assert pdf_box(out / "print" / "park01_南充现代物流园_grades_A4.pdf") == pytest.approx((841.89, 595.28), abs=0.01)
    # the grade colours are on the map: A green #1a9850 appears in the city map
    px = (mpimg.imread(out / "print" / "city_grades_A3.png")[:, :, :3] * 255).round().astype(int)
    assert ((px[:, :, 0] == 0x1A) & (px[:, :, 1] == 0x98) & (px[:, :, 2] == 0x50)).sum() > 1000


def test_nice_length_and_safe_filename():
    assert [nice_length(x) for x in (0.9, 1, 3, 7.5, 19, 1234, 99_999)] == [0.5, 1, 2, 5, 10, 1000, 50_000]
    assert safe_filename("../航空港/园区") == "__航空港_园区"
    assert safe_filename('a:b*c?"d<e>f|g\\h') == "a_b_c__d_e_f_g_h"
    assert safe_filename("..") == "_" and safe_filename("") == "_"
    assert len(safe_filename("长" * 100)) == 40


def test_scale_bar_is_true():
    """5 km of map across 0.74 of the figure width: the bar is the nice length below 0.16 of the width
    (5000 / 0.74 × 0.16 = 1081 m → 1000 m) and spans 1000 / 5000 × 0.74 = 0.148 of the figure."""
    fig = plt.figure(figsize=(11.69, 8.27))
    length = _scale_bar(fig, 5000.0, 0.74, "zh")
    rects = [a for a in fig.artists if isinstance(a, Rectangle)]
    plt.close(fig)
    assert length == 1000.0 and len(rects) == 4
    assert sum(r.get_width() for r in rects) == pytest.approx(0.148, rel=1e-12)


def test_projected_geographic_input_goes_to_its_gk_zone():
    g = gpd.GeoDataFrame({"grade": ["A"]}, geometry=[shapely.box(106.10, 30.80, 106.11, 30.81)], crs=4326)
    p = projected(g)
    assert p.crs.to_epsg() == 4544  # CGCS2000 3° zone 35 (CM 105°E), no zone prefix
    # the planar area in the zone is the geodesic area to 0.1 % (scale error 1° off the central meridian)
    assert p.geometry.area.iloc[0] == pytest.approx(geodesic_area_m2(g).iloc[0], rel=1e-3)
    already = g.to_crs(4523)
    assert projected(already).crs.to_epsg() == 4523
    assert projected(g.to_crs(3857)).crs.to_epsg() == 4544  # Web Mercator is never drawn as is


def test_draw_map_small(tmp_path):
    x0, y0 = 35_600_000.0, 3_400_000.0
    parcels = gpd.GeoDataFrame({"grade": ["A", "D", None], "park": ["一园", "一园", "../二园"]},
                               geometry=[shapely.box(x0 + 300 * i, y0, x0 + 300 * i + 200, y0 + 100)
                                         for i in range(3)], crs=4523)
    files = draw_map(tmp_path / "m", parcels, title="<测试>", data_date="2025", dpi=50)
    assert [f.name for f in files] == ["m.png", "m.pdf"]
    img = mpimg.imread(files[0])
    assert img.shape[:2] == (413, 584)  # A4 landscape at 50 dpi
    assert files[1].read_bytes().startswith(b"%PDF")
    assert b"CreationDate" not in files[1].read_bytes()  # reruns: no timestamp in the PDF
