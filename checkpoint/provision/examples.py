"""Refresh firmware_config/mosquitto/ from the example ward (Phuc La):
``python -m checkpoint.provision.examples``. A test checks the copies are current."""

from __future__ import annotations

from pathlib import Path

from checkpoint.provision.broker import service_conf
from checkpoint.provision.bundle import BROKER_FILES, ward_acl
from checkpoint.provision.ward import WardConfig
from checkpoint.settings.loading import load_model

EXAMPLE_WARD = "wards/phucla.yaml"


def expected(firmware_config: Path) -> dict[str, str]:
    """File name in firmware_config/mosquitto/ -> what provisioning writes for it."""
    ward = load_model(WardConfig, firmware_config / EXAMPLE_WARD)
    return {"checkpoint.conf": service_conf(8883, BROKER_FILES), "acl.example": ward_acl(ward)}


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[2] / "firmware_config"
    for name, text in expected(root).items():
        (root / "mosquitto" / name).write_text(text)
