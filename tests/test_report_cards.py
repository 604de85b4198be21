"""Firm cards: a hand-made firm shows the expected numbers; every input text is escaped; the demo city gets
one A4 page per graded firm, with no network reference."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from parkland.report.cards import read_firms, render_cards, svg_outline, write_cards
from parkland.report.export import write_csv
from parkland.scoring.policy import load_policy

try:
    from test_export_dir import demo_exported
except ImportError:  # tests/ imported as a package
    from tests.test_export_dir import demo_exported

HOSTILE = "<img src=x onerror=alert(1)>"
X0, Y0 = 35_600_000.0, 3_400_000.0


class Tables(HTMLParser):
    """Every table row of a page as a list of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self.tags: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.urls += [v for k, v in attrs if k in ("src", "href")]
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def hand_firm() -> pd.DataFrame:
    """One 规上 firm on two parcels (P1 100 m × 100 m = 15 亩, P2 50 m × 100 m = 7.5 亩): 22.5 亩.

    tax 270 万元 → 12 万元/亩; benchmark 10 → ratio 1.2; weight 20 → 24 points (sichuan-2022, ratio
    method: 20 × 12 / 10). revenue 4500 → 200 万元/亩, benchmark 400 → 0.5 × 20 = 10 points.
    rd_intensity 0.0123 (1.23%), benchmark 0.015 → 0.82 × 5 = 4.1 points. Score 38.10; grade C; the next
    grade B needs 5.5 more points = 2.75 万元/亩 of tax (5.5 × 10 / 20).
    """
    return pd.DataFrame({
        "source_row": [7, 8], "uscc": ["91511302MA0000001X", "91511302MA0000002X"],
        "name": [f"甲{HOSTILE}公司", "乙公司"], "parcel_ids": ["511302001001GB00001;511302001001GB00002", ""],
        "land_mu": [22.5, np.nan], "status": ["graded", "no_land"], "track": ["above", None],
        "score": [38.1, np.nan], "grade": ["C", None], "rank": [9, np.nan], "park": ["一园", None],
        "tax_per_mu": [12.0, np.nan], "revenue_per_mu": [200.0, np.nan], "rd_intensity": [0.0123, np.nan],
        "part_tax_per_mu": [24.0, np.nan], "part_revenue_per_mu": [10.0, np.nan], "part_rd_intensity": [4.1, np.nan],
        "benchmark_tax_per_mu": [10.0, np.nan], "benchmark_revenue_per_mu": [400.0, np.nan],
        "benchmark_rd_intensity": [0.015, np.nan], "bonus": [0.0, np.nan], "penalty": [0.0, np.nan],
        "weight_factor": [1.0, np.nan], "veto": [None, None],
        "consequence_electricity_surcharge": [12345.6, np.nan], "consequence_land_tax_relief_pct": [0.0, np.nan],
        "next_grade": ["B", None], "gap_score": [5.5, np.nan], "gap_tax_per_mu": [2.75, np.nan],
        "gap_revenue_per_mu": [110.0, np.nan], "grade_previous": ["B", None],
    })


def hand_parcels() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"parcel_id": ["511302001001GB00001", "511302001001GB00002", "511302001001GB00003"]},
                            geometry=[shapely.box(X0, Y0, X0 + 100, Y0 + 100),
                                      shapely.box(X0 + 100, Y0, X0 + 150, Y0 + 100),
                                      shapely.box(X0 + 500, Y0, X0 + 600, Y0 + 100)], crs=4523)


@pytest.fixture(scope="module")
def hand_page() -> str:
    return render_cards(hand_firm(), hand_parcels(), policy=load_policy("sichuan-2022"), year=2025)


def rows_of(page: str) -> dict[str, list[str]]:
    p = Tables()
    p.feed(page)
    return {r[0]: r[1:] for r in p.rows if r}


def test_hand_firm_card_numbers(hand_page):
    assert hand_page.count('<section class="card"') == 1  # graded firms only
    rows = rows_of(hand_page)
    # indicator, value, benchmark, ratio, weight, points
    assert rows["亩均税收（万元/亩）"] == ["12.00", "10.00", "1.20", "20", "24.00"]
    assert rows["亩均营业收入（万元/亩）"] == ["200.00", "400.00", "0.50", "20", "10.00"]
    assert rows["研发投入强度"] == ["1.23%", "1.50%", "0.82", "5", "4.10"]
    assert "亩均增加值（万元/亩）" not in rows  # not scored for this firm
    assert rows["综合得分"] == ["38.10"]
    assert rows["差别化电价加价（元）"] == ["12,345.60"]
    assert rows["城镇土地使用税减免比例（%）"] == ["0.00"]
    assert rows["上一档等级"] == ["B类（提升发展）"]
    assert rows["距上一档差分"] == ["5.50"]
    assert rows["升档需增亩均税收（万元/亩）"] == ["2.75"]
    assert rows["升档需增亩均营收（万元/亩）"] == ["110.00"]
    assert rows["用地面积（亩）"] == ["22.50"]
    assert rows["排名"] == ["9 / 1"]
    assert rows["评价类别"] == ["规上"]
    assert rows["宗地代码"] == ["511302001001GB00001；511302001001GB00002"]
    assert rows["上年等级"] == ["B"]
    assert "C类（调整转型）" in hand_page and "2025年度" in hand_page


def test_hand_firm_card_is_escaped_printable_and_offline(hand_page):
    assert HOSTILE not in hand_page
    assert "甲&lt;img src=x onerror=alert(1)&gt;公司" in hand_page
    assert "@page { size: A4;" in hand_page and "page-break-after: always" in hand_page
    assert "@media print { .toc { display: none; } }" in hand_page
    p = Tables()
    p.feed(hand_page)
    assert p.urls == ["#firm-7"]  # the contents link only; nothing loaded, no tag from the input
    assert "img" not in p.tags and "script" not in p.tags
    # the outline: both parcels (15 + 7.5 亩) in one path, the scale bar of 50 m (150 m wide / 3 → 50)
    svg = re.search(r"<svg.*?</svg>", hand_page).group(0)
    assert svg.count("M") == 2 + 1  # two rings, and the north arrow
    assert ">50 m</text>" in svg


def test_svg_outline_scale_and_empty():
    one = svg_outline([shapely.box(0, 0, 3000, 1000)], "#1a9850")
    assert ">1 km</text>" in one  # 3000 / 3 = 1000 m
    assert "card_no_geometry" not in svg_outline([], "#000") and "无宗地图形" in svg_outline([], "#000")
    hole = shapely.Polygon([(0, 0), (90, 0), (90, 90), (0, 90)], [[(30, 30), (60, 30), (60, 60), (30, 60)]])
    assert svg_outline([hole], "#fff").count("Z") == 2  # outer ring and hole (the arrow path ends in z)


def test_read_firms_undoes_the_formula_guard(tmp_path):
    f = hand_firm()
    f.loc[1, "name"] = '=HYPERLINK("http://x","点我")'
    f["county"] = ["051130", "051130"]
    write_csv(f, tmp_path / "firms.csv")
    assert b"'=HYPERLINK" in (tmp_path / "firms.csv").read_bytes()
    back = read_firms(tmp_path)
    assert back["name"].tolist()[1] == '=HYPERLINK("http://x","点我")'
    assert back["county"].tolist() == ["051130", "051130"]  # codes keep leading zeros
    assert back["score"].tolist()[0] == 38.1


def test_demo_cards(tmp_path):
    out = demo_exported()[0]
    page = (out / "cards.html").read_text(encoding="utf-8")
    firms = pd.read_csv(out / "firms.csv", encoding="utf-8-sig")
    graded = firms[firms["status"] == "graded"]
    assert page.count('<section class="card"') == len(graded) == 453
    assert page.count("<svg") == 453
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?https?:", page)
    # cards ordered by park, then name
    ids = [int(x) for x in re.findall(r'<section class="card" id="firm-(\d+)"', page)]
    order = graded.sort_values(["park", "name", "source_row"], kind="stable")["source_row"].tolist()
    assert ids == order
    # a vetoed firm's card states the policy's reason
    vetoed = graded[graded["veto"].notna()].iloc[0]
    start = page.index(f'id="firm-{vetoed["source_row"]}"')
    card = page[start:page.index("</section>", start)]
    assert "发生重大安全、环保事故，一票否决为D类" in card
    # a card carries the firm's own numbers
    f = graded.iloc[0]
    start = page.index(f'id="firm-{f["source_row"]}"')
    rows = rows_of(page[start:page.index("</section>", start)])
    assert rows["亩均税收（万元/亩）"][:2] == [f"{f['tax_per_mu']:,.2f}", f"{f['benchmark_tax_per_mu']:,.2f}"]
    assert rows["综合得分"] == [f"{f['score']:,.2f}"]
    # English cards from the same folder
    en = write_cards(out, tmp_path / "cards_en.html", lang="en").read_text(encoding="utf-8")
    assert "tax per mu (10k yuan/mu)" in en and en.count('<section class="card"') == 453
