"""Indicators of DOMAIN.md, per firm, per parcel and per park.

Every indicator is a ratio ``numerator / denominator`` of canonical figures (``schema.INDICATORS``):

* tax_per_mu = tax_wan / land_mu (万元/亩); revenue_per_mu, output_per_mu, value_added_per_mu alike;
* revenue_per_employee = revenue_wan / employees; labour_productivity = value_added_wan / employees;
* va_per_energy = value_added_wan / energy_tce; revenue_per_energy = revenue_wan / energy_tce;
* va_per_emission = value_added_wan / emissions_t; tax_per_electricity = tax_wan / electricity_10k_kwh;
* rd_intensity = rd_wan / revenue_wan.

A missing numerator or denominator gives a missing indicator (never 0); a zero or negative denominator
gives missing (never ±inf). A negative numerator (a tax refund) is kept: the indicator is negative.

Per parcel: X_p = Σ_f X_f × weight_{f,p} over the firms on p (weights from ``link``; all-missing → missing),
and the per-mu figures divide by the parcel's area A_p. Per park (or county): Σ X / Σ land over the
firms with land in it (firms' land_mu; firms without the figure are left out of both sums for that
indicator, so a missing figure is never read as zero).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .schema import INDICATORS, SUMMABLE


def _floats(x: pd.Series | np.ndarray) -> np.ndarray:
    """Values as float64, missing (and text that is not a number) as NaN; numeric columns without a
    Python call per cell."""
    if isinstance(x, pd.Series) and pd.api.types.is_numeric_dtype(x.dtype) and not pd.api.types.is_bool_dtype(x.dtype):
        return x.to_numpy(dtype=float, na_value=np.nan)
    if isinstance(x, np.ndarray) and x.dtype.kind in "iuf":
        return x.astype(float)
    return np.asarray(pd.to_numeric(pd.Series(np.asarray(x, dtype=object)), errors="coerce"), dtype=float)


def ratio(num: pd.Series | np.ndarray, den: pd.Series | np.ndarray) -> np.ndarray:
    """num / den with missing for a missing input or a denominator ≤ 0 (never inf)."""
    n = _floats(num)
    d = _floats(den)
    ok = np.isfinite(n) & np.isfinite(d) & (d > 0)
    out = np.full(n.shape, np.nan)
    np.divide(n, d, out=out, where=ok)
    return out


def firm_indicators(firms: pd.DataFrame) -> pd.DataFrame:
    """Add every indicator of ``schema.INDICATORS`` to a firm frame (needs ``land_mu``): a new frame; the
    caller's is not changed (copy-on-write: the columns are shared until either frame writes to them)."""
    out = firms.copy(deep=False)
    for key, (num, den) in INDICATORS.items():
        if num in out.columns and den in out.columns:
            out[key] = ratio(out[num], out[den])
        else:
            out[key] = np.nan
    return out


#: per-mu values above which a firm's figure is listed as implausible (万元/亩), policy ``[land.absurd_per_mu]``.
#: Sichuan park firms averaged 14.3 万元/亩 tax and 427 万元/亩 revenue (2020); 1000 万元/亩 tax is ~70× that,
#: typically 元 read as 万元 or a land area in the wrong unit.
ABSURD_PER_MU: dict[str, float] = {"tax_per_mu": 1000.0, "revenue_per_mu": 100_000.0, "output_per_mu": 100_000.0,
                                   "value_added_per_mu": 30_000.0}
_PER_MU_NAMES = {"tax_per_mu": ("亩均税收", "tax per mu"), "revenue_per_mu": ("亩均营业收入", "revenue per mu"),
                 "output_per_mu": ("亩均产值", "output per mu"), "value_added_per_mu": ("亩均增加值", "value added per mu")}


def absurd_values(firms: pd.DataFrame, limits: dict[str, float] | None = None) -> pd.DataFrame:
    """Reconciliation records (``ABSURD_VALUE``, action ``kept``) for firms whose per-mu indicator exceeds
    its limit: ``indicator > limits[indicator]`` (default :data:`ABSURD_PER_MU`). The values are kept and
    graded as they are; the list asks a person to check the unit and the figure."""
    from . import recon

    lim = {**ABSURD_PER_MU, **(limits or {})}
    out = []
    key = firms["uscc_raw"] if "uscc_raw" in firms else firms.get("uscc", pd.Series("", index=firms.index))
    key = key.astype(object).where(key.notna(), "")
    for ind, limit in lim.items():
        num, den = INDICATORS[ind]
        if ind not in firms or num not in firms or den not in firms:
            continue
        v = pd.to_numeric(firms[ind], errors="coerce")
        hit = (v > float(limit)).fillna(False).to_numpy(bool)
        if not hit.any():
            continue
        sub = firms.loc[hit]
        zh_name, en_name = _PER_MU_NAMES[ind]
        vals, nums, dens = v[hit].to_numpy(float), sub[num].to_numpy(float), sub[den].to_numpy(float)
        out.append(recon.records(
            "firms", "ABSURD_VALUE",
            [f"{zh_name} {x:,.2f} 万元/亩 超过合理上限 {limit:,.0f} 万元/亩（{a:,.2f} 万元 / {b:,.4g} 亩），"
             "保留并列出，请核实单位与数值" for x, a, b in zip(vals, nums, dens)],
            [f"{en_name} {x:,.2f} 万元/mu exceeds the plausible limit {limit:,.0f} ({a:,.2f} 万元 / {b:,.4g} mu): "
             "kept, please check the unit and the figure" for x, a, b in zip(vals, nums, dens)],
            "kept", source_row=sub["source_row"], file_row=sub.get("file_row"),
            key=key[hit], column=ind))
    return recon.concat(out)


def parcel_figures(parcels: pd.DataFrame, firms: pd.DataFrame, pairs: pd.DataFrame,
                   *, area_column: str = "land_area_mu") -> pd.DataFrame:
    """Per parcel: summed firm figures (X_p = Σ X_f × weight_{f,p}) and per-mu indicators X_p / A_p.

    Returns a frame indexed like ``parcels`` with one column per figure of ``SUMMABLE`` and the land
    indicators (tax_per_mu, revenue_per_mu, output_per_mu, value_added_per_mu) plus the non-land
    ratios computed on the parcel's sums.
    """
    if area_column not in parcels.columns:
        area_column = "area_mu"
    src = parcels["source_row"].to_numpy()
    pos_of_src = pd.Series(np.arange(len(parcels)), index=src)
    figs = [c for c in SUMMABLE if c in firms.columns]
    f_by_row = firms.set_index("source_row")[figs] if figs else pd.DataFrame(index=firms["source_row"])
    res = pd.DataFrame(index=parcels.index)
    if len(pairs) and figs:
        w = pairs["weight"].to_numpy(float)
        vals = f_by_row.reindex(pairs["firm_row"].to_numpy()).to_numpy(float) * w[:, None]
        ppos = pos_of_src.reindex(pairs["parcel_row"].to_numpy()).to_numpy()
        g = pd.DataFrame(vals, columns=figs).groupby(ppos).sum(min_count=1)
        for c in figs:
            col = np.full(len(parcels), np.nan)
            col[g.index.to_numpy(int)] = g[c].to_numpy()
            res[c] = col
    else:
        for c in figs:
            res[c] = np.nan
    for c in SUMMABLE:
        if c not in res:
            res[c] = np.nan
    area = parcels[area_column].to_numpy(float)
    for key, (num, den) in INDICATORS.items():
        d = area if den == "land_mu" else res[den]
        res[key] = ratio(res[num], d)
    return res


def group_indicators(firms: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Σ/Σ indicators per group (park, county…) over the firms with land (land_mu > 0).

    For each land indicator, ``Σ X / Σ land`` over the firms that report X; the other ratios likewise
    over the firms that report both parts. Columns: firms (with land), land_mu, the sums of SUMMABLE
    (over firms reporting them) and every indicator.
    """
    f = firms[pd.to_numeric(firms["land_mu"], errors="coerce") > 0].copy()
    keys = [by] if isinstance(by, str) else list(by)
    f = f.dropna(subset=keys)
    g = f.groupby(keys, sort=True)
    out = pd.DataFrame({"firms": g.size(), "land_mu": g["land_mu"].sum()})
    for c in SUMMABLE:
        out[c] = g[c].sum(min_count=1) if c in f else np.nan
    for key, (num, den) in INDICATORS.items():
        if num not in f or den not in f:
            out[key] = np.nan
            continue
        both = f[num].notna() & f[den].notna()
        gn = f[num].where(both).groupby([f[k] for k in keys]).sum(min_count=1)
        gd = f[den].where(both).groupby([f[k] for k in keys]).sum(min_count=1)
        out[key] = ratio(gn.reindex(out.index), gd.reindex(out.index))
    return out
