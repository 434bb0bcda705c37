"""Every operation of the API, enumerated from its own OpenAPI document, asked without a
key, with a malformed Authorization header, with an unknown or forged key and with a
revoked one: 401 for every protected operation, never a 2xx and never a 5xx (not even
where InfluxDB and the broker are not configured: the key is checked first). Then each
role on the operations its role may not use: 403.

Schemathesis over the whole document with each role is tests/hub/api/test_openapi_properties.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.alerts.config import AlertsConfig
from hub.alerts.store import AlertStore
from hub.api.app import create_app
from hub.api.context import ApiContext
from hub.api.roles import Role
from hub.passes.desk import PassDesk
from hub.passes.settings import PassesSettings
from hub.state import open_store

PUBLIC = {
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    # Nodes download releases without a key: signed, and checked by the node itself.
    ("get", "/releases/{version}/files/{path}"),
}

# Who may do what where a role applies, as docs/api.md specifies it (admin may do
# everything); every other protected operation is open to every role.
RESTRICTED: dict[tuple[str, str], set[Role]] = {
    ("put", "/nodes/{node_id}/config"): {Role.TECHNICIAN},
    ("post", "/nodes/{node_id}/commands"): {Role.TECHNICIAN},
    ("post", "/releases"): {Role.TECHNICIAN},
    ("post", "/rollouts"): {Role.TECHNICIAN},
    ("post", "/rollouts/{rollout_id}/resume"): {Role.TECHNICIAN},
    ("put", "/wards/{ward_id}/levels/{target}"): {Role.COMMANDER},
    ("put", "/wards/{ward_id}/policy"): {Role.COMMANDER},
    ("post", "/alerts/{alert_id}/ack"): {Role.COMMANDER},
    ("post", "/alerts/{alert_id}/resolve"): {Role.COMMANDER},
    ("get", "/audit"): {Role.COMMANDER},
    ("get", "/trace/passes/{pass_id}"): {Role.COMMANDER},
    ("get", "/trace/checkpoints/{checkpoint_id}"): {Role.COMMANDER},
    ("get", "/reports/daily"): {Role.COMMANDER},
    ("get", "/keys"): set(),
    ("post", "/keys"): set(),
    ("delete", "/keys/{key_id}"): set(),
    ("post", "/passes"): {Role.TECHNICIAN, Role.COMMANDER},
    ("post", "/passes/revocations/snapshot"): {Role.TECHNICIAN, Role.COMMANDER},
    ("post", "/passes/{pass_id}/revoke"): {Role.TECHNICIAN, Role.COMMANDER},
}


@pytest.fixture
def ctx(tmp_path: Path) -> ApiContext:
    """The state store, alerts and passes; no InfluxDB and no broker, so that a request
    that got past authentication to them would answer 503 and fail the test."""
    context = ApiContext(
        open_store(f"sqlite:///{tmp_path / 'hub.db'}"), stream_poll_s=0.05, stream_max_s=0.3
    )
    context.alerts = AlertStore(context.engine, AlertsConfig())
    context.passes = PassDesk(context.engine, PassesSettings(), directory=tmp_path / "passes")
    context.passes.keys.create_key("hostile")
    return context


@pytest.fixture
def client(ctx: ApiContext) -> Iterator[TestClient]:
    with TestClient(create_app(ctx)) as c:
        yield c


def operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    doc = client.get("/openapi.json").json()
    return [(m, path, op) for path, ops in doc["paths"].items() for m, op in ops.items()]


def concrete(path: str) -> str:
    """A request path: every path parameter given a plausible value."""
    return re.sub(r"\{[^}]+\}", "phucla-cp01-n1", path)


def call(client: TestClient, method: str, path: str, headers: dict[str, str]) -> int:
    body = {"json": {}} if method in ("post", "put", "patch") else {}
    return client.request(method.upper(), concrete(path), headers=headers, **body).status_code


def bad_credentials(ctx: ApiContext) -> dict[str, dict[str, str]]:
    admin = ctx.keys.issue(Role.ADMIN, "to be revoked")
    ctx.keys.revoke(admin[0].key_id)
    live = ctx.keys.issue(Role.ADMIN, "live")[1]
    forged = live[:-4] + ("AAAA" if not live.endswith("AAAA") else "BBBB")
    return {
        "none": {},
        "empty bearer": {"Authorization": "Bearer "},
        "scheme only": {"Authorization": "Bearer"},
        "basic auth": {"Authorization": "Basic YWRtaW46YWRtaW4="},
        "no scheme": {"Authorization": live},
        "garbage": {"Authorization": "Bearer ;;; DROP TABLE api_keys; --"},
        "huge": {"Authorization": "Bearer cpk_" + "a" * 20_000},
        "unknown key": {"Authorization": "Bearer cpk_000000000000_nope"},
        "forged secret": {"Authorization": f"Bearer {forged}"},
        "forged in X-API-Key": {"X-API-Key": forged},
        "prefix only": {"X-API-Key": "cpk__"},
        "revoked": {"Authorization": f"Bearer {admin[1]}"},
        "revoked in X-API-Key": {"X-API-Key": admin[1]},
    }


def test_every_protected_operation_refuses_missing_and_bad_credentials(
    client: TestClient, ctx: ApiContext
) -> None:
    ops = operations(client)
    protected = [(m, p) for m, p, op in ops if (m, p) not in PUBLIC]
    assert len(protected) >= 25
    for m, p, op in ops:
        assert ("security" in op) == ((m, p) not in PUBLIC), f"{m.upper()} {p}"
    wrong: list[str] = []
    for name, headers in bad_credentials(ctx).items():
        for method, path in protected:
            status = call(client, method, path, headers)
            if status != 401:
                wrong.append(f"{name}: {method.upper()} {path} -> {status}")
    assert wrong == []


def test_each_role_is_refused_where_its_role_does_not_apply(
    client: TestClient, ctx: ApiContext
) -> None:
    tokens = {role: ctx.keys.issue(role, f"{role} key")[1] for role in Role}
    ops = [(m, p) for m, p, _op in operations(client) if (m, p) not in PUBLIC]
    assert set(RESTRICTED) <= set(ops), "the table names an operation the API lacks"
    wrong: list[str] = []
    for method, path in ops:
        allowed = RESTRICTED.get((method, path), set(Role)) | {Role.ADMIN}
        for role, token in tokens.items():
            status = call(client, method, path, {"Authorization": f"Bearer {token}"})
            if role not in allowed and status != 403:
                wrong.append(f"{role}: {method.upper()} {path} -> {status}, not 403")
            if role in allowed and status in (401, 403):
                wrong.append(f"{role}: {method.upper()} {path} -> {status}, but it may")
    assert wrong == []
