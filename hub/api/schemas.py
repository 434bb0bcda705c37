"""Request and response bodies shared by several routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorOut(BaseModel):
    detail: str = Field(examples=["no alert 'a-42'"])


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error responses a route can give."""
    text = {
        401: "No or an invalid API key",
        403: "The key's role or ward does not allow this",
        404: "No such resource",
        409: "Conflicts with the resource's state",
        503: "A dependency is not reachable",
    }
    return {code: {"model": ErrorOut, "description": text[code]} for code in codes}


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
