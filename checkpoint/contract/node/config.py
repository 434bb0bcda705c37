"""The node's config file (``checkpoint edge run --config NODE.yaml``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from checkpoint.contract.models import Id, Level
from checkpoint.contract.node.trust import TrustConfig
from checkpoint.contract.node.update import UpdateConfig
from checkpoint.contract.node.uplink import UplinkSettings
from checkpoint.settings.base import StrictModel
from checkpoint.settings.fields import kind_field
from checkpoint.settings.mqtt import MqttSettings

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
    presence_out: BcmPin | None = Field(
        default=None,
        description="Second presence sensor on the inside, for people leaving; none if absent",
    )
    override_key: BcmPin | None = Field(
        default=None,
        description="Operator's override key switch or button (high = turned); none if absent",
    )

    @model_validator(mode="after")
    def _distinct(self) -> PinsConfig:
        used: dict[int, str] = {}
        for name, pin in self.model_dump().items():
            if pin is None:
                continue
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
    sample_interval_s: float = Field(
        default=0.02, ge=0, le=1.0, description="Pause between samples of one measurement"
    )
    remeasure_delay_s: float = Field(
        default=3.0, ge=0, le=1800, description="Wait before re-measuring a high first reading"
    )
    plausible_min_c: float = Field(
        default=30.0, ge=-70, le=45, description="Below this nobody stands at the sensor: a fault"
    )
    plausible_max_c: float = Field(
        default=43.0, ge=35, le=380, description="Above this no person is alive: a sensor fault"
    )
    stuck_measurements: int = Field(
        default=3,
        ge=0,
        le=100,
        description="This many measurements in a row with every sample the same value mean a "
        "stuck sensor (0: never)",
    )

    @model_validator(mode="after")
    def _range(self) -> ThermometerConfig:
        if not self.plausible_min_c < self.fever_threshold_c < self.plausible_max_c:
            raise ValueError("need plausible_min_c < fever_threshold_c < plausible_max_c")
        return self


class BarrierConfig(StrictModel):
    """Barrier timings; supervision uses them to tell a fault from a slow motor."""

    open_s: float = Field(default=5.0, ge=0, le=120, description="How long it stays open")
    motion_timeout_s: float = Field(
        default=4.0, gt=0, le=60, description="Command to limit switch; longer is a fault"
    )
    held_open_limit_s: float = Field(
        default=30.0, gt=0, le=3600, description="Open (for any reason) longer raises held_open"
    )
    chatter_changes: int = Field(
        default=6, ge=2, le=1000, description="Switch changes within chatter_window_s = chatter"
    )
    chatter_window_s: float = Field(
        default=2.0, gt=0, le=600, description="Window for counting switch changes"
    )
    debounce_s: float | None = Field(
        default=None, ge=0, le=1, description="gpiozero bounce_time for the limit switches"
    )

    @model_validator(mode="after")
    def _held_after_open(self) -> BarrierConfig:
        if self.held_open_limit_s <= self.open_s:
            raise ValueError("held_open_limit_s must exceed open_s, or every passage is an alarm")
        return self


class SignalConfig(StrictModel):
    """How long the lights and buzzer tell the volunteer a decision."""

    refuse_show_s: float = Field(default=3.0, ge=0, le=60, description="Red light on after refusal")
    beep_s: float = Field(default=0.15, ge=0, le=5, description="One short beep")
    long_beep_s: float = Field(default=0.8, ge=0, le=10, description="One long beep (fever)")
    gap_s: float = Field(default=0.15, ge=0, le=5, description="Silence between beeps")


class CameraConfig(StrictModel):
    enabled: bool = Field(default=True, description="Read passes from the camera (picamera2)")
    width: int = Field(default=640, ge=160, le=4056, description="Frame width (pixels)")
    height: int = Field(default=480, ge=120, le=3040, description="Frame height (pixels)")
    fps: float = Field(default=15.0, gt=0, le=120, description="Frames per second asked for")


class ScannerConfig(StrictModel):
    """Where passes come from and how repeats are ignored."""

    wedge_device: str | None = Field(
        default=None,
        description="USB keyboard-wedge scanner: /dev/input/by-id/...-event-kbd (read as a "
        "keyboard) or a tty/FIFO (read as lines); none: camera only",
    )
    dedup_window_s: float = Field(
        default=3.0, ge=0, le=600, description="The same code again within this counts once"
    )
    pass_timeout_s: float = Field(
        default=10.0, gt=0, le=300, description="Wait this long for a pass, then refuse no_pass"
    )
    max_code_chars: int = Field(
        default=2048, ge=16, le=8192, description="Longer input is not a pass (refused unread)"
    )


class HealthConfig(StrictModel):
    interval_s: float = Field(default=60.0, gt=0, le=3600, description="Health event period")
    disk_path: str = Field(default="/", description="File system whose free space is reported")
    disk_low_bytes: int = Field(
        default=50_000_000, ge=0, description="Less free space raises the disk_low flag"
    )


class OverrideConfig(StrictModel):
    """The manual override: key turned, operator badge, then optionally a reason card."""

    badge_timeout_s: float = Field(
        default=15.0, gt=0, le=120, description="How long to wait for the operator badge"
    )
    reason_timeout_s: float = Field(
        default=5.0, ge=0, le=60, description="How long to wait for a reason card (else other)"
    )


class AntiPassbackConfig(StrictModel):
    """Refuse a pass coming "in" again with no "out" since (a pass lent through the fence)."""

    enabled: bool = Field(default=False, description="Needs both directions scanned here")
    forget_after_s: float = Field(
        default=16 * 3600, gt=0, description="An unmatched in is forgotten after this"
    )
    max_passes: int = Field(default=50_000, ge=100, description="Passes remembered at most")


class NodeConfig(StrictModel):
    kind: Literal["node"] = kind_field("node")
    node_id: Id = Field(description="Unique node id; also its MQTT user name")
    checkpoint_id: Id = Field(description="The checkpoint this node guards")
    ward_id: Id = Field(description="The ward (phuong) the checkpoint belongs to")
    version: str = Field(default="0", max_length=64, description="Config version, acked to hub")
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    pins: PinsConfig = Field(default_factory=PinsConfig)
    thermometer: ThermometerConfig = Field(default_factory=ThermometerConfig)
    zone_level: Level = Field(
        default="green",
        description="Risk level of the zone; decides which pass categories may pass",
    )
    direction: Literal["in", "out"] = Field(
        default="in", description="Direction of people seen by the main presence sensor"
    )
    barrier: BarrierConfig = Field(default_factory=BarrierConfig)
    signals: SignalConfig = Field(default_factory=SignalConfig)
    camera: CameraConfig = Field(default_factory=CameraConfig)
    scanner: ScannerConfig = Field(default_factory=ScannerConfig)
    health: HealthConfig = Field(default_factory=HealthConfig)
    uplink: UplinkSettings = Field(default_factory=UplinkSettings)
    trust: TrustConfig = Field(default_factory=TrustConfig)
    update: UpdateConfig = Field(default_factory=UpdateConfig)
    override: OverrideConfig = Field(default_factory=OverrideConfig)
    anti_passback: AntiPassbackConfig = Field(default_factory=AntiPassbackConfig)
    zone_id: Id | None = Field(
        default=None,
        description="The innermost green zone this checkpoint guards; the strictest level set "
        "on the checkpoint, this zone or a zone around it (zone policy ``zones``) applies",
    )
