"""The simulated bank (模拟银行): its random source, its clock and its providers, and how it
is set up: the demo bank as it stood on the first simulated day."""

from __future__ import annotations

import random
from datetime import date, datetime, time

import sqlalchemy as sa
from flask import current_app

from crm.core.clock import business_zone, frozen
from crm.extensions import db
from crm.models import Customer
from crm.services.simulation import demo, people, truth


class World:
    """The simulated bank: a random source, the clock and the providers."""

    def __init__(self, rng: random.Random, effects: truth.Effects | None = None):
        from crm.providers.console import ConsoleProvider
        from crm.providers.mail import ConsoleMailer

        self.rng = rng
        self.zone = business_zone()
        # Always the console backends: a simulation never reaches a real phone or inbox.
        self.sms = ConsoleProvider(current_app.config["CRM_SMS_CONSOLE_PATH"])
        self.mail = ConsoleMailer(current_app.config["CRM_MAIL_CONSOLE_PATH"])
        self.phones: set[str] | None = None
        # The true effects the customers obey (``truth``), and each one applied.
        self.effects = effects
        self.ledger = truth.Ledger()

    def at(self, day: date, clock: time):
        """The clock frozen at ``clock`` on ``day`` in the business's zone."""
        return frozen(datetime.combine(day, clock, tzinfo=self.zone))

    def close(self) -> None:
        self.sms.close()
        self.mail.close()

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def open_bank(self, customers: int, seed: int, start: date) -> int:
        """Load the demo bank as it stood on ``start``; how many customers it has."""
        if db.engine.dialect.name == "sqlite":
            # A simulation commits thousands of small transactions a day; in WAL mode NORMAL
            # keeps the file consistent and skips the flush to disk at each commit (a power cut
            # could lose the last ones: run it again). Only this connection is affected.
            db.session.execute(sa.text("PRAGMA synchronous=NORMAL"))
        with self.at(start, time(0, 30)):
            made = demo.generate(customers=customers, seed=seed, today=start)
            db.session.commit()
        return made.customers

    def new_phone(self) -> str:
        """A mobile number no customer has yet, in the stored international form."""
        if self.phones is None:
            self.phones = set(db.session.scalars(sa.select(Customer.phone)))
        while True:
            phone = "+86" + people.mobile_number(self.rng)
            if phone not in self.phones:
                self.phones.add(phone)
                return phone
