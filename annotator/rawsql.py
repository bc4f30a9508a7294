"""Model instances from plain SQL, for the few hot paths written as SQL (next-task, submit,
token checks).

``Model.objects.raw()`` works out the column order, model init order and value converters
on every execution: a third of a next-task request's CPU here. This does the same once per
connection and column list, then only converts values and calls ``Model.from_db``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

ModelT = TypeVar("ModelT", bound=Model)
Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class _Plan:
    field_names: tuple[str, ...]  # the model's columns, in the model's field order
    converters: tuple[tuple[int, tuple[Converter, ...], Any], ...]  # (index, funcs, column)
    extras: tuple[tuple[int, str], ...]  # other columns, set as attributes


def _plan(model: type[Model], names: tuple[str, ...]) -> _Plan:
    # Per connection: converters are bound to the connection's operations.
    cache: dict[tuple[type[Model], tuple[str, ...]], _Plan] = connection.__dict__.setdefault(
        "_annotator_rawsql_plans", {}
    )
    key = (model, names)
    if key not in cache:
        fields = {f.attname: f for f in model._meta.concrete_fields}
        field_names, converters, extras = [], [], []
        for index, name in enumerate(names):
            field = fields.get(name)
            if field is None:
                extras.append((index, name))
                continue
            field_names.append(name)
            column = field.get_col(model._meta.db_table)
            funcs = (
                *connection.ops.get_db_converters(column),
                *column.get_db_converters(connection),
            )
            if funcs:
                converters.append((index, funcs, column))
        missing = set(fields) - set(field_names)
        if missing:
            raise ValueError(f"the query must select every column of {model.__name__}: {missing}")
        # from_db takes a full row in the model's field order, which need not be the
        # table's column order (fields added by later migrations sit at its end).
        ordered = tuple(f.attname for f in model._meta.concrete_fields)
        cache[key] = _Plan(ordered, tuple(converters), tuple(extras))
    return cache[key]


def fetch_models(model: type[ModelT], sql: str, params: Sequence[Any]) -> list[ModelT]:
    """Instances of ``model`` from ``sql``, which selects all its columns (``t.*``) and maybe
    more; the extra columns become attributes, as with ``raw()``."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = tuple(col[0] for col in cursor.description)
        rows = cursor.fetchall()
    if not rows:
        return []
    plan = _plan(model, names)
    field_index = [names.index(n) for n in plan.field_names]
    result = []
    for raw in rows:
        row = list(raw)
        for index, funcs, column in plan.converters:
            for func in funcs:
                row[index] = func(row[index], column, connection)
        obj = model.from_db(connection.alias, plan.field_names, [row[i] for i in field_index])
        for index, name in plan.extras:
            setattr(obj, name, row[index])
        result.append(obj)
    return result


def fetch_model(model: type[ModelT], sql: str, params: Sequence[Any]) -> ModelT | None:
    found = fetch_models(model, sql, params)
    return found[0] if found else None
