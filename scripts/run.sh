#!/usr/bin/env bash
# `make run`: migrate, load the demo bank with a few months of simulated history into an empty
# database, print the logins, then run the scheduler and serve.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT="${PORT:-5000}"
export FLASK_APP=wsgi

"$BIN/flask" db upgrade
"$BIN/flask" crm demo --if-empty --customers "${DEMO_CUSTOMERS:-1000}" --months "${DEMO_MONTHS:-3}"
"$BIN/flask" crm plan
"$BIN/flask" crm maturity-scan
echo
"$BIN/flask" crm demo-logins
echo

# The scheduler and the web server run side by side. When either stops, on Ctrl-C, or on
# SIGTERM, both are stopped (the scheduler hands its lease over as it goes). No `exec`: this
# shell stays to do that.
SCHEDULER_PID=
WEB_PID=
stop_both() {
  trap - EXIT INT TERM
  kill -TERM $SCHEDULER_PID $WEB_PID 2>/dev/null || true
  wait || true
}
trap stop_both EXIT
# Ctrl-C and SIGTERM are how one stops it: a quiet end, not a failure for make to report.
trap 'exit 0' INT TERM

"$BIN/flask" crm scheduler &
SCHEDULER_PID=$!
"$BIN/gunicorn" --bind "127.0.0.1:${PORT}" --workers "${WEB_WORKERS:-2}" \
  --access-logfile - --error-logfile - wsgi:app &
WEB_PID=$!

# Say "serving" once the app answers, not before (gunicorn takes a moment to load it).
answers() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/${PORT}" || exit 1
    printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    read -r -t 10 status <&3 && [[ $status == *" 200"* ]]
  ) 2>/dev/null
}
until answers; do
  kill -0 "$WEB_PID" 2>/dev/null || break  # it failed to start: its error is above
  sleep 0.2
done
if kill -0 "$WEB_PID" 2>/dev/null; then
  echo "Serving on http://127.0.0.1:${PORT}  (Ctrl-C to stop)"
fi
wait -n
