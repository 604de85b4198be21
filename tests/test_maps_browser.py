"""The bureau map in headless Chromium (file://, every non-file request aborted and recorded)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from parkland.report import maps

try:
    from test_report_maps import HOSTILE, SCRIPT_BREAK, make_frames, make_raster
except ImportError:  # tests/ imported as a package
    from tests.test_report_maps import HOSTILE, SCRIPT_BREAK, make_frames, make_raster

pytestmark = pytest.mark.browser



class Page:
    """A page with its console errors, page errors, dialogs and non-file requests recorded."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1100, "height": 760})
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.blocked: list[str] = []
        self.failed: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("requestfailed", lambda r: self.failed.append(r.url))

        def route(r: Any) -> None:
            if r.request.url.startswith("file://"):
                r.continue_()
            else:
                self.blocked.append(r.request.url)
                r.abort()

        self.page.route("**/*", route)
        self.page.goto(path.as_uri())
        self.features = self.page.evaluate("window.parkland.ready")

    def popup_text(self) -> str:
        return self.page.inner_text(".leaflet-popup-content")

    def close(self) -> None:
        self.page.close()


@pytest.fixture(scope="module")
def frames() -> dict[str, Any]:
    return make_frames()


@pytest.fixture(scope="module")
def page(browser: Any, frames: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp("map") / "map.html"
    assert maps.write_map(path, frames["parcels"], frames["firms"], cleanup=frames["cleanup"]) == []
    pg = Page(browser, path)
    yield pg
    pg.close()


def test_loads_offline_without_errors(page: Page) -> None:
    assert page.features == 6
    assert page.page.evaluate("window.parkland.features") == 6
    assert page.page.evaluate("window.parkland.map instanceof L.Map")
    assert page.errors == [] and page.blocked == [] and page.failed == [] and page.dialogs == []


def test_legends(page: Page) -> None:
    sections = page.page.eval_on_selector_all(".pk-legend-section", "els => els.map(e => e.dataset.layer)")
    assert sections == ["grade", "parks", "points"]
    legend = page.page.inner_text(".pk-legend")
    assert "A类（优先发展）" in legend and "未评价" in legend
    # switch on the tax choropleth and the cleanup layer: their legends appear
    page.page.get_by_label("亩均税收（万元/亩）").check()
    page.page.get_by_label("低效用地清理").check()
    sections = page.page.eval_on_selector_all(".pk-legend-section", "els => els.map(e => e.dataset.layer)")
    assert sections == ["grade", "tax_per_mu", "cleanup", "parks", "points"]
    legend = page.page.inner_text(".pk-legend")
    assert "已纳入清理" in legend and "无数据" in legend and "≥" in legend
    page.page.get_by_label("亩均税收（万元/亩）").uncheck()
    assert page.errors == []


def test_popup_shows_figures(page: Page) -> None:
    assert page.page.evaluate("window.parkland.openParcel('511302001001GB00001')") is True
    text = page.popup_text()
    assert "511302001001GB00001" in text and "经开区" in text
    assert "亩均税收（万元/亩）\t12.35" in text
    assert "税收（万元）\t98,765.43" in text
    assert "建筑系数\t45.12%" in text and "容积率\t1.23" in text
    assert "南充甲机械有限公司" in text and "91511300MA62000001" in text
    assert "综合得分\t88.50" in text and "亩均税收得分 30.12" in text
    page.page.evaluate("window.parkland.openParcel('511302001001GB00002')")
    text = page.popup_text()
    assert "停产、低效用地" in text
    assert "停产：营收、税收、用电均为零；亩均税收低于标准；评价为D类" in text
    assert "已纳入清理，清理排序 2" in text


def test_hostile_name_is_text(page: Page) -> None:
    page.page.evaluate("window.parkland.openParcel('511302001001GB00002')")
    assert HOSTILE in page.popup_text()
    assert page.page.eval_on_selector_all(".leaflet-popup-content img", "els => els.length") == 0
    page.page.evaluate("window.parkland.openParcel('511302001001GB00003')")
    assert SCRIPT_BREAK in page.popup_text()
    assert page.dialogs == [] and page.errors == []


def test_tooltip_on_hover(page: Page) -> None:
    page.page.evaluate("window.parkland.map.closePopup()")
    xy = page.page.evaluate("""(() => {
        const m = window.parkland.map;
        m.fitBounds(m.getBounds(), {animate: false});
        let found = null;
        m.eachLayer(l => { if (l._pk === 1 && !found) found = l; });
        const p = m.latLngToContainerPoint(found.getBounds().getCenter());
        const r = m.getContainer().getBoundingClientRect();
        return [r.left + p.x, r.top + p.y];
    })()""")
    page.page.mouse.move(xy[0] - 3, xy[1] - 3)
    page.page.mouse.move(xy[0], xy[1])
    page.page.wait_for_selector(".pk-tip", timeout=2000)
    assert page.page.inner_text(".pk-tip") == "511302001001GB00002 · D类（整治淘汰）"
    page.page.mouse.click(xy[0], xy[1])
    assert "511302001001GB00002" in page.popup_text()


def test_search_finds_firm(page: Page) -> None:
    box = page.page.locator(".pk-search input")
    box.fill("甲机械")
    assert page.page.inner_text(".pk-results") == "南充甲机械有限公司 · 91511300MA62000001"
    box.press("Enter")
    assert "南充甲机械有限公司" in page.popup_text() and "511302001001GB00001" in page.popup_text()
    box.fill("91511300MA62000003")
    box.press("Enter")
    assert "511302001001GB00003" in page.popup_text()
    box.fill("511302001001gb00005")  # a parcel code, any case
    box.press("Enter")
    assert "511302001001GB00005" in page.popup_text()
    box.fill("无地乙")  # a firm without land: its point
    box.press("Enter")
    assert "无地乙科技有限公司" in page.popup_text()
    box.fill("没有这家")
    assert page.page.inner_text(".pk-results") == "未找到"
    assert page.errors == []


def test_open_all(page: Page) -> None:
    assert page.page.evaluate("window.parkland.openAll()") == 6
    assert "511302001001GB00006" in page.popup_text()
    assert page.errors == [] and page.dialogs == []


def test_screenshot_not_blank(page: Page, tmp_path: Path) -> None:
    from PIL import Image

    page.page.evaluate("window.parkland.map.closePopup()")
    shot = tmp_path / "map.png"
    page.page.screenshot(path=str(shot))
    img = Image.open(io.BytesIO(shot.read_bytes())).convert("RGB")
    colours = img.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50
    # the grade colours are on screen (A, B, D parcels)
    rgb = {c for _, c in colours}
    for hexc in ("#1a9850", "#91cf60", "#d73027"):
        target = tuple(int(hexc[i:i + 2], 16) for i in (1, 3, 5))
        assert any(sum(abs(a - b) for a, b in zip(c, target)) < 90 for c in rgb), hexc


def test_public_and_tile_maps_stay_quiet(browser: Any, frames: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "public.html"
    maps.write_map(path, frames["parcels"], frames["firms"], cleanup=frames["cleanup"], public=True, lang="en",
                   raster=make_raster(tmp_path / "ortho.tif"))
    pg = Page(browser, path)
    try:
        assert pg.features == 6 and pg.errors == [] and pg.blocked == []
        # the raster base map (a data: URI) is shown by default and decoded
        assert pg.page.evaluate("[...document.querySelectorAll('img.leaflet-image-layer')]"
                                ".map(i => i.complete && i.naturalWidth > 0)") == [True]
        pg.page.evaluate("window.parkland.openParcel('511302001001GB00001')")
        text = pg.popup_text()
        assert "parcel code 511302001001GB00001" in text and "A (priority)" in text
        assert "12.35" not in text and "98,765" not in text
    finally:
        pg.close()
    # a tile base map offline: the tiles are blocked, the page still draws
    path = tmp_path / "osm.html"
    maps.write_map(path, frames["parcels"], frames["firms"], basemap="osm")
    pg = Page(browser, path)
    try:
        assert pg.features == 6
        assert pg.blocked and all(u.startswith("https://tile.openstreetmap.org/") for u in pg.blocked)
        assert not [e for e in pg.errors if "Failed to load resource" not in e]
    finally:
        pg.close()


def test_dictionary_coded_firm_texts(browser: Any, frames: dict[str, Any], tmp_path: Path) -> None:
    """Firm names, codes and reasons with few distinct texts travel as a dictionary; the page decodes them
    (search lists the names, the popup shows the name, code and reason)."""
    import pandas as pd

    try:
        from test_report_maps import payload
    except ImportError:
        from tests.test_report_maps import payload

    firms = pd.concat([frames["firms"]] * 20, ignore_index=True)
    doc, _ = maps.build_map_html(frames["parcels"], firms)
    data = payload(doc)["firms"]
    assert "v" in data["name"] and "v" in data["uscc"] and data["reason"]["v"] == ["无宗地"]
    path = tmp_path / "dict.html"
    maps.write_map(path, frames["parcels"], firms)
    pg = Page(browser, path)
    try:
        box = pg.page.locator(".pk-search input")
        box.fill("甲机械")
        assert "南充甲机械有限公司 · 91511300MA62000001" in pg.page.inner_text(".pk-results")
        box.press("Enter")
        assert "南充甲机械有限公司" in pg.popup_text() and "511302001001GB00001" in pg.popup_text()
        box.fill("无地乙")
        box.press("Enter")
        assert "无地乙科技有限公司" in pg.popup_text() and "无宗地" in pg.popup_text()
        assert pg.errors == [] and pg.blocked == []
    finally:
        pg.close()
