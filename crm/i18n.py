"""Language and time-zone selection: the staff member's preference, else the browser's."""

from __future__ import annotations

import functools
import os

import flask.templating
from babel import Locale
from flask import Flask, current_app, g, has_app_context, has_request_context, request
from flask_babel import get_translations
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from jinja2.ext import Extension
from jinja2.lexer import Token

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


# --- templates compiled per language ----------------------------------------------------------


class TranslatedTemplates(flask.templating.Environment):
    """The app's templates, compiled once per interface language with their fixed texts
    already translated: ``_('Profile')`` is compiled into the page as "档案" (a page has a
    hundred such texts, and calling gettext for each cost half of rendering it). A text
    with variables, ``_('as of %(d)s', d=...)``, is still translated as the page renders.

    The environment Flask renders with picks, per request, an overlay for the request's
    catalogue (``translations()``); the overlays share the filters, globals and loader and
    keep their own compiled templates. Outside an app context nothing is folded.
    """

    def __init__(self, app: Flask, **options) -> None:
        super().__init__(app, **options)
        self.add_extension(FoldFixedTexts)
        self.catalogue = None  # the overlays' own: what their templates were compiled with
        self.by_catalogue: dict = {}

    def localised(self) -> flask.templating.Environment:
        if self.catalogue is not None or not has_app_context():
            return self
        catalogue = translations()
        overlay = self.by_catalogue.get(catalogue)
        if overlay is None:
            # An empty cache of its own: a copy of this one's would hold unfolded templates.
            overlay = self.overlay(cache_size=getattr(self.cache, "capacity", 400))
            overlay.catalogue = catalogue
            overlay = self.by_catalogue.setdefault(catalogue, overlay)
        return overlay

    def get_template(self, name, parent=None, globals=None):
        target = self.localised()
        if target is not self:
            return target.get_template(name, parent, globals)
        return super().get_template(name, parent, globals)

    def select_template(self, names, parent=None, globals=None):
        target = self.localised()
        if target is not self:
            return target.select_template(names, parent, globals)
        return super().select_template(names, parent, globals)


class FoldFixedTexts(Extension):
    """Rewrites ``_('text')`` (a single string, no variables) into the translated text,
    marked safe as the gettext call's result is, in an environment that has a catalogue."""

    def filter_stream(self, stream):
        catalogue = getattr(self.environment, "catalogue", None)
        if catalogue is None:
            return stream
        tokens = list(stream)
        folded: list[Token] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if (
                token.type == "name"
                and token.value == "_"
                and [t.type for t in tokens[i + 1 : i + 4]] == ["lparen", "string", "rparen"]
                and not (folded and folded[-1].type == "dot")
            ):
                text = _fixed(catalogue, tokens[i + 2].value)
                if text is not None:
                    line = token.lineno
                    folded += [
                        Token(line, "lparen", "("),
                        Token(line, "string", text),
                        Token(line, "pipe", "|"),
                        Token(line, "name", "safe"),
                        Token(line, "rparen", ")"),
                    ]
                    i += 4
                    continue
            folded.append(token)
            i += 1
        return iter(folded)


def _fixed(catalogue, text: str) -> str | None:
    """What the template's gettext would give for ``text``: translated, then formatted with
    no variables (so %% reads %). None where that fails: the call stays, and fails as before."""
    try:
        return catalogue.ugettext(text) % {}
    except (KeyError, TypeError, ValueError):
        return None
