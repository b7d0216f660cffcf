"""A throwaway PostgreSQL server for the test run: initdb in a temp folder, on a free port.

PostgreSQL refuses to run as root, so as root the server runs as the ``postgres``
system user (or ``nobody``) with a data folder it owns.

By default it listens on 127.0.0.1. A test of several hosts may run it inside a network
namespace (``netns``), listening on that namespace's address (``host``) and trusting the
clients of one network (``clients``, such as ``10.0.0.0/24``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_bindir() -> Path:
    for candidate in [os.environ.get("PG_BINDIR", "")] + sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), reverse=True
    ):
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(os.path.realpath(initdb)).parent
    raise RuntimeError(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found. "
        "`make test` installs them (apt-get install postgresql); set PG_BINDIR to use others."
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(
        self, host: str = "127.0.0.1", netns: str | None = None, clients: str | None = None
    ) -> None:
        self.host, self.netns, self.clients = host, netns, clients
        self.bindir = find_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="crm-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = None
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    self.user = pwd.getpwnam(name)
                    break
                except KeyError:
                    continue
            os.chmod(self.root, 0o755)
            os.chown(self.root, self.user.pw_uid, self.user.pw_gid)

    def _run(self, *args: str, in_netns: bool = True, **kw) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.user is not None:
            cmd = ["runuser", "-u", self.user.pw_name, "--", *cmd]
        if self.netns is not None and in_netns:
            cmd = ["ip", "netns", "exec", self.netns, *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=self.root, **kw)

    def start(self) -> PostgresServer:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "crm",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        if self.clients:
            with open(self.data / "pg_hba.conf", "a") as hba:
                hba.write(f"host all all {self.clients} trust\n")
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses={self.host} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                self._run(
                    "createdb", "-h", self.host, "-p", str(self.port), "-U", "crm", "crm_test"
                )
                break
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        return self

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://crm@{self.host}:{self.port}/crm_test"

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            # By its process id: it stops even if its network namespace is gone already.
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop", in_netns=False)
        shutil.rmtree(self.root, ignore_errors=True)
