"""The summary report: headline figures, charts inline, targets, cleanup, reconciliation counts, relative
links, escaped text; the PDF printed by headless Chromium (done once, by the shared demo export)."""

from __future__ import annotations

import json
import re
import warnings
from html.parser import HTMLParser

import pandas as pd
import pytest

from parkland.report import printmaps
from parkland.report.report import recon_counts, render_report

try:
    from test_export_dir import EPOCH, demo_exported
except ImportError:  # tests/ imported as a package
    from tests.test_export_dir import EPOCH, demo_exported

HOSTILE = "<img src=x onerror=alert(1)>"


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.urls += [v for k, v in attrs if k in ("src", "href")]


@pytest.fixture(scope="module")
def demo():
    out, _ = demo_exported()
    return out, (out / "report.html").read_text(encoding="utf-8")


def test_report_content(demo):
    out, page = demo
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert "亩均效益评价总结报告" in page and "2025年度" in page
    # headline figures
    assert "1,029 宗" in page and "28,141.42" in page and ">852<" in page and ">453<" in page
    assert f"{s['totals']['tax_wan']:,.2f}" in page
    # grades: count and share of each grade
    assert "<td>C类（调整转型）</td><td class='n'>45</td><td class='n'>9.8%</td>" in page
    # targets: output per mu +5.93% against a 10% goal, not met; tax per mu of the logistics park met
    t = s["targets"]["output_per_mu"]
    assert (f"<td class='n'>{t['previous']:,.2f}</td><td class='n'>{t['current']:,.2f}</td>"
            f"<td class='n'>{t['change_pct']:,.2f}</td><td class='n'>10.00</td><td><span class='unmet'>否</span>") in page
    # cleanup: 1,001.72 亩 selected toward 1,000
    assert "<td class='n'>1,000.00</td><td class='n'>1,001.72</td><td class='n'>0.00</td><td class='n'>43</td>" in page
    # scenarios and reconciliation total
    assert "A类企业平均水平" in page and "园区平均水平" in page
    assert f"<td>合计</td><td></td><td></td><td class='n'>{s['counts']['reconciliation_rows']}</td>" in page
    # charts are inline SVG with text drawn as paths (no font, no network)
    assert page.count("<svg") == 3 and "<image" not in page


def test_report_links_are_relative_and_exist(demo):
    out, page = demo
    p = Links()
    p.feed(page)
    # the demo fixture is written without map.html: the report links only what exists
    assert p.urls[:10] == ["cards.html", "notice.xlsx", "grades.xlsx", "cleanup.xlsx", "idle_floor.xlsx",
                           "firms.csv", "reconciliation.csv", "summary.json", "parcels.gpkg", "cleanup.gpkg"]
    assert any(u.startswith("print/city_grades_A3.pdf") for u in p.urls)
    for u in p.urls:
        if u.startswith("#") or u.startswith("http://www.w3.org/"):
            continue
        assert not re.match(r"^[a-z]+:", u) and (out / u).exists(), u
    assert "script" not in p.tags


def test_report_pdf(demo):
    out, _ = demo
    pdf = (out / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 3 <= pages <= 12
    box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert float(box.group(1)) == pytest.approx(595.92, abs=1) and float(box.group(2)) == pytest.approx(842.88, abs=1)


def test_hostile_text_escaped_and_rerun_identical(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    s = {"run": {"year": 2025, "as_of": "2025-12-31"}, "policy": {"name": HOSTILE, "sha256": "ab" * 32},
         "counts": {"parcels": 2, "firms_in": 3, "firms_by_status": {"graded": 2}},
         "grades": {"A": 1, "B": 1}, "parks": [{"park": HOSTILE, "firm_count": 3, "tax_per_mu": 1.5, "grade_A": 1}],
         "targets": {"tax_per_mu": {"previous": 10.0, "current": 10.5, "change_pct": 5.0, "goal_pct": 5.0, "met": True},
                     "parks": [{"park": HOSTILE, "tax_per_mu_change_pct": 5.0, "tax_per_mu_met": True}]}}
    recon = pd.DataFrame({"source": ["firms", "firms"], "problem_code": ["BAD_USCC", "BAD_USCC"],
                          "problem": [HOSTILE, "x"], "action": ["kept", "kept"]})
    a = render_report(s, recon=recon, links=["map.html"])
    assert a == render_report(s, recon=recon, links=["map.html"])
    assert HOSTILE not in a and "&lt;img src=x onerror=alert(1)&gt;" in a
    p = Links()
    p.feed(a)
    assert "img" not in p.tags and p.urls == ["map.html"]
    assert "<td>BAD_USCC</td><td><span class='nw'>保留并列出</span></td><td class='n'>2</td>" in a
    assert "<span class='met'>是</span>" in a
    assert "2023-11-14T22:13:20Z" in a


def test_recon_counts_from_summary_when_no_csv():
    s = {"counts": {"reconciliation_by_problem": {"BAD_USCC": 3, "VETO": 1}}}
    rc = recon_counts(None, s)
    assert rc["problem_code"].tolist() == ["BAD_USCC", "VETO"] and rc["count"].tolist() == [3, 1]


def test_cjk_font_found_and_fallback_warns(monkeypatch):
    assert printmaps.cjk_font() == "Noto Sans CJK SC"  # Debian fonts-noto-cjk is part of the environment
    monkeypatch.setattr(printmaps, "cjk_font", lambda: None)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert printmaps.use_cjk_font() is None
    assert any("中文字体" in str(x.message) for x in w)
