"""PostGIS as a source: parcel, building and park layers and firm tables from a PostgreSQL database.

An input given as a PostgreSQL URL (``postgresql://user@host:5432/db?table=zongdi``, also
``?schema=NAME``, or ``?query=SELECT…`` URL-encoded; ``postgres://`` and ``postgresql+psycopg://`` are
accepted too) is read with :func:`geopandas.read_postgis` through SQLAlchemy and psycopg (the GDAL
wheels have no PostgreSQL driver). Everything else in the URL goes to libpq unchanged, so credentials
come from the URL, ``PGPASSWORD``/``~/.pgpass``, or a service file (``postgresql:///?service=name`` or
``PGSERVICE``), and a unix socket is ``?host=/run/postgresql``. Reading runs in a READ ONLY
transaction: a ``?query=`` cannot change the database.

Rows are numbered ``source_row`` = 1..n in a deterministic order: a table by its primary key, else by
``ctid`` (its physical order); a query in the order it returns (a query without ORDER BY is listed).
The CRS comes from the geometries' SRID (``spatial_ref_sys`` auth name/code, else its WKT); SRID 0 is
returned as crs None, which the geo stage treats like a layer without CRS.

Passwords never leave this module: :func:`redact` removes them from every message and from ``meta``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from urllib.parse import parse_qsl, urlencode, urlsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from parkland import recon
from parkland.errors import InputError
from parkland.io.tables import _frame, _headers, unique_names

#: URL schemes read as PostgreSQL
SCHEMES = ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2", "pgsql")
#: query parameters parkland reads itself; every other one goes to libpq
OWN_PARAMS = ("table", "query", "schema", "geom")
#: libpq parameters that hold secrets: removed by :func:`redact`
SECRET_PARAMS = ("password", "sslpassword")
_SOURCE_FLAG = {"parcels": "--parcels", "buildings": "--buildings", "parks": "--parks", "firms": "--firms",
                "previous_firms": "--previous-firms", "links": "--links"}
_PW_KV = re.compile(r"(?i)((?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)")


def is_db_url(s: object) -> bool:
    """True when ``s`` is a string naming a PostgreSQL database (``postgresql://…``, ``postgres://…``)."""
    if not isinstance(s, str):
        return False
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", s.strip())
    return bool(m) and m.group(1).lower() in SCHEMES


def redact(url: str) -> str:
    """The URL without its password: ``postgresql://u:secret@h/db`` → ``postgresql://u@h/db``.

    Removes the password of the user-info part and any ``password=`` query parameter (and, for a
    libpq ``key=value`` string, the ``password=`` pair). Other parts are kept as written.
    """
    if not isinstance(url, str):
        return url
    if not is_db_url(url):
        return _PW_KV.sub(lambda m: m.group(1) + "***", url) if "=" in url else url
    parts = urlsplit(url.strip())
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostinfo = netloc.rpartition("@")
        netloc = f"{userinfo.split(':', 1)[0]}@{hostinfo}"
    query = parts.query
    if query:
        pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k.lower() not in SECRET_PARAMS]
        if len(pairs) != len(parse_qsl(query, keep_blank_values=True)):
            query = urlencode(pairs, safe="/")
    return _unsplit(parts.scheme, netloc, parts.path, query, parts.fragment)


def _unsplit(scheme: str, netloc: str, path: str, query: str, fragment: str) -> str:
    """urlunsplit that keeps ``scheme://`` with an empty host (``postgresql:///?service=x``)."""
    return f"{scheme}://{netloc}{path}" + (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")


def _password(url: str) -> str | None:
    """The password written in the URL (decoded), to scrub it from driver messages."""
    from urllib.parse import unquote

    parts = urlsplit(url.strip())
    userinfo = parts.netloc.rpartition("@")[0]
    if ":" in userinfo:
        return unquote(userinfo.split(":", 1)[1]) or None
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        if k.lower() in SECRET_PARAMS:
            return v or None
    return None


def scrub(text: str, url: str) -> str:
    """``text`` with the URL's password (as written and decoded) replaced by ``***``."""
    from urllib.parse import quote

    pw = _password(url) if is_db_url(url) else None
    text = _PW_KV.sub(lambda m: m.group(1) + "***", str(text))
    if pw:
        for form in {pw, quote(pw, safe=""), quote(pw)}:
            text = text.replace(form, "***")
    return text


def split_url(url: str) -> tuple[str, dict[str, str]]:
    """(libpq connection URL, parkland's own parameters ``table``/``query``/``schema``/``geom``).

    The scheme becomes ``postgresql://`` (libpq's), and parkland's parameters are removed from the
    query string (libpq rejects unknown ones)."""
    parts = urlsplit(url.strip())
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    own = {k.lower(): v for k, v in pairs if k.lower() in OWN_PARAMS}
    rest = [(k, v) for k, v in pairs if k.lower() not in OWN_PARAMS]
    conninfo = _unsplit("postgresql", parts.netloc, parts.path, urlencode(rest, safe="/"), "")
    return conninfo, own


def _psycopg():
    try:
        import psycopg
        import sqlalchemy  # noqa: F401
    except ImportError as e:
        raise InputError("读取或写入 PostgreSQL 数据库需要 Python 包 sqlalchemy 和 psycopg",
                         "reading or writing PostgreSQL needs the Python packages sqlalchemy and psycopg",
                         hint_zh="请安装：pip install \"sqlalchemy>=2\" \"psycopg[binary]>=3.1\"",
                         hint_en="Install them: pip install \"sqlalchemy>=2\" \"psycopg[binary]>=3.1\"") from e
    return psycopg


def _driver_text(e: BaseException, url: str) -> str:
    e = getattr(e, "orig", None) or e
    text = " ".join(str(e).split())
    return scrub(text, url)[:300]


def connect_error(e: BaseException, url: str) -> InputError:
    """An InputError for a failed connection: refused/unreachable, authentication, unknown database."""
    shown = redact(url)
    detail = _driver_text(e, url)
    low = detail.lower()
    if any(s in low for s in ("password authentication failed", "no password supplied", "authentication failed",
                              "fe_sendauth", "peer authentication", "ident authentication", "scram")):
        return InputError("数据库拒绝了登录（用户名或密码错误，或没有提供密码）",
                          f"the database refused the login (wrong user or password, or none given): {detail}",
                          file=shown,
                          hint_zh="请检查用户名和密码：可写在 URL 中，或用环境变量 PGPASSWORD、~/.pgpass 文件、"
                                  "服务文件（?service=名称 或 PGSERVICE）提供。",
                          hint_en="Check the user and password: in the URL, PGPASSWORD, ~/.pgpass or a service "
                                  "file (?service=name or PGSERVICE).")
    if "does not exist" in low and "database" in low:
        return InputError("数据库不存在", f"the database does not exist: {detail}", file=shown,
                          hint_zh="请检查 URL 中斜杠后的数据库名。", hint_en="Check the database name after the slash.")
    if "service" in low and ("definition" in low or "not found" in low or "file" in low):
        return InputError("找不到连接服务定义（pg_service.conf）", f"the connection service is not defined: {detail}",
                          file=shown, hint_zh="请检查 PGSERVICEFILE / ~/.pg_service.conf 中的服务名称。",
                          hint_en="Check the service name in PGSERVICEFILE / ~/.pg_service.conf.")
    return InputError("无法连接数据库（服务器拒绝连接或无法访问）", f"cannot connect to the database: {detail}",
                      file=shown,
                      hint_zh="请确认数据库服务器已启动、主机名和端口正确、防火墙和 pg_hba.conf 允许本机连接。",
                      hint_en="Check that the server is running, the host and port are right, and the firewall "
                              "and pg_hba.conf let this machine in.")


def _is_connect_failure(e: BaseException) -> bool:
    psycopg = _psycopg()
    orig = getattr(e, "orig", None) or e
    return isinstance(orig, psycopg.OperationalError) and getattr(orig, "sqlstate", None) in (
        None, "28P01", "28000", "3D000", "08001", "08006", "08004")


@contextmanager
def engine_for(url: str, *, read_only: bool = True) -> Iterator:
    """A SQLAlchemy engine (psycopg 3, no pool) for the URL, connecting through libpq's URL parser so
    that ``PGPASSWORD``, ``.pgpass``, services and socket hosts work as in psql. Connections are READ
    ONLY when ``read_only``."""
    psycopg = _psycopg()
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    conninfo, _ = split_url(url)

    def creator():
        conn = psycopg.connect(conninfo)
        conn.read_only = read_only
        return conn

    eng = create_engine("postgresql+psycopg://", creator=creator, poolclass=NullPool)
    try:
        yield eng
    finally:
        eng.dispose()


def _target(url: str, own: dict[str, str], source: str) -> tuple[str | None, str | None, str | None]:
    table, query, schema = own.get("table") or None, own.get("query") or None, own.get("schema") or None
    if (table is None) == (query is None):
        flag = _SOURCE_FLAG.get(source, "--" + source)
        raise InputError("数据库地址需要指定一个表（?table=表名）或一个查询（?query=…），二者取其一",
                         "a database URL needs a table (?table=NAME) or a query (?query=…), exactly one",
                         file=redact(url),
                         hint_zh=f"例如 {flag} \"postgresql://用户@主机/库?table=zongdi&schema=public\"；"
                                 "查询需 URL 编码（空格写作 %20）。",
                         hint_en=f"e.g. {flag} \"postgresql://user@host/db?table=zongdi&schema=public\"; "
                                 "URL-encode a query (%20 for spaces).")
    return table, query, schema


def _relation(conn, url: str, table: str, schema: str | None) -> tuple[int, str, str, str]:
    """(oid, schema, table, relkind) of an existing table/view, or InputError naming it."""
    from psycopg import sql

    ident = sql.Identifier(schema, table) if schema else sql.Identifier(table)
    name = ident.as_string(conn)
    oid = conn.execute("SELECT to_regclass(%s)::oid", (name,)).fetchone()[0]
    if oid is None:
        shown = f"{schema}.{table}" if schema else table
        listing = conn.execute(
            "SELECT string_agg(format('%I.%I', schemaname, tablename), ', ' ORDER BY schemaname, tablename) "
            "FROM (SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN "
            "('pg_catalog', 'information_schema', 'topology', 'tiger') ORDER BY 1, 2 LIMIT 11) t").fetchone()[0]
        if listing and listing.count(", ") >= 10:
            listing = listing.rsplit(", ", 1)[0] + " …"
        raise InputError(f"数据库中没有表「{shown}」（或当前用户无权访问）；现有的表：{listing or '（无）'}",
                         f'no table "{shown}" in the database (or no access to it); tables: {listing or "(none)"}',
                         file=redact(url),
                         hint_zh="请检查 ?table= 的表名（区分大小写）和 ?schema= 的模式名。",
                         hint_en="Check the table name in ?table= (case-sensitive) and the schema in ?schema=.")
    nsp, rel, kind = conn.execute("SELECT n.nspname, c.relname, c.relkind::text FROM pg_class c JOIN pg_namespace n "
                                  "ON n.oid = c.relnamespace WHERE c.oid = %s", (oid,)).fetchone()
    return oid, nsp, rel, kind


def _order_by(conn, oid: int, kind: str) -> tuple[list[str], str]:
    """Columns of the primary key (in key order), else ['ctid'] for a table, else [] (a view)."""
    pk = [r[0] for r in conn.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s AND i.indisprimary "
        "ORDER BY array_position(i.indkey::int2[], a.attnum)", (oid,)).fetchall()]
    if pk:
        return pk, "primary key"
    if kind in ("r", "m"):  # a partitioned table's ctid is not unique across partitions
        return ["ctid"], "ctid"
    return [], "none"


def _select_sql(conn, url: str, own: dict[str, str], source: str) -> tuple[str, dict, list[pd.DataFrame]]:
    """The SELECT to run, facts for meta, and reconciliation notes."""
    from psycopg import sql

    table, query, schema = _target(url, own, source)
    notes: list[pd.DataFrame] = []
    if table is not None:
        oid, nsp, rel, kind = _relation(conn, url, table, schema)
        order, how = _order_by(conn, oid, kind)
        stmt = sql.SQL("SELECT * FROM {}").format(sql.Identifier(nsp, rel))
        if order:
            stmt = sql.SQL("{} ORDER BY {}").format(stmt, sql.SQL(", ").join(
                sql.SQL("ctid") if c == "ctid" else sql.Identifier(c) for c in order))
        else:
            notes.append(recon.record(source, "DB_UNORDERED", f"「{nsp}.{rel}」没有主键，行号按数据库返回的顺序编号，"
                                      "重跑时可能不同", f'"{nsp}.{rel}" has no primary key: rows are numbered '
                                      "in the order the database returns them, which may change", "kept"))
        facts = {"table": rel, "schema": nsp, "query": None, "order_by": [c for c in order] or None,
                 "order": how}
        return stmt.as_string(conn), facts, notes
    q = query.strip().rstrip(";").strip()
    if not re.search(r"(?is)\border\s+by\b", q):
        notes.append(recon.record(source, "DB_QUERY_UNORDERED", "查询没有 ORDER BY：行号按数据库返回的顺序编号，重跑时可能"
                                  "不同；请在查询末尾加 ORDER BY 主键", "the query has no ORDER BY: rows are numbered in "
                                  "the order the database returns them, which may change; add ORDER BY the key",
                                  "kept"))
    return q, {"table": None, "schema": schema, "query": q, "order_by": None, "order": "query"}, notes


def _columns(conn, stmt: str, url: str) -> list[tuple[str, str]]:
    """(name, type name) of the statement's result columns, from a LIMIT 0 probe."""
    cur = conn.execute(f"SELECT * FROM ({stmt}) AS parkland_probe LIMIT 0")
    oids = tuple({d.type_code for d in cur.description})
    names = dict(conn.execute("SELECT oid, typname FROM pg_type WHERE oid = ANY(%s)", (list(oids),)).fetchall())
    return [(d.name, names.get(d.type_code, "")) for d in cur.description]


def _query_error(e: BaseException, url: str, source: str) -> InputError:
    detail = _driver_text(e, url)
    return InputError("数据库执行查询出错", f"the database rejected the query: {detail}", file=redact(url),
                      hint_zh=f"请检查 ?query= 中的 SQL（数据库信息：{detail}）；查询只能读取数据。",
                      hint_en="Check the SQL in ?query=; a query may only read data.")


@contextmanager
def _session(url: str, source: str) -> Iterator:
    """(SQLAlchemy connection, its psycopg connection), with driver errors turned into InputError."""
    psycopg = _psycopg()
    import sqlalchemy.exc

    with engine_for(url) as eng:
        try:
            # no_parameters: the SQL goes to the driver as written, so a % or :name in a ?query= is text
            conn = eng.connect().execution_options(no_parameters=True)
        except (sqlalchemy.exc.DBAPIError, psycopg.Error) as e:
            raise connect_error(e, url) from None
        try:
            yield conn, conn.connection.driver_connection
        except (sqlalchemy.exc.DBAPIError, psycopg.Error) as e:
            if _is_connect_failure(e):
                raise connect_error(e, url) from None
            raise _query_error(e, url, source) from None
        finally:
            with suppress(Exception):  # the connection may be broken already
                conn.rollback()
            conn.close()


def content_sha256(frame: pd.DataFrame) -> str:
    """SHA-256 of the fetched content: the column names and every cell as CSV, geometry as hex EWKB."""
    df = pd.DataFrame(frame).copy()
    for c in df.columns:
        if isinstance(df[c].dtype, gpd.array.GeometryDtype):
            df[c] = shapely.to_wkb(np.asarray(df[c].values, dtype=object), hex=True, include_srid=True)
    return hashlib.sha256(df.to_csv(index=False, lineterminator="\n").encode("utf-8")).hexdigest()


def _crs_of(conn, url: str, srids: np.ndarray, geom_col: str):
    """pyproj CRS for the one SRID of the geometries (None for SRID 0); InputError for mixed SRIDs."""
    from pyproj import CRS

    values = sorted({int(s) for s in srids})
    if len(values) > 1:
        raise InputError(f"几何列「{geom_col}」混有多个坐标系（SRID {', '.join(map(str, values))}）",
                         f'geometry column "{geom_col}" mixes SRIDs {", ".join(map(str, values))}',
                         file=redact(url), column=geom_col,
                         hint_zh="请用 ST_Transform 统一到一个坐标系后再读取（可用 ?query=）。",
                         hint_en="Transform them to one CRS with ST_Transform first (e.g. in ?query=).")
    if not values or values[0] == 0:
        return None, 0
    srid = values[0]
    row = conn.execute("SELECT auth_name, auth_srid, srtext FROM spatial_ref_sys WHERE srid = %s", (srid,)).fetchone()
    if row and row[0] and row[1]:
        try:
            return CRS.from_authority(row[0], int(row[1])), srid
        except Exception:  # pyproj.exceptions.CRSError: an authority pyproj does not know
            pass
    if row and row[2]:
        return CRS.from_wkt(row[2]), srid
    try:
        return CRS.from_epsg(srid), srid
    except Exception as e:  # CRSError
        raise InputError(f"SRID {srid} 不在数据库的 spatial_ref_sys 表中，也不是 EPSG 代码",
                         f"SRID {srid} is neither in spatial_ref_sys nor an EPSG code", file=redact(url),
                         column=geom_col, hint_zh="请用 ST_SetSRID 设置正确的 EPSG 代码。",
                         hint_en="Set the right EPSG code with ST_SetSRID.") from e


def read_db_layer(url: str, *, source: str = "parcels") -> recon.Loaded:
    """Read a PostGIS table or query as a layer, like :func:`parkland.io.layers.read_layer` reads a file.

    Frame: ``source_row`` (1..n in primary-key / ctid / query order) first, then the attribute columns
    under their database names, and ``geometry`` (null geometries kept; SRIDs removed from the shapely
    objects). crs: the SRID's CRS, None for SRID 0 (the geo stage raises the missing-CRS error).
    The geometry column is the one named by ``?geom=``, else the first geometry/geography column; other
    geometry columns are dropped and listed. Meta: path (URL without password), sha256 (of the fetched
    content), driver, table, schema, query, layer, geometry_column, srid, crs, order_by, n_features.
    Raises InputError for a bad URL, a refused connection or login, a missing table, a failing query,
    a result without geometry column, or mixed SRIDs."""
    _psycopg()
    shown = redact(url)
    _, own = split_url(url)
    _target(url, own, source)
    with _session(url, source) as (con, pg):
        stmt, facts, notes = _select_sql(pg, url, own, source)
        cols = _columns(pg, stmt, url)
        geoms = [n for n, t in cols if t in ("geometry", "geography")]
        want = own.get("geom")
        if want:
            if want not in geoms:
                raise InputError(f"结果中没有名为「{want}」的几何列；几何列：{'、'.join(geoms) or '（无）'}",
                                 f'no geometry column "{want}" in the result; geometry columns: '
                                 f'{", ".join(geoms) or "(none)"}', file=shown, column=want)
            geom_col = want
        elif geoms:
            geom_col = geoms[0]
        else:
            raise InputError("表或查询结果没有几何列（geometry/geography），不能作为图层读取",
                             "the table or query has no geometry (or geography) column", file=shown,
                             hint_zh="请指定含几何列的表，或在查询中选出几何列。",
                             hint_en="Name a table with a geometry column, or select one in the query.")
        extra = [g for g in geoms if g != geom_col]
        if [n for n, _ in cols].count(geom_col) > 1:
            raise InputError(f"结果中有多个名为「{geom_col}」的列", f'several result columns are named "{geom_col}"',
                             file=shown, column=geom_col, hint_zh="请在查询中为列取不同的别名。",
                             hint_en="Give the columns distinct aliases in the query.")
        gdf = gpd.read_postgis(stmt, con, geom_col=geom_col, crs="EPSG:4326")
        geo = np.asarray(gdf.geometry.values, dtype=object)
        present = ~shapely.is_missing(geo)
        crs, srid = _crs_of(pg, url, shapely.get_srid(geo[present]), geom_col)
    if extra:
        gdf = gdf.drop(columns=extra)
        notes.append(recon.record(source, "DB_EXTRA_GEOMETRY", f"另有几何列 {'、'.join(extra)} 未使用（使用「{geom_col}」）",
                                  f"other geometry columns not used: {', '.join(extra)} (\"{geom_col}\" is used)",
                                  "kept", column=";".join(extra)))
    geometry = gpd.GeoSeries(shapely.set_srid(geo, 0), index=gdf.index, crs=crs)
    attrs = pd.DataFrame(gdf.drop(columns=[geom_col]))
    attrs.columns = unique_names([str(c) for c in attrs.columns])
    types = [t for n, t in cols if n != geom_col and n not in extra]
    for j, typ in enumerate(types):  # DATE columns as datetime64, the way pyogrio reads date fields
        if typ == "date" and j < attrs.shape[1]:
            attrs[attrs.columns[j]] = pd.to_datetime(attrs.iloc[:, j])
    sha = content_sha256(gpd.GeoDataFrame(attrs.assign(geometry=geometry), geometry="geometry", crs=crs))
    attrs.insert(0, "source_row", np.arange(1, len(attrs) + 1, dtype=np.int64))
    if "geometry" in attrs.columns:
        attrs = attrs.rename(columns={"geometry": "geometry_input"})
    out = gpd.GeoDataFrame(attrs, geometry=geometry.values, crs=crs).reset_index(drop=True)
    meta = {"path": shown, "sha256": sha, "driver": "PostgreSQL/PostGIS", "engine": "psycopg",
            "source": source, **facts, "layer": facts["table"] or "query", "layers": [],
            "geometry_column": geom_col, "srid": srid, "encoding": None,
            "crs": crs.to_string() if crs is not None else None, "n_features": len(out)}
    return recon.Loaded(out, recon.concat(notes), meta)


def read_db_table(url: str, *, source: str = "firms") -> recon.Loaded:
    """Read a database table or query as a raw table, like :func:`parkland.io.tables.read_table`.

    Frame: ``source_row`` (1..n in primary-key / ctid / query order, rows with every cell empty left
    out as in a CSV), ``file_row`` (the row's position in the database result: a database has no file
    lines), then one object column per result column under its database name, headers and cells
    cleaned by the same code as CSV/Excel (:func:`parkland.io.tables._frame`: numbers without a
    spurious ``.0``, NUMERIC digits exact, dates ISO, empty → None); geometry columns are left out. Meta as
    read_table's (path = URL without password, sha256 of the fetched content, format ``postgresql``,
    headers, header_row None, title "") plus table, schema, query.
    """
    _psycopg()
    shown = redact(url)
    _, own = split_url(url)
    _target(url, own, source)
    with _session(url, source) as (con, pg):
        stmt, facts, notes = _select_sql(pg, url, own, source)
        cols = _columns(pg, stmt, url)
        df = pd.read_sql(stmt, con, coerce_float=False)
    geoms = {i for i, (_, t) in enumerate(cols) if t in ("geometry", "geography")}
    body = df.iloc[:, [i for i in range(df.shape[1]) if i not in geoms]]
    # the same header clean-up and cell-to-text rules as CSV/Excel (blank rows dropped, file_row = the
    # row's position in the database result)
    headers = _headers([c for i, (c, _) in enumerate(cols) if i not in geoms], body.shape[1])
    text = _frame(body, headers, 1)
    keep = [c for c in text.columns if c not in ("source_row", "file_row")]
    sha = content_sha256(text[keep])
    if geoms:
        dropped = [cols[i][0] for i in sorted(geoms)]
        notes.append(recon.record(source, "DB_GEOMETRY_IGNORED", f"表格中的几何列 {'、'.join(dropped)} 未读取",
                                  f"geometry columns not read from a table: {', '.join(dropped)}", "kept",
                                  column=";".join(dropped)))
    meta = {"path": shown, "sha256": sha, "format": "postgresql", "encoding": None, "delimiter": None,
            "sheet": None, "sheets": [], "header_row": None, "title": "", "headers": keep, "n_rows": len(text),
            "source": source, **facts}
    return recon.Loaded(text.reset_index(drop=True), recon.concat(notes), meta)
