from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin

from annotator.models import User
from tasks.services import annotation_create, tasks_import
from tests.factories import choice, make_project

pytestmark = pytest.mark.django_db

OUR_APPS = ("annotator", "accounts", "projects", "tasks", "quality", "mlserve", "activelearn")


def test_every_model_of_our_apps_is_in_the_admin():
    ours = [m for m in apps.get_models() if m._meta.app_label in OUR_APPS]
    missing = [m.__name__ for m in ours if not admin.site.is_registered(m)]
    assert missing == []


def test_every_changelist_and_change_page_renders(client):
    project = make_project(title="<b>x</b>")
    task_id = tasks_import(project=project, items=[{"text": "hi"}], user=None).task_ids[0]
    annotation_create(
        task=project.tasks.get(pk=task_id), user=project.created_by, result=[choice()]
    )
    superuser = User.objects.create_superuser(
        username="root", email="root@example.com", password="pw"
    )
    client.force_login(superuser)
    for model in admin.site._registry:
        if model._meta.app_label not in OUR_APPS:
            continue
        opts = model._meta
        response = client.get(f"/admin/{opts.app_label}/{opts.model_name}/")
        assert response.status_code == 200, opts.label
        first = model.objects.first()
        if first is not None:
            assert (
                client.get(
                    f"/admin/{opts.app_label}/{opts.model_name}/{first.pk}/change/"
                ).status_code
                == 200
            ), opts.label
    page = client.get("/admin/projects/project/").content.decode()
    assert "&lt;b&gt;x&lt;/b&gt;" in page
