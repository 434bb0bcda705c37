"""The version a node should run: a retained document on the node's own release topic
(topics.release_topic), sealed with a hub anchor key like the trust documents, so that
nobody else who can write to the broker can make a node install or downgrade."""

from __future__ import annotations

from typing import Final

from pydantic import Field

from checkpoint.passes.documents import Document
from checkpoint.release.manifest import VERSION_PATTERN

RELEASE_DOC: Final = "release"  # the name the anchor signature covers


class DesiredRelease(Document):
    release: str = Field(pattern=VERSION_PATTERN, description="The software version to run")
    rollout_id: str = Field(max_length=64, description="The rollout that asks for it")
