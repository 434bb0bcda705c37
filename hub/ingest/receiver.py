"""A lane's MQTT session, in a process of its own.

paho's receive path (reading the socket, decoding each PUBLISH, its properties and
callbacks) costs as much CPU per message as everything else the hub does with it, and
Python runs one thread at a time. So each lane's paho client lives in a child process
that only receives and acknowledges: it passes each message's raw bytes to the hub
process through a pipe, and PUBACKs what the hub reports durable. The hub process
classifies, stores and derives as before. The two run on two cores.

The child keeps the lane's guarantees where they are made:
- it acknowledges only the packet ids the hub sends back, and only on the connection they
  arrived on (an id means nothing on the next one: acking it would ack another message);
- it stops reading the socket while ``receive_maximum`` messages are unacknowledged
  (Mosquitto 2.0.11 otherwise sends its whole queue after the first PUBACK), so memory
  stays bounded while InfluxDB is down;
- it ignores SIGINT and SIGTERM: a Ctrl-C or systemd's stop reaches the whole process
  group, and the hub must still send its last acknowledgements through the child. It
  leaves on the hub's word, or when the pipe breaks because the hub died (the broker then
  keeps the unacknowledged messages for the session, as after any crash).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from checkpoint.settings.mqtt import MqttSettings

log = logging.getLogger(__name__)

# child -> hub: one list per send, of
MESSAGE = 0  # (MESSAGE, generation, mid, qos, topic, payload, retain)
CONNECTED = 1  # (CONNECTED, generation): a new connection; its messages follow
READY = 2  # (READY,): subscribed (a new session) or session present
DOWN = 3  # (DOWN, reason, is_failure)
LOG = 4  # (LOG, level, text)
FAILED = 5  # (FAILED, text): the child cannot run (bad TLS files, say) and leaves
# hub -> child: ("ack", generation, [(mid, qos), ...]), ("clear", [topic, ...]) or ("stop",)

RESPAWN_DELAY_S = 1.0

Message = tuple[int, int, int, str, bytes, bool]  # generation, mid, qos, topic, payload, retain


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """What the child needs: plain data, with the password already read by the hub
    (the child does not see the hub's environment as it is now)."""

    mqtt: MqttSettings
    client_id: str
    subscriptions: tuple[str, ...]
    session_expiry_s: int
    receive_maximum: int
    first_generation: int


# ---------------------------------------------------------------------- child side


class _Session:
    def __init__(self, conn: Connection, spec: SessionSpec) -> None:
        self.conn = conn
        self.spec = spec
        lock = threading.Lock()
        self._has_out = threading.Condition(lock)
        self._has_room = threading.Condition(lock)
        self._out: list[tuple[Any, ...]] = []
        self._unacked = 0
        self._generation = spec.first_generation - 1
        self._stopping = False
        self.client = spec.mqtt.new_client(spec.client_id, manual_ack=True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def _emit(self, item: tuple[Any, ...]) -> None:
        with self._has_out:
            self._out.append(item)
            self._has_out.notify()

    def _on_connect(
        self, client: mqtt.Client, _u: object, flags: mqtt.ConnectFlags, rc: ReasonCode, _p: object
    ) -> None:
        if rc.is_failure:
            self._emit((LOG, logging.ERROR, f"broker refused the hub: {rc}"))
            return
        with self._has_out:
            # What was unacknowledged on the old connection comes again with new ids.
            self._generation += 1
            self._unacked = 0
            self._out.append((CONNECTED, self._generation))
            self._has_out.notify()
            self._has_room.notify_all()
        # Retain as published: the hub sees the flag on live messages too (classify.py).
        options = SubscribeOptions(qos=1, retainAsPublished=True)
        client.subscribe([(f, options) for f in self.spec.subscriptions])
        if flags.session_present:
            # The session kept our subscription: ready now. The SUBACK may come only after
            # a backlog of queued messages, which we are already receiving.
            self._emit((READY,))

    def _on_subscribe(
        self, _c: mqtt.Client, _u: object, _mid: int, codes: list[ReasonCode], _p: object
    ) -> None:
        if any(code.is_failure for code in codes):
            self._emit((LOG, logging.ERROR, f"broker refused the hub's subscription: {codes}"))
            return
        self._emit((READY,))  # a new session is ready only now

    def _on_disconnect(
        self, _c: mqtt.Client, _u: object, _f: object, rc: ReasonCode, _p: object
    ) -> None:
        self._emit((DOWN, str(rc), rc.is_failure))

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._has_out:
            item = (MESSAGE, self._generation, msg.mid, msg.qos, msg.topic, msg.payload, msg.retain)
            self._out.append(item)
            if len(self._out) == 1:
                self._has_out.notify()
            if msg.qos > 0:
                self._unacked += 1
                self._hold_back()

    def _hold_back(self) -> None:
        """Not returning from on_message stops paho reading the socket, so the rest stays
        at the broker and in TCP buffers. Never longer than half the keepalive at a time,
        so that the connection stays alive if the hub's writes stall."""
        limit = self.spec.receive_maximum
        deadline = time.monotonic() + self.spec.mqtt.keepalive_s / 2
        while self._unacked >= limit and not self._stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._has_room.wait(min(remaining, 0.5))

    def _send_loop(self) -> None:
        """Whatever piled up while the last send went out goes as one: batches form by
        themselves under load, and a lone fever passage goes at once."""
        while True:
            with self._has_out:
                while not self._out and not self._stopping:
                    self._has_out.wait()
                batch, self._out = self._out, []
            if batch:
                try:
                    self.conn.send(batch)
                except OSError:
                    os._exit(0)  # the hub is gone; the broker keeps the session
            elif self._stopping:
                return

    def _ack(self, generation: int, ids: list[tuple[int, int]]) -> None:
        # Under the lock: a reconnect (a new generation) cannot slip in between the check
        # and the PUBACKs. paho takes only its packet-queue lock in ack(), never ours.
        with self._has_out:
            if generation != self._generation:
                return
            for mid, qos in ids:
                self.client.ack(mid, qos)
            self._unacked -= len(ids)
            self._has_room.notify_all()

    def run(self) -> None:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.spec.session_expiry_s
        props.ReceiveMaximum = self.spec.receive_maximum
        sender = threading.Thread(target=self._send_loop, name="session-sender", daemon=True)
        sender.start()
        mq = self.spec.mqtt
        self.client.connect_async(
            mq.host, mq.port, mq.keepalive_s, clean_start=False, properties=props
        )
        self.client.loop_start()
        while True:
            try:
                command = self.conn.recv()
            except (EOFError, OSError):
                os._exit(0)  # the hub died: leave at once, the broker keeps the session
            if command[0] == "ack":
                self._ack(command[1], command[2])
            elif command[0] == "clear":
                for topic in command[1]:
                    # An empty retained message deletes the retained one (MQTT 3.3.1.3).
                    self.client.publish(topic, b"", qos=1, retain=True)
            elif command[0] == "stop":
                break
        with self._has_out:
            self._stopping = True
            self._has_room.notify_all()
        self.client.disconnect()  # after the PUBACKs queued above
        self.client.loop_stop()
        with self._has_out:
            self._has_out.notify()
        sender.join(5)


def _serve(fd: int) -> None:
    """The child process: ``python -m hub.ingest.receiver FD``, FD its end of a socket
    pair, over which the first thing to come is the SessionSpec."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    conn = Connection(fd)
    try:
        spec = conn.recv()
        session = _Session(conn, spec)
    except Exception as exc:  # noqa: BLE001 - whatever it is, the hub must hear why
        conn.send([(FAILED, f"{type(exc).__name__}: {exc}")])
        return
    session.run()


# ---------------------------------------------------------------------- hub side


def _reap(process: subprocess.Popen[bytes]) -> int | None:
    try:
        return process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()


class SessionProcess:
    """The hub's handle on one lane's session process.

    ``on_messages`` gets each batch of ``(generation, mid, qos, topic, payload, retain)`` on the
    handle's reader thread, in arrival order. A child that dies unasked is started again
    (its unacknowledged messages come again from the broker, with new ids).
    """

    def __init__(
        self,
        name: str,
        spec: SessionSpec,
        *,
        on_messages: Callable[[list[Message]], None],
        on_ready: Callable[[], None],
        on_down: Callable[[str, bool], None],
    ) -> None:
        self.name = name
        self.spec = spec
        self._on_messages = on_messages
        self._on_ready = on_ready
        self._on_down = on_down
        self._send_lock = threading.Lock()
        self._life = threading.Lock()  # spawning and stopping, one at a time
        self._stopping = threading.Event()
        self._generation = spec.first_generation - 1
        self.failure: str | None = None  # why the child could not run, if it could not
        self._conn: Connection | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None

    def start(self) -> None:
        with self._life:
            self._spawn()

    def _respawn(self) -> None:
        with self._life:
            if not self._stopping.is_set():
                log.error("%s lane's session process ended; starting it again", self.name)
                self._spawn()

    def _spawn(self) -> None:
        # A fresh interpreter (about 0.2 s), not a fork of the hub, whose other threads may
        # hold locks at the moment of a fork; nor multiprocessing's spawn, which would
        # import the hub's __main__ again in the child.
        ours_sock, theirs_sock = socket.socketpair()
        spec = self.spec
        if self._generation >= spec.first_generation:
            spec = SessionSpec(
                spec.mqtt,
                spec.client_id,
                spec.subscriptions,
                spec.session_expiry_s,
                spec.receive_maximum,
                self._generation + 1,
            )
        theirs = theirs_sock.detach()
        process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(theirs)], pass_fds=(theirs,), close_fds=True
        )
        os.close(theirs)  # ours alone: its EOF then tells us the child is gone
        ours = Connection(ours_sock.detach())
        ours.send(spec)
        self._conn, self._process = ours, process
        self._reader = threading.Thread(
            target=self._read_loop,
            args=(ours, process),
            name=f"hub-session-{self.name}",
            daemon=True,
        )
        self._reader.start()

    def _read_loop(self, conn: Connection, process: subprocess.Popen[bytes]) -> None:
        while True:
            try:
                batch = conn.recv()
            except (EOFError, OSError):
                break
            self._dispatch(batch)
        code = _reap(process)
        conn.close()
        if self._stopping.is_set() or self.failure is not None:
            return
        self._on_down(f"session process ended (exit code {code})", True)
        if not self._stopping.wait(RESPAWN_DELAY_S):
            self._respawn()

    def _dispatch(self, batch: list[tuple[Any, ...]]) -> None:
        """Runs of messages go to ``on_messages`` whole; reports in their place between."""
        messages: list[Message] = []
        for item in batch:
            kind = item[0]
            if kind == MESSAGE:
                messages.append(item[1:])
                continue
            if messages:
                self._on_messages(messages)
                messages = []
            if kind == CONNECTED:
                self._generation = item[1]
            elif kind == READY:
                self._on_ready()
            elif kind == DOWN:
                self._on_down(item[1], item[2])
            elif kind == LOG:
                log.log(item[1], "%s lane: %s", self.name, item[2])
            elif kind == FAILED:
                self.failure = item[1]
                log.error("%s lane's session cannot run: %s", self.name, item[1])
        if messages:
            self._on_messages(messages)

    def ack(self, generation: int, ids: list[tuple[int, int]]) -> None:
        """PUBACK these, if their connection is still the child's current one."""
        if ids:
            self._send(("ack", generation, ids))  # a child gone meanwhile: they come again

    def clear_retained(self, topics: list[str]) -> None:
        """Delete the retained messages on ``topics`` at the broker (best effort: one that
        stays comes again on the next subscription and is refused again)."""
        if topics:
            self._send(("clear", topics))

    def _send(self, command: tuple[Any, ...]) -> None:
        conn = self._conn
        if conn is None:
            return
        with self._send_lock, contextlib.suppress(OSError):
            conn.send(command)

    @property
    def pid(self) -> int | None:
        """The child's process id (operators and tests find it by this)."""
        process = self._process
        return process.pid if process is not None else None

    def stop(self) -> None:
        """Let the child send what was acknowledged and disconnect, then reap it."""
        with self._life:
            self._stopping.set()
            conn, process, reader = self._conn, self._process, self._reader
        if conn is None or process is None:
            return
        self._send(("stop",))
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            log.warning("%s lane's session process did not stop; killing it", self.name)
            process.kill()
            _reap(process)
        if reader is not None and reader is not threading.current_thread():
            reader.join(5)


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
