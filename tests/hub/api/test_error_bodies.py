"""Error bodies say where and what is wrong, never what was sent: a pass request carries the
holder's document number, which must not come back in a 422; nor does any error name a
file on the hub."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.api.context import ApiContext
from hub.passes.desk import PassDesk
from hub.passes.settings import PassesSettings
from tests.hub.api.conftest import Keys, auth

NUMBER = "079201012345"  # a citizen ID number


@pytest.fixture
def desk(api_ctx: ApiContext, tmp_path: Path) -> PassDesk:
    """A pass desk with the ward's salt and, as yet, no signing key (the API reads it from
    the context at each request)."""
    api_ctx.passes = PassDesk(api_ctx.engine, PassesSettings(), directory=tmp_path / "passes")
    api_ctx.passes.issuer.salt = b"phucla-salt"
    return api_ctx.passes


@pytest.mark.parametrize(
    "changes",
    [
        {"category": "mayor"},
        {"label": "x" * 25},
        {"valid_days": 0},
        {"valid_from": 1.5e9},
        {"checkpoints": ["Not An Id"]},
        {"surname": "Nguyen"},
        {"document_number": NUMBER * 3},  # too long: the field itself is wrong
        {"document_number": int(NUMBER)},
        {"document_number": [NUMBER]},
        {"ward_id": NUMBER.upper() + "!"},
    ],
)
def test_no_422_body_echoes_the_document_number(
    client: TestClient, keys: Keys, desk: PassDesk, changes: dict[str, object]
) -> None:
    desk.keys.create_key("hub-a")
    body = {"category": "resident", "ward_id": "phucla", "document_number": NUMBER} | changes
    resp = client.post("/passes", json=body, headers=auth(keys.commander))
    assert resp.status_code == 422, resp.text
    assert NUMBER not in resp.text
    detail = resp.json()["detail"]
    assert detail
    assert all({"loc", "msg", "type"} == set(e) for e in detail)


def test_no_error_names_a_file_on_the_hub(
    client: TestClient, keys: Keys, desk: PassDesk, tmp_path: Path
) -> None:
    # No signing key yet: the hub cannot issue, and says so without naming its key folder.
    resp = client.post(
        "/passes",
        json={"category": "resident", "ward_id": "phucla", "document_number": NUMBER},
        headers=auth(keys.commander),
    )
    assert resp.status_code == 503  # the hub lacks a key; the request was fine
    assert "signing key" in resp.text
    assert str(tmp_path) not in resp.text
    assert "/" not in str(resp.json()["detail"]).replace("keygen", "")
    assert NUMBER not in resp.text
