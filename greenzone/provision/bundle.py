"""Write a ward's provisioning bundle: CA, broker files, the hub, the command centre and
one directory per node.

    OUT/ca/ward-ca.pem, ward-ca.key      the ward CA; keep the key offline
    OUT/broker/                          copy to the broker (/etc/mosquitto/checkpoint/)
        ward-ca.pem server.pem server.key acl ward-crl.pem checkpoint.conf
    OUT/hub/                             copy to the hub server (firmware_config/provisioning.md)
        hub.yaml ward-ca.pem             -> /etc/checkpoint/
        mqtt/<account>.pem, .key         -> /etc/checkpoint/credentials/mqtt/, one per hub
                                            session (<hub>, -priority, -api, -alerts)
    OUT/command-centre/                  for a stock MQTT client reading the ward's alerts
        ward-ca.pem command-centre.pem command-centre.key
    OUT/nodes/<node id>/                 copy to the node (see firmware_config/raspberry-pi.md)
        config.yaml ward-ca.pem node.pem node.key

Every client certificate's common name is its broker account (broker.py). Running it
again keeps what exists (the CA, each account's key and certificate) and adds what is new,
so adding a checkpoint does not re-key the ward; a certificate that is no longer an
account's (a removed node, a deleted node directory) is revoked (revocation.py). Secrets
are written with mode 0600.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from checkpoint.errors import ConfigError
from greenzone.provision import broker, pki, revocation
from greenzone.provision.broker import BROKER_FILES
from greenzone.provision.configs import (
    HUB_BROKER_HOST,
    check_hub_config,
    config_yaml,
    hub_config_data,
)
from greenzone.provision.ward import HUB_SESSION_DIR, WardConfig, check_node_configs

COMMAND_CENTRE = "command-centre"  # its directory and file stem in the bundle


@dataclass
class Bundle:
    out: Path
    nodes: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # accounts whose certificates are new
    changed: list[str] = field(default_factory=list)  # broker files written anew (broker/X)
    current: set[int] = field(default_factory=set)  # serials of the accounts' certificates
    revoked: list[str] = field(default_factory=list)  # names of all revoked certificates

    def node_dir(self, node_id: str) -> Path:
        return self.out / "nodes" / node_id

    @property
    def hub_dir(self) -> Path:
        return self.out / "hub"

    @property
    def hub_sessions_dir(self) -> Path:
        return self.hub_dir / HUB_SESSION_DIR

    @property
    def command_centre_dir(self) -> Path:
        return self.out / COMMAND_CENTRE


def _write(path: Path, data: bytes | str, *, secret: bool = False) -> bool:
    """Write ``path``; whether its content changed."""
    raw = data.encode() if isinstance(data, str) else data
    if path.exists() and path.read_bytes() == raw:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    # Create with the final mode so that a secret is never readable, even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(raw)
    return True


def _load_or_make_ca(out: Path, ward_id: str) -> pki.Issued:
    key, cert = out / "ca" / "ward-ca.key", out / "ca" / "ward-ca.pem"
    if key.exists() and cert.exists():
        return pki.Issued(key.read_bytes(), cert.read_bytes())
    if key.exists() or cert.exists():
        raise ConfigError(f"{out / 'ca'}: has only one of ward-ca.key and ward-ca.pem")
    ca = pki.make_ca(ward_id)
    _write(key, ca.key_pem, secret=True)
    _write(cert, ca.cert_pem)
    return ca


def _client(
    bundle: Bundle, ca: pki.Issued, ward_id: str, user: str, where: Path, stem: str
) -> None:
    """Ensure ``where`` holds the account's certificate (common name ``user``) and key."""
    cert, key = where / f"{stem}.pem", where / f"{stem}.key"
    if not (cert.exists() and key.exists()):
        issued = pki.issue(ca, ward_id, user, server_names=None)
        _write(cert, issued.cert_pem)
        _write(key, issued.key_pem, secret=True)
        bundle.created.append(user)
    bundle.current.add(revocation.record(bundle.out, cert.read_bytes(), user))


def _broker_file(bundle: Bundle, name: str, data: bytes | str, *, secret: bool = False) -> None:
    if _write(bundle.out / "broker" / name, data, secret=secret):
        bundle.changed.append(name)


def ward_acl(ward: WardConfig) -> str:
    # Only the ward's current accounts: a removed node's certificate is allowed nothing.
    return broker.acl_text(
        ward.hub_accounts(),
        ward.node_ids(),
        ward_id=ward.ward_id,
        command_centre=ward.command_centre_username,
    )


def provision(ward: WardConfig, out: Path, *, source: str = "ward file") -> Bundle:
    configs = check_node_configs(ward, source)  # refuse a bad ward before writing anything
    hub_config = hub_config_data(ward)
    check_hub_config(hub_config, source)
    bundle = Bundle(out)
    ca = _load_or_make_ca(out, ward.ward_id)

    server = out / "broker" / "server.pem"
    names = [ward.broker.host, *ward.broker.alt_names, HUB_BROKER_HOST]
    if not server.exists() or not pki.covers(server.read_bytes(), names):
        # New, or the broker's names changed: clients would refuse the old certificate.
        issued = pki.issue(ca, ward.ward_id, ward.broker.host, server_names=names)
        _broker_file(bundle, "server.pem", issued.cert_pem)
        _broker_file(bundle, "server.key", issued.key_pem, secret=True)

    for account in ward.hub_accounts():
        _client(bundle, ca, ward.ward_id, account, bundle.hub_sessions_dir, account)
    _write(bundle.hub_dir / "ward-ca.pem", ca.cert_pem)
    header = f"# The hub of ward {ward.ward_id}; generated by `checkpoint provision`.\n"
    _write(bundle.hub_dir / "hub.yaml", config_yaml(header, hub_config))
    cc = ward.command_centre_username
    _client(bundle, ca, ward.ward_id, cc, bundle.command_centre_dir, COMMAND_CENTRE)
    _write(bundle.command_centre_dir / "ward-ca.pem", ca.cert_pem)

    for data in configs:
        node_id = data["node_id"]
        _client(bundle, ca, ward.ward_id, node_id, bundle.node_dir(node_id), "node")
        _write(bundle.node_dir(node_id) / "ward-ca.pem", ca.cert_pem)
        header = f"# Node {node_id} of ward {ward.ward_id}; generated by `checkpoint provision`.\n"
        _write(bundle.node_dir(node_id) / "config.yaml", config_yaml(header, data))
        bundle.nodes.append(node_id)

    _broker_file(bundle, "acl", ward_acl(ward))
    crl = out / "broker" / revocation.CRL
    existing = crl.read_bytes() if crl.exists() else None
    _broker_file(bundle, revocation.CRL, revocation.crl_for(out, ca, bundle.current, existing))
    bundle.revoked = revocation.revoked_names(out, bundle.current)
    _broker_file(bundle, "ward-ca.pem", ca.cert_pem)
    _broker_file(bundle, "checkpoint.conf", broker.service_conf(ward.broker.port, BROKER_FILES))
    return bundle
