"""Tags on customers (crm.services.customers.tags): each link carries its customer's branch, so
a branch manager's list by tag shows exactly the branch's tagged customers after every change
of owner or branch (a handover, a reassignment, an import); bulk tagging is audited per
customer and refuses a stale form."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm.core import revisions
from crm.extensions import db
from crm.models import AuditLog, Customer, Tag, customer_tag
from crm.models.enums import Role
from crm.services.customers import dossier, tags
from crm.services.customers.customer_list import CustomerFilters, list_customers
from crm.services.management import handover
from crm.services.management.handover import Selection
from crm.services.transfer.importer import import_file
from tests.services.transfer.import_files import GOOD, HEADER, as_csv
from tests.support.factories import make_customer, make_staff

TAG = "高净值"


@pytest.fixture
def tagged(world):
    """Alice's three customers and bob's one in the east branch, all carrying ``TAG``, a
    manager for the west branch (carol's); returns (world, west manager, alice's three)."""
    mine = [make_customer(world.alice, f"客户{n}", f"+8613712{n:05d}") for n in range(3)]
    west_manager = make_staff("westmgr", Role.MANAGER, world.west)
    db.session.flush()
    ids = [c.id for c in (*mine, world.bob_customer, world.carol_customer)]
    tags.add_tag(world.admin, ids, TAG)
    db.session.commit()
    return world, west_manager, mine


def listed(user, tag: str = TAG) -> tuple[set[str], int]:
    """The names on ``user``'s list filtered by ``tag``, and its total."""
    page = list_customers(user, CustomerFilters(tag=tag))
    return {c.name for c in page.customers}, page.total


def links_agree_with_customers() -> bool:
    """Every link carries its customer's branch."""
    wrong = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(customer_tag)
        .join(Customer, Customer.id == customer_tag.c.customer_id)
        .where(customer_tag.c.branch_id != Customer.branch_id)
    )
    return wrong == 0


def test_a_branch_managers_tag_list_follows_a_handover_across_branches(tagged):
    world, west_manager, mine = tagged
    assert listed(world.manager) == ({"客户0", "客户1", "客户2", "李娜"}, 4)
    assert listed(west_manager) == ({"王芳"}, 1)

    handover.hand_over(
        world.admin, world.alice, world.carol, Selection(customer_ids=(mine[0].id, mine[2].id))
    )
    db.session.commit()

    assert listed(world.manager) == ({"客户1", "李娜"}, 2)
    assert listed(west_manager) == ({"客户0", "客户2", "王芳"}, 3)
    assert listed(world.admin)[1] == 5  # the bank's list is the same five
    assert links_agree_with_customers()


def test_a_reassignment_in_the_dossier_moves_the_customers_tags_with_it(tagged):
    world, west_manager, mine = tagged
    customer = mine[1]
    values = dossier.form_values(customer) | {
        "owner_id": world.carol.id,
        "branch_id": world.west.id,
        "tags": f"{TAG}，退休",
    }
    dossier.update_customer(world.admin, customer, values, customer.version)
    db.session.commit()

    assert listed(world.manager) == ({"客户0", "客户2", "李娜"}, 3)
    assert listed(west_manager) == ({"客户1", "王芳"}, 2)
    assert listed(west_manager, "退休") == ({"客户1"}, 1)
    assert listed(world.manager, "退休") == (set(), 0)
    assert links_agree_with_customers()


def test_an_import_links_each_tag_with_the_importing_branchs_customers(world):
    west_manager = make_staff("westmgr", Role.MANAGER, world.west)
    db.session.commit()
    report = import_file(west_manager, "客户.csv", as_csv([HEADER, *GOOD]))
    db.session.commit()
    assert report.written and report.created == 2
    assert listed(west_manager) == ({"赵磊"}, 1)
    assert listed(world.manager) == (set(), 0)
    assert links_agree_with_customers()


def test_bulk_tagging_is_audited_per_customer_and_refuses_a_form_opened_before(tagged):
    world, _west, mine = tagged
    form_version = mine[0].version
    added = tags.add_tag(world.manager, [mine[0].id, mine[1].id, mine[1].id], "退休")
    db.session.commit()
    assert sorted(added) == sorted([mine[0].id, mine[1].id])
    # Tagging again changes no one and writes nothing.
    assert tags.add_tag(world.manager, [mine[0].id], "退休") == []
    rows = db.session.scalars(
        sa.select(AuditLog)
        .where(AuditLog.customer_id == mine[0].id, AuditLog.field == "tags")
        .order_by(AuditLog.id)
    ).all()
    assert [(r.actor_id, r.old_value, r.new_value, r.version) for r in rows][-1:] == [
        (world.manager.id, TAG, f"退休, {TAG}", form_version + 1)
    ]

    # A dossier form opened before the bulk tag would drop it on saving: refused instead.
    stale = dossier.form_values(mine[0]) | {"tags": TAG}
    with pytest.raises(revisions.StaleDossier):
        dossier.update_customer(world.alice, mine[0], stale, form_version)
    db.session.rollback()

    removed = tags.remove_tag(world.manager, [mine[0].id, world.carol_customer.id], "退休")
    db.session.commit()
    assert removed == [mine[0].id]
    assert listed(world.admin, "退休") == ({"客户1"}, 1)


def test_a_link_with_another_branch_than_its_customers_is_refused(world):
    tag = Tag(name=TAG)
    db.session.add(tag)
    db.session.flush()
    wrong = {"customer_id": world.alice_customer.id, "tag_id": tag.id, "branch_id": world.west.id}
    with pytest.raises(sa.exc.IntegrityError):
        db.session.execute(sa.insert(customer_tag), wrong)
        db.session.flush()
    db.session.rollback()


def test_a_deleted_customers_links_go_with_it(world):
    customer = make_customer(world.alice, "临时", "+8613799990000")
    db.session.flush()
    tags.set_tags(customer, [TAG, "退休"])
    db.session.commit()
    db.session.delete(customer)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(customer_tag)) == 0
