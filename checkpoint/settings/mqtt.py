"""How a node or the hub reaches the broker."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from checkpoint.settings.base import StrictModel
from checkpoint.settings.secrets import read_secret


class TlsSettings(StrictModel):
    ca_file: Path = Field(description="CA certificate that signed the broker's certificate")
    cert_file: Path | None = Field(default=None, description="Client certificate (mutual TLS)")
    key_file: Path | None = Field(default=None, description="Client private key")

    @model_validator(mode="after")
    def _cert_and_key_together(self) -> TlsSettings:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together: set both or neither")
        return self


class MqttSettings(StrictModel):
    host: str = Field(default="127.0.0.1", description="Broker host name or address")
    port: int = Field(default=1883, ge=1, le=65535, description="Broker port (8883 for TLS)")
    username: str | None = Field(default=None, description="Per-node or hub user name")
    password: str | None = Field(
        default=None,
        description="Password; prefer password_credential so it stays out of the file",
    )
    password_credential: str | None = Field(
        default=None,
        description="Name of a file in $CREDENTIALS_DIRECTORY (systemd LoadCredential=)",
    )
    tls: TlsSettings | None = Field(default=None, description="TLS; off when absent")
    keepalive_s: int = Field(default=30, ge=5, le=3600, description="MQTT keepalive")

    @model_validator(mode="after")
    def _one_password_source(self) -> MqttSettings:
        if self.password is not None and self.password_credential is not None:
            raise ValueError("set password or password_credential, not both")
        return self

    def resolved_password(self) -> str | None:
        if self.password_credential is not None:
            return read_secret(self.password_credential)
        return self.password
