"""How large an import may be (导入上限), in rows and in bytes, and what to say past it."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from crm.core.inputs import InvalidInput

# A bank's list for one branch runs to tens of thousands; past this, split the file.
DEFAULT_MAX_ROWS = 100_000
# Enough for 100,000 rows of CSV with every column filled.
DEFAULT_MAX_BYTES = 32 * 1024 * 1024


def max_rows() -> int:
    return int(current_app.config.get("CRM_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def max_bytes() -> int:
    return int(current_app.config.get("CRM_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def too_large_message():
    limit = max_bytes()
    mb = 1024 * 1024
    size = f"{limit // mb} MB" if limit >= mb else f"{limit // 1024} KB"
    return _l(
        "The file is larger than %(size)s; split it and import the parts one after the other.",
        size=size,
    )


class TooLarge(InvalidInput):
    """A file past ``max_bytes``, refused as soon as that is known (a web upload: 413)."""

    def __init__(self):
        super().__init__({"file": too_large_message()})


def too_many_rows_message(limit: int):
    count = f"{limit:,}"  # outside the call: the message extractor skips f-strings within
    return _l(
        "The file has more than %(n)s rows; split it and import the parts one after the other.",
        n=count,
    )
