"""The published contract documents are the code's, not a second copy that can drift."""

from __future__ import annotations

from pathlib import Path

from checkpoint.contract import EventType
from checkpoint.contract.codec import REASONS
from checkpoint.contract.jsonschema import render

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_json_schema_document_is_current() -> None:
    current = (DOCS / "contract-schema.json").read_text()
    assert current == render(), (
        "docs/contract-schema.json is stale: python -m checkpoint.contract.jsonschema "
        "> docs/contract-schema.json"
    )


def test_reference_names_every_event_type_and_reason() -> None:
    text = (DOCS / "contract.md").read_text()
    for event_type in EventType:
        assert f"`{event_type.value}`" in text
    for reason in REASONS:
        assert f"`{reason}`" in text
