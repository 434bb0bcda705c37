"""The city soak's load model: who publishes what, how often, and the payloads.

The rates come from stated assumptions (``LoadModel``), the node's own defaults where it
has them (its health period, thermometer samples and fever threshold), and the Hà Nội
figures of the design brief: about 26,000 community teams over 579 wards and communes in
30 districts, one checkpoint node each. Payloads are built with the contract's models, so
the hub validates them as it validates a node's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from checkpoint.contract import Health, Passage, Reading, encode, topics, uuid7
from checkpoint.contract.models import (
    BarrierMotion,
    Decision,
    PassCheck,
    Reason,
    TemperatureCheck,
)
from checkpoint.contract.node.config import HealthConfig, ThermometerConfig
from checkpoint.passes.model import Category

HEALTH = HealthConfig()
THERMOMETER = ThermometerConfig()
# The district whose wards carry the lag probe (their points are polled for in InfluxDB).
PROBE_PREFIX = "hn-d00-"
KINDS = ("reading", "passage", "health")


@dataclass(frozen=True, slots=True)
class LoadModel:
    """A busy daytime hour across the city."""

    checkpoints: int = 26_000
    wards: int = 579
    districts: int = 30
    # One person a minute, in and out together, at a residential green zone's gate in a
    # busy hour under Directive 16 (residents leave only for essential needs).
    passages_per_hour: float = 60.0
    # High first readings (sun, a hot helmet) measured again: a second reading event.
    remeasure_share: float = 0.03
    # Passages whose re-measurement confirms fever (refused, and a fever alert).
    fever_share: float = 0.005
    # Refused for no pass or an unreadable one (the rest are admitted).
    refused_share: float = 0.03
    health_interval_s: float = HEALTH.interval_s

    @property
    def ward_count(self) -> int:
        return min(self.wards, self.checkpoints)

    @property
    def district_count(self) -> int:
        return min(self.districts, self.ward_count)

    def per_checkpoint(self) -> dict[str, float]:
        """Messages per second from one checkpoint, by kind."""
        passages = self.passages_per_hour / 3600
        return {
            "reading": passages * (1 + self.remeasure_share),
            "passage": passages,
            "health": 1 / self.health_interval_s,
        }

    def msgs_per_s(self, checkpoints: float | None = None) -> float:
        n = self.checkpoints if checkpoints is None else checkpoints
        return n * sum(self.per_checkpoint().values())

    def describe(self) -> list[str]:
        per = self.per_checkpoint()
        ward = self.checkpoints / self.ward_count
        district = self.checkpoints / self.district_count
        return [
            f"{self.checkpoints:,} checkpoints (one node each) in {self.ward_count} wards, "
            f"{self.district_count} districts",
            f"per checkpoint: {self.passages_per_hour:g} passages/h, each with one reading "
            f"(+{self.remeasure_share:.0%} re-measured, {self.fever_share:.1%} fever), "
            f"health every {self.health_interval_s:g} s",
            "msg/s per checkpoint: "
            + ", ".join(f"{k} {v:.4f}" for k, v in per.items())
            + f" = {sum(per.values()):.4f}",
            f"msg/s: ward ({ward:.0f} checkpoints) {self.msgs_per_s(ward):,.1f}, "
            f"district ({district:.0f}) {self.msgs_per_s(district):,.0f}, "
            f"city {self.msgs_per_s():,.0f}",
        ]


class Node:
    """One checkpoint's node: its names, its own sequence numbers, its residents."""

    __slots__ = ("checkpoint_id", "index", "node_id", "probe", "seq", "started", "topic", "ward")

    def __init__(self, index: int, model: LoadModel, now: float) -> None:
        wards = model.ward_count
        w = index * wards // model.checkpoints
        first = -(-w * model.checkpoints // wards)  # the ward's first checkpoint index
        district = w * model.district_count // wards
        self.index = index
        self.ward = f"hn-d{district:02d}-w{w:03d}"
        self.checkpoint_id = f"{self.ward}-cp{index - first:03d}"
        self.node_id = f"{self.checkpoint_id}-n1"
        self.probe = self.ward.startswith(PROBE_PREFIX)
        self.seq = 0
        # Nodes have been up for hours to days (uptime in their health reports).
        self.started = now - random.uniform(3600, 7 * 86400)
        self.topic = {k: topics.event_topic(self.node_id, k) for k in KINDS}

    def _envelope(self) -> dict[str, Any]:
        self.seq += 1
        return {
            "id": uuid7(),
            "seq": self.seq,
            "node_id": self.node_id,
            "checkpoint_id": self.checkpoint_id,
            "ward_id": self.ward,
            "ts": datetime.now(UTC),
        }

    def _reading(self, object_c: float) -> tuple[str, bytes]:
        event = Reading(
            **self._envelope(),
            object_c=object_c,
            ambient_c=round(random.gauss(29.5, 1.0), 2),
            samples=THERMOMETER.samples,
            spread_c=round(random.uniform(0.03, 0.2), 2),
            emissivity=THERMOMETER.emissivity,
        )
        return self.topic["reading"], encode(event)

    def person(self, model: LoadModel) -> list[tuple[str, bytes]]:
        """One passage and the reading(s) it took, in the node's order."""
        threshold = THERMOMETER.fever_threshold_c
        first = round(min(random.gauss(36.5, 0.25), threshold - 0.1), 2)
        second: float | None = None
        fever = False
        roll = random.random()
        if roll < model.remeasure_share:
            first = round(random.uniform(threshold + 0.1, 38.4), 2)
            fever = roll < model.fever_share
            second = round(
                random.uniform(threshold + 0.3, 39.0) if fever else random.uniform(36.6, 37.3), 2
            )
        out = [self._reading(first)]
        if second is not None:
            out.append(self._reading(second))
        refused = not fever and random.random() < model.refused_share
        check = self._pass_check(refused)
        decision = Decision.REFUSE if fever or refused else Decision.ADMIT
        reason = Reason.FEVER if fever else check.reason if check else Reason.NO_PASS
        passage = Passage(
            **self._envelope(),
            direction=random.choice(("in", "out")),
            decision=decision,
            reason=reason,
            zone_level="green",
            temperature=TemperatureCheck(
                first_c=first,
                second_c=second,
                ambient_c=29.5,
                threshold_c=threshold,
                fever=fever,
            ),
            pass_check=None if fever else check,
            barrier=None
            if decision is Decision.REFUSE
            else BarrierMotion(opened=True, open_s=round(random.uniform(0.8, 1.6), 2), closed=True),
            duration_ms=random.randint(2500, 9000),
            operator=self._operator(),
            shift="ca2",
        )
        out.append((self.topic["passage"], encode(passage)))
        return out

    def _pass_check(self, refused: bool) -> PassCheck | None:
        if refused:
            if random.random() < 0.5:
                return None  # nobody showed a pass in time: refused no_pass
            return PassCheck(valid=False, reason=Reason.PASS_UNREADABLE)
        # About 200 people use a gate: mostly residents, some pink cards and staff.
        resident = random.randrange(200)
        category = Category.RESIDENT if resident < 160 else Category.TEMPORARY_RESIDENT
        return PassCheck(
            pass_id=f"p{self.index:06d}r{resident:03d}",
            category=category.value,
            valid=True,
            reason=Reason.OK,
            key_id="k2021a",
            trust_version=12,
            revocation_version=40,
            trust_age_s=round(random.uniform(5, 600), 1),
        )

    def _operator(self) -> str:
        return f"op{self.index:06d}"

    def health(self, now: float) -> tuple[str, bytes]:
        event = Health(
            **self._envelope(),
            uptime_s=round(now - self.started, 3),
            cpu_temp_c=round(random.uniform(45, 62), 1),
            disk_free_bytes=20_000_000_000 - self.seq * 4096,
            outbox_depth=0,
            outbox_dropped=0,
            camera_fps=15.0,
            sensor_errors={},
            config_version="hn-2021.08.3",
            software_version="0.1.0",
            flags=[],
            levels_version=7,
            policy_version=3,
            operator=self._operator(),
            shift="ca2",
        )
        return self.topic["health"], encode(event)
