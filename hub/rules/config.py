"""Rule thresholds, with per-ward overrides (``rules.wards.<ward>.<field>``).

A ward override names only the fields it changes; the rest come from ``defaults``.
"""

from __future__ import annotations

from pydantic import Field

from checkpoint.settings.base import StrictModel


class Thresholds(StrictModel):
    # fever
    fever_resolve_after_s: float = Field(
        default=1800, gt=0, description="Fever alert resolves after this long without a new one"
    )
    # thermometer
    physiological_min_c: float = Field(default=30.0, description="Below: not a person's skin")
    physiological_max_c: float = Field(default=43.0, description="Above: not a person's skin")
    range_clear_readings: int = Field(
        default=3, ge=1, description="In-range readings in a row that clear out-of-range"
    )
    stuck_readings: int = Field(
        default=8, ge=3, description="Identical readings in a row that mean a stuck sensor"
    )
    stuck_tolerance_c: float = Field(default=0.005, ge=0, description="What 'identical' means")
    drift_window: int = Field(default=10, ge=3, description="Readings per node compared")
    ambient_min_delta_c: float = Field(
        default=1.0, description="Mean object minus ambient below this: sensor sees no body"
    )
    peer_drift_c: float = Field(
        default=1.0, gt=0, description="Node's median off the ward's other nodes by more"
    )
    peer_min_nodes: int = Field(default=2, ge=1, description="Other nodes needed to compare")
    # passes
    refused_burst_count: int = Field(default=5, ge=2, description="Refusals in the window")
    refused_burst_window_s: float = Field(default=60, gt=0, description="Sliding window")
    clone_min_travel_s: float = Field(
        default=120, gt=0, description="Same pass at two checkpoints sooner than this: cloned"
    )
    incident_resolve_after_s: float = Field(
        default=3600, gt=0, description="Cloned-pass / forced-open alerts resolve after quiet"
    )
    # node health
    heartbeat_timeout_s: float = Field(
        default=180, gt=0, description="No health event for this long: node offline"
    )
    max_clock_skew_s: float = Field(default=60, gt=0, description="|node clock - hub clock|")
    backlog_min_depth: int = Field(default=100, ge=1, description="Outbox depth worth noting")
    backlog_rising_reports: int = Field(
        default=3, ge=2, description="Health reports in a row with a rising outbox depth"
    )
    cpu_temp_critical_c: float = Field(default=80.0, description="Raspberry Pi throttles ~80-85")
    cpu_temp_hysteresis_c: float = Field(default=5.0, ge=0, description="Clears this far below")
    disk_free_min_bytes: int = Field(default=200_000_000, ge=0, description="Below: critical")
    # traffic
    traffic_alpha: float = Field(default=0.3, gt=0, le=1, description="EWMA weight of new hour")
    traffic_min_samples: int = Field(
        default=3, ge=1, description="Days of an hour learned before judging it"
    )
    traffic_high_factor: float = Field(default=3.0, gt=1, description="Above mean x this: off")
    traffic_low_factor: float = Field(default=0.2, ge=0, lt=1, description="Below mean x this")
    traffic_min_mean: float = Field(
        default=5.0, ge=0, description="Hours usually quieter than this are not judged"
    )
    utc_offset_h: float = Field(default=7.0, description="Ward local time (Vietnam: UTC+7)")
    passback_forget_s: float = Field(
        default=16 * 3600, gt=0, description="An unmatched 'in' in a zone is forgotten after"
    )
    override_grace_s: float = Field(
        default=5, ge=0, description="A forced opening this close to an override is the override"
    )
    override_window_s: float = Field(
        default=3600, gt=0, description="Overrides at a checkpoint are counted over this"
    )
    override_rate_min: int = Field(
        default=6, ge=1, description="Overrides in the window always worth an alert"
    )
    override_rate_factor: float = Field(
        default=3.0, gt=1, description="Above the checkpoint's usual count x this: an alert"
    )


class WardThresholds(Thresholds):
    """Same fields; only the ones set in the file override the defaults."""


class RulesConfig(StrictModel):
    enabled: bool = Field(default=True, description="Run the anomaly rules at all")
    defaults: Thresholds = Field(default_factory=Thresholds)
    wards: dict[str, WardThresholds] = Field(
        default_factory=dict, description="Per-ward overrides, by ward id"
    )

    def for_ward(self, ward_id: str) -> Thresholds:
        override = self.wards.get(ward_id)
        if override is None:
            return self.defaults
        return self.defaults.model_copy(update=override.model_dump(exclude_unset=True))
