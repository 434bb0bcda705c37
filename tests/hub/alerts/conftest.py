"""The alert tests run on both state-store engines (fixtures `engine` and `postgres` in
tests/hub/conftest.py); importing the tables here registers them before the store opens."""

from __future__ import annotations

from hub.alerts import tables  # noqa: F401 - registers the alert tables on the metadata
