"""Settings for Annotator.

Every deploy-specific value comes from the environment (see README and .env.example).
With nothing set, the app runs embedded: SQLite in WAL mode, the in-memory channel layer,
the local-memory cache and Celery tasks executed in-process. Setting DATABASE_URL and
REDIS_URL switches to PostgreSQL, channels_redis, the Redis cache and a Redis Celery broker.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from annotator.env import (
    Smtp,
    email_settings,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_str,
    sso_apps,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("ANNOTATOR_DATA_DIR", str(BASE_DIR / "var"))).resolve()

DEBUG = env_bool("DEBUG", default=False)
DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        if not DEBUG and (len(key) < 50 or key.startswith("django-insecure") or "change" in key):
            raise ImproperlyConfigured(
                "SECRET_KEY is too short or a placeholder: use 50+ random characters "
                "(python -c 'import secrets; print(secrets.token_urlsafe(50))')"
            )
        return key
    if DATABASE_URL:
        # Several web processes share one database and must share one key: a key
        # generated per machine would invalidate sessions at random.
        raise ImproperlyConfigured("SECRET_KEY must be set when DATABASE_URL is set")
    # Embedded mode: one random key per installation, kept beside the SQLite database.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "annotator",
    "accounts",
    "projects",
    "tasks",
    "quality",
    "mlserve",
    "activelearn",
]

MIDDLEWARE = [
    "annotator.observability.RequestMiddleware",
    # Database outage: a view's OperationalError becomes a 503 (annotator/dbguard.py).
    "annotator.dbguard.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "annotator.security.ContentSecurityPolicyMiddleware",
    "annotator.security.LookupParameterMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "annotator.audit.AuditContextMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "annotator.urls"
ASGI_APPLICATION = "annotator.asgi.application"
WSGI_APPLICATION = "annotator.wsgi.application"
AUTH_USER_MODEL = "annotator.User"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# --- Accounts (django-allauth) --------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # Django's own first: sessions made by the admin, `manage.py` and the browser tests name it.
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
# Sign in with the email address or the username (service users and the demo admin have
# no address).
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
# Anyone may create an account (the embedded demo); 0: only people holding an invitation.
ACCOUNT_SIGNUP_OPEN = env_bool("ACCOUNT_SIGNUP_OPEN", default=True)
# optional: the confirmation link is mailed at sign-up, sign-in is not blocked; mandatory:
# no sign-in before the address is confirmed; none: no mail.
ACCOUNT_EMAIL_VERIFICATION = env_choice(
    "ACCOUNT_EMAIL_VERIFICATION", "optional", ("mandatory", "optional", "none")
)
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Annotator] "
ACCOUNT_LOGOUT_REDIRECT_URL = LOGOUT_REDIRECT_URL
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if env_bool("HTTPS", default=False) else "http"
# Invitation links work once and expire after this many hours.
INVITE_TTL_HOURS = env_int("INVITE_TTL_HOURS", 72, minimum=1)
# Quality (quality.models.QualitySettings): the share of a new project's tasks that silently go
# to several annotators (0 turns the default off; a project changes its own in its settings).
QUALITY_OVERLAP_PERCENTAGE = env_int("QUALITY_OVERLAP_PERCENTAGE", 10, minimum=0)

# --- Single sign-on: OpenID Connect and SAML 2.0 (allauth's providers) -----------------------
# Identity providers come from the admin (Social applications) or from these JSON lists (README
# "Single sign-on"); the groups they send map to roles through accounts.SSOGroupRole.
SOCIALACCOUNT_ADAPTER = "accounts.adapter.SocialAccountAdapter"
SOCIALACCOUNT_PROVIDERS: dict[str, dict[str, Any]] = {
    "openid_connect": {
        # allauth's provider plus a nonce and an id_token signature check on every sign-in.
        "provider_class": "accounts.oidc.provider.OIDCProvider",
        "OAUTH_PKCE_ENABLED": True,
        "APPS": sso_apps("SSO_OIDC_PROVIDERS", "openid_connect"),
    },
    "saml": {"APPS": sso_apps("SSO_SAML_PROVIDERS", "saml")},
}
# An SSO identity never signs into, nor attaches itself to, an existing local account by its
# email address (an attacker's IdP account could carry the victim's address): the person
# signs in locally and connects the identity, or the address conflict is shown at sign-up.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = False
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_STORE_TOKENS = False
# The identity provider decides who may sign in; 0: SSO signs in existing accounts only.
SSO_SIGNUP_OPEN = env_bool("SSO_SIGNUP_OPEN", default=True)
# Where the groups are: the OIDC claim (id_token or userinfo) and the SAML attribute; an
# app's settings may name its own ("groups_claim" / "groups_attribute").
SSO_OIDC_GROUPS_CLAIM = env_str("SSO_OIDC_GROUPS_CLAIM", "groups")
SSO_SAML_GROUPS_ATTRIBUTE = env_str("SSO_SAML_GROUPS_ATTRIBUTE", "groups")

# --- Email: the console (stdout) unless an SMTP server is configured ---------------------------
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Annotator <annotator@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
if env_str("EMAIL_URL") or env_str("EMAIL_HOST"):
    if env_str("EMAIL_URL"):
        _smtp = email_settings(env_str("EMAIL_URL"))
    else:
        _port = env_int("EMAIL_PORT", 587, minimum=1)
        _smtp = Smtp(
            host=env_str("EMAIL_HOST"),
            port=_port,
            user=env_str("EMAIL_HOST_USER"),
            password=env_str("EMAIL_HOST_PASSWORD"),
            use_tls=env_bool("EMAIL_USE_TLS", default=_port == 587),
            use_ssl=env_bool("EMAIL_USE_SSL", default=_port == 465),
        )
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _smtp.host
    EMAIL_PORT = _smtp.port
    EMAIL_HOST_USER = _smtp.user
    EMAIL_HOST_PASSWORD = _smtp.password
    EMAIL_USE_TLS = _smtp.use_tls
    EMAIL_USE_SSL = _smtp.use_ssl
    if EMAIL_USE_TLS and EMAIL_USE_SSL:
        raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL exclude each other")

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


# --- Database -------------------------------------------------------------------------------
# Server-side prepared statements for the hot plain-SQL queries (annotator/rawsql.py). Turn
# off behind a pooler that cannot keep them (PgBouncer before 1.21 in transaction mode).
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", default=True)


def _sqlite_options() -> dict[str, Any]:
    return {
        # WAL lets readers run beside the single writer; IMMEDIATE takes the write lock at
        # BEGIN so two writers queue on busy_timeout instead of failing with "database is
        # locked" half-way through a transaction (in WAL mode at once: a read snapshot that
        # another writer moved past cannot be upgraded).
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }


def _database() -> dict[str, Any]:
    if not DATABASE_URL:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "db.sqlite3"),
            "OPTIONS": _sqlite_options(),
            "TEST": {"NAME": str(DATA_DIR / "test-db.sqlite3")},
        }
    config: dict[str, Any] = dict(dj_database_url.parse(DATABASE_URL))
    if config["ENGINE"] not in {
        "django.db.backends.postgresql",
        "django.db.backends.sqlite3",
    }:
        raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL or SQLite")
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # A SQLite file named by URL (another data folder, a test server on the test
        # database) is used as the embedded one is.
        config["OPTIONS"] = {**_sqlite_options(), **config.get("OPTIONS", {})}
    if config["ENGINE"] == "django.db.backends.postgresql":
        # Under ASGI a request's sync code may run on any thread, so persistent per-thread
        # connections (CONN_MAX_AGE) leak; a psycopg pool per process reuses them instead.
        config["CONN_MAX_AGE"] = 0
        # PostgreSQL restarted or unreachable (annotator/dbguard.py answers 503 meanwhile):
        # - the pool tests a connection before handing it out (Django passes the pool's
        #   check_connection when CONN_HEALTH_CHECKS is on; a "check" in the pool options
        #   would clash with it), so the connections the restart killed are dropped, not
        #   handed to the first requests after it;
        # - a request waits at most DB_POOL_TIMEOUT for a connection, then gets its 503;
        # - the pool's background reconnection backs off exponentially (1, 2, 4... s) for
        #   reconnect_timeout: kept short, it gives up and the next request starts a fresh
        #   attempt at once, so service resumes within seconds of the server's return
        #   instead of after the backoff (up to twice the outage's length).
        config["CONN_HEALTH_CHECKS"] = True
        options = config.setdefault("OPTIONS", {})
        options["connect_timeout"] = env_int("DB_CONNECT_TIMEOUT", 3, minimum=1)
        options["pool"] = {
            "min_size": env_int("DB_POOL_MIN", 1, minimum=0),
            "max_size": env_int("DB_POOL_MAX", 10, minimum=1),
            "timeout": env_int("DB_POOL_TIMEOUT", 5, minimum=1),
            "reconnect_timeout": 5,
        }
        if DB_PREPARED_STATEMENTS:
            # psycopg prepares nothing with a threshold of None (Django's default), not even
            # when asked. Django's own cursors bind client-side and never prepare; this
            # lets annotator/rawsql.py's hot statements ask for it, and nothing else.
            config["OPTIONS"]["prepare_threshold"] = 2**31 - 1
    return config


DATABASES = {"default": _database()}
# Threads per web process running requests (annotator/asgi.py); each holds at most one
# database connection, so keep it at or under DB_POOL_MAX.
HTTP_THREADS = env_int("HTTP_THREADS", 8, minimum=1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, channel layer, Celery -----------------------------------------------------------
# Parallel test workers (pytest-xdist) share one Redis: each gets its own key space.
REDIS_PREFIX = env_str("REDIS_PREFIX", "annotator") + env_str("PYTEST_XDIST_WORKER")
if REDIS_URL:
    CACHES = {
        "default": {
            # Redis down: misses and dropped writes, not errors (annotator/cache.py).
            "BACKEND": "annotator.cache.TolerantRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": REDIS_PREFIX,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            # Pub/sub: a group event is published once and each process hands it to its own
            # sockets; the list-based RedisChannelLayer made one Redis round trip per socket
            # (200-client fan-out p95 257 ms against 113 ms, bench/ws_bench.py). Delivery is
            # at most once either way: pages catch up by sequence number (annotator/realtime).
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"asgi-{REDIS_PREFIX}"},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND", REDIS_URL or "cache+memory://")
# Without a broker the jobs run in the web process (embedded mode); with Redis they go to workers.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# A job's message is acknowledged when the job ends, not when a worker takes it: a worker
# killed mid-job leaves the message unacknowledged and the broker hands it out again.
CELERY_TASK_ACKS_LATE = True
# A prefork child lost mid-job (OOM killer, segfault) records a WorkerLostError and acks the
# message rather than putting it back (False, Celery's default, said on purpose): a message
# that kills its worker would otherwise loop forever for the jobs without a claim (storage
# syncs, ML backend events). Imports, exports and trainings do not need the message back:
# their heartbeat goes stale and the reaper (annotator/jobs_runtime.py) requeues them, at
# most JOB_MAX_ATTEMPTS times.
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis hands an unacknowledged message out again after the visibility timeout, even while
# a worker still runs it (a long import, a training). That copy finds the job running with a
# fresh heartbeat and does nothing, so the timeout need not exceed the longest job; a long one
# only delays the resumption of a dead worker's job, which the reaper below does sooner.
# Idle workers look for such messages every CELERY_UNACKED_RESTORE_SECONDS (kombu's default
# is about 100 s). CELERY_BROKER_KEYPREFIX puts the broker's keys under a prefix (several
# installs, or test runs, on one Redis database).
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1),
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_SECONDS", 60, minimum=1),
    "unacked_restore_throttle": 1,
}
if env_str("CELERY_BROKER_KEYPREFIX"):
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = env_str("CELERY_BROKER_KEYPREFIX")
# Long jobs (annotator/jobs_runtime.py): a running job writes a heartbeat every
# JOB_HEARTBEAT_SECONDS; one silent for JOB_STALE_SECONDS lost its worker and is resumed, up
# to JOB_MAX_ATTEMPTS claims, then failed with a message that says so.
JOB_HEARTBEAT_SECONDS = env_int("JOB_HEARTBEAT_SECONDS", 10, minimum=1)
JOB_STALE_SECONDS = env_int("JOB_STALE_SECONDS", 60, minimum=2)
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 3, minimum=1)
# Workers announce themselves in Redis this often; a queued job with none says so.
WORKER_ANNOUNCE_SECONDS = env_int("WORKER_ANNOUNCE_SECONDS", 10, minimum=1)
if JOB_STALE_SECONDS <= 2 * JOB_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured("JOB_STALE_SECONDS must exceed twice JOB_HEARTBEAT_SECONDS")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Periodic jobs, run by `celery -A annotator beat` next to the workers (README, scaling out).
CELERY_BEAT_SCHEDULE = {
    "expired-leases": {
        "task": "tasks.jobs.locks_expire",
        "schedule": env_int("LOCK_CLEANUP_SECONDS", 600, minimum=10),
    },
    "retrain-check": {
        "task": "mlserve.jobs.retrain_check",
        "schedule": env_int("RETRAIN_CHECK_SECONDS", 60, minimum=5),
    },
    "storage-sync": {
        "task": "tasks.jobs.storages_sync_due",
        "schedule": env_int("STORAGE_SYNC_CHECK_SECONDS", 60, minimum=10),
    },
    "jobs-stale-recover": {
        "task": "annotator.jobs.jobs_stale_recover_run",
        "schedule": env_int("JOBS_STALE_CHECK_SECONDS", 60, minimum=1),
    },
}

# --- Files ----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
# Serve from the source folders when collectstatic has not run (embedded mode, tests).
WHITENOISE_USE_FINDERS = env_bool("WHITENOISE_USE_FINDERS", default=True)

# --- S3 storage (media, imports, exports, model artifacts) ------------------------------------
# With AWS_STORAGE_BUCKET_NAME set, the default storage is that bucket (S3, or MinIO and other
# S3-compatible servers through S3_ENDPOINT_URL); unset, files stay under MEDIA_ROOT. Objects
# are private: the browser gets presigned URLs valid AWS_QUERYSTRING_EXPIRE seconds
# (tasks/storage/media.py), never a public link.
AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME")
S3_ENDPOINT_URL = env_str("S3_ENDPOINT_URL")
AWS_QUERYSTRING_EXPIRE = env_int("AWS_QUERYSTRING_EXPIRE", 600, minimum=10)
if AWS_STORAGE_BUCKET_NAME:
    _media_storage: dict[str, Any] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": S3_ENDPOINT_URL or None,
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
            "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": AWS_QUERYSTRING_EXPIRE,
            "file_overwrite": False,
            "signature_version": "s3v4",
            # MinIO and most S3-compatible servers want path-style URLs.
            "addressing_style": "path" if S3_ENDPOINT_URL else None,
        },
    }
else:
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 200 * 1024 * 1024, minimum=1)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
# Imports larger than this run as a Celery job with a progress resource (also ?async=1).
IMPORT_ASYNC_BYTES = env_int("IMPORT_ASYNC_BYTES", 64 * 1024 * 1024, minimum=0)
# One uploaded file (task file or media) larger than this is refused before it is stored.
# Cap the whole request body in the proxy too (nginx client_max_body_size): Django has
# already spooled the upload to a temporary file when this is checked.
IMPORT_MAX_FILE_BYTES = env_int("IMPORT_MAX_FILE_BYTES", 2 * 1024**3, minimum=1)

# --- Security -------------------------------------------------------------------------------
# HTTPS=1 behind TLS (directly or through a proxy that sets X-Forwarded-Proto).
HTTPS = env_bool("HTTPS", default=False)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=HTTPS)
if env_bool("BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
# Enforced on every response (annotator/security.py). Scripts only from our origin: no inline
# script, no event-handler attributes, no eval, so a payload that slips into a page cannot run.
# Styles may be inline (the vendored audio waveform and Swagger UI set them; a style runs no
# script). Task media, and the waveform's fetch of it, come from any http(s) host task data
# names. Replace it whole with CONTENT_SECURITY_POLICY.
CONTENT_SECURITY_POLICY = env_str(
    "CONTENT_SECURITY_POLICY",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob: http: https:; media-src 'self' data: blob: http: https:; "
    "connect-src 'self' ws: wss: http: https:; font-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# An admin may let outbound HTTP (URL imports, ML backends, webhooks) reach private and
# loopback addresses, e.g. an ML backend on the same host; refused by default (SSRF).
OUTBOUND_ALLOW_PRIVATE_URLS = env_bool("OUTBOUND_ALLOW_PRIVATE_URLS", default=False)
# /metrics wants "Authorization: Bearer <METRICS_TOKEN>" when set (open otherwise: keep it on
# the internal network).
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
# Webhooks (projects.webhooks): attempts per event, the first retry's delay (doubling after
# each failure, at most an hour) and each attempt's time limit.
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 5, minimum=1)
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 10, minimum=0)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10, minimum=1)
# The labelling page asks a connected ML backend for a task opened without a prediction:
# it waits at most this long (seconds), or the backend's own timeout when shorter.
ML_BACKEND_ON_OPEN_TIMEOUT = env_int("ML_BACKEND_ON_OPEN_TIMEOUT", 5, minimum=1)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "annotator.api.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "annotator.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "annotator.api.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Annotator API",
    "DESCRIPTION": (
        "Label Studio-compatible REST API of Annotator. Authenticate with "
        "`Authorization: Token <key>`. Every path also answers without its trailing slash. "
        "Errors are JSON: `{status_code, detail, validation_errors: {field: [problem]}}`."
    ),
    "PREPROCESSING_HOOKS": ["annotator.api.schema.drop_slashless_duplicates"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "annotator.api.schema.document_auth_errors",
        "annotator.api.schema.document_media_type_errors",
    ],
    # Several inputs have a "role": name each choice set once.
    "ENUM_NAME_OVERRIDES": {
        "ProjectRoleEnum": "projects.models.ProjectRole",
        "InvitableOrganizationRoleEnum": "accounts.api.serializers.INVITABLE_ORGANIZATION_ROLES",
        "ModelStatusEnum": "mlserve.models.ModelStatus",
        "QueueStrategyEnum": "activelearn.models.Strategy",
        "JobStatusEnum": "tasks.models.JobStatus",
        "WebhookActionEnum": "projects.models.WebhookAction",
        "WebhookDeliveryStatusEnum": "projects.models.WebhookDeliveryStatus",
        "StorageStatusEnum": "tasks.models.StorageStatus",
    },
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the vendored sidecar package: every page works offline (no CDN).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Logs: one JSON object per line with the request id (LOG_FORMAT=json, the default with
# DEBUG off behind REDIS_URL), or plain text for a terminal.
LOG_FORMAT = env_choice("LOG_FORMAT", "json" if REDIS_URL else "text", ("json", "text"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "annotator.observability.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "annotator.observability.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
