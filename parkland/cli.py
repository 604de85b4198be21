"""The `parkland` command: a thin shell over ``pipeline.assess``.

Exit 0 on success (also when rows were dropped: they are in reconciliation.csv); exit 2 with a short
message naming file, row and column when an input cannot be used at all; never a traceback for bad
input (``--verbose`` shows one for unexpected errors).
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from .errors import InputError, ParklandError

# messages of the command itself: key → (中文, English)
MSG = {
    "done": ("完成：结果已写入 {out}", "done: results written to {out}"),
    "counts": ("宗地 {parcels} 宗（{mu:,.1f} 亩），企业 {firms} 家，其中 {graded} 家参评；核对清单 {recon} 条",
               "{parcels} parcels ({mu:,.1f} mu), {firms} firms, {graded} graded; {recon} reconciliation rows"),
    "grades": ("评价结果（{policy}）：{grades}", "grades ({policy}): {grades}"),
    "cleanup": ("低效用地清理：选出 {n} 宗 {sel:,.1f} 亩（目标 {target:,.0f} 亩）",
                "cleanup: {n} parcels, {sel:,.1f} mu selected (target {target:,.0f} mu)"),
    "floor": ("闲置厂房盘活：{sel:,.0f} 平方米（目标 {target:,.0f} 平方米）",
              "idle factory floor: {sel:,.0f} m² selected (target {target:,.0f} m²)"),
    "internal": ("内部错误：{err}（加 --verbose 查看详情，并请报告此问题）",
                 "internal error: {err} (run with --verbose for details, and please report it)"),
    "demo_from": ("使用内置示例数据：{dir}", "using the embedded demo data: {dir}"),
    "targets": ("同口径同比：{parts}", "same-basis change: {parts}"),
    "target_output_per_mu": ("亩均产值 {chg:+.1f}%（目标 +{goal:.0f}%，{ok}）", "output per mu {chg:+.1f}% (goal +{goal:.0f}%, {ok})"),
    "target_tax_per_mu": ("亩均税收 {chg:+.1f}%（目标 +{goal:.0f}%，{ok}）", "tax per mu {chg:+.1f}% (goal +{goal:.0f}%, {ok})"),
    "met": ("已达标", "met"),
    "not_met": ("未达标", "not met"),
    "maps": ("已生成 {n} 个地图文件：{dir}", "{n} map files written to {dir}"),
    "exported": ("已生成 {n} 个文件：{dir}", "{n} files written in {dir}"),
    "db": ("结果已写入数据库：{url}", "results written to the database: {url}"),
}


def _m(key: str, lang: str, **kw: Any) -> str:
    zh, en = MSG[key]
    return (en if lang == "en" else zh).format(**kw)


class _Bar:
    """A stage progress bar on stderr (tqdm), silent when stderr is not a terminal unless verbose."""

    def __init__(self, lang: str, verbose: bool, total: int) -> None:
        from tqdm import tqdm

        from .pipeline import STAGES

        self.stages = STAGES
        self.lang = lang
        self.verbose = verbose
        self.t0 = time.perf_counter()
        self.started = False
        self.bar = tqdm(total=total, file=sys.stderr, disable=not (sys.stderr.isatty() or verbose),
                        bar_format="{desc:<16}|{bar:30}| {n_fmt}/{total_fmt} [{elapsed}]", leave=False)

    def __call__(self, stage: str) -> None:
        zh, en = self.stages.get(stage, (stage, stage))
        if self.started:
            self.bar.update(1)
        self.started = True
        self.bar.set_description_str(en if self.lang == "en" else zh)
        if self.verbose:
            self.bar.write(f"[{time.perf_counter() - self.t0:7.2f}s] {en if self.lang == 'en' else zh}", file=sys.stderr)

    def close(self) -> None:
        self.bar.update(self.bar.total - self.bar.n)
        self.bar.close()


def _run(fn, lang: str, verbose: bool) -> None:
    """Run ``fn`` turning parkland errors into a short message and exit 2."""
    try:
        fn()
    except InputError as e:
        click.echo(e.message(lang), err=True)
        sys.exit(2)
    except ParklandError as e:
        click.echo(str(e), err=True)
        sys.exit(2)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as e:  # an unexpected failure is a bug: short message unless --verbose
        if verbose:
            raise
        click.echo(_m("internal", lang, err=f"{type(e).__name__}: {e}"), err=True)
        sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="parkland")
def main() -> None:
    """parkland：亩均论英雄 — 宗地亩均效益评价、闲置低效用地认定、清理计划与离线地图。"""


def _assess_options(f):
    opts = [
        click.option("--parcels", "parcels", required=True, help="宗地图层 (GPKG/SHP/GDB/GeoJSON/FGB/KML/GeoParquet)"),
        click.option("--parcels-layer", default=None, help="图层名 (多图层文件)"),
        click.option("--parcel-id", default=None, help="宗地代码列名"),
        click.option("--firms", "firms", required=True, help="企业表 (CSV/XLSX)"),
        click.option("--firms-sheet", default=None, help="工作表名"),
        click.option("--links", default=None, help="企业-宗地对应表"),
        click.option("--parks", default=None, help="园区边界图层"),
        click.option("--parks-layer", default=None),
        click.option("--buildings", default=None, help="建筑图层 (建筑系数、容积率、闲置厂房)"),
        click.option("--buildings-layer", default=None),
        click.option("--raster", "rasters", multiple=True, metavar="NAME=PATH", help="栅格证据, 可重复: ndvi=ndvi.tif"),
        click.option("--previous-firms", default=None, help="上一年企业表 (同比与基准)"),
        click.option("--overrides", default=None, help="异议复核表"),
        click.option("--policy", default="sichuan-2022", show_default=True, help="评价办法: 预设名或 TOML 文件"),
        click.option("--year", type=int, default=None, help="数据年份 (默认: 表中年份, 否则上一年)"),
        click.option("--as-of", default=None, help="评价日期 (默认: 数据年份 12 月 31 日)"),
        click.option("--area-basis", type=click.Choice(["polygon", "certificate"]), default="polygon"),
        click.option("--firm-coords", type=click.Choice(["wgs84", "gcj02", "bd09"]), default="wgs84"),
        click.option("--crs", default=None, help="无坐标系图层的 EPSG, 如 4523"),
        click.option("--io-engine", type=click.Choice(["pyogrio", "fiona"]), default="pyogrio"),
        click.option("--engine", type=click.Choice(["pandas", "dask"]), default="pandas", show_default=True,
                     help="计算引擎: pandas (单机) 或 dask (集群)"),
        click.option("--scheduler", default=None, metavar="ADDRESS",
                     help="dask 调度器地址, 如 tcp://host:8786; 不给则在本机启动集群"),
        click.option("--target-mu", type=float, default=None, help="低效用地清理目标 (亩), 默认取评价办法 [targets]"),
        click.option("--target-floor-m2", type=float, default=None, help="闲置厂房盘活目标 (平方米)"),
        click.option("--strategy", type=click.Choice(["priority", "fewest-firms", "min-overshoot"]), default=None),
        click.option("--basemap", default="none", show_default=True,
                     help="底图: none|tianditu|gaode|osm|URL 模板 (none: 页面不发出任何请求)"),
        click.option("--public", is_flag=True, default=False, help="公开版地图: 不含税收、营收、得分, 图形概化"),
        click.option("--lists", type=click.Choice(["default", "xlsx"]), default="default",
                     help="清单: 不超过 5 万行写 Excel (default), 或总写 Excel (xlsx)"),
        click.option("--to-db", default=None, metavar="URL",
                     help="结果另写入 PostgreSQL/PostGIS: postgresql://user@host/db (密码用 PGPASSWORD 或 .pgpass)"),
        click.option("--db-schema", default=None, help="数据库模式名 (默认 parkland)"),
        click.option("--lang", type=click.Choice(["zh", "en"]), default="zh"),
        click.option("--verbose", "-v", is_flag=True, default=False),
        click.option("--out", "out", required=True, type=click.Path(file_okay=False), help="输出目录"),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


#: True when this process is the ``parkland`` command itself (the console script, ``python -m parkland``),
#: False when another program calls :func:`main` (a test's CliRunner, a notebook): only the command's own
#: process gets :func:`_tune_process` and :func:`_exit_now`
_OWN_PROCESS = False
#: the command's own process keeps its result here until :func:`_exit_now`: returning from the command
#: would otherwise free a large run's frames object by object first (0.12 s at 100k parcels)
_KEEP: list[Any] = []


def entry() -> None:
    """The ``parkland`` console script and ``python -m parkland``: :func:`main` in a process of its own."""
    global _OWN_PROCESS
    _OWN_PROCESS = True
    main()


def _exit_now() -> None:
    """End the command's process as soon as its work is done and said: the interpreter would otherwise
    free a large run's frames object by object (0.1–0.25 s at 100k parcels) and tear down the modules. The
    standard streams are flushed first; every file parkland writes is already closed (atomic writes).
    Not used with the dask engine or a database sink, whose clients close connections at exit."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _tune_process() -> None:
    """Settings for this process, which the command owns (a notebook keeps its own):

    * Arrow's buffers from the C library's allocator instead of the one pyarrow bundles (mimalloc in the
      wheels, else jemalloc), which hands freed pages back to the system and faults fresh ones in again: at
      100k parcels 0.2–0.35 s of kernel time. ``ARROW_DEFAULT_MEMORY_POOL`` set by the user wins.
    * The cyclic garbage collector's first threshold at 10,000 allocations instead of 700: the full
      collections that walk every object (imported modules, frames of Python strings) run once instead of 4
      times in a 100k run: 0.05 s of collection instead of 0.2–0.4 s. Pandas makes few reference cycles.
    """
    gc.set_threshold(10_000, 10, 10)
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


def _do_assess(kw: dict[str, Any]) -> None:
    from .parallel import drop_prefetched

    try:
        _prefetch_firms(kw)
        _assess_and_write(kw)
    finally:
        drop_prefetched()  # not claimed when the run failed before reading the firm table


def _prefetch_firms(kw: dict[str, Any]) -> None:
    """Start reading the firm table in a second process before the vector stack (geopandas, GDAL,
    pyproj) and the pipeline are imported here; ``assess`` claims the reader (``parallel.claim``) where it
    would otherwise start it. Only for the single-machine engine with both inputs given as files."""
    firms, parcels, sheet = kw.get("firms"), kw.get("parcels"), kw.get("firms_sheet")
    if kw.get("engine", "pandas") != "pandas" or not all(
            isinstance(x, (str, os.PathLike)) and Path(x).is_file() for x in (firms, parcels)):
        return
    from .io.firms import read_firms
    from .parallel import prefetch, read_key

    prefetch(read_key("read_firms", firms, sheet), lambda: read_firms(firms, sheet=sheet))


def _assess_and_write(kw: dict[str, Any]) -> None:
    from .pipeline import STAGES, assess
    from .report.output import EarlyFiles

    lang, verbose, out = kw.pop("lang"), kw.pop("verbose"), kw.pop("out")
    basemap, public, lists = kw.pop("basemap", "none"), kw.pop("public", False), kw.pop("lists", "default")
    to_db, db_schema = kw.pop("to_db", None), kw.pop("db_schema", None)
    kw["rasters"] = _rasters(kw.get("rasters") or ())
    bar = _Bar(lang, verbose, total=len(STAGES))
    engine, scheduler = kw.pop("engine", "pandas"), kw.pop("scheduler", None)
    early = None
    if _OWN_PROCESS:
        _tune_process()
    if scheduler and engine != "dask":
        raise InputError("--scheduler 只用于 --engine dask", "--scheduler only applies with --engine dask")
    try:
        crs = kw.pop("crs")
        if engine == "dask":
            try:
                from .engine.dask import assess_dask
            except ImportError as e:
                raise InputError("未安装 dask：请运行 pip install \"parkland[dask]\"",
                                 'dask is not installed: pip install "parkland[dask]"') from e
            a = assess_dask(kw.pop("parcels"), kw.pop("firms"), scheduler=scheduler, crs=crs, lang=lang,
                            progress=bar, **kw)
        else:
            # firms.csv and the grades and notice lists are written by a second process from the moment
            # the grades are known, parcels.gpkg from the end of the land diagnosis, while this one goes on
            # (report.output.EarlyFiles)
            early = EarlyFiles(out, lang=lang, lists=lists)
            a = assess(kw.pop("parcels"), kw.pop("firms"), crs=crs, lang=lang, progress=bar, ready=early, **kw)
        if _OWN_PROCESS:
            _KEEP.append(a)
        bar("write")
        a.write(out, lang=lang, lists=lists, basemap=basemap, public=public, early=early)
        for w in a.meta.get("map_warnings") or []:
            click.echo(w, err=True)
        if to_db:
            _write_db(a, to_db, db_schema, out, lang)
    finally:
        if early is not None:
            early.discard()
        bar.close()
    s = json.loads((Path(out) / "summary.json").read_text(encoding="utf-8"))  # as written, not made again
    graded = s["counts"]["firms_by_status"].get("graded", 0)
    click.echo(_m("counts", lang, parcels=s["counts"]["parcels"], mu=s["areas"]["parcels_mu"],
                  firms=s["counts"]["firms_in"], graded=graded, recon=s["counts"]["reconciliation_rows"]))
    if s.get("cleanup"):
        c = s["cleanup"]
        click.echo(_m("cleanup", lang, sel=c["selected_mu"], target=c["target_mu"], n=c["parcels"]))
    if s.get("idle_floor", {}).get("selected_m2") is not None:
        c = s["idle_floor"]
        click.echo(_m("floor", lang, sel=c["selected_m2"], target=c["target_m2"]))
    t = s.get("targets") or {}
    parts = []
    for ind in ("output_per_mu", "tax_per_mu"):
        x = t.get(ind) or {}
        if x.get("change_pct") is not None:
            parts.append(_m("target_" + ind, lang, chg=x["change_pct"], goal=x.get("goal_pct") or 0,
                            ok=_m("met" if x.get("met") else "not_met", lang)))
    if parts:
        click.echo(_m("targets", lang, parts="；".join(parts) if lang != "en" else "; ".join(parts)))
    if s.get("grades"):
        click.echo(_m("grades", lang, policy=s["policy"]["name"],
                      grades="  ".join(f"{g} {n}" for g, n in s["grades"].items())))
    click.echo(_m("done", lang, out=os.path.abspath(out)))


def _write_db(a: Any, url: str, schema: str | None, out: str, lang: str) -> None:
    """The results as tables in PostGIS (one transaction; parkland's own tables only)."""
    from .io.postgis import redact
    from .recon import render
    from .report.db import write_db
    from .report.output import firms_table, parcels_table

    s = a.summary()
    tables = {"parcels": parcels_table(a), "firms": firms_table(a), "reconciliation": render(a.recon, lang)}
    if a.cleanup is not None:
        tables["cleanup"] = a.cleanup
    write_db(tables, url, schema=schema, run_info={
        "year": a.meta.get("year"), "policy": s.get("policy", {}).get("name"),
        "policy_hash": s.get("policy", {}).get("sha256"), "version": s.get("version"),
        "counts": s["counts"], "inputs": s.get("inputs"), "out": os.path.abspath(out)})
    click.echo(_m("db", lang, url=redact(url)))


def _rasters(specs: tuple[str, ...] | dict) -> dict[str, str]:
    """``NAME=PATH`` pairs → {name: path}; a bad spec is an input error."""
    if isinstance(specs, dict):
        return specs
    out: dict[str, str] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise InputError(f"--raster 应写成 名称=路径，例如 ndvi=ndvi.tif，而不是 {spec}",
                             f"--raster takes NAME=PATH, e.g. ndvi=ndvi.tif, not {spec}")
        if not Path(path.strip()).is_file():
            raise InputError("栅格文件不存在", "raster file not found", file=path.strip())
        out[name.strip()] = path.strip()
    return out


@main.command("assess")
@_assess_options
def assess_cmd(**kw: Any) -> None:
    """评价：读取宗地与企业数据，计算亩均指标并写出结果目录。"""
    lang, verbose = kw["lang"], kw["verbose"]
    plain = kw.get("engine", "pandas") == "pandas" and not kw.get("to_db")
    _run(lambda: _do_assess(kw), lang, verbose)
    if _OWN_PROCESS and plain:
        _exit_now()


@main.command("demo")
@click.option("--out", "out", default="out/demo", show_default=True, type=click.Path(file_okay=False))
@click.option("--policy", default="sichuan-2022", show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh")
@click.option("--verbose", "-v", is_flag=True, default=False)
def demo_cmd(out: str, policy: str, lang: str, verbose: bool) -> None:
    """用内置示例城市运行完整评价（全部输入均已给出）。"""

    def run() -> None:
        from .demo_data import demo_data_dir

        d = demo_data_dir()
        click.echo(_m("demo_from", lang, dir=d), err=True)
        _do_assess({
            "parcels": str(d / "city.gpkg"), "parcels_layer": "zongdi", "parcel_id": None,
            "firms": str(d / "firms_2025.xlsx"), "firms_sheet": None, "links": str(d / "links.csv"),
            "parks": str(d / "city.gpkg"), "parks_layer": "parks", "year": 2025, "as_of": None,
            "previous_firms": str(d / "firms_2024.xlsx"), "overrides": None, "policy": policy,
            "buildings": str(d / "city.gpkg"), "buildings_layer": "buildings", "rasters": {"ndvi": str(d / "ndvi.tif")},
            "target_mu": None, "target_floor_m2": None, "strategy": None,
            "basemap": "none", "public": False, "lists": "default",
            "area_basis": "polygon", "firm_coords": "wgs84", "crs": None, "io_engine": "pyogrio",
            "lang": lang, "verbose": verbose, "out": out,
        })

    _run(run, lang, verbose)
    if _OWN_PROCESS:
        _exit_now()


@main.command("map")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--out", "map_dir", default=None, type=click.Path(file_okay=False), help="地图目录 (默认: 结果目录)")
@click.option("--per-park", is_flag=True, default=False, help="每个园区一张地图, 另加索引页")
@click.option("--basemap", default="none", show_default=True)
@click.option("--public", is_flag=True, default=False)
@click.option("--detail-max", "detail_max", type=click.IntRange(min=0), default=None,
              help="宗地数超过此值时 map.html 为园区总览, 各园区详图在 map_parks/ (默认 200000)")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh")
@click.option("--verbose", "-v", is_flag=True, default=False)
def map_cmd(out_dir: str, map_dir: str | None, per_park: bool, basemap: str, public: bool,
            detail_max: int | None, lang: str, verbose: bool) -> None:
    """由结果目录重新生成离线地图 (map.html, 或每园区一张及索引页)。"""

    def run() -> None:
        from .report.maps import render_dir

        files, warnings = render_dir(out_dir, map_dir, per_park=per_park, basemap=basemap, public=public,
                                     lang=lang, detail_max=detail_max)
        for w in warnings:
            click.echo(w, err=True)
        click.echo(_m("maps", lang, n=len(files), dir=os.path.abspath(map_dir or out_dir)))

    _run(run, lang, verbose)


@main.command("export")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--what", "what", multiple=True, default=("all",), show_default=True,
              help="cards,gpkg,shp,geojson,kml,print,report,all (可重复或用逗号分隔)")
@click.option("--shp-encoding", type=click.Choice(["GBK", "UTF-8"], case_sensitive=False), default="GBK",
              show_default=True)
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh")
@click.option("--verbose", "-v", is_flag=True, default=False)
def export_cmd(out_dir: str, what: tuple[str, ...], shp_encoding: str, lang: str, verbose: bool) -> None:
    """由结果目录生成交付物：企业评价卡、GIS 数据 (GPKG/SHP/GeoJSON/KML)、打印地图、汇总报告。"""

    def run() -> None:
        import warnings

        from .report.exporter import export_dir

        kinds = [k.strip() for w in what for k in w.split(",") if k.strip()]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            files = export_dir(out_dir, kinds, lang=lang, shp_encoding=shp_encoding.upper())
        for w in caught:
            if issubclass(w.category, UserWarning):
                click.echo(str(w.message), err=True)
        click.echo(_m("exported", lang, n=len(files), dir=os.path.abspath(out_dir)))

    _run(run, lang, verbose)


if __name__ == "__main__":  # pragma: no cover
    main()

