"""The JSON API (/api/v1/): customers, policies, experiences and quadrant events for other
systems, authenticated by per-staff tokens (``crm.services.accounts.api_tokens``).

Built on flask-smorest: marshmallow schemas both check what comes in and describe it, so
the OpenAPI description at /api/v1/openapi.json is generated from what is enforced.
"""

from __future__ import annotations

import flask_smorest
from flask import Flask

from crm.api.blueprint import PREFIX
from crm.api.errors import ErrorSchema

OPENAPI_JSON = f"{PREFIX}/openapi.json"

DESCRIPTION = """\
The bancassurance CRM's data for other systems. Every request carries an API token that an
administrator issued to a staff member (Authorization: Bearer <token>); the API then acts
with exactly that member's rights: a customer you may not see answers 404.

Lists are paged with an opaque cursor: pass a page's next_cursor to get the next one.
Updates name the version they were made from (the version field, or If-Match with the
ETag); if someone saved first, the answer is 409 and nothing is written; naming none is
answered 428.
Amounts are written as strings in yuan with two decimals, and read from such a string or a
JSON number; times are ISO 8601 in UTC. Phones are given in full and answered masked.
Errors are JSON with a message in the language of Accept-Language (zh-CN or en).
"""


class CrmApi(flask_smorest.Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        """Not for the whole app: the API's blueprints answer errors in JSON themselves
        (``crm.api.errors.register_handlers``) and the web pages keep their own."""


def _id_parameter(converter) -> dict:
    return {"type": "integer", "minimum": converter.min, "maximum": converter.max, "example": 1}


def init_app(app: Flask) -> None:
    from crm.api import (
        customers,
        description,
        errors,
        experiences,
        experiments,
        fields,
        opportunities,
        policies,
        prospects,
        quadrant_events,
        suggestions,
    )
    from crm.extensions import csrf
    from crm.views.helpers import IdConverter

    app.config.setdefault("API_TITLE", "Bancassurance CRM API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {"info": {"description": DESCRIPTION}, "security": [{"bearerAuth": []}]},
    )
    api = CrmApi(app, spec_kwargs={"extra_plugins": [description.ErrorAnswers()]})
    api.spec.components.security_scheme(
        "bearerAuth",
        {"type": "http", "scheme": "bearer", "description": "A token from /admin/api-tokens."},
    )
    api.register_converter(IdConverter, _id_parameter)
    api.register_field(fields.Money, "string", "decimal")
    api.ma_plugin.converter.add_attribute_function(description.money2properties)
    for module in (
        customers,
        policies,
        experiences,
        quadrant_events,
        suggestions,
        prospects,
        experiments,
        opportunities,
    ):
        api.register_blueprint(module.blp)
        csrf.exempt(module.blp)  # no cookies: the token is the credential
    app.before_request(errors.answer_routing_error)
