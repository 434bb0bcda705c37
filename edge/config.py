"""The node's config file (``checkpoint edge run --config NODE.yaml``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from checkpoint.contract.models import Id
from checkpoint.settings.base import StrictModel
from checkpoint.settings.mqtt import MqttSettings
from edge.uplink.settings import UplinkSettings

BcmPin = Annotated[int, Field(ge=2, le=27, description="BCM GPIO number")]


class PinsConfig(StrictModel):
    """Which GPIO (BCM numbering) is wired to what; defaults match firmware_config/wiring."""

    presence: BcmPin = Field(default=17, description="Presence sensor output (high = person)")
    barrier_closed: BcmPin = Field(default=22, description="Closed-limit switch (high = closed)")
    barrier_open: BcmPin = Field(default=23, description="Open-limit switch (high = open)")
    barrier_relay: BcmPin = Field(default=24, description="Barrier actuator relay (high = open)")
    green_light: BcmPin = Field(default=5, description="Green indicator lamp")
    red_light: BcmPin = Field(default=6, description="Red indicator lamp")
    buzzer: BcmPin = Field(default=13, description="Buzzer")

    @model_validator(mode="after")
    def _distinct(self) -> PinsConfig:
        used: dict[int, str] = {}
        for name, pin in self.model_dump().items():
            if pin in used:
                raise ValueError(f"GPIO {pin} is used for both {used[pin]} and {name}")
            used[pin] = name
        return self


class ThermometerConfig(StrictModel):
    i2c_bus: int = Field(default=1, ge=0, description="/dev/i2c-N")
    address: int = Field(default=0x5A, ge=0x03, le=0x77, description="MLX90614 SMBus address")
    emissivity: float = Field(default=0.98, gt=0.1, le=1.0, description="Human skin is ~0.98")
    samples: int = Field(default=5, ge=1, le=50, description="Samples averaged per measurement")
    fever_threshold_c: float = Field(
        default=37.5, ge=35.0, le=42.0, description="A confirmed reading at or above is fever"
    )


class NodeConfig(StrictModel):
    node_id: Id = Field(description="Unique node id; also its MQTT user name")
    checkpoint_id: Id = Field(description="The checkpoint this node guards")
    ward_id: Id = Field(description="The ward (phuong) the checkpoint belongs to")
    version: str = Field(default="0", max_length=64, description="Config version, acked to hub")
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    pins: PinsConfig = Field(default_factory=PinsConfig)
    thermometer: ThermometerConfig = Field(default_factory=ThermometerConfig)
    uplink: UplinkSettings = Field(default_factory=UplinkSettings)
