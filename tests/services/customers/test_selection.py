"""Bulk tags from the customer list's selection: all the selected customers or none, each
change audited on its dossier, and a dossier form opened before refused, not saved over it."""

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from crm.core.inputs import InvalidInput
from crm.core.revisions import StaleDossier
from crm.extensions import db
from crm.models import AuditLog, Customer
from crm.services.customers import dossier, selection
from tests.support.factories import make_customer
from tests.support.pages import count


def tags_of(*customers) -> list[list[str]]:
    db.session.expire_all()
    return [db.session.get(Customer, c.id).tag_names for c in customers]


@pytest.fixture
def three(world):
    """Alice's customer and two more of hers, one already tagged 高净值."""
    second = make_customer(world.alice, "赵敏", "+8613700000001")
    third = make_customer(world.alice, "孙丽", "+8613700000002")
    db.session.commit()
    selection.tag_selected(world.alice, [third.id], "高净值")
    db.session.commit()
    return world.alice_customer, second, third


def test_a_tag_is_added_to_every_selected_customer_each_audited(world, three):
    first, second, third = three
    versions = [c.version for c in three]
    audits = count(AuditLog)
    change = selection.tag_selected(world.alice, [str(c.id) for c in three], " 高净值 ")
    db.session.commit()
    assert (change.tag, change.selected, change.changed) == ("高净值", 3, 2)
    assert tags_of(*three) == [["高净值"]] * 3
    # One row each for the two that gained it, attributed to alice, none for the third.
    rows = db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id).offset(audits)).all()
    assert [(r.customer_id, r.field, r.old_value, r.new_value, r.actor_id) for r in rows] == [
        (first.id, "tags", "", "高净值", world.alice.id),
        (second.id, "tags", "", "高净值", world.alice.id),
    ]
    db.session.expire_all()
    assert [c.version for c in three] == [versions[0] + 1, versions[1] + 1, versions[2]]


def test_a_tag_is_removed_from_those_that_carry_it(world, three):
    change = selection.untag_selected(world.alice, [c.id for c in three], "高净值")
    db.session.commit()
    assert change.changed == 1
    assert tags_of(*three) == [[], [], []]


def test_a_customer_outside_the_users_scope_refuses_the_whole_selection(world, three):
    before = count(AuditLog)
    with pytest.raises(InvalidInput) as error:
        selection.tag_selected(world.alice, [three[0].id, world.bob_customer.id], "退休")
    db.session.rollback()
    with force_locale("en"):
        assert "not yours" in str(error.value.errors["ids"])
    assert count(AuditLog) == before
    assert tags_of(three[0], world.bob_customer) == [[], []]


def test_a_manager_tags_their_branchs_customers(world, three):
    change = selection.tag_selected(world.manager, [three[0].id, world.bob_customer.id], "退休")
    db.session.commit()
    assert change.changed == 2
    with pytest.raises(InvalidInput):
        selection.tag_selected(world.manager, [world.carol_customer.id], "退休")


@pytest.mark.parametrize(
    ("ids", "tag", "field"),
    [
        (None, "", "tag"),
        (None, "高净值,退休", "tag"),
        (None, "长" * 41, "tag"),
        (None, "a\x00b", "tag"),
        ([], "退休", "ids"),
        (["abc"], "退休", "ids"),
        (["99999999"], "退休", "ids"),
        ([str(i) for i in range(1, 502)], "退休", "ids"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(world, three, ids, tag, field):
    ids = [str(three[0].id)] if ids is None else ids
    before = count(AuditLog)
    with pytest.raises(InvalidInput) as error:
        selection.tag_selected(world.alice, ids, tag)
    db.session.rollback()
    assert field in error.value.errors
    assert count(AuditLog) == before
    assert tags_of(three[0]) == [[]]


def test_a_dossier_form_opened_before_a_bulk_tag_is_refused_not_saved_over_it(world, three):
    customer = three[0]
    opened_at = customer.version
    values = dossier.form_values(customer) | {"phone": "", "occupation": "教师"}
    selection.tag_selected(world.manager, [customer.id], "退休")
    db.session.commit()
    with pytest.raises(StaleDossier) as stale:
        dossier.update_customer(world.alice, customer, values, opened_at)
    db.session.rollback()
    assert {row.field for row in stale.value.missed} == {"tags"}
    assert tags_of(customer) == [["退休"]]
