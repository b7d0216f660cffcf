"""`make run`'s script on an empty database: it migrates, loads the demo bank, serves,
and the demo logins it prints work against the real server (gunicorn, CSRF on)."""

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_script_serves_the_demo_bank(tmp_path):
    port = free_port()
    env = os.environ | {
        "PORT": str(port),
        "CRM_DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
        "DEMO_CUSTOMERS": "40",
        "WEB_WORKERS": "1",
        "LANG": "C.UTF-8",
    }
    env.pop("CRM_CONFIG", None)
    log = open(tmp_path / "run.log", "w+")  # noqa: SIM115  (outlives this block: the server writes to it)
    process = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert process.poll() is None, (tmp_path / "run.log").read_text()
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.5)
        output = (tmp_path / "run.log").read_text()
        logins = re.findall(r"^\s+(\w+)\s+(\S+)\s+(?:admin|manager|staff)", output, re.M)
        assert ("admin", "demo1234") in logins and len(logins) >= 3

        for username, password in logins[:3]:
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            login_page = opener.open(f"{base}/login").read().decode()
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page)[1]
            body = urllib.parse.urlencode(
                {"username": username, "password": password, "csrf_token": token}
            ).encode()
            landing = opener.open(f"{base}/login", data=body)
            assert landing.url.endswith("/customers"), username
            # The demo customers are there, phones masked.
            assert re.search(r"\d{3}\*{4}\d{4}", landing.read().decode()), username
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        log.close()
