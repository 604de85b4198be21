"""Year on year: last year's grades recomputed with this year's policy, and the changes per firm.

Last year's firm frame comes already linked and with indicators (the lead's pipeline computes them on
this year's parcels); :func:`year_on_year` grades it with the same policy (:func:`grade_firms`) and
matches firms on the normalised credit code ``uscc`` (the first row of a repeated code; rows without a
code match nothing). Per firm of this year:

* ``grade_previous``, ``score_previous``, ``status_previous``;
* ``grade_change``: ``"B→A"`` when both years have a grade, ``"→A"`` for a firm new to the list, ``"B→"``
  when it has no grade this year, None when neither year has one;
* ``grade_direction``: ``up`` / ``down`` / ``same`` (order of ``grading.grades``, best first; T equals only
  T, any other change involving T is ``changed``), ``new`` (no grade last year, one now), ``out`` (a grade
  last year, none now), None otherwise;
* ``change_<indicator>`` = this year's value − last year's, for every indicator the policy scores, and
  ``change_pct_<indicator>`` = 100 × change / |last year's value| (NaN when last year's is 0 or missing).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from parkland.recon import Loaded
from parkland.scoring.grades import grade_firms
from parkland.scoring.policy import Policy, load_policy


def _none(s: pd.Series) -> pd.Series:
    """Object Series with None (not NaN) for missing."""
    a = s.astype(object).to_numpy(copy=True)
    a[pd.isna(a)] = None
    return pd.Series(a, index=s.index, dtype=object)


def year_on_year(current: pd.DataFrame, previous: pd.DataFrame, policy: Policy | str, *,
                 previous_of_previous: pd.DataFrame | None = None, as_of_previous=None) -> Loaded:
    """Grade ``previous`` with ``policy`` and compare it with ``current`` (a frame from ``grade_firms``).

    Returns a frame with the index of ``current`` and the columns of the module docstring; recon holds
    the previous grading's records (source ``previous_firms``); meta["previous"] is last year's graded
    frame and meta["previous_meta"] its grading meta.
    """
    policy = load_policy(policy)
    prev = grade_firms(previous, policy, previous=previous_of_previous, as_of=as_of_previous)
    pf = prev.frame
    inds = policy.indicators
    keep = pf["uscc"].notna() & ~pf["uscc"].duplicated()
    pk = pf[keep].set_index("uscc")
    key = current["uscc"].astype(object) if "uscc" in current.columns else pd.Series(None, index=current.index)
    out = pd.DataFrame(index=current.index)
    out["grade_previous"] = _none(key.map(pk["grade"].astype(object)))
    out["score_previous"] = key.map(pk["score"]).astype(float)
    out["status_previous"] = _none(key.map(pk["status"].astype(object)))
    gp = out["grade_previous"].where(out["grade_previous"].notna(), None)
    gc = current["grade"].astype(object).where(current["grade"].notna(), None)
    has_p = gp.notna().to_numpy()
    has_c = gc.notna().to_numpy()
    text = np.where(has_p, gp.fillna("").astype(str), "") + "→" + np.where(has_c, gc.fillna("").astype(str), "")
    out["grade_change"] = pd.Series(np.where(has_p | has_c, text, None), index=current.index, dtype=object)
    order = {g: i for i, g in enumerate(policy.grading.grades)}
    op = gp.map(order).to_numpy(dtype=float)
    oc = gc.map(order).to_numpy(dtype=float)
    both = has_p & has_c
    comparable = both & np.isfinite(op) & np.isfinite(oc)
    equal = both & (gp.fillna("").to_numpy() == gc.fillna("").to_numpy())
    direction = np.select(
        [equal, comparable & (oc < op), comparable & (oc > op), both, has_c, has_p],
        ["same", "up", "down", "changed", "new", "out"], default=None)
    direction = np.where(has_p | has_c, direction, None)
    out["grade_direction"] = pd.Series(direction, index=current.index, dtype=object)
    for k in inds:
        cur = pd.to_numeric(current[k], errors="coerce") if k in current.columns else pd.Series(np.nan, index=current.index)
        before = key.map(pk[k]).astype(float) if k in pk.columns else pd.Series(np.nan, index=current.index)
        ch = cur.astype(float) - before
        out[f"change_{k}"] = ch
        den = before.abs()
        out[f"change_pct_{k}"] = (100.0 * ch / den.where(den > 0)).astype(float)
    rec = prev.recon.copy()
    rec["source"] = "previous_firms"
    meta = {"previous": pf, "previous_meta": prev.meta,
            "matched": int((key.notna() & key.isin(pk.index)).sum())}
    return Loaded(out, rec, meta)
