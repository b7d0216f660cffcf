"""The effect history stored nightly: suggestions read the stored rows, not the year's
experiences, and work the history out themselves only where none was ever stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.core.clock import local_today
from crm.extensions import db
from crm.models import EffectHistory
from crm.models.enums import Quadrant, Response, Touchpoint
from crm.services.advice import effects, suggestions
from tests.services.advice.test_suggestions import customer_in, held


@pytest.fixture(autouse=True)
def fresh_history(app):
    effects.forget()
    yield
    effects.forget()


def visit_effect(customer):
    (visit,) = [s for s in suggestions.for_customer(customer) if s.category == Touchpoint.VISIT]
    return visit.effect


def test_suggestions_read_the_stored_history_until_the_next_night(world, backend):
    customer = customer_in(world, Quadrant.DEVELOP, "+8613700016001")
    for i in range(4):
        other = customer_in(world, Quadrant.DEVELOP, f"+86137000160{i + 2:02d}")
        held(other, Touchpoint.VISIT, 15, Response.ENTHUSIASTIC if i < 3 else Response.NEGATIVE)
    effects.store_history()
    db.session.commit()

    stored = db.session.get(EffectHistory, (Quadrant.DEVELOP, Touchpoint.VISIT))
    assert (stored.held, stored.positive) == (4, 3)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EffectHistory)) == len(
        Quadrant
    ) * len(Touchpoint)
    assert (visit_effect(customer).held, visit_effect(customer).positive) == (4, 3)

    # Experiences held after the night's run wait for the next one.
    late = customer_in(world, Quadrant.DEVELOP, "+8613700016009")
    held(late, Touchpoint.VISIT, 1, Response.ENTHUSIASTIC)
    effects.forget()
    assert (visit_effect(customer).held, visit_effect(customer).positive) == (4, 3)

    # What is stored is what a page uses, whatever the experiences say; once today's is
    # stored, a process keeps it for the day.
    stored.held, stored.positive = 200, 180
    db.session.commit()
    assert (visit_effect(customer).held, visit_effect(customer).positive) == (4, 3)
    effects.forget()  # another web worker, reading it for the first time today
    effect = visit_effect(customer)
    assert (effect.held, effect.positive) == (200, 180)
    assert effect.share == pytest.approx(effects.expected(Touchpoint.VISIT, 200, 180).share)

    effects.store_history()  # the next night
    db.session.commit()
    assert (visit_effect(customer).held, visit_effect(customer).positive) == (5, 4)


def test_with_no_stored_history_the_suggestions_work_it_out(world, backend):
    customer = customer_in(world, Quadrant.MAINTAIN, "+8613700017001")
    other = customer_in(world, Quadrant.MAINTAIN, "+8613700017002")
    held(other, Touchpoint.VISIT, 30, Response.POSITIVE)
    assert effects.stored_history() is None
    assert (visit_effect(customer).held, visit_effect(customer).positive) == (1, 1)


def test_before_tonights_job_yesterdays_history_is_read_until_todays_is_stored(world, backend):
    customer = customer_in(world, Quadrant.PAMPER, "+8613700020001")
    other = customer_in(world, Quadrant.PAMPER, "+8613700020002")
    held(other, Touchpoint.VISIT, 30, Response.POSITIVE)
    effects.store_history(local_today() - timedelta(days=1))  # last night's
    db.session.commit()
    assert (visit_effect(customer).held, visit_effect(customer).positive) == (1, 1)
    held(customer_in(world, Quadrant.PAMPER, "+8613700020003"), Touchpoint.VISIT, 0)

    effects.store_history()  # tonight's job, in the scheduler's process
    db.session.commit()
    assert (visit_effect(customer).held, visit_effect(customer).positive) == (2, 1)
