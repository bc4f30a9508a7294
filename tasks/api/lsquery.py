"""Label Studio's Data Manager parameters of ``GET /api/tasks``: ``query`` (a JSON document of
``filters``, ``ordering`` and ``selectedItems``), ``selected_items`` and ``include``.

Label Studio's SDK builds them with its ``Filters`` helper, e.g.::

    {"filters": {"conjunction": "and", "items": [{"filter": "filter:tasks:total_annotations",
     "operator": "greater", "type": "Number", "value": 0}]}, "ordering": ["-tasks:id"]}

Every filter, operator and ordering we do not know is a 400 naming it: a script must never
get the whole project back because a filter was silently dropped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet
from rest_framework.exceptions import ValidationError

from tasks.models import Task

# Label Studio's column -> our field, with the filter types it takes.
_NUMBER_COLUMNS = {
    "id": "id",
    "inner_id": "id",
    "total_annotations": "total_annotations",
    "cancelled_annotations": "cancelled_annotations",
    "total_predictions": "total_predictions",
    "predictions_score": "prediction_score",
    "priority": "priority",
    "overlap": "overlap",
}
_DATE_COLUMNS = {"created_at": "created_at", "updated_at": "updated_at"}
_BOOLEAN_COLUMNS = {"is_labeled": "is_labeled"}
_ORDERING = {
    **_NUMBER_COLUMNS,
    **_DATE_COLUMNS,
    **_BOOLEAN_COLUMNS,
}
_COMPARISONS = {
    "less": "lt",
    "greater": "gt",
    "less_or_equal": "lte",
    "greater_or_equal": "gte",
}


@dataclass(frozen=True)
class LsQuery:
    where: Q
    ordering: tuple[str, ...]  # ORM order_by terms, id last

    @property
    def by_id(self) -> bool:
        return self.ordering in (("id",), ())


def _fail(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def _column(name: Any, field: str) -> str:
    if not isinstance(name, str) or not name.startswith(("filter:tasks:", "tasks:")):
        raise _fail(field, f"unknown column {name!r}: expected 'filter:tasks:<column>'")
    return name.split("tasks:", 1)[1]


def _data_lookup(column: str) -> str:
    path = column.removeprefix("data.")
    if not path or not all(part.isidentifier() for part in path.split(".")):
        raise _fail("query", f"bad data column {column!r}")
    return "data__" + "__".join(path.split("."))


def _item_q(item: Any, index: int) -> Q:
    field = f"query.filters.items[{index}]"
    if not isinstance(item, dict):
        raise _fail(field, "each filter is an object with filter, operator and value")
    column = _column(item.get("filter"), field)
    operator = item.get("operator")
    value = item.get("value")
    if column.startswith("data."):
        lookup = _data_lookup(column)
        return _string_q(lookup, operator, value, field)
    if column in _NUMBER_COLUMNS or column in _DATE_COLUMNS:
        lookup = _NUMBER_COLUMNS.get(column) or _DATE_COLUMNS[column]
        return _ordered_q(lookup, operator, value, field)
    if column in _BOOLEAN_COLUMNS:
        if operator != "equal" or not isinstance(value, bool):
            raise _fail(field, f"{column} takes operator 'equal' with true or false")
        return Q(**{_BOOLEAN_COLUMNS[column]: value})
    known = sorted([*_NUMBER_COLUMNS, *_DATE_COLUMNS, *_BOOLEAN_COLUMNS, "data.<field>"])
    raise _fail(field, f"unsupported filter column {column!r}; supported: {', '.join(known)}")


def _ordered_q(lookup: str, operator: Any, value: Any, field: str) -> Q:
    if operator == "empty":
        if not isinstance(value, bool):
            raise _fail(field, "operator 'empty' takes true or false")
        return Q(**{f"{lookup}__isnull": value})
    if operator in ("in", "not_in"):
        if not isinstance(value, dict) or "min" not in value or "max" not in value:
            raise _fail(field, f"operator {operator!r} takes {{'min': ..., 'max': ...}}")
        inside = Q(**{f"{lookup}__gte": value["min"], f"{lookup}__lte": value["max"]})
        return inside if operator == "in" else ~inside
    if value is None or isinstance(value, (dict, list)):
        raise _fail(field, f"operator {operator!r} needs a single value")
    if operator == "equal":
        return Q(**{lookup: value})
    if operator == "not_equal":
        return ~Q(**{lookup: value})
    if operator in _COMPARISONS:
        return Q(**{f"{lookup}__{_COMPARISONS[operator]}": value})
    raise _fail(field, f"unsupported operator {operator!r} for this column")


def _string_q(lookup: str, operator: Any, value: Any, field: str) -> Q:
    if operator == "empty":
        if not isinstance(value, bool):
            raise _fail(field, "operator 'empty' takes true or false")
        blank = Q(**{f"{lookup}__isnull": True}) | Q(**{lookup: ""})
        return blank if value else ~blank
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise _fail(field, f"operator {operator!r} needs a text or number value")
    if operator == "equal":
        return Q(**{lookup: value})
    if operator == "not_equal":
        return ~Q(**{lookup: value})
    if operator == "contains":
        return Q(**{f"{lookup}__icontains": str(value)})
    if operator == "not_contains":
        return ~Q(**{f"{lookup}__icontains": str(value)})
    raise _fail(field, f"unsupported operator {operator!r} for a data column")


def _filters_q(filters: Any) -> Q:
    if filters is None:
        return Q()
    if not isinstance(filters, dict):
        raise _fail("query.filters", "expected an object with conjunction and items")
    conjunction = filters.get("conjunction", "and")
    if conjunction not in ("and", "or"):
        raise _fail("query.filters.conjunction", "expected 'and' or 'or'")
    items = filters.get("items", [])
    if not isinstance(items, list):
        raise _fail("query.filters.items", "expected a list")
    where = Q()
    for index, item in enumerate(items):
        q = _item_q(item, index)
        where = (where & q) if conjunction == "and" or not where else (where | q)
    return where


def _selected_q(selected: Any, field: str) -> Q:
    if selected is None:
        return Q()
    if not isinstance(selected, dict) or not isinstance(selected.get("all"), bool):
        raise _fail(
            field, "expected {'all': true, 'excluded': [...]} or {'all': false, 'included': [...]}"
        )
    key = "excluded" if selected["all"] else "included"
    ids = selected.get(key, [])
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        raise _fail(field, f"'{key}' must be a list of task ids")
    return ~Q(pk__in=ids) if selected["all"] else Q(pk__in=ids)


def _ordering(ordering: Any) -> tuple[str, ...]:
    if ordering in (None, []):
        return ("id",)
    if not isinstance(ordering, list) or len(ordering) != 1 or not isinstance(ordering[0], str):
        raise _fail("query.ordering", "expected one column, e.g. ['-tasks:id']")
    term = ordering[0]
    descending = term.startswith("-")
    column = _column(term.lstrip("-"), "query.ordering")
    if column not in _ORDERING:
        raise _fail(
            "query.ordering", f"cannot sort by {column!r}; sortable: {', '.join(sorted(_ORDERING))}"
        )
    name = _ORDERING[column]
    if name == "id":
        return ("-id",) if descending else ("id",)
    expression = F(name).desc(nulls_last=True) if descending else F(name).asc(nulls_last=True)
    return (expression, "-id" if descending else "id")  # type: ignore[return-value]


def ls_query_parse(query: str | None, selected_items: str | None) -> LsQuery:
    """Parse the ``query`` and ``selected_items`` parameters (JSON text)."""
    document: dict[str, Any] = {}
    if query:
        try:
            document = json.loads(query)
        except ValueError as exc:
            raise _fail("query", f"not valid JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise _fail("query", "expected a JSON object with filters, ordering, selectedItems")
    where = _filters_q(document.get("filters")) & _selected_q(
        document.get("selectedItems"), "query.selectedItems"
    )
    if selected_items:
        try:
            selected = json.loads(selected_items)
        except ValueError as exc:
            raise _fail("selected_items", f"not valid JSON: {exc}") from exc
        where &= _selected_q(selected, "selected_items")
    return LsQuery(where=where, ordering=_ordering(document.get("ordering")))


def ls_query_apply(tasks: QuerySet[Task], parsed: LsQuery) -> QuerySet[Task]:
    return tasks.filter(parsed.where).order_by(*parsed.ordering)


def include_fields(rows: list[dict[str, Any]], include: str | None) -> list[dict[str, Any]]:
    """``include=id,data``: only those keys of each task (``id`` always)."""
    if not include:
        return rows
    wanted = {name.strip() for name in include.split(",") if name.strip()} | {"id"}
    return [{k: v for k, v in row.items() if k in wanted} for row in rows]
