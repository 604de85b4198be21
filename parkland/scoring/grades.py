"""Grading: who is graded (scope, exemptions, tenants, tracks), scores, ranks, grades A–D / T, vetoes,
and the parcel, park and county tables built from the grades.

:func:`grade_firms` adds these columns to the firm frame ("After linking + indicators" of frames.md):

* ``track``, ``score``, ``grade``, ``rank`` (within the track and ``grading.group_by``; 1 = best, ties
  share the smallest rank), ``part_<indicator>`` (points of every indicator scored by some track; NaN
  for indicators the firm's track does not score), ``benchmark_<indicator>`` (the ratio method's divisor),
  ``weight_factor`` (reweighting factor f), ``bonus``, ``penalty``, ``veto`` (the veto's name);
  score = Σ parts + bonus − penalty, exactly (summed in the order of ``policy.indicators``);
* ``status`` (``graded`` / ``exempt`` / ``not_graded``; ``no_land``, ``parcel_not_found`` and rows
  already ``not_graded`` for another reason than ``pending``, e.g. duplicates, are left as they are)
  and ``status_reason``;
* ``consequence_<name>`` per policy consequence, and for graded firms below the best grade
  ``next_grade``, ``gap_score``, ``gap_tax_per_mu``, ``gap_revenue_per_mu`` (see :mod:`.explain`).

Who is graded, in this order of precedence:
1. an exemption decided in an objection review (column ``override_exempt``, see :mod:`.overrides`) →
   ``exempt``;
2. scope: scale not in ``scope.scales`` (a firm without scale follows ``scope.unknown_scale``), outside
   parks under ``in_park_only``, land below ``min_land_mu`` → ``not_graded``;
3. exemptions (industry-code prefix, established less than ``max_age_years`` before the as-of date — by
   default 31 December of the firm's ``year``, else of the policy's year — or the explicit column) →
   ``exempt``, grade ``T``;
4. tenants (``is_tenant``) under ``merge`` / ``inherit`` whose landholder (``landholder_uscc``) is scored
   or exempt in the same frame: merged (``not_graded``, "merged into landholder …") or inheriting (after
   grading, the landholder's grade, status and track); a tenant whose landholder is not in the frame is
   graded on its own (listed);
5. the first track whose ``match`` holds; none → ``not_graded`` "no track"; a firm with every indicator of
   its track missing → ``not_graded`` "no figures".

Grades: vetoed firms get the veto's grade and take no place in the shares; the others are graded by
rank shares or score cut-offs (:func:`assign_grades`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from parkland import recon
from parkland.frames import object_series, objects, positions, take
from parkland.recon import Loaded
from parkland.schema import INDICATORS, SUMMABLE
from parkland.scoring.methods import TrackScore, score_track
from parkland.scoring.policy import SCALES, Condition, Grading, Policy, load_policy

GAP_INDICATORS = ("tax_per_mu", "revenue_per_mu")
PER_MU = ("tax_per_mu", "revenue_per_mu", "output_per_mu", "value_added_per_mu")


# ----------------------------------------------------------------------------------------------------
def match_condition(firms: pd.DataFrame, cond: Condition) -> tuple[pd.Series, bool]:
    """Rows where ``cond`` holds (cell text in values, or min ≤ number ≤ max) and whether the column exists.

    Text is stripped and case-folded; booleans read as "true"/"false"; numbers compare numerically
    with the values that parse as numbers.
    """
    if cond.column not in firms.columns:
        return pd.Series(False, index=firms.index), False
    s = firms[cond.column]
    mask = pd.Series(False, index=firms.index)
    if cond.values is not None:
        vals = {str(v).strip().casefold() for v in cond.values}
        if pd.api.types.is_bool_dtype(s):
            b = s.fillna(False).astype(bool)
            mask |= (b & ("true" in vals)) | (~b & ("false" in vals))
        elif pd.api.types.is_numeric_dtype(s):
            nums = pd.to_numeric(pd.Series(sorted(vals), dtype=object), errors="coerce").dropna()
            mask |= s.isin(nums.tolist())
        else:
            t = s.astype("str").str.strip().str.casefold().str.replace(r"\.0+$", "", regex=True)
            mask |= t.isin(vals).fillna(False) & s.notna()
    if cond.min is not None or cond.max is not None:
        num = pd.to_numeric(s, errors="coerce")
        m = num.notna()
        if cond.min is not None:
            m &= num >= cond.min
        if cond.max is not None:
            m &= num <= cond.max
        mask |= m
    return mask.astype(bool), True


def _col(df: pd.DataFrame, name: str, default=None) -> pd.Series:
    if name in df.columns:
        return df[name]
    return pd.Series(default, index=df.index, dtype=object)


def _num(df: pd.DataFrame, name: str) -> pd.Series:
    if name in df.columns:
        return pd.to_numeric(df[name], errors="coerce").astype(float)
    return pd.Series(np.nan, index=df.index)


def _fmt(x: pd.Series) -> pd.Series:
    """Numbers as short text (vectorised): 2.5 → '2.5', 3.0 → '3'."""
    return x.round(4).astype(str).str.replace(r"\.0$", "", regex=True)


def as_of_dates(firms: pd.DataFrame, policy: Policy, as_of=None) -> pd.Series:
    """Evaluation date per firm: ``as_of``, else 31 Dec of the firm's ``year``, else of ``policy.year``."""
    if as_of is not None:
        return pd.Series(pd.Timestamp(as_of), index=firms.index)
    fallback = pd.Timestamp(f"{policy.year}-12-31") if policy.year else pd.NaT
    if "year" in firms.columns:
        y = pd.to_numeric(firms["year"], errors="coerce")
        d = pd.to_datetime(y.astype("Int64").astype("str") + "-12-31", errors="coerce")
        return d.fillna(fallback)
    return pd.Series(fallback, index=firms.index, dtype="datetime64[ns]")


# ----------------------------------------------------------------------------------------------------
def classify(firms: pd.DataFrame, policy: Policy | str, *, as_of=None) -> pd.DataFrame:
    """Who is graded, in which track (no scores yet). Same index as ``firms``; columns:

    ``assessable`` (bool: the row was pending), ``active`` (bool: to be scored in ``track``), ``track``,
    ``status``, ``status_reason``, ``tenant_role`` ("" / "merge" / "inherit"), ``landholder_pos`` (row
    position of the landholder, −1 when none), ``exempt_code`` (why exempt: OVERRIDE / INDUSTRY / AGE /
    COLUMN, "" when not).
    """
    policy = load_policy(policy)
    n = len(firms)
    st_in = _col(firms, "status")
    rs_in = _col(firms, "status_reason")
    status = objects(st_in)  # None for every missing value: == on it is plain element comparison
    reason = objects(rs_in)
    assessable = ((status == None) | (status == "graded") | (status == "exempt")  # noqa: E711
                  | ((status == "not_graded") & ((reason == None) | (reason == "pending"))))  # noqa: E711
    assessable = np.asarray(assessable, dtype=bool)
    exempt_code = np.full(n, "", dtype=object)

    # 1. exemption decided by an objection review
    if "override_exempt" in firms.columns:
        ov = firms["override_exempt"].fillna(False).astype(bool).to_numpy() & assessable
    else:
        ov = np.zeros(n, dtype=bool)
    if ov.any():  # the reason text only on the rows it is for (element-wise)
        ov_reason = "exempt by review: " + _col(firms, "override_exempt_reason", "")[ov].fillna("").astype(str)
        reason[ov] = ov_reason.to_numpy(dtype=object)
    status[ov] = "exempt"
    exempt_code[ov] = "OVERRIDE"
    active = assessable & ~ov

    # 2. scope
    sc = policy.scope
    scale = _col(firms, "scale").astype(object)
    scale = scale.where(scale.isin(SCALES), None if sc.unknown_scale == "not_graded" else sc.unknown_scale)
    in_park = _col(firms, "in_park")
    if "in_park" not in firms.columns:
        in_park = _col(firms, "park").notna()
    in_park = in_park.fillna(False).astype(bool)
    land = _num(firms, "land_mu")
    allowed = "/".join(sc.scales)
    conds = [
        scale.isna().to_numpy(),
        ~scale.isin(sc.scales).to_numpy(),
        (~in_park).to_numpy() if sc.in_park_only else np.zeros(n, bool),
        (~(land >= sc.min_land_mu)).to_numpy() if sc.min_land_mu > 0 else np.zeros(n, bool),
    ]
    out_scope = np.zeros(n, bool)
    for c in conds:
        out_scope |= c
    out_scope &= active
    if out_scope.any():
        which = np.select(conds, [0, 1, 2, 3], default=-1)
        status[out_scope] = "not_graded"
        reason[out_scope & (which == 0)] = "out of scope: scale unknown"
        m1 = out_scope & (which == 1)
        sv = scale.to_numpy(dtype=object)
        for v in pd.unique(sv[m1]):  # over the few distinct scale values, not firms
            reason[m1 & (sv == v)] = f"out of scope: scale {v} (policy grades {allowed} only)"
        reason[out_scope & (which == 2)] = "out of scope: outside parks"
        m3 = out_scope & (which == 3)
        if m3.any():
            reason[m3] = ("out of scope: land " + _fmt(land[m3]).fillna("unknown")
                          + f" mu under {sc.min_land_mu:g} mu").to_numpy(dtype=object)
    active &= ~out_scope

    # 3. exemptions (class T)
    ex = policy.exempt
    e_conds, e_texts, e_codes = [], [], []
    if ex.industry_codes:
        code = _col(firms, "industry_code").astype(object)
        code = code.where(code.notna(), "").astype("str").str.strip()
        hit = code.str.startswith(tuple(ex.industry_codes)).to_numpy(dtype=bool) & active
        e_conds.append(hit)
        e_texts.append(lambda m, code=code: ("exempt: industry code " + code[m]).to_numpy(dtype=object))
        e_codes.append("INDUSTRY")
    if ex.max_age_years is not None and "established" in firms.columns:
        est = pd.to_datetime(firms["established"], errors="coerce")
        limit = as_of_dates(firms, policy, as_of) - pd.DateOffset(months=round(12 * ex.max_age_years))
        young = (est > limit).fillna(False).to_numpy(dtype=bool) & active
        e_conds.append(young)
        e_texts.append(lambda m, est=est: ("exempt: established " + est[m].dt.strftime("%Y-%m-%d").fillna("")
                                           + f", under {ex.max_age_years:g} years").to_numpy(dtype=object))
        e_codes.append("AGE")
    if ex.condition is not None:
        m, _ = match_condition(firms, ex.condition)
        e_conds.append(m.to_numpy() & active)
        e_texts.append(lambda m: np.full(int(m.sum()), f"exempt: {ex.condition.column}", dtype=object))
        e_codes.append("COLUMN")
    if e_conds:
        any_ex = np.zeros(n, bool)
        for c in e_conds:
            any_ex |= c
        if any_ex.any():
            sub = [c[any_ex] for c in e_conds]
            status[any_ex] = "exempt"
            reason[any_ex] = np.select(sub, [f(any_ex) for f in e_texts], default="")
            exempt_code[any_ex] = np.select(sub, np.array(e_codes, dtype=object), default="")
        active &= ~any_ex

    # 5. tracks (tenants first matched like anyone; own_track keeps them to tenant tracks)
    tenant = _col(firms, "is_tenant", False).fillna(False).astype(bool).to_numpy()
    t_conds = []
    for t in policy.tracks:
        c = active.copy()
        if t.match_scale is not None:
            c &= scale.isin(t.match_scale).to_numpy()
        if t.match_min_land_mu is not None:
            c &= (land >= t.match_min_land_mu).to_numpy()
        if t.match_max_land_mu is not None:
            c &= (land < t.match_max_land_mu).to_numpy()
        if t.match_tenant is True:
            c &= tenant
        elif t.match_tenant is False or policy.tenants == "own_track":
            c &= ~tenant
        t_conds.append(c)
    track = np.select(t_conds, np.array([t.name for t in policy.tracks], dtype=object), default=None)
    track = np.where(active, track, None)

    # 4. tenants merged into / inheriting from their landholder
    role = np.full(n, "", dtype=object)
    lpos = np.full(n, -1, dtype=np.int64)
    if policy.tenants in ("merge", "inherit") and "landholder_uscc" in firms.columns:
        uscc = _col(firms, "uscc").astype(object)
        holders = pd.Series(np.arange(n), index=uscc.to_numpy())
        ok_holder = (assessable & ~tenant & uscc.notna().to_numpy())
        holders = holders[ok_holder]
        holders = holders[~holders.index.duplicated()]
        lp = firms["landholder_uscc"].astype(object).map(holders)
        lp = lp.fillna(-1).astype(np.int64).to_numpy()
        lp_ok = lp >= 0
        target_ok = np.zeros(n, bool)
        if policy.tenants == "merge":
            target_ok[lp_ok] = active[lp[lp_ok]] & (track[lp[lp_ok]] != None)  # noqa: E711
        else:
            target_ok[lp_ok] = ((active[lp[lp_ok]] & (track[lp[lp_ok]] != None))  # noqa: E711
                                | (status[lp[lp_ok]] == "exempt"))
        sel = active & tenant & lp_ok & target_ok
        role[sel] = policy.tenants
        lpos[sel] = lp[sel]
        lh = firms["landholder_uscc"].astype(object).fillna("").astype(str).to_numpy(dtype=object)
        if policy.tenants == "merge":
            status[sel] = "not_graded"
            reason[sel] = "merged into landholder " + lh[sel]
        active &= ~sel
        track = np.where(sel & (policy.tenants == "merge"), None, track)
        if policy.tenants == "inherit":
            track = np.where(sel, None, track)

    no_track = active & (track == None)  # noqa: E711
    status[no_track] = "not_graded"
    reason[no_track] = "no track of the policy matches this firm"
    active &= ~no_track
    status[active] = "graded"
    reason[active] = ""
    return pd.DataFrame({"assessable": assessable, "active": active,
                         "track": pd.Series(track, index=firms.index, dtype=object),
                         "status": pd.Series(status, index=firms.index, dtype=object),
                         "status_reason": pd.Series(reason, index=firms.index, dtype=object),
                         "tenant_role": pd.Series(role, index=firms.index, dtype=object),
                         "landholder_pos": lpos,
                         "exempt_code": pd.Series(exempt_code, index=firms.index, dtype=object)},
                        index=firms.index)


# ----------------------------------------------------------------------------------------------------
def assign_grades(score: np.ndarray, gid: np.ndarray, grading: Grading) -> np.ndarray:
    """Grade index (0 = best) of each firm from its score, within groups ``gid``; vectorised.

    ``shares``: in each group of n firms sorted by score (best first), grade g takes count_g =
    round_g(share_g × n) places (floor/ceil/round per grade; counts are clipped in grade order so they
    never exceed n) and the grade left out takes the rest; places run from the best grade down. A
    tie across the line between grades g and h goes, by ``grading.ties["g/h"]``, to the lower grade h
    (default: so "at most" caps hold) or the upper grade g (then the lower grade is smaller).
    Example, Sichuan (A ⌊0.30 n⌋, C ⌈0.10 n⌉, D ⌊0.05 n⌋): n = 7 → 2/4/1/0, n = 21 → 6/11/3/1.

    ``cutoffs``: grade = the best grade whose least score the firm reaches; then ``max_share`` caps
    (best grade first) move the lowest firms of a grade down one grade, ties at the cut moving too, and
    ``min_share`` floors move the lowest firms of the better grades down into a grade (ties too).
    """
    m = len(score)
    out = np.full(m, -1, dtype=np.int64)
    if m == 0:
        return out
    grades = grading.grades
    K = len(grades)
    order = np.lexsort((-score, gid))
    s = score[order]
    g = gid[order]
    starts = np.r_[True, g[1:] != g[:-1]]
    gstart = np.flatnonzero(starts)
    grp = np.cumsum(starts) - 1
    gcount = np.diff(np.r_[gstart, m])
    G = len(gstart)
    pos = np.arange(m) - gstart[grp]
    newrun = starts | np.r_[True, s[1:] != s[:-1]]
    run = np.cumsum(newrun) - 1
    rstart = np.flatnonzero(newrun)
    rend = np.r_[rstart[1:], m] - 1
    first = rstart[run] - gstart[grp]
    last = rend[run] - gstart[grp]

    if grading.method == "shares":
        counts = np.zeros((G, K), dtype=np.int64)
        used = np.zeros(G, dtype=np.int64)
        for k, gr in enumerate(grades):
            if gr == grading.rest:
                continue
            c = np.minimum(grading.shares[gr].count(gcount), gcount - used)
            counts[:, k] = c
            used += c
        counts[:, grades.index(grading.rest)] = gcount - used
        cum = np.cumsum(counts, axis=1)
        gi = np.zeros(m, dtype=np.int64)
        for k in range(K - 1):
            gi += pos >= cum[grp, k]
        for k in range(K - 1):
            b = cum[grp, k]
            straddle = (first < b) & (last >= b)
            if grading.tie_side(grades[k], grades[k + 1]) == "lower":
                gi[straddle & (gi <= k)] = k + 1
            else:
                gi[straddle & (gi > k)] = k
    else:
        gi = np.zeros(m, dtype=np.int64)
        for gr in grades[:-1]:
            gi += s < grading.cutoffs[gr]

        def per_group(mask: np.ndarray) -> np.ndarray:
            return np.bincount(grp, weights=mask.astype(float), minlength=G).astype(np.int64)[grp]

        for k, gr in enumerate(grades[:-1]):
            if gr in grading.max_share:
                cap = grading.max_share[gr].count(gcount)[grp]
                start = per_group(gi < k)
                gi[(gi == k) & (last - start >= cap)] = k + 1
        for k, gr in enumerate(grades):
            if gr in grading.min_share and k > 0:
                need = grading.min_share[gr].count(gcount)[grp]
                deficit = need - per_group(gi == k)
                start = per_group(gi < k)
                gi[(gi < k) & (deficit > 0) & (last >= start - deficit)] = k
    out[order] = gi
    return out


# ----------------------------------------------------------------------------------------------------
def _merged_values(firms: pd.DataFrame, cls: pd.DataFrame, indicators: list[str]) -> pd.DataFrame:
    """Indicator values to score; landholders under ``merge`` get their tenants' figures and land added
    and their indicators recomputed (numerator / denominator, NaN when the denominator is 0)."""
    vals = pd.DataFrame({k: _num(firms, k) for k in indicators}, index=firms.index)
    sel = cls["tenant_role"].to_numpy() == "merge"
    if not sel.any():
        return vals
    lp = cls["landholder_pos"].to_numpy()[sel]
    cols = [c for c in [*SUMMABLE, "land_mu"] if c in firms.columns]
    fig = pd.DataFrame({c: _num(firms, c) for c in cols}, index=firms.index)
    add = fig.iloc[np.flatnonzero(sel)].groupby(lp).sum(min_count=1)
    base = fig.iloc[add.index.to_numpy()]
    merged = base.fillna(0.0).to_numpy() + add.fillna(0.0).to_numpy()
    merged = np.where(base.isna().to_numpy() & add.isna().to_numpy(), np.nan, merged)
    mf = pd.DataFrame(merged, columns=cols)
    for k in indicators:
        num, den = INDICATORS[k]
        if num in mf and den in mf:
            with np.errstate(divide="ignore", invalid="ignore"):
                v = mf[num].to_numpy() / mf[den].to_numpy()
            v = np.where(mf[den].to_numpy() == 0, np.nan, v)
            vals.iloc[add.index.to_numpy(), vals.columns.get_loc(k)] = v
    return vals


def _key_text(key: pd.Series) -> np.ndarray:
    """The key column as text ("" when missing), as ``astype(str)`` writes it."""
    k = objects(key)
    k[pd.isna(k)] = ""
    if pd.api.types.infer_dtype(k, skipna=False) in ("string", "empty"):
        return k
    return key.astype(object).where(key.notna(), "").astype(str).to_numpy(dtype=object)


def _records(firms: pd.DataFrame, mask: np.ndarray, code: str, zh, en, *, column=None) -> pd.DataFrame:
    """Reconciliation records (action ``kept``) for the rows in ``mask``, built column-wise in the types
    of :mod:`parkland.recon` (fast for tens of thousands of rows)."""
    if not mask.any():
        return None
    sub = firms.loc[mask, [c for c in ("uscc_raw", "uscc", "source_row", "file_row") if c in firms.columns]]
    key = _col(sub, "uscc_raw") if "uscc_raw" in sub.columns else _col(sub, "uscc")
    m = int(mask.sum())

    def text(x) -> np.ndarray:
        if isinstance(x, np.ndarray):
            x = x[mask] if len(x) == len(mask) else x
        else:
            x = np.full(m, "" if x is None else str(x), dtype=object)
        x = np.asarray(x, dtype=object)
        x[pd.isna(x)] = ""
        return x

    obj = object_series  # object columns as recon has them (no str inference)
    out = pd.DataFrame({
        "source": obj(np.full(m, "firms", dtype=object)),
        "source_row": pd.to_numeric(_col(sub, "source_row"), errors="coerce").astype("Int64").to_numpy(),
        "file_row": pd.to_numeric(_col(sub, "file_row"), errors="coerce").astype("Int64").to_numpy(),
        "key": obj(_key_text(key)),
        "column": obj(text(column)), "problem_code": obj(np.full(m, code, dtype=object)),
        "problem_zh": obj(text(zh)), "problem_en": obj(text(en)), "action": obj(np.full(m, "kept", dtype=object))})
    return out[recon.COLUMNS]


def _file_notes(rows: list[tuple[str, str, str, str | None]]) -> pd.DataFrame:
    """Records (``firms``, no row, action ``kept``) from (code, zh, en, column) tuples, in one frame of the
    types :func:`recon.record` gives each (what :func:`_concat` of the one-row frames would give)."""
    k = len(rows)
    obj = object_series
    na = pd.array([None] * k, dtype="Int64")
    return pd.DataFrame({
        "source": obj(["firms"] * k), "source_row": na, "file_row": na.copy(), "key": obj([""] * k),
        "column": obj(["" if r[3] is None else r[3] for r in rows]), "problem_code": obj([r[0] for r in rows]),
        "problem_zh": obj([r[1] for r in rows]), "problem_en": obj([r[2] for r in rows]),
        "action": obj(["kept"] * k)})[recon.COLUMNS]


def _note_text(tid: np.ndarray, bits: np.ndarray, policy: Policy) -> np.ndarray:
    """The indicators noted for each row ("a;b", in its track's order) from the track index and the bits
    of its track's rules; each distinct (track, bits) written once."""
    if not len(bits):
        return np.empty(0, dtype=object)
    nt = max(len(policy.tracks), 1)
    codes, uniq = pd.factorize(bits.astype(np.int64) * nt + tid)  # tracks have far fewer than 60 rules
    words = []
    for t_i, b in zip(uniq % nt, uniq // nt, strict=True):  # over the distinct (track, bits), not rows
        rules = policy.tracks[t_i].indicators
        words.append(";".join(r.key for j, r in enumerate(rules) if (int(b) >> j) & 1))
    return np.asarray(words, dtype=object)[codes]


def _pair_counts(track: np.ndarray, grade: np.ndarray) -> dict[tuple, int]:
    """How many rows have each (track, grade), both present (as ``DataFrame.value_counts`` counts them)."""
    tc, tu = pd.factorize(track)
    gc, gu = pd.factorize(grade)
    ok = (tc >= 0) & (gc >= 0)
    cnt = np.bincount(tc[ok] * len(gu) + gc[ok], minlength=len(tu) * len(gu))
    return {(tu[i // len(gu)], gu[i % len(gu)]): int(cnt[i]) for i in np.flatnonzero(cnt)}


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate reconciliation frames already in recon's types (like :func:`recon.concat`, faster)."""
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return recon.empty()
    out = pd.concat(frames, ignore_index=True)[recon.COLUMNS]
    for c in ("source_row", "file_row"):
        out[c] = out[c].astype("Int64")
    return out


def grade_firms(firms: pd.DataFrame, policy: Policy | str, *, previous: pd.DataFrame | None = None,
                as_of=None) -> Loaded:
    """Score and grade the firm frame under ``policy``; returns the frame with the grading columns (module
    docstring), reconciliation records (vetoes, exemptions, reweighting, track averages, zero scores,
    merged tenants, unusable benchmarks) and meta (policy, benchmarks, counts).

    ``previous``: last year's firm frame (linked, with indicators), for ``previous_mean`` benchmarks.
    ``as_of``: the evaluation date for the age exemption (default 31 Dec of the firm's ``year``).
    """
    from parkland.scoring import explain

    policy = load_policy(policy)
    df = firms.copy(deep=False)  # copy-on-write: the columns set below leave the caller's frame as it is
    n = len(df)
    inds = policy.indicators
    cls = classify(df, policy, as_of=as_of)
    recs: list[pd.DataFrame] = []
    active = cls["active"].to_numpy()
    track = cls["track"].to_numpy(dtype=object, copy=True)
    status = cls["status"].to_numpy(dtype=object, copy=True)
    reason = cls["status_reason"].to_numpy(dtype=object, copy=True)

    values = _merged_values(df, cls, inds)
    tnames = [t.name for t in policy.tracks]
    tid = positions(track, tnames)  # −1: no track
    parts = np.full((n, len(inds)), np.nan)
    bench = np.full((n, len(inds)), np.nan)
    factor = np.full(n, np.nan)
    no_fig = np.zeros(n, bool)
    scores: dict[str, TrackScore] = {}
    meta_bench: dict[str, dict[str, float]] = {}
    prev_cls = classify(previous, policy) if previous is not None else None
    # the indicators noted per row, as bits (bit j: rule j of the row's track), turned into text per distinct
    # (track, bits) at the end
    notes_zero = np.zeros(n, dtype=np.int64)
    notes_avg = np.zeros(n, dtype=np.int64)
    notes_rew = np.zeros(n, dtype=np.int64)
    track_notes: list[tuple[str, str, str, str | None]] = []  # (code, zh, en, column): one record each
    for t in policy.tracks:
        ti = tnames.index(t.name)
        rows = np.flatnonzero(active & (tid == ti))
        prev_vals = None
        if prev_cls is not None:
            pr = prev_cls["active"].to_numpy() & (prev_cls["track"].to_numpy(dtype=object) == t.name)
            prev_vals = pd.DataFrame({r.key: _num(previous, r.key) for r in t.indicators})[pr]
        elif any(r.benchmark == "previous_mean" for r in t.indicators) and len(rows):
            track_notes.append((
                "BENCHMARK_PREVIOUS_MISSING",
                f"评价类别 {t.name} 的基准值应为上年平均值，但未提供上年企业表，改用本年平均值",
                f"track {t.name}: benchmark is last year's mean but no previous firm table was given; "
                "this year's mean is used", None))
        ts = score_track(values.iloc[rows], t, previous=prev_vals)
        scores[t.name] = ts
        meta_bench[t.name] = {}
        nf = ts.no_figures.to_numpy()
        no_fig[rows] = nf
        factor[rows] = ts.factor.to_numpy()
        for rj, r in enumerate(t.indicators):
            j = inds.index(r.key)
            parts[rows, j] = ts.parts[r.key].to_numpy()
            st = ts.stats[r.key]
            if t.method == "ratio":
                bench[rows, j] = st.bench
                meta_bench[t.name][r.key] = st.bench
            if st.unusable and len(rows):
                track_notes.append((
                    "BENCHMARK_UNUSABLE",
                    f"评价类别 {t.name} 指标 {r.key} 的基准值无法使用（{st.bench}），该指标一律计 0 分",
                    f"track {t.name}: the benchmark of {r.key} is unusable ({st.bench}); it scores 0 for all",
                    r.key))
            miss = ts.missing[r.key].to_numpy() & ~nf
            target = {"zero": notes_zero, "track_average": notes_avg, "reweight": notes_rew}[r.missing]
            target[rows[miss]] |= np.int64(1) << rj
    if track_notes:
        recs.append(_file_notes(track_notes))
    graded = active & ~no_fig
    nf_rows = active & no_fig
    status[nf_rows] = "not_graded"
    reason[nf_rows] = "no figures for track " + track[nf_rows].astype(str)
    recs.append(_records(df, nf_rows, "NO_FIGURES", "评价所需指标全部缺失，不参评",
                         "every indicator of the track is missing: not graded"))
    for notes, code, zh, en in (
        (notes_zero, "MISSING_ZERO", "指标缺失，按 0 分计：", "indicator missing, scored 0: "),
        (notes_avg, "MISSING_TRACK_AVERAGE", "指标缺失，取同类企业该项平均得分：",
         "indicator missing, given the track's average part: "),
        (notes_rew, "REWEIGHTED", "指标缺失，按其余指标权重折算：",
         "indicator missing, the others re-weighted: "),
    ):
        m = graded & (notes != 0)
        txt = _note_text(tid[m], notes[m], policy)
        recs.append(_records(df, m, code, zh + txt, en + txt))

    # bonus and penalty
    bonus = np.zeros(n)
    penalty = np.zeros(n)
    for items, acc in ((policy.bonuses, bonus), (policy.penalties, penalty)):
        for a in items:
            hit, _ = match_condition(df, a.condition)
            hit = hit.to_numpy()
            if a.tracks is not None:
                hit &= np.isin(tid, [tnames.index(x) for x in a.tracks])
            acc += np.where(hit, a.points, 0.0)
    if policy.max_bonus is not None:
        bonus = np.minimum(bonus, policy.max_bonus)
    if policy.max_penalty is not None:
        penalty = np.minimum(penalty, policy.max_penalty)
    score = np.zeros(n)
    for j in range(len(inds)):
        score = score + np.nan_to_num(parts[:, j])
    score = score + bonus - penalty
    score = np.where(graded, score, np.nan)
    bonus = np.where(graded, bonus, np.nan)
    penalty = np.where(graded, penalty, np.nan)
    parts[~graded] = np.nan
    bench[~graded] = np.nan
    factor[~graded] = np.nan

    # vetoes
    grades = policy.grading.grades
    veto = np.full(n, None, dtype=object)
    veto_gi = np.full(n, -1, dtype=np.int64)
    missing_cols = []
    for v in reversed(policy.vetoes):  # the first veto listed wins
        hit, present = match_condition(df, v.condition)
        if not present:
            missing_cols.append(v.condition.column)
        hit = hit.to_numpy() & graded
        veto[hit] = v.name
        veto_gi[hit] = grades.index(v.grade)
        recs_v = _records(df, hit, "VETO", f"一票否决：{v.reason}", f"veto {v.name}: {v.reason}",
                          column=v.condition.column)
        recs.insert(0, recs_v)
    vetoed = veto_gi >= 0

    # groups, grades, ranks
    if policy.grading.group_by:
        gkeys = pd.DataFrame({"track": tid})
        for c in policy.grading.group_by:
            gkeys[c] = _col(df, c).astype(object).to_numpy()
        gid = gkeys.groupby(list(gkeys.columns), dropna=False, sort=True).ngroup().to_numpy()
    else:
        gid = tid.copy()
    gi = np.full(n, -1, dtype=np.int64)
    elig = graded & ~vetoed
    gi[elig] = assign_grades(score[elig], gid[elig], policy.grading)
    gi[vetoed] = veto_gi[vetoed]
    grade = np.full(n, None, dtype=object)
    grade[gi >= 0] = np.array(grades, dtype=object)[gi[gi >= 0]]
    grade[status == "exempt"] = "T"
    rank = pd.Series(score).groupby(gid).rank(method="min", ascending=False)
    rank = rank.where(graded).astype("Int64")

    # tenants that inherit their landholder's grade
    inh = cls["tenant_role"].to_numpy() == "inherit"
    if inh.any():
        lp = cls["landholder_pos"].to_numpy()[inh]
        lh = _col(df, "landholder_uscc").astype(object).fillna("").astype(str).to_numpy(dtype=object)[inh]
        hs = status[lp]
        ok = np.isin(hs, ["graded", "exempt"])
        grade[inh] = np.where(ok, grade[lp], None)
        track[inh] = track[lp]
        status[inh] = np.where(ok, hs, "not_graded")
        reason[inh] = np.where(ok, "inherits grade of landholder " + lh, "landholder " + lh + " not graded")
        gi[inh] = np.where(ok, gi[lp], -1)
        recs.append(_records(df, inh, "TENANT_INHERITS", "租赁企业，沿用土地权利人的评价等级",
                             "tenant: takes its landholder's grade", column="landholder_uscc"))
    mer = cls["tenant_role"].to_numpy() == "merge"
    recs.append(_records(df, mer, "TENANT_MERGED", "租赁企业，数据并入土地权利人评价",
                         "tenant: figures merged into its landholder", column="landholder_uscc"))
    tenant = _col(df, "is_tenant", False).fillna(False).astype(bool).to_numpy()
    fallback = (tenant & cls["assessable"].to_numpy() & (cls["tenant_role"].to_numpy() == "")
                & (policy.tenants in ("merge", "inherit")) & (status != "not_graded"))
    recs.append(_records(df, fallback, "TENANT_LANDHOLDER_MISSING",
                         "租赁企业的土地权利人不在参评企业中，单独评价",
                         "tenant whose landholder is not among the firms assessed: graded on its own",
                         column="landholder_uscc"))
    exm = (status == "exempt") & cls["assessable"].to_numpy()
    rex = reason[exm].astype(str).astype(object)
    recs.insert(0, _records(df, exm, "EXEMPT", "免评（T类）：" + rex, "exempt (T): " + rex))

    # write the columns
    df["track"] = pd.Series(track, index=df.index, dtype=object)
    df["status"] = pd.Series(status, index=df.index, dtype=object)
    df["status_reason"] = pd.Series(reason, index=df.index, dtype=object)
    df["score"] = score
    df["grade"] = pd.Series(grade, index=df.index, dtype=object)
    df["rank"] = rank.to_numpy()
    for j, k in enumerate(inds):
        df[f"part_{k}"] = parts[:, j]
    for j, k in enumerate(inds):
        df[f"benchmark_{k}"] = bench[:, j]
    df["weight_factor"] = factor
    df["bonus"] = bonus
    df["penalty"] = penalty
    df["veto"] = pd.Series(veto, index=df.index, dtype=object)
    cons = explain.consequences(df, policy)
    for c in cons.columns:
        df[c] = cons[c]
    for c in policy.consequences:
        if c.column is not None and c.column not in df.columns:
            recs.append(recon.record("firms", "CONSEQUENCE_COLUMN_MISSING",
                                     f"计算「{c.label}」需要列 {c.column}，企业表中没有",
                                     f"consequence {c.name} needs column {c.column}, not in the firm table",
                                     "kept", column=c.column))
    gaps = explain.gaps(df, policy, scores, values=values, gid=gid, vetoed=vetoed)
    for c in gaps.columns:
        df[c] = gaps[c]

    counts = df["status"].value_counts(dropna=True).to_dict()
    vc = _pair_counts(track, grade)
    gcount = {t: {g: int(vc.get((t, g), 0)) for g in (*grades, "T")} for t in tnames}
    meta = {"policy": policy.name, "policy_sha256": policy.sha256, "benchmarks": meta_bench,
            "status_counts": {str(k): int(v) for k, v in counts.items()}, "grade_counts": gcount,
            "veto_columns_missing": sorted(set(missing_cols))}
    return Loaded(df, _concat(recs), meta)


# ----------------------------------------------------------------------------------------------------
def parcel_grades(parcels: pd.DataFrame, pairs: pd.DataFrame, firms: pd.DataFrame,
                  policy: Policy | str) -> pd.Series:
    """A parcel's grade (index = parcels.index): its landholder's (``holder_firm_row`` → the firm with
    that ``source_row``) when that firm has a grade; else, among the graded or exempt firms linked to
    the parcel (``pairs``), the grade of the firm with the largest ``share`` of it, ties → the lower
    grade (T counts below D); None when no linked firm has a grade."""

    policy = load_policy(policy)
    order = [*policy.grading.grades, "T"]
    # the firms' grades by source_row: the first row of a repeated source_row, when it has a grade
    frow = firms["source_row"].to_numpy()
    fgrade = objects(firms["grade"])
    keep = ~pd.isna(fgrade) & ~pd.Index(frow).duplicated()
    fg_index, fg = pd.Index(frow[keep]), fgrade[keep]

    def grade_of(rows: pd.Series | np.ndarray) -> np.ndarray:
        """What ``rows.map(fg)`` gives: the grade of the firm of each row, None when none."""
        at = fg_index.get_indexer(rows)
        return take(fg, at, None)

    out = np.full(len(parcels), None, dtype=object)
    if len(pairs):
        pgrade = grade_of(pairs["firm_row"])
        has = ~pd.isna(pgrade)
        prow = pairs["parcel_row"].to_numpy()[has]
        share = pd.to_numeric(pairs["share"], errors="coerce").fillna(0).to_numpy()[has]
        pgrade = pgrade[has]
        gorder = positions(pgrade, order).astype(float)
        gorder[gorder < 0] = np.nan
        # parcel_row ascending, share descending, grade order descending (missing last), stable: the first
        # pair of each parcel is its best
        o = np.lexsort((np.where(np.isnan(gorder), np.inf, -gorder), -share, prow))
        prow_o = prow[o]
        first = ~pd.Index(prow_o).duplicated()
        best = pd.Index(prow_o[first])
        at = best.get_indexer(parcels["source_row"])
        out = take(pgrade[o][first], at, None)
    if "holder_firm_row" in parcels.columns:
        hg = grade_of(parcels["holder_firm_row"])
        out = np.where(~pd.isna(hg), hg, out)
    return pd.Series(out, index=parcels.index, dtype=object)


def _text_codes(s: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes of a key column (−1: missing) and its distinct values as an object index, in order of
    first appearance (``pd.factorize`` of the column as objects: Arrow text is factorised as it is)."""
    codes, uniq = pd.factorize(s if isinstance(s.dtype, pd.StringDtype) else s.astype(object))
    return codes, pd.Index(np.asarray(uniq, dtype=object), dtype=object)


def _area_table(firms: pd.DataFrame, parcels: pd.DataFrame | None, key: str) -> pd.DataFrame:
    used = [c for c in dict.fromkeys([key, "land_mu", "status", "grade", *(INDICATORS[i][0] for i in PER_MU)])
            if c in firms.columns]
    firms = firms[used]  # only the columns the table needs, before the rows are taken
    if parcels is not None:
        parcels = parcels[[c for c in (key, "area_mu") if c in parcels.columns]]
    f = firms[firms[key].notna()] if key in firms.columns else firms.iloc[:0]
    land = _num(f, "land_mu")
    has_land = (land > 0).to_numpy()
    # the area of each firm as an integer code, factorised once: every sum and count below groups by it
    codes, keys = _text_codes(_col(f, key))

    def count(mask: np.ndarray) -> pd.Series:
        return pd.Series(np.bincount(codes[mask], minlength=len(keys)), index=keys)

    # Σ per area, pandas' own (compensated) group sums, all columns in one pass; every area is a group
    sums: dict[str, np.ndarray] = {"firm_land_mu": land.where(has_land).to_numpy()}
    for ind in PER_MU:
        x = _num(f, INDICATORS[ind][0])
        ok = has_land & x.notna().to_numpy()
        sums[f"n_{ind}"] = x.where(ok).to_numpy()
        sums[f"d_{ind}"] = land.where(ok).to_numpy()
    r = pd.DataFrame(sums, copy=False).groupby(codes).sum()
    r.index = keys[r.index.to_numpy()]

    out = pd.DataFrame(index=pd.Index(sorted(keys.tolist()), name=key))
    out["firm_count"] = count(np.ones(len(codes), bool))
    out["graded_count"] = count(objects(_col(f, "status")) == "graded")
    out["firm_land_mu"] = r["firm_land_mu"]
    if parcels is not None and key in parcels.columns:
        pa = parcels[parcels[key].notna()]
        pcodes, pkeys = _text_codes(pa[key])
        pr = pd.Series(_num(pa, "area_mu").to_numpy(), copy=False).groupby(pcodes).sum()
        pl = pd.Series(pr.to_numpy(), index=pkeys[pr.index.to_numpy()]).sort_index()  # as groupby orders it
        out = out.reindex(out.index.union(pl.index))
        out.index.name = key
        out["parcel_count"] = pd.Series(np.bincount(pcodes, minlength=len(pkeys)), index=pkeys)
        out["land_mu"] = pl
    else:
        out["parcel_count"] = np.nan
        out["land_mu"] = out["firm_land_mu"]
    for ind in PER_MU:
        s_num, s_den = r[f"n_{ind}"], r[f"d_{ind}"]
        out[ind] = (s_num / s_den.where(s_den > 0)).reindex(out.index)
    gcodes, gnames = _text_codes(_col(f, "grade"))
    for gname in ("A", "B", "C", "D", "T"):
        at = gnames.get_indexer([gname])[0]
        out[f"grade_{gname}"] = count(gcodes == at if at >= 0 else np.zeros(len(codes), bool)).reindex(out.index)
    cnt = ["firm_count", "graded_count", "parcel_count", *[f"grade_{x}" for x in "ABCDT"]]
    for c in cnt:
        out[c] = out[c].fillna(0).astype("int64")
    out["rank"] = out["tax_per_mu"].rank(method="min", ascending=False).astype("Int64")
    return out.reset_index()


def park_table(firms: pd.DataFrame, parcels: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per park: ``firm_count``, ``graded_count``, ``parcel_count``, ``land_mu`` (Σ parcel area_mu;
    Σ firm land_mu when no parcels are given), firm_land_mu, 亩均税收/营收/产值/增加值 as Σ figure / Σ land_mu over the firms
    with land and that figure, grade counts (grade_A … grade_T), and ``rank`` of the parks by tax per mu
    (1 = best, ties share the smallest rank)."""
    return _area_table(firms, parcels, "park")


def county_table(firms: pd.DataFrame, parcels: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`park_table` by ``county``."""
    return _area_table(firms, parcels, "county")
