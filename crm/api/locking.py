"""Optimistic locking over HTTP: a record's version is its ETag; an update names the
version it was made from (``version`` in the body, or ``If-Match``), and a version that
has moved on is answered 409 with nothing written (``crm.core.revisions.StaleDossier``).
"""

from __future__ import annotations

import re

from flask import request
from flask_babel import gettext as _
from flask_smorest import abort

from crm.api.errors import ErrorSchema

# One ETag as the API gives it out ("3"), or its weak form (W/"3"): versions have at most
# 9 digits here, so that any of them is a version the 32-bit column can hold.
IF_MATCH_PATTERN = r'^[ \t]*(?:W/)?"([0-9]{1,9})"[ \t]*$'
_IF_MATCH = re.compile(IF_MATCH_PATTERN)

IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string", "pattern": IF_MATCH_PATTERN, "example": '"1"'},
    "description": 'The ETag of the version you read, such as "3" (instead of the version '
    "field; if both are sent, the version field counts).",
}


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def expected_version(body_version: int | None) -> int:
    """The version the client edited: the body's ``version``, else the If-Match ETag. An
    If-Match header, when sent, must be one ETag as given out, whichever of the two counts."""
    header = request.headers.get("If-Match")
    match = None if header is None else _IF_MATCH.fullmatch(header)
    if header is not None and match is None:
        abort(
            422,
            errors={"If-Match": _('Give one ETag, as it was given to you, such as "3".')},
        )
    if body_version is not None:
        return body_version
    if match is None:
        abort(
            428,
            message=_(
                "Send the version you edited: the version field, or an If-Match header "
                "with the ETag you were given."
            ),
        )
    return int(match.group(1))


def versioned(blp):
    """Describe an update that names its version: the If-Match header, 409 and 428."""

    def describe(view):
        view = blp.alt_response(
            428, schema=ErrorSchema, description="Neither a version nor an If-Match was sent."
        )(view)
        view = blp.alt_response(
            409,
            schema=ErrorSchema,
            description="Someone saved first; nothing was written. The answer names the "
            "version now stored and the fields that changed.",
        )(view)
        return blp.doc(parameters=[IF_MATCH])(view)

    return describe
