"""Existing DRF tokens (``authtoken_token``, app removed) become hashed ``ApiToken`` rows that
keep working; their clear-text copies are deleted. On PostgreSQL the audit table refuses
UPDATE and DELETE (a trigger; TRUNCATE stays possible for the database owner, which test
runs use to reset tables); SQLite relies on the app's guards."""

import datetime
import hashlib

from django.db import migrations
from django.utils.dateparse import parse_datetime

# One statement per execute (the function body's semicolons are inside its $$ quotes), and
# no % anywhere: executed without parameters, nothing is a placeholder.
TRIGGER_UP = [
    """
CREATE OR REPLACE FUNCTION annotator_audit_event_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'annotator_audit_event is append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql
""",
    """
CREATE TRIGGER annotator_audit_event_append_only
    BEFORE UPDATE OR DELETE ON annotator_audit_event
    FOR EACH ROW EXECUTE FUNCTION annotator_audit_event_append_only()
""",
]
TRIGGER_DOWN = [
    "DROP TRIGGER IF EXISTS annotator_audit_event_append_only ON annotator_audit_event",
    "DROP FUNCTION IF EXISTS annotator_audit_event_append_only()",
]


def _aware(value):
    # SQLite hands the raw column back as text (UTC, as Django stored it).
    if isinstance(value, str):
        value = parse_datetime(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value


def hash_drf_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return  # a database created after rest_framework.authtoken left INSTALLED_APPS
    ApiToken = apps.get_model("annotator", "ApiToken")
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id, created FROM authtoken_token")
        rows = cursor.fetchall()
    ApiToken.objects.bulk_create(
        ApiToken(
            user_id=user_id,
            name="migrated",
            prefix=key[:8],
            key_hash=hashlib.sha256(key.encode()).hexdigest(),
            created_at=_aware(created),
        )
        for key, user_id, created in rows
    )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM authtoken_token")


def audit_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in TRIGGER_UP:
            schema_editor.execute(statement, params=None)


def audit_trigger_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for statement in TRIGGER_DOWN:
            schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("annotator", "0002_api_token_audit_event")]

    operations = [
        migrations.RunPython(hash_drf_tokens, migrations.RunPython.noop),
        migrations.RunPython(audit_trigger, audit_trigger_drop),
    ]
