"""report/output.py: the two writing lanes (a forked second process for the lists) give the same files."""

from __future__ import annotations

import os
from pathlib import Path

import openpyxl
import pytest

from parkland import assess
from parkland.report import output


@pytest.fixture()
def result(small_park):
    return assess(small_park["parcels"], small_park["firms"], parcels_layer="zongdi", links=small_park["links"])


def _cells(path: Path) -> dict[str, list[tuple]]:
    wb = openpyxl.load_workbook(path)
    # the notes sheet carries the run time; everything else must be equal
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets
            if ws.title != "说明"}


def test_two_lanes_write_the_same_files(result, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, alone) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    one = output.write_outputs(result, tmp_path / "one", jobs=1, map_html=False)
    two = output.write_outputs(result, tmp_path / "two", jobs=2, map_html=False)
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in two.iterdir())
    assert {"grades.xlsx", "notice.xlsx", "cleanup.xlsx", "firms.csv", "parcels.gpkg"} <= set(names)
    for n in names:
        if n.endswith((".csv", ".json", ".toml")):
            assert (one / n).read_bytes() == (two / n).read_bytes(), n
        elif n.endswith(".xlsx"):
            assert _cells(one / n) == _cells(two / n), n
    grades = _cells(two / "grades.xlsx")["评价结果"]
    assert "统一社会信用代码" in grades[0] and "企业名称" in grades[0]
    assert len(grades) == len(result.firms) + 1


def test_second_process_failure_is_raised(result, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          alone) -> None:

    def broken(*a, **k):
        raise OSError("磁盘已满 disk full")

    monkeypatch.setattr(output, "write_workbook", broken)
    with pytest.raises(OSError, match="disk full") as err:  # the child's error, as itself
        output.write_outputs(result, tmp_path / "o", jobs=2, map_html=False)
    notes = "\n".join(err.value.__notes__)
    assert "cleanup.xlsx" in notes and "second process" in notes and "Traceback" in notes
    # this process's own file was still written, atomically, but summary.json (written last, when the
    # folder is complete) is not; no temporary file is left behind
    assert (tmp_path / "o" / "parcels.gpkg").is_file() and not (tmp_path / "o" / "summary.json").exists()
    assert [p.name for p in (tmp_path / "o").iterdir() if p.name.startswith(".")] == []


def test_input_error_in_either_lane_stays_an_input_error(result, tmp_path, monkeypatch, alone) -> None:
    from parkland.errors import InputError

    def bad(*a, **k):
        raise InputError("公示名单不得公开数值列", "the notice list may not publish figures")

    monkeypatch.setattr(output, "notice_list", bad)
    with pytest.raises(InputError, match="公示名单"):
        output.write_outputs(result, tmp_path / "o", jobs=2, map_html=False)
    # this process's error wins; the child's is added as a note after it finished its files
    monkeypatch.setattr(output, "write_gpkg_layers", bad)
    with pytest.raises(InputError) as err:
        output.write_outputs(result, tmp_path / "p", jobs=2, map_html=False)
    assert any("second process" in n and "InputError" in n for n in err.value.__notes__)
    assert (tmp_path / "p" / "firms.csv").is_file()


def test_no_fork_means_the_same_files_here(result, tmp_path, monkeypatch, alone) -> None:
    import errno

    def no_fork() -> int:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    out = output.write_outputs(result, tmp_path / "o", jobs=2, map_html=False)
    assert {"firms.csv", "grades.xlsx", "summary.json"} <= {p.name for p in out.iterdir()}


def test_run_lanes_order_and_fallback(tmp_path: Path) -> None:
    log = tmp_path / "log"

    def task(name: str):
        return name, lambda: log.open("a").write(f"{name}:{os.getpid()}\n")

    output.run_lanes([task("b1"), task("b2")], [task("a1")], parallel=False)
    assert [x.split(":")[0] for x in log.read_text().split()] == ["a1", "b1", "b2"]
    log.unlink()
    output.run_lanes([task("b1"), task("b2")], [task("a1")], parallel=True)
    rows = dict(x.split(":") for x in log.read_text().split())
    assert rows["a1"] == str(os.getpid()) and rows["b1"] == rows["b2"] != rows["a1"]


def test_parallel_only_when_safe(result, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    alone = [threading.current_thread()]
    monkeypatch.setattr(threading, "enumerate", lambda: alone)  # other test modules may leave threads
    assert output._parallel_ok(result)
    worker = threading.Thread(target=lambda: None, name="client-comm")
    monkeypatch.setattr(threading, "enumerate", lambda: [*alone, worker])
    assert not output._parallel_ok(result)  # a fork would lose that thread (the dask client's)
    monkeypatch.setattr(threading, "enumerate", lambda: alone)
    monkeypatch.setenv("PARKLAND_JOBS", "1")
    assert not output._parallel_ok(result)
    monkeypatch.delenv("PARKLAND_JOBS")
    monkeypatch.setattr(output, "PARALLEL_MAX_ROWS", 3)
    assert not output._parallel_ok(result)


def test_lists_as_csv_in_english_have_distinct_headers(result, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(output, "XLSX_MAX_ROWS", 0)  # every list goes to CSV
    out = output.write_outputs(result, tmp_path / "o", lang="en", jobs=1, map_html=False)
    head = (out / "cleanup.csv").read_text("utf-8-sig").splitlines()[0].split(",")
    assert len(head) == len(set(head)) and '"firms"' in head and '"firms (firm_count)"' in head
    assert (out / "grades.csv").is_file() and (out / "notice.csv").is_file()


# ------------------------------------------------- files written early by forked processes (EarlyFiles)
def _run_early(small_park, out: Path, **kw) -> tuple:
    early = output.EarlyFiles(out, **{k: kw.pop(k) for k in ("lang", "lists") if k in kw})
    try:
        a = assess(small_park["parcels"], small_park["firms"], parcels_layer="zongdi", links=small_park["links"],
                   ready=early, **kw)
        return a, early
    except BaseException:
        early.discard()
        raise


def test_early_files_are_the_same_files(small_park, tmp_path: Path, monkeypatch, alone) -> None:
    """assess(ready=EarlyFiles) + write(early=…): firms.csv and the grades and notice lists (started after
    grading) and parcels.gpkg (after the land diagnosis) come from forked processes; every file equals
    the one-process run, and no staging folder is left."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    a, early = _run_early(small_park, tmp_path / "two")
    assert set(early._jobs) == {"firms", "parcels"}  # both started by the pipeline, before write()
    stages = [stage for _, stage, _ in early._jobs.values()]
    assert all(st.parent == tmp_path / "two" and st.name.startswith(".parkland-") for st in stages)
    assert early.serves(a, tmp_path / "two", "zh", "default") == {"firms", "parcels"}
    a.write(tmp_path / "two", early=early, map_html=False)
    assert not any(st.exists() for st in stages) and early._jobs == {}
    one = output.write_outputs(a, tmp_path / "one", jobs=1, map_html=False)
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in (tmp_path / "two").iterdir())  # no hidden folder either
    assert {"parcels.gpkg", "firms.csv", "grades.xlsx", "notice.xlsx", "summary.json"} <= set(names)
    for n in names:
        if n.endswith((".csv", ".json", ".toml")):
            assert (one / n).read_bytes() == (tmp_path / "two" / n).read_bytes(), n
        elif n.endswith(".xlsx"):
            assert _cells(one / n) == _cells(tmp_path / "two" / n), n
    import pyogrio
    from pandas.testing import assert_frame_equal

    for layer in pyogrio.list_layers(one / "parcels.gpkg")[:, 0]:
        assert_frame_equal(pyogrio.read_dataframe(one / "parcels.gpkg", layer=layer),
                           pyogrio.read_dataframe(tmp_path / "two" / "parcels.gpkg", layer=layer), check_exact=True)
    assert len(_cells(tmp_path / "two" / "grades.xlsx")["评价结果"]) == len(a.firms) + 1


def test_early_files_not_matching_the_write_are_dropped(small_park, tmp_path: Path, monkeypatch, alone) -> None:
    """Written early in Chinese, asked for in English (or for another firm table): the early files are
    thrown away and the right ones written; the early folder is left empty."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    a, early = _run_early(small_park, tmp_path / "zh")
    a.write(tmp_path / "en", early=early, lang="en", map_html=False)
    assert early._jobs == {} and list((tmp_path / "zh").iterdir()) == []
    head = (tmp_path / "en" / "firms.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert head.startswith('"source_row"')
    assert openpyxl.load_workbook(tmp_path / "en" / "grades.xlsx").worksheets[0].title == "grades"
    # the parcels still match, the firm table does not: only parcels.gpkg is taken
    a, early = _run_early(small_park, tmp_path / "o")
    a.firms = a.firms.copy()
    assert early.serves(a, tmp_path / "o", "zh", "default") == {"parcels"}
    a.write(tmp_path / "o", early=early, map_html=False)
    assert {"parcels.gpkg", "firms.csv", "grades.xlsx", "summary.json"} <= {p.name for p in (tmp_path / "o").iterdir()}
    assert not [p for p in (tmp_path / "o").iterdir() if p.name.startswith(".")]


def test_failed_run_leaves_no_early_files(small_park, tmp_path: Path, monkeypatch, alone) -> None:
    """The plan fails after the firm files and the parcel layer were started: the writers are stopped
    and their folders removed; the output folder holds no file."""
    import parkland.pipeline as P

    def broken(*a, **k):
        raise RuntimeError("plan broke")

    monkeypatch.setattr(P, "candidates", broken)
    started = []
    call = output.EarlyFiles.__call__

    def spy(self, group, a):
        call(self, group, a)
        started.extend(g for g in self._jobs if g not in started)

    monkeypatch.setattr(output.EarlyFiles, "__call__", spy)
    out = tmp_path / "new" / "o"
    with pytest.raises(RuntimeError, match="plan broke"):
        _run_early(small_park, out)
    assert started == ["firms", "parcels"]  # both writers had started
    # their folders are gone, and so are the output folder and its parent, which they had made
    assert not (tmp_path / "new").exists()


def test_early_writer_failure_is_raised(small_park, tmp_path: Path, monkeypatch, alone) -> None:
    """An early process fails (disk full writing the grades): write() raises that error, as itself, with
    a note naming the files; summary.json is not written and no staging folder is left."""

    def broken(*a, **k):
        raise OSError("磁盘已满 disk full")

    monkeypatch.setattr(output, "grades_list", broken)
    a, early = _run_early(small_park, tmp_path / "o")
    monkeypatch.undo()
    with pytest.raises(OSError, match="disk full") as err:
        a.write(tmp_path / "o", early=early, map_html=False)
    assert "firms.csv, grades and notice" in "\n".join(err.value.__notes__)
    names = sorted(p.name for p in (tmp_path / "o").iterdir())
    assert "summary.json" not in names and not [n for n in names if n.startswith(".")]
    assert "grades.xlsx" not in names and "reconciliation.csv" in names


def test_no_early_writer_where_forking_is_not_used(small_park, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PARKLAND_JOBS", "1")
    a, early = _run_early(small_park, tmp_path / "o")
    assert early._jobs == {} and not (tmp_path / "o").exists()
    a.write(tmp_path / "o", early=early, map_html=False)
    assert (tmp_path / "o" / "grades.xlsx").is_file() and (tmp_path / "o" / "parcels.gpkg").is_file()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_grades_csv_written_with_firms_csv_is_the_file_alone(result, tmp_path, monkeypatch, lang) -> None:
    """Past XLSX_MAX_ROWS, firms.csv's task writes grades.csv too (the shared columns rendered once): the
    same bytes as each written on its own, and the grades task then writes nothing more."""
    from parkland.report.excel import Sheet
    from parkland.report.export import write_csv
    from parkland.report.lists import grades_list

    monkeypatch.setattr(output, "XLSX_MAX_ROWS", 0)
    firms = output.firms_table(result)
    tasks = dict(output._firm_tasks(result, tmp_path / "o", lang, "default", firms))
    tasks["firms.csv"]()
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["firms.csv", "grades.csv"]
    tasks["grades.xlsx"]()
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["firms.csv", "grades.csv"]
    g = grades_list(firms, lang)
    alone_g = write_csv(output._csv_frame(g, [Sheet("g", g)], lang), tmp_path / "g.csv").read_bytes()
    alone_f = write_csv(firms, tmp_path / "f.csv").read_bytes()
    assert (tmp_path / "o" / "grades.csv").read_bytes() == alone_g
    from parkland.report.export import _shared_plan

    runs = _shared_plan([firms, output._csv_frame(g, [Sheet("g", g)], lang)])[0]  # the shared path was taken
    assert any(shared for shared, _ in runs) and not all(shared for shared, _ in runs)
    assert (tmp_path / "o" / "firms.csv").read_bytes() == alone_f
    head = alone_g.decode("utf-8-sig").split("\n")[0]
    assert head.startswith('"源数据行号","文件行号"' if lang == "zh" else '"') and alone_g != alone_f
    # with lists="xlsx" firms.csv is written alone and grades.xlsx by its own task
    tasks = dict(output._firm_tasks(result, tmp_path / "x", lang, "xlsx", firms))
    tasks["firms.csv"]()
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["firms.csv"]
    tasks["grades.xlsx"]()
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["firms.csv", "grades.xlsx"]
