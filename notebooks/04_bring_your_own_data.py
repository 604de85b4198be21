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
# # 04 · Bring your own data
#
# A bureau's files never look like the demo's. This notebook builds a small "bureau export" in a temp
# folder — a Shapefile of parcels with GBK attributes and **no .prj**, and a firm table saved as a
# **GBK CSV** with the bureau's own headers and units — and shows how parkland reads it: the header
# alias table (`parkland.io.columns`), encoding detection, unit conversion, the missing-CRS message and
# how `crs=` / `--crs` fixes it, and what the other common errors say.

# %%
import subprocess
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import parkland as pk
from parkland.demo_data import demo_data_dir
from parkland.io import columns
from parkland.report import labels
from parkland.units import M2_PER_MU

import _setup

_setup.use_cjk_font()
work = Path(tempfile.mkdtemp(prefix="parkland_byod_"))
work

# %% [markdown]
# ## 1. Headers: the alias table
#
# Every reader goes through one table that maps headers (Chinese or English, full- or half-width, with
# a unit in brackets) to canonical column names, and turns the unit into a factor to the canonical unit
# (money in 万元, electricity in 万千瓦时, land in 亩). `map_columns` shows what a header row becomes.

# %%
headers = ["纳税人名称", "社会信用代码", "宗地编号", "是否规上", "营业收入（元）", "实缴税金(万元)",
           "用电量（千瓦时）", "年平均职工人数", "所属园区", "备注"]
m = columns.map_columns(headers, "firm")
mapping = pd.DataFrame([{"header": h, "canonical": x.canonical, "unit": x.unit, "factor": x.factor}
                        for h, x in m.items()])
mapping

# %%
assert m["营业收入（元）"].canonical == "revenue_wan" and m["营业收入（元）"].factor == 1e-4
assert m["用电量（千瓦时）"].canonical == "electricity_10k_kwh" and m["用电量（千瓦时）"].factor == 1e-4
assert m["社会信用代码"].canonical == "uscc" and m["宗地编号"].canonical == "parcel_id"
assert m["备注"].canonical is None  # kept under its own name
# the accepted spellings, e.g. for a message or a bureau's template
columns.accepted("tax_wan")

# %% [markdown]
# ## 2. A bureau's export
#
# Twelve parcels of 嘉陵工业园区 from the demo, renamed as a county's GIS might have them (宗地代码 →
# `ZDDM`), saved as a GBK Shapefile without its `.prj`; and the landholders' figures as a GBK CSV:
# revenue in 元 with thousands separators, one full-width number, electricity in 千瓦时, a firm holding
# two parcels (codes joined by 、), a missing figure written `—`, and one credit code mistyped.

# %%
zongdi = gpd.read_file(demo_data_dir() / "city.gpkg", layer="zongdi")
ours = zongdi[zongdi["园区"] == "嘉陵工业园区"].head(12).reset_index(drop=True)
shp = work / "zongdi.shp"
(ours.rename(columns={"宗地代码": "ZDDM"})[["ZDDM", "权利人", "权利人证件号", "用途", "宗地面积", "面积单位", "geometry"]]
 .to_file(shp, encoding="gbk"))
shp.with_suffix(".prj").unlink()  # the layer has lost its CRS
sorted(x.name for x in work.iterdir())

# %%
holders = ours.groupby(["权利人证件号", "权利人"], sort=False)["宗地代码"].agg("、".join).reset_index()
n = len(holders)
rng = np.random.default_rng(7)
revenue_yuan = np.round(rng.lognormal(np.log(6e7), 0.5, n), 0)
firms = pd.DataFrame({
    "纳税人名称": holders["权利人"],
    "社会信用代码": holders["权利人证件号"],
    "宗地编号": holders["宗地代码"],
    "是否规上": "是",
    "营业收入（元）": [f"{v:,.0f}" for v in revenue_yuan],
    "实缴税金(万元)": np.round(revenue_yuan / 1e4 * 0.035, 2),
    "用电量（千瓦时）": np.round(revenue_yuan / 1e4 * 30, 0),
    "年平均职工人数": [str(x) for x in rng.integers(30, 300, n)],
    "所属园区": "嘉陵工业园区",
    "备注": "",
})
firms.loc[1, "营业收入（元）"] = str(int(revenue_yuan[1])).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
firms.loc[2, "年平均职工人数"] = "—"
good_code = firms.loc[3, "社会信用代码"]
firms.loc[3, "社会信用代码"] = good_code[:-1] + ("0" if good_code[-1] != "0" else "1")  # a typo in the check digit
firms_csv = work / "企业数据.csv"
firms.to_csv(firms_csv, index=False, encoding="gbk")
firms.head(5)

# %%
assert n == 10 and holders["宗地代码"].str.contains("、").sum() == 2  # two firms hold two parcels each
assert firms_csv.read_bytes()[:4] == "纳税".encode("gbk")  # really GBK on disk, no BOM

# %% [markdown]
# ## 3. Reading the firm table: encoding, units, numbers as people type them
#
# `read_firms` detects the encoding (UTF-8 with or without BOM, GBK, GB18030), finds the header, maps
# it, converts units and parses `12,345.6`, full-width digits and `—`. Rows it had to repair or that look
# wrong are in `recon`, with the line a person sees in the file (`file_row`).

# %%
loaded = pk.read_firms(firms_csv)
print(loaded.meta["encoding"], loaded.meta["columns"])
loaded.frame[["uscc", "uscc_valid", "name", "parcel_ids", "scale", "revenue_wan", "tax_wan",
              "electricity_10k_kwh", "employees", "备注"]]

# %%
f = loaded.frame
assert loaded.meta["encoding"] == "gbk"
# 元 → 万元 exactly, the full-width number included; 千瓦时 → 万千瓦时
assert np.allclose(f["revenue_wan"], revenue_yuan / 1e4, rtol=1e-12)
assert np.allclose(f["electricity_10k_kwh"], firms["用电量（千瓦时）"] / 1e4, rtol=1e-12)
assert np.isnan(f.loc[2, "employees"])  # "—" is missing, not zero
assert f["parcel_ids"].str.count(";").sum() == 2  # 、-joined codes split and normalised
assert f["uscc_valid"].tolist() == [True] * 3 + [False] + [True] * 6
loaded.recon[["file_row", "key", "column", "problem_code", "problem_zh", "action"]]

# %%
bad = loaded.recon[loaded.recon["problem_code"] == "BAD_USCC"]
assert bad["file_row"].tolist() == [5]  # header on line 1, the 4th firm on line 5
assert bad["action"].tolist() == ["kept"]

# %% [markdown]
# The same table saved as UTF-8 with a BOM (what Excel writes as "CSV UTF-8") or GB18030 reads the same.

# %%
for enc in ("utf-8-sig", "gb18030"):
    other = work / f"firms_{enc}.csv"
    firms.to_csv(other, index=False, encoding=enc)
    g = pk.read_firms(other).frame
    assert g["name"].tolist() == f["name"].tolist() and np.allclose(g["revenue_wan"], f["revenue_wan"])
    print(enc, "→", pk.read_firms(other).meta["encoding"])

# %% [markdown]
# ## 4. A parcel layer without a CRS
#
# Areas must be measured in a projected CRS (Gauss–Krüger), so a layer without one cannot be used; the
# message says so, names the file, and — from the eastings — suggests the likely zone, but never
# guesses on its own.

# %%
try:
    pk.assess(shp, firms_csv)
    raise AssertionError("a layer without CRS was accepted")
except pk.InputError as e:
    err = e
print(err.message("zh"))
print(err.message("en"))

# %%
assert err.file == str(shp) and "没有坐标系" in err.zh
assert "EPSG:4523" in err.hint_zh and "--crs EPSG:4523" in err.hint_en

# %% [markdown]
# Checked with whoever made the layer: it is CGCS2000 3° zone 35 with the zone prefix. Pass it as
# `crs=` (or `--crs EPSG:4523` on the command line).

# %%
a = pk.assess(shp, firms_csv, crs="EPSG:4523")
s = a.summary()
s["counts"]["firms_by_status"], s["grades"], a.parcels.crs

# %%
assert str(a.parcels.crs) == "EPSG:4523" and len(a.parcels) == 12
# the areas are the demo's, to the last digit: same polygons, same zone (1 亩 = 10000/15 m²)
demo_area = ours.geometry.area.to_numpy() / M2_PER_MU
assert np.allclose(a.parcels["area_mu"].to_numpy(), demo_area, rtol=1e-9)
assert M2_PER_MU == 10000 / 15
assert s["counts"]["firms_by_status"] == {"graded": 10}
# the mistyped code still links: the firm row carries its parcel codes
assert a.firms.loc[3, "status"] == "graded" and not a.firms.loc[3, "uscc_valid"]

# %%
fig, ax = plt.subplots(figsize=(7, 5))
pp = a.parcels
pp.plot(ax=ax, color=[labels.GRADE_COLORS.get(g, "#eeeeee") for g in pp["grade"].fillna("-")],
        edgecolor="white")
for pt, g in zip(pp.representative_point(), pp["grade"].fillna("")):
    ax.annotate(g, (pt.x, pt.y), ha="center", fontsize=9)
ax.set_axis_off()
ax.set_title("自带数据：12 宗地的评价等级（EPSG:4523）")
fig.tight_layout()

# %% [markdown]
# ## 5. The same from the command line
#
# `parkland assess` prints the same message and exits 2 (no traceback) when the CRS is missing, and runs
# with `--crs`.

# %%
cmd = [sys.executable, "-m", "parkland", "assess", "--parcels", str(shp), "--firms", str(firms_csv),
       "--out", str(work / "out")]
no_crs = subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8")
print(no_crs.returncode)
print(no_crs.stderr)

# %%
assert no_crs.returncode == 2 and "Traceback" not in no_crs.stderr and "--crs EPSG:4523" in no_crs.stderr
with_crs = subprocess.run([*cmd, "--crs", "EPSG:4523"], capture_output=True, text=True, encoding="utf-8")
print(with_crs.stdout)
assert with_crs.returncode == 0 and (work / "out" / "summary.json").is_file()

# %% [markdown]
# ## 6. Common errors and what they tell you
#
# Each is an `InputError` (the CLI prints it and exits 2): where (file, the row a person sees, the
# column), what is wrong, and what to do.

# %%
nolink = work / "no_link_column.csv"
pd.DataFrame({"企业名称": ["甲公司"], "营业收入": [100.0]}).to_csv(nolink, index=False, encoding="gbk")
cases = {
    "missing file": lambda: pk.assess(shp, work / "企业数据_2025.csv", crs=4523),
    "no column to link firms": lambda: pk.read_firms(nolink),
    "unknown CRS": lambda: pk.assess(shp, firms_csv, crs="EPSG:99999"),
    "unknown policy": lambda: pk.assess(shp, firms_csv, crs=4523, policy="zhejiang-2023"),
}
messages = {}
for what, call in cases.items():
    try:
        call()
        raise AssertionError(f"{what}: no error")
    except pk.InputError as e:
        messages[what] = {"error": type(e).__name__, "file": Path(e.file).name if e.file else None,
                          "row": e.row, "column": e.column, "message": e.message("zh")}
errors = pd.DataFrame(messages).T
errors

# %%
assert errors.loc["missing file", "file"] == "企业数据_2025.csv" and "不存在" in errors.loc["missing file", "message"]
assert errors.loc["no column to link firms", "row"] == 1 and "宗地代码" in errors.loc["no column to link firms", "message"]
assert errors.loc["unknown CRS", "column"] == "--crs" and "EPSG:4523" in errors.loc["unknown CRS", "message"]
assert errors.loc["unknown policy", "error"] == "PolicyError" and "sichuan-2022" in errors.loc["unknown policy", "message"]
for msg in errors["message"]:
    assert len(msg.splitlines()) <= 3  # short: where and what, then what to do
