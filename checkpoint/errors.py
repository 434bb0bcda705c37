"""One root for every error this project raises on purpose.

Each leaf also inherits the built-in it resembles, so callers that only know the
standard library (``except ValueError``) still catch it.
"""


class CheckpointError(Exception):
    """Root of the project's errors; the CLI prints these as one line."""


class ConfigError(CheckpointError, ValueError):
    """A config file or setting is missing, malformed or inconsistent."""


class ContractError(CheckpointError, ValueError):
    """A message does not follow the MQTT contract.

    ``reason`` is a short, stable code (``not_json``, ``bad_schema`` ...) that the hub
    counts and stores with the dead letter.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class StackError(CheckpointError, RuntimeError):
    """A local service (Mosquitto, InfluxDB, ...) could not be started or reached."""


class MissingExtraError(CheckpointError, ImportError):
    """An optional part is not installed (for example the hub on a node install)."""
