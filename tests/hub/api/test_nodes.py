"""Technicians' node routes against real InfluxDB and Mosquitto."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from checkpoint.contract import Command, ConfigPush, Health, decode_model, topics
from checkpoint.contract.levels import ZoneLevels, levels_topic
from checkpoint.contract.models import CommandResult, ConfigAck, Passage, Reading
from checkpoint.settings.mqtt import MqttSettings
from edge.events import MemoryEmitter
from hub.api.app import create_app
from hub.api.context import ApiContext
from hub.influx.schema import event_point
from hub.influx.v1 import InfluxV1
from hub.publisher import HubPublisher
from tests.helpers import wait_for
from tests.hub.api.conftest import Keys, auth


@pytest.fixture
def live(
    api_ctx: ApiContext, influx: InfluxV1, mqtt_settings: MqttSettings, unique: str
) -> Iterator[TestClient]:
    downlink = HubPublisher(mqtt_settings, f"api-{unique}", connect_wait_s=5.0)
    downlink.start()
    api_ctx.influx = influx
    api_ctx.downlink = downlink
    with TestClient(create_app(api_ctx)) as c:
        yield c
    downlink.stop()


def node(ward: str, cp: int, n: int = 1, **kw: Any) -> MemoryEmitter:
    return MemoryEmitter(f"{ward}-cp{cp:02d}-n{n}", f"{ward}-cp{cp:02d}", ward, **kw)


def health(em: MemoryEmitter, **over: Any) -> Health:
    fields: dict[str, Any] = {
        "uptime_s": 3600.0,
        "cpu_temp_c": 51.5,
        "disk_free_bytes": 9_000_000_000,
        "outbox_depth": 3,
        "outbox_dropped": 0,
        "camera_fps": 9.5,
        "sensor_errors": {"thermometer": 2},
        "config_version": "7",
        "software_version": "0.1.0",
        "flags": ["stale_trust"],
    }
    fields.update(over)
    return em.emit(Health, **fields)


def store(influx: InfluxV1, *events: Any) -> None:
    influx.write_lines(event_point(e).to_line() for e in events)


def test_nodes_with_health_limited_to_the_keys_wards(
    live: TestClient, keys: Keys, influx: InfluxV1
) -> None:
    a, b, c = node("phucla", 1), node("phucla", 2), node("hoangmai", 1)
    old = datetime.now(UTC) - timedelta(hours=1)
    store(
        influx,
        health(a),
        health(b, outbox_depth=900),
        health(node("phucla", 2, clock=lambda: old)),
        health(c),
    )
    seen = live.get("/nodes", headers=auth(keys.technician)).json()
    assert [n["node_id"] for n in seen] == ["phucla-cp01-n1", "phucla-cp02-n1"]
    first = seen[0]
    assert first["online"] is True
    assert first["flags"] == ["stale_trust"]
    assert (first["cpu_temp_c"], first["sensor_errors"], first["config_version"]) == (51.5, 2, "7")
    assert seen[1]["outbox_depth"] == 900  # the latest report, not the older one
    everyone = live.get("/nodes", headers=auth(keys.admin)).json()
    assert len(everyone) == 3
    assert live.get("/nodes?ward=hoangmai", headers=auth(keys.technician)).status_code == 403


def test_node_events_newest_first_with_paging(
    live: TestClient, keys: Keys, influx: InfluxV1
) -> None:
    em = node("phucla", 3)
    events = [health(em)] + [
        em.emit(
            Reading,
            object_c=36.0 + i / 10,
            ambient_c=28.0,
            samples=5,
            spread_c=0.1,
            emissivity=0.98,
        )
        for i in range(5)
    ]
    store(influx, *events)
    url = f"/nodes/{em.node_id}/events"
    page = live.get(f"{url}?limit=4", headers=auth(keys.technician)).json()
    assert [i["event_id"] for i in page["items"]] == [e.id for e in reversed(events)][:4]
    assert page["next_offset"] == 4
    rest = live.get(f"{url}?limit=4&offset=4", headers=auth(keys.technician)).json()
    assert [i["event_id"] for i in rest["items"]] == [events[1].id, events[0].id]
    assert rest["next_offset"] is None
    only = live.get(f"{url}?type=health", headers=auth(keys.technician)).json()["items"]
    assert [(i["type"], i["event_id"]) for i in only] == [("health", events[0].id)]
    assert live.get("/nodes/phucla-cp99-n1/events", headers=auth(keys.admin)).status_code == 404
    assert live.get(f"{url}?type=bogus", headers=auth(keys.admin)).status_code == 422


class Listener:
    """A real MQTT subscriber, to see what the API sends to a node."""

    def __init__(self, settings: MqttSettings, topic: str) -> None:
        self.messages: list[mqtt.MQTTMessage] = []
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.on_message = lambda _c, _u, m: self.messages.append(m)
        self.client.on_subscribe = lambda *_a: self._subscribed.set()
        self.client.on_connect = lambda c, *_a: c.subscribe(topic, qos=1)
        self.client.connect(settings.host, settings.port)
        self.client.loop_start()
        assert self._subscribed.wait(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def node_config(node_id: str, ward: str) -> dict[str, Any]:
    return {"node_id": node_id, "checkpoint_id": node_id.rsplit("-", 1)[0], "ward_id": ward}


def test_config_push_is_retained_and_reports_the_nodes_answer(
    live: TestClient, keys: Keys, influx: InfluxV1, mqtt_settings: MqttSettings, unique: str
) -> None:
    node_id = f"phucla-{unique}-n1"
    body = {"version": "v2", "config": node_config(node_id, "phucla")}
    resp = live.put(f"/nodes/{node_id}/config", json=body, headers=auth(keys.technician))
    assert resp.status_code == 202, resp.text
    assert resp.json()["state"] == "pending"
    # Retained: a node that connects afterwards still gets it.
    listener = Listener(mqtt_settings, topics.config_topic(node_id))
    try:
        wait_for(lambda: listener.messages, what="the retained config")
        push = decode_model(ConfigPush, listener.messages[0].payload)
        assert listener.messages[0].retain
        assert (push.version, push.config["node_id"]) == ("v2", node_id)
    finally:
        listener.close()
    # The node refuses it: the API shows the refusal and its reason.
    em = MemoryEmitter(node_id, node_id.rsplit("-", 1)[0], "phucla")
    store(influx, em.emit(ConfigAck, version="v2", applied=False, error="pins.buzzer: in use"))
    state = live.get(f"/nodes/{node_id}/config", headers=auth(keys.technician)).json()
    assert (state["state"], state["error"]) == ("refused", "pins.buzzer: in use")
    assert (
        live.put(f"/nodes/{node_id}/config", json=body, headers=auth(keys.technician)).status_code
        == 409
    )
    audit = live.get("/audit?action=config.push", headers=auth(keys.admin)).json()["items"]
    assert audit[0]["target"] == node_id


def test_bad_config_pushes_are_refused_before_sending(
    live: TestClient, keys: Keys, unique: str
) -> None:
    node_id = f"phucla-{unique}-n1"
    bad = node_config(node_id, "phucla") | {"thermometer": {"fever_threshold_c": "hot"}}
    resp = live.put(
        f"/nodes/{node_id}/config",
        json={"version": "1", "config": bad},
        headers=auth(keys.technician),
    )
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["loc"] == ["body", "config", "thermometer", "fever_threshold_c"]
    wrong_node = {"version": "1", "config": node_config("phucla-other-n1", "phucla")}
    assert (
        live.put(
            f"/nodes/{node_id}/config", json=wrong_node, headers=auth(keys.technician)
        ).status_code
        == 409
    )
    other_ward = {"version": "1", "config": node_config(node_id, "hoangmai")}
    assert (
        live.put(
            f"/nodes/{node_id}/config", json=other_ward, headers=auth(keys.technician)
        ).status_code
        == 403
    )
    ok = {"version": "1", "config": node_config(node_id, "phucla")}
    assert (
        live.put(f"/nodes/{node_id}/config", json=ok, headers=auth(keys.commander)).status_code
        == 403
    )


def test_command_reaches_the_node_and_its_result_comes_back(
    live: TestClient, keys: Keys, influx: InfluxV1, mqtt_settings: MqttSettings
) -> None:
    em = node("phucla", 5)
    store(influx, health(em))
    listener = Listener(mqtt_settings, topics.command_topic(em.node_id))
    try:
        resp = live.post(
            f"/nodes/{em.node_id}/commands",
            json={"name": "barrier_test"},
            headers=auth(keys.technician),
        )
        assert resp.status_code == 202, resp.text
        command_id = resp.json()["command_id"]
        wait_for(lambda: listener.messages, what="the command at the node")
        command = decode_model(Command, listener.messages[0].payload)
        assert (command.id, command.name) == (command_id, "barrier_test")
    finally:
        listener.close()
    url = f"/nodes/{em.node_id}/commands/{command_id}"
    assert live.get(url, headers=auth(keys.technician)).json()["state"] == "pending"
    store(
        influx,
        em.emit(
            CommandResult,
            command_id=command_id,
            command="barrier_test",
            ok=True,
            detail="opened in 1.2 s, closed in 1.4 s",
        ),
    )
    done = live.get(url, headers=auth(keys.technician)).json()
    assert (done["state"], done["detail"]) == ("ok", "opened in 1.2 s, closed in 1.4 s")
    hm = node("hoangmai", 5)
    store(influx, health(hm))
    assert (
        live.post(
            f"/nodes/{hm.node_id}/commands",
            json={"name": "remeasure"},
            headers=auth(keys.technician),
        ).status_code
        == 403
    )


def test_hourly_counts(live: TestClient, keys: Keys, influx: InfluxV1) -> None:
    hour = datetime.now(UTC).replace(minute=5, second=0, microsecond=0) - timedelta(hours=2)
    em = node("phucla", 9, clock=lambda: hour)

    def passage(decision: str, reason: str, fever: bool = False) -> Passage:
        temp = {
            "first_c": 38.4 if fever else 36.5,
            "second_c": 38.3 if fever else None,
            "ambient_c": 29.0,
            "threshold_c": 37.5,
            "fever": fever,
        }
        return em.emit(
            Passage,
            direction="in",
            decision=decision,
            reason=reason,
            zone_level="green",
            temperature=temp,
            pass_check=None,
            barrier=None,
            duration_ms=1800,
        )

    store(
        influx,
        passage("admit", "ok"),
        passage("admit", "ok"),
        passage("refuse", "fever", True),
        passage("refuse", "no_pass"),
    )
    rows = live.get(
        "/stats/hourly?ward=phucla&checkpoint=phucla-cp09", headers=auth(keys.commander)
    ).json()
    assert len(rows) == 1
    row = rows[0]
    assert (row["passages"], row["admitted"], row["refused"], row["fevers"]) == (4, 2, 2, 1)
    assert row["refused_by_reason"] == {"fever": 1, "no_pass": 1}
    assert row["hour"].startswith(hour.strftime("%Y-%m-%dT%H:00:00"))
    assert live.get("/stats/hourly?ward=hoangmai", headers=auth(keys.commander)).status_code == 403
    too_long = "/stats/hourly?ward=phucla&since=2026-01-01T00:00:00Z&until=2026-03-01T00:00:00Z"
    assert live.get(too_long, headers=auth(keys.commander)).status_code == 422
    assert json.loads(live.get("/stats/hourly?ward=phucla", headers=auth(keys.commander)).text)


def test_commander_sets_a_level_and_nodes_get_the_ward_document(
    live: TestClient, keys: Keys, mqtt_settings: MqttSettings, unique: str
) -> None:
    ward = f"w{unique}"
    admin = keys.admin
    url = f"/wards/{ward}/levels"
    resp = live.put(f"{url}/{ward}-cp01", json={"level": "red"}, headers=auth(admin))
    assert resp.status_code == 200, resp.text
    live.put(f"{url}/{ward}-zone-a", json={"level": "level3"}, headers=auth(admin))
    resp = live.put(f"{url}/{ward}-cp01", json={"level": "orange"}, headers=auth(admin))
    body = resp.json()
    assert body["version"] == 3
    assert {(x["target"], x["level"]) for x in body["levels"]} == {
        (f"{ward}-cp01", "orange"),
        (f"{ward}-zone-a", "level3"),
    }
    listener = Listener(mqtt_settings, levels_topic(ward))  # retained: a late node gets it
    try:
        wait_for(lambda: listener.messages, what="the retained levels document")
        doc = decode_model(ZoneLevels, listener.messages[-1].payload)
    finally:
        listener.close()
    assert (doc.version, doc.levels[f"{ward}-cp01"]) == (3, "orange")
    bad = live.put(f"{url}/{ward}-cp01", json={"level": "purple"}, headers=auth(admin))
    assert bad.status_code == 422
    assert "unknown level 'purple'" in bad.json()["detail"][0]["msg"]
    assert (
        live.put(
            "/wards/phucla/levels/cp1", json={"level": "red"}, headers=auth(keys.technician)
        ).status_code
        == 403
    )
    assert (
        live.put(
            "/wards/hoangmai/levels/cp1", json={"level": "red"}, headers=auth(keys.commander)
        ).status_code
        == 403
    )
    assert (
        live.put(
            "/wards/phucla/levels/phucla-cp01", json={"level": "red"}, headers=auth(keys.commander)
        ).status_code
        == 200
    )
    log = live.get("/audit?action=level.set", headers=auth(keys.admin)).json()["items"]
    assert log[0]["detail"]["level"] == "red"


def test_wards_and_checkpoints_with_node_counts(
    live: TestClient, keys: Keys, influx: InfluxV1
) -> None:
    old = datetime.now(UTC) - timedelta(hours=2)
    store(
        influx,
        health(node("phucla", 1)),
        health(node("phucla", 1, 2)),
        health(node("phucla", 2, clock=lambda: old)),  # silent for two hours: offline
        health(node("hoangmai", 1)),
    )
    mine = live.get("/wards", headers=auth(keys.technician)).json()
    assert [w["ward_id"] for w in mine] == ["phucla"]
    [ward] = mine
    assert (ward["nodes"], ward["online"]) == (3, 2)
    cps = {c["checkpoint_id"]: (c["nodes"], c["online"]) for c in ward["checkpoints"]}
    assert cps == {"phucla-cp01": (2, 2), "phucla-cp02": (1, 0)}
    assert len(live.get("/wards", headers=auth(keys.admin)).json()) == 2
