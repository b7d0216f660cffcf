"""The simulator (模拟运营): months of history made by the real services under a moved clock.

``flask crm simulate --months 12 --seed S`` loads the demo bank into an empty database as
it stood ``months`` before today, then lives through every day up to yesterday with the
clock frozen at each moment of the day (``clock.frozen``), calling the same functions the
scheduler, the web pages and the staff call. Nothing here decides a business rule: the
quadrant, the budget, the plan, the SMS rules, the willingness deltas and the targets are
the services' own; the simulator only plays the customers and the staff (``behaviour``), by
the customer model (``model``). The history it leaves (quadrant events with their causes,
recorded experiences with costs, the outbox, call-backs, complaints, referrals, audit rows)
has the shape of real use. With ``--effects FILE`` the customers obey a known truth
(``truth``), so that a simulated experiment has an answer to find. It is deterministic per
seed: one ``random.Random(seed)`` decides everything, in an order set by what the rows
are, never by their ids (PostgreSQL may number the rows of one set-based insert differently
from one run to the next, as its plans follow statistics), so one seed gives one history,
up to that numbering.

A day, in the business's zone (the scheduler's times where it runs the job):

- 01:00 maturity scan (call-back tasks); 01:30 the rolling planner; 07:30 morning digest;
- 09:00 the day's SMS queued and dispatched (console provider), again at 14:00 for messages
  deferred by the weekly cap; 16:00 visit reminders;
- 10:00–17:00 the staff: record the experiences due (their outcome, response, cost and at
  times a revised asset figure), plan an occasional discretionary one, make call-backs up to
  the daily quota, open and answer complaints, re-assess willingness, revise dossiers, open
  dossiers for referred customers; customers reply "R" to opt out now and then, and some
  leave (``attrition``), marked lost by their owners; 17:30 the staff read their notifications.
"""

from __future__ import annotations

import calendar
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from crm.core.clock import local_today
from crm.extensions import db
from crm.services.followup import calls
from crm.services.outreach import digest, enqueue, reminders
from crm.services.outreach.dispatch import dispatch
from crm.services.planning import planner
from crm.services.simulation import attrition, behaviour, demo, truth
from crm.services.simulation.world import World


@dataclass
class SimulationSummary:
    start: date
    end: date  # the last day lived
    customers: int = 0
    days: int = 0
    counts: Counter = field(default_factory=Counter)
    ledger: truth.Ledger = field(default_factory=truth.Ledger)  # the true effects applied


class SimulationRefused(RuntimeError):
    """The simulator cannot run on this database or over this period; the message says why."""


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), or the month's last day if it is shorter."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def simulate(
    months: int,
    seed: int,
    *,
    customers: int = 1000,
    start: date | None = None,
    today: date | None = None,
    progress: Callable[[int, int], None] | None = None,
    effects: truth.Effects | None = None,
) -> SimulationSummary:
    """Load the demo bank into this empty database as of ``start`` (default: ``months``
    before ``today``) and live every day from then until the day before ``start + months``;
    with ``effects``, the customers obey that truth (``truth``)."""
    start, end = _period(months, start, today or local_today())
    world = World(random.Random(seed), effects)
    made = world.open_bank(customers, seed, start)
    summary = SimulationSummary(start, end - timedelta(days=1), customers=made, ledger=world.ledger)
    total = (end - start).days
    try:
        for offset in range(total):
            live_day(world, start + timedelta(days=offset), summary.counts)
            summary.days += 1
            if progress:
                progress(offset + 1, total)
    finally:
        world.close()
    return summary


def _period(months: int, start: date | None, today: date) -> tuple[date, date]:
    """The first day and the day after the last, or ``SimulationRefused`` saying why not."""
    if months < 1:
        raise SimulationRefused("Simulate at least one month.")
    if not demo.database_is_empty():
        raise SimulationRefused(
            "The database already has data; the simulator starts from an empty one."
        )
    start = start or add_months(today, -months)
    end = add_months(start, months)
    if end > today:
        raise SimulationRefused(
            f"The simulated period would end on {end.isoformat()}, after today "
            f"({today.isoformat()}); start it earlier."
        )
    return start, end


def live_day(world: World, day: date, counts: Counter) -> None:
    """One day of the bank: the scheduler's jobs at their times, the staff and customers
    between them."""
    with world.at(day, time(1, 0)):
        counts["callback_tasks"] += calls.maturity_scan(day)
        db.session.commit()
    with world.at(day, time(1, 30)):
        counts["planned"] += planner.plan_contacts(planner.horizon(day), today=day).planned
    with world.at(day, time(7, 30)) as now:
        digest.send_morning_digest(day, now=now)
    with world.at(day, time(9, 0)) as now:
        enqueue.enqueue_due(day, now)
        counts["sms_sent"] += dispatch(now, provider=world.sms, mailer=world.mail).sent
    with world.at(day, time(10, 0)):
        behaviour.record_due_experiences(world, day, counts)
    with world.at(day, time(11, 0)):
        behaviour.make_callbacks(world, day, counts)
    with world.at(day, time(13, 0)):
        behaviour.customers_act(world, day, counts)
    with world.at(day, time(13, 30)):
        attrition.customers_leave(world, day, counts)
    with world.at(day, time(14, 0)) as now:
        counts["sms_sent"] += dispatch(now, provider=world.sms, mailer=world.mail).sent
    with world.at(day, time(15, 0)):
        behaviour.answer_complaints(world, day, counts)
    with world.at(day, time(16, 0)) as now:
        reminders.send_visit_reminders(day, now=now)
    with world.at(day, time(17, 30)) as now:
        behaviour.read_notifications(now)
