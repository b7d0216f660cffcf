"""Language and time-zone selection: the staff member's preference, else the browser's."""

from __future__ import annotations

import functools
import os

from babel import Locale
from flask import Flask, current_app, g, has_app_context, has_request_context, request
from flask_babel import get_translations
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


def translations():
    """The catalogue of the request's language, found once per request and language.

    Flask-Babel resolves its request context five times for every string it translates; a
    dossier page translates a hundred, which cost a third of rendering it. The catalogue is
    kept beside the locale it was found for, so ``force_locale`` (a message in its
    recipient's language) and ``refresh`` (a language just switched) still take effect.
    """
    if not has_app_context():
        return get_translations()
    state = getattr(g, "_flask_babel", None)
    if state is not None:
        locale = getattr(state, "babel_locale", None)
        found = getattr(state, "crm_translations", None)
        if locale is not None and found is not None and found[0] is locale:
            return found[1]
    catalogue = get_translations()
    state = getattr(g, "_flask_babel", None)
    if state is not None and getattr(state, "babel_locale", None) is not None:
        state.crm_translations = (state.babel_locale, catalogue)
    return catalogue


def install_template_gettext(app: Flask) -> None:
    """Templates translate through ``translations()`` (Flask-Babel installs a slower path)."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
