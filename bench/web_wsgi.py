"""The app as `make run` serves it, plus a hello-world route: the floor of `bench/web.py`'s
throughput measurement (the same server, workers and middleware; no query, no template)."""

from bench.web import add_hello
from crm import create_app

app = create_app()
add_hello(app)
