"""The base of every config model: a misspelt key is an error, not a silent default."""

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)
