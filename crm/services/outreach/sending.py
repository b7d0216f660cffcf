"""What sending and reconciling outbox rows share: who sends each channel, how often a message
is tried, and what a settled message does to the routine contact it stands for."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import ARRAY

from crm.core.clock import business_zone
from crm.extensions import db
from crm.models import Customer, Experience
from crm.models.enums import ExperienceStatus
from crm.providers.base import SmsProvider
from crm.providers.registry import provider_for
from crm.services.planning import contact_dates

# A message tried this often goes to a person instead of being tried again.
MAX_ATTEMPTS = 5


class Senders:
    """The SMS provider and the mailer, each made when first needed."""

    def __init__(self, provider: SmsProvider | None = None, mailer: SmsProvider | None = None):
        self._sms, self._mail = provider, mailer

    def __call__(self, channel: str) -> SmsProvider:
        if channel == "email":
            if self._mail is None:
                from crm.providers.mail import mailer_for

                self._mail = mailer_for(current_app)
            return self._mail
        if self._sms is None:
            self._sms = provider_for(current_app)
        return self._sms


def ids_in(column: sa.ColumnElement, ids) -> sa.ColumnElement[bool]:
    """``column IN ids``; on PostgreSQL as ``= ANY(array)``, one parameter instead of
    thousands."""
    ids = list(ids)
    if db.engine.dialect.name == "postgresql":
        return column == sa.any_(sa.cast(sa.literal(ids, ARRAY(sa.Integer)), ARRAY(sa.Integer)))
    return column.in_(ids)


def close_experiences(done: list[int], skipped: list[int], now: datetime) -> None:
    """A sent SMS is its routine experience held; one that may not be sent is cancelled."""
    held_on = now.astimezone(business_zone()).date()
    if done:
        db.session.execute(
            sa.update(Experience)
            .where(ids_in(Experience.id, done), Experience.status == ExperienceStatus.PLANNED)
            .values(
                status=ExperienceStatus.DONE,
                held_on=held_on,
                actual_cost=Experience.planned_cost,
                version=Experience.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
    if skipped:
        db.session.execute(
            sa.update(Experience)
            .where(ids_in(Experience.id, skipped), Experience.status == ExperienceStatus.PLANNED)
            .values(status=ExperienceStatus.CANCELLED, version=Experience.version + 1)
            .execution_options(synchronize_session=False)
        )
    if done or skipped:
        # The customers' last contact and next planned experience, in one statement.
        closed = sa.select(Experience.customer_id).where(ids_in(Experience.id, done + skipped))
        contact_dates.refresh_where(Customer.id.in_(closed), held_on)
