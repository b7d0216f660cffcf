"""Error pages in the user's language: never a stack trace."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError

from crm.extensions import db


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_page(status: int):
    """The app's page for an HTTP error, in the user's language (JSON where JSON is wanted)."""
    if status >= 500:
        db.session.rollback()
    if _wants_json():
        return jsonify(error=status), status
    return render_template("errors/error.html", status=status), status


def register(app: Flask) -> None:
    def page(status: int):
        def handler(error):
            return error_page(status)

        return handler

    for status in (400, 403, 404, 405, 413, 500):
        app.register_error_handler(status, page(status))

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return render_template("errors/error.html", status=400, csrf=True), 400
