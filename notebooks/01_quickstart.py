# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · Quickstart: assess the demo city
#
# The embedded demo city is a made-up, Nanchong-like city: 1,030 parcels (宗地) in four parks, 852 firms
# with their 2025 figures, last year's table, a link table, building footprints and an NDVI raster
# (see `data/demo/README.md`). This notebook runs the whole assessment once, looks at the grades and
# the per-mu figures, and opens the bureau's offline map inline.
#
# Everything here works without a network.

# %%
import json
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import parkland as pk
from IPython.display import HTML, display
from parkland.report import labels

import _setup

font = _setup.use_cjk_font()
font

# %% [markdown]
# ## Run the assessment
#
# `pk.assess` takes paths (or frames) and returns an `Assessment`: parcels, firms, the firm–parcel
# pairs, the reconciliation records, the park and county tables and the cleanup plan. These are the
# same inputs `parkland demo` passes (`_setup.demo_inputs()` spells them out).

# %%
inputs = _setup.demo_inputs()
inputs

# %%
a = pk.assess(inputs.pop("parcels"), inputs.pop("firms"), policy="sichuan-2022", **inputs)
s = a.summary()
s["counts"]["parcels"], s["counts"]["firms_in"], s["counts"]["firms_by_status"]

# %%
# what the demo is built to give (data/demo/README.md): 1,030 parcels in, 1,029 kept (one empty geometry)
assert s["counts"]["parcels_in"] == 1030
assert s["counts"]["firms_in"] == 852
assert s["counts"]["firms_by_status"] == {"exempt": 5, "graded": 453, "not_graded": 390, "parcel_not_found": 4}
assert abs(s["areas"]["parcels_mu"] - a.parcels["area_mu"].sum()) < 1e-6

# %% [markdown]
# ## Grades
#
# Under `sichuan-2022` only 规上 firms inside parks are graded; A is the top ⌊30 %⌋, D the bottom ⌊5 %⌋,
# C the ⌈10 %⌉ above D, and T the exempt class (utilities, firms under two years old).

# %%
grades = _setup.grade_counts(a.firms)
assert grades == s["grades"] == {"A": 135, "B": 248, "C": 45, "D": 25, "T": 5}
# the shares apply to the firms ranked by score; the 3 firms vetoed for a major accident are D outright
vetoed = int((a.firms["veto"] == "major_accident").sum())
ranked = grades["A"] + grades["B"] + grades["C"] + grades["D"] - vetoed
assert (vetoed, ranked) == (3, 450)
assert grades["A"] == int(np.floor(0.30 * ranked))
assert grades["C"] == int(np.ceil(0.10 * ranked))
assert grades["D"] == int(np.floor(0.05 * ranked)) + vetoed
pd.Series(grades, name="firms").to_frame().T

# %%
fig, ax = plt.subplots(figsize=(6, 3.2))
names = [labels.label(g) for g in grades]
ax.bar(names, list(grades.values()), color=[labels.GRADE_COLORS[g] for g in grades])
for i, v in enumerate(grades.values()):
    ax.text(i, v, str(v), ha="center", va="bottom")
ax.set_ylabel("企业数")
ax.set_title("亩均效益评价分类（sichuan-2022）")
plt.setp(ax.get_xticklabels(), rotation=15)
fig.tight_layout()

# %% [markdown]
# ## Per-mu figures
#
# Per mu = the firm's figure divided by its land in 亩 (1 亩 = 10000/15 m² exactly). The city-wide figure
# is a ratio of sums over firms with land, not a mean of ratios.

# %%
f = a.firms
graded = f[f["status"] == "graded"]
land = graded["land_mu"]
city_tax = graded["tax_wan"].sum() / land.sum()
city_rev = graded["revenue_wan"].sum() / land.sum()
print(f"graded firms: {len(graded)} on {land.sum():,.1f} 亩; tax {city_tax:.2f} and revenue {city_rev:.1f} 万元/亩")
# the demo is calibrated to 14.00 万元/亩 tax and 430 万元/亩 revenue over its 453 graded firms
assert len(graded) == 453
assert abs(city_tax - 14.0) < 0.05 and abs(city_rev - 430.0) < 1.0
# firm indicators are exactly figure / land
ok = graded["land_mu"] > 0
assert np.allclose(graded.loc[ok, "tax_per_mu"], graded.loc[ok, "tax_wan"] / graded.loc[ok, "land_mu"], rtol=1e-12)

# %%
by_grade = graded.groupby("grade")[["tax_per_mu", "revenue_per_mu", "output_per_mu", "score"]].median()
by_grade.round(1)

# %%
# medians fall with the grade: A > B > C > D on score and on tax per mu
assert by_grade["score"].is_monotonic_decreasing
assert by_grade["tax_per_mu"].is_monotonic_decreasing

# %%
zero = int((graded["tax_per_mu"] <= 0).sum())
fig, ax = plt.subplots(figsize=(7, 3.5))
bins = np.logspace(-1, 2.5, 36)
for g in ["A", "B", "C", "D"]:
    v = graded.loc[(graded["grade"] == g) & (graded["tax_per_mu"] > 0), "tax_per_mu"]
    ax.hist(v, bins=bins, alpha=0.75, color=labels.GRADE_COLORS[g], label=labels.label(g))
ax.axvline(8, color="k", ls="--", lw=1)
ax.text(8.5, ax.get_ylim()[1] * 0.95, "8 万元/亩（低效线）", va="top")
ax.set_xscale("log")
ax.set_xlabel(f"亩均税收（万元/亩，对数刻度；另有 {zero} 家停产企业税收为 0）")
ax.set_ylabel("企业数")
ax.legend(loc="upper left", fontsize=8)
fig.tight_layout()

# %%
# the demo's 23 stopped 规上 firms report zero tax; one of them lies outside every park (not graded)
stopped_above = f[(f["scale"] == "above") & (f["tax_wan"] == 0)]
assert len(stopped_above) == 23 and zero == 22
assert stopped_above.loc[stopped_above["status"] != "graded", "status_reason"].tolist() == ["out of scope: outside parks"]

# %% [markdown]
# ## Parks compared
#
# `a.parks` is the park table (also in summary.json): per-mu figures over the park's firms and its
# grade counts; `rank` orders parks by tax per mu.

# %%
parks = a.parks.set_index("park")
parks[["firm_count", "graded_count", "land_mu", "tax_per_mu", "revenue_per_mu", "grade_A", "grade_D", "rank"]].round(1)

# %%
assert parks["graded_count"].sum() == 453
assert parks["rank"].to_dict() == {"南充现代物流园": 2, "南充经济开发区": 4, "南充高坪航空港经济开发区": 3, "嘉陵工业园区": 1}
assert parks["tax_per_mu"].idxmax() == "嘉陵工业园区"

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
order = parks.sort_values("tax_per_mu", ascending=True)
axes[0].barh(order.index, order["tax_per_mu"], color="#4575b4")
axes[0].set_xlabel("亩均税收（万元/亩）")
shares = order[[f"grade_{g}" for g in "ABCD"]].div(order["graded_count"], axis=0)
left = np.zeros(len(order))
for g in "ABCD":
    axes[1].barh(order.index, shares[f"grade_{g}"], left=left, color=labels.GRADE_COLORS[g], label=g)
    left += shares[f"grade_{g}"].to_numpy()
axes[1].set_xlabel("分类占比")
axes[1].set_yticklabels([])
axes[1].legend(ncol=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
fig.tight_layout()

# %% [markdown]
# ## The parcels on a map (static)
#
# A parcel's grade is its firms' grade (`parcel_grades`); parcels without a graded firm stay grey. One
# panel per park (the parks lie kilometres apart).

# %%
p = a.parcels
bounds = a.park_boundaries.to_crs(p.crs)
fig, axes = plt.subplots(2, 2, figsize=(11, 10))
for ax, name in zip(axes.ravel(), parks.index):
    sub = p[p["park"] == name]
    sub.plot(ax=ax, color=sub["grade"].map(labels.GRADE_COLORS).fillna("#eeeeee"), edgecolor="white", linewidth=0.2)
    bounds[bounds["park"] == name].boundary.plot(ax=ax, color="#1f3a93", linewidth=1)
    ax.set_title(f"{name}（{len(sub)} 宗）", fontsize=10)
    ax.set_axis_off()
handles = [plt.Rectangle((0, 0), 1, 1, color=labels.GRADE_COLORS[g]) for g in _setup.GRADES]
fig.legend(handles, [labels.label(g) for g in _setup.GRADES], loc="lower center", ncol=5, fontsize=9)
fig.suptitle("宗地分类（按宗地上企业的评价等级；灰色为未评价）")
fig.tight_layout(rect=(0, 0.04, 1, 1))

# %%
assert str(p.crs) == "EPSG:4523"  # areas are measured in the Gauss–Krüger zone, never in degrees
assert set(p["grade"].dropna()) <= set(_setup.GRADES)

# %% [markdown]
# ## The output folder and the bureau's map
#
# `a.write(out_dir)` writes the output folder (parcels.gpkg, firms.csv, reconciliation.csv,
# summary.json, the Excel lists and `map.html`). The map is one self-contained page: it works offline,
# and here it is shown inline (an `<iframe srcdoc>`, so it also survives export to HTML).

# %%
out = Path(tempfile.mkdtemp(prefix="parkland_quickstart_"))
a.write(out)
sorted(x.name for x in out.iterdir())

# %%
written = json.loads((out / "summary.json").read_text(encoding="utf-8"))
assert written["grades"] == grades
for name in ("parcels.gpkg", "firms.csv", "reconciliation.csv", "cleanup.xlsx", "notice.xlsx", "map.html"):
    assert (out / name).is_file(), name
firms_csv = pd.read_csv(out / "firms.csv", encoding="utf-8-sig", dtype={"uscc": str})
assert len(firms_csv) == 852

# %%
map_html = (out / "map.html").read_text(encoding="utf-8")
# the page carries everything (Leaflet, data) and forbids any request: default-src 'none'
assert "window.parkland" in map_html and "default-src 'none'" in map_html
display(HTML(_setup.iframe_srcdoc(map_html, height=600)))

# %% [markdown]
# ## What was dropped or repaired
#
# Every input row that was dropped, repaired or is suspicious has a reconciliation record
# (reconciliation.csv), with the row a person sees in the file.

# %%
r = a.recon
table = r.groupby(["source", "action"]).size().unstack(fill_value=0)
table

# %%
assert s["counts"]["reconciliation_rows"] == len(r)
assert set(r["action"]) <= {"dropped", "repaired", "kept"}
r[["source", "file_row", "key", "problem_zh", "action"]].head(10)
