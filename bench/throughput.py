"""The web benchmark's serving half (bench/web.py): the app under gunicorn with two workers,
driven by a few clients at once, for the dossier page's throughput against the hello route and
the signed-in layout, and the workers' memory; and the notes that read a throughput miss with
its cause."""

from __future__ import annotations

import http.client
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from bench.lists import PASSWORD
from crm.extensions import db
from crm.models import Customer, Staff

if TYPE_CHECKING:
    from bench.web import BackendResult

THROUGHPUT_TARGET = 0.5
CLIENTS = 4
ROUND_SECONDS = 8.0


# --- gunicorn ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(port: int, method: str, path: str, cookie: str = "", body: str = ""):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie} if cookie else {}
    if body:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body or None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response, data


def _session_cookie(port: int) -> str:
    """Log in over HTTP as a browser would: the form's CSRF token, then the session cookie."""
    response, page = _request(port, "GET", "/login")
    cookie = (response.getheader("Set-Cookie") or "").split(";")[0]
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page).group(1).decode()
    from urllib.parse import urlencode

    body = urlencode({"csrf_token": token, "username": "bench", "password": PASSWORD})
    response, _ = _request(port, "POST", "/login", cookie, body)
    assert response.status == 302, "could not log in to gunicorn"
    return (response.getheader("Set-Cookie") or cookie).split(";")[0]


def _drive(port: int, paths: list[str], cookie: str, seconds: float) -> float:
    """Requests per second from CLIENTS threads, each one request at a time."""
    stop = time.perf_counter() + seconds
    counts = [0] * CLIENTS
    errors: list[str] = []

    def client(n: int) -> None:
        rng = random.Random(n)
        while time.perf_counter() < stop:
            response, _ = _request(port, "GET", rng.choice(paths), cookie)
            if response.status != 200:
                errors.append(str(response.status))
                return
            counts[n] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"gunicorn answered {errors[0]}")
    return sum(counts) / (time.perf_counter() - started)


def _workers(master: int) -> list[int]:
    path = Path(f"/proc/{master}/task/{master}/children")
    return [int(p) for p in path.read_text().split()]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure_throughput(
    url: str, result: BackendResult, repeat: int, log, seconds: float = ROUND_SECONDS
) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "CRM_CONFIG": "development",
        "CRM_DATABASE_URL": url,
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    bin_dir = Path(sys.executable).parent
    server = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2"]
        + ["--log-level", "warning", "bench.web_wsgi:app"],
        env=env,
    )
    try:
        for _ in range(100):
            try:
                _request(port, "GET", "/bench/hello")
                break
            except OSError:
                time.sleep(0.2)
        cookie = _session_cookie(port)
        staff_id = db.session.scalar(sa.select(Staff.id).where(Staff.username == "bench"))
        ids = db.session.scalars(
            sa.select(Customer.id).where(Customer.owner_id == staff_id).limit(500)
        ).all()
        dossiers = [f"/customers/{i}" for i in ids]
        kinds = [
            (["/bench/hello"], result.hello_rps),
            (["/bench/layout"], result.layout_rps),
            (dossiers, result.dossier_rps),
        ]
        for paths, _ in kinds:  # warm both workers on each
            _drive(port, paths, cookie, min(2.0, seconds))
        for n in range(repeat):
            for paths, rates in kinds if n % 2 == 0 else reversed(kinds):
                rates.append(_drive(port, paths, cookie, seconds))
            log(
                f"  round {n + 1}: hello {result.hello_rps[-1]:.0f}/s, signed-in layout "
                f"{result.layout_rps[-1]:.0f}/s, dossier {result.dossier_rps[-1]:.0f}/s"
            )
        result.rss_mb = [_rss_mb(pid) for pid in _workers(server.pid)]
        log(f"  workers' memory: {', '.join(f'{mb:.0f} MB' for mb in result.rss_mb)}")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def _per_hour(rate: float) -> str:
    per_hour = rate * 3600
    return f"{per_hour / 1e6:.1f} million" if per_hour >= 1e6 else f"{per_hour:,.0f}"


def cost_notes(results: list[BackendResult]) -> str:
    """What the dossier page is made of against the hello route and the signed-in layout, so
    a throughput miss reads with its cause: a ratio is about the inverse of the costs."""
    lines = [
        "What the pages cost (test client, p50) and serve (gunicorn, medians), against the "
        "hello route:",
        "",
    ]
    for r in results:
        if not (r.hello_ms and r.layout_ms and r.hello_rps and r.layout_rps):
            continue
        hello = statistics.median(r.hello_ms)
        layout = statistics.median(r.layout_ms)
        dossier = statistics.median(r.dossier_ms)
        layout_share = statistics.median(r.layout_rps) / statistics.median(r.hello_rps)
        own_share = statistics.median(r.dossier_rps) / statistics.median(r.layout_rps)
        lines.append(
            f"- {r.backend}: hello {hello:.2f} ms; the signed-in layout {layout:.2f} ms "
            f"({layout / hello:.1f}×), served at {layout_share:.0%} of the hello route's rate; "
            f"the dossier {dossier:.1f} ms ({dossier / hello:.1f}×; {r.dossier_statements} SQL "
            f"statements and a template of every section), served at {own_share:.0%} of the "
            f"layout's rate."
        )
    missed = [r for r in results if r.hello_rps and r.throughput_ratio < THROUGHPUT_TARGET]
    if missed:
        rates = ", ".join(
            f"{_per_hour(statistics.median(r.dossier_rps))} on {r.backend}" for r in missed
        )
        lines += [
            "",
            "Why the throughput target is missed: the hello route is what the server and the "
            "framework cost with no session, no query and no template, and no signed-in page "
            "of this app comes near half of it; the empty layout above is the floor of every "
            "page a relationship manager sees. What would close the gap is serving dossiers "
            "from a page cache, which would show a dossier older than its last edit (a "
            "re-assessment, a call-back logged, a tag); the app does not, on purpose. Dossier "
            f"pages an hour that two workers serve at the rates measured: {rates}.",
        ]
    return "\n".join(lines)
