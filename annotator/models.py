import hashlib

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class User(AbstractUser):
    """The account of a person or of a pipeline (a service user with an API token).

    Custom from the first migration so that later fields (avatar, preferences, SSO ids)
    never need a swap of AUTH_USER_MODEL.
    """

    class Meta:
        constraints = [
            # Sign-in by email (later, allauth) needs one account per address; empty
            # emails stay allowed for service users.
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_unique_ci",
                condition=~models.Q(email=""),
            )
        ]

    def __str__(self) -> str:
        return self.username


def api_token_hash(key: str) -> str:
    """How a key is stored and looked up (``ApiToken.key_hash``)."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """An API key, stored as the SHA-256 of the key: a copy of the database gives no usable
    key. The key is shown once, when it is made; ``prefix`` (its first characters) is kept
    in clear so a person can tell their tokens apart.

    The key has 160 random bits, so a plain hash (no salt, no slow KDF) is as strong as the
    key and lets ``annotator.api.auth`` find the token by an index lookup on every request.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "annotator_api_token"
        indexes = [models.Index(fields=["user", "-created_at"], name="api_token_user_created")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditEvent(models.Model):
    """One line of the append-only audit trail: who did what, when, from where.

    No foreign keys on purpose: a record must outlive the project, user or task it names
    (a cascade or SET NULL would rewrite history), so ids are plain columns and the actor's
    username is copied. Nothing in the app updates or deletes a row (``annotator.audit``);
    on PostgreSQL a trigger refuses UPDATE and DELETE as well.
    """

    created_at = models.DateTimeField(default=timezone.now)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=48)
    object_type = models.CharField(max_length=32, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    organization_id = models.BigIntegerField(null=True, blank=True)
    project_id = models.BigIntegerField(null=True, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "annotator_audit_event"
        # Lists go newest first by id within a project or organization (keyset pages).
        indexes = [
            models.Index(fields=["project_id", "id"], name="audit_project_id"),
            models.Index(fields=["organization_id", "id"], name="audit_org_id"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_username or '-'} {self.action}"
