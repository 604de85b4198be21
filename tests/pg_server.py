"""A throwaway PostgreSQL + PostGIS cluster for the tests (Debian's packages; `bash .ci/postgres.sh`).

:func:`start` runs ``initdb`` and ``pg_ctl`` from ``/usr/lib/postgresql/<ver>/bin`` (the highest version
that has the PostGIS extension files) in a fresh directory under the system temp dir, listening on a
unix socket in that directory and on 127.0.0.1 at a free port, with durability switched off (fsync,
full_page_writes, synchronous_commit) because the cluster lives for one test session. Local (socket)
connections are trusted; TCP connections need a SCRAM password, so a password-protected role can be
tested over 127.0.0.1.

Running as root (CI does): ``initdb`` refuses to run as root, so every server command runs as the
``postgres`` system user (created by the Debian package) through ``runuser -u postgres --``, and the
temp directory is chowned to it. The test process itself stays root and connects through the socket as
the database superuser ``postgres`` (trust) — root can open the socket in the postgres-owned directory.
As an ordinary user everything runs as that user.

The session fixture ``pg_server`` (import it into a test module) skips when no server binaries are
installed, except under ``CI=true``, where a missing server is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

PG_ROOT = Path("/usr/lib/postgresql")
SHARE_ROOT = Path("/usr/share/postgresql")
DBNAME = "parkland_test"
NEEDS = ("these tests need a PostgreSQL server with PostGIS: run `bash .ci/postgres.sh` as root "
         "(Debian's postgresql and postgresql-<ver>-postgis-3 packages)")


def find_bindir() -> Path | None:
    """``/usr/lib/postgresql/<ver>/bin`` of the highest version with initdb and PostGIS, or None."""
    found = []
    for initdb in PG_ROOT.glob("*/bin/initdb"):
        ver = initdb.parent.parent.name
        if (SHARE_ROOT / ver / "extension" / "postgis.control").exists():
            try:
                found.append((float(ver), initdb.parent))
            except ValueError:
                continue
    return max(found)[1] if found else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    """A running cluster: socket directory, TCP port, and the database with PostGIS."""

    bindir: Path
    root: Path
    port: int
    run_as: list[str]
    dbname: str = DBNAME

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def sockdir(self) -> Path:
        return self.root

    def url(self, dbname: str | None = None, *, user: str = "postgres", **params: str) -> str:
        """A libpq URL through the unix socket (trusted), with extra query parameters."""
        q = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in {"host": str(self.sockdir), "port": self.port,
                                                                   **params}.items())
        return f"postgresql://{user}@/{dbname or self.dbname}?{q}"

    def tcp_url(self, user: str, password: str | None = None, dbname: str | None = None, **params: str) -> str:
        """A libpq URL over TCP to 127.0.0.1 (password auth), password percent-encoded."""
        auth = quote(user, safe="") + (":" + quote(password, safe="") if password is not None else "")
        q = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items())
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{dbname or self.dbname}" + (f"?{q}" if q else "")

    def connect(self, dbname: str | None = None, autocommit: bool = True):
        """A psycopg connection as the superuser through the socket."""
        import psycopg

        return psycopg.connect(host=str(self.sockdir), port=self.port, user="postgres",
                               dbname=dbname or self.dbname, autocommit=autocommit)

    def stop(self) -> None:
        subprocess.run([*self.run_as, str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate",
                        "-w", "stop"], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def _run(cmd: list[str], what: str) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode:
        raise RuntimeError(f"{what} failed ({r.returncode}): {r.stdout[-2000:]}\n{r.stderr[-2000:]}")


def start(bindir: Path | None = None) -> PgServer:
    """initdb + pg_ctl start a cluster in a new temp dir; create database ``parkland_test`` with PostGIS."""
    bindir = bindir or find_bindir()
    if bindir is None:
        raise FileNotFoundError(NEEDS)
    root = Path(tempfile.mkdtemp(prefix="parkland-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses root: run the server as the `postgres` system user of the Debian package
        shutil.chown(root, user="postgres", group="postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    srv = PgServer(bindir=bindir, root=root, port=_free_port(), run_as=run_as)
    try:
        _run([*run_as, str(bindir / "initdb"), "-D", str(srv.datadir), "-U", "postgres", "-E", "UTF8",
              "--locale=C.UTF-8", "-N", "--auth-local=trust", "--auth-host=scram-sha-256"], "initdb")
        opts = (f"-c listen_addresses=127.0.0.1 -c port={srv.port} -c unix_socket_directories={root} "
                "-c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=30 "
                "-c shared_buffers=32MB")
        _run([*run_as, str(bindir / "pg_ctl"), "-D", str(srv.datadir), "-l", str(root / "server.log"),
              "-o", opts, "-w", "-t", "60", "start"], "pg_ctl start")
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                with srv.connect("postgres") as conn:
                    conn.execute(f"CREATE DATABASE {DBNAME}")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        with srv.connect() as conn:
            conn.execute("CREATE EXTENSION postgis")
    except BaseException:
        log = root / "server.log"
        if log.exists():
            print(log.read_text(errors="replace")[-3000:])
        srv.stop()
        raise
    return srv


@pytest.fixture(scope="session")
def pg_server():
    """A running throwaway cluster for the session (see the module docstring); stopped and removed after."""
    ci = os.environ.get("CI", "").lower() == "true"
    try:
        import psycopg  # noqa: F401
        import sqlalchemy  # noqa: F401
    except ImportError as e:
        msg = f"{NEEDS}; and the Python packages sqlalchemy and psycopg[binary] ({e})"
        if ci:
            pytest.fail(msg)
        pytest.skip(msg)
    bindir = find_bindir()
    if bindir is None:
        if ci:
            pytest.fail(NEEDS)
        pytest.skip(NEEDS)
    srv = start(bindir)
    try:
        yield srv
    finally:
        srv.stop()
