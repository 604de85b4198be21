"""The summary report: ``report.html`` (self-contained, Chinese, printable) and ``report.pdf``.

Built from the output folder alone (summary.json, reconciliation.csv and the files it links to):

* headline figures (parcels and their area in 亩, firms, graded firms, totals, per-mu figures);
* grade distribution and park comparison charts (matplotlib, inline SVG with the text drawn as paths,
  so the page needs no font and no network; the CJK font is "Noto Sans CJK SC" when found);
* progress toward the year's targets (summary.json ``targets``: same-parcel and all-land bases, per
  park), the cleanup and idle-floor selection (``cleanup``, ``idle_floor``), the scenarios
  (``scenario``);
* the reconciliation counts (by source, problem and action, with an example message);
* relative links to map.html, cards.html, the lists and the printable maps that exist.

Every text from the inputs (park names, messages) is HTML-escaped. ``report.pdf`` is printed by headless
Chromium (playwright, ``/usr/bin/chromium``, no network: every non-file request is aborted) to A4.
"""

from __future__ import annotations

import html
import io
import os
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from .cards import fmt, read_summary
from .export import atomic_path, write_text
from .labels import GRADE_COLORS, label
from .summary import run_timestamp

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]

#: files the report links to when they exist (relative links), in this order
LINKED_FILES = ["map.html", "cards.html", "notice.xlsx", "grades.xlsx", "cleanup.xlsx", "idle_floor.xlsx",
                "firms.csv", "reconciliation.csv", "summary.json", "parcels.gpkg", "cleanup.gpkg"]

CSS = """
@page { size: A4; margin: 15mm 14mm; }
body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; color: #222;
       font-size: 10.5pt; max-width: 190mm; margin: 0 auto; padding: 6mm; }
h1 { font-size: 18pt; text-align: center; margin: 0 0 2mm 0; }
.sub { text-align: center; color: #555; margin-bottom: 6mm; }
h2 { font-size: 13pt; border-left: 4px solid #4a78a8; padding-left: 2mm; margin: 7mm 0 2mm 0;
     break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 4mm 0; break-inside: avoid; }
th, td { border: 1px solid #aaa; padding: 1.2mm 2mm; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #eef3f8; }
.kpis { display: flex; flex-wrap: wrap; gap: 3mm; }
.kpi { flex: 1 1 40mm; border: 1px solid #cdd9e5; border-radius: 2mm; padding: 2mm 3mm; break-inside: avoid; }
.kpi .v { font-size: 15pt; font-weight: bold; } .kpi .k { color: #555; }
.chart { text-align: center; break-inside: avoid; } .chart svg { max-width: 100%; height: auto; }
.met { color: #1a7f37; font-weight: bold; } .unmet { color: #c0392b; font-weight: bold; }
.foot { color: #777; font-size: 8.5pt; margin-top: 8mm; }
.nw { white-space: nowrap; }
"""


def _e(v: Any) -> str:
    return "—" if v is None else html.escape(str(v))


def _table(header: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td class='n'>{c}</td>" if j in numeric else f"<td>{c}</td>"
                                    for j, c in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


# ---------------------------------------------------------------------------------------------------
# charts
def _svg(fig) -> str:
    """A matplotlib figure as inline SVG text (text as paths; no date, fixed ids: reruns give the same)."""
    import matplotlib
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "parkland"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def grade_chart(grades: dict[str, int], lang: str = "zh") -> str:
    """Bar chart of the number of firms per grade (fixed grade colours), as inline SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .printmaps import use_cjk_font

    use_cjk_font()
    keys = [g for g in grades if grades.get(g) is not None]
    fig, ax = plt.subplots(figsize=(6.0, 2.8))
    vals = [grades[g] for g in keys]
    bars = ax.bar([label(g, lang) for g in keys], vals, color=[GRADE_COLORS.get(g, "#888888") for g in keys])
    for b, v in zip(bars, vals):
        ax.annotate(f"{v}", (b.get_x() + b.get_width() / 2, b.get_height()), ha="center", va="bottom", fontsize=9)
    ax.set_ylabel("企业数" if lang != "en" else "firms")
    ax.set_title(label("rpt_grade_chart", lang), fontsize=11)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="x", labelsize=8)
    return _svg(fig)


def park_charts(parks: list[dict[str, Any]], lang: str = "zh") -> str:
    """Two charts: tax and output per mu by park (bars), and the grade counts per park (stacked bars)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from .printmaps import use_cjk_font

    use_cjk_font()
    df = pd.DataFrame(parks)
    if df.empty or "park" not in df:
        return ""
    df = df.sort_values("park", kind="stable")
    names = df["park"].astype(str).tolist()
    y = np.arange(len(names))
    h = max(2.4, 0.45 * len(names) + 1.2)
    fig, axes = plt.subplots(1, 2, figsize=(7.2, h), sharey=True)
    for ax, col, color in ((axes[0], "tax_per_mu", "#4a78a8"), (axes[1], "output_per_mu", "#e39b3b")):
        v = pd.to_numeric(df.get(col), errors="coerce").to_numpy(dtype=float) if col in df else np.zeros(len(df))
        ax.barh(y, np.nan_to_num(v), color=color)
        for yi, vi in zip(y, v):
            if np.isfinite(vi):
                ax.text(vi, yi, f" {vi:,.1f}", va="center", fontsize=8)
        ax.set_title(label(col, lang), fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
        ax.margins(x=0.25)
    axes[0].set_yticks(y, names, fontsize=8)
    axes[0].invert_yaxis()
    fig.suptitle(label("rpt_park_chart", lang), fontsize=11, y=1.06)
    out = _svg(fig)
    gcols = [g for g in GRADE_COLORS if f"grade_{g}" in df]
    if gcols:
        fig, ax = plt.subplots(figsize=(7.2, h))
        left = np.zeros(len(df))
        for g in gcols:
            v = pd.to_numeric(df[f"grade_{g}"], errors="coerce").fillna(0).to_numpy(dtype=float)
            ax.barh(y, v, left=left, color=GRADE_COLORS[g], label=label(g, lang))
            left += v
        ax.set_yticks(y, names, fontsize=8)
        ax.invert_yaxis()
        ax.legend(fontsize=7, ncols=min(len(gcols), 5), loc="upper center", bbox_to_anchor=(0.5, -0.12),
                  frameon=False)
        ax.set_title(label("rpt_park_grade_chart", lang), fontsize=11)
        ax.spines[["top", "right"]].set_visible(False)
        out += _svg(fig)
    return out


# ---------------------------------------------------------------------------------------------------
def recon_counts(recon: pd.DataFrame | None, summary: dict[str, Any]) -> pd.DataFrame:
    """Counts of reconciliation rows by source, problem code and action, with the first message as an
    example; from reconciliation.csv when given, else summary.json's counts by problem."""
    if recon is not None and len(recon) and {"problem_code", "action"} <= set(recon.columns):
        r = recon.copy()
        r["source"] = r.get("source", "")
        r["problem"] = r.get("problem", "")
        g = (r.groupby(["source", "problem_code", "action"], sort=True, dropna=False)
             .agg(count=("problem_code", "size"), example=("problem", "first")).reset_index())
        return g
    byp = (summary.get("counts") or {}).get("reconciliation_by_problem") or {}
    return pd.DataFrame({"source": "", "problem_code": list(byp), "action": "", "count": list(byp.values()),
                         "example": ""})


def _pct_cell(v: Any) -> str:
    return fmt(v, 2)


def _met(v: Any, lang: str) -> str:
    if v is None:
        return "—"
    yes, no = ("是", "否") if lang != "en" else ("yes", "no")
    return f"<span class='met'>{yes}</span>" if v else f"<span class='unmet'>{no}</span>"


def render_report(summary: dict[str, Any], *, recon: pd.DataFrame | None = None,
                  links: list[str] | None = None, lang: str = "zh") -> str:
    """The report page (HTML text) from summary.json's content, the reconciliation rows and the names of
    the files to link."""
    zh = lang != "en"
    L = lambda k: label(k, lang)  # noqa: E731
    run = summary.get("run") or {}
    pol = summary.get("policy") or {}
    counts = summary.get("counts") or {}
    areas = summary.get("areas") or {}
    totals = summary.get("totals") or {}
    per_mu = summary.get("per_mu") or {}
    grades = summary.get("grades") or {}
    parts: list[str] = []
    title = L("report_title")
    sub = f"{_e(run.get('year'))}{'年度' if zh else ''} · {_e(pol.get('name'))} · {_e(run.get('as_of'))}"
    parts.append(f"<h1>{_e(title)}</h1><div class='sub'>{sub}</div>")

    # overview
    graded = (counts.get("firms_by_status") or {}).get("graded")
    kpis = [(L("rpt_parcels"), f"{fmt(counts.get('parcels'), 0)} 宗" if zh else fmt(counts.get("parcels"), 0)),
            (label("area_mu", lang), fmt(areas.get("parcels_mu"), 2)),
            (L("rpt_firms_in"), fmt(counts.get("firms_in"), 0)), (L("rpt_graded"), fmt(graded, 0)),
            (label("tax_wan", lang), fmt(totals.get("tax_wan"), 2)),
            (label("revenue_wan", lang), fmt(totals.get("revenue_wan"), 2))]
    kpis += [(label(k, lang), fmt(v, 2)) for k, v in per_mu.items()]
    parts.append(f"<h2>{_e(L('rpt_overview'))}</h2><div class='kpis'>"
                 + "".join(f"<div class='kpi'><div class='v'>{v}</div><div class='k'>{_e(k)}</div></div>"
                           for k, v in kpis) + "</div>")

    # grades
    parts.append(f"<h2>{_e(L('rpt_grades'))}</h2>")
    if grades:
        n = sum(v for v in grades.values() if v)
        rows = [[_e(label(g, lang)), fmt(v, 0), fmt(v / n if n else None, 1, pct=True)] for g, v in grades.items()]
        parts.append(_table([label("grade", lang), L("rpt_count"), L("rpt_share")], rows, {1, 2}))
        parts.append(f"<div class='chart'>{grade_chart(grades, lang)}</div>")
    else:
        parts.append(f"<p>{_e(L('rpt_no_data'))}</p>")

    # parks
    parks = summary.get("parks") or []
    if parks:
        parts.append(f"<h2>{_e(L('rpt_parks'))}</h2>")
        cols = ["park", "firm_count", "graded_count", "land_mu", "tax_per_mu", "revenue_per_mu", "output_per_mu",
                *[f"grade_{g}" for g in GRADE_COLORS], "rank"]
        cols = [c for c in cols if any(c in p for p in parks)]
        hdr = [label(c, lang) if c != "land_mu" else label("area_mu", lang) for c in cols]
        nd = {c: (0 if c in ("firm_count", "graded_count", "rank") or c.startswith("grade_") else 2) for c in cols}
        rows = [[_e(p.get(c)) if c == "park" else fmt(p.get(c), nd[c]) for c in cols]
                for p in sorted(parks, key=lambda p: str(p.get("park")))]
        parts.append(_table(hdr, rows, set(range(1, len(cols)))))
        parts.append(f"<div class='chart'>{park_charts(parks, lang)}</div>")

    # targets
    targets = summary.get("targets") or {}
    parts.append(f"<h2>{_e(L('rpt_targets'))}</h2>")
    ind_rows = []
    for k, t in targets.items():
        if k == "parks" or not isinstance(t, dict):
            continue
        al = t.get("all_land") or {}
        ind_rows.append([_e(label(k, lang)), _e(L("rpt_basis_same")), fmt(t.get("previous")), fmt(t.get("current")),
                         _pct_cell(t.get("change_pct")), _pct_cell(t.get("goal_pct")), _met(t.get("met"), lang)])
        if al:
            met = None if t.get("goal_pct") is None or al.get("change_pct") is None else \
                al["change_pct"] >= t["goal_pct"]
            ind_rows.append([_e(label(k, lang)), _e(L("rpt_basis_all")), fmt(al.get("previous")),
                             fmt(al.get("current")), _pct_cell(al.get("change_pct")), _pct_cell(t.get("goal_pct")),
                             _met(met, lang)])
    hdr = [L("rpt_indicator"), L("rpt_basis"), L("rpt_previous"), L("rpt_current"), L("rpt_change_pct"),
           L("rpt_goal_pct"), L("rpt_met")]
    parts.append(_table(hdr, ind_rows, {2, 3, 4, 5}) if ind_rows else f"<p>{_e(L('rpt_no_data'))}</p>")
    tparks = targets.get("parks") or []
    inds = [k for k in targets if k != "parks" and isinstance(targets[k], dict)]
    if tparks and inds:
        hdr = [label("park", lang)]
        for k in inds:
            hdr += [f"{label(k, lang)} {L('rpt_change_pct')}", L("rpt_met")]
        rows = []
        for p in sorted(tparks, key=lambda p: str(p.get("park"))):
            r = [_e(p.get("park"))]
            for k in inds:
                r += [_pct_cell(p.get(f"{k}_change_pct")), _met(p.get(f"{k}_met"), lang)]
            rows.append(r)
        parts.append(_table(hdr, rows, set(range(1, len(hdr)))))

    # cleanup and idle floor
    cl, fl = summary.get("cleanup") or {}, summary.get("idle_floor") or {}
    parts.append(f"<h2>{_e(L('rpt_cleanup'))}</h2>")
    rows = []
    if cl:
        rows.append([_e(label("map_layer_cleanup", lang)), fmt(cl.get("target_mu")), fmt(cl.get("selected_mu")),
                     fmt(cl.get("shortfall_mu")), fmt(cl.get("parcels"), 0), _met(cl.get("reachable"), lang),
                     _e(cl.get("strategy"))])
    if fl:
        rows.append([_e(label("idle_floor_m2", lang)), fmt(fl.get("target_m2"), 0), fmt(fl.get("selected_m2"), 0),
                     fmt(fl.get("shortfall_m2"), 0), fmt(fl.get("buildings"), 0), _met(fl.get("reachable"), lang),
                     _e(fl.get("strategy"))])
    hdr = ["", L("rpt_target"), L("rpt_selected"), L("rpt_shortfall"), L("rpt_count"), L("rpt_reachable"),
           L("rpt_strategy")]
    parts.append(_table(hdr, rows, {1, 2, 3, 4}) if rows else f"<p>{_e(L('rpt_no_data'))}</p>")
    if cl.get("by_kind"):
        rows = [[_e(label(k, lang)), fmt(v)] for k, v in cl["by_kind"].items()]
        parts.append(_table(["类型" if zh else "kind", label("area_mu", lang)], rows, {1}))

    # scenarios
    sc = summary.get("scenario") or {}
    if sc:
        parts.append(f"<h2>{_e(L('rpt_scenario'))}</h2>")
        rows = []
        for basis, s in sc.items():
            if not isinstance(s, dict):
                continue
            for k, v in s.items():
                if isinstance(v, dict):
                    name = L(f"rpt_{basis}")
                    rows.append([_e(basis if name == f"rpt_{basis}" else name),
                                 _e(label(k, lang)), fmt(v.get("current")), fmt(v.get("scenario")),
                                 _pct_cell(v.get("change_pct")), fmt(v.get("added_wan"))])
        parts.append(_table([L("rpt_basis"), L("rpt_indicator"), L("rpt_current"), L("rpt_scenario_value"),
                             L("rpt_change_pct"), L("rpt_added_wan")], rows, {2, 3, 4, 5}))

    # reconciliation
    parts.append(f"<h2>{_e(L('rpt_recon'))}</h2>")
    rc = recon_counts(recon, summary)
    if len(rc):
        rows = [[_e(s), _e(p), f"<span class='nw'>{_e(label(a, lang) if isinstance(a, str) and a else a)}</span>",
                 fmt(c, 0), _e(ex)]
                for s, p, a, c, ex in zip(rc["source"], rc["problem_code"], rc["action"], rc["count"], rc["example"])]
        rows.append([_e(L("rpt_total")), "", "", fmt(int(rc["count"].sum()), 0), ""])
        parts.append(_table([label("source", lang), label("problem_code", lang), label("action", lang),
                             L("rpt_count"), L("rpt_example")], rows, {3}))
    else:
        parts.append(f"<p>{_e(L('rpt_no_data'))}</p>")

    # links
    if links:
        names = {"map.html": L("rpt_map"), "cards.html": L("rpt_cards")}
        items = "".join(f'<li><a href="{html.escape(f, quote=True)}">{_e(names.get(f, f))}</a>'
                        + (f" ({_e(f)})" if f in names else "") + "</li>" for f in links)
        parts.append(f"<h2>{_e(L('rpt_files'))}</h2><ul>{items}</ul>")
    parts.append(f"<div class='foot'>{_e(L('rpt_generated'))}：{_e(run_timestamp())} · parkland "
                 f"{_e(summary.get('version'))} · {_e(pol.get('name'))} sha256 {_e((pol.get('sha256') or '')[:12])}</div>")
    return ("<!DOCTYPE html>\n<html lang=\"" + ("zh-CN" if zh else "en") + "\"><head><meta charset=\"utf-8\">"
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body>" + "".join(parts) + "</body></html>\n")


def html_to_pdf(jobs: list[tuple[Path, Path]]) -> list[Path]:
    """Print HTML files to A4 PDFs with headless Chromium, all in one browser session; requests other
    than file:// are aborted. Each PDF is written atomically."""
    from playwright.sync_api import sync_playwright

    done = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for src, pdf in jobs:
                page = browser.new_page()
                page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file://") else r.abort())
                page.goto(Path(src).resolve().as_uri(), wait_until="load")
                with atomic_path(pdf) as tmp:
                    page.pdf(path=str(tmp), format="A4", print_background=True, prefer_css_page_size=True)
                page.close()
                done.append(Path(pdf))
        finally:
            browser.close()
    return done


def write_report(out_dir: str | os.PathLike, *, lang: str = "zh", pdf: bool = True,
                 extra_links: list[str] | None = None) -> list[Path]:
    """``report.html`` (and ``report.pdf`` with ``pdf``) in ``out_dir``. ``extra_links``: files about to be
    written by the same export (linked even though they do not exist yet). A PDF that cannot be printed
    (no Chromium or playwright) is skipped with a warning."""
    out_dir = Path(out_dir)
    summary = read_summary(out_dir)
    rp = out_dir / "reconciliation.csv"
    recon = pd.read_csv(rp, encoding="utf-8-sig", dtype=str, keep_default_na=False) if rp.exists() else None
    links = [f for f in LINKED_FILES if (out_dir / f).exists() or f in (extra_links or [])]
    if (out_dir / "print").is_dir():
        links += sorted(f"print/{p.name}" for p in (out_dir / "print").glob("*.pdf"))
    text = render_report(summary, recon=recon, links=links, lang=lang)
    path = out_dir / "report.html"
    write_text(text, path)
    files = [path]
    if pdf:
        try:
            files += html_to_pdf([(path, out_dir / "report.pdf")])
        except Exception as e:  # no browser: the HTML is the report, the PDF a convenience
            warnings.warn(f"report.pdf 未生成（需要 Chromium 与 playwright）：{e}", stacklevel=2)
    return files
