"""Fever-alert latency through the hub under background load (used by bench/hub_ingest.py).

Publishes confirmed-fever passages, each from its own node, while a second client keeps
5,000 readings/s flowing, and times publish -> first alert message naming that node on
``checkpoint/v1/alerts/<ward>``.
"""

from __future__ import annotations

import multiprocessing
import statistics
import threading
import time
from datetime import UTC, datetime
from multiprocessing.synchronize import Event
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from checkpoint.contract import AlertMessage, Passage, Reading, decode_model, encode, topics, uuid7
from checkpoint.contract.models import Decision, Reason, TemperatureCheck
from checkpoint.settings.mqtt import MqttSettings
from hub.api.settings import ApiSettings
from hub.config import BatchSettings, HubConfig, InfluxSettings, MetricsSettings
from hub.service import HubService

WARD = "fever"


def fever_passage(node: str, seq: int) -> Passage:
    return Passage(
        id=uuid7(),
        seq=seq,
        node_id=node,
        checkpoint_id=node[:-3],
        ward_id=WARD,
        ts=datetime.now(UTC),
        direction="in",
        decision=Decision.REFUSE,
        reason=Reason.FEVER,
        zone_level="green",
        temperature=TemperatureCheck(
            first_c=38.4, second_c=38.5, ambient_c=29.0, threshold_c=37.5, fever=True
        ),
        pass_check=None,
        barrier=None,
        duration_ms=4200,
    )


def _client(client_id: str, mqtt_cfg: MqttSettings) -> mqtt.Client:
    c = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
    )
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    c.connect(mqtt_cfg.host, mqtt_cfg.port)
    c.loop_start()
    return c


def _load_messages(count: int) -> list[tuple[str, bytes]]:
    out = []
    for seq in range(count):
        node = f"load-cp{seq % 100:03d}-n1"
        event = Reading(
            id=uuid7(),
            seq=seq,
            node_id=node,
            checkpoint_id=node[:-3],
            ward_id="load",
            ts=datetime.now(UTC),
            object_c=36.0 + (seq // 100 % 20) / 10,  # a person's, varying: no sensor looks stuck
            ambient_c=29.0,
            samples=5,
            spread_c=0.1,
            emissivity=0.98,
        )
        out.append((topics.event_topic(node, "reading"), encode(event)))
    return out


def _background(mqtt_cfg: MqttSettings, rate: float, seconds: float, ready: Event) -> None:
    """``rate`` readings per second in 10 ms slices, from 100 load nodes.

    Runs in its own process with its messages built beforehand, so that generating the
    load does not compete with the hub for the interpreter lock.
    """
    messages = _load_messages(int(rate * seconds))
    c = _client("bench-load", mqtt_cfg)
    ready.set()
    per_slice = max(1, int(rate / 100))
    next_slice = time.monotonic()
    for i in range(0, len(messages), per_slice):
        for topic, payload in messages[i : i + per_slice]:
            c.publish(topic, payload, qos=1)
        next_slice += 0.01
        time.sleep(max(0.0, next_slice - time.monotonic()))
    c.disconnect()
    c.loop_stop()


def measure_alert_latency(
    mqtt_cfg: MqttSettings,
    *,
    influx_url: str,
    work: Path,
    samples: int,
    background_rate: float = 5000.0,
) -> tuple[float | None, float | None]:
    cfg = HubConfig(
        client_id="bench-fever-hub",
        data_dir=work / "hub-alerts",
        mqtt=mqtt_cfg,
        influx=InfluxSettings(url=influx_url, database="alerts"),
        batch=BatchSettings(max_points=5000, receive_maximum=10000, max_interval_s=0.05),
        metrics=MetricsSettings(enabled=False),
        api=ApiSettings(enabled=False),
    )
    hub = HubService(cfg)
    hub.start()
    sent: dict[str, float] = {}
    latencies: dict[str, float] = {}
    lock = threading.Lock()

    def on_alert(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        now = time.monotonic()
        alert = decode_model(AlertMessage, bytes(msg.payload))
        with lock:
            # A fever is a checkpoint's alert (whoever came, at whichever lane): match the
            # checkpoint, which is the fever passage's own in each sample.
            where = alert.checkpoint_id
            if where in sent and where not in latencies:
                latencies[where] = (now - sent[where]) * 1000

    listener = _client("bench-alerts", mqtt_cfg)
    listener.on_message = on_alert
    listener.subscribe(topics.alert_topic(WARD), qos=1)
    ready = multiprocessing.Event()
    seconds = 2.0 + samples * 0.05 + 1.0
    load = multiprocessing.Process(
        target=_background, args=(mqtt_cfg, background_rate, seconds, ready), daemon=True
    )
    load.start()
    publisher = _client("bench-fever", mqtt_cfg)
    try:
        ready.wait(120)
        time.sleep(1.0)  # let the background load reach its rate
        for i in range(samples):
            node = f"{WARD}-cp{i:03d}-n1"
            with lock:
                sent[node[:-3]] = time.monotonic()
            publisher.publish(
                topics.event_topic(node, "passage"), encode(fever_passage(node, 1)), 1
            )
            time.sleep(0.05)
        deadline = time.monotonic() + 10
        while len(latencies) < samples and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        load.join(seconds + 30)
        publisher.disconnect()
        publisher.loop_stop()
        listener.disconnect()
        listener.loop_stop()
        hub.stop()
    values = sorted(latencies.values())
    if len(values) < samples:
        print(f"alert latency: only {len(values)} of {samples} fever passages raised an alert")
    if not values:
        return None, None
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return round(statistics.median(values), 1), round(p99, 1)
