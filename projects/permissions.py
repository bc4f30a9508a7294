"""The one place that decides who may do what in a project.

Roles
-----
Organization owners and admins manage every project of their organization (they count as
project managers there, member or not). Organization members without a project membership
see nothing of it. In a project:

=========== ====================================================================
manager     everything: settings, config, members, import, export, ML, webhooks,
            data manager actions, every task and every result
reviewer    every task and every result; annotates; edits and judges others' work
annotator   annotates the tasks handed to them (below); sees only those tasks, and
            with blind annotation (the project's default) only their own results
=========== ====================================================================

The annotator's level (junior, senior, expert) is data for routing and dashboards; it grants
one permission: experts (of any role) decide the tasks of quality's arbitration queue
(``may_arbitrate``). Agreement figures (quality) are for reviewers and managers.

Tasks handed to an annotator
----------------------------
An annotator sees a task of their project, by any path (API, pages, data manager, label
navigation), when one of these rows exists for the task and the user:

- a lease (``TaskLock``): next-task (or certification) handed it to them. The row stays
  after it expires and goes when they release the task or submit it (then their annotation
  keeps it visible);
- an assignment (``TaskAssignment``) made by a manager;
- an annotation by them (submitted or skipped: a skip is a cancelled annotation);
- a draft by them.

Every other task of the project is 404 to them, like an object of another project. Reviewers
and managers see every task (``Action.VIEW_ALL``).

Blind annotation
----------------
With ``Project.blind_annotation`` on (the default) an annotator never sees another user's
annotation: task detail, annotation lists and details, the data manager's review states and
agreement, similar tasks and entity suggestions of the labelling page all show their own work
only. Predictions stay visible. Drafts are always private to their author.

How it is checked
-----------------
Non-members never learn that an object exists: every lookup goes through the selectors,
which return nothing for them, and the API answers 404. Among members, the role decides
(403 when it does not allow the action). The role is computed in SQL next to the object it
guards (``role_annotations`` for the ORM, ``role_columns_sql`` for the plain-SQL hot paths),
so an API request checks access with the same query that loads the object; the task
visibility rule comes the same way (``task_visible_annotation`` / ``task_visible_sql``).
Tests compare the ORM and SQL forms on every combination.

This module must not import the ``tasks`` app (apps depend downwards only): the task-side
tables are named in SQL and reached with ``apps.get_model`` at call time.
"""

from __future__ import annotations

import posixpath
import re
from enum import StrEnum
from typing import Any

from django.apps import apps
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)

from annotator.models import User
from projects.models import (
    AnnotatorLevel,
    OrganizationMember,
    OrganizationRole,
    Project,
    ProjectMember,
    ProjectRole,
)


class Action(StrEnum):
    VIEW = "view"  # see the project and the tasks handed to them
    VIEW_ALL = "view_all"  # see every task of the project and everyone's results
    ANNOTATE = "annotate"  # submit, update own annotations and drafts, take next task
    REVIEW = "review"  # edit or judge others' annotations
    MANAGE = "manage"  # settings, config, import, export, delete, members, ML, webhooks


_ALLOWED: dict[str, set[Action]] = {
    ProjectRole.ANNOTATOR: {Action.VIEW, Action.ANNOTATE},
    ProjectRole.REVIEWER: {Action.VIEW, Action.VIEW_ALL, Action.ANNOTATE, Action.REVIEW},
    ProjectRole.MANAGER: set(Action),
}
_ADMIN_ROLES = (OrganizationRole.OWNER.value, OrganizationRole.ADMIN.value)


def role_allows(role: str | None, action: Action) -> bool:
    return role is not None and action in _ALLOWED[role]


def sees_all_tasks(role: str | None) -> bool:
    """Reviewers and managers see every task of the project; annotators their own."""
    return role_allows(role, Action.VIEW_ALL)


def member_level(*, project: Project, user: User) -> str | None:
    """The user's level in the project (None: not a member)."""
    return (
        ProjectMember.objects.filter(project=project, user=user).values_list("level", flat=True)
    ).first()


def may_arbitrate(*, role: str | None, level: str | None) -> bool:
    """Who decides escalated tasks (quality's arbitration queue): managers, and members of
    any role whose level is expert. An expert annotator sees the escalated tasks' results of
    every annotator there, blind annotation or not: comparing them is the job."""
    return role_allows(role, Action.MANAGE) or (role is not None and level == AnnotatorLevel.EXPERT)


def sees_others_work(role: str | None, project: Project) -> bool:
    """Whether the role sees other users' annotations (blind annotation hides them from
    annotators)."""
    return sees_all_tasks(role) or (role is not None and not project.blind_annotation)


# --- organizations and projects ----------------------------------------------------------------
def organization_visible_q(*, user: User) -> Q:
    """Organizations the user may see: those they belong to (any organization role)."""
    return Q(memberships__user=user)


def admin_organization_ids(*, user: User) -> QuerySet[OrganizationMember, int]:
    """Organizations the user owns or administers."""
    return OrganizationMember.objects.filter(user=user, role__in=_ADMIN_ROLES).values_list(
        "organization_id", flat=True
    )


def project_visible_q(*, user: User) -> Q:
    """Projects the user may see: their memberships, and every project of an organization
    they own or administer."""
    return Q(memberships__user=user) | Q(organization_id__in=admin_organization_ids(user=user))


def project_managed_q(*, user: User) -> Q:
    """Projects the user manages: as a manager, or as an organization owner or admin."""
    return Q(memberships__user=user, memberships__role=ProjectRole.MANAGER) | Q(
        organization_id__in=admin_organization_ids(user=user)
    )


def role_annotations(*, user: User, project_path: str = "") -> dict[str, Any]:
    """Expressions giving the user's membership role and organization-admin flag for the
    project at ``project_path`` ("" on Project itself, "project" on Task...)."""
    prefix = f"{project_path}__" if project_path else ""
    project_ref = OuterRef(f"{project_path}_id" if project_path else "pk")
    return {
        "access_member_role": Subquery(
            ProjectMember.objects.filter(project=project_ref, user=user).values("role")[:1]
        ),
        "access_org_admin": Exists(
            OrganizationMember.objects.filter(
                organization=OuterRef(f"{prefix}organization_id"),
                user=user,
                role__in=_ADMIN_ROLES,
            )
        ),
    }


def role_columns_sql(*, user: User, project_id_sql: str) -> tuple[str, list[Any]]:
    """``role_annotations`` in plain SQL, for the hot lookups that load their object with a
    raw query (next-task, submit): the same two columns, ``access_member_role`` and
    ``access_org_admin``, for the project whose id is the SQL expression ``project_id_sql``
    (a column of the outer query). A test checks both forms agree."""
    sql = (
        "(SELECT pm.role FROM projects_projectmember pm"  # nosec B608 # noqa: S608 (constant; values are parameters)
        f" WHERE pm.project_id = {project_id_sql} AND pm.user_id = %s) AS access_member_role,"
        " EXISTS (SELECT 1 FROM projects_organizationmember om"
        " JOIN projects_project rp ON rp.organization_id = om.organization_id"
        f" WHERE rp.id = {project_id_sql} AND om.user_id = %s AND om.role IN (%s, %s))"
        " AS access_org_admin"
    )
    return sql, [user.pk, user.pk, *_ADMIN_ROLES]


def with_role(queryset: QuerySet[Any], *, user: User, project_path: str = "") -> QuerySet[Any]:
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    return queryset.annotate(**role_annotations(user=user, project_path=project_path))


def effective_role(obj: Any) -> str | None:
    """The role read from an object loaded through ``with_role``: organization owners and
    admins manage every project of their organization."""
    if getattr(obj, "access_org_admin", False):
        return ProjectRole.MANAGER
    return getattr(obj, "access_member_role", None)


# --- tasks handed to an annotator (see the module docstring) -------------------------------
# (table, user column) of the rows that hand a task to a user; each has an index on
# (task, user) or (user, task).
_HANDED_BY = (
    ("tasks_tasklock", "user_id"),
    ("tasks_taskassignment", "user_id"),
    ("tasks_annotation", "completed_by_id"),
    ("tasks_draft", "user_id"),
)


def task_visible_sql(*, user: User, task_id_sql: str) -> tuple[str, list[Any]]:
    """The column ``access_task_visible`` for the task whose id is the SQL expression
    ``task_id_sql``: true when the task is handed to the user. Plain SQL for the hot lookups
    (submit); ``task_visible_annotation`` is the ORM form (a test checks they agree)."""
    checks = [
        f"EXISTS (SELECT 1 FROM {table} v{n} WHERE v{n}.task_id = {task_id_sql}"  # nosec B608 # noqa: S608 (constants)
        f" AND v{n}.{column} = %s)"
        for n, (table, column) in enumerate(_HANDED_BY)
    ]
    return f"({' OR '.join(checks)}) AS access_task_visible", [user.pk] * len(_HANDED_BY)


def handed_neighbours_sql(*, user: User, project_id: int, task_id: int) -> tuple[str, list[Any]]:
    """One row (previous, next): the ids of the tasks handed to the user in the project just
    before and after ``task_id``, for J/K. Read from the user's own rows of each table in
    ``_HANDED_BY`` (each indexed by user, or by task and user), never by walking the project's
    tasks: an annotator's few tasks in a project of millions cost what they are."""
    parts: list[str] = []
    params: list[Any] = []
    for n, (table, column) in enumerate(_HANDED_BY):
        parts.append(
            f"SELECT h{n}.task_id AS task_id FROM {table} h{n}"  # nosec B608 # noqa: S608 (constants)
            f" JOIN tasks_task ht{n} ON ht{n}.id = h{n}.task_id"
            f" WHERE h{n}.{column} = %s AND ht{n}.project_id = %s"
        )
        params += [user.pk, project_id]
    union = " UNION ALL ".join(parts)
    sql = (
        "SELECT MAX(CASE WHEN task_id < %s THEN task_id END),"  # nosec B608 # noqa: S608 (constants)
        f" MIN(CASE WHEN task_id > %s THEN task_id END) FROM ({union}) handed"
    )
    return sql, [task_id, task_id, *params]


def _handed_q(*, user: User, task_ref: Any) -> Q:
    models = {
        "tasks_tasklock": apps.get_model("tasks", "TaskLock"),
        "tasks_taskassignment": apps.get_model("tasks", "TaskAssignment"),
        "tasks_annotation": apps.get_model("tasks", "Annotation"),
        "tasks_draft": apps.get_model("tasks", "Draft"),
    }
    q = Q()
    for table, column in _HANDED_BY:
        user_field = column.removesuffix("_id")
        rows = models[table]._default_manager.filter(**{"task_id": task_ref, user_field: user})
        q |= Q(Exists(rows))
    return q


def task_visible_annotation(*, user: User, task_path: str = "") -> dict[str, Any]:
    """``access_task_visible`` as an ORM annotation for the task at ``task_path`` ("" on
    Task, "task" on Annotation and Prediction)."""
    task_ref = OuterRef(f"{task_path}_id" if task_path else "pk")
    handed = _handed_q(user=user, task_ref=task_ref)
    return {"access_task_visible": ExpressionWrapper(handed, output_field=BooleanField())}


def task_visible(obj: Any) -> bool:
    """Whether the task of ``obj`` (loaded with the role columns and either
    ``task_visible_sql`` or ``task_visible_annotation``) may be shown to the user."""
    return sees_all_tasks(effective_role(obj)) or bool(getattr(obj, "access_task_visible", False))


def task_scope_q(*, user: User, role: str | None) -> Q:
    """Filter on Task: the tasks of a project the user may see there (all of them for
    reviewers and managers, those handed to them for annotators)."""
    if sees_all_tasks(role):
        return Q()
    return _handed_q(user=user, task_ref=OuterRef("pk"))


def annotation_scope_q(*, user: User, role: str | None, project: Project) -> Q:
    """Filter on Annotation: whose annotations the user may see on a task they see."""
    if sees_others_work(role, project):
        return Q()
    return Q(completed_by=user)


def annotation_visible(*, annotation: Any, user: User, project: Project) -> bool:
    """An annotation loaded with the role and task-visibility columns: the user may see it
    when it is theirs, or when they see its task and others' work there."""
    if annotation.completed_by_id == user.pk:
        return True
    role = effective_role(annotation)
    return task_visible(annotation) and sees_others_work(role, project)


def productivity_user(*, user: User, role: str | None) -> int | None:
    """Whose productivity row the user may read: everyone's (None) for reviewers and
    managers, their own for annotators."""
    return None if sees_all_tasks(role) else user.pk


# --- media files ----------------------------------------------------------------------------
# Where each kind of stored file lives (tasks.services.transfers, annotator.services' demo)
# and what its project must allow. Any other path is served to nobody.
_MEDIA_RULES = (
    (re.compile(r"^projects/([0-9]{1,18})/"), "project", Action.VIEW),
    (re.compile(r"^demo/project-([0-9]{1,18})/"), "project", Action.VIEW),
    (re.compile(r"^exports/([0-9]{1,18})/"), "project", Action.MANAGE),
    (re.compile(r"^imports/([0-9]{1,18})/"), "import", Action.MANAGE),
)


def media_rule(*, path: str) -> tuple[int, Action] | None:
    """(project id, action the user needs there) for a local media path; None: no one.
    Task media (``projects/<id>/``) needs VIEW: an annotator of the project may load any of
    its files by exact name (names carry a random prefix), not only those of their tasks."""
    # Judged on the path ``serve`` will open: "projects/1/../2/x" is project 2's file. Any
    # dot segment or backslash is refused outright rather than interpreted.
    parts = path.replace("\\", "/").split("/")
    if "\\" in path or ".." in parts or "." in parts:
        return None
    path = posixpath.normpath(path).lstrip("/")
    for pattern, kind, action in _MEDIA_RULES:
        found = pattern.match(path)
        if found is None:
            continue
        ref = int(found.group(1))
        if kind == "project":
            return ref, action
        job = apps.get_model("tasks", "ImportJob")._default_manager.filter(pk=ref)
        project_id = job.values_list("project_id", flat=True).first()
        return (project_id, action) if project_id is not None else None
    return None
