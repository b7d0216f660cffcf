"""Converting a prospect (潜在客户转化): a dossier opened with what is known, placed in the grid.

The dossier is opened by the one service that opens dossiers
(``crm.services.customers.dossier.create_customer``), so it is checked, tiered and audited
as any other; the prospect's number goes with it. The prospect stays, marked converted and
pointing at the dossier, and its history (who added it, each status and each note) is moved
onto the dossier's, so that the dossier shows where the customer came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import AuditLog, Customer, Prospect, Staff
from crm.models.base import utcnow
from crm.models.enums import ProspectStatus
from crm.services.customers import dossier
from crm.services.sales import prospects


def dossier_defaults(prospect: Prospect) -> dict[str, Any]:
    """What the prospect already tells the new dossier."""
    return {
        "name": prospect.name,
        "channel": prospect.channel.value,
        "referred_by_id": prospect.referred_by_id,
        "owner_id": prospect.owner_id,
        "branch_id": prospect.branch_id,
        "notes": prospect.notes,
    }


def convert_prospect(
    user: Staff, prospect: Prospect, data: Mapping[str, Any], expected_version: int
) -> Customer:
    """Open the prospect's dossier with ``data`` (the dossier's fields; what is left out is
    taken from the prospect) and mark the prospect converted; the caller commits. Refused
    with ``InvalidInput`` (nothing written) when the prospect is not ready or the dossier
    breaks a rule; ``StaleDossier`` when someone changed the prospect meanwhile."""
    prospects.require_version(prospect, expected_version)
    prospects.require_open(prospect)
    # Qualified first: the funnel counts each step (new → contacted → qualified).
    if prospect.status != ProspectStatus.QUALIFIED:
        raise InvalidInput({"status": _l("Only a qualified prospect converts; qualify it first.")})
    values = {**dossier_defaults(prospect)}
    values.update({k: v for k, v in data.items() if v not in (None, "")})
    values["phone"] = prospect.phone  # the number is the prospect's, never retyped
    customer = dossier.create_customer(user, values)
    before = prospect.status
    prospect.status = ProspectStatus.CONVERTED
    prospect.customer_id = customer.id
    prospect.converted_at = utcnow()
    prospects.flush_change(prospect, expected_version)
    # The prospect's history now reads on the dossier, before the conversion's own rows.
    db.session.execute(
        sa.update(AuditLog)
        .where(AuditLog.entity == "prospect", AuditLog.entity_id == prospect.id)
        .values(customer_id=customer.id)
    )
    prospects.record_change(
        user,
        prospect,
        "update",
        {"prospect_status": (before, prospect.status), "customer_id": (None, customer.id)},
    )
    return customer


def converted_from(customer_id: int) -> int | None:
    """The prospect a dossier was opened from, if any."""
    return db.session.scalar(sa.select(Prospect.id).where(Prospect.customer_id == customer_id))
