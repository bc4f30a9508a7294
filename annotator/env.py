"""Typed readers for settings that come from the environment.

Each helper raises ImproperlyConfigured with the variable's name on a bad value, so a
misconfigured deployment fails at start-up instead of misbehaving later.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} must be at least {minimum}")
    return value


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r} must be one of {', '.join(choices)}")
    return value


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    user: str
    password: str
    use_tls: bool  # STARTTLS
    use_ssl: bool  # TLS from the first byte


def email_settings(url: str) -> Smtp:
    """The SMTP server of ``smtp://user:password@host:587`` (STARTTLS, the default),
    ``smtp+ssl://...:465`` (TLS from the first byte) or ``smtp+plain://...:25`` (no
    encryption). Raises ImproperlyConfigured naming EMAIL_URL on anything else."""
    parts = urlsplit(url)
    schemes = {"smtp": (True, False), "smtp+tls": (True, False), "smtp+ssl": (False, True)}
    schemes["smtp+plain"] = (False, False)
    if parts.scheme not in schemes or not parts.hostname:
        raise ImproperlyConfigured(
            "EMAIL_URL must look like smtp://user:password@host:587 "
            "(schemes: smtp, smtp+ssl, smtp+plain)"
        )
    tls, ssl = schemes[parts.scheme]
    try:
        port = parts.port or (465 if ssl else 587 if tls else 25)
    except ValueError:
        raise ImproperlyConfigured("EMAIL_URL has a bad port") from None
    return Smtp(
        host=parts.hostname,
        port=port,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        use_tls=tls,
        use_ssl=ssl,
    )


def env_json(name: str, default: object = None) -> object:
    """The JSON value of ``name`` (unset or blank: ``default``)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not valid JSON: {exc}") from None


# The keys each single sign-on app needs, by allauth provider (``SocialApp`` fields and the
# ``settings`` keys its provider reads).
_SSO_REQUIRED = {
    "openid_connect": ("provider_id", "name", "client_id", "server_url"),
    "saml": ("provider_id", "name", "client_id", "idp"),
}
_SSO_APP_FIELDS = ("provider_id", "name", "client_id", "secret", "key")


def sso_apps(name: str, provider: str) -> list[dict[str, object]]:
    """allauth ``APPS`` entries from the JSON list in ``name``: each object carries the
    app's fields (``provider_id``, ``name``, ``client_id``, ``secret``) and its provider
    settings (the other keys). Raises ImproperlyConfigured naming ``name`` and the entry."""
    raw = env_json(name, [])
    if not isinstance(raw, list):
        raise ImproperlyConfigured(f"{name} must be a JSON list of objects")
    apps: list[dict[str, object]] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        where = f"{name}[{index}]"
        if not isinstance(entry, dict):
            raise ImproperlyConfigured(f"{where} must be a JSON object")
        missing = [key for key in _SSO_REQUIRED[provider] if not entry.get(key)]
        if missing:
            raise ImproperlyConfigured(f"{where} lacks {', '.join(missing)}")
        if provider == "saml" and not isinstance(entry["idp"], dict):
            raise ImproperlyConfigured(f"{where}.idp must be a JSON object")
        for key in ("provider_id", "client_id"):
            if not isinstance(entry[key], str) or not re.fullmatch(r"[\w.-]+", entry[key]):
                raise ImproperlyConfigured(f"{where}.{key} must be letters, digits, . _ or -")
        if entry["provider_id"] in seen:
            raise ImproperlyConfigured(f"{where}.provider_id {entry['provider_id']!r} repeats")
        seen.add(entry["provider_id"])
        app = {key: entry[key] for key in _SSO_APP_FIELDS if key in entry}
        app["settings"] = {k: v for k, v in entry.items() if k not in _SSO_APP_FIELDS}
        apps.append(app)
    return apps
