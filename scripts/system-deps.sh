#!/usr/bin/env bash
# Installs the system packages the test suite drives for real: a PostgreSQL server
# (the suite starts a throwaway one), Chromium (browser tests) and a CJK font (the analytics
# report's charts). Skips what is there.
set -euo pipefail

need=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
  need+=(postgresql)
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
