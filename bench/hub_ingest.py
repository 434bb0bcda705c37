"""Hub ingest throughput against its ceiling and a naive bridge, on a real broker and InfluxDB.

    ./run bench hub_ingest [--events N] [--naive-events N] [--alert-samples N]

Starts its own Mosquitto and InfluxDB 1.x and, in one run, lets three consumers drain the
same backlog of QoS 1 events from a persistent session:
  (a) ceiling: a paho subscriber that does nothing with the messages;
  (b) naive: a bridge that writes each message to InfluxDB as it arrives;
  (c) the hub (hub.service.HubService, as ``checkpoint hub run`` runs it: every rule and
      alert on).
Each rate counts from the consumer's first message to its last (received; for the hub,
stored). Then it checks that the hub stored every published event once, and measures fever-alert
latency (publish of a confirmed-fever passage -> message on
``checkpoint/v1/alerts/<ward>``) under 5,000 msg/s of background load. The last line
printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.hub_alert_latency import measure_alert_latency
from bench.soak.watch import proc_sample
from checkpoint.contract import Reading, decode_event, encode, topics, uuid7
from checkpoint.localstack import LocalStack
from checkpoint.localstack.process import children
from checkpoint.settings.mqtt import MqttSettings
from hub.api.settings import ApiSettings
from hub.config import BatchSettings, HubConfig, InfluxSettings, MetricsSettings
from hub.influx.schema import event_point
from hub.influx.v1 import InfluxV1
from hub.service import HubService

Message = tuple[str, bytes]


def make_events(n: int, nodes: int, ward: str) -> list[Message]:
    start = datetime.now(UTC) - timedelta(hours=1)
    out = []
    for i in range(n):
        node = f"{ward}-cp{i % nodes:03d}-n1"
        event = Reading(
            id=uuid7(),
            seq=i // nodes,
            node_id=node,
            checkpoint_id=node[:-3],
            ward_id=ward,
            ts=start + timedelta(milliseconds=i),
            # Each node's values wander as a person's would: no sensor looks stuck.
            object_c=36.0 + ((i // nodes + i % nodes) % 20) / 10,
            ambient_c=29.0,
            samples=5,
            spread_c=0.1,
            emissivity=0.98,
        )
        out.append((topics.event_topic(node, "reading"), encode(event)))
    return out


def client(client_id: str) -> mqtt.Client:
    c = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTProtocolVersion.MQTTv5
    )
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    return c


def connect(c: mqtt.Client, mqtt_cfg: MqttSettings, *, session: bool) -> None:
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    if session:
        props.SessionExpiryInterval = 3600
    c.connect(mqtt_cfg.host, mqtt_cfg.port, clean_start=not session, properties=props)


def publish_all(mqtt_cfg: MqttSettings, messages: list[Message]) -> None:
    pub = client("bench-publisher")
    connect(pub, mqtt_cfg, session=False)
    pub.loop_start()
    infos = [pub.publish(t, p, qos=1) for t, p in messages]
    for info in infos:
        info.wait_for_publish(120)
    pub.disconnect()
    pub.loop_stop()


def register_session(mqtt_cfg: MqttSettings, client_id: str) -> None:
    """Create a persistent session with the subscription, so the broker queues for it."""
    c = client(client_id)
    done = threading.Event()
    c.on_subscribe = lambda *_a: done.set()
    c.on_connect = lambda cl, *_a: cl.subscribe(topics.ALL_UP, qos=1)
    connect(c, mqtt_cfg, session=True)
    c.loop_start()
    if not done.wait(10):
        raise RuntimeError(f"{client_id}: no SUBACK")
    c.disconnect()
    c.loop_stop()


def drain_with_paho(
    mqtt_cfg: MqttSettings, client_id: str, n: int, handle: Callable[[mqtt.MQTTMessage], None]
) -> float:
    """Seconds for a paho subscriber running ``handle`` per message to drain ``n``, from
    the first message it receives to the last."""
    c = client(client_id)
    count = [0]
    first: list[float] = []
    done = threading.Event()

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        if not first:
            first.append(time.monotonic())
        handle(msg)
        count[0] += 1
        if count[0] >= n:
            done.set()

    c.on_message = on_message
    connect(c, mqtt_cfg, session=True)
    c.loop_start()
    done.wait()
    elapsed = time.monotonic() - first[0]
    c.disconnect()
    c.loop_stop()
    return elapsed


def cpu_seconds(pids: dict[str, list[int]]) -> dict[str, float]:
    """User + system CPU seconds so far of each named group of processes."""
    out = {}
    for name, group in pids.items():
        samples = [proc_sample(pid) for pid in group]
        out[name] = sum(s.cpu_s for s in samples if s is not None)
    return out


def run_hub(
    mqtt_cfg: MqttSettings,
    *,
    influx_url: str,
    db: str,
    work: Path,
    n: int,
    servers: dict[str, list[int]],
    cpu_us: dict[str, float],
) -> float:
    cfg = HubConfig(
        client_id="bench-hub",
        data_dir=work / "hub",
        mqtt=mqtt_cfg,
        influx=InfluxSettings(url=influx_url, database=db),
        batch=BatchSettings(max_points=5000, receive_maximum=10000, max_interval_s=0.2),
        metrics=MetricsSettings(enabled=False),
        api=ApiSettings(enabled=False),
    )
    hub = HubService(cfg)
    hub.start()
    assert hub.ingest is not None
    # From its first message received to the last one stored: the drain, as for the
    # ceiling, not the start of the process.
    # Where the CPU goes, per message: the hub process (this one; nothing else of the
    # bench runs meanwhile), its session processes, the broker and InfluxDB.
    pids = {"hub": [os.getpid()], "receivers": children(os.getpid()), **servers}
    while hub.ingest.stats["received"] == 0:
        time.sleep(0.001)
    started = time.monotonic()
    before = cpu_seconds(pids)
    while hub.ingest.stats["stored"] < n:
        time.sleep(0.005)
    elapsed = time.monotonic() - started
    after = cpu_seconds(pids)
    cpu_us.update({k: round((after[k] - before[k]) / n * 1e6, 1) for k in pids})
    hub.stop()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", type=int, default=50_000, help="backlog for ceiling and hub")
    ap.add_argument("--naive-events", type=int, default=2_000, help="backlog for naive bridge")
    ap.add_argument("--nodes", type=int, default=200)
    ap.add_argument("--alert-samples", type=int, default=200)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp, LocalStack(Path(tmp)) as stack:
        work = Path(tmp)
        mqtt_cfg = MqttSettings(host=stack.mqtt_host, port=stack.mqtt_port)
        events = make_events(args.events, args.nodes, "bench")
        naive_events = events[: args.naive_events]
        print(f"{len(events)} events, {args.nodes} nodes; broker {stack.mqtt_port}")

        naive_db = InfluxV1(stack.influx_url, "naive")
        naive_db.create_database()

        def naive_write(msg: mqtt.MQTTMessage) -> None:
            event = decode_event(msg.topic, bytes(msg.payload))
            naive_db.write_lines([event_point(event).to_line()])

        register_session(mqtt_cfg, "bench-naive")
        publish_all(mqtt_cfg, naive_events)
        t = drain_with_paho(mqtt_cfg, "bench-naive", len(naive_events), naive_write)
        naive = len(naive_events) / t
        naive_db.close()
        print(f"(b) naive bridge: {naive:,.0f} msg/s ({t:.2f}s for {len(naive_events)})")

        # Ceiling and hub drain the very same backlog, queued once for both sessions,
        # one right after the other so that they see the same machine load.
        register_session(mqtt_cfg, "bench-ceiling")
        register_session(mqtt_cfg, "bench-hub")
        publish_all(mqtt_cfg, events)
        t = drain_with_paho(mqtt_cfg, "bench-ceiling", len(events), lambda _m: None)
        ceiling = len(events) / t
        print(f"(a) ceiling: {ceiling:,.0f} msg/s ({t:.2f}s)")
        assert stack.mosquitto is not None
        assert stack.influxdb is not None
        servers = {
            "mosquitto": [p for p in [stack.mosquitto.process.pid] if p is not None],
            "influxdb": [p for p in [stack.influxdb.process.pid] if p is not None],
        }
        cpu_us: dict[str, float] = {}
        t = run_hub(
            mqtt_cfg,
            influx_url=stack.influx_url,
            db="hub",
            work=work,
            n=len(events),
            servers=servers,
            cpu_us=cpu_us,
        )
        hub_rate = len(events) / t
        print(f"(c) hub: {hub_rate:,.0f} msg/s ({t:.2f}s)")
        print(
            "CPU per message while the hub drains: "
            + ", ".join(f"{k} {v:g} us" for k, v in cpu_us.items())
        )

        db = InfluxV1(stack.influx_url, "hub")
        [row] = db.query('SELECT count("seq") AS n, count(distinct("event_id")) AS d FROM reading')
        db.close()
        stored, distinct = int(row["n"]), int(row["d"])
        print(f"stored {stored} points, {distinct} distinct event ids, published {len(events)}")

        p50, p99 = measure_alert_latency(
            mqtt_cfg, influx_url=stack.influx_url, work=work, samples=args.alert_samples
        )
        if p50 is None or p99 is None:
            print("alert latency: no alert arrived in time (figures null)")
        else:
            print(f"alert latency: p50 {p50:.1f} ms, p99 {p99:.1f} ms")

        print(
            f"hub/ceiling {hub_rate / ceiling:.0%} (target >= 85%), "
            f"hub/naive {hub_rate / naive:.1f}x; alert p99 target <= 50 ms, p50 <= 15 ms"
        )
        print(
            json.dumps(
                {
                    "ceiling_msgs_per_s": round(ceiling),
                    "naive_msgs_per_s": round(naive),
                    "hub_msgs_per_s": round(hub_rate),
                    "published": len(events),
                    "stored": stored,
                    "duplicates": stored - distinct,
                    "alert_p50_ms": p50,
                    "alert_p99_ms": p99,
                    "hub_per_ceiling": round(hub_rate / ceiling, 3),
                    "cpu_us_per_msg": cpu_us,
                }
            )
        )


if __name__ == "__main__":
    main()
