"""PostGIS as a source (parkland.io.postgis) and a sink (parkland.report.db), against a real server.

The server is a throwaway cluster started by ``tests/pg_server.py`` from Debian's packages (install them
with ``bash .ci/postgres.sh``); without them the server tests skip, except under CI=true.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pg_server import pg_server  # noqa: F401  (session fixture)

from parkland.errors import InputError
from parkland.io import postgis as P
from parkland.io.layers import read_layer
from parkland.io.tables import read_table
from parkland.uscc import make

EPSG = 4547  # CGCS2000 / 3-degree Gauss-Kruger CM 114E
PASSWORD = "Pa:ss@w/rd#5%"
X0, Y0 = 500_000.0, 3_400_000.0


# --------------------------------------------------------------------------------------------- no server
def test_is_db_url():
    assert P.is_db_url("postgresql://u@h/db?table=t")
    assert P.is_db_url("postgres://h/db")
    assert P.is_db_url("postgresql+psycopg://h/db")
    assert P.is_db_url("postgresql:///?service=bureau")
    assert not P.is_db_url("data/parcels.gpkg")
    assert not P.is_db_url("C:\\data\\zongdi.shp")
    assert not P.is_db_url(None)


def test_redact_removes_password_only():
    assert P.redact("postgresql://alice:s3cret@db.example:5432/land?table=zongdi") == \
        "postgresql://alice@db.example:5432/land?table=zongdi"
    # percent-encoded password with @ and : inside; an unencoded @ in the password too
    assert P.redact("postgresql://alice:p%40ss%3Aw@h/db") == "postgresql://alice@h/db"
    assert P.redact("postgresql://alice:p@ss@h/db") == "postgresql://alice@h/db"
    assert P.redact("postgresql://h/db?user=a&password=xyz&table=t") == "postgresql://h/db?user=a&table=t"
    assert P.redact("postgresql:///?service=bureau&table=t") == "postgresql:///?service=bureau&table=t"
    assert P.redact("host=h user=a password='x y' dbname=d") == "host=h user=a password=*** dbname=d"
    assert P.scrub("login failed for p@ss", "postgresql://a:p%40ss@h/db") == "login failed for ***"


def test_split_url_keeps_libpq_parameters():
    conninfo, own = P.split_url("postgresql+psycopg://a@h:5/db?table=zd&schema=gt&sslmode=require&query=")
    assert conninfo == "postgresql://a@h:5/db?sslmode=require"
    assert own == {"table": "zd", "schema": "gt", "query": ""}


def test_needs_table_or_query():
    with pytest.raises(InputError) as e:
        P.read_db_layer("postgresql://a:secret@127.0.0.1:1/db", source="parcels")
    assert "?table=" in e.value.zh and "secret" not in str(e.value)


# ------------------------------------------------------------------------------------------- test data
def _parcels() -> gpd.GeoDataFrame:
    """Five parcels, one with a null geometry, Chinese headers, text codes with leading zeros."""
    geoms = [shapely.box(X0, Y0, X0 + 200, Y0 + 100),
             shapely.Polygon([(X0 + 300, Y0), (X0 + 450.25, Y0), (X0 + 300, Y0 + 80.5)]),
             None,
             shapely.MultiPolygon([shapely.box(X0, Y0 + 200, X0 + 50, Y0 + 250),
                                   shapely.box(X0 + 60, Y0 + 200, X0 + 90, Y0 + 230)]),
             shapely.box(X0 + 1000, Y0, X0 + 1000.125, Y0 + 3000)]
    return gpd.GeoDataFrame({
        "宗地代码": ["511302001001GB00001", "511302001001GB00002", "511302001001GB00003",
                 "011302001001GB00004", "511302001001GB00005"],
        "权利人": ["甲公司", "乙公司", None, "丙公司", "丁\"公司\",有限"],
        "宗地面积": [30.0, 9.05625, 45.0, np.nan, 0.5625],
        "楼层": np.array([3, 1, 0, 2, 7], dtype="int64"),
        "供地日期": ["2019-05-01", "2020/6/1", None, "2021年7月1日", ""],
        "更新时间": pd.to_datetime(["2024-01-02 03:04:05", "2023-12-31 00:00:00", None, "2022-06-30 12:00:00",
                                "2021-01-01 00:00:00"]).astype("datetime64[ms]"),
    }, geometry=geoms, crs=EPSG)


_PG_TYPES = {"宗地代码": "text", "权利人": "text", "宗地面积": "double precision", "楼层": "bigint",
             "供地日期": "text", "更新时间": "timestamp"}


def _load(conn, table: str, gdf: gpd.GeoDataFrame, srid: int, schema: str = "public", pk: bool = False,
          reverse: bool = False) -> None:
    """Load a frame into a new table (test helper, independent of parkland.report.db)."""
    from psycopg import sql

    cols = [c for c in gdf.columns if c != "geometry"]
    ident = sql.Identifier(schema, table)
    defs = ([sql.SQL("gid integer PRIMARY KEY")] if pk else []) + [
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_PG_TYPES[c])) for c in cols] + [
        sql.SQL("geom geometry")]
    conn.execute(sql.SQL("CREATE TABLE {} ({})").format(ident, sql.SQL(", ").join(defs)))
    names = (["gid"] if pk else []) + cols
    ins = sql.SQL("INSERT INTO {} ({}, geom) VALUES ({}, ST_SetSRID(ST_GeomFromWKB(%s), %s))").format(
        ident, sql.SQL(", ").join(map(sql.Identifier, names)), sql.SQL(", ").join(sql.Placeholder() * len(names)))
    rows = []
    for i in range(len(gdf)):
        vals = [None if pd.isna(v) else (v.to_pydatetime() if isinstance(v, pd.Timestamp) else
                                         v.item() if isinstance(v, np.generic) else v) for v in gdf.iloc[i][cols]]
        g = gdf.geometry.iloc[i]
        rows.append(([i + 1] if pk else []) + vals + [None if g is None else shapely.to_wkb(g), srid])
    with conn.cursor() as cur:
        cur.executemany(ins, rows[::-1] if reverse else rows)


def _wkb(s: gpd.GeoSeries) -> list:
    return [None if g is None else shapely.to_wkb(g) for g in s]


def _firm_rows() -> pd.DataFrame:
    return pd.DataFrame({
        "统一社会信用代码": [make("91511302MA0000001"), make("91511302MA0000002"), "91511302MA00000XX", None],
        "企业名称": ["甲公司", "乙公司", "=HYPERLINK(\"x\")", "丁公司"],
        "宗地代码": ["511302001001GB00001、511302001001GB00002", "511302001001GB00003", "", "511302001001GB00005"],
        "税收（万元）": ["90", "12.5", "-3.25", None],
        "营业收入（万元）": ["900", "150.75", "0", "1e-05"],
        "年平均职工人数": ["120", "8", None, "3"],
    })


# ------------------------------------------------------------------------------------------- reading
@pytest.fixture(scope="module")
def loaded(pg_server, tmp_path_factory):  # noqa: F811
    """The parcel layer and the firm table, as files and as PostGIS tables."""
    d = tmp_path_factory.mktemp("pgdata")
    gpkg = d / "zongdi.gpkg"
    _parcels().to_file(gpkg, layer="zongdi", engine="pyogrio")
    csv = d / "firms.csv"
    _firm_rows().to_csv(csv, index=False, encoding="utf-8")
    as_written = gpd.read_file(gpkg, engine="pyogrio")  # GPKG made every polygon a MultiPolygon
    assert list(as_written.geom_type.fillna("")) == ["MultiPolygon"] * 2 + [""] + ["MultiPolygon"] * 2
    from psycopg import sql

    with pg_server.connect() as c:
        c.execute("CREATE SCHEMA IF NOT EXISTS 国土")
        _load(c, "zongdi", as_written, EPSG, schema="国土", pk=True, reverse=True)
        _load(c, "zongdi_nopk", as_written, EPSG)
        _load(c, "nosrid", as_written, 0)
        f = _firm_rows()
        c.execute('CREATE TABLE qiye (id serial PRIMARY KEY, "统一社会信用代码" text, "企业名称" text, '
                  '"宗地代码" text, "税收（万元）" numeric(12,2), "营业收入（万元）" double precision, '
                  '"年平均职工人数" integer, geom geometry(Point, 4326))')
        c.cursor().executemany(
            'INSERT INTO qiye ("统一社会信用代码", "企业名称", "宗地代码", "税收（万元）", "营业收入（万元）", '
            '"年平均职工人数") VALUES (%s, %s, %s, %s, %s, %s)',
            f.astype(object).where(f.notna(), None).to_numpy().tolist())
        c.execute(sql.SQL("CREATE ROLE bureau LOGIN PASSWORD {}").format(sql.Literal(PASSWORD)))
        c.execute("GRANT USAGE ON SCHEMA 国土 TO bureau")
        c.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public, 国土 TO bureau")
        c.execute("GRANT CREATE ON DATABASE parkland_test TO bureau")
    return {"gpkg": gpkg, "csv": csv}


def test_layer_reads_back_equal_to_the_file(pg_server, loaded):  # noqa: F811
    file = read_layer(loaded["gpkg"], source="parcels").frame
    # rows inserted in reverse: the primary key (gid) restores feature order
    db = P.read_db_layer(pg_server.url(table="zongdi", schema="国土"), source="parcels")
    frame = db.frame
    assert list(frame.columns) == ["source_row", "gid", *file.columns[1:]]
    assert frame["source_row"].tolist() == [1, 2, 3, 4, 5]
    assert frame["gid"].tolist() == [1, 2, 3, 4, 5]
    attrs = [c for c in file.columns if c not in ("geometry",)]
    as_us = {"更新时间": "datetime64[us]"}  # pyogrio reads milliseconds, PostgreSQL keeps microseconds
    pd.testing.assert_frame_equal(pd.DataFrame(frame[attrs]).astype(as_us), pd.DataFrame(file[attrs]).astype(as_us),
                                  check_dtype=False)
    assert frame["宗地代码"].tolist()[3] == "011302001001GB00004"
    assert frame["宗地面积"].tolist()[1] == 9.05625
    assert frame["更新时间"].iloc[0] == pd.Timestamp("2024-01-02 03:04:05")
    assert _wkb(frame.geometry) == _wkb(file.geometry)
    assert frame.geometry.iloc[2] is None
    assert frame.crs == file.crs and frame.crs.to_epsg() == EPSG
    assert set(shapely.get_srid(np.asarray(frame.geometry.values[[0, 1, 3, 4]]))) == {0}
    m = db.meta
    assert (m["table"], m["schema"], m["order_by"], m["srid"], m["geometry_column"]) == ("zongdi", "国土", ["gid"],
                                                                                          EPSG, "geom")
    assert m["crs"] == "EPSG:4547" and m["n_features"] == 5 and len(m["sha256"]) == 64
    assert len(db.recon) == 0
    # same content → same hash, whether ordered by key or by ctid
    nopk = P.read_db_layer(pg_server.url(table="zongdi_nopk"), source="parcels")
    assert nopk.meta["order_by"] == ["ctid"] and nopk.frame["宗地代码"].tolist() == file["宗地代码"].tolist()
    assert nopk.meta["sha256"] == P.read_db_layer(pg_server.url(table="zongdi_nopk")).meta["sha256"]


def test_layer_feeds_the_parcel_normalisation(pg_server, loaded, monkeypatch):  # noqa: F811
    """read_parcels on the database table = read_parcels on the GeoPackage (through its read_layer step)."""
    import parkland.io.parcels as parcels_mod

    from_file = parcels_mod.read_parcels(loaded["gpkg"])
    db = P.read_db_layer(pg_server.url(table="zongdi_nopk"), source="parcels")
    monkeypatch.setattr(parcels_mod, "read_layer", lambda path, **kw: db)
    from_db = parcels_mod.read_parcels("postgresql://db")
    f, g = from_db.frame, from_file.frame
    assert list(f.columns) == list(g.columns)
    as_us = {"更新时间": "datetime64[us]"}
    pd.testing.assert_frame_equal(pd.DataFrame(f.drop(columns="geometry")).astype(as_us),
                                  pd.DataFrame(g.drop(columns="geometry")).astype(as_us), check_dtype=False)
    assert f["parcel_id"].tolist()[3] == "011302001001GB00004"
    assert _wkb(f.geometry) == _wkb(g.geometry) and f.crs == g.crs


def test_table_without_srid_is_the_missing_crs_error(pg_server, loaded):  # noqa: F811
    from parkland.geo.parcels import prepare_parcels

    url = pg_server.tcp_url("bureau", PASSWORD, table="nosrid")
    db = P.read_db_layer(url, source="parcels")
    assert db.frame.crs is None and db.meta["srid"] == 0 and db.meta["crs"] is None
    frame = db.frame.rename(columns={"宗地代码": "parcel_id"})
    with pytest.raises(InputError) as e:
        prepare_parcels(frame, crs=None, path=db.meta["path"])
    assert "坐标系" in e.value.zh and "bureau@127.0.0.1" in str(e.value)
    assert PASSWORD not in str(e.value) and "Pa:ss" not in e.value.message("en")


def test_query_reads_in_its_order(pg_server, loaded):  # noqa: F811
    q = ('SELECT "宗地代码" AS code, ST_Area(geom) AS area_m2, geom FROM "国土".zongdi '
         "WHERE geom IS NOT NULL AND \"宗地代码\" LIKE '%GB%' AND gid::text <> ':x' ORDER BY ST_Area(geom) DESC")
    db = P.read_db_layer(pg_server.url(query=q), source="buildings")
    f = db.frame
    # areas: 200×100 = 20000; ½×150.25×80.5 = 6047.5625; 50×50 + 30×30 = 3400; 0.125×3000 = 375
    assert f["code"].tolist() == ["511302001001GB00001", "511302001001GB00002", "011302001001GB00004",
                                  "511302001001GB00005"]
    assert f["area_m2"].tolist() == [20000.0, 6047.5625, 3400.0, 375.0]
    assert f["source_row"].tolist() == [1, 2, 3, 4]
    assert f.crs.to_epsg() == EPSG and db.meta["query"] == q and db.meta["table"] is None
    assert len(db.recon) == 0
    unordered = P.read_db_layer(pg_server.url(query='SELECT geom FROM "国土".zongdi WHERE gid = 2'))
    assert unordered.recon["problem_code"].tolist() == ["DB_QUERY_UNORDERED"]
    assert unordered.frame.geometry.iloc[0].area == 6047.5625


def test_firm_table_reads_back_equal_to_the_csv(pg_server, loaded):  # noqa: F811
    file = read_table(loaded["csv"])
    db = P.read_db_table(pg_server.url(table="qiye"), source="firms")
    f = db.frame
    assert f["source_row"].tolist() == [1, 2, 3, 4] and f["file_row"].tolist() == [1, 2, 3, 4]
    tax = "税收（万元）"
    pd.testing.assert_frame_equal(f.drop(columns=["file_row", "id", tax]), file.frame.drop(columns=["file_row", tax]))
    # NUMERIC(12,2) digits as the database shows them (empty = missing in both)
    assert f[tax].fillna("").tolist() == ["90.00", "12.50", "-3.25", ""]
    assert file.frame[tax].fillna("").tolist() == ["90", "12.5", "-3.25", ""]
    assert db.meta["headers"] == ["id", *file.meta["headers"]]
    assert db.recon["problem_code"].tolist() == ["DB_GEOMETRY_IGNORED"]
    assert db.meta["format"] == "postgresql" and db.meta["order_by"] == ["id"]


def test_firm_table_feeds_the_firm_normalisation(pg_server, loaded, monkeypatch):  # noqa: F811
    """read_firms on the database table = read_firms on the CSV (through its raw-table step)."""
    import parkland.io.firms as firms_mod

    from_csv = firms_mod.read_firms(loaded["csv"])
    db = P.read_db_table(pg_server.url(table="qiye"), source="firms")
    monkeypatch.setattr(firms_mod, "read_table", lambda path, sheet=None: db)
    from_db = firms_mod.read_firms("postgresql://db")
    pd.testing.assert_frame_equal(from_db.frame.drop(columns=["file_row", "id"]),
                                  from_csv.frame.drop(columns=["file_row"]))
    assert from_db.frame["tax_wan"].tolist()[:3] == [90.0, 12.5, -3.25]
    assert from_db.frame["uscc_valid"].tolist() == [True, True, False, False]
    # the same records (bad check digit, negative tax …); only the row a person sees differs: CSV line
    # (header is line 1) versus the row's position in the database result
    # the database reader's own notes (DB_…) come first and are kept
    cols = ["source", "source_row", "key", "column", "problem_code", "problem_zh", "action"]
    db_notes = from_db.recon["problem_code"].str.startswith("DB_")
    assert set(from_db.recon.loc[db_notes, "problem_code"]) == set(db.recon["problem_code"])
    rows = from_db.recon[~db_notes].reset_index(drop=True)
    pd.testing.assert_frame_equal(rows[cols], from_csv.recon[cols])
    assert (from_csv.recon["file_row"] - rows["file_row"]).dropna().tolist() == [1] * int(
        from_csv.recon["file_row"].notna().sum())
    assert set(from_db.recon["problem_code"]) >= {"BAD_USCC", "NEGATIVE_VALUE"}


def test_read_errors_name_the_url_without_password(pg_server, loaded):  # noqa: F811
    cases = [
        (pg_server.tcp_url("bureau", "wrong-" + PASSWORD, table="zongdi"), "拒绝了登录"),
        (pg_server.tcp_url("bureau", PASSWORD, table="nope"), "没有表「nope」"),
        (pg_server.tcp_url("bureau", PASSWORD, dbname="nodb", table="zongdi"), "数据库不存在"),
        (pg_server.tcp_url("bureau", PASSWORD, query="DELETE FROM zongdi_nopk RETURNING *"), "查询出错"),
        (pg_server.tcp_url("bureau", PASSWORD, query="SELECT * FROM zongdi_nopk FOR UPDATE"), "查询出错"),
        (pg_server.tcp_url("bureau", PASSWORD, table="qiye", geom="nothere"), "nothere"),
        (f"postgresql://bureau:{quote(PASSWORD, safe='')}@127.0.0.1:1/db?table=t",
         "无法连接数据库"),
    ]
    for url, zh in cases:
        with pytest.raises(InputError) as e:
            P.read_db_layer(url, source="parcels")
        err = e.value
        text = "\n".join([err.message("zh"), err.message("en"), repr(err.args)])
        assert zh in text, (zh, text)
        assert err.file == P.redact(url) and "bureau@" in err.file
        for secret in (PASSWORD, "Pa:ss", "Pa%3Ass", "w%2Frd"):
            assert secret not in text
    with pg_server.connect() as c:  # the read-only query changed nothing
        assert c.execute("SELECT count(*) FROM zongdi_nopk").fetchone()[0] == 5


def test_credentials_from_pgpassword_pgpass_and_service(pg_server, loaded, tmp_path, monkeypatch):  # noqa: F811
    for var in ("PGPASSWORD", "PGPASSFILE", "PGSERVICE", "PGSERVICEFILE"):
        monkeypatch.delenv(var, raising=False)
    plain = pg_server.tcp_url("bureau", table="zongdi_nopk")
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    assert P.read_db_layer(plain).meta["n_features"] == 5
    monkeypatch.delenv("PGPASSWORD")
    passfile = tmp_path / "pgpass"
    escaped = PASSWORD.replace("\\", "\\\\").replace(":", "\\:")  # .pgpass escapes : and \\
    passfile.write_text(f"127.0.0.1:{pg_server.port}:parkland_test:bureau:{escaped}\n")
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    assert P.read_db_layer(plain).meta["n_features"] == 5
    service = tmp_path / "pg_service.conf"
    service.write_text(f"[bureau]\nhost=127.0.0.1\nport={pg_server.port}\ndbname=parkland_test\nuser=bureau\n")
    monkeypatch.setenv("PGSERVICEFILE", str(service))
    db = P.read_db_table("postgresql:///?service=bureau&table=qiye")
    assert db.frame["企业名称"].tolist()[:2] == ["甲公司", "乙公司"]
    monkeypatch.setenv("PGSERVICE", "bureau")
    assert P.read_db_layer("postgresql:///?table=zongdi_nopk").meta["path"] == "postgresql:///?table=zongdi_nopk"


# ------------------------------------------------------------------------------------------- writing
def _assessment(n_parcels: int = 3) -> dict[str, pd.DataFrame]:
    geoms = [shapely.box(X0 + 100 * i, Y0, X0 + 100 * i + 50, Y0 + 40) for i in range(n_parcels)]
    parcels = gpd.GeoDataFrame({
        "source_row": np.arange(1, n_parcels + 1, dtype="int64"),
        "parcel_id": [f"511302001001GB{i:05d}" for i in range(n_parcels)],
        "area_mu": np.full(n_parcels, 2000 * 15 / 10000),
        "tax_per_mu": np.where(np.arange(n_parcels) % 2 == 0, 0.1 + 0.2, np.nan),
        "idle": np.arange(n_parcels) % 3 == 0,
        "firm_count": pd.array([1, None, 2] * (n_parcels // 3) + [1] * (n_parcels % 3), dtype="Int64"),
        "flag_reasons": ["LOW_TAX;LOW_FAR", "", 'say "hi", ok\nnext'] * (n_parcels // 3) + ["VACANT"] * (n_parcels % 3),
        "granted": pd.to_datetime(["2019-05-01", None, "2020-01-31"] * (n_parcels // 3) + ["2021-02-03"] * (
            n_parcels % 3)),
        "part_tax_per_mu": np.linspace(0, 40, n_parcels),
    }, geometry=geoms, crs=EPSG)
    firms = pd.DataFrame({"source_row": [1, 2], "uscc": [make("91511302MA0000001"), None],
                          "name": ["甲公司", "=1+2"], "status": ["graded", "no_land"], "score": [87.5, np.nan],
                          "重大安全环保事故": [None, "是"]})
    recon_ = pd.DataFrame({"source": ["firms"], "source_row": pd.array([2], dtype="Int64"), "key": [""],
                           "problem_code": ["NO_LAND"], "problem_zh": ["无用地"], "problem_en": ["no land"],
                           "action": ["kept"]})
    cleanup = parcels[["parcel_id", "area_mu", "geometry"]].assign(rank=np.arange(1, n_parcels + 1),
                                                                   reasons="LOW_TAX", selected=True)
    return {"parcels": parcels, "firms": firms, "reconciliation": recon_, "cleanup": cleanup}


def _count(c, table: str) -> int:
    return c.execute(f"SELECT count(*) FROM parkland.{table}").fetchone()[0]


def test_write_db_tables_index_comments_and_runs(pg_server, loaded, monkeypatch):  # noqa: F811
    from parkland.report.db import write_db

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    url = pg_server.tcp_url("bureau", PASSWORD)
    info = {"year": 2024, "policy": "sichuan-2022", "policy_hash": "ab" * 32, "version": "0.1.0",
            "counts": {"parcels": 3, "firms": 2}, "inputs": {"parcels": pg_server.tcp_url("bureau", PASSWORD,
                                                                                        table="zongdi")},
            "log": [f"read {pg_server.tcp_url('bureau', PASSWORD)} in 0.1 s", np.int64(7), float("nan")]}
    with pg_server.connect() as c:
        c.execute("DROP SCHEMA IF EXISTS parkland CASCADE")
        c.execute("CREATE SCHEMA parkland AUTHORIZATION bureau")
        c.execute("CREATE TABLE parkland.bureau_notes (x int)")  # not parkland's: must survive
        c.execute("ALTER TABLE parkland.bureau_notes OWNER TO bureau")
    tables = _assessment(3)
    write_db(tables, url, run_info=info)
    with pg_server.connect() as c:
        names = [r[0] for r in c.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'parkland' "
                                         "ORDER BY 1").fetchall()]
        assert names == ["bureau_notes", "parkland_cleanup", "parkland_firms", "parkland_parcels",
                         "parkland_reconciliation", "parkland_runs"]
        idx = c.execute("SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'parkland' "
                        "AND indexdef LIKE '%%USING gist%%' ORDER BY 1").fetchall()
        assert [t for t, _ in idx] == ["parkland_cleanup", "parkland_parcels"]
        assert "USING gist (geometry)" in idx[1][1]
        assert c.execute("SELECT obj_description('parkland.parkland_parcels'::regclass, 'pg_class')"
                         ).fetchone()[0] == "宗地评价结果（parkland）"
        comments = dict(c.execute(
            "SELECT attname, col_description(attrelid, attnum) FROM pg_attribute "
            "WHERE attrelid = 'parkland.parkland_parcels'::regclass AND attnum > 0").fetchall())
        assert comments["area_mu"] == "宗地面积（亩，图形）" and comments["tax_per_mu"] == "亩均税收（万元/亩）"
        assert comments["part_tax_per_mu"] == "亩均税收得分"  # LABELS["part_tax_per_mu"]
        assert comments["geometry"] == "宗地图形"
        assert c.execute("SELECT Find_SRID('parkland', 'parkland_parcels', 'geometry')").fetchone()[0] == EPSG
        rows = c.execute("SELECT parcel_id, area_mu, tax_per_mu, idle, firm_count, flag_reasons, granted, "
                         "ST_Area(geometry) FROM parkland.parkland_parcels ORDER BY source_row").fetchall()
        assert rows[0] == ("511302001001GB00000", 3.0, 0.30000000000000004, True, 1, "LOW_TAX;LOW_FAR",
                           dt.datetime(2019, 5, 1), 2000.0)
        assert rows[1][2:7] == (None, False, None, "", None)
        assert rows[2][5] == 'say "hi", ok\nnext'
        assert c.execute("SELECT name, score, \"重大安全环保事故\" FROM parkland.parkland_firms ORDER BY source_row"
                         ).fetchall() == [("甲公司", 87.5, None), ("=1+2", None, "是")]
        run = c.execute("SELECT run_at, data_year, policy, policy_hash, version, counts, row_counts, tables, info "
                        "FROM parkland.parkland_runs").fetchall()
        assert run == [(dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC), 2024, "sichuan-2022",
                        "ab" * 32, "0.1.0", {"parcels": 3, "firms": 2},
                        {"parcels": 3, "firms": 2, "reconciliation": 1, "cleanup": 3},
                        ["parkland_parcels", "parkland_firms", "parkland_reconciliation", "parkland_cleanup"],
                        {"inputs": {"parcels": f"postgresql://bureau@127.0.0.1:{pg_server.port}/parkland_test"
                                               "?table=zongdi"},
                         "log": [f"read postgresql://bureau@127.0.0.1:{pg_server.port}/parkland_test in 0.1 s", 7,
                                 None]})]
        dump = c.execute("SELECT string_agg(r::text, '') FROM parkland.parkland_runs r").fetchone()[0]
        assert PASSWORD not in dump and "Pa:ss" not in dump and "Pa%3Ass" not in dump
        oid = c.execute("SELECT 'parkland.parkland_parcels'::regclass::oid").fetchone()[0]
        c.execute("CREATE VIEW parkland.bureau_view AS SELECT parcel_id FROM parkland.parkland_parcels")

    # second write, same layout, more rows: tables emptied and refilled (views and grants kept), run appended
    write_db(_assessment(9), url, run_info={**info, "year": 2025})
    with pg_server.connect() as c:
        assert (_count(c, "parkland_parcels"), _count(c, "parkland_cleanup"), _count(c, "parkland_runs")) == (9, 9, 2)
        assert _count(c, "bureau_view") == 9 and _count(c, "bureau_notes") == 0
        assert c.execute("SELECT 'parkland.parkland_parcels'::regclass::oid").fetchone()[0] == oid
        assert [r[0] for r in c.execute("SELECT data_year FROM parkland.parkland_runs ORDER BY run_id")] == [2024, 2025]
        c.execute("DROP VIEW parkland.bureau_view")

    # third write: parcels gain a column (table re-created), cleanup no longer produced (its stale table dropped)
    t3 = _assessment(6)
    t3["parcels"]["grade"] = "A"
    del t3["cleanup"]
    write_db(t3, url, run_info={"year": 2026})
    with pg_server.connect() as c:
        assert _count(c, "parkland_parcels") == 6 and _count(c, "parkland_runs") == 3
        assert c.execute("SELECT to_regclass('parkland.parkland_cleanup')").fetchone()[0] is None
        assert c.execute("SELECT to_regclass('parkland.bureau_notes')").fetchone()[0] is not None
        assert c.execute("SELECT count(*) FROM pg_indexes WHERE tablename = 'parkland_parcels' AND indexdef LIKE "
                         "'%%gist%%'").fetchone()[0] == 1

    # the written layer reads back with parkland's reader: same geometry and SRID
    back = P.read_db_layer(pg_server.url(table="parkland_parcels", schema="parkland"))
    assert back.frame.crs.to_epsg() == EPSG
    assert _wkb(back.frame.geometry) == _wkb(t3["parcels"].geometry)
    assert back.frame["grade"].tolist() == ["A"] * 6


def test_failed_write_leaves_previous_results(pg_server, loaded, monkeypatch):  # noqa: F811
    import parkland.report.db as dbmod

    url = pg_server.tcp_url("bureau", PASSWORD, schema="halfway")
    dbmod.write_db(_assessment(3), url, schema=None, run_info={"year": 2024})
    real = dbmod._write_table
    calls = []

    def flaky(pg, schema, table, frame, geom_type):
        calls.append(table)
        if len(calls) == 2:
            raise RuntimeError("disk full (injected)")
        return real(pg, schema, table, frame, geom_type)

    monkeypatch.setattr(dbmod, "_write_table", flaky)
    with pytest.raises(RuntimeError, match="injected"):
        dbmod.write_db(_assessment(9), url, schema=None, run_info={"year": 2025})
    assert calls == ["parkland_parcels", "parkland_firms"]  # the first table had been rewritten
    with pg_server.connect() as c:
        assert c.execute("SELECT count(*) FROM halfway.parkland_parcels").fetchone()[0] == 3
        assert c.execute("SELECT count(*) FROM halfway.parkland_cleanup").fetchone()[0] == 3
        assert c.execute("SELECT array_agg(data_year) FROM halfway.parkland_runs").fetchone()[0] == [2024]

    # a database error half-way (the firms break a constraint a user added) is an InputError, without effect
    monkeypatch.setattr(dbmod, "_write_table", real)
    with pg_server.connect() as c:
        c.execute("ALTER TABLE halfway.parkland_firms ADD CONSTRAINT one_code UNIQUE (uscc)")
    keep_layout = _assessment(9)
    keep_layout["firms"] = keep_layout["firms"].assign(uscc=[make("91511302MA0000001")] * 2)
    with pytest.raises(InputError) as e:
        dbmod.write_db(keep_layout, url, schema=None, run_info={"year": 2025})
    assert "原有的结果保持不变" in e.value.zh and PASSWORD not in e.value.message("en")
    with pg_server.connect() as c:
        assert c.execute("SELECT count(*) FROM halfway.parkland_parcels").fetchone()[0] == 3
        assert c.execute("SELECT count(*) FROM halfway.parkland_runs").fetchone()[0] == 1


def test_write_errors_without_password(pg_server, loaded):  # noqa: F811
    from parkland.report.db import write_db

    for url, zh in [(pg_server.tcp_url("bureau", "x" + PASSWORD), "拒绝了登录"),
                    (f"postgresql://bureau:{quote(PASSWORD, safe='')}@127.0.0.1:1/db",
                     "无法连接数据库")]:
        with pytest.raises(InputError) as e:
            write_db(_assessment(3), url, run_info={})
        text = e.value.message("zh") + e.value.message("en")
        assert zh in text and "bureau@127.0.0.1" in text and PASSWORD not in text and "Pa:ss" not in text


def test_write_10k_parcels_quickly(pg_server, loaded):  # noqa: F811
    import time

    from parkland.report.db import write_db

    t = _assessment(10_002)
    start = time.perf_counter()
    write_db({"parcels": t["parcels"]}, pg_server.url(), schema="bulk", run_info={"year": 2024})
    took = time.perf_counter() - start
    with pg_server.connect() as c:
        assert c.execute("SELECT count(*), sum(ST_Area(geometry)) FROM bulk.parkland_parcels").fetchone() == (
            10_002, 10_002 * 2000.0)
    assert took < 5, took
