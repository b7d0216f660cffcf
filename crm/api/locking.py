"""Optimistic locking over HTTP: a record's version is its ETag; an update names the
version it was made from (``version`` in the body, or ``If-Match``), and a version that
has moved on is answered 409 with nothing written (``crm.core.revisions.StaleDossier``).
"""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from flask_smorest import abort

IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": 'The ETag of the version you read, such as "3" (instead of the version field).',
}


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def expected_version(body_version: int | None) -> int:
    """The version the client edited: the body's ``version``, else the If-Match ETag."""
    if body_version is not None:
        return body_version
    header = request.headers.get("If-Match")
    if header is None:
        abort(
            428,
            message=_(
                "Send the version you edited: the version field, or an If-Match header "
                "with the ETag you were given."
            ),
        )
    tags = request.if_match
    values = [] if tags.star_tag else [v for v in tags.as_set(include_weak=True) if v]
    if len(values) != 1 or not (values[0].isascii() and values[0].isdigit()) or len(values[0]) > 9:
        abort(
            422,
            errors={"If-Match": _('Give one ETag, as it was given to you, such as "3".')},
        )
    return int(values[0])
