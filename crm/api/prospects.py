"""Prospects (潜在客户) over the API: list, read, add, revise and move along.

The same service functions as the web pages (``crm.services.sales.prospects``), so the same
rules (one person, one record: a number a prospect or a customer has is refused), audit
rows and conflict detection; the same scope: a prospect the token's staff member may not
see does not exist (404).
"""

from __future__ import annotations

import marshmallow as ma
from flask import url_for
from flask.views import MethodView
from flask_babel import gettext as _

from crm.api import errors, locking
from crm.api.auth import caller
from crm.api.blueprint import Blueprint
from crm.api.fields import DateTime, Enum, Id, Integer, MaskedPhone, Schema, Text, Version, choice
from crm.api.paging import PageArgs, page_of, page_schema
from crm.api.schemas import PHONE, VERSION
from crm.core import revisions
from crm.core.inputs import InvalidInput
from crm.extensions import db
from crm.models import Prospect
from crm.models.enums import Channel, ProspectStatus
from crm.services.sales import prospects

blp = Blueprint("Prospects", __name__, description="Prospects (潜在客户) before a dossier.")


class ProspectOut(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    phone = MaskedPhone(
        metadata={"description": "Masked, such as 138****1234.", "example": "138****1234"}
    )
    channel = Enum(Channel)
    group_event_id = ma.fields.Integer(allow_none=True)
    referred_by_id = ma.fields.Integer(allow_none=True)
    owner_id = ma.fields.Integer()
    branch_id = ma.fields.Integer()
    notes = ma.fields.String(allow_none=True)
    status = Enum(ProspectStatus)
    discard_reason = ma.fields.String(allow_none=True)
    customer_id = ma.fields.Integer(
        allow_none=True, metadata={"description": "The dossier opened from it, once converted."}
    )
    version = ma.fields.Integer()
    created_at = DateTime()
    updated_at = DateTime()


class ProspectFields(Schema):
    name = Text(metadata={"example": "孙悦"})
    phone = Text(metadata=PHONE)
    channel = choice(Channel, metadata={"example": Channel.EVENT.value})
    group_event_id = Integer(allow_none=True, metadata={"description": "The event they came from."})
    referred_by_id = Integer(
        allow_none=True, metadata={"description": "The customer who referred them."}
    )
    owner_id = Integer(
        allow_none=True, metadata={"description": "Null or left out on creation: you."}
    )
    notes = Text(allow_none=True)


class ProspectCreate(ProspectFields):
    name = Text(required=True, metadata={"example": "孙悦"})
    phone = Text(required=True, metadata=PHONE)
    channel = choice(Channel, required=True, metadata={"example": Channel.EVENT.value})


class ProspectUpdate(ProspectFields):
    """Only the fields sent change. ``status`` moves it one step on (new → contacted →
    qualified), discards it (with ``discard_reason``) or reopens a discarded one (new)."""

    status = choice(
        (s for s in ProspectStatus if s != ProspectStatus.CONVERTED),
        metadata={"example": ProspectStatus.CONTACTED.value},
    )
    discard_reason = Text(allow_none=True, metadata={"example": "已在他行购买同类产品"})
    version = Version(metadata=VERSION)


class ProspectListArgs(PageArgs):
    status = choice(ProspectStatus)
    owner_id = Id(strict=False)


ProspectPage = page_schema(ProspectOut, "ProspectPage")


def prospect_or_404(prospect_id: int) -> Prospect:
    prospect = prospects.prospect_for(caller(), prospect_id)
    if prospect is None:
        errors.not_found(_("No such prospect, or not one you may see."))
    return prospect


@blp.route("/prospects")
class ProspectList(MethodView):
    @blp.arguments(ProspectListArgs, location="query")
    @blp.response(200, ProspectPage)
    def get(self, args):
        """The prospects you may see, oldest first."""
        status = ProspectStatus(args["status"]) if args.get("status") else None
        query = prospects.prospects_query(caller(), status)
        if args.get("owner_id"):
            query = query.where(Prospect.owner_id == args["owner_id"])
        return page_of(query, Prospect.id, args)

    @blp.arguments(ProspectCreate)
    @blp.response(201, ProspectOut)
    def post(self, data):
        """Add a prospect (status new); a number a prospect or a customer has is refused."""
        try:
            prospect = prospects.create_prospect(caller(), data)
        except InvalidInput as error:
            errors.refuse(error)
        db.session.commit()
        location = url_for("Prospects.ProspectItem", prospect_id=prospect.id)
        return prospect, {"Location": location, **locking.etag(prospect.version)}


@blp.route("/prospects/<id:prospect_id>")
class ProspectItem(MethodView):
    @blp.response(200, ProspectOut)
    def get(self, prospect_id: int):
        """One prospect (the phone masked)."""
        prospect = prospect_or_404(prospect_id)
        return prospect, locking.etag(prospect.version)

    @blp.arguments(ProspectUpdate)
    @blp.response(200, ProspectOut)
    @locking.versioned(blp)
    def patch(self, data, prospect_id: int):
        """Revise a prospect, or move it, as of the version you read; 409 if it moved on."""
        prospect = prospect_or_404(prospect_id)
        expected = locking.expected_version(data.pop("version", None))
        status = data.pop("status", None)
        reason = data.pop("discard_reason", None)
        try:
            if data:
                prospects.update_prospect(
                    caller(), prospect, {**prospects.form_values(prospect), **data}, expected
                )
                expected = prospect.version
            if status is not None and status != prospect.status.value:
                prospects.move_prospect(caller(), prospect, status, expected, reason)
            elif not data:
                prospects.require_version(prospect, expected)
        except InvalidInput as error:
            errors.refuse(error)
        except revisions.StaleDossier as stale:
            errors.conflict(
                stale, lambda: {"current_version": db.session.get(Prospect, prospect_id).version}
            )
        db.session.commit()
        return prospect, locking.etag(prospect.version)
