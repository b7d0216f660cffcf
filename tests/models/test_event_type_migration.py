"""0020 gives the events held before types existed a type that suits every tier."""

import sqlalchemy as sa
from flask_migrate import upgrade

from crm import create_app
from crm.extensions import db
from crm.models import Branch
from crm.models.enums import BranchStage, Role
from tests.models.test_migrations import _fresh_database_url
from tests.support.factories import make_staff


def test_existing_events_become_salons_and_appreciations(backend, tmp_path, request):
    app = create_app(
        "testing", {"SQLALCHEMY_DATABASE_URI": _fresh_database_url(backend, tmp_path, request)}
    )
    with app.app_context():
        upgrade(revision="0019_contact_sorting")
        alice = make_staff("alice", Role.STAFF, Branch(name="城东支行", stage=BranchStage.MATURE))
        db.session.commit()
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO group_event (category, title, held_on, place, capacity, "
                    "total_cost, branch_id, organiser_id, version, created_at, updated_at) "
                    "VALUES (:category, :title, '2026-12-20', '城东支行', 10, 1000, :branch, "
                    ":owner, 1, :now, :now)"
                ),
                [
                    {
                        "category": category,
                        "title": title,
                        "branch": alice.branch_id,
                        "owner": alice.id,
                        "now": alice.created_at,
                    }
                    for category, title in (("event", "理财讲座"), ("premium_event", "高端酒会"))
                ],
            )
        upgrade(revision="0020_event_types")
        with db.engine.connect() as conn:
            types = conn.execute(
                sa.text("SELECT title, event_type FROM group_event ORDER BY id")
            ).all()
        assert [tuple(row) for row in types] == [
            ("理财讲座", "salon"),
            ("高端酒会", "appreciation"),
        ]
        db.session.remove()
        db.engine.dispose()
