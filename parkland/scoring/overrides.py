"""Objection reviews (异议复核): corrections applied to the firm frame, each one audited.

The override table is read by :func:`parkland.io.overrides.read_overrides`; a raw frame with Chinese
headers is normalised on the fly. Two steps:

* :func:`apply_overrides_before` — before linking/grading: corrected figures (``figure``: the firm
  column is set to the new value, converted to the canonical unit; indicators whose numerator or
  denominator changed are recomputed for those firms when the frame already has them), exemptions
  (``exempt``: columns ``override_exempt`` = True and ``override_exempt_reason``, which
  :func:`parkland.scoring.grades.grade_firms` turns into status ``exempt``, grade T), and manual links
  (``link``: returned as extra link rows ``meta["links"]`` with columns uscc, parcel_id, land_share,
  occupied_m2, reason, reference, for the lead's link stage);
* :func:`apply_overrides_after` — after grading: grades set by decision (``grade``): grade, status
  (``exempt`` for T, else ``graded``), status_reason "grade set by review: <reason> (<reference>)",
  ``next_grade``/gaps cleared, consequences recomputed when the policy is given.

Every change is a row of the audit frame ``meta["audit"]``: uscc, name, kind, field, old, new, reason,
reference, override_row (the override's source_row) — the report writes it as a sheet of grades.xlsx
and into summary.json. Overrides naming a firm that is not in the frame, or a field that is not a
column, are dropped and listed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from parkland import recon
from parkland.io import values as V
from parkland.io.overrides import OVERRIDE_COLUMNS, normalise_overrides
from parkland.recon import Loaded
from parkland.schema import FIRM_FIGURES, INDICATORS
from parkland.scoring.policy import Policy, load_policy

AUDIT_COLUMNS = ["uscc", "name", "kind", "field", "old", "new", "reason", "reference", "override_row"]
LINK_COLUMNS = ["uscc", "parcel_id", "land_share", "occupied_m2", "reason", "reference", "override_row"]
NUMERIC = set(FIRM_FIGURES) | set(INDICATORS) | {"land_mu", "lon", "lat"}


def _as_overrides(overrides) -> tuple[pd.DataFrame, pd.DataFrame]:
    if isinstance(overrides, Loaded):
        return overrides.frame, overrides.recon
    if overrides is None:
        from parkland.io.overrides import empty_overrides

        return empty_overrides(), recon.empty()
    if set(OVERRIDE_COLUMNS) <= set(overrides.columns):
        return overrides, recon.empty()
    loaded = normalise_overrides(overrides)
    return loaded.frame, loaded.recon


def _text(s: pd.Series) -> pd.Series:
    return V.to_text(s).astype(object)


def _audit(rows: pd.DataFrame) -> pd.DataFrame:
    if not len(rows):
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in AUDIT_COLUMNS})
    return rows[AUDIT_COLUMNS].reset_index(drop=True)


def _drop(ov: pd.DataFrame, mask: pd.Series, code: str, zh: str, en: str, column: str | None = None):
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return recon.empty()
    sub = ov[mask]
    return recon.records("overrides", code, zh, en, "dropped", source_row=sub["source_row"],
                         file_row=sub["file_row"], key=sub["uscc_raw"].fillna(sub["uscc"]).fillna(""),
                         column=column or "")


def _unknown_firm(ov: pd.DataFrame, firms: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    known = ov["uscc"].isin(firms["uscc"].dropna()) if "uscc" in firms.columns else ov["uscc"].isna()
    rec = _drop(ov, ~known, "OVERRIDE_UNKNOWN_FIRM", "异议复核记录的统一社会信用代码不在企业表中，未使用",
                "the override's credit code is not in the firm table: not used")
    return ov[known], rec


def _one_per_firm(ov: pd.DataFrame, by: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The last override per firm (and field) wins; the earlier ones are listed."""
    dup = ov.duplicated(by, keep="last")
    rec = _drop(ov, dup, "OVERRIDE_SUPERSEDED", "同一企业同一事项有多条复核记录，以最后一条为准",
                "several overrides of the same firm and field: the last one is used")
    return ov[~dup], rec


def apply_overrides_before(firms: pd.DataFrame, overrides) -> Loaded:
    """Corrected figures, exemptions and manual links (module docstring). ``overrides``: the frame of
    :func:`parkland.io.overrides.read_overrides` (or its Loaded, or a raw table). Returns the corrected
    firm frame; recon lists dropped overrides; meta["audit"], meta["links"]."""
    ov, rec0 = _as_overrides(overrides)
    df = firms.copy()
    recs = [rec0]
    audits: list[pd.DataFrame] = []
    ov = ov[ov["kind"].isin(["figure", "exempt", "link"])]
    ov, r = _unknown_firm(ov, df)
    recs.append(r)
    uscc = df["uscc"].astype(object) if "uscc" in df.columns else pd.Series(None, index=df.index, dtype=object)
    name = df["name"].astype(object) if "name" in df.columns else pd.Series(None, index=df.index, dtype=object)

    # figures
    fig = ov[ov["kind"] == "figure"].copy()
    fig["target"] = fig["column"].where(fig["column"].isin(df.columns), None)
    fig["target"] = fig["target"].where(fig["target"].notna(), fig["field"].where(fig["field"].isin(df.columns)))
    bad_field = fig["target"].isna()
    recs.append(_drop(fig, bad_field, "OVERRIDE_UNKNOWN_FIELD", "数据更正的字段不是企业表中的列，未使用",
                      "the corrected field is not a column of the firm table: not used"))
    fig = fig[~bad_field]
    fig, r = _one_per_firm(fig, ["uscc", "target"])
    recs.append(r)
    changed_cols: set[str] = set()
    changed_rows = pd.Series(False, index=df.index)
    for col, grp in fig.groupby("target", sort=True):  # one pass per corrected column
        numeric = col in NUMERIC or (pd.api.types.is_numeric_dtype(df[col]) and not
                                     pd.api.types.is_bool_dtype(df[col]))
        if numeric:
            val, bad = V.parse_numbers(grp["new_value"])
            val = val * grp["factor"].astype(float)
            recs.append(_drop(grp, bad, "OVERRIDE_BAD_NUMBER", "数据更正的新值不是数字，未使用",
                              "the corrected value is not a number: not used", col))
            grp, val = grp[~bad], val[~bad]
        elif col == "scale":
            val, bad = V.parse_scale(grp["new_value"])
            recs.append(_drop(grp, bad, "OVERRIDE_BAD_SCALE", "企业规模的新值无法识别（规上/规下），未使用",
                              "the corrected size class is not 规上/规下: not used", col))
            grp, val = grp[~bad], val[~bad]
        else:
            val = grp["new_value"]
        newmap = pd.Series(val.to_numpy(), index=grp["uscc"].to_numpy())
        rows = uscc.isin(newmap.index) & uscc.notna()
        if not rows.any():
            continue
        new = uscc[rows].map(newmap)
        old = df.loc[rows, col]
        meta_map = grp.set_index("uscc")
        audits.append(pd.DataFrame({
            "uscc": uscc[rows].to_numpy(), "name": name[rows].to_numpy(), "kind": "figure", "field": col,
            "old": _text(old).to_numpy(), "new": _text(new).to_numpy(),
            "reason": uscc[rows].map(meta_map["reason"]).to_numpy(),
            "reference": uscc[rows].map(meta_map["reference"]).to_numpy(),
            "override_row": uscc[rows].map(meta_map["source_row"]).to_numpy()}))
        if numeric:
            df[col] = pd.to_numeric(df[col], errors="coerce").astype(float) if col in df.columns else np.nan
            df.loc[rows, col] = new.astype(float).to_numpy()
        else:
            df[col] = df[col].astype(object)
            df.loc[rows, col] = new.to_numpy()
        changed_cols.add(col)
        changed_rows |= rows
    # indicators whose inputs changed, recomputed for the corrected firms
    for ind, (num, den) in INDICATORS.items():
        if ind in df.columns and (num in changed_cols or den in changed_cols) and num in df and den in df:
            a = pd.to_numeric(df.loc[changed_rows, num], errors="coerce").astype(float)
            b = pd.to_numeric(df.loc[changed_rows, den], errors="coerce").astype(float)
            df.loc[changed_rows, ind] = (a / b.where(b != 0)).to_numpy()

    # exemptions
    ex = ov[ov["kind"] == "exempt"]
    ex, r = _one_per_firm(ex, ["uscc"])
    recs.append(r)
    if "override_exempt" not in df.columns:
        df["override_exempt"] = False
        df["override_exempt_reason"] = pd.Series(None, index=df.index, dtype=object)
    df["override_exempt_reason"] = df["override_exempt_reason"].astype(object)
    if len(ex):
        ref = ex["reference"].fillna("").astype(str)
        why = (ex["reason"].astype(str) + np.where(ref.ne(""), "（" + ref + "）", "")).to_numpy()
        emap = pd.Series(why, index=ex["uscc"].to_numpy())
        rows = uscc.isin(emap.index) & uscc.notna()
        exm = ex.set_index("uscc")
        audits.append(pd.DataFrame({
            "uscc": uscc[rows].to_numpy(), "name": name[rows].to_numpy(), "kind": "exempt",
            "field": "status", "old": _text(df.loc[rows, "status"]).to_numpy() if "status" in df else None,
            "new": "exempt", "reason": uscc[rows].map(exm["reason"]).to_numpy(),
            "reference": uscc[rows].map(exm["reference"]).to_numpy(),
            "override_row": uscc[rows].map(exm["source_row"]).to_numpy()}))
        df.loc[rows, "override_exempt"] = True
        df.loc[rows, "override_exempt_reason"] = uscc[rows].map(emap).to_numpy()

    # manual links
    lk = ov[ov["kind"] == "link"]
    links = pd.DataFrame({c: pd.Series([], dtype=object) for c in LINK_COLUMNS})
    if len(lk):
        codes = V.parcel_codes(V.split_codes(lk["new_value"]))
        base = lk.loc[codes.index]
        links = pd.DataFrame({"uscc": base["uscc"].to_numpy(), "parcel_id": codes.to_numpy(),
                              "land_share": np.nan, "occupied_m2": np.nan,
                              "reason": base["reason"].to_numpy(), "reference": base["reference"].to_numpy(),
                              "override_row": base["source_row"].to_numpy()})
        lname = lk.set_index("uscc")["name"]
        audits.append(pd.DataFrame({
            "uscc": links["uscc"], "name": links["uscc"].map(lname[~lname.index.duplicated()]),
            "kind": "link", "field": "parcel_id", "old": None, "new": links["parcel_id"],
            "reason": links["reason"], "reference": links["reference"], "override_row": links["override_row"]}))
    audit = _audit(pd.concat(audits, ignore_index=True)) if audits else _audit(pd.DataFrame())
    return Loaded(df, recon.concat(recs), {"audit": audit, "links": links})


def apply_overrides_after(firms: pd.DataFrame, overrides, policy: Policy | str | None = None) -> Loaded:
    """Grades set by decision (module docstring), on the frame returned by ``grade_firms``. With
    ``policy`` the new grade must be one of its grades or T and consequences are recomputed."""
    from parkland.scoring.explain import consequences

    ov, rec0 = _as_overrides(overrides)
    df = firms.copy()
    recs = [rec0]
    pol = load_policy(policy) if policy is not None else None
    allowed = (*pol.grading.grades, "T") if pol is not None else ("A", "B", "C", "D", "T")
    gr = ov[ov["kind"] == "grade"].copy()
    gr, r = _unknown_firm(gr, df)
    recs.append(r)
    gr["grade_new"] = gr["new_value"].astype(str).str.normalize("NFKC").str.strip().str.upper() \
        .str.replace(r"类$", "", regex=True)
    bad = ~gr["grade_new"].isin(allowed)
    recs.append(_drop(gr, bad, "OVERRIDE_BAD_GRADE", f"复核等级不是 {'、'.join(allowed)} 之一，未使用",
                      f"the decided grade is not one of {', '.join(allowed)}: not used"))
    gr = gr[~bad]
    gr, r = _one_per_firm(gr, ["uscc"])
    recs.append(r)
    audit = _audit(pd.DataFrame())
    if len(gr):
        uscc = df["uscc"].astype(object)
        g = gr.set_index("uscc")
        rows = uscc.isin(g.index) & uscc.notna()
        new = uscc[rows].map(g["grade_new"])
        ref = g["reference"].fillna("").astype(str)
        why = "grade set by review: " + g["reason"].astype(str) + np.where(ref.ne(""), " (" + ref + ")", "")
        old = df["grade"].astype(object) if "grade" in df.columns else pd.Series(None, index=df.index, dtype=object)
        audit = _audit(pd.DataFrame({
            "uscc": uscc[rows].to_numpy(),
            "name": df.loc[rows, "name"].to_numpy() if "name" in df.columns else None,
            "kind": "grade", "field": "grade", "old": _text(old[rows]).to_numpy(), "new": new.to_numpy(),
            "reason": uscc[rows].map(g["reason"]).to_numpy(), "reference": uscc[rows].map(g["reference"]).to_numpy(),
            "override_row": uscc[rows].map(g["source_row"]).to_numpy()}))
        for c in ("grade", "status", "status_reason", "next_grade"):
            df[c] = (df[c] if c in df.columns else pd.Series(None, index=df.index)).astype(object)
        df.loc[rows, "grade"] = new.to_numpy()
        df.loc[rows, "status"] = np.where(new.to_numpy() == "T", "exempt", "graded")
        df.loc[rows, "status_reason"] = uscc[rows].map(why).to_numpy()
        df.loc[rows, "next_grade"] = None
        for c in ("gap_score", "gap_tax_per_mu", "gap_revenue_per_mu"):
            if c in df.columns:
                df.loc[rows, c] = np.nan
        df["grade_override"] = rows.to_numpy() | (df["grade_override"].fillna(False).astype(bool).to_numpy()
                                                  if "grade_override" in df.columns else False)
        if pol is not None:
            cons = consequences(df, pol)
            for c in cons.columns:
                df[c] = cons[c]
    return Loaded(df, recon.concat(recs), {"audit": audit})
