"""Set-based writes of many rows in the session's transaction: ids chosen before the insert,
the rows in one COPY (PostgreSQL) or one executemany (elsewhere), each value stored by its
column's own type. The importer writes customers, tags and policies with these; an ORM flush
of a hundred thousand objects would take many times as long.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import sqlalchemy as sa

from crm.extensions import db
from crm.models.base import UTCDateTime


def new_ids(table: sa.Table, count: int) -> list[int]:
    """Ids for ``count`` new rows, chosen before the insert so that what follows (events,
    audit rows, tags) finds them without a look-up: from the id sequence on PostgreSQL; on
    SQLite the next ones after the largest, which the write lock keeps free until the commit
    (and the primary key refuses if not)."""
    if count == 0:
        return []
    if db.session.connection().dialect.name == "postgresql":
        ids = db.session.scalar(
            sa.text(
                f"SELECT array_agg(nextval(pg_get_serial_sequence('{table.name}', 'id'))) "
                "FROM generate_series(1, :n)"
            ),
            {"n": count},
        )
        return sorted(ids)
    first = (db.session.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1
    return list(range(first, first + count))


def id_ranges(ids: list[int]) -> Iterator[tuple[int, int]]:
    """Sorted ids as ranges of consecutive ones (one range, unless others took ids between)."""
    start = 0
    for i in range(1, len(ids) + 1):
        if i == len(ids) or ids[i] != ids[i - 1] + 1:
            yield ids[start], ids[i - 1]
            start = i


def insert(table: sa.Table, names: list[str], rows: Iterable[tuple]) -> None:
    """Insert many rows (tuples of the ``names`` columns) in the session's transaction, each
    value stored by its column's own type: COPY on PostgreSQL (executemany there sends the
    rows one by one), a prepared INSERT run by executemany elsewhere."""
    connection = db.session.connection()
    dialect = connection.dialect
    converters = [table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]
    values = _converted(table, rows, names, converters)
    if dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
        cursor.close()
        return
    # Written by hand rather than compiled: a compiled INSERT adds every column with a
    # Python-side default, while here (as with COPY) a column left out takes the server's.
    preparer = dialect.identifier_preparer
    statement = "INSERT INTO {} ({}) VALUES ({})".format(
        preparer.format_table(table),
        ", ".join(preparer.quote(n) for n in names),
        ", ".join("?" for _ in names),
    )
    batch = list(values)
    if batch:
        connection.exec_driver_sql(statement, batch)


def _converted(table: sa.Table, rows: Iterable[tuple], names, converters) -> Iterator[tuple]:
    """Each row as the columns' types store it. Enum members, dates and the import's own
    time recur on many rows: each is converted once."""
    steps = [
        (i, convert, {} if isinstance(table.c[name].type, _RECURRING) else None)
        for i, (name, convert) in enumerate(zip(names, converters, strict=True))
        if convert is not None
    ]
    for row in rows:
        if not steps:
            yield row
            continue
        out = list(row)
        for i, convert, seen in steps:
            value = out[i]
            if value is None:
                continue
            if seen is None:
                out[i] = convert(value)
            else:
                if value not in seen:
                    seen[value] = convert(value)
                out[i] = seen[value]
        yield tuple(out)


_RECURRING = (sa.Enum, sa.Date, UTCDateTime)
