"""Migrations a running old version tolerates (README, "Safe deploys").

During a blue-green switch the old release keeps serving while the new one's migrations
run, so a migration may only EXPAND the schema: new tables, nullable columns or columns with
a database default, indexes. Anything the old code would trip on (a dropped or renamed
column or table, a NOT NULL column without a database default that its INSERTs leave out, a
column type change, a column made NOT NULL) is a CONTRACT step: it ships in a later release,
once no running code uses the old shape, and its migration says so explicitly with
``deploy_contract = "<why it is safe now>"``. This test fails on any contract step without it.
"""

from __future__ import annotations

from django.db import migrations
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

OUR_APPS = {"annotator", "projects", "tasks", "quality", "mlserve", "activelearn", "accounts"}
# Migrations of releases before the rule (no deployment ran two versions at once yet).
BEFORE_THE_RULE = {
    ("annotator", "0001_initial"),
    ("projects", "0001_initial"),
    ("projects", "0003_prediction_confidence_thresholds"),
    ("projects", "0004_roles_blind_certification"),
    ("tasks", "0001_initial"),
    ("tasks", "0002_import_export_jobs"),
    ("tasks", "0003_annotation_review_status"),
    ("tasks", "0005_drop_redundant_fk_indexes"),
    ("tasks", "0006_datamanager"),
    ("tasks", "0007_taskassignment"),
    ("tasks", "0008_certification_answers"),
    ("mlserve", "0001_initial"),
    ("mlserve", "0002_model_versions"),
    ("mlserve", "0003_ml_settings_language"),
    ("activelearn", "0001_initial"),
    ("accounts", "0001_initial"),
}


def _contract_reason(operation, app: str, state: ProjectState) -> str | None:
    """Why ``operation`` would break the old code, or None when it only expands."""
    if isinstance(operation, migrations.RemoveField | migrations.DeleteModel):
        return f"{type(operation).__name__} drops what the old code reads"
    if isinstance(
        operation, migrations.RenameField | migrations.RenameModel | migrations.AlterModelTable
    ):
        return f"{type(operation).__name__} renames what the old code reads"
    if isinstance(operation, migrations.AddField):
        field = operation.field
        if field.many_to_many or field.null or field.db_default is not models_NOT_PROVIDED():
            return None
        return (
            f"AddField {operation.model_name}.{operation.name}: NOT NULL without db_default "
            "(the old code's INSERTs leave it out)"
        )
    if isinstance(operation, migrations.AlterField):
        old = state.models[app, operation.model_name_lower].fields[operation.name]
        new = operation.field
        if old.null and not new.null:
            return f"AlterField {operation.model_name}.{operation.name}: made NOT NULL"
        if type(old) is not type(new) or getattr(new, "max_length", None) != getattr(
            old, "max_length", None
        ):
            return f"AlterField {operation.model_name}.{operation.name}: column type changes"
    return None


def models_NOT_PROVIDED():
    from django.db.models.fields import NOT_PROVIDED

    return NOT_PROVIDED


def _unsafe_migrations() -> list[str]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    found = []
    for key, migration in sorted(loader.disk_migrations.items()):
        app, name = key
        if app not in OUR_APPS or key in BEFORE_THE_RULE:
            continue
        if getattr(migration, "deploy_contract", ""):
            continue
        state = loader.project_state(key, at_end=False)
        for operation in migration.operations:
            reason = _contract_reason(operation, app, state)
            if reason:
                found.append(f"{app}.{name}: {reason}")
            operation.state_forwards(app, state)
    return found


def test_every_migration_only_expands_the_schema_unless_marked():
    assert _unsafe_migrations() == []


def test_the_check_catches_a_contract_step(monkeypatch):
    loader_class = MigrationLoader
    original = loader_class.build_graph

    def with_a_drop(self):
        original(self)
        key = ("projects", "9999_drop_title")
        drop = type(
            "Migration",
            (migrations.Migration,),
            {
                "dependencies": [max(k for k in self.disk_migrations if k[0] == "projects")],
                "operations": [migrations.RemoveField("project", "title")],
            },
        )("9999_drop_title", "projects")
        self.disk_migrations[key] = drop
        self.graph.add_node(key, drop)
        self.graph.add_dependency(drop, key, drop.dependencies[0])

    monkeypatch.setattr(loader_class, "build_graph", with_a_drop)
    assert _unsafe_migrations() == [
        "projects.9999_drop_title: RemoveField drops what the old code reads"
    ]
