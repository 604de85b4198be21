#!/usr/bin/env bash
# Install Debian's PostgreSQL server and PostGIS for tests/test_postgis.py (Debian 12: PostgreSQL 15,
# PostGIS 3.3). Run as root (CI does); idempotent. The tests start their own throwaway cluster with
# initdb/pg_ctl from /usr/lib/postgresql/<ver>/bin as the `postgres` system user (initdb refuses root),
# so no cluster of the system is used or started here.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

have_postgis() {
  local bin ver
  for bin in /usr/lib/postgresql/*/bin/initdb; do
    [ -x "$bin" ] || continue
    ver=$(basename "$(dirname "$(dirname "$bin")")")
    [ -f "/usr/share/postgresql/$ver/extension/postgis.control" ] && return 0
  done
  return 1
}

if have_postgis && id postgres >/dev/null 2>&1; then
  echo "postgres.sh: PostgreSQL and PostGIS already installed"
  exit 0
fi

apt-get update -qq
# do not let the package's postinst create and start a system cluster: the tests bring their own
mkdir -p /etc/postgresql-common
if [ ! -f /etc/postgresql-common/createcluster.conf ] || ! grep -q '^create_main_cluster' /etc/postgresql-common/createcluster.conf; then
  echo 'create_main_cluster = false' >> /etc/postgresql-common/createcluster.conf
fi
# `postgresql` is the distribution's supported major version (15 on Debian 12); the PostGIS extension
# is postgresql-<ver>-postgis-3 with its -scripts package (the SQL files CREATE EXTENSION runs). The
# plain `postgis` package only holds the command-line loaders and is not needed.
apt-get install -y -qq --no-install-recommends postgresql postgresql-contrib >/dev/null
ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
apt-get install -y -qq --no-install-recommends "postgresql-$ver-postgis-3" "postgresql-$ver-postgis-3-scripts" >/dev/null
have_postgis || { echo "postgres.sh: PostGIS extension files not found after install" >&2; exit 1; }
echo "postgres.sh: PostgreSQL $ver with PostGIS installed"
