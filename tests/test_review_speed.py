"""Review of the speed commits after 86e4343: the early-written output files (report.output.EarlyFiles,
``assess(ready=...)``), their failure paths, and the readers/lists rewritten for speed. Every test here
states the result the one-process run (``PARKLAND_JOBS=1``) or the code before the change gives."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from parkland import pipeline
from parkland.cli import main
from parkland.report.lists import spell_out
from parkland.report.output import EarlyFiles


def _args(small_park, out, *extra) -> list[str]:
    return ["assess", "--parcels", str(small_park["parcels"]), "--parcels-layer", "zongdi",
            "--firms", str(small_park["firms"]), "--links", str(small_park["links"]), *map(str, extra),
            "--out", str(out)]


def _hidden(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*")) if folder.exists() else []


def _children() -> list[int]:
    """Live (or unreaped) child processes of this process."""
    me = str(os.getpid())
    kids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if stat.rsplit(")", 1)[1].split()[1] == me:
                kids.append(int(d.name))
    return kids


def _bad_strategy_policy(tmp_path: Path) -> Path:
    """sichuan-2022 with an unknown [plan] strategy: read fine, fails in the plan stage (after grading
    and the land diagnosis, i.e. after both EarlyFiles hooks)."""
    text = resources.files("parkland.scoring.presets").joinpath("sichuan-2022.toml").read_text(encoding="utf-8")
    assert 'strategy = "priority"' in text
    p = tmp_path / "bad_strategy.toml"
    p.write_text(text.replace('strategy = "priority"', 'strategy = "bogus"', 1), encoding="utf-8")
    return p


def _folder(out: Path) -> dict[str, object]:
    """The output folder's content without its timestamps (workbooks by cell, the rest by bytes)."""
    from openpyxl import load_workbook

    got: dict[str, object] = {}
    for f in sorted(out.iterdir()):
        if f.suffix == ".xlsx":
            wb = load_workbook(f)
            got[f.name] = {ws.title: [r for r in ws.iter_rows(values_only=True)
                                      if not any(isinstance(v, str) and v.startswith("20") and ":" in v for v in r)]
                           for ws in wb.worksheets}
        elif f.suffix == ".gpkg":
            import pyogrio

            frames = {layer: pd.DataFrame(pyogrio.read_dataframe(f, layer=layer).to_wkt()).astype(object)
                      for layer, _ in pyogrio.list_layers(f)}
            got[f.name] = {k: v.where(v.notna(), None).to_dict("list") for k, v in frames.items()}
        elif f.name == "summary.json":
            s = json.loads(f.read_text(encoding="utf-8"))
            s.get("run", {}).pop("elapsed_s", None)
            got[f.name] = s
        elif f.name == "map.html":
            got[f.name] = len(f.read_bytes()) > 0
        else:
            got[f.name] = f.read_bytes()
    return got


# ------------------------------------------------------------------------------------------ failing


def test_failed_run_leaves_no_output_folder_it_created(small_park, tmp_path, monkeypatch, alone):
    """A run that fails after grading must not leave an (empty) output folder behind: the one-process run
    and the code before EarlyFiles create the folder only when writing. EarlyFiles.__call__ makes it (with
    parents) at the grading hook, and discard() removes only its staging folders."""
    pol = _bad_strategy_policy(tmp_path)
    single = tmp_path / "single" / "out"
    monkeypatch.setenv("PARKLAND_JOBS", "1")
    r1 = CliRunner().invoke(main, _args(small_park, single, "--policy", pol))
    assert r1.exit_code == 2, r1.output
    assert not single.exists() and not single.parent.exists()
    monkeypatch.delenv("PARKLAND_JOBS")
    early = tmp_path / "early" / "out"
    r2 = CliRunner().invoke(main, _args(small_park, early, "--policy", pol))
    assert r2.exit_code == 2, r2.output
    assert _hidden(early.parent) == []
    assert not early.exists()  # fails: an empty folder tmp_path/early/out is left behind
    assert not early.parent.exists()


def test_early_files_not_taken_after_the_firm_table_changed_in_place(small_park, tmp_path, alone):
    """``a.write(out, early=early)`` must write what ``a.firms`` holds when it is called; the docstring
    promises the early files are taken only "when they fit". An in-place change of the frame (a notebook
    correcting a grade before writing) keeps the same object, so serves() takes the early firms.csv and
    grades.xlsx, written from the frame as it was at the grading hook."""
    out = tmp_path / "out"
    early = EarlyFiles(out)
    a = pipeline.assess(small_park["parcels"], small_park["firms"], parcels_layer="zongdi",
                        links=small_park["links"], ready=early)
    assert early._jobs  # the early writers run
    graded = a.firms.index[a.firms["status"].eq("graded")]
    assert len(graded)
    a.firms.loc[graded, "grade"] = "D"  # in place: still the same frame object
    a.write(out, early=early)
    f = pd.read_csv(out / "firms.csv", encoding="utf-8-sig")
    assert f.loc[f["status"].eq("graded"), "grade"].eq("D").all()  # fails: the grades at the hook are written
    assert _hidden(out) == []


def test_spell_out_keeps_values_that_are_not_codes():
    """spell_out relabels text codes only; other values stay as they are (the code before the change:
    ``s.where(~s.isin(text codes), s.map(mapping))``). pd.factorize counts True, 1 and 1.0 (and 0, False,
    -0.0) as one value, so the new code writes the first of them for all."""
    df = pd.DataFrame({"scale": pd.Series([1, 1.0, True, "above", None, 0, False, -0.0], dtype=object)})
    got = spell_out(df, "zh")["scale"].tolist()
    assert got[3] == "规上"
    assert got[4] is None
    assert [type(v) for v in got[:3]] == [int, float, bool]  # fails: [int, int, int]
    assert [type(v) for v in got[5:]] == [int, bool, float]
    assert str(got[7]) == "-0.0"


# ------------------------------------------------------------------------------------------ passing


def test_failure_after_the_hooks_leaves_earlier_files_and_no_staging(small_park, tmp_path, monkeypatch, alone):
    """An output folder from an earlier run, then a run that fails in the plan stage (after both early
    writers started): the earlier files stay as they were, no hidden staging folder and no child process
    is left."""
    out = tmp_path / "out"
    r = CliRunner().invoke(main, _args(small_park, out))
    assert r.exit_code == 0, r.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    kids_before = _children()

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "candidates", boom)
    with pytest.raises((KeyboardInterrupt, click.exceptions.Abort)):
        main(_args(small_park, out, "--lang", "en"), standalone_mode=False)
    assert _hidden(out) == []
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert _children() == kids_before


def test_error_in_an_early_writer_is_raised_and_cleaned(small_park, tmp_path, monkeypatch, alone):
    """A writer of the firm group failing in its forked process: the run fails as the one-process run does
    (exit 1, internal error), and no staging folder is left."""
    import parkland.report.output as output

    def bad(*a, **k):
        raise RuntimeError("grades list broke")

    monkeypatch.setattr(output, "grades_list", bad)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, _args(small_park, out))
    monkeypatch.setenv("PARKLAND_JOBS", "1")
    r1 = CliRunner().invoke(main, _args(small_park, tmp_path / "single"))
    assert r.exit_code == r1.exit_code == 1
    assert "grades list broke" in r.output and "grades list broke" in r1.output
    assert _hidden(out) == []
    assert not (out / "summary.json").exists()


def test_early_run_over_an_earlier_folder_equals_the_one_process_run(small_park, tmp_path, monkeypatch, alone):
    """--lang en --lists xlsx with overrides (audit sheet in grades.xlsx), written over a folder holding a
    Chinese run, with a relative --out: the same files as PARKLAND_JOBS=1 into a fresh folder."""
    from conftest import USCC

    ov = tmp_path / "overrides.csv"
    ov.write_text("统一社会信用代码,类型,字段,新值,理由,文号\n"
                  f"{USCC['B']},数据更正,税收（元）,450000,更正,=HYPERLINK(\"x\")\n"
                  f"{USCC['C']},评价等级,,D,复核认定,文13号\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    r0 = CliRunner().invoke(main, _args(small_park, Path("rel/out")))
    assert r0.exit_code == 0, r0.output
    extra = ("--lang", "en", "--lists", "xlsx", "--overrides", ov)
    r = CliRunner().invoke(main, _args(small_park, Path("rel/out"), *extra))
    assert r.exit_code == 0, r.output
    monkeypatch.setenv("PARKLAND_JOBS", "1")
    r1 = CliRunner().invoke(main, _args(small_park, tmp_path / "single", *extra))
    assert r1.exit_code == 0, r1.output
    assert _hidden(tmp_path / "rel") == []
    early, single = _folder(tmp_path / "rel" / "out"), _folder(tmp_path / "single")
    assert early.keys() == single.keys()
    for name in early:
        assert early[name] == single[name], name
    s = json.loads((tmp_path / "rel" / "out" / "summary.json").read_text(encoding="utf-8"))
    assert s["overrides"]["applied"] == 2


def test_early_files_dropped_when_write_asks_for_other_options(small_park, tmp_path, alone):
    """assess(ready=early) in Chinese, then write in English into another folder: nothing early is taken,
    the English files are written, and neither folder holds a staging folder."""
    out = tmp_path / "out"
    early = EarlyFiles(out)
    a = pipeline.assess(small_park["parcels"], small_park["firms"], parcels_layer="zongdi",
                        links=small_park["links"], ready=early)
    assert set(early._jobs) == {"firms", "parcels"}
    other = tmp_path / "other"
    a.write(other, lang="en", early=early)
    assert not early._jobs
    assert _hidden(out) == [] and _hidden(other) == []
    f = pd.read_csv(other / "firms.csv", encoding="utf-8-sig")
    assert len(f) == 8
    from openpyxl import load_workbook

    assert load_workbook(other / "grades.xlsx").sheetnames[0] == "grades"


def test_parse_dates_serial_beyond_2262_is_bad_not_a_crash():
    """Excel serial 2958465 (9999-12-31) stopped the run before; now a bad date. The last serial a
    datetime64[ns] holds (2262-04-11) still reads."""
    from parkland.io.values import parse_dates

    d, bad = parse_dates(pd.Series(["2958465", "132320", "45000", None, "132321"], dtype=object))
    assert bad.tolist() == [True, False, False, False, True]
    assert d.iloc[1] == pd.Timestamp("2262-04-11")
    assert d.iloc[2] == pd.Timestamp("2023-03-15")
    assert pd.isna(d.iloc[3])


def test_valid_mask_odd_cells():
    """Credit-code check on bytes: lone surrogates, full-width look-alikes, 18-byte non-ASCII cells, numbers
    and a non-default index."""
    from parkland.uscc import make, valid_mask

    good = make("91511302MA0000001")
    s = pd.Series([good, good.lower(), "\ud800" * 6, "é" * 9, "Ａ" + good[1:], good + " ", "\ud800" + good[1:],
                   None, np.nan, good[:-1] + "Ｘ"], index=range(10, 20), dtype=object)
    got = valid_mask(s)
    assert got.index.tolist() == list(range(10, 20))
    assert got.tolist() == [True] + [False] * 9
    # numbers are tested as their text (str(cell)), as before
    assert valid_mask(pd.Series([123456789012345678, 123456789012345679, good, True], dtype=object)).tolist() == [
        True, False, True, False]  # "123456789012345678" happens to pass the check digit


def test_interrupt_while_an_early_group_is_prepared_leaves_no_staging(small_park, tmp_path, monkeypatch, alone):
    """EarlyFiles.__call__ makes its hidden staging folder first and only then prepares the group's frame
    (firms_table: a sort of the whole firm table, long at a million firms) and forks; an interrupt (or any
    error) in between leaves the folder, which is not yet registered for discard(). The run before the
    change left nothing; a failed run must leave no ``.parkland-*`` folder."""
    import parkland.report.output as output

    def interrupted(a):
        raise KeyboardInterrupt

    monkeypatch.setattr(output, "firms_table", interrupted)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises((KeyboardInterrupt, click.exceptions.Abort)):
        main(_args(small_park, out), standalone_mode=False)
    assert _hidden(out) == []  # fails: ['.parkland-firms-…'] is left
