"""Firm cards (企业亩均效益评价告知单): what a firm receives when it asks "why am I C?".

One page per graded firm, all in one self-contained HTML file ``cards.html`` (printable to A4: CSS
``@page { size: A4 }`` and a page break after each card), ordered by park, then firm name, with a
table of contents per park that is hidden in print. One file keeps the export simple to send and to
print in one go; a park office prints the pages of its park from the contents.

Each card shows the firm (name, credit code, park, track, land and parcel codes), its parcels as a small
inline SVG outline with a scale bar (drawn from the output folder's parcels, no network), the grade,
score and rank, each scored indicator against its benchmark::

    ratio = value / benchmark            part = the points the policy gave (firms.csv part_<indicator>)

with the policy's weight when the policy is known, bonus/penalty/veto, the consequences of the grade
(``consequence_<name>``), and the gap to the next grade (``next_grade``, ``gap_score``,
``gap_tax_per_mu``, ``gap_revenue_per_mu``). Every text from the inputs is HTML-escaped.

Inputs come from the output folder alone: firms.csv (``benchmark_<indicator>`` and ``part_<indicator>``
columns), parcels.gpkg, summary.json, and the policy: ``policy.toml`` in the folder when present, else
the preset named in summary.json when its hash matches (weights and consequence labels are left out
otherwise).
"""

from __future__ import annotations

import contextlib
import html
import json
import math
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ..schema import INDICATORS
from .export import FORMULA_START, write_text
from .labels import GRADE_COLORS, label
from .summary import run_timestamp

#: firms.csv columns read as text (codes keep their leading zeros)
TEXT_COLUMNS = ["uscc", "name", "parcel_ids", "land_source", "status", "status_reason", "track", "grade", "park",
                "county", "landholder_uscc", "main_parcel_id", "link_method", "scale", "industry_code",
                "established", "veto", "next_grade", "grade_previous", "status_previous", "grade_change",
                "grade_direction"]
_PERCENT_INDICATORS = {"rd_intensity"}


def _unneutralise(s: pd.Series) -> pd.Series:
    """Undo the CSV formula guard for display: "'=x" → "=x" (only before = + - @ TAB CR)."""
    obj = s.astype(object)
    return obj.map(lambda v: v[1:] if isinstance(v, str) and len(v) > 1 and v[0] == "'"
                   and v[1:].startswith(FORMULA_START) else v)


def read_firms(out_dir: str | os.PathLike) -> pd.DataFrame:
    """firms.csv of an output folder: codes as text, empty cells as missing, the formula guard undone."""
    path = Path(out_dir) / "firms.csv"
    head = pd.read_csv(path, encoding="utf-8-sig", nrows=0).columns
    text = {c: str for c in head if c in TEXT_COLUMNS or not c.isascii()}
    df = pd.read_csv(path, encoding="utf-8-sig", dtype=text, keep_default_na=False, na_values=[""])
    for c in text:
        df[c] = _unneutralise(df[c])
    for c in ("uscc_valid", "in_park", "is_tenant"):
        if c in df and df[c].dtype == object:
            df[c] = df[c].map({"True": True, "False": False})
    return df


def read_summary(out_dir: str | os.PathLike) -> dict[str, Any]:
    p = Path(out_dir) / "summary.json"
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}


def load_folder_policy(out_dir: str | os.PathLike, summary: dict[str, Any] | None = None) -> Any:
    """The policy of a run: ``policy.toml`` in the folder, else the preset named in summary.json when its
    sha256 matches; None when neither is available."""
    from ..scoring.policy import load_policy, presets

    out_dir = Path(out_dir)
    if (out_dir / "policy.toml").exists():
        try:
            return load_policy(out_dir / "policy.toml")
        except Exception:  # a broken copy only costs the weights on the cards
            return None
    pol = (summary or read_summary(out_dir)).get("policy") or {}
    name = pol.get("name")
    if name in presets():
        p = load_policy(name)
        if not pol.get("sha256") or p.sha256 == pol.get("sha256"):
            return p
    return None


# ---------------------------------------------------------------------------------------------------
def fmt(x: Any, nd: int = 2, pct: bool = False) -> str:
    """A number for a card: thousands separators, ``nd`` decimals, percentages ×100 with %; "—" when
    missing."""
    try:
        v = float(x)
    except (TypeError, ValueError):
        return "—"
    if not math.isfinite(v):
        return "—"
    return f"{v * 100:,.{nd}f}%" if pct else f"{v:,.{nd}f}"


def _e(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return "—"
    return html.escape(str(v))


def _nice(x: float) -> float:
    """The largest 1/2/5 × 10^k not above x."""
    if x <= 0:
        return 0.0
    k = math.floor(math.log10(x))
    for m in (5, 2, 1):
        if m * 10 ** k <= x:
            return m * 10 ** k
    return 10 ** k


def svg_outline(geoms: list, color: str, *, size: int = 200, lang: str = "zh") -> str:
    """A small inline SVG of polygons (projected coordinates, metres), north up, with a scale bar."""
    geoms = [g for g in geoms if g is not None and not g.is_empty]
    if not geoms:
        return f'<div class="nogeom">{html.escape(label("card_no_geometry", lang))}</div>'
    coll = shapely.GeometryCollection(geoms)
    x0, y0, x1, y1 = coll.bounds
    span = max(x1 - x0, y1 - y0, 1.0)
    pad = 0.08 * span
    s = (size - 2) / (span + 2 * pad)
    h_map = (y1 - y0 + 2 * pad) * s

    def path(poly) -> str:
        parts = []
        for ring in [poly.exterior, *poly.interiors]:
            xy = np.asarray(ring.coords)[:, :2]
            px = (xy[:, 0] - x0 + pad) * s + 1
            py = (y1 + pad - xy[:, 1]) * s + 1
            parts.append("M" + "L".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py)) + "Z")
        return "".join(parts)

    polys = [p for g in geoms for p in (g.geoms if hasattr(g, "geoms") else [g]) if p.geom_type == "Polygon"]
    d = "".join(path(p) for p in polys)
    bar_m = _nice(span / 3)
    bar_px = bar_m * s
    unit = f"{bar_m / 1000:g} km" if bar_m >= 1000 else f"{bar_m:g} m"
    h = h_map + 22
    return (f'<svg class="outline" xmlns="http://www.w3.org/2000/svg" width="{size}" height="{h:.0f}" '
            f'viewBox="0 0 {size} {h:.0f}" role="img">'
            f'<path d="{d}" fill="{color}" fill-opacity="0.75" fill-rule="evenodd" stroke="#333" '
            f'stroke-width="1"/>'
            f'<line x1="4" y1="{h - 8:.1f}" x2="{4 + bar_px:.1f}" y2="{h - 8:.1f}" stroke="#000" stroke-width="2"/>'
            f'<text x="{8 + bar_px:.1f}" y="{h - 4:.1f}" font-size="10">{unit}</text>'
            f'<text x="{size - 12}" y="12" font-size="11" font-weight="bold">N</text>'
            f'<path d="M{size - 8},16 l-4,10 l4,-3 l4,3 z" fill="#000"/></svg>')


CSS = """
@page { size: A4; margin: 14mm 14mm 16mm 14mm; }
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; color: #222;
       font-size: 10.5pt; margin: 0; }
.card { page-break-after: always; break-after: page; padding: 4mm 0; }
.card h1 { font-size: 15pt; margin: 0 0 2mm 0; text-align: center; }
.card .sub { text-align: center; color: #555; margin-bottom: 4mm; }
.top { display: flex; gap: 6mm; align-items: flex-start; }
.top .info { flex: 1; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 3mm 0; }
th, td { border: 1px solid #999; padding: 1.2mm 2mm; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #eef3f8; }
.grade { display: inline-block; min-width: 16mm; padding: 2mm 3mm; color: #fff; font-size: 18pt;
         font-weight: bold; text-align: center; border-radius: 2mm; }
h2 { font-size: 11.5pt; margin: 3mm 0 1mm 0; border-left: 3px solid #4a78a8; padding-left: 2mm; }
.foot { color: #666; font-size: 8.5pt; margin-top: 4mm; }
.toc { padding: 6mm; } .toc li { margin: 0.5mm 0; }
.nogeom { width: 200px; color: #777; border: 1px dashed #aaa; padding: 10px; }
@media print { .toc { display: none; } }
"""


def _weights(policy: Any) -> dict[tuple[str, str], float]:
    if policy is None:
        return {}
    return {(t.name, r.key): r.weight for t in policy.tracks for r in t.indicators}


def _consequence_labels(policy: Any, cols: list[str], lang: str) -> dict[str, str]:
    out = {c: label(c, lang) for c in cols}
    if policy is not None and lang != "en":
        for c in policy.consequences:
            key = f"consequence_{c.name}"
            if key in out and c.label:
                out[key] = c.label
    return out


def card_html(f: pd.Series, parcels: gpd.GeoDataFrame | None, *, policy: Any = None, track_n: int | None = None,
              year: Any = None, lang: str = "zh", weights: dict | None = None,
              cons_labels: dict[str, str] | None = None) -> str:
    """The HTML of one firm's card (a ``<section class="card">``)."""
    zh = lang != "en"
    grade = f.get("grade")
    grade = grade if isinstance(grade, str) else ""
    color = GRADE_COLORS.get(grade, "#777777")
    track = f.get("track") if isinstance(f.get("track"), str) else ""
    track_label = label(f"track_{track}", lang) if track else "—"
    if policy is not None and track:
        with contextlib.suppress(KeyError):
            track_label = policy.track(track).label or track_label
    ids = [p for p in str(f.get("parcel_ids") or "").split(";") if p and p != "nan"]
    geoms = []
    if parcels is not None and ids:
        geoms = list(parcels.geometry[parcels["parcel_id"].isin(ids)])
    svg = svg_outline(geoms, color, lang=lang)

    rows = []
    weights = weights or {}
    for ind in INDICATORS:
        part = f.get(f"part_{ind}")
        if part is None or not np.isfinite(pd.to_numeric(part, errors="coerce")):
            continue
        pct = ind in _PERCENT_INDICATORS
        val, bench = f.get(ind), f.get(f"benchmark_{ind}")
        try:
            ratio = float(val) / float(bench)
        except (TypeError, ValueError, ZeroDivisionError):
            ratio = float("nan")
        w = weights.get((track, ind))
        rows.append(f"<tr><td>{_e(label(ind, lang))}</td><td class='n'>{fmt(val, 2, pct)}</td>"
                    f"<td class='n'>{fmt(bench, 2, pct)}</td><td class='n'>{fmt(ratio, 2)}</td>"
                    f"<td class='n'>{fmt(w, 0) if w is not None else '—'}</td>"
                    f"<td class='n'>{fmt(part, 2)}</td></tr>")
    hdr = [label("card_indicators", lang), label("value", lang), label("benchmark", lang),
           label("ratio_to_benchmark", lang), label("weight", lang), label("part", lang)]
    adj = []
    for c in ("bonus", "penalty"):
        v = pd.to_numeric(f.get(c), errors="coerce")
        if v is not None and np.isfinite(v) and v != 0:
            adj.append(f"<tr><td>{_e(label(c, lang))}</td><td class='n' colspan='5'>{fmt(v, 2)}</td></tr>")
    wf = pd.to_numeric(f.get("weight_factor"), errors="coerce")
    if wf is not None and np.isfinite(wf) and abs(wf - 1) > 1e-12:
        adj.append(f"<tr><td>{_e(label('weight_factor', lang))}</td><td class='n' colspan='5'>{fmt(wf, 4)}</td></tr>")
    veto = f.get("veto")
    if isinstance(veto, str) and veto:
        reason = veto
        if policy is not None:
            reason = next((v.reason for v in policy.vetoes if v.name == veto), veto)
        adj.append(f"<tr><td>{_e(label('veto', lang))}</td><td colspan='5'>{_e(reason)}</td></tr>")
    total = (f"<tr><th>{_e(label('score', lang))}</th><td class='n' colspan='5'><b>{fmt(f.get('score'), 2)}"
             f"</b></td></tr>")
    ind_table = ("<table><tr>" + "".join(f"<th>{_e(h)}</th>" for h in hdr) + "</tr>" + "".join(rows)
                 + "".join(adj) + total + "</table>")

    cons_labels = cons_labels or {}
    cons = [f"<tr><td>{_e(lbl)}</td><td class='n'>{fmt(f.get(c), 2)}</td></tr>" for c, lbl in cons_labels.items()]
    cons_table = "<table>" + "".join(cons) + "</table>" if cons else "<p>—</p>"

    nxt = f.get("next_grade")
    if isinstance(nxt, str) and nxt:
        gap_rows = [(label("next_grade", lang), _e(label(nxt, lang))),
                    (label("gap_score", lang), fmt(f.get("gap_score"), 2)),
                    (label("gap_tax_per_mu", lang), fmt(f.get("gap_tax_per_mu"), 2)),
                    (label("gap_revenue_per_mu", lang), fmt(f.get("gap_revenue_per_mu"), 2))]
        gap = "<table>" + "".join(f"<tr><td>{_e(k)}</td><td class='n'>{v}</td></tr>" for k, v in gap_rows) + "</table>"
    elif grade and grade == (policy.grading.grades[0] if policy is not None else "A"):
        gap = f"<p>{_e(label('card_top_grade', lang))}</p>"
    else:
        gap = "<p>—</p>"

    prev = f.get("grade_previous")
    prev_row = (f"<tr><th>{_e(label('grade_previous', lang))}</th><td>{_e(prev)}</td></tr>"
                if isinstance(prev, str) and prev else "")
    rank = pd.to_numeric(f.get("rank"), errors="coerce")
    rank_txt = (f"{int(rank)}" + (f" / {track_n}" if track_n else "")) if rank is not None and np.isfinite(rank) else "—"
    info = [
        (label("name", lang), _e(f.get("name"))), (label("uscc", lang), _e(f.get("uscc"))),
        (label("park", lang), _e(f.get("park"))), (label("track", lang), _e(track_label)),
        (label("land_mu", lang), fmt(f.get("land_mu"), 2)),
        (label("parcel_ids", lang), _e("；".join(ids) if ids else None)),
        (label("rank", lang), rank_txt),
    ]
    info_table = "<table>" + "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in info) + prev_row + "</table>"
    title = label("card_title", lang)
    sub = (f"{_e(year)}年度 · {_e(policy.title if policy is not None else '')}" if zh
           else f"{_e(year)} · {_e(policy.title if policy is not None else '')}")
    anchor = f"firm-{int(f.get('source_row'))}" if np.isfinite(pd.to_numeric(f.get("source_row"),
                                                                             errors="coerce")) else ""
    return (f'<section class="card" id="{anchor}"><h1>{_e(title)}</h1><div class="sub">{sub}</div>'
            f'<div class="top"><div class="info">{info_table}</div><div>'
            f'<div class="grade" style="background:{color}">{_e(grade or "—")}</div>'
            f'<div>{_e(label(grade, lang) if grade else "")}</div>{svg}</div></div>'
            f"<h2>{_e(label('card_indicators', lang))}</h2>{ind_table}"
            f"<h2>{_e(label('card_consequences', lang))}</h2>{cons_table}"
            f"<h2>{_e(label('card_gap', lang))}</h2>{gap}"
            f'<div class="foot">{_e(label("source_row", lang))} {_e(f.get("source_row"))} · '
            f"parkland · {_e(run_timestamp())}</div></section>")


def render_cards(firms: pd.DataFrame, parcels: gpd.GeoDataFrame | None, *, policy: Any = None,
                 year: Any = None, lang: str = "zh") -> str:
    """The whole cards document: contents by park, then one card per graded firm (park, then name)."""
    g = firms[firms["status"].astype(object) == "graded"].copy()
    g = g.sort_values(["park", "name", "source_row"], kind="stable", na_position="last")
    track_n = g["track"].astype(object).value_counts().to_dict() if "track" in g else {}
    weights = _weights(policy)
    cons_labels = _consequence_labels(policy, [c for c in g.columns if c.startswith("consequence_")], lang)
    cards = [card_html(row, parcels, policy=policy, year=year, lang=lang, weights=weights,
                       cons_labels=cons_labels, track_n=track_n.get(row.get("track")))
             for _, row in g.iterrows()]
    toc = []
    for park, grp in g.groupby(g["park"].astype(object).fillna("—"), sort=True):
        items = "".join(f'<li><a href="#firm-{int(r)}">{_e(n)}</a> {_e(gr)}</li>'
                        for r, n, gr in zip(grp["source_row"], grp["name"], grp["grade"]))
        toc.append(f"<h2>{_e(park)}（{len(grp)}）</h2><ol>{items}</ol>")
    title = label("card_title", lang)
    return ("<!DOCTYPE html>\n<html lang=\"" + ("zh-CN" if lang != "en" else "en") + "\"><head>"
            f'<meta charset="utf-8"><title>{_e(title)}</title><style>{CSS}</style></head><body>'
            f'<nav class="toc"><h1>{_e(title)} · {_e(label("card_index", lang))}</h1>{"".join(toc)}</nav>'
            + "".join(cards) + "</body></html>\n")


def write_cards(out_dir: str | os.PathLike, dest: str | os.PathLike | None = None, *, lang: str = "zh") -> Path:
    """``cards.html`` (default in ``out_dir``) from the output folder's firms.csv, parcels.gpkg,
    summary.json and policy."""
    out_dir = Path(out_dir)
    summary = read_summary(out_dir)
    firms = read_firms(out_dir)
    parcels = gpd.read_file(out_dir / "parcels.gpkg", layer="parcels", engine="pyogrio",
                            columns=["parcel_id"]) if (out_dir / "parcels.gpkg").exists() else None
    policy = load_folder_policy(out_dir, summary)
    text = render_cards(firms, parcels, policy=policy, year=(summary.get("run") or {}).get("year"), lang=lang)
    path = Path(dest) if dest is not None else out_dir / "cards.html"
    write_text(text, path)
    return path
