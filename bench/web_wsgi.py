"""The app as `make run` serves it, plus the floors of `bench/web.py`'s throughput
measurement: a hello-world route (the same server, workers and middleware; no query, no
template) and the signed-in layout with nothing in it."""

from bench.web import add_floors
from crm import create_app

app = create_app()
add_floors(app)
