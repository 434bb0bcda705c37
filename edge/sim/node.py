"""A virtual node: the real node code on mock pins, an emulated thermometer and barrier
motor, a camera that sees rendered QR passes, and a keyboard-wedge scanner on a pipe."""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from datetime import datetime
from typing import Literal

from gpiozero.pins.mock import MockFactory

from checkpoint.contract.models import Passage
from checkpoint.contract.node.config import NodeConfig
from checkpoint.settings.mqtt import MqttSettings
from edge.events import Emitter
from edge.hardware.barrier_emulated import EmulatedBarrier
from edge.hardware.camera_emulated import RenderedQRFrameSource
from edge.hardware.mlx90614_emulated import EmulatedMLX90614
from edge.node import Node
from edge.passcheck import PassVerifier
from edge.passcheck_allowlist import AllowListVerifier, pass_text
from edge.runtime_node import NodeLike

# Who lives behind a simulated checkpoint: mostly residents, a few pink-card workers,
# medical staff and officials (pass ids only, never names).
CATEGORIES = (("resident", 160), ("pink_card", 20), ("medical", 10), ("official", 10))


def sim_passes(checkpoint_id: str) -> dict[str, str]:
    return {
        f"{checkpoint_id}-{category[:3]}{i:03d}": category
        for category, count in CATEGORIES
        for i in range(count)
    }


def node_config(ward_id: str, index: int, mqtt: MqttSettings | None = None) -> NodeConfig:
    """A simulated node's config: real code, timings shortened so traffic flows."""
    cp = f"{ward_id}-cp{index:02d}"
    return NodeConfig.model_validate(
        {
            "node_id": f"{cp}-n1",
            "checkpoint_id": cp,
            "ward_id": ward_id,
            "mqtt": mqtt or MqttSettings(),
            "pins": {"presence_out": 26},
            "thermometer": {"samples": 3, "sample_interval_s": 0, "remeasure_delay_s": 0.1},
            "barrier": {"open_s": 0.2, "motion_timeout_s": 1.0, "held_open_limit_s": 3.0},
            "signals": {"refuse_show_s": 0.05, "beep_s": 0.01, "long_beep_s": 0.02, "gap_s": 0.01},
            "camera": {"enabled": False},
            "scanner": {"pass_timeout_s": 0.5, "dedup_window_s": 2.0},
        }
    )


class SimNode(NodeLike):
    def __init__(
        self,
        config: NodeConfig,
        emitter: Emitter,
        seed: int = 0,
        *,
        verifier: PassVerifier | None = None,
        travel_s: float = 0.0,
        camera_fps: float | None = 60.0,
        shift_plan: Callable[[datetime], str | None] = lambda _now: None,
        screens: Callable[[str, str | None], bool] = lambda _level, _zone: True,
    ) -> None:
        self.config = config
        self.rng = random.Random(seed)
        self.factory = MockFactory()
        self.sensor = EmulatedMLX90614(ambient_c=29.0, noise_c=0.05, seed=seed)
        self.arm = EmulatedBarrier(self.factory, config.pins, travel_s=travel_s)
        self.camera = RenderedQRFrameSource(seed=seed, fps=camera_fps)
        self.passes = sim_passes(config.checkpoint_id)
        read_fd, self._wedge_fd = os.pipe()
        self.node = Node(
            config,
            emitter,
            pin_factory=self.factory,
            bus=self.sensor,
            frame_source=self.camera,
            verifier=verifier if verifier is not None else AllowListVerifier(self.passes),
            wedge=os.fdopen(read_fd, "rb"),
            shift_plan=shift_plan,
            screens=screens,
        )
        self.arm.settle()
        self.last_passage: Passage | None = None

    def resident_pass(self) -> str:
        residents = [p for p, c in self.passes.items() if c == "resident"]
        return pass_text(self.rng.choice(residents))

    @property
    def busy(self) -> bool:
        return self.node.busy

    def person_arrives(
        self,
        body_c: float,
        pass_shown: str | None = None,
        *,
        direction: Literal["in", "out"] = "in",
        via: Literal["camera", "wedge"] = "camera",
        damaged: bool = False,
        wait: bool = True,
    ) -> Passage | None:
        """Someone steps up: the thermometer sees them, they hold up (or scan) a pass, the
        presence sensor fires. With ``wait`` returns their Passage once decided."""
        self.sensor.object_c = body_c
        if pass_shown is not None and via == "wedge":
            os.write(self._wedge_fd, pass_shown.encode() + b"\r\n")
        elif pass_shown is not None:
            self.camera.show(pass_shown)
            if damaged:
                self.camera.damage()
        else:
            self.camera.clear()
        pin = self.factory.pin(
            self.config.pins.presence if direction == "in" else self.config.pins.presence_out
        )
        pin.drive_high()
        pin.drive_low()
        if not wait:
            return None
        self.node.idle(timeout_s=30.0)
        self.camera.clear()
        self.last_passage = self.node.last_passage
        return self.last_passage

    def override(self, badge: str | None, reason_card: str | None = None) -> Passage | None:
        """The operator turns the override key, scans their badge and maybe a reason card
        (wedge scanner), and lets the key go once the barrier has cycled."""
        for text in (badge, reason_card):
            if text is not None:
                os.write(self._wedge_fd, text.encode() + b"\r\n")
        key = self.factory.pin(self.config.pins.override_key)
        key.drive_high()
        self.node.idle(timeout_s=30.0)
        key.drive_low()
        self.last_passage = self.node.last_passage
        return self.last_passage

    # The runtime's node protocol (edge/runtime_node.py): commands, flags and who is on duty
    # come from the real node; NodeLike's own answers hold for the rest (a simulated node is
    # rebuilt on a new config, and a ward's health comes from SimWard's own sampler).

    def remeasure(self) -> object:
        return self.node.remeasure()

    def barrier_test(self) -> object:
        return self.node.barrier_test()

    def flags(self) -> list[str]:
        return self.node.flags()

    def on_duty(self) -> tuple[str | None, str | None]:
        return self.node.on_duty()

    def close(self) -> None:
        self.node.close()
        os.close(self._wedge_fd)
        self.arm.close()
        self.factory.close()
