"""Shared fixtures: real stores on a SQLite file and on a real PostgreSQL server.

Each PostgreSQL store lives in its own schema (search_path), so tests and parallel workers
never see each other's rows. PostgreSQL tests are skipped only when no server answers, and
the skip reason says so in the test output.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core.settings import Settings, load_settings  # noqa: E402
from data_sources.store import Store  # noqa: E402

PG_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SAMPLES = ROOT / "tests" / "data"


def _pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        import psycopg

        with psycopg.connect(
            PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3
        ):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server"
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}: {exc}"


_PG_REASON = _pg_available()


@pytest.fixture(autouse=True)
def _no_user_secrets(monkeypatch, tmp_path_factory):
    """Tests never read the developer's own .streamlit/secrets.toml or environment."""
    empty = tmp_path_factory.getbasetemp() / "no-secrets.toml"
    empty.write_text("")
    monkeypatch.setenv("DASHBOARD_SECRETS", str(empty))
    monkeypatch.delenv("COMPLAINTS_DB_URL", raising=False)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'complaints.db'}"


@pytest.fixture
def pg_url():
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    if _PG_REASON:
        pytest.skip(_PG_REASON)
    import psycopg

    schema_name = f"t_{uuid.uuid4().hex[:12]}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema_name}"')
    yield f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema_name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema_name}" CASCADE')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request) -> str:
    """Run a test once on a SQLite file and once on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_url")


def make_store(url: str, settings: Settings | None = None) -> Store:
    settings = settings or load_settings(db_url=url)
    return Store.open(url, settings)


@pytest.fixture
def store(db_url):
    s = make_store(db_url)
    yield s
    s.dispose()


@pytest.fixture
def sqlite_store(sqlite_url):
    s = make_store(sqlite_url)
    yield s
    s.dispose()
