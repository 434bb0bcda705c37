"""docs/passes.md names every refusal, category and trust document the code has."""

from __future__ import annotations

from pathlib import Path

from checkpoint.contract.models import Reason
from checkpoint.passes.documents import DOCUMENT_NAMES
from checkpoint.passes.model import Category

TEXT = (Path(__file__).resolve().parents[2] / "docs" / "passes.md").read_text()
NOT_PASS_REASONS = {Reason.OK, Reason.FEVER, Reason.THERMOMETER_FAULT, Reason.NO_PASS}


def test_every_refusal_reason_is_documented() -> None:
    for reason in set(Reason) - NOT_PASS_REASONS:
        assert f"`{reason.value}`" in TEXT, reason


def test_every_category_and_document_is_documented() -> None:
    for category in Category:
        assert f"`{category.value}`" in TEXT, category
    for name in DOCUMENT_NAMES:
        assert f"`{name}`" in TEXT, name
