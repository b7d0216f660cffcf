#!/usr/bin/env bash
# Installs the system packages the test suite drives for real: a PostgreSQL server
# (the suite starts a throwaway one) and its client programs (backups), Chromium (browser
# tests), a CJK font (the analytics report's charts) and, as root, iproute2 (the test across
# hosts makes network namespaces). Skips what is there.
set -euo pipefail

need=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
  need+=(postgresql)
fi
# pg_dump, pg_restore and psql, for `flask crm backup` and `restore`.
if ! command -v pg_dump >/dev/null || ! command -v psql >/dev/null; then
  need+=(postgresql-client)
fi
# Network namespaces need root; an ordinary user's suite skips that test and needs no `ip`.
if [ "$(id -u)" -eq 0 ] && ! command -v ip >/dev/null; then
  need+=(iproute2)
fi
if ! command -v chromium >/dev/null && [ ! -x /usr/bin/chromium ]; then
  need+=(chromium)
fi
# Charts in the analytics report label branches and staff in Chinese.
if ! fc-list 2>/dev/null | grep -qi "CJK" && [ ! -d /usr/share/fonts/opentype/noto ]; then
  need+=(fonts-noto-cjk)
fi
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing system packages: ${need[*]}. Install them (as root: apt-get install ${need[*]})." >&2
  exit 1
fi
echo "Installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The Debian package starts a cluster of its own; the suite needs only the binaries.
if command -v pg_ctlcluster >/dev/null; then
  for cluster in /etc/postgresql/*/main; do
    [ -d "$cluster" ] || continue
    version=$(basename "$(dirname "$cluster")")
    pg_ctlcluster "$version" main stop >/dev/null 2>&1 || true
  done
fi
