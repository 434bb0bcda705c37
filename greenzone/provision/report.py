"""What ``checkpoint provision`` prints: what it wrote or changed, and what to do next."""

from __future__ import annotations

from greenzone.provision.broker import BROKER_FILES
from greenzone.provision.bundle import Bundle
from greenzone.provision.ward import WardConfig

# A SIGHUP makes Mosquitto reread the ACL; the listener, its certificate and
# use_username_as_clientid are read at start only.
RELOADED = frozenset({"acl"})
LISTED = 6  # names printed in full; past that, a count


def _names(names: list[str]) -> str:
    if len(names) <= LISTED:
        return ", ".join(names)
    return f"{', '.join(names[: LISTED - 1])} and {len(names) - LISTED + 1} more"


def summary(ward: WardConfig, bundle: Bundle) -> str:
    out = bundle.out
    lines = [f"{out}: ward {ward.ward_id}, {len(bundle.nodes)} node(s)"]
    if bundle.created:
        lines.append(f"New certificates ({len(bundle.created)}): {_names(bundle.created)}")
    else:
        lines.append("No new certificates: every account kept its key.")
    if bundle.changed:
        lines.append(f"Broker files changed: {', '.join(bundle.changed)}")
    if bundle.revoked and "ward-crl.pem" in bundle.changed:
        lines.append(f"Revoked certificates: {_names(bundle.revoked)}")
    lines += ["", "Next steps:", *_steps(ward, bundle)]
    return "\n".join(lines)


def _steps(ward: WardConfig, bundle: Bundle) -> list[str]:
    out = bundle.out
    steps = [f"Keep {out / 'ca' / 'ward-ca.key'} offline; only a new run needs it."]
    if bundle.changed:
        how = (
            "sudo systemctl reload mosquitto"
            if set(bundle.changed) <= RELOADED
            else "sudo systemctl restart mosquitto"
        )
        steps.append(
            f"Copy {out / 'broker'}/ to {BROKER_FILES}/ (checkpoint.conf to "
            f"/etc/mosquitto/conf.d/), then: {how}"
        )
    hub_new = [a for a in ward.hub_accounts() if a in bundle.created]
    if hub_new:
        steps.append(
            f"Hub: copy {out / 'hub' / 'hub.yaml'} to /etc/checkpoint/ and the .pem/.key "
            "files to /etc/checkpoint/credentials/, then: sudo systemctl restart checkpoint-hub"
        )
    nodes_new = [n for n in bundle.nodes if n in bundle.created]
    if nodes_new:
        steps.append(
            f"Nodes: set up {_names(nodes_new)} from {out / 'nodes'}/<node id>/ "
            "(firmware_config/raspberry-pi.md)."
        )
    if ward.command_centre_username in bundle.created:
        steps.append(
            f"Command centre: give {out / 'command-centre'}/ to the duty officer; "
            "firmware_config/provisioning.md shows mosquitto_sub reading the alerts with it."
        )
    steps.append(
        "Field files (systemd units, dashboards, broker templates): "
        "checkpoint install-files --dest DIR"
    )
    return [f"  {i}. {step}" for i, step in enumerate(steps, 1)]
