"""Refresh the generated examples in firmware_config/ (the broker files in mosquitto/ and
examples/hub.yaml) from the example ward, Phuc La: ``python -m greenzone.provision.examples``.
A test checks the copies are current."""

from __future__ import annotations

from pathlib import Path

from checkpoint.settings.loading import load_model
from greenzone.provision.broker import BROKER_FILES, service_conf
from greenzone.provision.bundle import ward_acl
from greenzone.provision.configs import config_yaml, hub_config_data
from greenzone.provision.ward import WardConfig

EXAMPLE_WARD = "wards/phucla.yaml"


HUB_HEADER = (
    "# The hub of Phuc La ward, as `checkpoint provision` writes it (BUNDLE/hub/hub.yaml).\n"
    "# Keys: reference/hub-config.md. Its session certificates come in as systemd\n"
    "# credentials (LoadCredential=mqtt:... in systemd/checkpoint-hub.service).\n"
)


def expected(firmware_config: Path) -> dict[str, str]:
    """Path under firmware_config/ -> what provisioning writes for it."""
    ward = load_model(WardConfig, firmware_config / EXAMPLE_WARD)
    return {
        "mosquitto/checkpoint.conf": service_conf(8883, BROKER_FILES),
        "mosquitto/acl.example": ward_acl(ward),
        "examples/hub.yaml": config_yaml(HUB_HEADER, hub_config_data(ward)),
    }


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[2] / "firmware_config"
    for name, text in expected(root).items():
        (root / name).write_text(text)
