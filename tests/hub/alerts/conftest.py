"""The alert store on both engines it supports: a SQLite file and a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from checkpoint.localstack.postgres import Postgres
from hub.alerts import tables  # noqa: F401 - registers the alert tables on the metadata
from hub.state import open_store


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    with Postgres(tmp_path_factory.mktemp("postgres")) as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path, unique: str) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hub.db'}"
    else:
        server: Postgres = request.getfixturevalue("postgres")
        url = server.create_database(f"alerts_{unique}")
    store = open_store(url)
    yield store
    store.dispose()
