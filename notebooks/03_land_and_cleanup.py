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
# # 03 · Idle and low-efficiency land, and the cleanup plan
#
# The land side of the assessment: which parcels are legally idle (2012 rules), vacant, stopped or
# low-efficiency and why (`flag_reasons`), how buildings compare with the control indicators
# (容积率 against the industry's minimum), what the NDVI raster says about vacant land, how the three
# selection strategies reach the year's 1,000-亩 cleanup target, and where the city stands against its
# per-mu targets.

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from parkland import plan
from parkland.report import labels

import _setup

_setup.use_cjk_font()
a = _setup.demo_assessment("sichuan-2022")
p = a.parcels
s = a.summary()
len(p), p.crs

# %% [markdown]
# ## The four flags
#
# A parcel can carry several: `idle` (legal idle land), `vacant` (no firm, no building), `stopped`
# (every firm on it reports zero revenue, tax and electricity), `low_efficiency` (any of the
# low-efficiency tests). `flag_reasons` lists the reason codes, `;`-separated.

# %%
flags = pd.DataFrame({k: {"parcels": int(p[k].sum()), "亩": float(p.loc[p[k], "area_mu"].sum())}
                      for k in plan.KINDS}).T
flags

# %%
# the demo was built with 46 legally idle parcels (1,039 亩: 31 not started, 15 started then stopped),
# 59 vacant (1,225 亩) and 51 stopped (1,193 亩) — data/demo/README.md
assert flags.loc["idle", "parcels"] == 46 and round(flags.loc["idle", "亩"]) == 1039
assert flags.loc["vacant", "parcels"] == 59 and round(flags.loc["vacant", "亩"]) == 1225
assert flags.loc["stopped", "parcels"] == 51 and round(flags.loc["stopped", "亩"]) == 1193
assert s["land"]["idle"]["parcels"] == 46
union = p["idle"] | p["vacant"] | p["stopped"]
assert round(p.loc[union, "area_mu"].sum()) == 2876

# %%
codes = p["flag_reasons"].str.split(";").explode()
codes = codes[codes.notna() & (codes != "")]
reasons = codes.value_counts().rename("parcels").to_frame()
reasons["说明"] = [labels.label(c) for c in reasons.index]
reasons["亩"] = [p.loc[codes.index[codes == c], "area_mu"].sum() for c in reasons.index]
reasons.round(1)

# %%
assert reasons.loc["IDLE_NOT_STARTED", "parcels"] == 31 and reasons.loc["IDLE_STOPPED", "parcels"] == 15
assert reasons.loc["VACANT", "parcels"] == 59 and reasons.loc["STOPPED", "parcels"] == 51
assert reasons["parcels"].to_dict() == s["land"]["flag_reasons"]  # summary.json counts the same

# %%
fig, ax = plt.subplots(figsize=(8, 5))
r = reasons.sort_values("亩")
ax.barh(r["说明"], r["亩"], color="#d6604d")
for y, (mu, n) in enumerate(zip(r["亩"], r["parcels"])):
    ax.text(mu, y, f" {n} 宗", va="center", fontsize=8)
ax.set_xlabel("面积（亩）")
ax.set_title("闲置与低效用地：按认定理由")
fig.tight_layout()

# %% [markdown]
# ### Idle land in detail
#
# `idle_years` counts from the agreed start (not started) or from the stop date (started then
# stopped); at one year the idle-land fee is due, at two the right may be taken back (`IDLE_RECLAIM`).
# `flag_detail` is the note the land officer reads.

# %%
idle = p[p["idle"]].sort_values("idle_years", ascending=False)
idle[["parcel_id", "park", "area_mu", "idle_years", "idle_fee_due", "reclaim_warning", "flag_detail"]].head(8)

# %%
assert idle["idle_fee_due"].all()  # every idle parcel has passed one year
assert (idle["idle_years"] >= 1).all()
assert (idle["reclaim_warning"] == (idle["idle_years"] >= 2)).all()

# %% [markdown]
# ## Buildings against the control indicators
#
# 容积率 (`far`) = floor area / parcel area, a storey over 8 m counted twice; `far_min` is the 2008
# minimum of the parcel's industry (after the GB/T 4754-2017 → 2002 crosswalk). `LOW_FAR` is raised on
# built parcels under their minimum; `LOW_COVERAGE` when 建筑系数 is under 30 %.

# %%
built = p["building_count"] > 0
low_far = p["flag_reasons"].str.contains("LOW_FAR", regex=False)
assert (low_far == (built & (p["far"] < p["far_min"]))).all()
low_cov = p["flag_reasons"].str.contains("LOW_COVERAGE", regex=False)
assert (low_cov == (built & (p["building_coverage"] < p["coverage_min"]))).all()
assert int(low_far.sum()) == 299 and int(low_cov.sum()) == 47
pd.crosstab(p.loc[built, "far_min"], low_far[built].rename("LOW_FAR"))

# %%
rng = np.random.default_rng(0)
q = p[built & p["far_min"].notna()]
jit = q["far_min"] + rng.uniform(-0.04, 0.04, len(q))
below = q["far"] < q["far_min"]
fig, ax = plt.subplots(figsize=(6.5, 5))
ax.scatter(jit[~below], q.loc[~below, "far"], s=8, alpha=0.5, color="#4575b4", label="达标")
ax.scatter(jit[below], q.loc[below, "far"], s=8, alpha=0.7, color="#d73027", label="低于控制指标")
lim = [0.5, 1.1]
ax.plot(lim, lim, color="k", lw=1, ls="--")
ax.set_xlabel("行业容积率下限 far_min（略加抖动）")
ax.set_ylabel("实际容积率 far")
ax.set_title("容积率与控制指标")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## Raster evidence: NDVI of vacant and built parcels
#
# The NDVI raster (10 m, in its own UTM CRS) is averaged over each parcel with exact pixel coverage
# (`ndvi_mean`, `ndvi_coverage`). Vacant land is green; roofs and yards are not.

# %%
ndvi = pd.DataFrame({"ndvi_mean": p["ndvi_mean"],
                     "kind": np.select([p["vacant"], built], ["空置", "有建筑"], "其他")})
ndvi = ndvi[ndvi["ndvi_mean"].notna()]
stats = ndvi.groupby("kind")["ndvi_mean"].describe()[["count", "mean", "50%"]]
stats.round(3)

# %%
assert stats.loc["空置", "50%"] > 0.4 and stats.loc["有建筑", "50%"] < 0.1
assert int(p["ndvi_mean"].isna().sum()) == 40  # the 40 parcels outside every park lie outside the raster's data

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
groups = ["空置", "有建筑"]
ax.boxplot([ndvi.loc[ndvi["kind"] == g, "ndvi_mean"] for g in groups], tick_labels=groups, vert=False)
ax.set_xlabel("宗地平均 NDVI")
ax.set_title("遥感证据：空置宗地植被覆盖明显更高")
fig.tight_layout()

# %% [markdown]
# ## The cleanup plan under three strategies
#
# Candidates are the parcels with any flag, ranked by priority (idle first, then vacant, stopped,
# low-efficiency; within a tier by a priority score). `parkland.plan.select` picks parcels to reach the
# target (1,000 亩 by default, the policy's `[targets]`):
#
# * `priority`: down the ranked list until the target is reached;
# * `fewest-firms`: reach the target touching the fewest operating firms;
# * `min-overshoot`: reach the target with the least excess area.

# %%
cands = a.cleanup.drop(columns=["selected", "cumulative_mu"])
target = s["cleanup"]["target_mu"]
results = {}
selections = {}
for strategy in plan.STRATEGIES:
    sel, rep = plan.select(cands, target, strategy=strategy)
    selections[strategy] = sel
    results[strategy] = {"亩": rep["selected_mu"], "宗地": rep["parcels"], "在营企业": rep["operating_firms"],
                         "超出（亩）": rep["overshoot_mu"], **{f"{k}（亩）": v for k, v in rep["by_kind"].items()}}
table = pd.DataFrame(results).T
table.round(2)

# %%
assert target == 1000 and len(cands) == 772
assert (table["亩"] >= target).all()
assert table.loc["priority", "宗地"] == 43 and table.loc["priority", "在营企业"] == 7
assert table.loc["fewest-firms", "在营企业"] == 0 and table.loc["fewest-firms", "宗地"] == 16
assert table.loc["min-overshoot", "宗地"] == 42 and table.loc["min-overshoot", "超出（亩）"] < 0.01
assert table["在营企业"].idxmin() == "fewest-firms" and table["超出（亩）"].idxmin() == "min-overshoot"
# the assessment's own plan is the policy's strategy (priority)
assert s["cleanup"]["strategy"] == "priority" and abs(s["cleanup"]["selected_mu"] - table.loc["priority", "亩"]) < 1e-9

# %%
kinds = [k for k in plan.KINDS]
fig, ax = plt.subplots(figsize=(8, 3.2))
left = np.zeros(len(table))
kind_colors = {"idle": "#b2182b", "vacant": "#ef8a62", "stopped": "#67a9cf", "low_efficiency": "#999999"}
for k in kinds:
    v = table[f"{k}（亩）"].astype(float).to_numpy()
    ax.barh(table.index, v, left=left, color=kind_colors[k], label=labels.label(k))
    left += v
for y, strategy in enumerate(table.index):
    ax.text(left[y], y, f"  {int(table.loc[strategy, '宗地'])} 宗，在营企业 {int(table.loc[strategy, '在营企业'])} 家",
            va="center", fontsize=9)
ax.axvline(target, color="k", ls="--", lw=1)
ax.set_xlim(0, left.max() * 1.45)
ax.set_xlabel("选中面积（亩），虚线为目标")
ax.legend(ncol=4, fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
ax.set_title("清理计划：三种选择策略", pad=24)
fig.tight_layout()

# %% [markdown]
# Where the `fewest-firms` selection lies: parcels nobody operates on (idle, vacant, stopped) in red.

# %%
sel = selections["fewest-firms"]
chosen = p[p["source_row"].isin(sel.loc[sel["selected"], "source_row"])]  # source_row is unique; a code may repeat
fig, axes = plt.subplots(1, 4, figsize=(15, 4.2))
for ax, name in zip(axes, sorted(p["park"].dropna().unique())):
    p[p["park"] == name].plot(ax=ax, color="#eeeeee", edgecolor="#cccccc", linewidth=0.2)
    c = chosen[chosen["park"] == name]
    if len(c):
        c.plot(ax=ax, color="#b2182b")
    ax.set_title(f"{name}：{len(c)} 宗，{c['area_mu'].sum():.0f} 亩", fontsize=9)
    ax.set_axis_off()
fig.tight_layout()

# %%
assert len(chosen) == 16 and abs(chosen["area_mu"].sum() - table.loc["fewest-firms", "亩"]) < 1e-6

# %% [markdown]
# ## Idle factory floor
#
# The second target of the year: bring idle factory floor (m²) back into use. The same strategies
# choose among idle buildings.

# %%
s["idle_floor"]

# %%
assert s["idle_floor"]["target_m2"] == 20000 and s["idle_floor"]["reachable"]
assert s["idle_floor"]["selected_m2"] >= 20000

# %% [markdown]
# ## The year's per-mu targets
#
# `summary()["targets"]`: per-mu output and tax on the same parcels as last year (the honest basis) and
# on all land, against the goals (+10 % output, +5 % tax).

# %%
t = s["targets"]
targets = pd.DataFrame({k: {"上年": v["previous"], "本年": v["current"], "变化%": v["change_pct"],
                            "目标%": v["goal_pct"], "达成": v["met"], "宗地": v["parcels"]}
                        for k, v in t.items() if k != "parks"}).T
targets

# %%
# the demo's firms grew output by 6.0 % and tax by 3.0 % on the same land: both goals missed
assert round(t["output_per_mu"]["change_pct"], 1) == 5.9 and round(t["tax_per_mu"]["change_pct"], 1) == 3.0
assert not t["output_per_mu"]["met"] and not t["tax_per_mu"]["met"]
for k in ("output_per_mu", "tax_per_mu"):
    assert abs(100 * (t[k]["current"] / t[k]["previous"] - 1) - t[k]["change_pct"]) < 1e-9

# %%
parks_t = pd.DataFrame(t["parks"]).set_index("park")
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
for ax, key, goal in zip(axes, ["output_per_mu", "tax_per_mu"], [t["output_per_mu"]["goal_pct"], t["tax_per_mu"]["goal_pct"]]):
    v = parks_t[f"{key}_change_pct"]
    ax.barh(v.index, v, color=np.where(parks_t[f"{key}_met"], "#1a9850", "#fc8d59"))
    ax.axvline(goal, color="k", ls="--", lw=1)
    ax.set_title(f"{labels.label(key)}：较上年变化（%），目标 {goal:g}%")
fig.tight_layout()

# %%
met = parks_t[["output_per_mu_met", "tax_per_mu_met"]]
assert met.loc["嘉陵工业园区", "output_per_mu_met"] and met.loc["南充现代物流园", "tax_per_mu_met"]
assert int(met.to_numpy().sum()) == 2

# %% [markdown]
# ## What the cleanup would bring
#
# `scenario`: if the selected parcels were brought up to the park average (or the A-grade average),
# how much would the city's per-mu figures move?

# %%
sc = pd.DataFrame({b: {"亩均产值变化%": v["output_per_mu"]["change_pct"], "亩均税收变化%": v["tax_per_mu"]["change_pct"]}
                   for b, v in s["scenario"].items()}).T
sc.round(2)

# %%
assert (sc["亩均产值变化%"] > 0).all() and sc.loc["a_grade_average", "亩均税收变化%"] > sc.loc["park_average", "亩均税收变化%"]
