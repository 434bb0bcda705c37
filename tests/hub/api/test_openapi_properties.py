"""Schemathesis over the whole OpenAPI document, with each role and with no key: no 500,
and every response matches the schema the document declares."""

from __future__ import annotations

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from hub.api.app import create_app
from hub.api.context import ApiContext
from hub.api.roles import Role
from hub.state import open_store

# Built at import: schemathesis's lazy fixture loader does not run under pytest 9.
_DB = Path(tempfile.mkdtemp(prefix="api-fuzz-")) / "hub.db"
_CTX = ApiContext(open_store(f"sqlite:///{_DB}"))
TOKENS = {
    "none": "",
    "admin": _CTX.keys.issue(Role.ADMIN, "fuzz admin")[1],
    "technician": _CTX.keys.issue(Role.TECHNICIAN, "fuzz tech", wards=["phucla"])[1],
    "commander": _CTX.keys.issue(Role.COMMANDER, "fuzz cmd", wards=["phucla"])[1],
}
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(_CTX))


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_500_and_responses_match_schema(case: schemathesis.Case) -> None:
    # The same generated request with no key and with each role's key.
    for token in TOKENS.values():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        case.call_and_validate(headers=headers)
