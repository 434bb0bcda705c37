"""The API built by its factory against a real state store (SQLite file)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.api.context import ApiContext
from hub.api.roles import Role
from hub.state import open_store


@dataclass
class Keys:
    admin: str
    technician: str
    commander: str
    commander_other_ward: str


@pytest.fixture
def api_ctx(tmp_path: Path) -> ApiContext:
    return ApiContext(open_store(f"sqlite:///{tmp_path / 'hub.db'}"))


@pytest.fixture
def client(api_ctx: ApiContext) -> Iterator[TestClient]:
    with TestClient(create_app(api_ctx)) as c:
        yield c


@pytest.fixture
def keys(api_ctx: ApiContext) -> Keys:
    issue = api_ctx.keys.issue
    return Keys(
        admin=issue(Role.ADMIN, "admin")[1],
        technician=issue(Role.TECHNICIAN, "tech", wards=["phucla"])[1],
        commander=issue(Role.COMMANDER, "cmd", wards=["phucla"])[1],
        commander_other_ward=issue(Role.COMMANDER, "cmd2", wards=["hoangmai"])[1],
    )


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
