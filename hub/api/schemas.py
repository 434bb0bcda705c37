"""Request and response bodies shared by several routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


class ErrorOut(BaseModel):
    detail: str = Field(examples=["no alert 'a-42'"])


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error responses a route can give."""
    text = {
        401: "No or an invalid API key",
        403: "The key's role or ward does not allow this",
        404: "No such resource",
        409: "Conflicts with the resource's state",
        413: "The request body is too large",
        422: "The request is not acceptable (the reason says why)",
        503: "A dependency is not reachable",
    }
    return {code: {"model": ErrorOut, "description": text[code]} for code in codes}


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _iso_only(value: object) -> object:
    # pydantic would read a number as Unix seconds; the schema promises an ISO 8601 string.
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("give a date-time as an ISO 8601 string, e.g. 2026-11-22T08:00:00+07:00")
    return value


IsoDatetime = Annotated[datetime, BeforeValidator(_iso_only)]
