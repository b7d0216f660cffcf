"""`make run`'s script on an empty database: it migrates, loads the demo bank with a lived
history, serves, and the demo logins it prints work against the real server (gunicorn, CSRF
on). The scheduler runs beside the web server (one of it: the web workers start none), and
Ctrl-C stops both."""

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]


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
        "DEMO_MONTHS": "1",
        "WEB_WORKERS": "1",
        "LANG": "C.UTF-8",
        "CRM_SMS_INBOUND_TOKEN": "inbound-s3cret-token",
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
            # Staff land on their day (今日工作台).
            assert landing.url.endswith("/today"), username
            # The demo customers are there, phones masked.
            customers = opener.open(f"{base}/customers").read().decode()
            assert re.search(r"\d{3}\*{4}\d{4}", customers), username
            opener.open(f"{base}/customers?q=" + urllib.parse.quote("search-term-张"))

        # A provider that cannot send headers puts the token in the URL: it works, and the
        # access log keeps neither it nor what staff searched for.
        reply = urllib.request.Request(
            f"{base}/sms/inbound?token=inbound-s3cret-token",
            data=b'{"phone_number": "13800001111", "content": "hello"}',
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(reply) as answer:
            assert answer.status == 200
        while '"POST /sms/inbound' not in (tmp_path / "run.log").read_text():
            assert time.monotonic() < deadline, "the access log never showed the reply"
            time.sleep(0.2)
        output = (tmp_path / "run.log").read_text()
        assert '"POST /sms/inbound HTTP/1.1" 200' in output
        assert "inbound-s3cret-token" not in output and "search-term" not in output

        while "scheduler active as" not in (tmp_path / "run.log").read_text():
            assert process.poll() is None, (tmp_path / "run.log").read_text()
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.5)

        # Ctrl-C reaches the whole process group: the script, gunicorn and the scheduler.
        os.killpg(process.pid, signal.SIGINT)
        # A quiet end: make reports no error for it.
        assert process.wait(timeout=30) == 0
        output = (tmp_path / "run.log").read_text()
        # "Serving" is said once gunicorn listens; without a terminal, no progress labels.
        assert output.index("Listening at") < output.index("Serving on"), output
        assert not re.search(r"^(Planning|正在计划)\s*$", output, re.M), output
        assert output.count("scheduler active as") == 1, output
        assert "scheduler standby" not in output, output
        assert re.search(r"scheduler \S+ stopped", output), output
        try:
            os.killpg(process.pid, 0)
            raise AssertionError(f"processes of `make run` outlived Ctrl-C:\n{output}")
        except ProcessLookupError:
            pass
        engine = sa.create_engine(env["CRM_DATABASE_URL"])
        try:
            with engine.connect() as conn:
                expires = conn.exec_driver_sql("SELECT expires_at FROM scheduler_lease").scalar()
                held = conn.exec_driver_sql(
                    "SELECT count(*) FROM experience WHERE status = 'done'"
                ).scalar()
        finally:
            engine.dispose()
        # The demo bank came with a month lived: experiences were held and recorded.
        assert held > 0
        # The scheduler handed its lease over as it stopped.
        assert datetime.fromisoformat(expires).replace(tzinfo=UTC) <= datetime.now(UTC)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)
        log.close()
