"""parkland/parallel.py: a call in a forked child, and assess reading the firm table in one."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from parkland import assess
from parkland.errors import InputError
from parkland.parallel import ChildFailed, can_fork, fork_call


def test_result_comes_back_from_the_child() -> None:
    parent = os.getpid()
    job = fork_call(lambda: {"pid": os.getpid(), "frame": pd.DataFrame({"a": [1.5, None]})})
    got = job.result()
    assert got["pid"] != parent
    assert got["frame"]["a"].iloc[0] == 1.5 and pd.isna(got["frame"]["a"].iloc[1])
    assert job.result() is got  # asked twice: the same value, no second wait


def test_child_error_is_raised_with_its_traceback() -> None:
    def boom() -> None:
        raise ValueError("第 7 行 bad value")

    with pytest.raises(ChildFailed, match="第 7 行 bad value") as err:
        fork_call(boom).result()
    assert "Traceback" in str(err.value) and "boom" in str(err.value)


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


def _alone(monkeypatch: pytest.MonkeyPatch) -> None:
    alone = [threading.current_thread()]
    monkeypatch.setattr(threading, "enumerate", lambda: alone)  # other test modules may leave threads
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


def test_assess_reads_firms_in_a_second_process_with_the_same_result(small_park, monkeypatch) -> None:
    _alone(monkeypatch)
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


def test_unreadable_firm_table_is_the_usual_input_error(small_park, tmp_path, monkeypatch) -> None:
    _alone(monkeypatch)
    bad = tmp_path / "bad.csv"
    bad.write_text("名字,地址\n甲,乙\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        assess(small_park["parcels"], bad, parcels_layer="zongdi")
    assert "bad.csv" in str(err.value)
