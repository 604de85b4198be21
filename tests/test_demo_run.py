"""The demo city end to end (what `make demo` runs): the output contract, the plan reaching its targets
with flagged parcels only, grade shares within each preset's rules, and the map drawn in Chromium."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pyogrio
import pytest
from click.testing import CliRunner

from parkland.cli import main
from parkland.demo_data import demo_data_dir
from parkland.pipeline import assess


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "out"
    r = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert r.exit_code == 0, r.output
    return out, r.output


def test_contract(demo):
    out, _ = demo
    spec = importlib.util.spec_from_file_location("check_contract", Path(__file__).parent / "data" / "check_contract.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(out) == []


def test_summary_lines_printed(demo):
    _, output = demo
    assert "评价结果（sichuan-2022）：A 135  B 248  C 45  D 25  T 5" in output
    assert "低效用地清理：选出 43 宗 1,001.7 亩（目标 1,000 亩）" in output


def test_plan_reaches_targets_with_flagged_parcels_only(demo):
    out, _ = demo
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    c = s["cleanup"]
    assert c["reachable"] and c["target_mu"] == 1000 and 1000 <= c["selected_mu"] < 1000 + 60
    cl = pyogrio.read_dataframe(out / "cleanup.gpkg", layer="cleanup")
    sel = cl[cl["selected"].astype(bool)]
    assert len(sel) == c["parcels"] and sel["area_mu"].sum() == pytest.approx(c["selected_mu"], rel=1e-9)
    parcels = pyogrio.read_dataframe(out / "parcels.gpkg", layer="parcels", read_geometry=False)
    flagged = parcels[parcels[["idle", "vacant", "stopped", "low_efficiency"]].astype(bool).any(axis=1)]
    assert set(sel["parcel_id"]) <= set(flagged["parcel_id"])
    assert cl["rank"].tolist() == list(range(1, len(cl) + 1))
    assert np.all(np.diff(sel.sort_values("rank")["cumulative_mu"]) > 0)
    f = s["idle_floor"]
    assert f["reachable"] and f["selected_m2"] >= f["target_m2"] == 20000
    for ind, goal in (("output_per_mu", 10), ("tax_per_mu", 5)):
        t = s["targets"][ind]
        assert t["goal_pct"] == goal and t["previous"] > 0 and t["current"] > 0
        assert t["change_pct"] == pytest.approx(100 * (t["current"] / t["previous"] - 1), rel=1e-5)


@pytest.mark.parametrize("preset, expected", [
    ("sichuan-2022", {"A": 135, "B": 248, "C": 45, "D": 25, "T": 5}),
    ("huangyan-2023", {"A": 210, "B": 379, "C": 214, "D": 44}),
    ("huaian-2024", {"A": 165, "B": 332, "C": 295, "D": 44, "T": 11}),
])
def test_presets_on_the_demo(preset, expected):
    """The README's grade counts, and each preset's share rules on the ranked (non-vetoed) firms."""
    d = demo_data_dir()
    a = assess(d / "city.gpkg", d / "firms_2025.xlsx", parcels_layer="zongdi", links=d / "links.csv",
               parks=d / "city.gpkg", parks_layer="parks", buildings=d / "city.gpkg", buildings_layer="buildings",
               previous_firms=d / "firms_2024.xlsx", year=2025, policy=preset)
    g = a.firms
    assert a.summary()["grades"] == expected
    ranked = g[(g["status"] == "graded") & ~g["veto"].astype(bool)]
    n = len(ranked)
    share = {k: (ranked["grade"] == k).sum() / n for k in "ABCD"}
    if preset == "sichuan-2022":  # A at most 30 %, C at least 10 %, D the bottom 5 %
        assert share["A"] <= 0.30 and share["C"] >= 0.10 and (ranked["grade"] == "D").sum() == int(0.05 * n)
    if preset == "huaian-2024":  # per track: A top 20 %, B to 60 %, C to 95 %, D bottom 5 % (floors, ties lower)
        for _, t in ranked.groupby("track"):
            m = len(t)
            assert (t["grade"] == "A").sum() <= 0.20 * m and (t["grade"] == "D").sum() >= int(0.05 * m)


def test_demo_map_draws_in_chromium(demo, tmp_path, browser):
    out, _ = demo
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    errors, blocked = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda d: (errors.append("dialog " + d.message), d.dismiss()))

    def route(r):
        if r.request.url.startswith(("file:", "data:", "blob:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto((out / "map.html").as_uri())
    page.evaluate("window.parkland.ready")
    n = page.evaluate("window.parkland.features")
    shot = tmp_path / "demo_map.png"
    page.screenshot(path=str(shot))
    page.close()
    parcels = pyogrio.read_info(out / "parcels.gpkg", layer="parcels")["features"]
    assert n == parcels == 1029
    assert errors == [] and blocked == []
    from PIL import Image

    img = Image.open(shot).convert("RGB").resize((300, 200))
    assert len(img.getcolors(1 << 24)) > 50  # grades, outlines, labels: not a blank page
