"""The current risk level of each zone and checkpoint of a ward (hub -> nodes, retained).

Published on ``checkpoint/v1/trust/levels-<ward>``. A node takes its checkpoint's entry if
there is one, else its zone's, else the level in its own config; the zone policy (signed
passes) says which categories may pass at that level.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field

from checkpoint.contract.models import SCHEMA_VERSION, Id, WireModel
from checkpoint.contract.topics import levels_topic

__all__ = ["ZoneLevels", "levels_topic"]


class ZoneLevels(WireModel):
    v: Literal[1] = SCHEMA_VERSION
    ward_id: Id
    version: int = Field(ge=1, description="Increases with every change in the ward")
    issued_at: AwareDatetime
    levels: dict[Id, Id] = Field(
        default_factory=dict, description="Zone or checkpoint id -> level (green, red, level3...)"
    )
