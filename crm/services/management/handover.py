"""Handover (客户移交): a staff member's customers, all or a chosen part, given to another.

Staff turnover is seed 002's main pain point: when someone leaves, their customers must not
be left without an owner. The customers move with their open work: planned experiences and
open complaints follow the customer's owner by themselves; open call-backs carry the owner
they were made for, and are moved with them. The leaver may be deactivated in the same step.

One transaction, set-based (a bank's handover can be a hundred thousand customers): one
UPDATE of the customers returning their ids, one of their open call-backs, the audit rows
(one per customer, and one for the handover) written as one COPY / executemany through
``crm.core.bulk``. Everything refused changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from crm.core import audit, bulk
from crm.core.access import customer_scope
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import (
    AuditLog,
    Complaint,
    Customer,
    Experience,
    MaturityCallback,
    SessionEnd,
    Staff,
)
from crm.models.base import utcnow
from crm.models.enums import (
    ChurnLevel,
    ExperienceStatus,
    NotificationKind,
    Quadrant,
    Role,
)
from crm.services.accounts import sessions
from crm.services.outreach import inbox
from crm.services.sales import opportunities

CUSTOMER_IDS_LIMIT = 10_000  # customers named one by one; a filter chooses more


@dataclass(frozen=True)
class Selection:
    """Which of the leaver's customers move: all of them, or those matching every filter."""

    quadrant: Quadrant | None = None
    churn: ChurnLevel | None = None
    customer_ids: tuple[int, ...] = ()

    @property
    def everything(self) -> bool:
        return self.quadrant is None and self.churn is None and not self.customer_ids

    def describe(self) -> str:
        parts = []
        if self.quadrant:
            parts.append(f"quadrant={self.quadrant.value}")
        if self.churn:
            parts.append(f"churn={self.churn.value}")
        if self.customer_ids:
            parts.append(f"customers={len(self.customer_ids)}")
        return ", ".join(parts) or "all"


@dataclass
class Handover:
    """What moved: the customers, and the open work that went with them."""

    giver: Staff
    receiver: Staff
    customers: int = 0
    planned_experiences: int = 0
    open_callbacks: int = 0
    open_complaints: int = 0
    open_opportunities: int = 0
    deactivated: bool = False
    customer_ids: list[int] = field(default_factory=list)

    def summary(self) -> str:
        """What moved, in one sentence of the reader's language (the page's and the CLI's)."""
        return _(
            "Customers handed over from %(a)s to %(b)s: %(n)d, with %(planned)d planned "
            "experiences, %(callbacks)d open call-backs, %(complaints)d open complaints and "
            "%(opportunities)d open opportunities.",
            n=self.customers,
            a=self.giver.display_name,
            b=self.receiver.display_name,
            planned=self.planned_experiences,
            callbacks=self.open_callbacks,
            complaints=self.open_complaints,
            opportunities=self.open_opportunities,
        )


def _in_reach(actor: Staff | None, staff: Staff) -> bool:
    """``actor`` None: the command line, run by whoever runs the system, as an admin."""
    return (
        actor is None
        or actor.role == Role.ADMIN
        or (actor.role == Role.MANAGER and staff.branch_id == actor.branch_id)
    )


def refusals(
    actor: Staff | None, giver: Staff | None, receiver: Staff | None, deactivate: bool, selection
) -> dict:
    """Why this handover cannot be made (empty: it can)."""
    errors: dict = {}
    if actor is not None and actor.role not in (Role.MANAGER, Role.ADMIN):
        errors[""] = _l("Only managers and admins hand customers over.")
        return errors
    if giver is None or not _in_reach(actor, giver):
        errors["giver"] = _l("Choose a staff member of your branch.")
    if receiver is None or not _in_reach(actor, receiver):
        errors["receiver"] = _l("Choose a staff member of your branch.")
    if errors:
        return errors
    if giver.id == receiver.id:
        errors["receiver"] = _l("Customers cannot be handed over to the same staff member.")
    elif not receiver.is_active_account:
        errors["receiver"] = _l("%(name)s is deactivated.", name=receiver.display_name)
    elif receiver.branch_id is None:
        errors["receiver"] = _l("%(name)s has no branch.", name=receiver.display_name)
    if deactivate:
        if actor is not None and giver.id == actor.id:
            errors["deactivate"] = _l("You cannot deactivate your own account.")
        elif not selection.everything:
            errors["deactivate"] = _l(
                "Deactivate only when handing over all of the staff member's customers."
            )
    if len(selection.customer_ids) > CUSTOMER_IDS_LIMIT:
        errors["customer_ids"] = _l(
            "At most %(n)d customers by number; choose more with a filter.",
            n=CUSTOMER_IDS_LIMIT,
        )
    return errors


def chosen_by(actor: Staff | None, giver: Staff, selection: Selection) -> sa.ColumnElement[bool]:
    """The giver's customers in the actor's reach that the selection picks."""
    conditions = [Customer.owner_id == giver.id]
    if actor is not None:
        conditions.append(customer_scope(actor))
    if selection.quadrant is not None:
        conditions.append(Customer.quadrant == selection.quadrant)
    if selection.churn is not None:
        conditions.append(Customer.churn_level == selection.churn)
    if selection.customer_ids:
        conditions.append(Customer.id.in_(selection.customer_ids))
    return sa.and_(*conditions)


def refuse_unseen(actor: Staff | None, giver: Staff, selection: Selection) -> None:
    """Customers named by number must all be the giver's and within the actor's reach."""
    if not selection.customer_ids:
        return
    found = set(
        db.session.scalars(
            sa.select(Customer.id).where(
                chosen_by(actor, giver, Selection(customer_ids=selection.customer_ids))
            )
        )
    )
    missing = sorted(set(selection.customer_ids) - found)
    if missing:
        shown = ", ".join(f"#{n}" for n in missing[:10])
        raise InvalidInput(
            {
                "customer_ids": _l(
                    "Not customers of %(name)s that you can see: %(ids)s.",
                    name=giver.display_name,
                    ids=shown + (" …" if len(missing) > 10 else ""),
                )
            }
        )


def _open_work(chosen: sa.ColumnElement[bool]) -> tuple[int, int, int]:
    """The chosen customers' planned experiences, open call-backs and open complaints."""
    ids = sa.select(Customer.id).where(chosen)
    planned = sa.select(sa.func.count()).where(
        Experience.customer_id.in_(ids), Experience.status == ExperienceStatus.PLANNED
    )
    callbacks = sa.select(sa.func.count()).where(
        MaturityCallback.customer_id.in_(ids), MaturityCallback.recorded_at.is_(None)
    )
    complaints = sa.select(sa.func.count()).where(
        Complaint.customer_id.in_(ids), Complaint.answered_at.is_(None)
    )
    row = db.session.execute(
        sa.select(
            planned.scalar_subquery(), callbacks.scalar_subquery(), complaints.scalar_subquery()
        )
    ).one()
    return tuple(int(n) for n in row)


AUDIT_COLUMNS = [
    "at",
    "actor_id",
    "entity",
    "entity_id",
    "customer_id",
    "action",
    "field",
    "old_value",
    "new_value",
    "reason",
    "version",
]


def hand_over(
    actor: Staff | None,
    giver: Staff | None,
    receiver: Staff | None,
    selection: Selection = Selection(),
    deactivate: bool = False,
    now: datetime | None = None,
) -> Handover:
    """Move the chosen customers of ``giver`` to ``receiver`` with their open work, audited
    and both notified; deactivate ``giver`` too if asked. The caller commits; on a refusal
    (``InvalidInput``) nothing was written."""
    errors = refusals(actor, giver, receiver, deactivate, selection)
    if errors:
        raise InvalidInput(errors)
    refuse_unseen(actor, giver, selection)
    now = now or utcnow()
    chosen = chosen_by(actor, giver, selection)
    result = Handover(giver, receiver)
    result.planned_experiences, result.open_callbacks, result.open_complaints = _open_work(chosen)
    moved_branch = dict(
        db.session.execute(
            sa.select(Customer.id, Customer.branch_id).where(
                chosen, Customer.branch_id != receiver.branch_id
            )
        ).all()
    )
    db.session.execute(
        sa.update(MaturityCallback)
        .where(
            MaturityCallback.recorded_at.is_(None),
            MaturityCallback.customer_id.in_(sa.select(Customer.id).where(chosen)),
        )
        .values(owner_id=receiver.id)
        .execution_options(synchronize_session=False)
    )
    result.open_opportunities = opportunities.follow_customers(
        sa.select(Customer.id).where(chosen), receiver, now
    )
    in_branch = Customer.branch_id == receiver.branch_id
    moved = _move(sa.and_(chosen, in_branch), receiver, now)
    if moved_branch:
        moved += _move(sa.and_(chosen, ~in_branch), receiver, now, branch_id=receiver.branch_id)
    if not moved:
        raise InvalidInput({"": _l("No customers of %(name)s match.", name=giver.display_name)})
    result.customers = len(moved)
    result.customer_ids = sorted(customer_id for customer_id, _version in moved)
    bulk.insert(
        AuditLog.__table__,
        AUDIT_COLUMNS,
        _audit_rows(actor, giver, receiver, moved, moved_branch, now),
    )
    audit.record(
        actor,
        "handover",
        giver.id,
        "handover",
        {"owner_id": (giver.id, receiver.id)},
        reason=f"{result.customers} customers ({selection.describe()})",
    )
    if deactivate:
        _deactivate(actor, giver)
        result.deactivated = True
    db.session.expire_all()  # the ORM's customers, call-backs and staff are as written now
    _notify(actor, result, now)
    return result


def _move(which: sa.ColumnElement[bool], receiver: Staff, now: datetime, **values) -> list:
    """Give ``which`` customers to ``receiver``: (id, version) of each. The branch is set only
    where it changes (``values``): SQLite rewrites the entries of every index on a column an
    UPDATE sets, changed or not, and a branch has many (its lists and their sorts)."""
    return db.session.execute(
        sa.update(Customer)
        .where(which)
        .values(owner_id=receiver.id, version=Customer.version + 1, updated_at=now, **values)
        .returning(Customer.id, Customer.version)
        .execution_options(synchronize_session=False)
    ).all()


def _audit_rows(actor, giver, receiver, moved, moved_branch, now):
    """One row per customer (its owner), and one more where its branch changes too."""
    reason = f"handover {giver.username} → {receiver.username}"
    actor_id = actor.id if actor else None
    for customer_id, version in moved:
        row = (now, actor_id, "customer", customer_id, customer_id, "update")
        yield (*row, "owner_id", str(giver.id), str(receiver.id), reason, version)
        if customer_id in moved_branch:
            old_branch = str(moved_branch[customer_id])
            yield (*row, "branch_id", old_branch, str(receiver.branch_id), reason, version)


def _deactivate(actor: Staff | None, giver: Staff) -> None:
    giver.is_active_account = False
    audit.record(actor, "staff", giver.id, "update", {"is_active_account": (True, False)})
    db.session.flush()
    sessions.end_sessions_of(giver, SessionEnd.DEACTIVATED)


def _message(reader: Staff, result: Handover, received: bool) -> inbox.Message:
    with force_locale(inbox.locale_of(reader)):
        if received:
            title = _(
                "Customers handed over to you from %(name)s: %(n)d",
                n=result.customers,
                name=result.giver.display_name,
            )
        else:
            title = _(
                "Your customers handed over to %(name)s: %(n)d",
                n=result.customers,
                name=result.receiver.display_name,
            )
        return inbox.Message(title=title[: inbox.TITLE_LIMIT], body=result.summary(), sms=title)


def _notify(actor: Staff, result: Handover, now: datetime) -> None:
    """Both staff members hear of it (the leaver too: a partial handover keeps them)."""
    mark = f"{result.giver.id}-{result.receiver.id}-{now.timestamp():.6f}"
    messages = {
        f"handover:{mark}:to": (
            result.receiver,
            _message(result.receiver, result, True),
            f"/customers?owner={result.receiver.id}",
        ),
        f"handover:{mark}:from": (
            result.giver,
            _message(result.giver, result, False),
            f"/customers?owner={result.giver.id}",
        ),
    }
    inbox.post(NotificationKind.HANDOVER, messages, now)


def selection_from(quadrant: str | None, churn: str | None, customer_ids: str | None) -> Selection:
    """A selection from a form's or a command's texts (empty: no filter)."""
    errors: dict = {}

    def member(enum, name: str, value: str | None):
        if not value:
            return None
        try:
            return enum(value)
        except ValueError:
            errors[name] = _l("Choose one of the listed values.")
            return None

    chosen_quadrant = member(Quadrant, "quadrant", quadrant)
    chosen_churn = member(ChurnLevel, "churn", churn)
    if errors:
        raise InvalidInput(errors)
    return Selection(chosen_quadrant, chosen_churn, parse_customer_ids(customer_ids))


def staff_named(username: str) -> Staff | None:
    return db.session.scalar(sa.select(Staff).where(Staff.username == username))


def parse_customer_ids(text: str | None) -> tuple[int, ...]:
    """Customer numbers separated by commas, spaces or line breaks (#12 as 12)."""
    if not text:
        return ()
    ids: list[int] = []
    for token in text.replace("，", ",").replace("、", ",").replace(",", " ").split():
        token = token.lstrip("#")
        if not token.isdigit() or len(token) > 12:
            raise InvalidInput({"customer_ids": _l("Enter customer numbers, such as 12, 57.")})
        ids.append(int(token))
    return tuple(dict.fromkeys(ids))


def staff_choices(actor: Staff) -> Sequence[Staff]:
    """The staff an actor may hand over from and to: their branch's (a manager), all (admin)."""
    query = sa.select(Staff).order_by(Staff.display_name)
    if actor.role != Role.ADMIN:
        query = query.where(Staff.branch_id == actor.branch_id)
    return list(db.session.scalars(query))
