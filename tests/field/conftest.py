"""The provisioned ward and its TLS broker are shared fixtures now (tests/provisioned.py,
registered in tests/conftest.py): the reliability suite's ACL scenario uses them too."""

from __future__ import annotations

from tests.provisioned import account_settings, small_ward

__all__ = ["account_settings", "small_ward"]
