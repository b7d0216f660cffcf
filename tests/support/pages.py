"""What the view tests read off a page: its main text, its flash message, row counts."""

from __future__ import annotations

import re

import sqlalchemy as sa

from crm.extensions import db

EN = {"Accept-Language": "en"}


def count(model) -> int:
    """Rows of ``model`` as committed (the session forgets what it held)."""
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def text_of(page: str) -> str:
    """The text of a page's main part (or of a fragment), tags dropped, spaces collapsed."""
    main = page.split("<main>", 1)[-1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)).strip()


def flash(page: str) -> str:
    return re.search(r'<p class="flash[^"]*" role="status">([^<]*)</p>', page)[1]
