"""The reliability suite's report: each scenario records its account with ``ledger``.

The fast variants run in the README's test command; the long ones are marked ``slow`` and
run with ``./run bench reliability`` (all of them, then a table and a final JSON line).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.reliability.ledger import ScenarioResult

REPORT_ENV = "CHECKPOINT_RELIABILITY_REPORT"
_results: list[ScenarioResult] = []


class Ledger:
    def record(self, result: ScenarioResult) -> ScenarioResult:
        """Keep the account for the report, then fail the test if it does not balance."""
        _results.append(result)
        result.check()
        return result


@pytest.fixture
def ledger() -> Ledger:
    return Ledger()


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = os.environ.get(REPORT_ENV)
    if target and _results:
        Path(target).write_text(json.dumps([r.as_dict() for r in _results], indent=1))
