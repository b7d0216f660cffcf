"""A dispatcher in a process of its own, for tests/system/test_dispatch_crash.py to kill and
restart.

Run it as ``python -m tests.support.dispatch_worker`` with its settings in the environment
(it prints the dispatch summary as one JSON line), or call ``run(settings, ready, go)`` in a
fresh process. The crash test forks one per restart from a fork server that has imported
this module (a restart then costs milliseconds rather than the app's second of imports),
and builds each next worker's app while the current one dispatches: the worker says
``ready`` once its app is built and dispatches when told ``go`` (or exits, not having
touched the database, if ``go`` is closed instead).

Settings:

- ``CRM_DATABASE_URL``, ``CRM_SMS_CONSOLE_PATH``: the database and the console provider's file;
- ``CRM_SENDING_STALE_SECONDS``: how long a message sits in "sending" before ``reconcile``
  takes it for a dead dispatcher's (default 300, as configured);
- ``CRM_DISPATCH_NOW``: the dispatcher's clock, ISO 8601 with a UTC offset (default: now);
- ``CRM_DISPATCH_BATCH``: messages claimed per transaction (default 7);
- ``CRM_TEST_SEND_PAUSE``: pause a random 0…this many seconds before and after each send
  (default 0). The pauses widen the two windows a crash must be survived in: after "sending"
  is committed and before the provider has the message, and after the provider has it and
  before "sent" is committed, so that a kill at a random moment often lands in one;
- ``CRM_TEST_SEED``: seed of those pauses.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from collections.abc import Mapping
from datetime import datetime
from multiprocessing.connection import Connection

import sqlalchemy.orm

# The app factory imports these lazily; importing them here lets a fork server that holds
# this module start each worker with the app ready to build.
import crm.cli  # noqa: F401
import crm.views.admin  # noqa: F401
import crm.views.auth  # noqa: F401
import crm.views.customers  # noqa: F401
import crm.views.errors  # noqa: F401
import crm.views.events  # noqa: F401
import crm.views.experiences  # noqa: F401
import crm.views.grid  # noqa: F401
import crm.views.health  # noqa: F401
import crm.views.helpers  # noqa: F401
import crm.views.outreach  # noqa: F401
from crm import create_app
from crm.extensions import db
from crm.models.base import utcnow
from crm.providers.base import Delivery, SmsProvider
from crm.providers.registry import provider_for
from crm.services.outreach.dispatch import dispatch

# Likewise the ORM mappers, which the first query would configure (a tenth of a second).
sqlalchemy.orm.configure_mappers()


class Pausing:
    """A provider that pauses a random while before and after each send of another."""

    def __init__(self, inner: SmsProvider, pause: float, rng: random.Random):
        self.inner, self.pause, self.rng = inner, pause, rng
        self.name = inner.name

    def send(self, to: str, body: str, key: str) -> str:
        time.sleep(self.rng.uniform(0, self.pause))
        message_id = self.inner.send(to, body, key)
        time.sleep(self.rng.uniform(0, self.pause))
        return message_id

    def lookup(self, key: str, to: str) -> Delivery:
        return self.inner.lookup(key, to)


def run(
    settings: Mapping[str, str], ready: Connection | None = None, go: Connection | None = None
) -> dict | None:
    """Dispatch everything due at the given clock and return the summary."""
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": settings["CRM_DATABASE_URL"],
            "CRM_SMS_CONSOLE_PATH": settings["CRM_SMS_CONSOLE_PATH"],
            "CRM_SENDING_STALE_SECONDS": int(settings.get("CRM_SENDING_STALE_SECONDS", "300")),
        },
    )
    now = (
        datetime.fromisoformat(settings["CRM_DISPATCH_NOW"])
        if settings.get("CRM_DISPATCH_NOW")
        else utcnow()
    )
    batch = int(settings.get("CRM_DISPATCH_BATCH", "7"))
    pause = float(settings.get("CRM_TEST_SEND_PAUSE", "0"))
    with app.app_context():
        provider = provider_for(app)
        if pause > 0:
            provider = Pausing(provider, pause, random.Random(settings.get("CRM_TEST_SEED")))
        if ready is not None:
            ready.send_bytes(b"ready")
            ready.close()
        if go is not None:
            try:
                go.recv_bytes()
            except EOFError:
                return None
            go.close()
        summary = dispatch(now, provider=provider, batch=batch)
        db.session.remove()
        db.engine.dispose()
    return {
        "sent": summary.sent,
        "failed": summary.failed,
        "skipped": summary.skipped,
        "deferred": summary.deferred,
        "reconciled": dict(summary.reconciled),
    }


def main() -> int:
    print(json.dumps(run(os.environ)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
