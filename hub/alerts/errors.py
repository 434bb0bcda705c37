"""Errors of the alert API; the hub API maps them to HTTP 404 and 409."""

from checkpoint.errors import CheckpointError


class AlertNotFoundError(CheckpointError, LookupError):
    """No alert has this id (HTTP 404)."""


class AlertConflictError(CheckpointError, ValueError):
    """The alert's state does not allow this, e.g. acknowledging a resolved one (HTTP 409)."""


class AlertInputError(CheckpointError, ValueError):
    """A person's input to the alert API is unusable, e.g. no name (HTTP 422)."""


class DeliveryError(CheckpointError, ConnectionError):
    """One delivery attempt failed; the outbox row stays and is retried later."""
