"""A project's config may change only in ways its stored annotations still fit: a control or
a label that annotations use cannot disappear (Label Studio refuses such a change too).

What the annotations use is summed up by the database (one grouped query over the project's
results, whatever their number), then compared with the new config in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from projects.labelconfig import LabelConfig
from projects.labelconfig.schema import LabelDef
from projects.models import Project

# Result types whose value lists option values under the type's own key
# ({"type": "labels", "value": {"labels": ["PER"]}}); taxonomy paths and free values are not
# options of the config.
_PG_USAGE = """
SELECT r->>'from_name', r->>'type', v.label, COUNT(DISTINCT a.id)
FROM tasks_annotation a
CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(a.result) = 'array' THEN a.result ELSE '[]'::jsonb END) r
LEFT JOIN LATERAL (
    SELECT jsonb_array_elements_text(r->'value'->(r->>'type')) AS label
    WHERE (r->>'type' = 'choices' OR r->>'type' LIKE '%%labels')
      AND jsonb_typeof(r->'value'->(r->>'type')) = 'array'
) v ON true
WHERE a.project_id = %s
GROUP BY 1, 2, 3
"""
_SQLITE_USAGE = """
SELECT json_extract(r.value, '$.from_name'), json_extract(r.value, '$.type'), v.value,
       COUNT(DISTINCT a.id)
FROM tasks_annotation a
JOIN json_each(CASE WHEN json_type(a.result) = 'array' THEN a.result ELSE '[]' END) r
LEFT JOIN json_each(
    CASE WHEN (json_extract(r.value, '$.type') = 'choices'
               OR json_extract(r.value, '$.type') LIKE '%%labels')
          AND json_type(r.value, '$.value.' || json_extract(r.value, '$.type')) = 'array'
    THEN json_extract(r.value, '$.value.' || json_extract(r.value, '$.type')) ELSE '[]' END) v
WHERE a.project_id = %s
GROUP BY 1, 2, 3
"""


@dataclass(frozen=True)
class LabelUse:
    control: str | None
    type: str | None
    label: str | None  # None: the row counts the control's use, not one option
    annotations: int


def annotation_label_usage(*, project_id: int) -> list[LabelUse]:
    """Every (control, result type, option value) the project's annotations use, with how
    many annotations use it."""
    sql = _PG_USAGE if connection.vendor == "postgresql" else _SQLITE_USAGE
    with connection.cursor() as cursor:
        cursor.execute(sql, [project_id])
        return [LabelUse(*row) for row in cursor.fetchall()]


def _option_values(options: list[LabelDef] | tuple[LabelDef, ...]) -> set[str]:
    values: set[str] = set()
    for option in options:
        values |= option.result_values | _option_values(option.children)
    return values


def config_fits_annotations(project: Project, config: LabelConfig) -> list[str]:
    """What the project's annotations use that ``config`` lacks, one message each."""
    problems: list[str] = []
    control_counts: dict[tuple[str | None, str | None], int] = {}
    for use in annotation_label_usage(project_id=project.pk):
        key = (use.control, use.type)
        control_counts[key] = max(control_counts.get(key, 0), use.annotations)
        control = config.controls.get(use.control or "")
        if control is None or use.label is None or control.has_dynamic_labels:
            continue
        if use.type in control.result_types and use.label not in _option_values(control.labels):
            problems.append(
                f"label '{use.label}' of '{use.control}' is used by {use.annotations}"
                " annotation(s) and missing from the new config"
            )
    for (name, result_type), count in control_counts.items():
        control = config.controls.get(name or "")
        if control is None:
            problems.append(
                f"control '{name}' is used by annotations (at least {count}) and missing from"
                " the new config"
            )
        elif result_type not in control.result_types:
            problems.append(
                f"control '{name}' now takes {sorted(control.result_types)} results, but"
                f" annotations (at least {count}) hold '{result_type}' results"
            )
    return problems
