"""Two ``checkpoint hub run`` processes on one PostgreSQL, active and standby, one broker,
a ward's traffic; the active hub is killed with -9 while it holds a batch.

The standby takes the session lease, then the broker session (same ``client_id``), and
carries on: every event is stored once, the fever raised before the kill is not raised
again by the events the broker redelivers, the trust documents come again from the
survivor with a fresh ``issued_at``, a pass issued before the kill still verifies at a
node against them, and a revocation made through the survivor's API reaches the node.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from checkpoint.contract.models import Passage, Reason
from checkpoint.localstack.mosquitto import Mosquitto
from checkpoint.localstack.postgres import Postgres
from checkpoint.settings.mqtt import MqttSettings
from checkpoint.settings.secrets import read_secret
from edge.trust import TrustStore
from edge.trust.verifier import OfflineVerifier
from hub.alerts.config import AlertsConfig
from hub.alerts.store import AlertStore
from hub.api.keys import KeyStore as ApiKeys
from hub.api.roles import Role
from hub.influx.v1 import InfluxV1
from hub.passes.sealing import Sealer
from hub.passes.stored_keys import StoredKeys
from hub.state import open_store
from tests.helpers import wait_for
from tests.hubproc import HubProcess
from tests.passes import mqtt as trust_mqtt
from tests.passes.factory import context
from tests.reliability.conftest import Ledger
from tests.reliability.ledger import account, stored_event_ids
from tests.reliability.ward_traffic import WardTraffic, wait_all_stored
from tests.ward_alerts import WardAlerts

STORED = "checkpoint_hub_events_stored_total"


@pytest.fixture
def store(postgres: Postgres, unique: str) -> Iterator[Engine]:
    engine = open_store(postgres.create_database(f"hubs_{unique}"))
    yield engine
    engine.dispose()


@pytest.fixture
def pair(
    tmp_path: Path,
    own_broker: Mosquitto,
    store: Engine,
    influx: InfluxV1,
    unique: str,
    pass_key_credential: str,
) -> Iterator[list[HubProcess]]:
    hubs = [
        HubProcess.configured(
            tmp_path / name,
            client_id=f"hub-{unique}",  # one session at the broker, taken over
            mqtt=MqttSettings(host=own_broker.host, port=own_broker.port),
            influx=influx,
            state_url=store.url.render_as_string(hide_password=False),
            lease_check_s=0.5,
            passes={"key_credential": pass_key_credential},
            # Batches by time, so that the kill lands while a batch is pending.
            batch={"max_points": 5000, "receive_maximum": 5000, "max_interval_s": 1.0},
        )
        for name in ("a", "b")
    ]
    yield hubs
    for hub in hubs:
        hub.close()


def standing_by(hub: HubProcess) -> bool:
    return "checkpoint_hub_active 0.0" in hub.metrics()


@pytest.mark.parametrize(
    "seconds",
    [
        pytest.param(2.0, id="short"),
        pytest.param(60.0, id="long", marks=[pytest.mark.slow, pytest.mark.timeout(600)]),
    ],
)
def test_active_hub_killed_the_standby_takes_over_state_session_and_trust(
    pair: list[HubProcess],
    own_broker: Mosquitto,
    store: Engine,
    influx: InfluxV1,
    unique: str,
    pass_key_credential: str,
    tmp_path: Path,
    ledger: Ledger,
    seconds: float,
) -> None:
    keys = StoredKeys(store, Sealer(read_secret(pass_key_credential)))
    keys.create_key("k1")
    keys.create_anchor("a1")
    anchors = keys.anchor_public_keys()
    _, token = ApiKeys(store).issue(Role.ADMIN, "two hubs test")
    auth = {"Authorization": f"Bearer {token}"}
    active, standby = pair

    active.start()
    standby.launch()
    wait_for(lambda: standing_by(standby), timeout_s=60, what="the standby waiting")
    alerts = WardAlerts(own_broker.host, own_broker.port, unique)
    traffic = WardTraffic(unique, 4, MqttSettings(host=own_broker.host, port=own_broker.port))
    try:
        issued = httpx.post(
            f"{active.api_url}/passes",
            json={"category": "resident", "ward_id": unique, "valid_days": 2},
            headers=auth,
            timeout=10,
        )
        assert issued.status_code == 201, issued.text
        pass_id, pass_text = issued.json()["pass_id"], issued.json()["text"]

        traffic.start()
        wait_for(lambda: active.value(STORED) > 0, timeout_s=60, what="the active storing")
        traffic.fever()
        wait_for(lambda: alerts.opened("fever"), timeout_s=60, what="the fever alert")
        time.sleep(seconds / 2)
        wait_for(
            lambda: int(active.value("checkpoint_hub_pending_messages")),
            timeout_s=60,
            interval_s=0.02,
            what="the active holding a batch",
        )
        killed_at = datetime.now(UTC)
        assert active.signal(signal.SIGKILL) == -signal.SIGKILL
        taken = time.monotonic()
        wait_for(
            lambda: standby.value("checkpoint_hub_connected") == 1,
            timeout_s=30,
            interval_s=0.1,
            what="the standby taking over",
        )
        takeover_s = time.monotonic() - taken
        traffic.fever()  # the same checkpoint again: the open alert counts it, none opens

        # The survivor republishes the trust documents, fresh; a node that hears them
        # admits the pass issued before the kill ...
        node = TrustStore(tmp_path / "node", anchors=anchors)
        verifier = OfflineVerifier(node)
        with trust_mqtt.client(own_broker.port, f"{unique}-node", node.on_message):
            wait_for(
                lambda: all(
                    doc is not None and doc.issued_at > killed_at
                    for doc in (node.keys, node.revocations, node.policy)
                ),
                timeout_s=30,
                what="trust documents published after the kill",
            )
            assert verifier.check(pass_text, context(datetime.now(UTC), ward_id=unique)).valid

            # ... and a revocation made through the survivor reaches it.
            revoked = httpx.post(
                f"{standby.api_url}/passes/{pass_id}/revoke", headers=auth, timeout=10
            )
            assert revoked.status_code == 200, revoked.text
            wait_for(
                lambda: (
                    verifier.check(pass_text, context(datetime.now(UTC), ward_id=unique)).reason
                    is Reason.PASS_REVOKED
                ),
                timeout_s=30,
                what="the revocation at the node",
            )

        time.sleep(seconds / 2)
    finally:
        traffic.close()
    try:
        wait_all_stored(influx, traffic.ids, traffic.node_ids)
        wait_for(
            lambda: any(m.count >= 2 for m in alerts.messages if m.kind == "fever"),
            timeout_s=60,
            what="the second fever folded into the alert",
        )
    finally:
        alerts.close()
    stored = AlertStore(store, AlertsConfig()).find(ward_id=unique)
    fevers = [a for a in stored if a.kind == "fever"]
    standby.send(signal.SIGTERM)
    assert standby.wait_exit() == 0
    ledger.record(
        account(
            f"active and standby on one PostgreSQL, active killed -9 ({seconds:.0f}s)",
            traffic.ids,
            stored_event_ids(influx, nodes=traffic.node_ids),
            alerts_expected=["fever"],
            alerts_fired=[a.kind for a in stored],
            undelivered=traffic.undelivered,
            takeover_s=round(takeover_s, 2),
        )
    )
    # Each fever derived once, redelivered or not: one alert per checkpoint that had any
    # (the ward's people bring a few of their own), counting every confirmed fever there.
    confirmed = Counter(
        e.checkpoint_id
        for e in traffic.emitted
        if isinstance(e, Passage) and e.temperature is not None and e.temperature.fever
    )
    assert {a.checkpoint_id: a.count for a in fevers} == confirmed
    # One "new" on the ward topic for each alert in the store, none for another.
    assert sorted(m.alert_id for m in alerts.opened()) == sorted(a.id for a in stored)
    assert takeover_s < 15
    secret = read_secret(pass_key_credential)
    for hub in pair:  # the sealing secret never reaches a log
        assert secret not in hub.log.read_text()
