"""The business's calendar: "today" is the date where the staff work, not in UTC.

Between midnight and 08:00 in Shanghai the UTC date is still yesterday; a
dossier dated today must not be refused as "in the future" then.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from crm.models.base import FROZEN_NOW, utcnow


def business_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_today() -> date:
    return utcnow().astimezone(business_zone()).date()


@contextmanager
def frozen(at: datetime) -> Iterator[datetime]:
    """Within the block, ``utcnow()`` answers ``at`` (and so does everything built on it:
    ``local_today``, column defaults, every service). The simulator moves time with this;
    blocks nest, and leaving one restores the clock it found."""
    if at.tzinfo is None:
        raise ValueError("naive datetime given to the clock")
    at = at.astimezone(UTC)
    token = FROZEN_NOW.set(at)
    try:
        yield at
    finally:
        FROZEN_NOW.reset(token)
