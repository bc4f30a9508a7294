"""Model instances from plain SQL equal the ORM's, whatever the column order."""

import pytest
from django.db import connection

from annotator.rawsql import columns_of, fetch_model, fetch_models, prepared_cursor
from projects.models import Project
from tasks.models import Task
from tests.factories import make_project

pytestmark = pytest.mark.django_db


def _fields(obj):
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


def test_instances_equal_the_orms_with_converted_values_and_extra_columns():
    project = make_project(prediction_confidence_high=0.95)
    task = Task.objects.create(project=project, data={"text": "x", "n": [1, 2]}, meta={"k": True})
    got = fetch_model(Task, "SELECT t.*, 7 AS extra FROM tasks_task t WHERE t.id = %s", [task.pk])
    assert _fields(got) == _fields(Task.objects.get(pk=task.pk))
    assert got.data == {"text": "x", "n": [1, 2]} and got.is_labeled is False
    assert got.extra == 7
    assert got._state.adding is False


def test_columns_in_any_order_land_in_their_fields():
    project = make_project()
    names = [f.column for f in Project._meta.concrete_fields]
    shuffled = ", ".join(reversed(names))
    got = fetch_model(
        Project, f"SELECT {shuffled} FROM projects_project WHERE id = %s", [project.pk]
    )
    assert _fields(got) == _fields(Project.objects.get(pk=project.pk))


def test_missing_columns_are_refused_and_no_row_is_none():
    project = make_project()
    with pytest.raises(ValueError, match="every column"):
        fetch_models(Project, "SELECT id FROM projects_project WHERE id = %s", [project.pk])
    assert fetch_model(Project, "SELECT * FROM projects_project WHERE id = %s", [0]) is None


def test_a_related_object_comes_from_prefixed_columns_of_the_same_row():
    from annotator.rawsql import columns_as

    project = make_project()
    task = Task.objects.create(project=project, data={"text": "x"})
    sql = (
        f"SELECT t.*, {columns_as(Project, 'p', 'project__')}, 1 AS flag FROM tasks_task t"
        " JOIN projects_project p ON p.id = t.project_id WHERE t.id = %s"
    )
    for _ in range(2):  # the second run reuses the cached plan
        got = fetch_model(Task, sql, [task.pk], {"project": (Project, "project__")})
        assert _fields(got) == _fields(task.__class__.objects.get(pk=task.pk))
        assert _fields(got.project) == _fields(Project.objects.get(pk=project.pk))
        assert got.flag == 1


# --- prepared statements (PostgreSQL) ----------------------------------------------------------
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="server-side prepared statements are PostgreSQL's"
)


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@postgresql_only
def test_hot_statements_are_prepared_once_and_reused():
    project = make_project()
    task = Task.objects.create(project=project, data={"text": "x"})
    sql = f"SELECT {columns_of(Task, 't')} FROM tasks_task t WHERE t.id = %s AND 'hot' = 'hot'"
    for _ in range(3):
        assert fetch_model(Task, sql, [task.pk]).pk == task.pk
    mine = [s for s in _prepared_statements() if "'hot' = 'hot'" in s]
    assert len(mine) == 1 and "$1" in mine[0]


@postgresql_only
def test_prepared_statements_can_be_turned_off(settings):
    settings.DB_PREPARED_STATEMENTS = False
    project = make_project()
    sql = "SELECT id FROM projects_project WHERE id = %s AND 'cold' = 'cold'"
    with prepared_cursor() as cursor:
        cursor.execute(sql, [project.pk])
        assert cursor.fetchone() == (project.pk,)
    assert not [s for s in _prepared_statements() if "'cold' = 'cold'" in s]


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_prepared_query_survives_a_column_added_by_a_migration_elsewhere():
    """A server keeps running while another process migrates: its prepared statements must
    not break when a table gains a column (``t.*`` would, hence ``columns_of``)."""
    import psycopg

    project = make_project()
    task = Task.objects.create(project=project, data={"text": "x"})
    named = f"SELECT {columns_of(Task, 't')} FROM tasks_task t WHERE t.id = %s"
    star = "SELECT t.* FROM tasks_task t WHERE t.id = %s"
    fetch_model(Task, named, [task.pk])
    _run_prepared(star, task.pk)
    params = connection.get_connection_params()
    other = psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"})
    other.autocommit = True
    other.execute("ALTER TABLE tasks_task ADD COLUMN zz_added integer")
    try:
        assert fetch_model(Task, named, [task.pk]).pk == task.pk
        with pytest.raises(Exception, match="cached plan must not change result type"):
            _run_prepared(star, task.pk)
    finally:
        other.execute("ALTER TABLE tasks_task DROP COLUMN zz_added")
        other.close()


def _run_prepared(sql: str, pk: int) -> None:
    with prepared_cursor() as cursor:
        cursor.execute(sql, [pk])
        cursor.fetchall()


@postgresql_only
def test_logged_queries_keep_their_text():
    from django.test.utils import CaptureQueriesContext

    project = make_project()
    with CaptureQueriesContext(connection) as queries:
        fetch_model(Project, "SELECT * FROM projects_project WHERE id = %s", [project.pk])
    assert queries[0]["sql"] == f"SELECT * FROM projects_project WHERE id = {project.pk}"
