"""Account services and the demo seeding, which spans every app (only annotator/ may)."""

from __future__ import annotations

import random
import secrets
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from annotator import demo
from annotator.audit import audit_record
from annotator.models import ApiToken, User, api_token_hash
from mlserve.services import french_preannotate
from projects.models import Organization, Project
from projects.services import organization_create, project_create, project_member_set
from tasks.services import tasks_import

DEMO_ORGANIZATION = "Demo organization"
DEMO_ANNOTATORS = ("annotator1", "annotator2", "annotator3")
# Characters of a key kept in clear to tell tokens apart (32 of its 160 bits).
TOKEN_PREFIX_LENGTH = 8


@dataclass(frozen=True)
class IssuedToken:
    """A token just made: ``key`` is the only copy of the secret (shown once)."""

    token: ApiToken
    key: str


@transaction.atomic
def api_token_create(*, user: User, name: str = "") -> IssuedToken:
    """A new token for ``user``: 40 hex characters (160 random bits, the shape of Label
    Studio's legacy keys, which its SDK sends as ``Token <key>``)."""
    key = secrets.token_hex(20)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=key[:TOKEN_PREFIX_LENGTH], key_hash=api_token_hash(key)
    )
    audit_record(
        action="token.create",
        actor=user,
        object_type="token",
        object_id=token.pk,
        after={"name": name, "prefix": token.prefix},
    )
    return IssuedToken(token=token, key=key)


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Stop ``token`` at once: the next request with it is a 401. Idempotent."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            action="token.revoke",
            actor=token.user,
            object_type="token",
            object_id=token.pk,
            before={"name": token.name, "prefix": token.prefix},
        )
    return token


@transaction.atomic
def api_token_rotate_one(*, token: ApiToken) -> IssuedToken:
    """Revoke ``token`` and issue a new one with the same name."""
    if token.revoked_at is not None:
        raise ValidationError({"token": ["this token is revoked: create a new one"]})
    api_token_revoke(token=token)
    return api_token_create(user=token.user, name=token.name)


@transaction.atomic
def api_token_rotate(*, user: User, name: str = "default") -> str:
    """Revoke every token of the user and return one new key (Label Studio's one-token
    model: ``reset-token``, ``manage.py api_token``, the demo)."""
    for token in ApiToken.objects.filter(user=user, revoked_at__isnull=True):
        api_token_revoke(token=token)
    return api_token_create(user=user, name=name).key


@dataclass
class DemoSeedResult:
    admin_username: str
    admin_password: str | None  # None when the admin already existed (password kept)
    api_token: str | None
    projects: list[Project] = field(default_factory=list)


def _store(files: Sequence[Path], prefix: str) -> list[str]:
    """Save generated files to the media storage (local disk or S3); return their URLs."""
    urls = []
    for path in files:
        with path.open("rb") as handle:
            name = default_storage.save(f"demo/{prefix}/{path.name}", File(handle))
        urls.append(default_storage.url(name))
    return urls


def _import_split(project: Project, items: list[dict[str, Any]], users: Sequence[User]) -> None:
    """Import in one chunk per annotator so the demo annotations have several authors."""
    chunk = -(-len(items) // len(users))
    for i, user in enumerate(users):
        part = items[i * chunk : (i + 1) * chunk]
        if part:
            tasks_import(project=project, items=part, user=user, first_row=i * chunk + 1)


def _text_project(
    org: Organization, admin: User, annotators: Sequence[User], n: int, seed: int
) -> Project:
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data
    project = project_create(
        organization=org,
        title="Customer service: intents and entities",
        description="French and English customer messages about orders, refunds and deliveries.",
        created_by=admin,
        label_config=demo.intent_entity_config(),
        expert_instruction=(
            "# Guidelines\n\n"
            "1. Pick the **intent** the customer wants resolved now.\n"
            "2. Mark every *date*, *place*, *product*, *amount* and *order number* as an entity.\n"
            "3. Read the previous turns: they often decide between two intents.\n"
        ),
        maximum_annotations=1,
    )
    items = [
        demo.utterance_task(u, with_annotation=i % 3 == 0, with_prediction=i % 5 != 4, rng=rng)
        for i, u in enumerate(demo.generate_utterances(n, seed=seed))
    ]
    _import_split(project, items, annotators)
    return project


def _french_project(org: Organization, admin: User, n: int, seed: int) -> Project:
    """French utterances without annotations, pre-annotated by fr_core_news_sm before any
    training (its LOC spans become LOCATION predictions through the config's map)."""
    project = project_create(
        organization=org,
        title="Service client (FR) : entités pré-annotées",
        description="Messages de clients en français, entités proposées par fr_core_news_sm.",
        created_by=admin,
        label_config=demo.intent_entity_config(),
        maximum_annotations=1,
    )
    rng = random.Random(seed + 1)  # noqa: S311 - reproducible demo data
    french = [u for u in demo.generate_utterances(3 * n, seed=seed + 1) if u.lang == "fr"][:n]
    items = [
        demo.utterance_task(u, with_annotation=False, with_prediction=False, rng=rng)
        for u in french
    ]
    tasks_import(project=project, items=items, user=admin)
    french_preannotate(project=project)
    return project


def _image_project(
    org: Organization, admin: User, annotators: Sequence[User], n: int, seed: int, tmp: Path
) -> Project:
    project = project_create(
        organization=org,
        title="Street scenes: bounding boxes",
        description="Generated drawings of cars, trees, houses and suns.",
        created_by=admin,
        label_config=demo.image_boxes_config(),
    )
    images = demo.generate_box_images(n, tmp / "images", seed=seed)
    urls = _store([img.path for img in images], f"project-{project.pk}/images")
    items = [
        demo.image_task(img, url, with_annotation=i % 2 == 0)
        for i, (img, url) in enumerate(zip(images, urls, strict=True))
    ]
    _import_split(project, items, annotators)
    return project


def _audio_project(
    org: Organization, admin: User, annotators: Sequence[User], n: int, seed: int, tmp: Path
) -> Project:
    project = project_create(
        organization=org,
        title="Sound events: audio regions",
        description="Generated clips of speech-like tones, music, noise and silence.",
        created_by=admin,
        label_config=demo.audio_regions_config(),
    )
    clips = demo.generate_audio_clips(n, tmp / "audio", seed=seed)
    urls = _store([clip.path for clip in clips], f"project-{project.pk}/audio")
    items = [
        demo.audio_task(clip, url, with_annotation=i % 2 == 0)
        for i, (clip, url) in enumerate(zip(clips, urls, strict=True))
    ]
    _import_split(project, items, annotators)
    return project


@transaction.atomic
def demo_seed(
    *,
    seed: int = 0,
    utterances: int = 300,
    images: int = 24,
    clips: int = 12,
    french: int = 40,
    progress: Callable[[str], None] = lambda _msg: None,
) -> DemoSeedResult:
    """Create the demo: an admin with a random password and token, annotators, and an
    intent + entity, an image-box and an audio-region project with generated content, and
    (when ``french`` > 0) a French entity project pre-annotated by fr_core_news_sm."""
    admin = User.objects.filter(username="admin").first()
    password: str | None = None
    if admin is None:
        password = secrets.token_urlsafe(12)
        admin = User.objects.create_superuser(username="admin", email="", password=password)
    token = api_token_rotate(user=admin) if password else None
    annotators = []
    for name in DEMO_ANNOTATORS:
        user, created = User.objects.get_or_create(username=name)
        if created:
            user.set_unusable_password()  # no default credentials: an admin sets one
            user.save()
        annotators.append(user)

    org = organization_create(title=DEMO_ORGANIZATION, owner=admin)
    result = DemoSeedResult(admin_username=admin.username, admin_password=password, api_token=token)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        progress(f"text project: {utterances} utterances")
        result.projects.append(_text_project(org, admin, annotators, utterances, seed))
        if french:
            progress(f"French project: {french} utterances, pre-annotated")
            result.projects.append(_french_project(org, admin, french, seed))
        progress(f"image project: {images} images")
        result.projects.append(_image_project(org, admin, annotators, images, seed, tmp))
        progress(f"audio project: {clips} clips")
        result.projects.append(_audio_project(org, admin, annotators, clips, seed, tmp))
    for project in result.projects:
        for user in annotators:
            project_member_set(project=project, user=user, role="annotator")
    return result
