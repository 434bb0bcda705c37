"""401 without or with a bad key, 403 for the wrong role or ward, audit of every change."""

from __future__ import annotations

from fastapi.testclient import TestClient

from hub.api.app import create_app
from hub.api.context import ApiContext
from tests.hub.api.conftest import Keys, auth


def test_health_needs_no_key(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "checks": {"state_store": True}, "missing": []}


def test_readyz_reports_what_is_down(api_ctx: ApiContext) -> None:
    api_ctx.probes = {**api_ctx.probes, "broker": lambda: False}
    with TestClient(create_app(api_ctx)) as c:
        resp = c.get("/readyz")
    assert resp.status_code == 503
    assert resp.json()["checks"] == {"broker": False, "state_store": True}


def test_missing_and_bad_credentials_are_401(client: TestClient, keys: Keys) -> None:
    resp = client.get("/keys")
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == "Bearer"
    assert client.get("/keys", headers=auth("cpk_000000000000_nope")).status_code == 401
    assert client.get("/keys", headers=auth("garbage")).status_code == 401
    forged = keys.admin[:-2] + ("AA" if not keys.admin.endswith("AA") else "BB")
    assert client.get("/keys", headers=auth(forged)).status_code == 401
    assert client.get("/keys", headers={"X-API-Key": keys.admin}).status_code == 200


def test_wrong_role_is_403(client: TestClient, keys: Keys) -> None:
    resp = client.get("/keys", headers=auth(keys.commander))
    assert resp.status_code == 403
    assert "needs one of: admin" in resp.json()["detail"]
    assert client.get("/audit", headers=auth(keys.technician)).status_code == 403


def test_issue_use_and_revoke_a_key_is_audited(client: TestClient, keys: Keys) -> None:
    created = client.post(
        "/keys",
        json={"role": "technician", "label": "Tech A", "wards": ["phucla"]},
        headers=auth(keys.admin),
    )
    assert created.status_code == 201
    body = created.json()
    assert body["token"].startswith(f"cpk_{body['key_id']}_")
    listed = client.get("/keys", headers=auth(keys.admin)).json()
    assert body["key_id"] in {k["key_id"] for k in listed}
    assert "token" not in listed[0]

    assert client.delete(f"/keys/{body['key_id']}", headers=auth(keys.admin)).status_code == 204
    assert client.delete(f"/keys/{body['key_id']}", headers=auth(keys.admin)).status_code == 404
    # The revoked key no longer authenticates.
    assert client.get("/audit", headers=auth(body["token"])).status_code == 401

    log = client.get("/audit", headers=auth(keys.admin)).json()["items"]
    assert [e["action"] for e in log[:2]] == ["key.revoke", "key.issue"]
    assert log[1]["detail"]["wards"] == ["phucla"]


def test_bad_input_is_422_with_the_field(client: TestClient, keys: Keys) -> None:
    resp = client.post("/keys", json={"role": "mayor", "label": ""}, headers=auth(keys.admin))
    assert resp.status_code == 422
    locs = {tuple(e["loc"]) for e in resp.json()["detail"]}
    assert ("body", "role") in locs
    assert ("body", "label") in locs


def test_ward_limited_keys_see_only_their_ward(
    client: TestClient, keys: Keys, api_ctx: ApiContext
) -> None:
    admin = api_ctx.keys.authenticate(keys.admin)
    assert admin is not None
    api_ctx.audit.record(admin, "level.set", "phucla-cp01", ward_id="phucla")
    api_ctx.audit.record(admin, "level.set", "hm-cp01", ward_id="hoangmai")
    mine = client.get("/audit", headers=auth(keys.commander)).json()["items"]
    assert {e["ward_id"] for e in mine} == {"phucla"}
    other = client.get("/audit?ward=phucla", headers=auth(keys.commander_other_ward))
    assert other.status_code == 403


def test_a_body_that_is_not_json_is_422(client: TestClient, keys: Keys) -> None:
    resp = client.post(
        "/keys",
        content=b"\xff not json",
        headers={**auth(keys.admin), "Content-Type": "application/json"},
    )
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["type"] == "json_invalid"


def test_405_lists_every_method_of_the_path(client: TestClient, keys: Keys) -> None:
    resp = client.put("/keys", headers=auth(keys.admin))
    assert resp.status_code == 405
    assert {m.strip() for m in resp.headers["allow"].split(",")} >= {"GET", "POST"}
