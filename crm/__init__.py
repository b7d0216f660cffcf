"""Bank-insurance CRM: the Flask application factory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask


def create_app(config_name: str | None = None, overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the web app. Migrations and demo data are CLI steps, never done here."""
    from config import DEV_SECRET, load_config

    app = Flask(__name__, instance_relative_config=True)
    app.jinja_environment = _translated_templates()
    app.config.update(load_config(config_name))
    if overrides:
        app.config.update(overrides)
    if app.config["SECRET_KEY"] == DEV_SECRET and not app.testing:
        app.config["SECRET_KEY"] = _instance_secret(app)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        path = os.path.join(app.instance_path, "crm.sqlite3")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if not app.config.get("CRM_SMS_CONSOLE_PATH"):
        app.config["CRM_SMS_CONSOLE_PATH"] = os.path.join(app.instance_path, "sms-console.jsonl")
    if not app.config.get("CRM_MAIL_CONSOLE_PATH"):
        app.config["CRM_MAIL_CONSOLE_PATH"] = os.path.join(app.instance_path, "mail-console.jsonl")

    register_proxy(app)
    register_extensions(app)
    register_sessions(app)
    register_security_headers(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def _translated_templates():
    from crm.i18n import TranslatedTemplates

    return TranslatedTemplates


def _instance_secret(app: Flask) -> str:
    """A random session key kept in the instance folder, so that no deployment signs
    sessions with a key published in the source."""
    import secrets

    os.makedirs(app.instance_path, exist_ok=True)
    path = os.path.join(app.instance_path, "secret_key")
    try:
        with open(path) as f:
            key = f.read().strip()
    except FileNotFoundError:
        key = ""
    if len(key) < 32:
        key = secrets.token_hex(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key)
    return key


def register_extensions(app: Flask) -> None:
    from crm import i18n
    from crm.extensions import babel, csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.normpath(os.path.join(app.root_path, os.pardir, "migrations")),
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
    )
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    i18n.install_template_gettext(app)
    login_manager.init_app(app)

    from crm.core.dbsetup import configure_engine, end_read_transaction

    with app.app_context():
        configure_engine(db.engine)

    @app.teardown_appcontext
    def _end_read_transaction(error):
        # Runs before Flask-SQLAlchemy's own teardown (teardowns run last-registered first).
        if error is None:
            end_read_transaction(db.session())


def register_sessions(app: Flask) -> None:
    """Signed-in sessions kept in the database: the cookie names one, each request checks it."""
    from crm.extensions import login_manager
    from crm.views import signin

    signin.install(login_manager)


def register_security_headers(app: Flask) -> None:
    from crm.views import security

    security.register(app)


def register_proxy(app: Flask) -> None:
    """Trust X-Forwarded-* from this many proxies (0: none), so client addresses are real."""
    hops = int(app.config.get("CRM_PROXY_HOPS", 0))
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_blueprints(app: Flask) -> None:
    from crm.views import (
        admin,
        approvals,
        auth,
        customer_selection,
        customers,
        dashboard,
        events,
        experiences,
        experiments,
        followup,
        grid,
        health,
        notifications,
        occasions,
        opportunities,
        outreach,
        pipeline,
        products,
        prospects,
        reports,
        team,
        today,
        transfer,
    )
    from crm.views.helpers import IdConverter

    app.url_map.converters["id"] = IdConverter

    for module in (
        auth,
        customers,
        customer_selection,
        experiences,
        events,
        grid,
        admin,
        products,
        health,
        outreach,
        notifications,
        followup,
        transfer,
        today,
        occasions,
        prospects,
        experiments,
        dashboard,
        team,
        approvals,
        reports,
        opportunities,
        pipeline,
    ):
        app.register_blueprint(module.bp)

    # The JSON API (/api/v1/) and the admin page issuing its tokens.
    from crm import api
    from crm.views import api_tokens

    app.register_blueprint(api_tokens.bp)
    api.init_app(app)


def register_errorhandlers(app: Flask) -> None:
    from crm.views.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from crm.views import helpers

    helpers.register(app)


def register_commands(app: Flask) -> None:
    from crm.cli import crm_group

    app.cli.add_command(crm_group)
