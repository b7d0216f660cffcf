"""Fixtures for the JSON API: tokens for the world's staff, and a client that sends one."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditLog, Customer, Experience, Policy, QuadrantEvent


class ApiClient:
    """The test client, speaking JSON with a bearer token (and English unless told)."""

    def __init__(self, client, token: str | None, language: str = "en"):
        self.client = client
        self.token = token
        self.language = language

    def headers(self, extra=None) -> dict:
        headers = {"Accept-Language": self.language}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers | (extra or {})

    def get(self, url, headers=None, **kw):
        return self.client.get(url, headers=self.headers(headers), **kw)

    def post(self, url, json=None, headers=None, **kw):
        return self.client.post(url, json=json, headers=self.headers(headers), **kw)

    def patch(self, url, json=None, headers=None, **kw):
        return self.client.patch(url, json=json, headers=self.headers(headers), **kw)


@pytest.fixture
def api_as(app, token_for):
    """``api_as(world.alice)``: a client acting with alice's token."""

    def make(staff, language: str = "en") -> ApiClient:
        return ApiClient(app.test_client(), token_for(staff), language)

    return make


def counts() -> dict[str, int]:
    """Rows that a refused request must leave as they were."""
    db.session.expire_all()
    return {
        model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (Customer, Policy, Experience, QuadrantEvent, AuditLog)
    }
