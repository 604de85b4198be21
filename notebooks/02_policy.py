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
# # 02 · Policies: weights, thresholds and how grades move
#
# A policy (评价办法) is data, not code: a TOML file with the scope (who is graded), the tracks
# (规上/规下) with their indicators, weights and benchmarks, and the grading rule (rank shares or score
# cut-offs). This notebook reads the `sichuan-2022` preset, edits it two ways (the TOML text, and the
# parsed dict through `parse_policy`), regrades the demo city and shows how grades shift, then how
# sensitive the grades are to one weight, and how the three shipped presets compare.

# %%
import copy
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from parkland.errors import PolicyError
from parkland.report import labels
from parkland.scoring import grade_firms, load_policy, loads_policy, parse_policy, presets
from parkland.scoring.policy import PRESETS_DIR

import _setup

_setup.use_cjk_font()

# %% [markdown]
# ## The preset
#
# `load_policy` takes a preset name or a path to a TOML file and validates it (a bad key or value is a
# `PolicyError` naming the key). `sha256` is the hash of the parsed content: summary.json records it, so
# a year's grades can be traced to the exact rules.

# %%
pol = load_policy("sichuan-2022")
print(pol)
print(pol.title, "|", pol.source)
presets()

# %%
weights = pd.DataFrame(
    [{"track": t.label, "indicator": r.key, "名称": labels.label(r.key), "weight": r.weight,
      "benchmark": r.benchmark, "missing": r.missing} for t in pol.tracks for r in t.indicators])
weights

# %%
assert presets() == ["huaian-2024", "huangyan-2023", "sichuan-2022"]
assert weights["weight"].sum() == 100  # 70 provincial + 30 local
assert weights.set_index("indicator").loc[["revenue_per_mu", "tax_per_mu", "revenue_per_employee"], "weight"].eq(20).all()
assert {g: s.share for g, s in pol.grading.shares.items()} == {"A": 0.30, "C": 0.10, "D": 0.05}

# %% [markdown]
# ## The demo city under the preset
#
# One assessment (about 5 s); every variant below regrades its firm frame with
# `parkland.scoring.grade_firms`, which takes well under a second.

# %%
a = _setup.demo_assessment("sichuan-2022")
base = a.firms
in_list = base["status"].isin(["graded", "exempt"])
base_grades = _setup.grade_counts(base)
base_grades

# %%
assert base_grades == {"A": 135, "B": 248, "C": 45, "D": 25, "T": 5}


def regrade(policy) -> pd.DataFrame:
    """The demo firms graded under ``policy`` (the assessment's scope reset first)."""
    return grade_firms(_setup.regradable(base), policy, previous=_setup.regradable(a.previous),
                       as_of=_setup.DEMO_AS_OF).frame


# regrading under the same policy gives back exactly the same grades
same = regrade(pol)
assert same["grade"].fillna("-").equals(base["grade"].fillna("-"))
assert np.allclose(same["score"].fillna(-1), base["score"].fillna(-1), rtol=1e-12)

# %% [markdown]
# ## Edit 1: the TOML text (a weight)
#
# A bureau that wants tax to count more: tax per mu 20 → 30 points, revenue per mu 20 → 10 (the total
# stays 100). Edit the text, give the policy its own name, and parse it with `loads_policy`.

# %%
text = (PRESETS_DIR / "sichuan-2022.toml").read_text(encoding="utf-8")
edited = re.sub(r'(?m)^name = "sichuan-2022"$', 'name = "sichuan-2022-tax30"', text)
edited = re.sub(r"(\[tracks\.above\.indicators\.tax_per_mu\]\nweight = )20", r"\g<1>30", edited)
edited = re.sub(r"(\[tracks\.above\.indicators\.revenue_per_mu\]\nweight = )20", r"\g<1>10", edited)
print("\n".join(line for line in edited.splitlines() if "weight" in line or line.startswith("[tracks")))
tax30 = loads_policy(edited)
tax30

# %%
w30 = {r.key: r.weight for r in tax30.track("above").indicators}
assert w30["tax_per_mu"] == 30 and w30["revenue_per_mu"] == 10 and sum(w30.values()) == 100
assert tax30.sha256 != pol.sha256 and tax30.name == "sichuan-2022-tax30"

# %% [markdown]
# ## Edit 2: the parsed dict (a threshold)
#
# `policy.raw` is the parsed TOML; change a copy and build a new Policy with `parse_policy`. Here the A
# class becomes stricter: at most 20 % of the graded firms instead of 30 %.

# %%
raw = copy.deepcopy(tax30.raw)
raw["policy"]["name"] = "sichuan-2022-tax30-a20"
raw["grading"]["shares"]["A"]["share"] = 0.20
strict = parse_policy(raw)
strict.grading.shares

# %%
assert strict.grading.shares["A"].share == 0.20 and strict.grading.shares["C"].share == 0.10

# %% [markdown]
# ## Grade shifts: old against new
#
# The cross-table counts firms by their grade under the preset (rows) and under the edited policy
# (columns); "—" is "not in the list" (not graded, not linked).

# %%
GR = ["A", "B", "C", "D", "T", "—"]


def shift_table(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    def g(f: pd.DataFrame) -> pd.Series:
        listed = f["status"].isin(["graded", "exempt"])
        return f["grade"].where(listed, "—").fillna("—")

    t = pd.crosstab(g(old).rename("旧等级"), g(new).rename("新等级"))
    keep = [x for x in GR if x in t.index or x in t.columns]
    return t.reindex(index=keep, columns=keep, fill_value=0)


new = regrade(strict)
shift = shift_table(base, new)
shift

# %%
new_grades = _setup.grade_counts(new)
# A is now the top ⌊20 % × 450⌋ (the 3 vetoed firms are D outright); B takes the rest
assert new_grades == {"A": 90, "B": 293, "C": 45, "D": 25, "T": 5}
assert shift.loc["A"].sum() == 135 and shift["A"].sum() == 90
assert shift.loc["—", "—"] == 394  # the same 394 firms stay out of the list
moved = int(shift.to_numpy().sum() - np.trace(shift.to_numpy()))
# the 45 firms pushed out of A; the weight change alone swaps one firm across the B/C line each way
assert moved == 47 and shift.loc["A", "B"] == 45 and shift.loc["B", "C"] == 1 and shift.loc["C", "B"] == 1
print(f"{moved} firms change grade; A→B: {shift.loc['A', 'B']}, B→A: {shift.loc['B', 'A']}")

# %%
def heatmap(t: pd.DataFrame, title: str, ax) -> None:
    m = t.to_numpy()
    ax.imshow(np.log1p(m), cmap="Blues")
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            if m[i, j]:
                ax.text(j, i, str(m[i, j]), ha="center", va="center",
                        color="white" if m[i, j] > m.max() / 3 else "black")
    ax.set_xticks(range(len(t.columns)), t.columns)
    ax.set_yticks(range(len(t.index)), t.index)
    ax.set_xlabel(t.columns.name)
    ax.set_ylabel(t.index.name)
    ax.set_title(title)


shift30 = shift_table(base, regrade(tax30))
# the weight change alone: 7 firms swap across the A/B line each way (A stays at ⌊30 % × 450⌋ = 135)
assert shift30.loc["A", "B"] == shift30.loc["B", "A"] == 7 and shift30.loc["A", "A"] == 128

fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
heatmap(shift30, "税收权重 30、营收权重 10", axes[0])
heatmap(shift, "再把 A 类上限降到 20%", axes[1])
fig.tight_layout()

# %% [markdown]
# A Sankey-like view of the same shift: each band joins an old grade (left) to a new one (right), as
# wide as the number of firms that move along it.

# %%
def flow_plot(t: pd.DataFrame, ax, grades=("A", "B", "C", "D")) -> None:
    t = t.reindex(index=list(grades), columns=list(grades), fill_value=0)
    total = t.to_numpy().sum()
    gap = total * 0.02
    left_top = np.concatenate([[0], np.cumsum(t.sum(axis=1).to_numpy() + gap)[:-1]])
    right_top = np.concatenate([[0], np.cumsum(t.sum(axis=0).to_numpy() + gap)[:-1]])
    lo, ro = left_top.copy(), right_top.copy()
    x = np.linspace(0, 1, 50)
    s = 3 * x**2 - 2 * x**3  # smooth step
    for i, g_old in enumerate(grades):
        for j, _g_new in enumerate(grades):
            n = t.iat[i, j]
            if not n:
                continue
            y0, y1 = lo[i], ro[j]
            ax.fill_between(x, y0 + (y1 - y0) * s, y0 + n + (y1 - y0) * s, color=labels.GRADE_COLORS[g_old],
                            alpha=0.55, lw=0)
            lo[i] += n
            ro[j] += n
    for k, g in enumerate(grades):
        ax.text(-0.02, left_top[k] + t.iloc[k].sum() / 2, f"{g} {t.iloc[k].sum()}", ha="right", va="center")
        ax.text(1.02, right_top[k] + t.iloc[:, k].sum() / 2, f"{g} {t.iloc[:, k].sum()}", ha="left", va="center")
    ax.invert_yaxis()
    ax.set_xlim(-0.15, 1.15)
    ax.set_axis_off()


fig, ax = plt.subplots(figsize=(6, 4.5))
flow_plot(shift, ax)
ax.set_title("等级流向：sichuan-2022 → 税收 30 / A 类 20%")
fig.tight_layout()

# %% [markdown]
# ## Sensitivity: how much do grades depend on the tax weight?
#
# Vary the tax-per-mu weight from 10 to 40 points (the other weights unchanged) and count the graded
# firms whose grade differs from the preset's. Grades are by rank, so only the relative weights matter.

# %%
rows = []
graded = base["status"] == "graded"
for w in range(10, 41, 5):
    r = copy.deepcopy(pol.raw)
    r["tracks"]["above"]["indicators"]["tax_per_mu"]["weight"] = w
    g = regrade(parse_policy(r))
    changed = (g["grade"] != base["grade"]) & graded
    up = changed & (g["grade"] < base["grade"])  # "A" < "B": a better grade
    rows.append({"tax_weight": w, "changed": int(changed.sum()), "up": int(up.sum()),
                 "down": int((changed & ~up).sum()), "share_changed": changed.sum() / graded.sum()})
sens = pd.DataFrame(rows).set_index("tax_weight")
sens

# %%
assert graded.sum() == 453
assert sens.loc[20, "changed"] == 0  # the preset itself
assert sens["changed"].to_dict() == {10: 12, 15: 8, 20: 0, 25: 10, 30: 12, 35: 18, 40: 22}
assert (sens["up"] == sens["down"]).all()  # rank shares: every firm moving up pushes one down
assert sens.loc[40, "share_changed"] == 22 / 453

# %%
fig, ax = plt.subplots(figsize=(6.5, 3.5))
ax.plot(sens.index, 100 * sens["share_changed"], marker="o", color="#4575b4")
ax.axvline(20, color="grey", ls=":", lw=1)
ax.text(20.5, ax.get_ylim()[1] * 0.9, "预设值 20")
ax.set_xlabel("亩均税收权重（分）")
ax.set_ylabel("等级变化的企业占比（%）")
ax.set_title("等级对税收权重的敏感性")
fig.tight_layout()

# %% [markdown]
# ## The three presets side by side
#
# The presets differ in scope (Sichuan grades 规上 firms in parks only; 黄岩 and 淮安 grade 规下 firms
# on their own track), indicators and shares, so the lists differ in length as well as in grades.

# %%
by_preset = {name: _setup.grade_counts(regrade(load_policy(name))) for name in presets()}
counts = pd.DataFrame(by_preset).T.reindex(columns=_setup.GRADES).fillna(0).astype(int)
counts

# %%
assert counts.loc["sichuan-2022"].to_dict() == {"A": 135, "B": 248, "C": 45, "D": 25, "T": 5}
assert counts.loc["huangyan-2023"].to_dict() == {"A": 210, "B": 379, "C": 214, "D": 44, "T": 0}
assert counts.loc["huaian-2024"].to_dict() == {"A": 165, "B": 332, "C": 295, "D": 44, "T": 11}

# %%
fig, ax = plt.subplots(figsize=(7, 3.5))
xpos = np.arange(len(counts))
bottom = np.zeros(len(counts))
for g in _setup.GRADES:
    ax.bar(xpos, counts[g], bottom=bottom, color=labels.GRADE_COLORS[g], label=labels.label(g))
    bottom += counts[g].to_numpy()
ax.set_xticks(xpos, counts.index)
ax.set_ylabel("企业数")
ax.legend(fontsize=8, bbox_to_anchor=(1.0, 1.0), loc="upper left")
ax.set_title("三个预设下的评价结果")
fig.tight_layout()

# %% [markdown]
# ## A bad edit is caught with the key's name
#
# A negative weight, a share above 1, an unknown key: `parse_policy` (and `parkland assess --policy
# my.toml`) stops with a message naming the key and what is allowed.

# %%
bad = copy.deepcopy(pol.raw)
bad["tracks"]["above"]["indicators"]["tax_per_mu"]["weight"] = -5
try:
    parse_policy(bad)
    raise AssertionError("a negative weight was accepted")
except PolicyError as e:
    msg = e.message("zh")
print(msg)
assert "tracks.above.indicators.tax_per_mu.weight" in msg and "应大于 0" in msg
