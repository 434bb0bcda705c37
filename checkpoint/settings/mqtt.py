"""How a node or the hub reaches the broker."""

from __future__ import annotations

from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from pydantic import Field, model_validator

from checkpoint.settings.base import StrictModel
from checkpoint.settings.fields import Host
from checkpoint.settings.secrets import read_secret

# The hub's MQTT sessions, as suffixes of its client_id: the ingest lane, the priority
# lane, the API's downlink (which also publishes the trust data) and the alert publisher.
# A broker that binds the client id to the certificate (use_identity_as_username with
# use_username_as_clientid) needs one certificate per session, named by its client id;
# `checkpoint provision` issues one for each of these.
HUB_SESSION_SUFFIXES = ("", "-priority", "-api", "-alerts", "-confirm")
CLIENT_ID_FIELD = "{client_id}"


def hub_session_ids(client_id: str) -> list[str]:
    return [client_id + suffix for suffix in HUB_SESSION_SUFFIXES]


class TlsSettings(StrictModel):
    ca_file: Path = Field(description="CA certificate that signed the broker's certificate")
    cert_file: Path | None = Field(
        default=None,
        description="Client certificate (mutual TLS); {client_id} in the path stands for "
        "the session's client id (one certificate per hub session)",
    )
    key_file: Path | None = Field(
        default=None, description="Client private key; {client_id} as in cert_file"
    )

    @model_validator(mode="after")
    def _cert_and_key_together(self) -> TlsSettings:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together: set both or neither")
        for path in (self.cert_file, self.key_file):
            # A brace other than {client_id} is a typo; str.format would fail at connect.
            if path is not None and "{" in str(path).replace(CLIENT_ID_FIELD, ""):
                raise ValueError(f"{path}: the only placeholder is {CLIENT_ID_FIELD}")
        return self

    def client_files(self, client_id: str) -> tuple[str | None, str | None]:
        """The certificate and key of the session ``client_id``."""

        def named(path: Path | None) -> str | None:
            return None if path is None else str(path).replace(CLIENT_ID_FIELD, client_id)

        return named(self.cert_file), named(self.key_file)


class MqttSettings(StrictModel):
    host: Host = Field(default="127.0.0.1", description="Broker host name or address")
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

    def new_client(
        self,
        client_id: str,
        *,
        manual_ack: bool = False,
        client_class: type[mqtt.Client] = mqtt.Client,
    ) -> mqtt.Client:
        """A paho MQTT 5 client with our credentials and TLS, the same for every client
        (``client_class``: a subclass of paho's, for the hub's session process)."""
        client = client_class(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTProtocolVersion.MQTTv5,
            manual_ack=manual_ack,
        )
        if self.username:
            client.username_pw_set(self.username, self.resolved_password())
        if self.tls is not None:
            certfile, keyfile = self.tls.client_files(client_id)
            client.tls_set(ca_certs=str(self.tls.ca_file), certfile=certfile, keyfile=keyfile)
        return client
