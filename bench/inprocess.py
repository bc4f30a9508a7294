"""Set-up shared by the benchmarks that run the app inside their own process: a fresh
database (SQLite in a temporary folder, or a PostgreSQL database created for the run) and
Django configured against it. Imported as ``from inprocess import ...`` (scripts run from
bench/)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable
from pathlib import Path

PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def pg_admin(statement: str) -> None:
    """Run one statement on the PostgreSQL server's admin database (CREATE/DROP DATABASE)."""
    import psycopg

    with psycopg.connect(
        PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True
    ) as c:
        c.execute(statement)


def django_setup(
    data_dir: Path,
    *,
    db: str = "sqlite",
    bench_db: str = "",
    env: dict[str, str] | None = None,
    unset: Iterable[str] = (),
) -> None:
    """Point the app at a new database (``bench_db`` on PostgreSQL, else SQLite under
    ``data_dir``), with no Redis, set up Django and migrate."""
    os.environ.update(
        {
            "ANNOTATOR_DATA_DIR": str(data_dir),
            "SECRET_KEY": secrets.token_urlsafe(64),
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            **(env or {}),
        }
    )
    for key in ("DATABASE_URL", "REDIS_URL", *unset):
        os.environ.pop(key, None)
    if db == "postgresql":
        pg_admin(f"DROP DATABASE IF EXISTS {bench_db}")
        pg_admin(f"CREATE DATABASE {bench_db}")
        os.environ["DATABASE_URL"] = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{bench_db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "annotator.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
