"""0019 fills the last contact and next planned experience of the customers already there,
from their experiences, as ``crm.services.planning.contact_dates`` reads them."""

from datetime import date

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from crm import create_app
from crm.extensions import db
from crm.models import Branch
from crm.models.enums import BranchStage, Role
from tests.models.test_migrations import _fresh_database_url
from tests.support.factories import make_staff

CUSTOMER = (
    "INSERT INTO customer (name, gender, phone, phone_last4, liquid_assets, willingness, "
    "risk_level, quadrant, owner_id, branch_id, sms_consent, version, created_at, updated_at) "
    "VALUES (:name, 'male', :phone, :last4, 0, 30, 'R1', 'develop', :owner, :branch, :no, 1, "
    ":now, :now)"
)
EXPERIENCE = (
    "INSERT INTO experience (customer_id, category, status, origin, due_on, held_on, "
    "planned_cost, created_at, version) "
    "VALUES (:customer, 'visit', :status, 'staff', :due, :held, 0, :now, 1)"
)
# (status, due, held) per customer; the far past and the far future whatever today is.
HISTORY = {
    "张三": [
        ("done", date(2020, 5, 1), date(2020, 5, 1)),
        ("no_show", date(2021, 6, 1), date(2021, 6, 1)),
        ("planned", date(2099, 3, 1), None),
        ("planned", date(2098, 1, 1), None),
    ],
    "李丽": [
        ("cancelled", date(2097, 1, 1), None),
        ("planned", date(2000, 1, 1), None),  # overdue, never recorded: not next
    ],
    "王芳": [],
}


def test_existing_customers_get_their_dates(backend, tmp_path, request):
    app = create_app(
        "testing", {"SQLALCHEMY_DATABASE_URI": _fresh_database_url(backend, tmp_path, request)}
    )
    with app.app_context():
        upgrade(revision="0018_dashboard")
        alice = make_staff("alice", Role.STAFF, Branch(name="城东支行", stage=BranchStage.MATURE))
        db.session.commit()
        now = alice.created_at
        with db.engine.begin() as conn:
            for n, (name, history) in enumerate(HISTORY.items()):
                conn.execute(
                    sa.text(CUSTOMER),
                    {
                        "name": name,
                        "phone": f"+86135{n:08d}",
                        "last4": f"{n:04d}",
                        "no": False,
                        "now": now,
                        "owner": alice.id,
                        "branch": alice.branch_id,
                    },
                )
                customer = conn.execute(
                    sa.text("SELECT id FROM customer WHERE name = :name"), {"name": name}
                ).scalar()
                for status, due, held in history:
                    conn.execute(
                        sa.text(EXPERIENCE),
                        {
                            "customer": customer,
                            "status": status,
                            "due": due,
                            "held": held,
                            "now": now,
                        },
                    )
        db.session.remove()
        upgrade(revision="0019_contact_sorting")
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT name, last_contact_on, next_planned_on FROM customer ORDER BY id")
            ).all()
        as_dates = [
            (name, *(date.fromisoformat(d) if isinstance(d, str) else d for d in days))
            for name, *days in rows
        ]
        assert as_dates == [
            ("张三", date(2021, 6, 1), date(2098, 1, 1)),
            ("李丽", None, None),
            ("王芳", None, None),
        ]
        downgrade(revision="0018_dashboard")
        names = {c["name"] for c in sa.inspect(db.engine).get_columns("customer")}
        assert not names & {"last_contact_on", "next_planned_on"}
        db.session.remove()
        db.engine.dispose()
