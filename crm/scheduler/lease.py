"""The lease (租约) that makes one scheduler process the active one.

A row of ``scheduler_lease`` names its holder and when the lease runs out. A process takes it
with one atomic UPDATE that only matches if it is the holder already or the lease has run
out, so of two processes asking at once exactly one gets it; the very first time, the row is
inserted, and the loser of that race meets the primary key. The holder renews it well before
it runs out; a process that stops renewing (a crash, a lost network) loses it once it lapses,
and a standby takes over.

Times come from the process clock: scheduler hosts are expected to keep NTP time, as
every host of a bank does.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from crm.models import SchedulerLease
from crm.models.base import UTCDateTime, utcnow

LEASE_NAME = "main"
_lease = SchedulerLease.__table__


def holder_id() -> str:
    """hostname:pid:random, so that a restarted process never passes for its predecessor."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class LeaseState:
    holder: str
    expires_at: datetime


class Lease:
    """One process's view of the lease: acquire, renew, release; nothing else writes it."""

    def __init__(
        self,
        engine: Engine,
        holder: str,
        seconds: float,
        *,
        name: str = LEASE_NAME,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.holder = holder
        self.duration = timedelta(seconds=seconds)
        self.name = name
        self.clock = clock
        # Until when (time.monotonic) this process may trust that it holds the lease.
        self.valid_until = 0.0

    def acquire(self) -> bool:
        """Take the lease if it is free, lapsed or ours already; True if this process holds it."""
        started = time.monotonic()
        now = self.clock()
        mine = _lease.c.holder == self.holder
        with self.engine.begin() as conn:
            taken = conn.execute(
                sa.update(_lease)
                .where(_lease.c.name == self.name, sa.or_(mine, _lease.c.expires_at <= now))
                .values(
                    holder=self.holder,
                    expires_at=now + self.duration,
                    acquired_at=sa.case(
                        (mine, _lease.c.acquired_at), else_=sa.literal(now, UTCDateTime())
                    ),
                )
            ).rowcount
        if not taken:
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        sa.insert(_lease).values(
                            name=self.name,
                            holder=self.holder,
                            expires_at=now + self.duration,
                            acquired_at=now,
                        )
                    )
            except IntegrityError:  # the row exists: someone else holds the lease
                return False
        self.valid_until = started + self.duration.total_seconds()
        return True

    def renew(self) -> bool:
        """Extend the lease; False if another process has taken it meanwhile."""
        started = time.monotonic()
        now = self.clock()
        with self.engine.begin() as conn:
            renewed = conn.execute(
                sa.update(_lease)
                .where(_lease.c.name == self.name, _lease.c.holder == self.holder)
                .values(expires_at=now + self.duration)
            ).rowcount
        if renewed:
            self.valid_until = started + self.duration.total_seconds()
        return bool(renewed)

    def holds(self) -> bool:
        """Whether the database still names this process as the holder of an unexpired lease."""
        current = self.current()
        return (
            current is not None
            and current.holder == self.holder
            and current.expires_at > self.clock()
        )

    def release(self) -> None:
        """Let the lease lapse now, so that a standby takes over at its next look."""
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(_lease)
                .where(_lease.c.name == self.name, _lease.c.holder == self.holder)
                .values(expires_at=self.clock())
            )
        self.valid_until = 0.0

    def current(self) -> LeaseState | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(_lease.c.holder, _lease.c.expires_at).where(_lease.c.name == self.name)
            ).first()
        return LeaseState(row.holder, row.expires_at) if row else None
