"""Processes on the hosts of a test LAN (``tests/support/netns.py``), and an SMS provider
the test paces.

``HostProcess`` runs a program inside one host, its output in a file the test reads.
``PacedPipe`` stands for the SMS service a scheduler host sends to: that host's console
provider writes into a named pipe, and this thread reads the messages out of it into a file
(the provider's record, which ``ConsoleProvider(copy).sent()`` reads). It takes ``hold_at``
messages, then none until ``release()``: the host's dispatcher then blocks on its next
send, held in the middle of its batch for as long as the test needs.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import threading
import time
from pathlib import Path

from tests.support.netns import Lan

ROOT = Path(__file__).resolve().parents[2]


class HostProcess:
    """A program run on one host of the LAN, its output in ``<folder>/<host>.log``."""

    def __init__(self, lan: Lan, host: str, argv: list[str], env: dict, folder: Path) -> None:
        self.host = host
        self.log_path = folder / f"{host}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115  (written until the process ends)
        self.process = subprocess.Popen(
            lan.command(host, argv),
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.output())
            if found:
                return found
            assert self.process.poll() is None, f"{self.host} exited:\n{self.output()}"
            assert time.monotonic() < deadline, f"no {pattern!r} on {self.host}:\n{self.output()}"
            time.sleep(0.1)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if not self._log.closed:
            self._log.close()


class PacedPipe(threading.Thread):
    """Reads the messages a console provider writes into ``fifo`` and appends them to
    ``copy``; after ``hold_at`` messages it reads nothing more until ``release()``."""

    def __init__(self, fifo: Path, copy: Path, hold_at: int, seconds: float = 300) -> None:
        super().__init__(daemon=True)
        self.fifo, self.copy, self.hold_at, self.seconds = fifo, copy, hold_at, seconds
        os.mkfifo(fifo, 0o600)
        self.taken = 0
        self.held = threading.Event()  # set once ``hold_at`` messages are taken
        self._released = threading.Event()
        self.stop = threading.Event()

    def release(self) -> None:
        self._released.set()

    def run(self) -> None:
        # Non-blocking: open at once, before the provider's first write opens its end.
        fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
        deadline = time.monotonic() + self.seconds
        pending = b""
        try:
            with open(self.copy, "ab") as copy:
                while not self.stop.is_set() and time.monotonic() < deadline:
                    if self.taken >= self.hold_at and not self._released.is_set():
                        self.held.set()
                        self._released.wait(0.1)
                        continue
                    ready, _, _ = select.select([fd], [], [], 0.1)
                    if not ready:
                        continue
                    # Small reads while holding, so that it stops near ``hold_at``.
                    chunk = os.read(fd, 65536 if self._released.is_set() else 256)
                    if not chunk:  # no writer has the pipe open (yet, or any more)
                        time.sleep(0.05)
                        continue
                    *lines, pending = (pending + chunk).split(b"\n")
                    for line in lines:
                        copy.write(line + b"\n")
                        self.taken += 1
                    copy.flush()
        finally:
            os.close(fd)
