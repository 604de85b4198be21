"""End-to-end benchmark: ``parkland assess`` against the hand-written geopandas baseline; one table.

    python benchmarks/run.py --sizes 10000,100000 [--workdir DIR] [--engine pandas|dask] [--repeat N]
                              [--pairs K] [--warmup]

For each size N a synthetic city (``synth.py``: N parcels in EPSG:4523 as GPKG, N firms as GBK CSV) is made
once in ``--workdir`` (kept and reused: 1M takes a minute), then, each in its own subprocess so its peak
memory is its own (``os.wait4`` rusage, ru_maxrss):

* ``parkland assess --parcels … --firms … --out …``: its default outputs, the map included;
* ``benchmarks/baseline.py``: read, join on the parcel code, per-mu tax, ``explore()`` map, GPKG + CSV.

Before measuring, parkland's modules are byte-compiled (:func:`byte_compile`), as ``pip install`` does.
``ratio`` = parkland seconds / baseline seconds, both measured in the same run, back to back (the machine
is shared and noisy: compare ratios, not seconds). ``--pairs K`` runs the two K times, alternating, and
prints the medians, with the lowest and highest of the K per-pair ratios in ``ratio range``; ``--warmup``
first runs each once unmeasured. Both make the figures steadier on this kind of machine: a virtual machine
charges the first touch of memory the host has reclaimed (about 1.5–2 ms per MB, on whichever process
comes first after a pause), so a single pair can be off by 10 % either way. ``map MiB`` is the size of parkland's map.html (beside
the baseline's), with the per-park pages of ``map_parks/`` when map.html is a parks overview (> 200k
parcels). Peak memory is ``ru_maxrss`` of the process tree: the largest process, parkland's forked list
writer included (its pages are mostly shared with the parent, so the machine's total is less than the
sum). The raster step compares ``geo.zonal.zonal_stats`` (mean and coverage) with
``exactextract.exact_extract`` alone (mean and count) on the same prepared parcels and a 30 m raster over
the city, in this process, alternating, best of ``--repeat``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synth import make_city  # noqa: E402

COLUMNS = ["parcels", "firms", "engine", "parkland s", "parkland peak MiB", "baseline s", "baseline peak MiB",
           "ratio", "ratio range", "pairs", "map MiB", "baseline map MiB", "zonal s", "exactextract s",
           "raster ratio"]
DASK_RUNNER = """
import sys
from parkland.engine.dask import assess_dask
if __name__ == "__main__":
    a = assess_dask(sys.argv[1], sys.argv[2])
    a.write(sys.argv[3])
"""


def timed(cmd: list[str], env: dict | None = None) -> tuple[float, float, int]:
    """Run ``cmd``; (wall seconds, peak RSS of that process in MiB, exit code)."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        print(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{err[-2000:]}", file=sys.stderr)
    return wall, usage.ru_maxrss / 1024, proc.returncode


def city(n: int, workdir: Path) -> Path:
    d = workdir / f"city-{n}"
    if not (d / "firms.csv").is_file():
        make_city(n, d)
    return d


def make_raster(parcels_path: Path, out: Path, cell: float = 30.0) -> Path:
    """A float32 30 m raster (NDVI-like values) over the city's extent, EPSG:4523, tiled GeoTIFF."""
    import pyogrio
    import rasterio
    from affine import Affine

    if out.is_file():
        return out
    x0, y0, x1, y1 = pyogrio.read_info(str(parcels_path), layer="zongdi")["total_bounds"]
    w, h = int(np.ceil((x1 - x0) / cell)) + 2, int(np.ceil((y1 - y0) / cell)) + 2
    transform = Affine(cell, 0, x0 - cell, 0, -cell, y1 + cell)
    rng = np.random.default_rng(3)
    with rasterio.open(out, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32", crs="EPSG:4523",
                       transform=transform, tiled=True, blockxsize=512, blockysize=512, compress="deflate",
                       nodata=-9999) as ds:
        for _, win in ds.block_windows(1):
            ds.write(rng.uniform(0, 0.9, (win.height, win.width)).astype("float32"), 1, window=win)
    return out


def raster_step(city_dir: Path, repeat: int) -> tuple[float, float]:
    """Best-of-``repeat`` seconds of ``zonal_stats`` and of ``exact_extract`` alone on the same parcels."""
    import rasterio
    from exactextract import exact_extract

    from parkland.geo.parcels import prepare_parcels
    from parkland.geo.zonal import zonal_stats
    from parkland.io.parcels import read_parcels

    tif = make_raster(city_dir / "parcels.gpkg", city_dir / "ndvi30.tif")
    pcl = prepare_parcels(read_parcels(city_dir / "parcels.gpkg", layer="zongdi").frame).frame
    ours, alone = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        zonal_stats(pcl, {"ndvi": tif})
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        with rasterio.open(tif) as ds:
            exact_extract(ds, pcl[[pcl.geometry.name]], ["mean", "count"], output="pandas")
        alone.append(time.perf_counter() - t)
    return min(ours), min(alone)


def parkland_cmd(engine: str, d: Path, out: Path) -> list[str]:
    if engine == "dask":
        return [sys.executable, "-c", DASK_RUNNER, str(d / "parcels.gpkg"), str(d / "firms.csv"), str(out)]
    exe = Path(sys.executable).with_name("parkland")
    head = [str(exe)] if exe.is_file() else [sys.executable, "-m", "parkland"]
    return [*head, "assess", "--parcels", str(d / "parcels.gpkg"), "--firms", str(d / "firms.csv"),
            "--out", str(out)]


def mib(path: Path) -> float:
    return path.stat().st_size / 2**20 if path.is_file() else float("nan")


def map_mib(out: Path) -> float:
    """map.html, plus the per-park pages in map_parks/ when map.html is a parks overview (> 200k parcels)."""
    parks = out / "map_parks"
    return mib(out / "map.html") + (sum(mib(p) for p in parks.glob("*.html")) if parks.is_dir() else 0.0)


def byte_compile() -> bool:
    """Byte-compile the parkland package as ``pip install`` does when it installs a wheel, so that both
    programs start from cached bytecode, as they do on a bureau's machine. An editable install caches its
    bytecode on the first run, unless ``PYTHONDONTWRITEBYTECODE`` is set (it is on this machine): then
    every run would compile parkland's modules again (about 0.1 s), while the libraries both programs
    import come compiled from their wheels. True when the package's bytecode is current."""
    import compileall

    import parkland

    try:
        return bool(compileall.compile_dir(str(Path(parkland.__file__).parent), quiet=2))
    except OSError:  # a read-only install: its bytecode is whatever pip left there
        return False


def bench(n: int, workdir: Path, engine: str, repeat: int, pairs: int = 1, warmup: bool = False) -> dict:
    d = city(n, workdir)
    out, bout = workdir / f"out-{n}-{engine}", workdir / f"baseline-{n}"
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    base_cmd = [sys.executable, str(HERE / "baseline.py"), str(d), str(bout)]
    if warmup:
        timed(base_cmd, env)
        timed(parkland_cmd(engine, d, out), env)
    runs = []  # (baseline s, baseline MiB, parkland s, parkland MiB, parkland exit code), alternating
    for _ in range(max(pairs, 1)):
        b_s, b_mem, _ = timed(base_cmd, env)
        p_s, p_mem, rc = timed(parkland_cmd(engine, d, out), env)
        runs.append((b_s, b_mem, p_s, p_mem, rc))
    b_s = float(np.median([r[0] for r in runs]))
    p_s = float(np.median([r[2] for r in runs]))
    ratios = [r[2] / r[0] for r in runs]
    failed = any(r[4] != 0 for r in runs)
    z_s, e_s = raster_step(d, repeat)
    return {"parcels": n, "firms": n, "engine": f"{engine} (failed)" if failed else engine,
            "parkland s": round(p_s, 2), "parkland peak MiB": round(max(r[3] for r in runs)),
            "baseline s": round(b_s, 2), "baseline peak MiB": round(max(r[1] for r in runs)),
            "ratio": round(float(np.median(ratios)), 2), "ratio range": f"{min(ratios):.2f}-{max(ratios):.2f}",
            "pairs": len(runs), "map MiB": round(map_mib(out), 1),
            "baseline map MiB": round(mib(bout / "map.html"), 1), "zonal s": round(z_s, 2),
            "exactextract s": round(e_s, 2), "raster ratio": round(z_s / e_s, 2)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000", help="comma-separated parcel counts (firms: as many)")
    ap.add_argument("--workdir", default=None, help="where cities and outputs go (kept); default a temp dir")
    ap.add_argument("--engine", choices=["pandas", "dask"], default="pandas")
    ap.add_argument("--repeat", type=int, default=3, help="raster step: best of N")
    ap.add_argument("--pairs", type=int, default=1, help="parkland and the baseline K times each, alternating; "
                                                         "medians printed")
    ap.add_argument("--warmup", action="store_true", help="run each once, unmeasured, before the pairs")
    args = ap.parse_args(argv)
    byte_compile()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.workdir) if args.workdir else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        rows = [bench(int(s), workdir, args.engine, args.repeat, args.pairs, args.warmup)
                for s in args.sizes.split(",")]
    print(pd.DataFrame(rows, columns=COLUMNS).to_string(index=False))


if __name__ == "__main__":
    main()
