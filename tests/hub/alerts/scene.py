"""The world around the hub in alert tests: a fever at a checkpoint, and the command
centre's ends, a chat/SMS bridge (a real HTTP server on a loopback port) and a client
subscribed to the ward's alert topic."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from checkpoint.contract import Passage, topics
from checkpoint.contract.alerts import AlertMessage
from checkpoint.contract.models import BarrierMotion, Decision, PassCheck, Reason, TemperatureCheck
from checkpoint.settings.mqtt import MqttSettings
from edge.events import MemoryEmitter


def emit_fever(emitter: MemoryEmitter) -> None:
    """A person refused with a confirmed fever (38.5 °C on the second measurement)."""
    emitter.emit(
        Passage,
        direction="in",
        decision=Decision.REFUSE,
        reason=Reason.FEVER,
        zone_level="green",
        temperature=TemperatureCheck(
            first_c=38.3, second_c=38.5, ambient_c=30.1, threshold_c=37.5, fever=True
        ),
        pass_check=PassCheck(pass_id="gdd-19ab", valid=True, reason=Reason.OK),
        barrier=BarrierMotion(opened=False, closed=True),
        duration_ms=31_000,
    )


class Hook:
    """A real HTTP server that fails the first ``fail`` POSTs with 503, then accepts; with
    ``hang``, a bridge that is stuck: it answers only once the test sets ``release``."""

    def __init__(self, fail: int = 0, *, hang: bool = False) -> None:
        self.fail = fail
        self.received: list[AlertMessage] = []
        self.attempts = 0
        self.waiting = 0
        self.release = threading.Event()
        if not hang:
            self.release.set()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.attempts += 1
                hook.waiting += 1
                hook.release.wait(30)
                if hook.attempts <= hook.fail:
                    self.send_response(503)
                else:
                    hook.received.append(AlertMessage.model_validate_json(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class WardWatcher:
    """A command centre: subscribed to the ward's alert topic."""

    def __init__(self, settings: MqttSettings, ward: str) -> None:
        self.got: list[AlertMessage] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        subscribed = threading.Event()
        self.client.on_message = lambda _c, _u, m: self.got.append(
            AlertMessage.model_validate_json(m.payload)
        )
        self.client.on_subscribe = lambda *_a: subscribed.set()
        self.client.connect(settings.host, settings.port)
        self.client.loop_start()
        self.client.subscribe(topics.alert_topic(ward), qos=1)
        assert subscribed.wait(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
