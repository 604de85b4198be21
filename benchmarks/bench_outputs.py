"""Writing and reading on two cores: each faster path beside the path it replaced, in one process.

    python benchmarks/bench_outputs.py [--size 100000] [--workdir /tmp/bench] [--repeat 2]

On a synthetic city from ``synth.py`` (made once in ``--workdir`` and reused), best of ``--repeat``:

* reading: the parcel layer and the firm table one after the other, and with the firm table read by a
  forked second process (``parkland.parallel``) while the parcel layer is read;
* the firm list as CSV: ``DataFrame.to_csv`` and ``report.export.write_csv`` (Arrow);
* the cleanup list and the firm list (``--lists xlsx``) as workbooks: xlsxwriter cell by cell (``excel.BY_CELL``)
  and the row-XML writer of ``report.excel``;
* the whole output folder: ``write_outputs(jobs=1)`` and ``jobs=2`` (a forked second process);
* assess + write, each in a fresh process as the CLI runs it: the output folder written after the
  assessment, and with ``report.output.EarlyFiles`` (the firm files and the parcel layer written by forked
  processes while the assessment goes on); the time includes start-up and imports.

Prints one table: step, old seconds, new seconds, ratio new/old.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synth import make_city  # noqa: E402

_RUN_ALL = """
import sys
from pathlib import Path
import parkland
from parkland.report import output
parcels, firms, dest, early = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4] == "1"
ef = output.EarlyFiles(dest) if early else None
try:
    parkland.assess(parcels, firms, ready=ef).write(dest, early=ef)
finally:
    if ef is not None:
        ef.discard()
"""


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args(argv)

    import pandas as pd

    import parkland
    from parkland.io.firms import read_firms
    from parkland.io.parcels import read_parcels
    from parkland.parallel import fork_call
    from parkland.report import excel, output
    from parkland.report.export import neutralise_frame, write_csv
    from parkland.report.lists import cleanup_list, grades_list

    work = Path(args.workdir or tempfile.mkdtemp(prefix="parkland-bench-"))
    city = work / f"city-{args.size}"
    if not (city / "firms.csv").is_file():
        make_city(args.size, city)
    parcels, firms = city / "parcels.gpkg", city / "firms.csv"
    out = work / f"bench-outputs-{args.size}"
    out.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, float, float]] = []

    def serial_read() -> None:
        read_parcels(parcels)
        read_firms(firms)

    def forked_read() -> None:
        job = fork_call(lambda: read_firms(firms))
        read_parcels(parcels)
        job.result()

    rows.append(("read parcels + firms (fork)", best(serial_read, args.repeat), best(forked_read, args.repeat)))

    a = parkland.assess(parcels, firms)
    firms_tab = output.firms_table(a)
    rows.append(("firms.csv (Arrow)",
                 best(lambda: neutralise_frame(firms_tab).to_csv(out / "pandas.csv", index=False,
                                                                 encoding="utf-8-sig", lineterminator="\n"),
                      args.repeat),
                 best(lambda: write_csv(firms_tab, out / "arrow.csv"), args.repeat)))

    def book(frame: pd.DataFrame, fast: bool) -> None:
        excel.BY_CELL = not fast
        try:
            excel.write_workbook(out / "book.xlsx", [excel.Sheet("s", frame)])
        finally:
            excel.BY_CELL = False

    cl = cleanup_list(a.cleanup, "zh")
    rows.append((f"cleanup.xlsx {len(cl)}×{cl.shape[1]} (row XML)",
                 best(lambda: book(cl, False), args.repeat), best(lambda: book(cl, True), args.repeat)))
    g = grades_list(firms_tab, "zh")
    rows.append((f"grades.xlsx {len(g)}×{g.shape[1]} (row XML)", best(lambda: book(g, False), 1),
                 best(lambda: book(g, True), 1)))
    rows.append(("write_outputs (second process)",
                 best(lambda: output.write_outputs(a, out / "one", jobs=1), args.repeat),
                 best(lambda: output.write_outputs(a, out / "two", jobs=2), args.repeat)))


    def run_all(early: bool) -> None:
        """assess + write as the CLI runs them, in a fresh process (a fork from this long-lived, large
        process would cost more than it does in a run); with ``early`` the firm files and the parcel layer
        are written by forked processes from the end of grading and of the land diagnosis."""
        dest = out / ("early" if early else "late")
        subprocess.run([sys.executable, "-c", _RUN_ALL, str(parcels), str(firms), str(dest), "1" if early else "0"],
                       check=True)

    rows.append(("assess + write (early files)", best(lambda: run_all(False), args.repeat),
                 best(lambda: run_all(True), args.repeat)))

    w = max(len(r[0]) for r in rows)
    print(f"{'step':<{w}}  {'old s':>7}  {'new s':>7}  {'new/old':>7}")
    for name, old_s, new_s in rows:
        print(f"{name:<{w}}  {old_s:7.2f}  {new_s:7.2f}  {new_s / old_s:7.2f}")


if __name__ == "__main__":
    main()
