"""Issue 11 end to end: the demo city's layers in PostGIS give the same assessment as the files, results
go back with --to-db (replaced on a second run, runs appended), and no password appears anywhere."""

from __future__ import annotations

import json

import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner
from pg_server import pg_server  # noqa: F401  (session fixture)

from parkland.cli import main
from parkland.demo_data import demo_data_dir
from parkland.report.db import write_db

PASSWORD = "Zd#2025:p@ss/秘"


@pytest.fixture(scope="module")
def city_db(pg_server):  # noqa: F811
    """The demo's three layers as PostGIS tables (written by parkland's own sink), and a login role."""
    from psycopg import sql

    d = demo_data_dir()
    layers = {name: pyogrio.read_dataframe(d / "city.gpkg", layer=name) for name in ("zongdi", "buildings", "parks")}
    write_db(layers, pg_server.url(), schema="gis")
    with pg_server.connect() as c:
        c.execute(sql.SQL("CREATE ROLE planner LOGIN PASSWORD {}").format(sql.Literal(PASSWORD)))
        c.execute("GRANT USAGE, CREATE ON SCHEMA gis TO planner")
        c.execute("GRANT SELECT ON ALL TABLES IN SCHEMA gis TO planner")
        c.execute("GRANT CREATE ON DATABASE parkland_test TO planner")
    return d


def _assess(out, parcels, buildings, parks, extra=()):
    d = demo_data_dir()
    args = ["assess", "--parcels", parcels, "--firms", d / "firms_2025.xlsx", "--links", d / "links.csv",
            "--buildings", buildings, "--parks", parks, "--raster", f"ndvi={d / 'ndvi.tif'}",
            "--previous-firms", d / "firms_2024.xlsx", "--year", "2025", "--out", out, *extra]
    return CliRunner().invoke(main, [str(a) for a in args])


def test_db_layers_equal_files_and_results_back(pg_server, city_db, tmp_path):  # noqa: F811
    d = city_db
    files = _assess(tmp_path / "files", d / "city.gpkg", d / "city.gpkg", d / "city.gpkg",
                    ["--parcels-layer", "zongdi", "--buildings-layer", "buildings", "--parks-layer", "parks"])
    assert files.exit_code == 0, files.output
    db_in = pg_server.tcp_url("planner", PASSWORD)
    to_db = pg_server.tcp_url("planner", PASSWORD)

    def url(table):
        return f"{db_in}?table=parkland_{table}&schema=gis"

    r1 = _assess(tmp_path / "db1", url("zongdi"), url("buildings"), url("parks"),
                 ["--to-db", to_db, "--db-schema", "results"])
    assert r1.exit_code == 0, r1.output
    # the same assessment from the database as from the files
    fa = pd.read_csv(tmp_path / "files" / "firms.csv", encoding="utf-8-sig", dtype=str)
    fb = pd.read_csv(tmp_path / "db1" / "firms.csv", encoding="utf-8-sig", dtype=str)
    pd.testing.assert_frame_equal(fa, fb)
    pa = pyogrio.read_dataframe(tmp_path / "files" / "parcels.gpkg", layer="parcels", read_geometry=False)
    pb = pyogrio.read_dataframe(tmp_path / "db1" / "parcels.gpkg", layer="parcels", read_geometry=False)
    pd.testing.assert_frame_equal(pa, pb)
    # results are in the database, next to the land registry
    with pg_server.connect() as c:
        n_firms = c.execute("SELECT count(*) FROM results.parkland_firms").fetchone()[0]
        n_parcels = c.execute("SELECT count(*) FROM results.parkland_parcels").fetchone()[0]
        graded = c.execute("SELECT count(*) FROM results.parkland_firms WHERE status = 'graded'").fetchone()[0]
        runs = c.execute("SELECT count(*) FROM results.parkland_runs").fetchone()[0]
    assert (n_firms, n_parcels, runs) == (len(fa), len(pa), 1)
    assert graded == (fa["status"] == "graded").sum()
    # a second run replaces parkland's tables and appends a run
    r2 = _assess(tmp_path / "db2", url("zongdi"), url("buildings"), url("parks"),
                 ["--to-db", to_db, "--db-schema", "results"])
    assert r2.exit_code == 0, r2.output
    with pg_server.connect() as c:
        assert c.execute("SELECT count(*) FROM results.parkland_firms").fetchone()[0] == n_firms
        assert c.execute("SELECT count(*) FROM results.parkland_runs").fetchone()[0] == 2
        runs_text = json.dumps(c.execute("SELECT * FROM results.parkland_runs").fetchall(), default=str)
    # no password anywhere: console, every output file, the runs table
    secrets = [PASSWORD, PASSWORD.replace("#", "%23")]
    from urllib.parse import quote
    secrets.append(quote(PASSWORD, safe=""))
    texts = [r1.output, r2.output, runs_text]
    for out in (tmp_path / "db1", tmp_path / "db2"):
        texts += [p.read_bytes().decode("utf-8", "replace") for p in out.iterdir() if p.is_file()]
    for t in texts:
        for s in secrets:
            assert s not in t
    summary = json.loads((tmp_path / "db1" / "summary.json").read_text(encoding="utf-8"))
    assert summary["inputs"]["parcels"]["file"].startswith("postgresql://planner@127.0.0.1")


def test_wrong_password_exit_2_without_password(pg_server, city_db, tmp_path):  # noqa: F811
    bad = pg_server.tcp_url("planner", "wrong-Secret-9")
    r = _assess(tmp_path / "x", f"{bad}?table=parkland_zongdi&schema=gis", city_db / "city.gpkg",
                city_db / "city.gpkg", ["--buildings-layer", "buildings", "--parks-layer", "parks"])
    assert r.exit_code == 2
    assert "wrong-Secret-9" not in r.output and "Traceback" not in r.output
