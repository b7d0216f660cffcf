"""The console provider: each message is one JSON line appended to a file.

It is the embedded default (what ``make run`` uses) and the benchmark's provider. A line is
written with one ``write`` on a file opened for appending; ``lookup`` reads the file, so after
a crash the dispatcher can ask whether a message went out, like a real provider's delivery
query.

A process killed during that ``write`` can still leave part of a line (Linux stops a write to
a file between pages when the process is killed). Such a fragment is no message: readers skip
it (so the message counts as never received and is sent again), and the next process to open
the file ends the fragment's line first, so its own lines stay whole.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from crm.providers.base import Delivery, LookupResult


class ConsoleProvider:
    name = "console"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._fd: int | None = None

    @classmethod
    def from_config(cls, config: Mapping) -> ConsoleProvider:
        return cls(config["CRM_SMS_CONSOLE_PATH"])

    def _descriptor(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                os.write(fd, b"\n")  # a killed writer's fragment: end its line
            self._fd = fd
        return self._fd

    def send(self, to: str, body: str, key: str) -> str:
        message_id = uuid.uuid4().hex
        line = json.dumps(
            {
                "id": message_id,
                "key": key,
                "to": to,
                "body": body,
                "at": datetime.now(UTC).isoformat(),
            },
            ensure_ascii=False,
        )
        os.write(self._descriptor(), (line + "\n").encode())
        return message_id

    def sent(self) -> list[dict]:
        """Every message written so far: whole lines only, a killed writer's fragment not."""
        if not self.path.exists():
            return []
        messages = []
        for line in self.path.read_bytes().split(b"\n"):
            try:
                message = json.loads(line)
            except ValueError:  # empty, or a fragment (cut anywhere, even inside a character)
                continue
            if isinstance(message, dict) and "key" in message:
                messages.append(message)
        return messages

    def lookup(self, key: str, to: str) -> Delivery:
        for message in self.sent():
            if message["key"] == key:
                return Delivery(LookupResult.SENT, message["id"])
        return Delivery(LookupResult.NOT_SENT)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
