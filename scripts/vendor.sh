#!/usr/bin/env bash
# Browser libraries (ECharts) from the npm registry, at the versions package-lock.json pins,
# copied to crm/static/vendor where the app serves them: pages never load a script from
# another site. Installs Node's npm first where a new machine lacks it.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "npm is missing: install Node.js and npm (as root: apt-get install nodejs npm)." >&2
    exit 1
  fi
  echo "Installing system packages: nodejs npm"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
npm ci --no-audit --no-fund --loglevel=error
mkdir -p crm/static/vendor
cp node_modules/echarts/dist/echarts.min.js crm/static/vendor/echarts.min.js
