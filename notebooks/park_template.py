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
# # 园区亩均效益分析 · park analysis template
#
# Rendered once per park with papermill (see `notebooks/README.md`):
#
# ```
# jupytext --to ipynb -o park_template.ipynb notebooks/park_template.py
# papermill park_template.ipynb out/嘉陵工业园区.ipynb --cwd notebooks -p park 嘉陵工业园区 -p out_dir out/嘉陵工业园区
# jupyter nbconvert --to html --no-input out/嘉陵工业园区.ipynb
# ```
#
# The cell tagged `parameters` holds the defaults; papermill injects the values given with `-p` after it.

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown, display
from parkland.report import labels
from parkland.report.export import write_csv, write_text
from parkland.report.maps import build_map_html

import _setup

# %% tags=["parameters"]
park = "嘉陵工业园区"  # a park name as in the 园区 column / the park boundaries
policy = "sichuan-2022"  # a preset name or a path to a policy TOML file
out_dir = "out/park_report"  # where the park's files are written (map, firm list, cleanup list)

# %%
_setup.use_cjk_font()
out = Path(out_dir)
out.mkdir(parents=True, exist_ok=True)

a = _setup.demo_assessment(policy)
parks = a.parks.set_index("park")
if park not in parks.index:
    raise ValueError(f"园区「{park}」不在评价结果中；可选：{'、'.join(parks.index)}")
row = parks.loc[park]
pf = a.firms[a.firms["park"] == park]
pp = a.parcels[a.parcels["park"] == park]
display(Markdown(f"# {park} 亩均效益分析\n\n"
                 f"评价办法 **{a.policy.name}**（{a.policy.title}），数据年度 {a.meta['year']}，"
                 f"评价日期 {a.meta['as_of']}。"))

# %% [markdown]
# ## 概况 · key figures against the city

# %%
def per_mu(f: pd.DataFrame, num: str) -> float:
    """Σ figure / Σ land over the firms with land and that figure (the park table's formula)."""
    ok = (f["land_mu"] > 0) & f[num].notna()
    return float(f.loc[ok, num].sum() / f.loc[ok, "land_mu"].sum())


city = a.firms
figures = pd.DataFrame({
    park: {"企业数": len(pf), "参评企业": int((pf["status"] == "graded").sum()), "宗地数": len(pp),
           "土地（亩）": pp["area_mu"].sum(), "亩均税收（万元/亩）": per_mu(pf, "tax_wan"),
           "亩均营收（万元/亩）": per_mu(pf, "revenue_wan"), "亩均产值（万元/亩）": per_mu(pf, "output_wan")},
    "全市": {"企业数": len(city), "参评企业": int((city["status"] == "graded").sum()), "宗地数": len(a.parcels),
           "土地（亩）": a.parcels["area_mu"].sum(), "亩均税收（万元/亩）": per_mu(city, "tax_wan"),
           "亩均营收（万元/亩）": per_mu(city, "revenue_wan"), "亩均产值（万元/亩）": per_mu(city, "output_wan")},
})
display(figures.map(lambda v: f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"))
display(Markdown(f"亩均税收在 {len(parks)} 个园区中排第 **{int(row['rank'])}** 位。"))

# %%
assert figures.loc["企业数", park] == row["firm_count"] and figures.loc["参评企业", park] == row["graded_count"]
assert figures.loc["宗地数", park] == row["parcel_count"]
assert abs(figures.loc["土地（亩）", park] / row["land_mu"] - 1) < 1e-9
assert abs(figures.loc["亩均税收（万元/亩）", park] / row["tax_per_mu"] - 1) < 1e-9
assert abs(figures.loc["亩均营收（万元/亩）", park] / row["revenue_per_mu"] - 1) < 1e-9

# %% [markdown]
# ## 评价分类 · grades

# %%
g_park = _setup.grade_counts(pf)
g_city = _setup.grade_counts(city)
grades = pd.DataFrame({park: g_park, "全市": g_city}).reindex(_setup.GRADES).fillna(0).astype(int)
display(grades.T)
assert all(g_park.get(g, 0) == row[f"grade_{g}"] for g in _setup.GRADES)
assert sum(g_park.get(g, 0) for g in "ABCD") == row["graded_count"]

fig, ax = plt.subplots(figsize=(7, 3.2))
shares = grades.div(grades.sum(axis=0), axis=1)
xpos = np.arange(len(_setup.GRADES))
ax.bar(xpos - 0.2, 100 * shares[park], width=0.4, color=[labels.GRADE_COLORS[g] for g in _setup.GRADES], label=park)
ax.bar(xpos + 0.2, 100 * shares["全市"], width=0.4, color="#bbbbbb", label="全市")
ax.set_xticks(xpos, [labels.label(g) for g in _setup.GRADES], fontsize=8)
ax.set_ylabel("占参评与免评企业（%）")
ax.set_title(f"{park}：评价分类占比")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## D 类与 C 类企业 · firms to talk to first
#
# `gap_tax_per_mu` is how much tax per mu a firm lacks to reach the next grade up.

# %%
low = pf[pf["grade"].isin(["C", "D"])].sort_values(["grade", "score"], ascending=[False, True])
cols = ["name", "uscc", "grade", "score", "land_mu", "tax_per_mu", "revenue_per_mu", "gap_tax_per_mu", "status_reason"]
low_table = low[cols].rename(columns={c: labels.label(c) for c in cols})
display(low_table.head(15).round(2))
assert len(low) == row["grade_C"] + row["grade_D"]
# grades are ranked city-wide: a C or D firm (not vetoed) scores no more than the city's lowest B
assert (low.loc[low["veto"].isna(), "score"] <= city.loc[city["grade"] == "B", "score"].min()).all()

# %% [markdown]
# ## 土地 · flagged land and the cleanup plan in this park

# %%
flags = pd.DataFrame({labels.label(k): {"宗地": int(pp[k].sum()), "亩": float(pp.loc[pp[k], "area_mu"].sum())}
                      for k in ("idle", "vacant", "stopped", "low_efficiency")}).T
display(flags.round(1))
cl = a.cleanup[a.cleanup["park"] == park]
sel = cl[cl["selected"]]
display(Markdown(f"清理候选 {len(cl)} 宗，其中全市计划选中 **{len(sel)} 宗、{sel['area_mu'].sum():.1f} 亩**。"))
display(sel[["rank", "parcel_id", "area_mu", "kind", "reasons"]].assign(
    reasons=sel["reasons"].map(labels.reasons_text)).set_index("rank").head(15).round(2))
assert set(sel["source_row"]) <= set(pp["source_row"])
assert len(cl) == int((pp["idle"] | pp["vacant"] | pp["stopped"] | pp["low_efficiency"]).sum())

# %%
fig, ax = plt.subplots(figsize=(8, 6.5))
colors = pp["grade"].map(labels.GRADE_COLORS).fillna("#eeeeee")
pp.plot(ax=ax, color=colors, edgecolor="white", linewidth=0.3)
pp[pp["source_row"].isin(sel["source_row"])].boundary.plot(ax=ax, color="#b2182b", linewidth=1.2)
if a.park_boundaries is not None:
    b = a.park_boundaries[a.park_boundaries["park"] == park]
    b.to_crs(pp.crs).boundary.plot(ax=ax, color="#1f3a93", linewidth=1)
ax.set_axis_off()
ax.set_title(f"{park}：宗地分类（红框为清理计划选中）")
fig.tight_layout()

# %% [markdown]
# ## 目标 · per-mu targets

# %%
t = a.summary()["targets"]
tp = {r["park"]: r for r in t["parks"]}[park]
targets = pd.DataFrame({labels.label(k): {"上年": tp[f"{k}_previous"], "本年": tp[f"{k}_current"],
                                          "变化%": tp[f"{k}_change_pct"], "目标%": tp[f"{k}_goal_pct"],
                                          "达成": tp[f"{k}_met"]}
                        for k in ("output_per_mu", "tax_per_mu")}).T
display(targets.round(2))
for k in ("output_per_mu", "tax_per_mu"):
    assert tp[f"{k}_met"] == (tp[f"{k}_change_pct"] >= tp[f"{k}_goal_pct"])

# %% [markdown]
# ## 地图 · the park's map (offline, interactive)

# %%
doc, warnings = build_map_html(pp, pf, parks=None if a.park_boundaries is None else
                               a.park_boundaries[a.park_boundaries["park"] == park],
                               cleanup=a.cleanup, title=f"{labels.label('map_title')} · {park}")
write_text(doc, out / "park_map.html")
display(HTML(_setup.iframe_srcdoc(doc, height=560)))
assert not warnings and "default-src 'none'" in doc

# %% [markdown]
# ## 文件 · files written

# %%
write_csv(pf[["source_row", "uscc", "name", "parcel_ids", "land_mu", "status", "grade", "score", "rank",
              "tax_per_mu", "revenue_per_mu", "output_per_mu"]], out / "firms.csv")
write_csv(cl.drop(columns="geometry"), out / "cleanup.csv")
written = sorted(x.name for x in out.iterdir())
display(Markdown("写出：" + "、".join(f"`{x}`" for x in written) + f"（目录 `{out}`）"))
assert pd.read_csv(out / "firms.csv", encoding="utf-8-sig").shape[0] == len(pf)
