"""parkland/parallel.py: a call in a forked child, and assess reading the firm table in one."""

from __future__ import annotations

import errno
import os
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from parkland import assess
from parkland.errors import InputError
from parkland.parallel import ChildFailed, ForkFailed, can_fork, fork_call


def test_result_comes_back_from_the_child() -> None:
    parent = os.getpid()
    job = fork_call(lambda: {"pid": os.getpid(), "frame": pd.DataFrame({"a": [1.5, None]})})
    got = job.result()
    assert got["pid"] != parent
    assert got["frame"]["a"].iloc[0] == 1.5 and pd.isna(got["frame"]["a"].iloc[1])
    assert job.result() is got  # asked twice: the same value, no second wait


def test_child_error_comes_back_as_itself() -> None:
    def boom() -> None:
        raise ValueError("第 7 行 bad value")

    job = fork_call(boom)
    with pytest.raises(ValueError, match="第 7 行 bad value") as err:
        job.result()
    notes = "\n".join(getattr(err.value, "__notes__", []))
    assert "forked parkland process" in notes and "Traceback" in notes and "boom" in notes
    with pytest.raises(ValueError):  # asked again: the same failure, not None
        job.result()


def test_interrupted_child_ends_there(tmp_path: Path) -> None:
    """A KeyboardInterrupt (or SystemExit) in the child ends the child: it never unwinds into the
    parent's code (a finally block of the caller would run twice, once in each process)."""
    marker = tmp_path / "unwound"

    def interrupted() -> None:
        raise KeyboardInterrupt

    def caller(fn) -> object:
        try:
            return fork_call(fn)
        finally:  # runs in this process only
            with open(marker, "a") as fh:
                fh.write(f"{os.getpid()}\n")

    for fn in (interrupted, lambda: exec("raise SystemExit(3)")):
        job = caller(fn)
        with pytest.raises(ChildFailed, match="exit code 1"):
            job.result()
    assert marker.read_text().split() == [str(os.getpid())] * 2


class Unpicklable(Exception):
    def __init__(self, a: str, b: str) -> None:  # pickle rebuilds with one argument: fails
        super().__init__(f"{a}/{b}")


def test_an_error_that_cannot_travel_comes_back_as_text() -> None:
    def boom() -> None:
        raise Unpicklable("x", "y")

    with pytest.raises(ChildFailed, match="Unpicklable: x/y"):
        fork_call(boom).result()


def test_fork_failure_leaks_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise OSError(errno.ENOMEM, "Cannot allocate memory")

    before = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(os, "fork", no_fork)
    with pytest.raises(ForkFailed):
        fork_call(lambda: 1)
    assert len(os.listdir("/proc/self/fd")) == before


def test_cancel_after_result_leaves_other_files_alone(tmp_path: Path) -> None:
    job = fork_call(lambda: 5)
    assert job.result() == 5
    with open(tmp_path / "x", "w") as fh:  # may get the pipe's old descriptor number
        job.cancel()
        fh.write("still open")
    assert (tmp_path / "x").read_text() == "still open"


def test_cancel_stops_the_child(tmp_path: Path) -> None:
    mark = tmp_path / "done"
    job = fork_call(lambda: (time.sleep(5), mark.write_text("x")))
    t = time.perf_counter()
    job.cancel()
    assert time.perf_counter() - t < 2 and not mark.exists()


def test_can_fork_only_when_safe(monkeypatch: pytest.MonkeyPatch) -> None:
    alone = [threading.current_thread()]
    monkeypatch.setattr(threading, "enumerate", lambda: alone)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert can_fork()
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert not can_fork()
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(threading, "enumerate", lambda: [*alone, threading.Thread(target=print)])
    assert not can_fork()
    monkeypatch.setattr(threading, "enumerate", lambda: alone)
    monkeypatch.setenv("PARKLAND_JOBS", "1")
    assert not can_fork()


def test_assess_reads_firms_in_a_second_process_with_the_same_result(small_park, monkeypatch,
                                                                    alone) -> None:
    calls: list[int] = []
    import parkland.pipeline as pipeline

    real = pipeline.read_firms

    def spy(*a, **k):
        calls.append(os.getpid())
        return real(*a, **k)

    monkeypatch.setattr(pipeline, "read_firms", spy)
    kw = {"parcels_layer": "zongdi", "links": small_park["links"]}
    two = assess(small_park["parcels"], small_park["firms"], **kw)
    assert calls == []  # not in this process: the child's list is its own copy
    monkeypatch.setenv("PARKLAND_JOBS", "1")
    one = assess(small_park["parcels"], small_park["firms"], **kw)
    assert calls == [os.getpid()]
    pd.testing.assert_frame_equal(one.firms, two.firms)
    pd.testing.assert_frame_equal(one.recon, two.recon)
    pd.testing.assert_frame_equal(pd.DataFrame(one.parcels.drop(columns="geometry")),
                                  pd.DataFrame(two.parcels.drop(columns="geometry")))
    assert list(one.meta["inputs"].items()) == list(two.meta["inputs"].items())  # same order in summary.json


def test_unreadable_firm_table_is_the_usual_input_error(small_park, tmp_path, monkeypatch, alone) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("名字,地址\n甲,乙\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        assess(small_park["parcels"], bad, parcels_layer="zongdi")
    assert "bad.csv" in str(err.value)


def _children() -> set[int]:
    """Child processes of this process (running or not yet reaped), from /proc."""
    out: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        out |= {int(x) for x in (task / "children").read_text().split()}
    return out


def test_errors_come_in_the_serial_order(small_park, tmp_path, monkeypatch, alone) -> None:
    bad_firms = tmp_path / "bad.csv"
    bad_firms.write_text("名字,地址\n甲,乙\n", encoding="utf-8")
    bad_links = tmp_path / "badlinks.csv"
    bad_links.write_text("x,y\n1,2\n", encoding="utf-8")
    seen = []
    before = _children()
    for jobs in ("2", "1"):
        monkeypatch.setenv("PARKLAND_JOBS", jobs)
        with pytest.raises(InputError) as err:
            assess(small_park["parcels"], bad_firms, parcels_layer="zongdi", links=bad_links)
        seen.append(str(err.value).splitlines()[0])
        assert _children() <= before
    assert seen[0] == seen[1] and "bad.csv" in seen[0]  # the firm table's error, as read in order


def test_no_stray_reader_after_a_parcel_error(small_park, tmp_path, monkeypatch, alone) -> None:
    empty = tmp_path / "empty.gpkg"
    import geopandas as gpd

    gpd.GeoDataFrame({"宗地代码": []}, geometry=[], crs="EPSG:4523").to_file(empty, layer="zongdi")
    before = _children()
    with pytest.raises(InputError) as err:  # the error is kept alive here, as a REPL would
        assess(empty, small_park["firms"], parcels_layer="zongdi")
    assert _children() <= before and "宗地" in str(err.value)


def test_prefetch_claim_and_drop(alone) -> None:
    from parkland import parallel

    key = parallel.read_key("read_firms", __file__, None)
    assert key == ("read_firms", os.path.realpath(__file__), None)
    assert parallel.prefetch(key, lambda: os.getpid()) is True
    assert parallel.prefetch(key, lambda: 0) is False  # one call per key
    job = parallel.claim(key)
    assert job is not None and parallel.claim(key) is None  # claimed once
    assert job.result() not in (os.getpid(), 0)
    # an unclaimed call is stopped and reaped
    assert parallel.prefetch(("slow",), lambda: time.sleep(30))
    slow = parallel._PREFETCHED[("slow",)]
    pid = slow._pid
    started = time.perf_counter()
    parallel.drop_prefetched()
    assert parallel.claim(("slow",)) is None and time.perf_counter() - started < 5
    assert slow._pid is None  # reaped
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # no such child any more


def test_the_command_reads_the_firm_table_ahead_and_assess_claims_it(small_park, tmp_path, monkeypatch,
                                                                   alone) -> None:
    from click.testing import CliRunner

    from parkland import parallel
    from parkland.cli import main

    started: list[tuple] = []
    claimed: list[object] = []
    real_prefetch, real_claim = parallel.prefetch, parallel.claim
    monkeypatch.setattr(parallel, "prefetch", lambda key, fn: started.append(key) or real_prefetch(key, fn))
    monkeypatch.setattr(parallel, "claim", lambda key: claimed.append(real_claim(key)) or claimed[-1])
    args = ["assess", "--parcels", str(small_park["parcels"]), "--parcels-layer", "zongdi", "--firms",
            str(small_park["firms"]), "--links", str(small_park["links"]), "--out", str(tmp_path / "a")]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert started == [("read_firms", os.path.realpath(small_park["firms"]), None)]
    assert len(claimed) == 1 and claimed[0] is not None  # assess took the running reader
    assert parallel._PREFETCHED == {}
    # the same folder as a run that reads the firm table in order, in this process
    monkeypatch.setenv("PARKLAND_JOBS", "1")
    res = CliRunner().invoke(main, [*args[:-1], str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    for name in ("firms.csv", "reconciliation.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_a_prefetched_reader_is_cancelled_when_the_parcels_are_a_frame(small_park, alone) -> None:
    """assess reads in order (here) when the parcel layer is not a file: the prefetched child is stopped."""
    import geopandas as gpd

    from parkland import parallel

    key = parallel.read_key("read_firms", small_park["firms"], None)
    assert parallel.prefetch(key, lambda: time.sleep(30))
    layer = gpd.read_file(small_park["parcels"], layer="zongdi")
    started = time.perf_counter()
    a = assess(layer, small_park["firms"], links=small_park["links"])
    assert len(a.firms) > 0 and time.perf_counter() - started < 20
    assert parallel.claim(key) is None


def test_importing_the_command_does_not_load_the_vector_stack() -> None:
    """`parkland assess` can start its firm reader before geopandas, GDAL and pyproj are imported."""
    import subprocess
    import sys

    code = ("import sys, parkland, parkland.cli, parkland.io.firms; "
            "print(sorted(m for m in ('geopandas', 'pyogrio', 'pyproj', 'shapely') if m in sys.modules)); "
            "print(parkland.assess.__module__, parkland.read_parcels.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]"
    assert out[1] == "parkland.pipeline parkland.io.parcels"


def test_a_large_result_streams_back_and_an_unpicklable_one_fails_cleanly() -> None:
    """Results are pickled into the pipe as far as it takes them, the rest kept by the child until the
    parent reads: a result far larger than the pipe arrives whole, whether the parent is already waiting
    or asks later; one that cannot be pickled ends in ChildFailed, not a hang."""
    import numpy as np

    big = pd.DataFrame({"t": [f"企业{i}" for i in range(300_000)], "x": np.arange(300_000) * 0.5})
    got = fork_call(lambda: big).result()
    pd.testing.assert_frame_equal(got, big)
    job = fork_call(lambda: big)
    time.sleep(0.3)  # the child has pickled all of it into its own memory by now; the pipe hands it over
    pd.testing.assert_frame_equal(job.result(), big)
    job = fork_call(lambda: {"ok": list(range(100_000)), "bad": threading.Lock()})
    with pytest.raises(ChildFailed, match="could not be pickled"):
        job.result()
