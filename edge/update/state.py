"""What the updater remembers across restarts (a JSON file beside the outbox): the switch
on trial, and the versions this node refused, so a retained request is not retried."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from checkpoint.atomic import write_atomic


class Trial(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    from_version: str
    to_version: str
    previous: str = Field(description="Where 'current' pointed before the switch")
    rollout_id: str


class UpdateState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trial: Trial | None = None
    refused: dict[str, str] = Field(default_factory=dict, description="version -> reason")


def load_state(path: Path) -> UpdateState:
    try:
        return UpdateState.model_validate_json(path.read_bytes())
    except FileNotFoundError:
        return UpdateState()
    except (OSError, ValidationError, json.JSONDecodeError):
        # A damaged file must not stop the node; forgetting refusals only means retrying.
        return UpdateState()


def save_state(path: Path, state: UpdateState) -> None:
    write_atomic(path, state.model_dump_json().encode())
