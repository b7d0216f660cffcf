"""A request that only read ends its transaction with COMMIT, so PostgreSQL keeps the
statements psycopg prepared (on ROLLBACK psycopg forgets them all, and every page's
statements were parsed and planned anew); a request that wrote and did not commit is rolled
back as before, whether it sent the write or only staged it in the session."""

from __future__ import annotations

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Customer, Tag


def test_reads_end_with_commit_and_unfinished_writes_are_undone(app_factory, world, backend):
    app = app_factory()

    @app.get("/t/read")
    def read():
        return ",".join(db.session.scalars(sa.select(Customer.name).order_by(Customer.id)))

    @app.get("/t/sent")
    def sent():
        db.session.execute(sa.update(Customer).values(name="改过"))
        return "sent, not committed"

    @app.get("/t/staged")
    def staged():
        db.session.scalar(sa.select(sa.func.count()).select_from(Tag))  # a transaction, read
        db.session.add(Tag(name="未保存"))  # then a change left in the session
        return "staged, not flushed"

    ended: list[str] = []
    with app.app_context():
        sa.event.listen(db.engine, "commit", lambda conn: ended.append("commit"))
        sa.event.listen(db.engine, "rollback", lambda conn: ended.append("rollback"))
    client = app.test_client()
    names = client.get("/t/read").get_data(as_text=True)
    assert names == "张伟,李娜,王芳"

    for _ in range(7):
        assert client.get("/t/read").get_data(as_text=True) == names
    assert ended == ["commit"] * 8
    if backend == "postgresql":
        with app.app_context():
            # The pool's one connection, as the next request gets it: its statements kept.
            prepared = db.session.scalar(sa.text("SELECT count(*) FROM pg_prepared_statements"))
            assert prepared >= 1

    ended.clear()
    assert client.get("/t/sent").status_code == 200
    assert client.get("/t/staged").status_code == 200
    assert ended == ["rollback", "rollback"]
    assert client.get("/t/read").get_data(as_text=True) == names
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Tag)) == 0
