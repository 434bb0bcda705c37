"""The node's MQTT link: connect with backoff and jitter, say ``online``, drain the outbox
within a window and a rate limit, delete what the hub confirms, and hand down-messages
(config, commands) to the node.

Everything MQTT happens on one thread that owns a fresh paho client per connection: no
paho state (queued messages, message ids) survives a lost connection, so after a
reconnect the outbox alone decides what is sent: everything the hub has not confirmed,
urgent events first (edge/uplink/outbox_delivery.py).
A refused connection (bad credentials) is never counted as connected; it becomes the
``auth_refused`` health flag and is retried with backoff, as the hub may fix the account.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from checkpoint.contract import Confirmation, decode_model, topics
from checkpoint.contract.node.uplink import LinkSettings, OutboxSettings
from checkpoint.errors import ContractError
from checkpoint.settings.mqtt import MqttSettings
from edge.uplink.outbox import Outbox
from edge.uplink.ratelimit import TokenBucket
from edge.uplink.status import status_payload

log = logging.getLogger(__name__)

# CONNACK reason codes that mean "these credentials are not accepted" (MQTT 5, 3.2.2.2).
_AUTH_CODES = frozenset({0x86, 0x87, 0x8C})  # bad user name or password, not authorized, bad auth
_IDLE_S = 0.05  # how long the loop waits on the socket when there is nothing to send


class Link:
    def __init__(
        self,
        node_id: str,
        mqtt_settings: MqttSettings,
        outbox: Outbox,
        *,
        drain: OutboxSettings,
        link: LinkSettings,
        on_message: Callable[[str, bytes], None] = lambda _t, _p: None,
        rng: random.Random | None = None,
    ) -> None:
        self.node_id = node_id
        self.mqtt = mqtt_settings
        self.password = mqtt_settings.resolved_password()  # a missing credential fails now
        self.outbox = outbox
        self.drain = drain
        self.settings = link
        self.on_message = on_message
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self.connected = threading.Event()
        self.flags: set[str] = set()
        self.stats = {
            "connects": 0,
            "refused": 0,
            "published": 0,
            "acked": 0,  # PUBACKs from the broker (re-sends included)
            "confirmed": 0,  # events the hub confirmed durable, each once
            "resent": 0,  # sent events marked for sending again
        }
        self.last_refusal: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"uplink-{node_id}", daemon=True)
        self._bucket = TokenBucket(drain.rate_per_s, drain.burst)
        self._inflight: dict[int, int] = {}  # paho mid -> outbox seq
        self._acked: list[int] = []
        self._rejected: list[tuple[int, str]] = []
        self._more = True  # the outbox may hold more than the last read returned
        self._confirm_topic = topics.confirm_topic(node_id)
        self._stale_check_at = 0.0
        self._refused: ReasonCode | None = None
        self._window = drain.window

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Say ``offline`` (a clean DISCONNECT suppresses the will) and disconnect.

        A link that never started has nothing to stop: the runtime stops it on its way out
        of a failed start, and that must not hide why the start failed."""
        self._stop.set()
        if self._thread.ident is not None:  # joining a thread never started raises
            self._thread.join(timeout_s)

    # ---------------------------------------------------------------- the thread

    def _run(self) -> None:
        delay = self.settings.backoff_min_s
        while not self._stop.is_set():
            try:
                healthy = self._session()
            except Exception:  # a bug or a broken outbox must not end delivery for good
                log.exception("uplink %s: session failed", self.node_id)
                self.connected.clear()
                self.flags.add("uplink_error")
                healthy = False
            if healthy:
                delay = self.settings.backoff_min_s
            if self._stop.is_set():
                break
            # "Equal jitter": at least half the delay, so nodes that lost the broker
            # together come back spread out but none hammers it.
            wait = delay / 2 + self.rng.uniform(0, delay / 2)
            log.info("uplink %s: reconnecting in %.1fs", self.node_id, wait)
            self._stop.wait(wait)
            delay = min(delay * 2, self.settings.backoff_max_s)

    def _new_client(self) -> mqtt.Client:
        client = self.mqtt.new_client(self.node_id)
        client.connect_timeout = self.settings.connect_timeout_s
        # Our window limits what is in flight; paho's own limit would rescan every
        # in-flight message on each PUBACK (O(window) per ack), so it is switched off.
        client.max_inflight_messages_set(0)
        client.max_queued_messages_set(0)
        client.will_set(
            topics.status_topic(self.node_id),
            status_payload(self.node_id, "offline"),
            qos=1,
            retain=True,
        )
        client.on_connect = self._on_connect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    def _session(self) -> bool:
        """One connection, from connect to its end. True if it was a healthy one: accepted,
        and it either delivered something or lasted; a broker that accepts us and then
        drops us at once must not be hammered without backoff."""
        client = self._new_client()
        began = time.monotonic()
        acked_before = self.stats["acked"]
        self._refused = None
        self._inflight.clear()
        self._more = True
        # A new connection: whatever the hub has not confirmed goes again (the broker may
        # have crashed with it, or the hub's confirmation was lost); it stores an id once.
        self.stats["resent"] += self.outbox.resend_all()
        try:
            client.connect(self.mqtt.host, self.mqtt.port, self.mqtt.keepalive_s)
        except ssl.SSLError as exc:  # before OSError: it is one
            # A certificate the node does not trust (or the broker not ours): retrying
            # will not help until someone fixes it, but the flag tells them.
            self.flags.add("tls_failed")
            log.error(
                "uplink %s: TLS with %s:%d failed: %s",
                self.node_id,
                self.mqtt.host,
                self.mqtt.port,
                exc,
            )
            return False
        except (OSError, ValueError) as exc:  # refused, unreachable, no route
            self.flags.add("uplink_unreachable")
            log.warning(
                "uplink %s: cannot reach %s:%d: %s",
                self.node_id,
                self.mqtt.host,
                self.mqtt.port,
                exc,
            )
            return False
        self.flags.difference_update(("uplink_unreachable", "tls_failed"))
        deadline = time.monotonic() + self.settings.connect_timeout_s
        accepted = False
        while not self._stop.is_set():
            busy = self.connected.is_set() and self._pump(client)
            rc = client.loop(0 if busy else _IDLE_S)
            accepted = accepted or self.connected.is_set()
            self._flush_acks()
            self._resend_stale()
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or self._refused is not None:
                break
            if not accepted and time.monotonic() > deadline:
                log.warning(
                    "uplink %s: no CONNACK within %.0fs",
                    self.node_id,
                    self.settings.connect_timeout_s,
                )
                break
        if self._stop.is_set() and self.connected.is_set():
            self._say_offline(client)
        was = self.connected.is_set()
        self.connected.clear()
        client.disconnect()  # sends DISCONNECT if still connected, closes the socket
        self._flush_acks()
        if was and not self._stop.is_set():
            log.warning("uplink %s: connection lost", self.node_id)
        lasted = time.monotonic() - began >= self.settings.backoff_max_s
        return accepted and (self.stats["acked"] > acked_before or lasted)

    def _say_offline(self, client: mqtt.Client) -> None:
        info = client.publish(
            topics.status_topic(self.node_id),
            status_payload(self.node_id, "offline"),
            qos=1,
            retain=True,
        )
        deadline = time.monotonic() + 2.0
        while not info.is_published() and time.monotonic() < deadline:
            if client.loop(_IDLE_S) != MQTTErrorCode.MQTT_ERR_SUCCESS:
                break
        self._flush_acks()

    # ---------------------------------------------------------------- draining

    def _pump(self, client: mqtt.Client) -> bool:
        """Publish what the window and the rate allow; True if more is waiting now."""
        room = min(self._window - len(self._inflight), self._bucket.available())
        if room <= 0:
            return False
        if not self._more and not self.outbox.changed.is_set():
            return False
        self.outbox.changed.clear()
        rows = self.outbox.due(room, skip=set(self._inflight.values()))
        self._more = len(rows) == room
        for row in rows:
            info = client.publish(topics.event_topic(self.node_id, row.type), row.payload, qos=1)
            if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                self._more = True
                return False  # the connection is going; the outbox still has it
            self._inflight[info.mid] = row.seq
        self._bucket.take(len(rows))
        self.stats["published"] += len(rows)
        return self._more and len(self._inflight) < self._window

    def _flush_acks(self) -> None:
        while self._rejected:
            self.outbox.reject(*self._rejected.pop(0))
        if self._acked:
            acked, self._acked = self._acked, []
            self.outbox.mark_sent(acked)
            self.stats["acked"] += len(acked)

    def _resend_stale(self) -> None:
        """Now and then: sent events the hub passed over go again (see outbox_delivery)."""
        timeout = self.drain.confirm_timeout_s
        now = time.monotonic()
        if now < self._stale_check_at:
            return
        self._stale_check_at = now + timeout / 4
        again = self.outbox.resend_stale(timeout)
        if again:
            self._more = True
            self.stats["resent"] += again
            log.warning(
                "uplink %s: %d events unconfirmed by the hub; sending again", self.node_id, again
            )

    def _confirmed(self, payload: bytes) -> None:
        try:
            confirmation = decode_model(Confirmation, payload)
        except ContractError as exc:
            log.warning("uplink %s: bad confirmation refused: %s", self.node_id, exc)
            return
        if confirmation.node_id != self.node_id:
            log.warning(
                "uplink %s: confirmation for %s ignored", self.node_id, confirmation.node_id
            )
            return
        self.stats["confirmed"] += self.outbox.confirm(confirmation.seqs)

    # ---------------------------------------------------------------- paho callbacks

    def _on_connect(
        self,
        client: mqtt.Client,
        _ud: object,
        _flags: object,
        rc: ReasonCode,
        props: Properties | None,
    ) -> None:
        # Called once per client: each connection has its own client.
        if rc.is_failure:
            self._refused = rc
            self.last_refusal = str(rc)
            self.stats["refused"] += 1
            self.flags.add("auth_refused" if rc.value in _AUTH_CODES else "connect_refused")
            log.error("uplink %s: broker refused the connection: %s", self.node_id, rc)
            return
        self.flags.difference_update(("auth_refused", "connect_refused", "uplink_error"))
        self.stats["connects"] += 1
        # More unacknowledged PUBLISHes than the broker's Receive Maximum is a protocol
        # error that gets us disconnected (paho does not enforce it).
        receive_max = getattr(props, "ReceiveMaximum", 65535)
        self._window = max(1, min(self.drain.window, int(receive_max)))
        client.subscribe(
            [
                (topics.config_topic(self.node_id), 1),
                (topics.command_topic(self.node_id), 1),
                (self._confirm_topic, 1),
                (topics.release_topic(self.node_id), 1),  # retained: catches up after offline
                # Keys, revocations, zone policy and levels: retained, so every (re)connect
                # brings the newest of each.
                (topics.ALL_TRUST, 1),
            ]
        )
        client.publish(
            topics.status_topic(self.node_id),
            status_payload(self.node_id, "online"),
            qos=1,
            retain=True,
        )
        self.connected.set()
        log.info("uplink %s: connected to %s:%d", self.node_id, self.mqtt.host, self.mqtt.port)

    def _on_publish(
        self, _c: mqtt.Client, _ud: object, mid: int, rc: ReasonCode, _p: object
    ) -> None:
        seq = self._inflight.pop(mid, None)
        if rc.is_failure:
            # An ACL or a size limit: sending it again will not help, and the broker may
            # drop the connection after it (Mosquitto 2.0 does), so it would block every
            # event behind it. The outbox sets it aside with the reason.
            self.flags.add("publish_refused")
            what = "the status message" if seq is None else f"event seq {seq}"
            log.error("uplink %s: broker refused %s: %s", self.node_id, what, rc)
            if seq is not None:
                self._rejected.append((seq, str(rc)))
            return
        if seq is not None:
            self._acked.append(seq)

    def _on_message(self, _c: mqtt.Client, _ud: object, msg: mqtt.MQTTMessage) -> None:
        try:
            if msg.topic == self._confirm_topic:
                self._confirmed(bytes(msg.payload))
                return
            self.on_message(msg.topic, bytes(msg.payload))
        except Exception:  # a handler bug must not take the uplink down
            log.exception("uplink %s: handling %s failed", self.node_id, msg.topic)
