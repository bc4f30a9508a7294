"""Fast bulk inserts for imports: PostgreSQL COPY, SQLite executemany.

Django's bulk_create spends ~0.1 ms a row preparing model instances; an import of 100k tasks
needs a path close to what the database itself allows (DESIGN §9: COPY takes 0.3 s).
Ids are reserved first so annotations and predictions can point at their tasks.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from django.db import DatabaseError, connection, connections
from django.db.models import Model

logger = logging.getLogger(__name__)
_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def as_json(value: Any) -> str:
    """JSON text for a JSON column; orjson is ~5x faster than json on import-sized batches."""
    try:
        return orjson.dumps(value).decode()
    except (orjson.JSONEncodeError, TypeError):
        # Integers past 64 bits, and the like: the standard encoder takes them.
        return _json(value)


def reserve_ids(model: type[Model], count: int) -> list[int]:
    """``count`` fresh primary keys for ``model``; call inside the importing transaction.

    PostgreSQL takes them from the table's sequence (safe beside concurrent writers); on
    SQLite the IMMEDIATE transaction already holds the only write lock, so max(id) + 1...
    cannot be taken by anyone else before commit.
    """
    if count == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, count],
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{table}"')  # nosec B608 # noqa: S608 - table name from model meta
        start = int(cursor.fetchone()[0]) + 1
    return list(range(start, start + count))


def insert_rows(model: type[Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert ``rows`` (tuples in ``columns`` order, JSON already encoded) into ``model``'s table."""
    if not rows:
        return
    table = model._meta.db_table
    names = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # psycopg 3 cursor under Django's wrapper
            with raw.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:
                copy.set_types(copy_types(model, columns))
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" for _ in columns)
        cursor.executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', _sqlite_rows(rows))  # nosec B608 # noqa: S608


def _sqlite_rows(rows: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
    """Datetimes in the text form the ORM writes on SQLite (UTC, no offset): sqlite3's own
    adapter would add "+00:00", and text comparisons would then mix two forms."""
    stamps = [i for i, value in enumerate(rows[0]) if isinstance(value, datetime)]
    if not stamps:
        return rows
    adapt = connection.ops.adapt_datetimefield_value
    fixed = []
    for row in rows:
        values = list(row)
        for i in stamps:
            values[i] = adapt(values[i])
        fixed.append(values)
    return fixed


def copy_types(model: type[Model], columns: Sequence[str]) -> list[str]:
    """PostgreSQL types of ``columns`` for ``Copy.set_types``: psycopg then dumps each value
    with a known dumper instead of looking one up per value (2x faster COPY here). JSON and
    character columns arrive as text (JSON already encoded), so they are sent as text."""
    fields = {f.attname: f for f in model._meta.concrete_fields}
    types = []
    for name in columns:
        db_type = fields[name].db_type(connection) or "text"
        if db_type == "jsonb" or db_type.startswith("varchar"):
            db_type = "text"
        types.append(db_type)
    return types


class RowStream:
    """Rows of one table written through ONE COPY kept open across batches (PostgreSQL).

    A COPY per batch made the importer wait for the server at the end of every batch; with
    one open stream the server ingests rows (JSON parsing, index entries) on one core while
    the importer parses and validates the next ones on the other. Nothing else may run on
    the connection while the stream is open: ``flush()`` first. On SQLite, and after
    ``flush()``, rows go through ``insert_rows``. Used as a context manager: an exception
    aborts the COPY (the transaction then rolls back as usual).
    """

    def __init__(self, model: type[Model], columns: Sequence[str]) -> None:
        self.model = model
        self.columns = columns
        self._cursor: Any = None
        self._copy_cm: Any = None
        self._copy: Any = None

    def write(self, rows: Sequence[Sequence[Any]]) -> None:
        if connection.vendor != "postgresql":
            insert_rows(self.model, self.columns, rows)
            return
        if self._copy is None:
            names = ", ".join(f'"{c}"' for c in self.columns)
            self._cursor = connection.cursor()
            raw = self._cursor.cursor  # psycopg 3 cursor under Django's wrapper
            self._copy_cm = raw.copy(f'COPY "{self.model._meta.db_table}" ({names}) FROM STDIN')
            self._copy = self._copy_cm.__enter__()
            self._copy.set_types(copy_types(self.model, self.columns))
        for row in rows:
            self._copy.write_row(row)

    def flush(self, exc: BaseException | None = None) -> None:
        """End the COPY: the server has every row written so far when this returns."""
        if self._copy is None:
            return
        copy_cm, cursor = self._copy_cm, self._cursor
        self._copy = self._copy_cm = self._cursor = None
        try:
            if exc is None:
                copy_cm.__exit__(None, None, None)
            else:
                copy_cm.__exit__(type(exc), exc, exc.__traceback__)
        finally:
            cursor.close()

    def __enter__(self) -> RowStream:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self.flush(exc)


# The columns the planner needs after a bulk load (row counts per project, the next-task
# partial index, joins to tasks). Leaving out the JSON columns makes ANALYZE several times
# cheaper: it no longer reads and measures every sampled row's data.
ANALYZED_COLUMNS = {
    "tasks_task": (
        "id",
        "project_id",
        "is_labeled",
        "priority",
        "total_annotations",
        "prediction_score",
    ),
    "tasks_annotation": ("task_id", "project_id", "completed_by_id", "was_cancelled"),
    "tasks_prediction": ("task_id", "project_id", "model_version"),
}


def table_statistics_refresh(*, tables: Sequence[str]) -> None:
    """ANALYZE the planner's columns of ``tables`` (PostgreSQL; SQLite plans these queries
    without statistics)."""
    if connection.vendor != "postgresql":
        return
    targets = ", ".join(f"{t} ({', '.join(ANALYZED_COLUMNS[t])})" for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {targets}")


def table_statistics_refresh_soon(*, tables: Sequence[str]) -> threading.Thread | None:
    """``table_statistics_refresh`` on a thread of its own (and its own connection): the
    request that imported does not wait for it (0.6 s after 100k tasks here). Best effort:
    autovacuum would refresh the statistics a minute later anyway."""
    if connection.vendor != "postgresql":
        return None

    def run() -> None:
        try:
            table_statistics_refresh(tables=tables)
        except DatabaseError as exc:
            logger.warning("ANALYZE after an import failed: %s", exc)
        finally:
            connections.close_all()  # this thread's connection only

    thread = threading.Thread(target=run, name="analyze-after-import", daemon=True)
    thread.start()
    return thread
