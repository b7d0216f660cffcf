#!/usr/bin/env bash
# `make run`: migrate, load the demo bank into an empty database, print the logins, serve.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT="${PORT:-5000}"
export FLASK_APP=wsgi

"$BIN/flask" db upgrade
"$BIN/flask" crm demo --if-empty --customers "${DEMO_CUSTOMERS:-1000}"
"$BIN/flask" crm plan
echo
"$BIN/flask" crm demo-logins
echo
echo "Serving on http://127.0.0.1:${PORT}  (Ctrl-C to stop)"
exec "$BIN/gunicorn" --bind "127.0.0.1:${PORT}" --workers "${WEB_WORKERS:-2}" \
  --access-logfile - --error-logfile - wsgi:app
