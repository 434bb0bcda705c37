"""The OpenAPI document is complete: every operation has a summary or description, its
error responses, and every request body an example."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

PUBLIC = {"/healthz", "/readyz", "/metrics", "/releases/{version}/files/{path}"}


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in doc["paths"].items() for method, op in ops.items()]


def test_every_operation_documents_its_errors_and_bodies(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    ops = operations(doc)
    assert len(ops) >= 25
    for path, method, op in ops:
        where = f"{method.upper()} {path}"
        assert op.get("summary") or op.get("description"), where
        codes = set(op["responses"])
        if path not in PUBLIC:
            assert {"401", "403"} <= codes, where
            assert "security" in op, where
        if op.get("parameters") or op.get("requestBody"):
            assert "422" in codes, where
        body = op.get("requestBody")
        if body is not None:
            ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
            assert schemas[ref].get("examples"), f"{where}: no example for {ref}"
