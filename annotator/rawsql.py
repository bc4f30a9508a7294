"""Model instances from plain SQL, for the few hot paths written as SQL (next-task, submit,
token checks).

``Model.objects.raw()`` works out the column order, model init order and value converters
on every execution: a third of a next-task request's CPU here. This does the same once per
connection and query, then only converts values and calls ``Model.from_db``. A related
object can come from the same row: its columns are selected with a prefix
(``columns_as(Project, "p", "project__")``) and it is attached as the relation's cached value.

On PostgreSQL these statements are prepared on the server (``prepared_cursor``): planning
them cost more than running them (the next-task candidate query: 0.49 ms of the server's
CPU planned each time, 0.08 ms prepared). Django turns prepared statements off for the
whole connection (they break PgBouncer's transaction mode), so only the hot statements
here use them, and ``DB_PREPARED_STATEMENTS=0`` turns them off too. They name their
columns (``columns_of``) instead of ``t.*``: a prepared ``t.*`` fails ("cached plan must
not change result type") once a migration adds a column under a running server.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.utils import CursorWrapper
from django.db.models import Model

ModelT = TypeVar("ModelT", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class _Plan:
    model: type[Model]
    field_names: tuple[str, ...]  # every column of the model, in the model's field order
    indexes: tuple[int, ...]  # where each of them is in the row
    converters: tuple[tuple[int, tuple[Converter, ...], Any], ...]  # (row index, funcs, col)


@dataclass(frozen=True)
class _RowPlan:
    main: _Plan
    related: tuple[tuple[str, _Plan], ...]  # (relation name, plan)
    extras: tuple[tuple[int, str], ...]  # unprefixed non-field columns -> attributes


def prepared_cursor() -> CursorWrapper:
    """A cursor of the default connection whose statements are prepared on the server on
    their first run (PostgreSQL; elsewhere, with ``DB_PREPARED_STATEMENTS`` off, or while
    queries are logged, a plain cursor). Execute wrappers still see every statement."""
    # While queries are logged (DEBUG, CaptureQueriesContext) statements go unprepared:
    # psycopg keeps no text of a server-bound statement for Django's log.
    if (
        connection.vendor != "postgresql"
        or not settings.DB_PREPARED_STATEMENTS
        or connection.queries_logged
    ):
        return connection.cursor()
    connection.ensure_connection()
    raw = _prepared_cursor_class()(connection.connection)
    return connection._prepare_cursor(raw)  # type: ignore[attr-defined,no-any-return]


@functools.cache
def _prepared_cursor_class() -> type[Any]:
    # Imported here: the PostgreSQL backend module needs psycopg.
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):  # type: ignore[misc, valid-type]
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
            kwargs["prepare"] = True
            return super().execute(query, params, **kwargs)  # type: ignore[misc]

    return PreparedCursor


def columns_of(model: type[Model], alias: str) -> str:
    """``alias.*`` for ``model``, spelled out (a prepared statement's result may not change
    shape when a migration adds a column)."""
    return ", ".join(f'{alias}."{f.column}"' for f in model._meta.concrete_fields)


def columns_as(model: type[Model], alias: str, prefix: str) -> str:
    """A select list of ``model``'s columns from table alias ``alias``, named ``prefix`` +
    attname, for a related object of ``fetch_models``."""
    return ", ".join(
        f'{alias}."{f.column}" AS "{prefix}{f.attname}"' for f in model._meta.concrete_fields
    )


def _model_plan(model: type[Model], names: tuple[str, ...], prefix: str) -> _Plan:
    fields = {f.attname: f for f in model._meta.concrete_fields}
    where = {name[len(prefix) :]: i for i, name in enumerate(names) if name.startswith(prefix)}
    missing = set(fields) - set(where)
    if missing:
        raise ValueError(f"the query must select every column of {model.__name__}: {missing}")
    # from_db takes a full row in the model's field order, which need not be the table's
    # column order (fields added by later migrations sit at its end).
    ordered = tuple(f.attname for f in model._meta.concrete_fields)
    converters = []
    for name in ordered:
        column = fields[name].get_col(model._meta.db_table)
        funcs = (
            *connection.ops.get_db_converters(column),
            *column.get_db_converters(connection),
        )
        if funcs:
            converters.append((where[name], funcs, column))
    return _Plan(model, ordered, tuple(where[n] for n in ordered), tuple(converters))


def _row_plan(
    model: type[Model],
    names: tuple[str, ...],
    related: dict[str, tuple[type[Model], str]],
) -> _RowPlan:
    prefixes = tuple(prefix for _, prefix in related.values())
    # Prefixed columns belong to related objects: blank them for the main model.
    own = tuple("" if prefixes and n.startswith(prefixes) else n for n in names)
    main = _model_plan(model, own, "")
    fields = set(main.field_names)
    extras = tuple((i, n) for i, n in enumerate(own) if n and n not in fields)
    plans = tuple((name, _model_plan(m, names, prefix)) for name, (m, prefix) in related.items())
    return _RowPlan(main, plans, extras)


def _build(plan: _Plan, row: list[Any]) -> Model:
    for index, funcs, column in plan.converters:
        for func in funcs:
            row[index] = func(row[index], column, connection)
    return plan.model.from_db(connection.alias, plan.field_names, [row[i] for i in plan.indexes])


def fetch_models(
    model: type[ModelT],
    sql: str,
    params: Sequence[Any],
    related: dict[str, tuple[type[Model], str]] | None = None,
) -> list[ModelT]:
    """Instances of ``model`` from ``sql``, which selects all its columns (``columns_of``) and maybe
    more: extra columns become attributes, as with ``raw()``; ``related`` maps a relation
    name to (model, prefix) for related objects selected with ``columns_as``."""
    related = related or {}
    # Per connection (the thread's own wrapper, not the shared ``connection`` proxy):
    # converters are bound to its operations. Column names are kept per query, which saves
    # reading the cursor's description every time.
    cache: dict[Any, Any] = connections[DEFAULT_DB_ALIAS].__dict__.setdefault(
        "_annotator_rawsql_plans", {}
    )
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        plan = cache.get((model, sql))
        if plan is None:
            names = tuple(col[0] for col in cursor.description)
            plan = cache[(model, sql)] = _row_plan(model, names, related)
        rows = cursor.fetchall()
    result = []
    for raw in rows:
        row = list(raw)
        obj = _build(plan.main, row)
        for name, related_plan in plan.related:
            setattr(obj, name, _build(related_plan, row))
        for index, name in plan.extras:
            setattr(obj, name, row[index])
        result.append(obj)
    return result  # type: ignore[return-value]


def fetch_model(
    model: type[ModelT],
    sql: str,
    params: Sequence[Any],
    related: dict[str, tuple[type[Model], str]] | None = None,
) -> ModelT | None:
    found = fetch_models(model, sql, params, related)
    return found[0] if found else None
