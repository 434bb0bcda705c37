"""An admin key limited to a ward can do no more than its ward: it cannot mint a key wider
than itself, nor see or revoke another ward's keys; wards given twice are folded."""

from __future__ import annotations

from fastapi.testclient import TestClient

from hub.api.context import ApiContext
from hub.api.roles import Role
from tests.hub.api.conftest import Keys, auth


def test_a_ward_admin_cannot_mint_a_wider_key(
    client: TestClient, keys: Keys, api_ctx: ApiContext
) -> None:
    ward_admin = auth(api_ctx.keys.issue(Role.ADMIN, "phucla admin", wards=["phucla"])[1])
    wider = [
        {"role": "admin", "label": "all wards"},  # no wards: every ward
        {"role": "admin", "label": "other", "wards": ["hoangmai"]},
        {"role": "commander", "label": "both", "wards": ["phucla", "hoangmai"]},
        {"role": "technician", "label": "none given"},
    ]
    for body in wider:
        resp = client.post("/keys", json=body, headers=ward_admin)
        assert resp.status_code == 403, (body, resp.text)
    before = len(api_ctx.keys.list())

    own = client.post(
        "/keys",
        json={"role": "commander", "label": "night", "wards": ["phucla", "phucla"]},
        headers=ward_admin,
    )
    assert own.status_code == 201, own.text
    assert own.json()["wards"] == ["phucla"]
    assert len(api_ctx.keys.list()) == before + 1
    minted = api_ctx.keys.authenticate(own.json()["token"])
    assert minted is not None
    assert minted.wards == frozenset({"phucla"})
    assert minted.role is Role.COMMANDER
    # The unrestricted admin may still issue anything.
    assert (
        client.post("/keys", json={"role": "admin", "label": "x"}, headers=auth(keys.admin))
    ).status_code == 201


def test_a_ward_admin_lists_and_revokes_only_its_wards_keys(
    client: TestClient, keys: Keys, api_ctx: ApiContext
) -> None:
    ward_admin = auth(api_ctx.keys.issue(Role.ADMIN, "phucla admin", wards=["phucla"])[1])
    by_label = {p.label: p.key_id for p, _c, _r in api_ctx.keys.list()}
    listed = client.get("/keys", headers=ward_admin)
    assert listed.status_code == 200
    # tech and cmd are phucla's; admin (every ward) and cmd2 (hoangmai) are not.
    assert {k["label"] for k in listed.json()} == {"tech", "cmd", "phucla admin"}

    for other in ("admin", "cmd2"):
        resp = client.delete(f"/keys/{by_label[other]}", headers=ward_admin)
        assert resp.status_code == 404, resp.text
    assert client.get("/audit", headers=auth(keys.commander_other_ward)).status_code == 200
    assert client.get("/keys", headers=auth(keys.admin)).status_code == 200

    assert client.delete(f"/keys/{by_label['cmd']}", headers=ward_admin).status_code == 204
    assert client.get("/audit", headers=auth(keys.commander)).status_code == 401
    # The unrestricted admin sees every key, the revoked one too.
    everything = client.get("/keys", headers=auth(keys.admin)).json()
    assert {k["label"] for k in everything} == {"admin", "tech", "cmd", "cmd2", "phucla admin"}
