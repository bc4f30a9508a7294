"""The permission matrix: every API route and every page, for every role and method.

The routes are walked from the URL resolver: a new endpoint without an entry in MATRIX (or
PAGES) fails ``test_every_route_has_a_matrix_entry``. Each request runs in a savepoint that
is rolled back, so a DELETE allowed to one role leaves the world intact for the next.

Roles: the organization's owner and an admin of it (neither a project member), the project's
manager, reviewer and (junior) annotator, anonymous, and the owner of another organization.
Allowed means the permission check passed: any answer but 401, 403, 404 (or a 500). Denied
is 401 for anonymous, 404 for whoever is not a member (and for members the object is hidden
from: drafts of others, tasks not handed to an annotator), 403 for a member whose role lacks
the action. A denied answer never carries the object's data: each world plants unique
markers in its project, tasks, annotations and predictions and the bodies are searched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.services import invitation_create
from annotator.asgi import application
from annotator.services import api_token_create
from mlserve.models import MLBackend, ModelVersion
from projects.models import OrganizationMember, Project, Webhook, WebhookDelivery
from tasks.models import (
    Draft,
    ExportJob,
    ImportJob,
    Prediction,
    S3ExportStorage,
    S3ImportStorage,
    TaskAssignment,
)
from tasks.services import annotation_create, tasks_import
from tests.factories import NER_CONFIG, add_member, choice, make_organization, make_user

OWNER, ORG_ADMIN, MANAGER, REVIEWER = "owner", "org_admin", "manager", "reviewer"
ANNOTATOR, ANON, OUTSIDER = "annotator", "anonymous", "outsider"
ROLES = (OWNER, ORG_ADMIN, MANAGER, REVIEWER, ANNOTATOR, ANON, OUTSIDER)
MANAGERS = frozenset({OWNER, ORG_ADMIN, MANAGER})
SEE_ALL = MANAGERS | {REVIEWER}
MEMBERS = SEE_ALL | {ANNOTATOR}
SIGNED_IN = MEMBERS | {OUTSIDER}
EVERYONE = SIGNED_IN | {ANON}

CONFIG = NER_CONFIG.replace(
    "</View>", '  <TextArea name="comment" toName="text" maxSubmissions="1"/>\n</View>'
)


@dataclass(frozen=True)
class Rule:
    """Who passes the check. ``hidden``: members who get 404 instead of 403 (the object is
    not theirs to know about). ``scoped``: the request names the project (path, query or
    body), so a non-member gets 404; unscoped routes serve every signed-in user their own."""

    allowed: frozenset[str]
    hidden: frozenset[str] = frozenset()
    scoped: bool = True


def r(allowed, hidden=frozenset(), scoped=True) -> Rule:
    return Rule(frozenset(allowed), frozenset(hidden), scoped)


PUBLIC = r(EVERYONE, scoped=False)
ANY_USER = r(SIGNED_IN, scoped=False)
VIEW = r(MEMBERS)
ANNOTATE = r(MEMBERS)
MANAGE = r(MANAGERS)
# Organization-level objects: its owner and admins; project members do not learn of them.
ORG_ONLY = r({OWNER, ORG_ADMIN}, hidden={MANAGER, REVIEWER, ANNOTATOR})

# url name -> method -> Rule. A route missing here fails the test below.
MATRIX: dict[str, dict[str, Rule]] = {
    "api-schema": {"get": PUBLIC},  # the API's shape, no data
    "api-docs": {"get": PUBLIC},
    "version": {"get": ANY_USER},
    "current-user": {"get": ANY_USER},
    "current-user-whoami": {"get": ANY_USER},
    "current-user-token": {"get": ANY_USER},
    "current-user-reset-token": {"post": ANY_USER},
    "organization-list": {"get": ANY_USER},
    # Organization rows are for its members (owner, admin); project members are not.
    "organization-detail": {"get": ORG_ONLY},
    "project-list": {"get": ANY_USER, "post": ANY_USER},
    "config-validate": {"post": ANY_USER},
    "project-detail": {"get": VIEW, "put": MANAGE, "patch": MANAGE, "delete": MANAGE},
    "project-validate": {"post": VIEW},
    "project-members": {"get": VIEW, "post": MANAGE},
    "project-member-detail": {"delete": MANAGE},
    "webhook-list": {"get": ANY_USER, "post": MANAGE},
    "webhook-info": {"get": ANY_USER},
    "webhook-detail": {
        m: r(MANAGERS, hidden={REVIEWER, ANNOTATOR}) for m in ("get", "put", "patch", "delete")
    },
    "webhook-deliveries": {"get": r(MANAGERS, hidden={REVIEWER, ANNOTATOR})},
    "webhook-redeliver": {"post": r(MANAGERS, hidden={REVIEWER, ANNOTATOR})},
    "task-list": {"get": VIEW, "post": MANAGE},
    "task-detail": {"get": VIEW, "patch": MANAGE, "delete": MANAGE},
    "task-annotations": {"get": VIEW, "post": ANNOTATE},
    "task-drafts": {"get": VIEW, "post": ANNOTATE},
    "task-skip": {"post": ANNOTATE},
    "task-lock": {"post": ANNOTATE, "delete": ANNOTATE},
    # The annotator's own annotation: theirs to change; reviewers and managers change anyone's.
    "annotation-detail": {"get": VIEW, "put": ANNOTATE, "patch": ANNOTATE, "delete": ANNOTATE},
    # The annotator's draft: private to them, hidden from everyone else.
    "draft-detail": {m: r({ANNOTATOR}, hidden=SEE_ALL) for m in ("get", "patch", "delete")},
    "prediction-list": {"get": VIEW, "post": MANAGE},
    "prediction-detail": {"get": VIEW, "put": MANAGE, "patch": MANAGE, "delete": MANAGE},
    "project-tasks": {"get": VIEW, "delete": MANAGE},
    "project-next": {"get": ANNOTATE},
    "project-import": {"post": MANAGE},
    "project-import-predictions": {"post": MANAGE},
    "project-import-job": {"get": MANAGE},
    "project-import-retry": {"post": MANAGE},
    "project-export": {"get": MANAGE},
    "project-export-formats": {"get": VIEW},
    "project-exports": {"get": MANAGE, "post": MANAGE},
    "project-export-job": {"get": MANAGE},
    "project-export-retry": {"post": MANAGE},
    "project-export-download": {"get": MANAGE},
    "project-data": {"get": VIEW},
    "project-data-count": {"get": VIEW},
    "project-data-next-after": {"get": VIEW},
    "data-assign": {"post": MANAGE},
    "data-label": {"post": MANAGE},
    "data-delete": {"post": MANAGE},
    "data-review": {"post": MANAGE},
    "data-retrain": {"post": MANAGE},
    "task-label": {"get": ANNOTATE},
    "task-label-submit": {"post": ANNOTATE},
    "task-label-skip": {"post": ANNOTATE},
    "task-label-draft": {"post": ANNOTATE},
    "task-label-similar": {"get": ANNOTATE},
    "task-label-entities": {"get": ANNOTATE},
    "project-label-next": {"get": ANNOTATE},
    "project-label-progress": {"get": ANNOTATE},
    "project-productivity": {"get": VIEW},  # annotators: their own row
    "project-certification": {"get": ANNOTATE},  # the caller's own
    "ml-list": {"get": VIEW, "post": MANAGE},
    "ml-detail": {"get": VIEW, "put": MANAGE, "patch": MANAGE, "delete": MANAGE},
    "ml-train": {"post": MANAGE},
    "ml-predict": {"post": MANAGE},
    # Our built-in models over the ML-backend protocol (/api/ml-backend/<project>/...): a
    # member may check and predict; the webhook can start a training run.
    "ml-serve-health": {"get": VIEW},
    "ml-serve-setup": {"post": VIEW},
    "ml-serve-predict": {"post": VIEW},
    "ml-serve-webhook": {"post": MANAGE},
    # A user's own API tokens; the world's token is the annotator's, hidden from the others.
    "api-token-list": {"get": ANY_USER, "post": ANY_USER},
    "api-token-detail": {
        m: r({ANNOTATOR}, hidden=SIGNED_IN - {ANNOTATOR}) for m in ("get", "delete")
    },
    "api-token-rotate": {"post": r({ANNOTATOR}, hidden=SIGNED_IN - {ANNOTATOR})},
    "project-audit": {"get": MANAGE},
    "project-audit-export": {"get": MANAGE},
    "organization-audit": {"get": ORG_ONLY},
    "organization-audit-export": {"get": ORG_ONLY},
    "project-invites": {"get": MANAGE, "post": MANAGE},
    "project-invite-detail": {"delete": MANAGE},
    "organization-invites": {"get": ORG_ONLY, "post": ORG_ONLY},
    "organization-invite-detail": {"delete": ORG_ONLY},
    "model-versions": {"get": VIEW, "post": MANAGE},
    "model-version-detail": {"get": VIEW},
    "model-version-activate": {"post": MANAGE},
    "model-version-retry": {"post": MANAGE},
    "ml-settings": {"get": VIEW, "put": MANAGE},
    "queue": {"get": VIEW, "patch": MANAGE},
    "queue-refresh": {"post": MANAGE},
    "learning": {"get": VIEW},
    # Agreement and quality settings: reviewers and managers (annotators are not told which
    # tasks overlap); the arbitration queue: managers and expert members (the world's
    # reviewer and annotator are juniors: tests/quality/test_api_arbitration.py has experts).
    "agreement": {"get": r(SEE_ALL)},
    "agreement-refresh": {"post": MANAGE},
    "quality-settings": {"get": r(SEE_ALL), "put": MANAGE},
    "arbitration": {"get": MANAGE},
    "arbitration-resolve": {"post": MANAGE},
    # Cloud storage connections: managers only (they hold bucket credentials).
    "storage-s3-list": {"get": MANAGE, "post": MANAGE},
    "storage-s3-validate": {"post": MANAGE},
    "storage-s3-detail": {"get": MANAGE, "patch": MANAGE, "delete": MANAGE},
    "storage-s3-sync": {"post": MANAGE},
    "storage-export-s3-list": {"get": MANAGE, "post": MANAGE},
    "storage-export-s3-validate": {"post": MANAGE},
    "storage-export-s3-detail": {"get": MANAGE, "patch": MANAGE, "delete": MANAGE},
    "storage-export-s3-sync": {"post": MANAGE},
    # Quality workflow: gold marks and review decisions judge others' work; the dashboards
    # show everyone's results; routing rewrites tasks.
    "annotation-ground-truth": {"post": r(SEE_ALL), "delete": r(SEE_ALL)},
    "annotation-review": {"post": r(SEE_ALL)},
    "project-review-queue": {"get": r(SEE_ALL)},
    "project-routing": {"post": MANAGE},
    "project-dashboard": {"get": r(SEE_ALL)},
    "project-dashboard-annotator": {"get": r(SEE_ALL)},
    "project-dashboard-csv": {"get": r(SEE_ALL)},
}
# The catch-all JSON 404 of /api/ (checked by tests/tasks/test_api_access.py); invitations
# are accepted by key, not by id (tests/accounts/test_invites.py).
NOT_IN_MATRIX = {"api-not-found", "invite-accept"}

# Pages (url name -> Rule for GET). Denied pages: anonymous is sent to the login page (302),
# members without the role get 403, others 404.
PAGES: dict[str, Rule] = {
    "health": PUBLIC,
    "health-live": PUBLIC,
    "health-ready": PUBLIC,
    # Operators' scrape target: open unless METRICS_TOKEN is set (tests/annotator/
    # test_observability.py checks the token); it names views and counts, never objects.
    "metrics": PUBLIC,
    "accounts:tokens": ANY_USER,
    "accounts:project-invites": MANAGE,
    "accounts:project-audit": MANAGE,
    "activelearn:learning": VIEW,
    "quality:arbitration": MANAGE,  # and expert members
    "quality:review": r(SEE_ALL),
    "quality:dashboard": r(SEE_ALL),
    "projects:list": ANY_USER,
    "projects:detail": VIEW,
    "data-manager": VIEW,
    "label": ANNOTATE,
    "label-task": ANNOTATE,
    "media": VIEW,  # a file of the project's task media
}
# Sign-out answers POST only (Django 5); the admin has its own test below; allauth's own pages
# (sign-in, sign-up, password and email; single sign-on's login, callback, ACS and metadata
# steps and its sign-up and connections pages) show no project data and invitation links go
# by key: tests/accounts covers them (test_sso_oidc.py, test_sso_saml.py for SSO).
PAGES_NOT_IN_MATRIX = {"logout", "account_logout", "accounts:invite"}
PAGE_PREFIXES_NOT_IN_MATRIX = ("account_", "socialaccount_", "openid_connect_", "saml_")


def _walk(patterns, prefix="", namespace=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            inner = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from _walk(p.url_patterns, prefix + str(p.pattern), inner)
        elif isinstance(p, URLPattern):
            name = f"{namespace}{p.name}" if p.name else None
            yield prefix + str(p.pattern), name, p.callback


def _routes() -> dict[str, tuple[str, Any]]:
    """url name -> (route, view) of every route outside the admin; the unnamed trailing-slash
    twin of an API route is the same view."""
    found: dict[str, tuple[str, Any]] = {}
    for route, name, callback in _walk(get_resolver().url_patterns):
        if route.startswith("admin/") or name is None:
            continue
        found.setdefault(name, (route, callback))
    return found


def _api_methods(view) -> list[str]:
    cls = getattr(view, "view_class", None)
    return [m for m in ("get", "post", "put", "patch", "delete") if cls and hasattr(cls, m)]


@pytest.mark.django_db
def test_every_route_has_a_matrix_entry():
    routes = _routes()
    api = {n for n, (route, _) in routes.items() if route.startswith("api/")}
    pages = set(routes) - api
    assert sorted(api - set(MATRIX) - NOT_IN_MATRIX) == [], "API routes without a matrix entry"
    assert sorted(set(MATRIX) - api) == [], "matrix entries without a route"
    unlisted = pages - set(PAGES) - PAGES_NOT_IN_MATRIX
    unlisted = {n for n in unlisted if not n.startswith(PAGE_PREFIXES_NOT_IN_MATRIX)}
    assert sorted(unlisted) == [], "pages without an entry"
    for name, methods in MATRIX.items():
        assert sorted(methods) == sorted(_api_methods(routes[name][1])), name


# --- the world --------------------------------------------------------------------------------
@dataclass
class World:
    """One organization's project with its objects, each carrying ``mark``."""

    mark: str
    users: dict[str, Any] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)


def _build(mark: str, media_root) -> World:
    world = World(mark=mark)
    owner = make_user()
    org = make_organization(owner, title=f"org {mark}")
    org_admin = make_user()
    OrganizationMember.objects.create(organization=org, user=org_admin, role="admin")
    manager, reviewer, annotator = make_user(), make_user(), make_user()
    from projects.services import project_create

    project = project_create(
        organization=org, title=f"project {mark}", created_by=manager, label_config=CONFIG
    )
    add_member(project, reviewer, "reviewer")
    add_member(project, annotator, "annotator")
    task_ids = tasks_import(
        project=project,
        items=[
            {"text": f"Alice handed {mark}"},
            {"text": f"Bob hidden {mark}-HIDDEN-TASK"},
            {"text": f"Carol free {mark}"},
        ],
        user=None,
    ).task_ids
    handed, hidden, free = task_ids
    task = project.tasks.get
    TaskAssignment.objects.create(project=project, task_id=handed, user=annotator)
    own = annotation_create(task=task(pk=handed), user=annotator, result=[choice()])
    others = [{"from_name": "comment", "to_name": "text", "type": "textarea",
               "value": {"text": [f"{mark}-OTHERS-RESULT"]}}]  # fmt: skip
    theirs = annotation_create(task=task(pk=handed), user=reviewer, result=others)
    annotation_create(task=task(pk=hidden), user=manager, result=others)
    prediction = Prediction.objects.create(
        task_id=handed, project=project, result=[choice()], model_version=f"{mark}-model"
    )
    hidden_prediction = Prediction.objects.create(
        task_id=hidden, project=project, result=[choice()], model_version=f"{mark}-HIDDEN-TASK"
    )
    draft = Draft.objects.create(task_id=handed, user=annotator, result=[], notes=mark)
    import_job = ImportJob.objects.create(project=project, created_by=manager, sources=[mark])
    export_job = ExportJob.objects.create(project=project, export_type="JSON", error=mark)
    backend = MLBackend.objects.create(project=project, url="http://ml.example.com", title=mark)
    webhook = Webhook.objects.create(
        organization=org, project=project, url=f"http://hook.example.com/{mark}"
    )
    delivery = WebhookDelivery.objects.create(
        webhook=webhook, action="PROJECT_UPDATED", payload={"mark": mark}
    )
    token = api_token_create(user=annotator, name=f"{mark}-token").token
    # A loopback endpoint: refused before any connection (tests do not reach the network).
    bucket = {"bucket": "matrix-bucket", "s3_endpoint": "http://127.0.0.1:9", "title": mark}
    source = S3ImportStorage.objects.create(project=project, **bucket)
    target = S3ExportStorage.objects.create(project=project, **bucket)
    version = ModelVersion.objects.create(
        project=project, control="intent", kind="intent", number=1, name=f"{mark}-intent-v1"
    )
    invite = {"invited_by": manager, "organization": org, "base_url": "http://testserver"}
    project_invite = invitation_create(email=f"p@{mark}.example.com", project=project, **invite)
    org_invite = invitation_create(email=f"o@{mark}.example.com", **{**invite, "invited_by": owner})
    folder = media_root / "projects" / str(project.pk) / "media"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "picture.png").write_text(mark)
    world.users = {
        OWNER: owner, ORG_ADMIN: org_admin, MANAGER: manager, REVIEWER: reviewer,
        ANNOTATOR: annotator,
    }  # fmt: skip
    world.ids = {
        "projects": project.pk, "organizations": org.pk, "tasks": handed,
        "hidden_task": hidden, "free_task": free, "annotations": own.pk,
        "others_annotation": theirs.pk, "predictions": prediction.pk,
        "hidden_prediction": hidden_prediction.pk, "drafts": draft.pk,
        "import_id": import_job.pk, "export_id": export_job.pk, "ml": backend.pk,
        "webhooks": webhook.pk, "user_id": annotator.pk, "current-user": token.pk,
        "invite_id": project_invite.invitation.pk, "org_invite_id": org_invite.invitation.pk,
        "version_id": version.pk, "ml-backend": project.pk, "delivery": delivery.pk,
        "storages": source.pk, "export_storages": target.pk,
    }  # fmt: skip
    return world


@pytest.fixture
def worlds(media_root):
    home = _build("HOME-MARK", media_root)
    foreign = _build("FOREIGN-MARK", media_root)
    # The outsider owns an organization and a project of their own.
    outsider = make_user()
    from projects.services import project_create

    project_create(organization=make_organization(outsider), title="mine", created_by=outsider)
    home.users[OUTSIDER] = outsider
    return home, foreign


# --- requests -------------------------------------------------------------------------------
def _body(name: str, ids: dict[str, int]) -> Any:
    selection = {"selection": {"ids": [ids["tasks"]]}}
    bucket = {
        "project": ids["projects"],
        "bucket": "matrix-bucket",
        "s3_endpoint": "http://127.0.0.1:9",
    }
    bodies: dict[str, Any] = {
        "project-list": {"title": "new"},
        "config-validate": {"label_config": CONFIG},
        "project-validate": {"label_config": CONFIG},
        "project-detail": {"title": "renamed"},
        "project-members": {"user": ids["user_id"], "role": "reviewer", "level": "senior"},
        "webhook-list": {"project": ids["projects"], "url": "http://127.0.0.1:9/hook"},
        "webhook-detail": {"is_active": False},
        "task-list": {"project": ids["projects"], "data": {"text": "new"}},
        "task-detail": {"priority": 2.0},
        "prediction-list": {"task": ids["tasks"], "result": []},
        "prediction-detail": {"score": 0.5},
        "project-import": [{"text": "imported"}],
        "project-import-predictions": [],
        "project-exports": {"exportType": "JSON"},
        "data-assign": {**selection, "user": ids["user_id"]},
        "data-label": {**selection, "from_name": "intent", "value": "ask"},
        "data-delete": selection,
        "data-review": selection,
        "data-retrain": selection,
        "ml-list": {"project": ids["projects"], "url": "http://127.0.0.1:9/"},
        "ml-detail": {"title": "renamed"},
        "api-token-list": {"name": "script"},
        "project-invites": {"email": "new@example.com", "role": "annotator"},
        "organization-invites": {"email": "new@example.com", "role": "member"},
        "model-versions": {"control": "intent"},
        "ml-settings": {"retrain_every": 0},
        "queue": {"batch_size": 50},
        "quality-settings": {"agreement_threshold": 0.4},
        "storage-s3-list": bucket,
        "storage-s3-validate": bucket,
        "storage-export-s3-list": bucket,
        "storage-export-s3-validate": bucket,
        "storage-s3-detail": {"title": "renamed"},
        "storage-export-s3-detail": {"title": "renamed"},
    }
    return bodies.get(name, {"result": []})


def _query(name: str, ids: dict[str, int]) -> str:
    project = ids["projects"]
    return {
        "task-list": f"?project={project}",
        "prediction-list": f"?project={project}",
        "ml-list": f"?project={project}",
        "webhook-list": f"?project={project}",
        "storage-s3-list": f"?project={project}",
        "storage-export-s3-list": f"?project={project}",
        "project-export": "?exportType=JSON",
        "project-data-next-after": f"?task={ids['tasks']}",
    }.get(name, "")


def _url(route: str, ids: dict[str, int]) -> str:
    resource = route.split("/")[1] if route.startswith("api/") else ""
    if resource == "organizations":
        route = route.replace("<id:invite_id>", str(ids["org_invite_id"]))
    if route.startswith("api/storages/export/"):
        route = route.replace("<id:pk>", str(ids["export_storages"]))
    for name in ("user_id", "import_id", "export_id", "invite_id", "version_id", "delivery"):
        route = route.replace(f"<id:{name}>", str(ids[name]))
    route = route.replace("<id:pk>", str(ids.get(resource, 0)))
    route = route.replace("<int:project_id>", str(ids["projects"]))
    route = route.replace("<int:task_id>", str(ids["tasks"]))
    route = route.replace("<id:task_id>", str(ids["tasks"]))
    route = route.replace("<path:path>", f"projects/{ids['projects']}/media/picture.png")
    return "/" + route


def _api_client(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user=user)
    return client


def _call(client, method: str, url: str, body: Any = None):
    """One request in a savepoint that is rolled back (the world stays as built)."""
    with transaction.atomic():
        if isinstance(client, APIClient):
            response = getattr(client, method)(url, body, format="json")
        else:
            response = client.get(url)
        transaction.set_rollback(True)
    return response


def _text(response) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def _expected(rule: Rule, role: str) -> str:
    if role in rule.allowed:
        return "allowed"
    if role == ANON:
        return "401"
    if role in rule.hidden or role == OUTSIDER or role not in MEMBERS:
        return "404"
    return "403"


def _outcome(status: int) -> str:
    if status >= 500:
        return f"server error {status}"
    if status in (401, 403, 404):
        return str(status)
    return "allowed"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_api_matrix(worlds, role):
    home, _foreign = worlds
    client = _api_client(home.users.get(role))
    routes = _routes()
    wrong = []
    for name, methods in MATRIX.items():
        route = routes[name][0]
        for method, rule in methods.items():
            url = _url(route, home.ids) + _query(name, home.ids)
            response = _call(client, method, url, _body(name, home.ids))
            got, want = _outcome(response.status_code), _expected(rule, role)
            if not rule.scoped and role == OUTSIDER and want == "404":
                want = "allowed"
            if got != want:
                wrong.append(f"{method.upper()} {url}: {got}, expected {want}")
            text = _text(response)
            if (want != "allowed" or role in (OUTSIDER, ANON)) and home.mark in text:
                wrong.append(f"{method.upper()} {url}: {role} read the object's data")
            if role == ANNOTATOR and ("HIDDEN-TASK" in text or "OTHERS-RESULT" in text):
                wrong.append(f"{method.upper()} {url}: the annotator read hidden work")
    assert wrong == []


@pytest.mark.django_db
@pytest.mark.parametrize("role", [OWNER, ORG_ADMIN, MANAGER, REVIEWER, ANNOTATOR, OUTSIDER])
def test_another_organizations_objects_are_404_by_id(worlds, role):
    """Every route given the other organization's project, task, annotation, draft,
    prediction, export, import, ML backend and webhook ids: 404, and none of its data."""
    home, foreign = worlds
    client = _api_client(home.users[role])
    routes = _routes()
    wrong = []
    for name, methods in MATRIX.items():
        route = routes[name][0]
        for method, rule in methods.items():
            url = _url(route, foreign.ids) + _query(name, foreign.ids)
            response = _call(client, method, url, _body(name, foreign.ids))
            if rule.scoped and response.status_code != 404:
                wrong.append(f"{method.upper()} {url}: {response.status_code}")
            if foreign.mark in _text(response):
                wrong.append(f"{method.upper()} {url}: read the other organization's data")
    assert wrong == []


# What an annotator reaches with ids of work not handed to them: a task of the project they
# were never handed, another member's annotation on their own task (blind annotation), and a
# prediction on the task they were not handed.
HIDDEN_FROM_ANNOTATOR = {
    "task-detail": ("hidden_task", ("get", "patch", "delete")),
    "task-annotations": ("hidden_task", ("get", "post")),
    "task-drafts": ("hidden_task", ("get", "post")),
    "task-skip": ("hidden_task", ("post",)),
    "task-lock": ("hidden_task", ("post", "delete")),
    "task-label": ("hidden_task", ("get",)),
    "task-label-submit": ("hidden_task", ("post",)),
    "task-label-skip": ("hidden_task", ("post",)),
    "task-label-draft": ("hidden_task", ("post",)),
    "task-label-similar": ("hidden_task", ("get",)),
    "task-label-entities": ("hidden_task", ("get",)),
    "annotation-detail": ("others_annotation", ("get", "put", "patch", "delete")),
    "prediction-detail": ("hidden_prediction", ("get", "put", "patch", "delete")),
}


@pytest.mark.django_db
def test_work_not_handed_to_an_annotator_is_404_to_them(worlds):
    home, _foreign = worlds
    client = _api_client(home.users[ANNOTATOR])
    routes = _routes()
    wrong = []
    for name, (key, methods) in HIDDEN_FROM_ANNOTATOR.items():
        resource = routes[name][0].split("/")[1]
        ids = {**home.ids, resource: home.ids[key]}
        for method in methods:
            url = _url(routes[name][0], ids)
            response = _call(client, method, url, _body(name, ids))
            text = _text(response)
            if response.status_code != 404 or "HIDDEN-TASK" in text or "OTHERS-RESULT" in text:
                wrong.append(f"{method.upper()} {url}: {response.status_code}")
    assert wrong == []
    # The same reviewer's annotation is readable by reviewers and managers.
    for role in (REVIEWER, MANAGER, OWNER):
        url = f"/api/annotations/{home.ids['others_annotation']}"
        assert _api_client(home.users[role]).get(url).status_code == 200, role


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_page_matrix(worlds, role):
    home, foreign = worlds
    client = Client()
    if role != ANON:
        client.force_login(home.users[role])
    routes = _routes()
    wrong = []
    for name, rule in PAGES.items():
        for world in (home, foreign):
            url = _url(routes[name][0], world.ids)
            response = _call(client, "get", url)
            want = _expected(rule, role) if world is home else "404"
            if not rule.scoped:
                want = "allowed" if role in rule.allowed else "302"
            elif role == ANON:
                want = "302"
            got = "302" if response.status_code == 302 else _outcome(response.status_code)
            if got != want:
                wrong.append(f"GET {url}: {got}, expected {want}")
            text = _text(response)
            if world.mark in text and (world is foreign or want != "allowed"):
                wrong.append(f"GET {url}: {role} read the project's data")
            if role == ANNOTATOR and ("HIDDEN-TASK" in text or "OTHERS-RESULT" in text):
                wrong.append(f"GET {url}: the annotator read hidden work")
    assert wrong == []


@pytest.mark.django_db
def test_the_label_page_of_a_task_not_handed_to_an_annotator_is_404(worlds):
    home, _ = worlds
    client = Client()
    client.force_login(home.users[ANNOTATOR])
    url = f"/projects/{home.ids['projects']}/label/{home.ids['hidden_task']}/"
    response = client.get(url)
    assert response.status_code == 404
    assert "HIDDEN-TASK" not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_admin_is_for_staff_only(worlds, role):
    home, _ = worlds
    client = Client()
    if role != ANON:
        client.force_login(home.users[role])
    for url in ("/admin/", "/admin/projects/project/", "/admin/tasks/annotation/"):
        response = client.get(url)
        assert response.status_code == 302, (role, url)
        assert response["Location"].startswith("/admin/login/"), (role, url)


@pytest.mark.django_db
def test_staff_who_are_not_superusers_see_only_the_projects_they_manage_in_the_admin(worlds):
    home, foreign = worlds
    staff = home.users[ORG_ADMIN]
    staff.is_staff = True
    staff.save()
    staff.user_permissions.set(
        Permission.objects.filter(codename__in=["view_project", "view_annotation", "view_task"])
    )
    client = Client()
    client.force_login(staff)
    for url in ("/admin/projects/project/", "/admin/tasks/annotation/", "/admin/tasks/task/"):
        page = client.get(url).content.decode()
        assert home.mark in page or url != "/admin/projects/project/", url
        assert foreign.mark not in page, url
    foreign_project = Project.objects.get(pk=foreign.ids["projects"])
    assert client.get(f"/admin/projects/project/{foreign_project.pk}/change/").status_code == 302
    assert client.get(f"/admin/projects/project/{home.ids['projects']}/change/").status_code == 200


# --- websocket ----------------------------------------------------------------------------
# Every websocket route (annotator/routing.py), with who may open it: members see their
# project's socket; a task's socket follows the task's visibility (annotators: handed tasks).
WEBSOCKETS = {
    "ws/projects/<int:project_id>/": ("projects", MEMBERS),
    "ws/tasks/<int:task_id>/": ("tasks", MEMBERS),
    "ws/tasks/<int:task_id>/ (hidden)": ("hidden_task", MEMBERS - {ANNOTATOR}),
}


def test_every_websocket_route_has_a_matrix_entry():
    from annotator.routing import websocket_urlpatterns

    routes = {str(p.pattern) for p in websocket_urlpatterns}
    assert routes == {key.split(" ")[0] for key in WEBSOCKETS}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ROLES)
def test_websocket_connect_matrix(role, tmp_path):
    home = _build("HOME-MARK", tmp_path)
    foreign = _build("FOREIGN-MARK", tmp_path)
    outsider = make_user()
    make_organization(outsider)
    home.users[OUTSIDER] = outsider
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if role != ANON:
        client = Client()
        client.force_login(home.users[role])
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))

    async def connect(path):
        comm = WebsocketCommunicator(application, path, headers=headers)
        connected, code = await comm.connect()
        if connected:
            await comm.disconnect()
        return connected, code

    wrong = []
    for key, (id_name, allowed) in WEBSOCKETS.items():
        route = key.split(" ")[0]
        for world in (home, foreign):
            path = "/" + route.replace("<int:project_id>", str(world.ids[id_name])).replace(
                "<int:task_id>", str(world.ids[id_name])
            )
            connected, code = async_to_sync(connect)(path)
            if world is home and role in allowed:
                want = (True, None)
            else:
                want = (False, 4401 if role == ANON else 4404)
            got = (connected, None if connected else code)
            if got != want:
                wrong.append(f"{key} of {world.mark}: {got}, expected {want}")
    assert wrong == [], role


def test_matrix_covers_every_role():
    assert set(ROLES) == EVERYONE
