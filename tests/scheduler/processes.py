"""A `flask crm scheduler` process run for the scheduler tests, with the lease shortened to
seconds (lease 3 s, renewal 1 s, standby poll 0.5 s) so that a takeover takes seconds."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LEASE, RENEW, POLL = 3.0, 1.0, 0.5
FAST = {
    "CRM_SCHEDULER_LEASE_SECONDS": str(LEASE),
    "CRM_SCHEDULER_RENEW_SECONDS": str(RENEW),
    "CRM_SCHEDULER_STANDBY_POLL_SECONDS": str(POLL),
}


class SchedulerProcess:
    """One `flask crm scheduler` process, its output in a file."""

    def __init__(self, url: str, log_path: Path) -> None:
        self.log_path = log_path
        env = os.environ | FAST
        env |= {
            "CRM_CONFIG": "testing",
            "CRM_DATABASE_URL": url,
            "CRM_SMS_CONSOLE_PATH": str(log_path.with_suffix(".sms.jsonl")),
            "LANG": "C.UTF-8",
        }
        self._log = open(log_path, "w")  # noqa: SIM115  (the process writes to it until it ends)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "crm", "scheduler"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log_path.read_text()

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.output())
            if found:
                return found
            assert self.process.poll() is None, f"scheduler exited:\n{self.output()}"
            assert time.monotonic() < deadline, f"no {pattern!r} in:\n{self.output()}"
            time.sleep(0.1)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        code = self.process.wait(timeout=30)
        self._log.close()
        return code
