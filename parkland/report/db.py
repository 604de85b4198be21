"""PostGIS as a sink: ``--to-db URL [--db-schema NAME]`` writes the assessment as database tables.

:func:`write_db` writes each frame of ``assessment_tables`` (``parcels``, ``firms``, ``reconciliation``,
``cleanup`` …) as the table ``<schema>.parkland_<name>`` and appends one row to
``<schema>.parkland_runs``, all in ONE transaction (PostgreSQL DDL is transactional): a failure
anywhere leaves the previous results as they were.

- A table whose columns, types and key are unchanged is emptied (TRUNCATE) and refilled, keeping its
  grants and the views built on it; otherwise it is dropped and created again. Only parkland's own
  tables are touched: the ones it writes now, and those an earlier run wrote (listed in
  ``parkland_runs.tables``) that this run no longer produces.
- Rows go in with one ``COPY … FROM STDIN (FORMAT csv)`` per table, built column-wise (no per-row
  Python): 10,000 parcels take well under a second.
- Geometry columns are ``geometry(Geometry, SRID)`` with the input SRID (the frame's CRS as an EPSG
  code or a ``spatial_ref_sys`` entry; 0 when the CRS is unknown), with a GiST index each.
- ``source_row`` is the primary key when it is present and unique.
- Tables and columns carry Chinese comments (COMMENT ON) from :data:`parkland.report.labels.LABELS`.
- ``parkland_runs`` (never replaced) records each run: time (``SOURCE_DATE_EPOCH`` when set), data
  year, policy and its hash, version, counts, row counts per table, the tables written, and the rest of
  ``run_info`` as JSON — with every database URL in it stripped of its password.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from parkland.errors import InputError
from parkland.io.postgis import _driver_text, _psycopg, connect_error, redact, scrub, split_url
from parkland.report.labels import LABELS, label

PREFIX = "parkland_"
_URL_IN_TEXT = re.compile(r"(?i)\b(?:postgres(?:ql)?(?:\+\w+)?|pgsql)://[^\s\"'<>]+")
RUNS = "parkland_runs"
#: PostgreSQL truncates identifiers longer than this many bytes
MAX_IDENT = 63
#: (column, type, label key) of the runs table; columns are added to an older runs table as needed
RUN_COLUMNS = [
    ("run_id", "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "db_run_id"),
    ("run_at", "timestamptz NOT NULL", "db_run_at"),
    ("data_year", "integer", "db_data_year"),
    ("policy", "text", "db_policy"),
    ("policy_hash", "text", "db_policy_hash"),
    ("version", "text", "db_version"),
    ("counts", "jsonb", "db_counts"),
    ("row_counts", "jsonb", "db_row_counts"),
    ("tables", "text[]", "db_tables"),
    ("info", "jsonb", "db_info"),
]


@dataclass
class Column:
    """One output column: frame name, database name, SQL type, how its cells are rendered."""

    name: str
    db: str
    sqltype: str
    kind: str  # geometry / bool / int / float / timestamp / timestamptz / date / text
    srid: int = 0


def table_name(key: str) -> str:
    """``parcels`` → ``parkland_parcels`` (a key already starting with ``parkland_`` is kept)."""
    key = str(key).strip().lower()
    name = key if key.startswith(PREFIX) else PREFIX + key
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or name == RUNS or len(name) > MAX_IDENT:
        raise ValueError(f"bad table key {key!r}: use lower-case letters, digits and _ (not 'runs')")
    return name


def _db_names(names: list[str]) -> list[str]:
    """Column names as PostgreSQL keeps them: at most 63 bytes (cut at a character boundary), unique."""
    out: list[str] = []
    seen: set[str] = set()
    for n in names:
        n = str(n).replace("\x00", "")
        base = n
        while len(base.encode("utf-8")) > MAX_IDENT:
            base = base[:-1]
        cand, i = base, 1
        while cand in seen:
            suffix = f"_{i}"
            cand = base
            while len((cand + suffix).encode("utf-8")) > MAX_IDENT:
                cand = cand[:-1]
            cand += suffix
            i += 1
        seen.add(cand)
        out.append(cand)
    return out


def _kind(s: pd.Series) -> tuple[str, str]:
    """(kind, SQL type) of a non-geometry column, from its dtype (object columns by their values)."""
    d = s.dtype
    if pd.api.types.is_bool_dtype(d):
        return "bool", "boolean"
    if pd.api.types.is_integer_dtype(d):
        return ("int", "numeric") if str(d).lower() == "uint64" else ("int", "bigint")
    if pd.api.types.is_float_dtype(d):
        return "float", "double precision"
    if isinstance(d, pd.DatetimeTZDtype):
        return "timestamptz", "timestamptz"
    if pd.api.types.is_datetime64_dtype(d):
        return "timestamp", "timestamp"
    if pd.api.types.is_object_dtype(d):
        inferred = pd.api.types.infer_dtype(s, skipna=True)
        if inferred == "boolean":
            return "bool", "boolean"
        if inferred == "integer":
            return "int", "numeric"  # Python ints may exceed bigint
        if inferred in ("floating", "mixed-integer-float"):
            return "float", "double precision"
        if inferred == "date":
            return "date", "date"
        if inferred in ("datetime", "datetime64"):
            return "timestamp", "timestamp"
    return "text", "text"


def _srid(crs, pg) -> int:
    """SRID of a CRS: its EPSG code, else the spatial_ref_sys entry of its authority code, else 0."""
    if crs is None:
        return 0
    code = crs.to_epsg()
    if code is not None:
        return int(code)
    auth = crs.to_authority()
    if auth is not None:
        row = pg.execute("SELECT srid FROM spatial_ref_sys WHERE upper(auth_name) = upper(%s) AND auth_srid = %s",
                         (auth[0], int(auth[1]) if str(auth[1]).isdigit() else -1)).fetchone()
        if row:
            return int(row[0])
    return 0


def _columns(frame: pd.DataFrame, pg, geom_type: str) -> list[Column]:
    names = _db_names([str(c) for c in frame.columns])
    out: list[Column] = []
    for j, name in enumerate(frame.columns):
        s = frame.iloc[:, j]
        if isinstance(s.dtype, gpd.array.GeometryDtype):
            arr = np.asarray(s.values, dtype=object)
            srid = _srid(s.values.crs, pg)
            present = ~shapely.is_missing(arr)
            z = shapely.has_z(arr[present])
            gtype = "GeometryZ" if z.size and z.all() else "Geometry"
            sqltype = f"{geom_type}({gtype}, {srid})" if not (z.any() and not z.all()) else geom_type
            out.append(Column(str(name), names[j], sqltype, "geometry", srid))
        else:
            kind, sqltype = _kind(s)
            out.append(Column(str(name), names[j], sqltype, kind))
    return out


def _tokens(s: pd.Series, col: Column) -> pd.Series:
    """CSV tokens of one column for COPY (FORMAT csv): NULL is an unquoted empty field, text is quoted."""
    missing = s.isna().to_numpy() if col.kind != "geometry" else shapely.is_missing(np.asarray(s.values, dtype=object))
    if col.kind == "geometry":
        arr = shapely.set_srid(np.asarray(s.values, dtype=object), col.srid)
        tok = pd.Series(shapely.to_wkb(arr, hex=True, include_srid=True), index=s.index, dtype=object)
    elif col.kind == "bool":
        tok = pd.Series(np.where(s.fillna(False).astype(bool).to_numpy(), "t", "f"), index=s.index, dtype=object)
    elif col.kind == "int":
        tok = s.astype(object).where(~missing, 0).astype(str).astype(object)
    elif col.kind == "float":
        tok = pd.Series(pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64").astype(str), index=s.index,
                        dtype=object)
    elif col.kind == "timestamp":
        tok = pd.to_datetime(s).dt.strftime("%Y-%m-%d %H:%M:%S.%f").astype(object)
    elif col.kind == "timestamptz":
        tok = s.dt.tz_convert("UTC").dt.strftime("%Y-%m-%d %H:%M:%S.%f+00").astype(object)
    elif col.kind == "date":
        tok = pd.to_datetime(s).dt.strftime("%Y-%m-%d").astype(object)
    else:
        text = s.astype(object).where(~missing, "").astype(str)
        tok = ('"' + text.str.replace("\x00", "", regex=False).str.replace('"', '""', regex=False) + '"').astype(object)
    tok = tok.where(~missing, "")
    return tok.fillna("").astype(str)


def copy_payload(frame: pd.DataFrame, cols: list[Column]) -> str:
    """The frame as CSV text for ``COPY … (FORMAT csv)``, built column by column (vectorised)."""
    if not len(frame) or not cols:
        return ""
    parts = [_tokens(frame.iloc[:, j], c) for j, c in enumerate(cols)]
    line = parts[0].str.cat(parts[1:], sep=",") if len(parts) > 1 else parts[0]
    return "\n".join(line.tolist()) + "\n"


def _comment_of(name: str) -> str | None:
    """Chinese comment of a column: its label, ``part_<indicator>`` as 「<indicator label>得分」."""
    if name in LABELS:
        return LABELS[name][0]
    if name.startswith("part_") and name[5:] in LABELS:
        return f"{LABELS[name[5:]][0]}（{label('map_part_suffix')}）"
    if name.endswith("_mean") and name[:-5]:
        return f"{name[:-5]}（{label('db_raster_mean')}）"
    return None


def _sql():
    from psycopg import sql

    return sql


def _existing(pg, schema: str, table: str) -> tuple[list[tuple[str, str]], list[str]] | None:
    """(columns with formatted types, primary-key columns) of an existing table, or None."""
    oid = pg.execute("SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                     "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')", (schema, table)).fetchone()
    if oid is None:
        return None
    cols = [(r[0], r[1]) for r in pg.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum", (oid[0],)).fetchall()]
    pk = [r[0] for r in pg.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = %s AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)",
        (oid[0],)).fetchall()]
    return cols, pk


def _wanted_types(pg, cols: list[Column]) -> list[tuple[str, str]]:
    """The types as format_type() shows them, to compare with an existing table."""
    if not cols:
        return []
    sql = _sql()
    tmp = "parkland_probe_types"
    pg.execute(sql.SQL("CREATE TEMP TABLE {} ({}) ON COMMIT DROP").format(
        sql.Identifier(tmp), sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c.db), sql.SQL(c.sqltype))
                                                for c in cols)))
    out = [(r[0], r[1]) for r in pg.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = %s::regclass "
        "AND attnum > 0 AND NOT attisdropped ORDER BY attnum", (tmp,)).fetchall()]
    pg.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(tmp)))
    return out


def _write_table(pg, schema: str, table: str, frame: pd.DataFrame, geom_type: str) -> int:
    """Replace one table's content (TRUNCATE when its layout is unchanged, else DROP + CREATE)."""
    sql = _sql()
    frame = pd.DataFrame(frame) if not isinstance(frame, gpd.GeoDataFrame) else frame
    frame = frame.reset_index(drop=True)
    cols = _columns(frame, pg, geom_type)
    ident = sql.Identifier(schema, table)
    key = ["source_row"] if ("source_row" in frame.columns and frame["source_row"].notna().all()
                             and frame["source_row"].is_unique and _kind(frame["source_row"])[0] == "int") else []
    key_db = [c.db for c in cols if c.name in key]
    old = _existing(pg, schema, table)
    if old is not None and old == (_wanted_types(pg, cols), key_db):
        pg.execute(sql.SQL("TRUNCATE {}").format(ident))
    else:
        pg.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(ident))
        defs = [sql.SQL("{} {}").format(sql.Identifier(c.db), sql.SQL(c.sqltype)) for c in cols]
        if key_db:
            defs.append(sql.SQL("PRIMARY KEY ({})").format(sql.SQL(", ").join(map(sql.Identifier, key_db))))
        pg.execute(sql.SQL("CREATE TABLE {} ({})").format(ident, sql.SQL(", ").join(defs)))
    payload = copy_payload(frame, cols)
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
        ident, sql.SQL(", ").join(sql.Identifier(c.db) for c in cols))
    if payload:
        with pg.cursor() as cur, cur.copy(copy_sql) as cp:
            cp.write(payload.encode("utf-8"))
    for i, c in enumerate(c for c in cols if c.kind == "geometry"):
        idx = f"{table}_{c.db}_gist" if re.fullmatch(r"[a-z0-9_]+", c.db) else f"{table}_geom{i}_gist"
        pg.execute(sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} USING gist ({})").format(
            sql.Identifier(_db_names([idx])[0]), ident, sql.Identifier(c.db)))
    _comments(pg, ident, table, cols)
    pg.execute(sql.SQL("ANALYZE {}").format(ident))
    return len(frame)


def _comments(pg, ident, table: str, cols: list[Column]) -> None:
    sql = _sql()
    key = "db_table_" + table[len(PREFIX):]
    text = label(key) if key in LABELS else f"{label('db_table_other')}：{table[len(PREFIX):]}"
    pg.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(ident, sql.Literal(f"{text}（parkland）")))
    for c in cols:
        note = _comment_of(c.name)
        if c.name != c.db:
            note = f"{note or ''}（{label('db_original_name')}：{c.name}）".lstrip()
        if c.kind == "geometry" and note is None:
            note = label("db_geometry")
        if note:
            pg.execute(sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(ident, sql.Identifier(c.db), sql.Literal(note)))


def _runs_table(pg, schema: str) -> None:
    sql = _sql()
    ident = sql.Identifier(schema, RUNS)
    pg.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(ident, sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t, _ in RUN_COLUMNS)))
    for n, t, _ in RUN_COLUMNS[1:]:
        pg.execute(sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
            ident, sql.Identifier(n), sql.SQL(t.replace(" NOT NULL", ""))))
    pg.execute(sql.SQL("COMMENT ON TABLE {} IS {}").format(ident, sql.Literal(label("db_table_runs"))))
    for n, _, key in RUN_COLUMNS:
        pg.execute(sql.SQL("COMMENT ON COLUMN {}.{} IS {}").format(ident, sql.Identifier(n), sql.Literal(label(key))))


def run_time() -> dt.datetime:
    """The run's time: ``SOURCE_DATE_EPOCH`` (seconds, UTC) when set, else now (UTC)."""
    sde = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if sde.lstrip("-").isdigit():
        return dt.datetime.fromtimestamp(int(sde), tz=dt.UTC)
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _clean(value, url: str):
    """run_info made JSON-safe, every database URL redacted and the target's password scrubbed."""
    if isinstance(value, dict):
        return {str(k): _clean(v, url) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_clean(v, url) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return value.isoformat()
    text = _URL_IN_TEXT.sub(lambda m: redact(m.group(0)), str(value))
    return scrub(text, url)


def write_db(assessment_tables: dict[str, pd.DataFrame], url: str, *, schema: str | None = "parkland",
             run_info: dict | None = None) -> None:
    """Write the assessment's tables to PostgreSQL/PostGIS in one transaction (see the module docstring).

    ``assessment_tables``: key → (Geo)DataFrame; key ``parcels`` becomes table ``parkland_parcels``.
    ``schema``: created when missing; None takes the URL's ``?schema=``, else ``parkland``.
    ``run_info``: ``year``, ``policy``, ``policy_hash``, ``version``, ``counts`` go to their columns of
    ``parkland_runs``, everything else to its ``info`` JSON (URLs without password).
    Raises InputError (URL shown without password) when the database cannot be reached or refuses the
    write; the previous tables are then unchanged.
    """
    psycopg = _psycopg()
    conninfo, own = split_url(url)
    schema = schema or own.get("schema") or "parkland"
    shown = redact(url)
    tables = {table_name(k): v for k, v in assessment_tables.items() if v is not None}
    info = _clean(dict(run_info or {}), url)
    try:
        conn = psycopg.connect(conninfo)
    except psycopg.Error as e:
        raise connect_error(e, url) from None
    sql = _sql()
    try:
        with conn:  # one transaction: COMMIT at the end, ROLLBACK on any error
            pg = conn
            pg.execute("SET LOCAL lock_timeout = '60s'")
            pg.execute("SELECT pg_advisory_xact_lock(hashtext('parkland:' || %s))", (schema,))
            has_postgis = pg.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone()
            if not has_postgis:
                raise InputError("数据库没有安装 PostGIS 扩展，无法写入宗地图形",
                                 "the database has no PostGIS extension: parcel geometries cannot be written",
                                 file=shown, hint_zh="请数据库管理员执行 CREATE EXTENSION postgis;",
                                 hint_en="Ask the database administrator to run CREATE EXTENSION postgis;")
            geom_type = pg.execute("SELECT format('%I.geometry', n.nspname) FROM pg_extension e JOIN pg_namespace n "
                                   "ON n.oid = e.extnamespace WHERE e.extname = 'postgis'").fetchone()[0]
            pg.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
            _runs_table(pg, schema)
            prev = pg.execute(sql.SQL("SELECT tables FROM {} ORDER BY run_id DESC LIMIT 1").format(
                sql.Identifier(schema, RUNS))).fetchone()
            rows = {name[len(PREFIX):]: _write_table(pg, schema, name, frame, geom_type)
                    for name, frame in tables.items()}
            for stale in sorted(set((prev or [None])[0] or []) - set(tables)):
                if stale.startswith(PREFIX) and stale != RUNS:
                    pg.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(schema, stale)))
            known = {"year", "policy", "policy_hash", "version", "counts"}
            year = info.get("year")
            pg.execute(sql.SQL("INSERT INTO {} (run_at, data_year, policy, policy_hash, version, counts, row_counts, "
                               "tables, info) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)").format(
                sql.Identifier(schema, RUNS)),
                (run_time(), int(year) if isinstance(year, (int, float)) or str(year).isdigit() else None,
                 _opt(info.get("policy")), _opt(info.get("policy_hash")), _opt(info.get("version")),
                 _json(info.get("counts") or {}), _json(rows), list(tables),
                 _json({k: v for k, v in info.items() if k not in known})))
    except InputError:
        raise
    except psycopg.Error as e:
        raise _write_error(e, url, schema) from None
    finally:
        conn.close()


def _opt(v) -> str | None:
    return None if v is None else str(v)


def _json(v):
    from psycopg.types.json import Jsonb

    return Jsonb(v, dumps=lambda o: json.dumps(o, ensure_ascii=False, sort_keys=True))


def _write_error(e: BaseException, url: str, schema: str) -> InputError:
    psycopg = _psycopg()
    detail = _driver_text(e, url)
    if isinstance(e, psycopg.OperationalError) and getattr(e, "sqlstate", None) in (None, "08006", "08003"):
        return connect_error(e, url)
    state = getattr(e, "sqlstate", None)
    if state == "42501":
        zh, hint = (f"当前用户没有在模式「{schema}」中建表或写入的权限",
                    f"请数据库管理员授予权限：GRANT CREATE, USAGE ON SCHEMA {schema} TO 用户；或用 --db-schema 指定其他模式。")
    elif state == "55P03":
        zh, hint = ("parkland 的表正被其他连接占用（等待锁超时）", "请关闭正在使用这些表的程序（如 QGIS）后重试。")
    elif state == "2BP01":
        zh, hint = ("有视图依赖 parkland 的表，表结构变化后无法替换", "请先删除或调整依赖这些表的视图后重试。")
    else:
        zh, hint = "写入数据库失败", f"数据库信息：{detail}"
    return InputError(f"{zh}；数据库中原有的结果保持不变", f"writing to the database failed, the previous results are "
                      f"unchanged: {detail}", file=redact(url), hint_zh=hint,
                      hint_en="Check the database permissions and locks, then run again.")
