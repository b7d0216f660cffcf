"""Language and time-zone selection: the staff member's preference, else the browser's."""

from __future__ import annotations

from flask import current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

LOGIN_REQUIRED = _l("Please log in to continue.")


def select_locale() -> str:
    languages = current_app.config["CRM_LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    best = request.accept_languages.best_match(languages) if request else None
    if (
        best is None
        and request
        and any(lang.lower().startswith("zh") for lang in request.accept_languages.values())
    ):
        best = "zh_CN"
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    if current_user and current_user.is_authenticated and current_user.timezone:
        return current_user.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]
