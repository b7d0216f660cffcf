"""Entry point for ``flask --app wsgi`` and for WSGI servers (``gunicorn wsgi:app``)."""

from crm import create_app

app = create_app()
