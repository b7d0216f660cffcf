"""Callbacks from SMS providers: inbound replies (an opt-out takes effect at once)."""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, current_app, jsonify, request

from crm.core.phones import InvalidPhone, normalize_phone
from crm.extensions import csrf, db
from crm.services.outreach import sms_replies

bp = Blueprint("outreach", __name__)

# Field names the providers use for the sender and the text of a reply.
SENDER_FIELDS = ("from", "From", "mobile", "phone_number", "PhoneNumber", "phone")
TEXT_FIELDS = ("text", "Body", "content", "reply_content", "Content", "body")


def _first(values, names) -> str:
    for name in names:
        value = values.get(name)
        if value:
            return str(value)
    return ""


@bp.route("/sms/inbound", methods=["POST"])
@csrf.exempt  # a provider's server calls this, authenticated by the shared token instead
def inbound():
    token = current_app.config["CRM_SMS_INBOUND_TOKEN"]
    given = request.headers.get("X-CRM-Token") or request.args.get("token") or ""
    if not token or not hmac.compare_digest(given, token):
        abort(404)
    values = request.get_json(silent=True) if request.is_json else request.form
    values = values if isinstance(values, dict) or hasattr(values, "get") else {}
    try:
        phone = normalize_phone(
            _first(values, SENDER_FIELDS), current_app.config["CRM_PHONE_REGION"]
        )
    except InvalidPhone:
        return jsonify(status="ignored", reason="no valid sender number"), 400
    customer = sms_replies.record_reply(phone, _first(values, TEXT_FIELDS))
    db.session.commit()
    return jsonify(status="ok", opted_out=customer is not None)
