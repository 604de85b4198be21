"""The output folder of DESIGN.md: parcels.gpkg, firms.csv, reconciliation.csv, summary.json.

Column order follows the contract; columns that a stage did not produce are simply absent, except the
contract's key columns, which are always present (missing values when unknown).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from .. import recon
from ..parallel import Forked, ForkFailed, can_fork, fork_call
from ..schema import FIRM_FIGURES, INDICATORS
from .excel import Sheet, header, write_workbook
from .export import write_csv, write_csvs, write_gpkg_layers, write_text
from .lists import (
    NOTICE_HEADERS,
    cleanup_list,
    grades_list,
    idle_floor_list,
    notice_extra_columns,
    notice_list,
)
from .summary import dumps, run_timestamp

#: a list longer than this is written as CSV only, unless --lists xlsx (DESIGN.md)
XLSX_MAX_ROWS = 50_000
#: per-park sheets repeat the list; above this many rows the one sheet (with its autofilter) serves
PER_PARK_MAX_ROWS = 20_000
#: parcels + firms up to which the lists are written in a second (forked) process by default; above it
#: the copy-on-write pages a second process touches cost more memory than the time it saves
PARALLEL_MAX_ROWS = 600_000

if TYPE_CHECKING:
    from ..pipeline import Assessment

PARCEL_FIRST = ["source_row", "parcel_id", "park", "county", "area_mu", "cert_area_mu", "land_area_mu",
                "area_m2", "measure_epsg", "firm_count", "tax_wan", "revenue_wan", "output_wan",
                "value_added_wan", "tax_per_mu", "revenue_per_mu", "output_per_mu", "value_added_per_mu",
                "building_coverage", "far", "floor_area_m2", "grade", "idle", "vacant", "stopped",
                "low_efficiency", "flag_reasons"]
PARCEL_REQUIRED = ["source_row", "parcel_id", "park", "county", "area_mu", "firm_count", "tax_wan",
                   "revenue_wan", "tax_per_mu", "revenue_per_mu"]
FIRM_FIRST = ["source_row", "file_row", "uscc", "uscc_valid", "name", "parcel_ids", "land_mu", "land_source",
              "status", "status_reason", "track", "score", "grade", "rank", "park", "county", "in_park",
              "is_tenant", "landholder_uscc", "main_parcel_id", "link_method", "scale", "industry_code",
              "established", "lon", "lat"]
FIRM_REQUIRED = ["source_row", "uscc", "name", "parcel_ids", "land_mu", "land_source", "status",
                 "status_reason", "tax_per_mu", "revenue_per_mu"]
#: internal helper columns that are not written
FIRM_DROP = {"uscc_raw", "parcel_ids_input", "year"}


def _order(df: pd.DataFrame, first: list[str], required: list[str], tail: list[str] | None = None) -> list[str]:
    for c in required:
        if c not in df.columns:
            df[c] = None
    cols = [c for c in first if c in df.columns]
    cols += [c for c in (tail or []) if c in df.columns and c not in cols]
    cols += [c for c in df.columns if c not in cols]
    return cols


def parcels_table(a: Assessment) -> gpd.GeoDataFrame:
    """parcels.gpkg layer ``parcels``: the contract's columns first, geometry in the input CRS."""
    p = a.parcels.copy(deep=False)
    geom = p.geometry.name
    drop = {"park_own", "holder_firm_row"}
    cols = [c for c in _order(p, PARCEL_FIRST, PARCEL_REQUIRED) if c != geom and c not in drop]
    if isinstance(p, gpd.GeoDataFrame) and geom == "geometry":  # the same frame, without a rebuild
        return p[[*cols, geom]]
    return gpd.GeoDataFrame(p[cols], geometry=p.geometry, crs=p.crs)


def firms_table(a: Assessment) -> pd.DataFrame:
    """firms.csv: one row per input firm, in input order."""
    f = a.firms.copy(deep=False)
    figures = list(FIRM_FIGURES)
    inds = list(INDICATORS)
    parts = sorted(c for c in f.columns if c.startswith("part_"))
    cols = _order(f, FIRM_FIRST, FIRM_REQUIRED, figures + inds + parts)
    cols = [c for c in cols if c not in FIRM_DROP]
    out = f[cols].sort_values("source_row", kind="stable")
    if "established" in out:
        out["established"] = pd.to_datetime(out["established"], errors="coerce").dt.strftime("%Y-%m-%d")
    return out


def _notes(a: Assessment, what_zh: str, what_en: str, lang: str) -> dict[str, object]:
    zh = lang != "en"
    pol = a.policy
    return {
        ("内容" if zh else "content"): what_zh if zh else what_en,
        ("评价办法" if zh else "policy"): f"{pol.name}（{pol.title}）" if pol is not None and zh else
        (pol.name if pol is not None else ""),
        ("评价办法哈希" if zh else "policy sha256"): pol.sha256 if pol is not None else "",
        ("数据年份" if zh else "data year"): a.meta.get("year"),
        ("评价日期" if zh else "evaluation date"): a.meta.get("as_of"),
        ("生成时间" if zh else "run time"): run_timestamp(),
        ("软件" if zh else "software"): f"parkland {a.summary_version()}",
    }


def _list(path: Path, frame: pd.DataFrame, sheets: list[Sheet], notes: dict, lists: str, lang: str) -> Path:
    """A workbook up to XLSX_MAX_ROWS rows (or always with lists="xlsx"), else the CSV beside it, with the
    workbook's headers."""
    if _as_workbook(frame, lists):
        return write_workbook(path, sheets, lang=lang, notes=notes)
    return write_csv(_csv_frame(frame, sheets, lang), path.with_suffix(".csv"))


def _as_workbook(frame: pd.DataFrame, lists: str) -> bool:
    """A list is a workbook up to XLSX_MAX_ROWS rows, or always with lists="xlsx"; else a CSV."""
    return lists == "xlsx" or len(frame) <= XLSX_MAX_ROWS


def _csv_frame(frame: pd.DataFrame, sheets: list[Sheet], lang: str) -> pd.DataFrame:
    """The list as its CSV is written: the workbook's headers as column names (a shallow copy)."""
    heads = [sheets[0].headers.get(c) or header(c, lang) for c in frame.columns]
    # a header text two columns share gets its column name (in English "firms" is firms and firm_count)
    heads = [h if heads.count(h) == 1 or heads.index(h) == i else f"{h} ({c})"
             for i, (h, c) in enumerate(zip(heads, frame.columns))]
    out = frame.copy(deep=False)
    out.columns = heads
    return out


def _per_park(frame: pd.DataFrame) -> list:
    """The parks that get a sheet of their own: 2 to 30 parks, and a list short enough that repeating it
    park by park stays quick to write and open (PER_PARK_MAX_ROWS)."""
    if "park" not in frame or len(frame) > PER_PARK_MAX_ROWS:
        return []
    parks = sorted(p for p in frame["park"].dropna().unique())
    return parks if 1 < len(parks) <= 30 else []


def _parallel_ok(a: Assessment) -> bool:
    """A second process writes when :func:`parkland.parallel.can_fork` (POSIX, two cores, no other
    thread, ``PARKLAND_JOBS`` not 1) and the run is at most PARALLEL_MAX_ROWS parcels + firms."""
    n = (len(a.parcels) if a.parcels is not None else 0) + (len(a.firms) if a.firms is not None else 0)
    return can_fork() and n <= PARALLEL_MAX_ROWS


def run_lanes(second: list[tuple[str, Callable[[], object]]],
              first: list[tuple[str, Callable[[], object]]], *, parallel: bool) -> list[object]:
    """Run the tasks of ``second`` in a forked child process while this process runs ``first``; or all
    of them here, in order, when ``parallel`` is false or the OS cannot fork. Returns what the tasks of
    ``second`` returned (brought back from the child). Every writer writes its file atomically, so a
    failure leaves the old file or none.

    Errors: this process's own error wins (the child's, if any, is added to it as a note, after the
    child has finished its files); else the child's error is raised as itself (an ``InputError`` stays
    one), with its traceback and the files of its lane in notes."""
    job = None
    if parallel and second:
        def lane() -> list[object]:
            return [fn() for _, fn in second]

        try:
            job = fork_call(lane)
        except ForkFailed:
            job = None
    if job is None:
        for _, fn in first:
            fn()
        return [fn() for _, fn in second]
    names = ", ".join(n for n, _ in second)
    try:
        for _, fn in first:
            fn()
    except BaseException as err:
        try:
            job.result()
        except BaseException as child:
            err.add_note(f"the second process (writing {names}) failed too: {type(child).__name__}: {child}")
        raise
    try:
        return job.result()
    except BaseException as child:
        child.add_note(f"while writing {names} in the second process")
        raise


def _firm_tasks(a: Assessment, out: Path, lang: str, lists: str,
                table: pd.DataFrame | None = None) -> list[tuple[str, Callable[[], object]]]:
    """firms.csv and the grades and notice lists: they need only the final firm table (with the policy,
    the overrides audit and the year), so :class:`EarlyFirms` can write them before the land diagnosis
    and the plan are done. ``table``: :func:`firms_table` of ``a`` when already made, else the first task
    makes it (in the process that runs the tasks)."""
    zh = lang != "en"
    written: set[str] = set()  # grades.csv, when firms.csv's task wrote it
    made: list[pd.DataFrame] = [] if table is None else [table]

    def firms_frame() -> pd.DataFrame:
        if not made:
            made.append(firms_table(a))
        return made[0]

    def grades_sheets() -> tuple[pd.DataFrame, list[Sheet]]:
        g = grades_list(firms_frame(), lang)
        sheets = [Sheet("评价结果" if zh else "grades", g)]
        if a.audit is not None:
            sheets.append(Sheet("异议复核" if zh else "overrides audit", a.audit))
        return g, sheets

    def grades_notes() -> dict[str, object]:
        return _notes(a, "企业亩均效益评价结果（内部）", "firm grades (internal)", lang)

    def firms_csv() -> None:
        firms = firms_frame()
        if _as_workbook(firms, lists):
            write_csv(firms, out / "firms.csv")
            return
        # grades.csv is firms.csv with other headers and a few columns spelled out: both written at once,
        # the columns they share converted and rendered once (the same bytes as two write_csv calls)
        g, sheets = grades_sheets()
        write_csvs([(firms, out / "firms.csv"), (_csv_frame(g, sheets, lang), out / "grades.csv")])
        written.add("grades.csv")

    def grades_xlsx() -> None:
        if "grades.csv" in written:
            return
        g, sheets = grades_sheets()
        _list(out / "grades.xlsx", g, sheets, grades_notes(), lists, lang)

    def notice_xlsx() -> None:
        nt = notice_list(a.firms, lang, notice_extra_columns(a.policy))
        nt_headers = NOTICE_HEADERS if zh else {}
        sheets = [Sheet("公示名单" if zh else "public notice", nt, nt_headers)]
        # one sheet per park: each park publishes its own list
        sheets += [Sheet(str(p), nt[nt["park"] == p], nt_headers) for p in _per_park(nt)]
        _list(out / "notice.xlsx", nt, sheets, _notes(a, "亩均效益评价结果公示名单", "public notice list", lang),
              lists, lang)

    return [("firms.csv", firms_csv), ("grades.xlsx", grades_xlsx), ("notice.xlsx", notice_xlsx)]


def _parcel_layers(a: Assessment) -> dict[str, gpd.GeoDataFrame]:
    """The layers of parcels.gpkg: ``parcels`` and, when park boundaries were given, ``parks`` (in the
    parcels' CRS)."""
    layers = {"parcels": parcels_table(a)}
    if a.park_boundaries is not None and len(a.park_boundaries):
        pb = a.park_boundaries.copy()
        if pb.crs is not None and a.parcels.crs is not None and pb.crs != a.parcels.crs:
            pb = pb.to_crs(a.parcels.crs)
        layers["parks"] = pb
    return layers


def _layout(df: pd.DataFrame | None) -> tuple | None:
    """What identifies a frame's data without reading it: its columns and the array objects of its blocks.
    Under copy-on-write, a frame written to in place while a shallow copy of it is kept gets new arrays,
    so an unchanged layout means unchanged data. None when it cannot be read (then nothing matches)."""
    if df is None:
        return ()
    try:
        return tuple(df.columns), tuple((tuple(b.mgr_locs.as_array.tolist()), b.values) for b in df._mgr.blocks)
    except Exception:  # pandas internals moved: never take early files then
        return None


def _same(x: object, y: object) -> bool:
    """The same object, or equal values (False when they cannot be compared)."""
    if x is y:
        return True
    try:
        return bool(x == y)
    except Exception:
        return False


def _same_layout(x: tuple | None, y: tuple | None) -> bool:
    if x is None or y is None or len(x) != len(y):
        return False
    if x == () or y == ():
        return x == y
    return (list(x[0]) == list(y[0]) and len(x[1]) == len(y[1])
            and all(lx == ly and vx is vy for (lx, vx), (ly, vy) in zip(x[1], y[1])))


class EarlyFiles:
    """Output files written by forked processes as soon as what they show is final, while this process
    goes on with the assessment (the second core is otherwise idle then). ``assess(..., ready=early)``
    calls it twice:

    * ``early("firms", a)`` after grading: firms.csv and the grades and notice lists;
    * ``early("parcels", a)`` after the land diagnosis: parcels.gpkg (the plan only reads the parcels).

    Each group's files go into a hidden folder inside ``out``; ``a.write(out, early=early)`` moves them
    into place with the rest of the folder, or writes them itself when anything differs: another language,
    list format or folder, or frames, policy or year that are not the ones the files were made from (a
    frame changed in place after ``assess`` counts as another frame). :meth:`discard` (call it in a
    ``finally``) stops the writers and removes their files, and the output folder when it made it and it
    is empty, when the run fails. A run killed outright (SIGKILL, SIGTERM) can leave a ``.parkland-*``
    folder behind, as an atomic write leaves its temporary file.

    It does nothing where a second process is not used (:func:`_parallel_ok`): one core, other threads
    (a notebook, the dask engine), ``PARKLAND_JOBS=1``, or a run too large to fork cheaply."""

    GROUPS = ("firms", "parcels")

    def __init__(self, out: str | os.PathLike, *, lang: str = "zh", lists: str = "default") -> None:
        self.out = Path(out)
        self.lang = "en" if lang == "en" else "zh"
        self.lists = lists
        # group → (job, staging folder, what its files were made from: see _sources)
        self._jobs: dict[str, tuple[Forked, Path, tuple]] = {}
        self._made: list[Path] = []  # folders made for the output (removed again by discard when empty)
        self._done = False

    @staticmethod
    def _sources(group: str, a: Assessment) -> tuple:
        """The parts of ``a`` a group's files show, as (objects that must be the same, layouts of frames)."""
        meta = (a.meta.get("year"), a.meta.get("as_of"))
        if group == "firms":
            frames = (a.firms, a.audit)
            return (a.policy, meta), frames, tuple(_layout(f) for f in frames)
        frames = (a.parcels, a.park_boundaries)
        return (meta,), frames, tuple(_layout(f) for f in frames)

    def __call__(self, group: str, a: Assessment) -> None:
        """Start writing ``group``'s files (``a``: an assessment whose parts that group shows are final)."""
        if group not in self.GROUPS or group in self._jobs or not _parallel_ok(a):
            return
        if group == "firms":
            # the firm table of the files is made by the second process, not here
            make = lambda stage: _firm_tasks(a, stage, self.lang, self.lists)  # noqa: E731
        else:
            layers = _parcel_layers(a)
            make = lambda stage: [("parcels.gpkg",  # noqa: E731
                                   lambda: write_gpkg_layers(layers, stage / "parcels.gpkg"))]
        ids, frames, layouts = self._sources(group, a)
        # shallow copies keep the arrays the files are made from referenced: a later write in place then
        # gives the live frame new arrays (copy-on-write), which serves() sees
        keep = tuple(f.copy(deep=False) if f is not None else None for f in frames)
        missing = [p for p in (self.out, *self.out.parents) if not p.exists()]
        self.out.mkdir(parents=True, exist_ok=True)
        self._made = self._made or missing
        stage = Path(tempfile.mkdtemp(prefix=f".parkland-{group}-", dir=self.out))
        try:
            tasks = make(stage)

            def lane() -> list[str]:
                for _, fn in tasks:
                    fn()
                return sorted(f.name for f in stage.iterdir() if not f.name.startswith("."))

            job = fork_call(lane)
        except ForkFailed:
            shutil.rmtree(stage, ignore_errors=True)
            return
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        self._jobs[group] = (job, stage, (ids, frames, layouts, keep))

    def serves(self, a: Assessment, out: Path, lang: str, lists: str) -> set[str]:
        """The groups whose files being written are the ones ``write_outputs(a, out, lang, lists)`` needs."""
        if lang != self.lang or lists != self.lists or out.resolve() != self.out.resolve():
            return set()
        served = set()
        for g, (_, _, (ids, frames, layouts, _keep)) in self._jobs.items():
            now_ids, now_frames, now_layouts = self._sources(g, a)
            if (all(_same(x, y) for x, y in zip(ids, now_ids))
                    and all(f is h for f, h in zip(frames, now_frames))
                    and all(_same_layout(x, y) for x, y in zip(layouts, now_layouts))):
                served.add(g)
        return served

    def finish(self, groups: set[str]) -> None:
        """Wait for ``groups``' files and move them into the output folder; a writer's error is raised
        as itself. The other groups' files are dropped."""
        try:
            for g in self.GROUPS:
                if g not in groups:
                    continue
                job, stage, _ = self._jobs[g]
                try:
                    names = job.result()
                except BaseException as child:
                    what = "firms.csv, grades and notice" if g == "firms" else "parcels.gpkg"
                    child.add_note(f"while writing {what} in a second process")
                    raise
                for name in names:
                    os.replace(stage / name, self.out / name)
            self._done = True
        finally:
            self.discard()

    def __del__(self) -> None:  # dropped without write() or discard(): no child, no hidden folder left
        with contextlib.suppress(Exception):
            self.discard()

    def discard(self) -> None:
        """Stop the writers that still run and remove what they wrote (nothing when already moved); when
        the output was not completed, also the folders made for it, if they are empty."""
        while self._jobs:
            _, (job, stage, _) = self._jobs.popitem()
            try:
                job.cancel()
            finally:
                shutil.rmtree(stage, ignore_errors=True)
        if not self._done:
            for folder in self._made:  # innermost first
                with contextlib.suppress(OSError):
                    folder.rmdir()
        self._made = []

    def completed(self) -> None:
        """The output folder was written (its folders stay, even when no early file was used)."""
        self._done = True


def write_outputs(a: Assessment, out: Path, *, lang: str = "zh", lists: str = "default",
                  basemap: str = "none", public: bool = False, map_html: bool = True,
                  jobs: int | None = None, early: EarlyFiles | None = None) -> Path:
    """Write the output folder; returns it. Map warnings (e.g. an embedded tile key) are in
    ``a.meta['map_warnings']``.

    With ``jobs`` = 2 (the default when :func:`_parallel_ok`) firms.csv, the reconciliation, cleanup.gpkg
    and the lists (workbooks, or their CSVs) are written, and the summary made, by a forked second
    process while this one writes parcels.gpkg and the map: the same files, in about half the time on two
    cores. With ``early`` (an :class:`EarlyFiles` given to ``assess``) firms.csv, the grades and notice
    lists and parcels.gpkg are already being written: the second process then takes the reconciliation,
    the cleanup files and the summary, this one the map and the idle-floor list.
    ``jobs`` = 1 writes everything here."""
    try:
        served = early.serves(a, out, lang, lists) if early is not None else set()
        written = _write_outputs(a, out, lang=lang, lists=lists, basemap=basemap, public=public,
                                 map_html=map_html, jobs=jobs, early=early, served=served)
        if early is not None:
            early.completed()
        return written
    finally:
        if early is not None:
            early.discard()


def _write_outputs(a: Assessment, out: Path, *, lang: str, lists: str, basemap: str, public: bool,
                   map_html: bool, jobs: int | None, early: EarlyFiles | None, served: set[str]) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    layers = _parcel_layers(a)
    firms = firms_table(a)
    zh = lang != "en"
    here: list[tuple[str, Callable[[], object]]] = []
    there: list[tuple[str, Callable[[], object]]] = []
    # two lanes of about equal work. Without early files: this process the parcel layer and the map, the
    # second the firm files, the reconciliation, the cleanup files, the other lists and the summary. With
    # only the firm files early: the parcel layer moves to the second process and cleanup.xlsx here. With
    # the parcel layer early: this process the map, cleanup.gpkg and the idle-floor list, the second the
    # rest (the reconciliation, cleanup.xlsx, the summary, and the firm files when they are not early).
    if "parcels" not in served:
        (there if "firms" in served else here).append(
            ("parcels.gpkg", lambda: write_gpkg_layers(layers, out / "parcels.gpkg")))
    firm_tasks = _firm_tasks(a, out, lang, lists, firms) if "firms" not in served else []
    there += firm_tasks[:1]
    there.append(("reconciliation.csv", lambda: write_csv(recon.render(a.recon, lang), out / "reconciliation.csv")))
    if a.cleanup is not None:
        cl = a.cleanup
        if isinstance(cl, gpd.GeoDataFrame):
            (here if "parcels" in served else there).append(
                ("cleanup.gpkg", lambda: write_gpkg_layers({"cleanup": cl}, out / "cleanup.gpkg")))

        def cleanup_xlsx() -> None:
            lst = cleanup_list(cl, lang)
            sheets = [Sheet("清理计划" if zh else "cleanup", lst, {"kind": "类型" if zh else "kind",
                                                                 "firms": "宗地上企业" if zh else "firms"})]
            sheets += [Sheet(str(p), lst[lst["park"] == p], sheets[0].headers) for p in _per_park(lst)]
            _list(out / "cleanup.xlsx", lst, sheets, _notes(a, "低效用地清理候选宗地及选择", "cleanup candidates", lang),
                  lists, lang)

        (here if served == {"firms"} else there).append(("cleanup.xlsx", cleanup_xlsx))
    if a.idle_floor is not None:
        def idle_xlsx() -> None:
            lst = idle_floor_list(a.idle_floor, lang)
            _list(out / "idle_floor.xlsx", lst, [Sheet("闲置厂房" if zh else "idle floor", lst)],
                  _notes(a, "闲置厂房盘活清单", "idle factory floor", lang), lists, lang)

        (here if served else there).append(("idle_floor.xlsx", idle_xlsx))
    there += firm_tasks[1:]
    if map_html:
        def the_map() -> None:
            from .maps import write_map

            cleanup = a.cleanup if isinstance(a.cleanup, gpd.GeoDataFrame) else None
            a.meta["map_warnings"] = write_map(out / "map.html", layers["parcels"], firms,
                                               parks=layers.get("parks"), cleanup=cleanup, basemap=basemap,
                                               public=public, lang=lang)

        here.append(("map.html", the_map))
    if a.policy is not None and a.policy.path and Path(a.policy.path).is_file():
        # the policy as applied, so the folder alone explains the grades (firm cards read it)
        policy_text = Path(a.policy.path).read_text(encoding="utf-8")
        here.append(("policy.toml", lambda: write_text(policy_text, out / "policy.toml")))
    there.append(("summary", a.summary))  # made in the second lane, written here last
    parallel = _parallel_ok(a) if jobs is None else jobs > 1 and can_fork(check_cpus=False)
    summary = run_lanes(there, here, parallel=parallel)[-1]
    if early is not None:
        early.finish(served)
    write_text(dumps(summary), out / "summary.json")  # last: the folder is complete
    return out
