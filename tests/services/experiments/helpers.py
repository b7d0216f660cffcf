"""Customers placed in a quadrant, and an experiment over them, for the experiments' tests."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

from crm.extensions import db
from crm.models import QuadrantEvent
from crm.models.base import utcnow
from crm.models.enums import ExperienceStatus, MoveCause, PlanOrigin, Quadrant, Touchpoint
from crm.services.customers import tiering
from crm.services.experiments import design
from tests.support.factories import make_customer

START = date(2026, 11, 23)  # a Monday

# (liquid assets, willingness) that land in each quadrant under the default thresholds
PLACES = {
    Quadrant.DEVELOP: (Decimal("50000"), 30),
    Quadrant.MAINTAIN: (Decimal("50000"), 70),
    Quadrant.CULTIVATE: (Decimal("2000000"), 30),
    Quadrant.PAMPER: (Decimal("2000000"), 90),
}


def customers_in(owner, quadrant: Quadrant, count: int, first: int = 0) -> list:
    """``count`` customers of ``owner``'s in ``quadrant``, tiered as an import places them."""
    assets, willingness = PLACES[quadrant]
    made = []
    for n in range(first, first + count):
        customer = make_customer(
            owner,
            f"{quadrant.value}{owner.id}-{n}",
            f"+8613{owner.id % 10}{list(Quadrant).index(quadrant)}{n:07d}",
            liquid_assets=assets,
            willingness=willingness,
            sms_consent=True,
            sms_consent_at=utcnow(),
        )
        tiering.place(customer, MoveCause.IMPORT, None, first=True)
        made.append(customer)
    db.session.flush()
    return made


def design_of(**changes) -> dict:
    """A valid design: visits withheld from a fifth of develop customers for 90 days."""
    return {
        "name": "拜访是否有效",
        "hypothesis": "Visits raise willingness among develop customers.",
        "category": "visit",
        "quadrants": "develop",
        "holdout_share": "0.2",
        "metric": "upward_move",
        "horizon_days": "90",
        **changes,
    }


def started(actor, today: date = START, **changes):
    """An experiment created and started on ``today``, committed."""
    experiment = design.create_experiment(actor, design_of(**changes))
    design.start_experiment(actor, experiment, today)
    db.session.commit()
    return experiment


def moved_up_lately(customers) -> None:
    """A history for the power: these customers went from develop to maintain ten days ago."""
    now = utcnow()
    for customer in customers:
        for days, quadrant in ((100, Quadrant.DEVELOP), (10, Quadrant.MAINTAIN)):
            db.session.add(
                QuadrantEvent(
                    customer_id=customer.id,
                    from_quadrant=None,
                    to_quadrant=quadrant,
                    liquid_assets=Decimal("50000.00"),
                    willingness=40,
                    capability_threshold=Decimal("1000000.00"),
                    willingness_threshold=60,
                    cause=MoveCause.IMPORT,
                    at=now - timedelta(days=days),
                )
            )


class StartBehind:
    """A manager's start of a drafted experiment, in a thread of its own, while the test holds
    a write open on another connection: ``begin`` says whether the start is held back,
    ``finish`` waits for it and raises what it raised."""

    def __init__(self, app, experiment_id: int) -> None:
        self.app, self.experiment_id = app, experiment_id
        self.done = threading.Event()
        self.failures: list[BaseException] = []
        self.thread = threading.Thread(target=self._start)

    def _start(self) -> None:
        try:
            with self.app.app_context():
                experiment = design.get_experiment(self.experiment_id)
                design.start_experiment(None, experiment, START)
                db.session.commit()
                db.session.remove()
            self.done.set()
        except BaseException as error:  # raised again in the test's thread by ``finish``
            self.failures.append(error)

    def begin(self) -> bool:
        """Start it; true if it is still waiting half a second later."""
        self.thread.start()
        return not self.done.wait(0.5)

    def finish(self) -> None:
        self.thread.join(timeout=30)
        if self.failures:
            raise self.failures[0]
        assert self.done.is_set(), "the start did not finish"


def held_visit(customer_id: int, cost: str, created_at) -> dict:
    """The columns of a visit held on the start's day, as a bare insert writes them."""
    return {
        "customer_id": customer_id,
        "category": Touchpoint.VISIT.value,
        "status": ExperienceStatus.DONE.value,
        "origin": PlanOrigin.STAFF.value,
        "due_on": START,
        "held_on": START,
        "planned_cost": Decimal(cost),
        "created_at": created_at,
        "version": 1,
    }
