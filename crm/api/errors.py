"""Errors of the API: always JSON with a message in the requester's language, never a
stack trace or an HTML page, and never anything left written.

Every error has the shape of ``ErrorSchema``: ``{"code", "status", "message", "errors"}``,
where ``errors`` maps each refused field to its message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NoReturn

import marshmallow as ma
from flask import jsonify, request
from flask_babel import gettext as _
from flask_smorest import abort
from webargs import core
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException, default_exceptions

from crm.core.inputs import InvalidInput, date_refusal
from crm.core.revisions import StaleDossier
from crm.extensions import db

API_PATHS = "/api/"


class ErrorSchema(ma.Schema):
    """What every error answers (documentation only: the handler below writes it)."""

    code = ma.fields.Integer(metadata={"description": "The HTTP status code."})
    status = ma.fields.String(metadata={"description": "The HTTP status name."})
    message = ma.fields.String(
        metadata={"description": "What went wrong, in the language of Accept-Language."}
    )
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        metadata={"description": "Each refused field (dotted for list items) and why."},
    )
    current_version = ma.fields.Integer(
        metadata={"description": "On 409: the version now stored; reread, then apply again."}
    )
    current_customer_version = ma.fields.Integer(
        metadata={"description": "On 409 when recording an experience: the customer's version."}
    )
    changed_fields = ma.fields.List(
        ma.fields.String(),
        metadata={"description": "On 409: the fields others changed since your version."},
    )


def _default_message(code: int) -> str:
    messages = {
        400: _("The request could not be read."),
        401: _("Send an API token in the Authorization header: Bearer <token>."),
        403: _("You may not do this."),
        404: _("There is nothing at this address, or nothing you may see."),
        405: _("This address does not accept this method."),
        409: _("Someone else saved a change first."),
        413: _("The request is too large."),
        415: _("Send the request body as JSON (Content-Type: application/json)."),
        422: _("Some values were not accepted; see errors."),
        428: _("Send the version you edited."),
    }
    if code >= 500:
        return _("Something went wrong on our side; nothing was saved. Please try again.")
    return messages.get(code, _("The request was refused."))


def flatten(errors: Any, prefix: str = "") -> dict[str, str]:
    """``{"json": {"tags": {0: ["…"]}}}`` from webargs, or a service's ``{field: message}``,
    as ``{"tags.0": "…"}``: one message per field, rendered in the request's language."""
    out: dict[str, str] = {}
    if isinstance(errors, Mapping):
        for key, value in errors.items():
            if prefix == "" and key in ("json", "query", "querystring", "headers", "view_args"):
                out.update(flatten(value, ""))
                continue
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(flatten(value, name))
    elif isinstance(errors, list | tuple):
        texts = [m for m in errors if not isinstance(m, Mapping | list | tuple)]
        for nested in (m for m in errors if isinstance(m, Mapping | list | tuple)):
            out.update(flatten(nested, prefix))
        if texts:
            out[prefix] = " ".join(str(m) for m in texts)
    else:
        out[prefix] = str(errors)
    return out


def handle_http_error(error: HTTPException):
    """The one JSON error response of the API (registered for every status code)."""
    db.session.rollback()  # whatever the request had begun to write
    data = getattr(error, "data", None) or {}
    errors = flatten(data.get("errors") or data.get("messages") or {})
    code = error.code or 500
    message = errors.pop("_schema", None) or errors.pop("", None)
    if data.get("message"):
        message = str(data["message"])
    payload: dict[str, Any] = {
        "code": code,
        "status": error.name,
        "message": message or _default_message(code),
    }
    if errors:
        payload["errors"] = errors
    for key in ("current_version", "current_customer_version", "changed_fields"):
        if key in data:
            payload[key] = data[key]
    response = jsonify(payload)
    response.status_code = code
    if code < 500:
        # Allow on 405, WWW-Authenticate on 401, and the like.
        for name, value in error.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
    for name, value in (data.get("headers") or {}).items():
        response.headers[name] = value
    return response


def register_handlers(blueprint) -> None:
    """Errors raised while a blueprint of the API handles a request answer in JSON.

    Handlers by status code, on the blueprint: Flask prefers them to the app's HTML error
    pages, and they leave the rest of the app as it was.
    """
    for code in default_exceptions:
        blueprint.register_error_handler(code, handle_http_error)


def answer_routing_error():
    """Unknown addresses and wrong methods under /api/ answer like the API does.

    Such requests match no view, so no blueprint's handlers see them; this runs before
    the app would raise the routing error and render its page.
    """
    error = request.routing_exception
    if (
        isinstance(error, HTTPException)
        and (error.code or 0) >= 400
        and request.path.startswith(API_PATHS)
    ):
        return handle_http_error(error)
    return None


def refuse(error: InvalidInput) -> NoReturn:
    """A rule of the domain refused the input: 422 with each field's message."""
    db.session.rollback()
    abort(422, errors=error.errors)


def refuse_dates_outside_calendar(args: Mapping[str, Any], *names: str) -> None:
    """A list's date filters lie within the app's calendar, as every date typed in a form does
    (``inputs.date_refusal``): the year 1 or 9999 answers 422 in words, never a 500 and never
    a silently unbounded list."""
    refused = {
        name: refusal
        for name in names
        if args.get(name) is not None and (refusal := date_refusal(args[name])) is not None
    }
    if refused:
        refuse(InvalidInput(refused))


def conflict(stale: StaleDossier, current_versions) -> NoReturn:
    """Someone saved first: 409 with what they changed and the version(s) to start again
    from. ``current_versions`` is called after the rollback, so that it reads what is stored:
    ``{"current_version": …}``, and for a record also ``"current_customer_version"``."""
    changed = sorted({row.field for row in stale.missed if row.field})
    db.session.rollback()
    abort(
        409,
        message=_(
            "Someone else saved this record since your version; nothing was written. "
            "Read it again, then apply your change to the current version."
        ),
        changed_fields=changed,
        **current_versions(),
    )


def not_found(message: str) -> NoReturn:
    abort(404, message=message)


def _refuse_number(text: str) -> NoReturn:
    raise ValueError(f"{text} is not a number JSON allows")


class JsonParser(FlaskParser):
    """Reads request bodies as strict JSON: numbers with a fraction become ``Decimal``
    (money is never a float), and NaN or Infinity are refused as the JSON they are not."""

    def _raw_load_json(self, req):
        if not req.get_data(cache=True):
            return core.missing
        if not core.is_json(req.mimetype):
            abort(415)
        raw = req.get_data(cache=True)
        try:
            return json.loads(raw, parse_float=Decimal, parse_constant=_refuse_number)
        except (ValueError, RecursionError) as exc:  # incl. JSONDecodeError, bad UTF-8
            self._handle_invalid_json_error(exc, req)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs) -> NoReturn:
        abort(400, message=_("The request body is not valid JSON."))
