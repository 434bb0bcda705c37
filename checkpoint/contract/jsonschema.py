"""The contract as JSON Schema, for people who write their own clients.

docs/contract-schema.json is generated from this (``python -m checkpoint.contract.jsonschema``)
and a test keeps it equal to the models, so the document never drifts from the code.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter

from checkpoint.contract.alerts import AlertMessage
from checkpoint.contract.confirm import Confirmation
from checkpoint.contract.models import Command, ConfigPush, Event, NodeStatus
from checkpoint.contract.node.config import NodeConfig


def contract_schema() -> dict[str, Any]:
    return {
        "title": "Checkpoint MQTT contract, schema version 1",
        "payloads": {
            "event": TypeAdapter(Event).json_schema(),
            "status": NodeStatus.model_json_schema(),
            "config": ConfigPush.model_json_schema(),
            "node_config": NodeConfig.model_json_schema(),
            "command": Command.model_json_schema(),
            "confirm": Confirmation.model_json_schema(),
            "alert": AlertMessage.model_json_schema(),
        },
    }


def render() -> str:
    return json.dumps(contract_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
