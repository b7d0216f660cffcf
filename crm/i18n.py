"""Language and time-zone selection: the staff member's preference, else the browser's."""

from __future__ import annotations

import functools
import os

from babel import Locale
from flask import current_app, has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

LOGIN_REQUIRED = _l("Please log in to continue.")


def _language_of(tag: str) -> str | None:
    tag = tag.replace("_", "-").lower()
    if tag.startswith("zh"):  # zh-CN, zh, zh-Hans: the catalogue is zh_CN
        return "zh_CN"
    if tag.startswith("en"):
        return "en"
    return None


def select_locale() -> Locale:
    return _locale(_selected_language())


@functools.cache
def _locale(identifier: str) -> Locale:
    # Parsing a locale lists Babel's data directory; once per language, not per request.
    return Locale.parse(identifier)


def _selected_language() -> str:
    if has_request_context():
        if current_user.is_authenticated and current_user.language:
            return current_user.language
        wanted = list(request.accept_languages.values())
    else:
        # The CLI speaks the operator's shell language.
        wanted = [os.environ.get(name, "") for name in ("LC_ALL", "LC_MESSAGES", "LANG")]
    for tag in wanted:
        language = _language_of(tag)
        if language:
            return language
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    if has_request_context() and current_user.is_authenticated and current_user.timezone:
        return current_user.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]
