"""The console provider: each message is one JSON line appended to a file.

It is the embedded default (what ``make run`` uses) and the benchmark's provider. A line is
written with one ``write`` on a file opened for appending, so a process killed at any point
has written the whole line or none of it; ``lookup`` reads the file, so after a crash the
dispatcher can ask whether a message went out, like a real provider's delivery query.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from crm.providers.base import Delivery, LookupResult


class ConsoleProvider:
    name = "console"

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._fd: int | None = None

    def _descriptor(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
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
        """Every message written so far (complete lines only)."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def lookup(self, key: str, to: str) -> Delivery:
        for message in self.sent():
            if message["key"] == key:
                return Delivery(LookupResult.SENT, message["id"])
        return Delivery(LookupResult.NOT_SENT)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
