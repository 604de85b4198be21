"""Policy files: presets as published, schema validation, stable hashes."""

from __future__ import annotations

import pytest

from parkland.errors import PolicyError
from parkland.scoring.policy import PRESETS_DIR, load_policy, loads_policy, presets

MINIMAL = """
schema = 1
[policy]
name = "mini"
[tracks.all]
method = "ratio"
[tracks.all.indicators.tax_per_mu]
weight = 100
benchmark = 10
[grading]
method = "cutoffs"
cutoffs = { A = 90, B = 70, C = 50 }
"""


def test_presets_are_listed_and_load():
    assert presets() == ["huaian-2024", "huangyan-2023", "sichuan-2022"]
    for name in presets():
        p = load_policy(name)
        assert p.name == name
        assert len(p.sha256) == 64
        assert p.targets == {"cleanup_mu": 1000, "idle_floor_m2": 20000, "output_per_mu_pct": 10,
                             "tax_per_mu_pct": 5}
        assert p.land["low_tax_per_mu"] == 8.0
        assert p.land["low_tax_park_ratio"] == 0.5
        assert p.land["stopped_drop"] == 0.7
        assert p.plan["strategy"] == "priority"


def test_huangyan_is_the_published_formula():
    p = load_policy("huangyan-2023")
    above = {r.key: (r.weight, r.benchmark, r.missing, r.cap) for r in p.track("above").indicators}
    assert above == {
        "tax_per_mu": (30.0, 24.097, "zero", None),
        "value_added_per_mu": (20.0, 136.16, "zero", None),
        "va_per_energy": (20.0, 2.694, "zero", None),
        "va_per_emission": (10.0, 4929.81, "track_average", None),
        "labour_productivity": (10.0, 18.14, "zero", None),
        "rd_intensity": (10.0, 0.0302, "zero", None),
    }
    below = {r.key: (r.weight, r.benchmark) for r in p.track("below").indicators}
    assert below == {"tax_per_mu": (50.0, 11.5932), "tax_per_electricity": (50.0, 0.2352)}
    assert p.track("above").match_scale == ("above",)
    assert p.track("below").match_scale == ("below",)
    assert p.scope.scales == ("above", "below")


def test_sichuan_weights_scope_and_shares():
    p = load_policy("sichuan-2022")
    w = {r.key: r.weight for r in p.track("above").indicators}
    assert w == {"revenue_per_mu": 20, "tax_per_mu": 20, "revenue_per_employee": 20, "revenue_per_energy": 5,
                 "rd_intensity": 5, "value_added_per_mu": 15, "tax_per_electricity": 15}
    assert sum(w.values()) == 100
    assert all(r.benchmark == "mean" for r in p.track("above").indicators)
    assert p.scope.scales == ("above",)
    assert p.scope.in_park_only is True
    g = p.grading
    assert (g.shares["A"].share, g.shares["A"].round) == (0.30, "floor")
    assert (g.shares["C"].share, g.shares["C"].round) == (0.10, "ceil")
    assert (g.shares["D"].share, g.shares["D"].round) == (0.05, "floor")
    assert g.rest == "B"
    assert g.tie_side("A", "B") == "lower"
    assert g.tie_side("C", "D") == "upper"


def test_huaian_rank_shares_and_exemptions():
    p = load_policy("huaian-2024")
    g = p.grading
    assert {k: v.share for k, v in g.shares.items()} == {"A": 0.20, "B": 0.40, "D": 0.05}
    assert g.rest == "C"
    assert p.exempt.industry_codes == ("44", "45", "46")
    assert p.exempt.max_age_years == 2
    assert p.track("below").method == "percentile"


def test_preset_files_say_what_is_published_and_what_is_default():
    for f in PRESETS_DIR.glob("*.toml"):
        text = f.read_text(encoding="utf-8")
        assert "PUBLISHED" in text and "CONFIGURABLE DEFAULTS" in text, f.name
    assert (PRESETS_DIR / "README.md").exists()


def test_sha256_is_stable_and_ignores_formatting(tmp_path):
    a = loads_policy(MINIMAL)
    b = loads_policy("# a comment\n" + MINIMAL.replace("weight = 100", "weight   =   100  # points"))
    assert a.sha256 == b.sha256
    c = loads_policy(MINIMAL.replace("benchmark = 10", "benchmark = 11"))
    assert c.sha256 != a.sha256
    f = tmp_path / "mini.toml"
    f.write_text(MINIMAL, encoding="utf-8")
    p = load_policy(f)
    assert p.sha256 == a.sha256
    assert p.path == str(f)
    assert load_policy("sichuan-2022").sha256 == load_policy(PRESETS_DIR / "sichuan-2022.toml").sha256


@pytest.mark.parametrize(
    ("old", "new", "key", "allowed"),
    [
        ('method = "ratio"', 'method = "zscore"', "tracks.all.method", "ratio, minmax, percentile"),
        ("[tracks.all.indicators.tax_per_mu]", "[tracks.all.indicators.tax_per_hectare]",
         "tracks.all.indicators.tax_per_hectare", "tax_per_mu"),
        ("weight = 100", "weight = -1", "tracks.all.indicators.tax_per_mu.weight", "> 0"),
        ("benchmark = 10", 'benchmark = "average"', "tracks.all.indicators.tax_per_mu.benchmark",
         "mean, median, previous_mean"),
        ('method = "cutoffs"', 'method = "lottery"', "grading.method", "shares, cutoffs"),
        ("cutoffs = { A = 90, B = 70, C = 50 }", "cutoffs = { A = 90, B = 95, C = 50 }", "grading.cutoffs",
         "decrease"),
        ('name = "mini"', 'name = "mini"\ncolour = "red"', "policy.colour", "allowed: name"),
        ("schema = 1", "schema = 2", "schema", "1"),
    ],
)
def test_bad_policy_names_key_and_allowed(old, new, key, allowed):
    with pytest.raises(PolicyError) as e:
        loads_policy(MINIMAL.replace(old, new), path="bad.toml")
    assert e.value.column == key
    assert key in e.value.message("en") and allowed in e.value.message("en")
    assert e.value.file == "bad.toml"


def test_bad_shares_and_tenants():
    text = MINIMAL.replace('method = "cutoffs"', 'method = "shares"\nshares.A = 0.3')
    with pytest.raises(PolicyError, match=r"grading\.shares"):
        loads_policy(text)  # B, C and D all left out: exactly one grade must take the rest
    ok = loads_policy(text.replace("shares.A = 0.3", "shares.A = 0.3\nshares.B = 0.5\nshares.D = 0.1"))
    assert ok.grading.rest == "C"
    with pytest.raises(PolicyError, match=r"tenants\.mode"):
        loads_policy(MINIMAL + '\n[tenants]\nmode = "own_track"\n')
    with pytest.raises(PolicyError, match=r"tenants\.mode"):
        loads_policy(MINIMAL + '\n[tenants]\nmode = "adopt"\n')


def test_not_toml_and_unknown_preset():
    with pytest.raises(PolicyError) as e:
        loads_policy("schema = = 1")
    assert "TOML" in e.value.message("en")
    with pytest.raises(PolicyError) as e:
        load_policy("atlantis-2030")
    assert "sichuan-2022" in e.value.message("en")
