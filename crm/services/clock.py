"""The business's calendar: "today" is the date where the staff work, not in UTC.

Between midnight and 08:00 in Shanghai the UTC date is still yesterday; a
dossier dated today must not be refused as "in the future" then.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import current_app

from crm.models.base import utcnow


def business_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_today() -> date:
    return utcnow().astimezone(business_zone()).date()
