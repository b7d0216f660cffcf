"""What was spent on each experiment customer (migration 0026): kept on the assignment by
the database as experiences are written, edited and removed, whoever writes, and always
equal to a fresh count of the experiences held within the experiment's window."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from crm.core.clock import business_zone, local_today
from crm.extensions import db
from crm.models import Experience, QuadrantEvent
from crm.models.base import Money
from crm.models.enums import ExperienceStatus, MoveCause, PlanOrigin, Quadrant, Touchpoint
from crm.models.experiment import Arm, ExperimentAssignment, Metric
from crm.services.experiences import recording
from crm.services.experiments import analysis, assignment, design, outcomes
from tests.services.experiments.helpers import (
    START,
    StartBehind,
    customers_in,
    design_of,
    held_visit,
    started,
)


def _experience(customer, status, day, cost, actual=None, category=Touchpoint.VISIT):
    experience = Experience(
        customer_id=customer.id,
        category=category,
        status=status,
        origin=PlanOrigin.STAFF,
        due_on=day,
        held_on=day if status == ExperienceStatus.DONE else None,
        planned_cost=Decimal(cost),
        actual_cost=None if actual is None else Decimal(actual),
    )
    db.session.add(experience)
    db.session.commit()
    return experience


def _by_customer(experiment, column) -> dict:
    """Each of the experiment's customers' value of ``column`` (an assignment's column or an
    expression over it)."""
    a = ExperimentAssignment
    return dict(
        db.session.execute(
            sa.select(a.customer_id, column).where(a.experiment_id == experiment.id)
        ).all()
    )


def _kept(experiment) -> dict[int, Decimal]:
    return _by_customer(experiment, ExperimentAssignment.spent)


def _fresh(experiment) -> dict[int, Decimal]:
    """Counted afresh from every experience, as a stop recounts."""
    counted = outcomes.spent_by(experiment, ExperimentAssignment.customer_id)
    return _by_customer(experiment, sa.type_coerce(counted, Money))


def _agrees(experiment, *customers) -> dict[int, Decimal]:
    """Every assignment's kept sum equals a fresh count; those of ``customers`` (or all)."""
    db.session.expire_all()
    kept = _kept(experiment)
    assert kept == _fresh(experiment)
    return {c.id: kept[c.id] for c in customers} if customers else kept


def test_what_was_spent_follows_every_write_to_the_experiences(world):
    a, b, c, d = customers_in(world.alice, Quadrant.DEVELOP, 4)
    db.session.commit()
    experiment = started(world.manager, holdout_share="0.5")  # a window of 90 days
    assert set(_agrees(experiment).values()) == {Decimal("0.00")}

    visit = _experience(a, ExperienceStatus.DONE, START + timedelta(days=5), "150", "200")
    assert _agrees(experiment)[a.id] == Decimal("200.00")

    # Recorded by the staff member's form: the actual cost counts.
    planned = _experience(b, ExperienceStatus.PLANNED, local_today(), "300")
    assert _agrees(experiment)[b.id] == Decimal("0.00")  # planned is not spent
    recording.record_experience(
        world.alice,
        planned,
        {"outcome": "done", "held_on": local_today(), "response": "neutral", "actual_cost": "350"},
        planned.version,
        b.version,
    )
    db.session.commit()
    assert _agrees(experiment)[b.id] == Decimal("350.00")

    visit.actual_cost = Decimal("260")  # a corrected cost
    db.session.commit()
    assert _agrees(experiment)[a.id] == Decimal("260.00")

    # A no-show costs what was planned; a cancelled experience nothing.
    _experience(c, ExperienceStatus.NO_SHOW, START + timedelta(days=7), "100")
    _experience(c, ExperienceStatus.CANCELLED, START + timedelta(days=8), "900")
    assert _agrees(experiment)[c.id] == Decimal("100.00")

    # Held the day before the start: outside; moved into the window; then removed.
    early = _experience(d, ExperienceStatus.DONE, START - timedelta(days=1), "70")
    assert _agrees(experiment)[d.id] == Decimal("0.00")
    early.held_on = START + timedelta(days=1)
    db.session.commit()
    assert _agrees(experiment)[d.id] == Decimal("70.00")
    db.session.delete(early)
    db.session.commit()
    assert _agrees(experiment)[d.id] == Decimal("0.00")

    # On the horizon's day: outside the window.
    _experience(d, ExperienceStatus.DONE, START + timedelta(days=90), "500")
    assert _agrees(experiment, a, b, c, d) == {
        a.id: Decimal("260.00"),
        b.id: Decimal("350.00"),
        c.id: Decimal("100.00"),
        d.id: Decimal("0.00"),
    }


def test_a_stop_ends_the_window_and_what_was_held_since_no_longer_counts(world):
    a, b = customers_in(world.alice, Quadrant.DEVELOP, 2)
    db.session.commit()
    experiment = started(world.manager, holdout_share="0.5")
    _experience(a, ExperienceStatus.DONE, START + timedelta(days=3), "100")
    _experience(b, ExperienceStatus.DONE, START + timedelta(days=12), "200")
    assert _agrees(experiment, a, b) == {a.id: Decimal("100.00"), b.id: Decimal("200.00")}

    design.stop_experiment(world.manager, experiment, START + timedelta(days=10))
    db.session.commit()
    assert _agrees(experiment, a, b) == {a.id: Decimal("100.00"), b.id: Decimal("0.00")}

    # Recorded late: held before the stop counts, after it does not.
    _experience(a, ExperienceStatus.DONE, START + timedelta(days=4), "50")
    _experience(a, ExperienceStatus.DONE, START + timedelta(days=11), "80")
    assert _agrees(experiment)[a.id] == Decimal("150.00")
    report = analysis.report(experiment, START + timedelta(days=20))
    assert report.stopped_early
    kept, arms = _agrees(experiment), _arms(experiment)
    for figures in (report.primary.treatment, report.primary.holdout):
        assert figures.cost == sum(kept[c] for c, arm in arms.items() if arm == figures.arm)
    assert report.primary.treatment.cost + report.primary.holdout.cost == Decimal("150.00")


def _arms(experiment) -> dict[int, Arm]:
    return _by_customer(experiment, ExperimentAssignment.arm)


def test_a_customer_assigned_after_the_start_brings_what_was_already_spent(world):
    customers_in(world.alice, Quadrant.DEVELOP, 2)
    db.session.commit()
    visits = started(world.manager, holdout_share="0.5")
    events = started(world.manager, START + timedelta(days=1), category="event")
    (late,) = customers_in(world.alice, Quadrant.DEVELOP, 1, first=10)
    db.session.commit()
    _experience(late, ExperienceStatus.DONE, START, "40")  # before the second's start
    _experience(late, ExperienceStatus.DONE, START + timedelta(days=2), "80", category="event")

    assert assignment.assign_newcomers(START + timedelta(days=3)) == 2
    db.session.commit()
    assert _agrees(visits)[late.id] == Decimal("120.00")  # every category counts
    assert _agrees(events)[late.id] == Decimal("80.00")

    # From now on the database keeps both.
    _experience(late, ExperienceStatus.DONE, START + timedelta(days=4), "5")
    assert (_agrees(visits)[late.id], _agrees(events)[late.id]) == (
        Decimal("125.00"),
        Decimal("85.00"),
    )


def _instant(day, hour=9):
    return datetime.combine(day, time(hour), business_zone()).astimezone(UTC)


def _move(customer, before: Quadrant, after: Quadrant, at) -> None:
    db.session.add(
        QuadrantEvent(
            customer_id=customer.id,
            from_quadrant=before,
            to_quadrant=after,
            liquid_assets=customer.liquid_assets,
            willingness=customer.willingness,
            capability_threshold=Decimal("1000000"),
            willingness_threshold=50,
            cause=MoveCause.EXPERIENCE,
            at=at,
        )
    )
    customer.quadrant = after
    db.session.commit()


def test_the_report_reads_where_each_customer_stood_at_the_horizon_not_today(world):
    a, b, c, d = customers_in(world.alice, Quadrant.DEVELOP, 4)
    db.session.commit()
    experiment = started(world.manager, holdout_share="0.5", horizon_days=30)
    end = START + timedelta(days=30)
    # Two moved up within the window; one of them fell back after the horizon. One moved up
    # only after the horizon; one never moved.
    _move(a, Quadrant.DEVELOP, Quadrant.MAINTAIN, _instant(START + timedelta(days=5)))
    _move(b, Quadrant.DEVELOP, Quadrant.MAINTAIN, _instant(START + timedelta(days=6)))
    _move(b, Quadrant.MAINTAIN, Quadrant.DEVELOP, _instant(end + timedelta(days=2)))
    _move(c, Quadrant.DEVELOP, Quadrant.PAMPER, _instant(end, hour=0))  # the horizon's day
    arm = _arms(experiment)
    moved = {a.id: 1, b.id: 1}  # the others (c, d and the world's customers) did not

    report = analysis.report(experiment, end + timedelta(days=5))
    assert report.metric == Metric.UPWARD_MOVE and report.horizon_reached
    for figures in (report.primary.treatment, report.primary.holdout):
        mine = [moved.get(c, 0) for c, chosen in arm.items() if chosen == figures.arm]
        assert figures.customers == len(mine)
        assert figures.mean == sum(mine) / len(mine)
    assert {report.primary.treatment.arm, report.primary.holdout.arm} == set(Arm)


def test_an_experience_recorded_while_an_experiment_starts_is_counted(world, app):
    """A staff member's experience is being written when a manager starts an experiment
    over the customer: the start waits for it, and its cost is counted, not lost between
    the start's count and the triggers."""
    (customer,) = customers_in(world.alice, Quadrant.DEVELOP, 1, first=20)
    experiment = design.create_experiment(world.manager, design_of(holdout_share="0.5"))
    db.session.commit()
    customer_id, experiment_id = customer.id, experiment.id
    start = StartBehind(app, experiment_id)
    with db.engine.connect() as recording_connection:
        transaction = recording_connection.begin()
        visit = held_visit(customer_id, "300.00", world.alice.created_at)
        recording_connection.execute(sa.insert(Experience.__table__).values(**visit))
        assert start.begin()  # held until the experience is written
        transaction.commit()
        start.finish()

    experiment = design.get_experiment(experiment_id)
    assert _agrees(experiment)[customer_id] == Decimal("300.00")
