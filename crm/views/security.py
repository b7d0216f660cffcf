"""Security headers on every answer, set in this one place.

The pages load their stylesheets from /static and run no script at all, so the content
security policy allows nothing else: an injected ``<script>``, inline handler or style does
not run, and no other site may frame a page (clickjacking). Pages and API answers carry
customers' personal data, so no browser or proxy may keep a copy (``no-store``); only the
static files and the health check may be cached.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors, for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    # Addresses carry customer ids and search terms (names, phones): never to another site.
    "Referrer-Policy": "same-origin",
}
# A report (analytics/report.py) is one self-contained page: its styles are inline and its
# charts ``data:`` images. It may show those, and still runs no script and loads nothing.
REPORT_POLICY = "; ".join(
    (
        "default-src 'none'",
        "style-src 'unsafe-inline'",
        "img-src data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
REPORT_ENDPOINTS = frozenset({"reports.open_report", "reports.requested"})
# Answers that hold no personal data and may be cached.
CACHEABLE_ENDPOINTS = frozenset({"static", "health.healthz"})


def secure(response: Response) -> Response:
    response.headers.update(HEADERS)
    if request.endpoint in REPORT_ENDPOINTS and response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = REPORT_POLICY
    if request.endpoint not in CACHEABLE_ENDPOINTS:
        response.headers["Cache-Control"] = "no-store"
    hsts = current_app.config.get("CRM_HSTS_SECONDS", 0)
    if hsts:
        response.headers["Strict-Transport-Security"] = f"max-age={hsts}"
    return response


def register(app: Flask) -> None:
    app.after_request(secure)
