"""The blueprint every part of the API is built on: token required, JSON errors, JSON bodies."""

from __future__ import annotations

import flask_smorest

from crm.api.auth import require_token
from crm.api.errors import JsonParser, register_handlers

PREFIX = "/api/v1"


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = JsonParser()

    def __init__(self, name: str, import_name: str, **kwargs):
        super().__init__(name, import_name, url_prefix=PREFIX, **kwargs)
        self.before_request(require_token)
        register_handlers(self)
