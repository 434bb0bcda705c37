"""A lane's MQTT session, in a process of its own: ``python -m hub.ingest.receiver FD``.

paho's receive path (reading the socket, decoding each PUBLISH, its properties and
callbacks) costs as much CPU per message as everything else the hub does with it, and
Python runs one thread at a time. So each lane's paho client lives in a child process
that only receives and acknowledges: it passes each message's raw bytes to the hub
process through a pipe, and PUBACKs what the hub reports durable. The hub process
classifies, stores and derives (hub/ingest/session_process.py is its handle on the
child). The two run on two cores.

One thread drives paho through its external-loop calls (``loop_read``, ``loop_write``,
``loop_misc``) and reads the hub's commands between them; a second only sends to the
hub, so that a hub slow to read never stalls the MQTT connection. paho's own loop
thread would select() before every packet and read each with three or four recv calls,
and every PUBACK from another thread would wake it through a pipe: together more CPU
than the rest of the message's way. Here the socket is read 64 KiB at a time
(``_BufferedClient``), the packets in memory are parsed without a select() between
them, and a batch of PUBACKs is queued and written by the loop itself.

The child keeps the lane's guarantees where they are made:
- it acknowledges only the packet ids the hub sends back, and only on the connection they
  arrived on (an id means nothing on the next one: acking it would ack another message);
- it stops reading the socket while ``receive_maximum`` messages are unacknowledged
  (Mosquitto 2.0.11 otherwise sends its whole queue after the first PUBACK), so memory
  stays bounded while InfluxDB is down; it still reads one packet every half keepalive,
  so that the broker's PINGRESP is seen and the connection stays up;
- it ignores SIGINT and SIGTERM: a Ctrl-C or systemd's stop reaches the whole process
  group, and the hub must still send its last acknowledgements through the child. It
  leaves on the hub's word, or when the pipe breaks because the hub died (the broker then
  keeps the unacknowledged messages for the session, as after any crash).
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import socket
import ssl
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from checkpoint.settings.mqtt import MqttSettings

# child -> hub: one list per send, of
MESSAGE = 0  # (MESSAGE, generation, mid, qos, topic, payload, retain)
CONNECTED = 1  # (CONNECTED, generation): a new connection; its messages follow
READY = 2  # (READY,): subscribed (a new session) or session present
DOWN = 3  # (DOWN, reason, is_failure)
LOG = 4  # (LOG, level, text)
FAILED = 5  # (FAILED, text): the child cannot run (bad TLS files, say) and leaves
# hub -> child: ("ack", generation, [(mid, qos), ...]), ("clear", [topic, ...]) or ("stop",)

Message = tuple[int, int, int, str, bytes, bool]  # generation, mid, qos, topic, payload, retain

_READ_SIZE = 65536
_BURST = 1000  # packets parsed before the loop looks at the hub's commands again
_TICK_S = 1.0  # keepalive bookkeeping at least this often
_RECONNECT_MIN_S, _RECONNECT_MAX_S = 1.0, 30.0


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


class _BufferedClient(mqtt.Client):
    """paho reads a packet with one recv call per header byte and one for the rest, and
    sends each packet (a PUBACK is 4 bytes) with a send call of its own, which the broker
    then reads as a segment of its own. This reads the socket ``_READ_SIZE`` at a time and
    serves paho's recv calls from memory, and gathers what paho sends until
    ``loop_write`` ends, then sends it at once. ``buffered`` tells the loop that bytes
    wait here, which select() cannot see."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rbuf = b""
        self._rpos = 0
        self._wbuf = bytearray()
        self._retry = 0  # TLS: a send to repeat with exactly these bytes
        self.drained = False  # the last read found the socket empty

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rpos >= len(self._rbuf):
            try:
                data = super()._sock_recv(_READ_SIZE)
            except BlockingIOError:
                self.drained = True
                raise
            if not data:
                return data  # the broker closed the connection
            self._rbuf, self._rpos = data, 0
        start = self._rpos
        self._rpos = min(start + bufsize, len(self._rbuf))
        return self._rbuf[start : self._rpos]

    def _sock_send(self, buf: bytes | bytearray) -> int:
        if self._sock is None:
            raise ConnectionError("no connection")
        self._wbuf += buf
        return len(buf)

    def loop_write(self) -> MQTTErrorCode:
        rc = super().loop_write()
        self._flush()
        return rc

    def want_write(self) -> bool:
        return super().want_write() or bool(self._wbuf)

    def _flush(self) -> None:
        sock = self._sock
        while self._wbuf and sock is not None:
            chunk = self._wbuf[: self._retry] if self._retry else self._wbuf
            try:
                sent = sock.send(chunk)
            except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                self._retry = len(chunk)  # the rest once the socket has room
                return
            except OSError:
                self._wbuf.clear()  # the connection is gone: the next read finds it closed
                return
            self._retry = 0
            del self._wbuf[:sent]

    def _sock_close(self) -> None:
        if isinstance(self._sock, socket.socket) and self._wbuf:
            # A DISCONNECT and the PUBACKs before it go out (ssl.SSLSocket is one too).
            with contextlib.suppress(OSError):
                self._sock.settimeout(2.0)
                self._flush()
        self._rbuf, self._rpos = b"", 0  # the next connection starts on a packet boundary
        self._wbuf.clear()
        self._retry = 0
        super()._sock_close()

    @property
    def buffered(self) -> bool:
        if self._rpos < len(self._rbuf):
            return True
        sock = self.socket()
        pending = getattr(sock, "pending", None)  # TLS: decrypted bytes select() cannot see
        return bool(pending is not None and pending())


class _Session:
    def __init__(self, conn: Connection, spec: SessionSpec) -> None:
        self.conn = conn
        self.spec = spec
        self._has_out = threading.Condition()
        self._out: list[tuple[Any, ...]] = []  # for the sender thread
        self._batch: list[tuple[Any, ...]] = []  # made by the loop, handed over per round
        self._unacked = 0
        self._generation = spec.first_generation - 1
        self._stopping = False
        self._sender_done = False
        self._held_since: float | None = None
        self._delay = _RECONNECT_MIN_S
        client = spec.mqtt.new_client(spec.client_id, manual_ack=True, client_class=_BufferedClient)
        assert isinstance(client, _BufferedClient)
        self.client = client
        # Queued packets (PUBACKs) are written by the loop, not each as it is queued.
        self.client.on_socket_register_write = _no_op
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    # paho's callbacks, all on the loop thread

    def _on_connect(
        self, client: mqtt.Client, _u: object, flags: mqtt.ConnectFlags, rc: ReasonCode, _p: object
    ) -> None:
        if rc.is_failure:
            self._batch.append((LOG, logging.ERROR, f"broker refused the hub: {rc}"))
            return
        self._delay = _RECONNECT_MIN_S
        # What was unacknowledged on the old connection comes again with new ids.
        self._generation += 1
        self._unacked = 0
        self._held_since = None
        self._batch.append((CONNECTED, self._generation))
        # Retain as published: the hub sees the flag on live messages too (classify.py).
        options = SubscribeOptions(qos=1, retainAsPublished=True)
        client.subscribe([(f, options) for f in self.spec.subscriptions])
        if flags.session_present:
            # The session kept our subscription: ready now. The SUBACK may come only after
            # a backlog of queued messages, which we are already receiving.
            self._batch.append((READY,))

    def _on_subscribe(
        self, _c: mqtt.Client, _u: object, _mid: int, codes: list[ReasonCode], _p: object
    ) -> None:
        if any(code.is_failure for code in codes):
            text = f"broker refused the hub's subscription: {codes}"
            self._batch.append((LOG, logging.ERROR, text))
            return
        self._batch.append((READY,))  # a new session is ready only now

    def _on_disconnect(
        self, _c: mqtt.Client, _u: object, _f: object, rc: ReasonCode, _p: object
    ) -> None:
        self._batch.append((DOWN, str(rc), rc.is_failure))

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        self._batch.append(
            (MESSAGE, self._generation, msg.mid, msg.qos, msg.topic, msg.payload, msg.retain)
        )
        if msg.qos > 0:
            self._unacked += 1

    # the loop

    def run(self) -> None:
        sender = threading.Thread(target=self._send_loop, name="session-sender", daemon=True)
        sender.start()
        client = self.client
        while not self._stopping:
            if client.socket() is None:
                self._connect()
            else:
                self._round()
            self._hand_over()
        if client.socket() is not None:
            client.disconnect()  # after the PUBACKs queued before the hub's "stop"
            for _ in range(100):  # written by now unless the socket is full
                if client.socket() is None or client.loop_write() != 0:
                    break
                time.sleep(0.01)
        self._hand_over()
        with self._has_out:
            self._sender_done = True
            self._has_out.notify()
        sender.join(5)

    def _connect(self) -> None:
        mq = self.spec.mqtt
        try:
            if self.client.host:
                self.client.reconnect()
            else:
                props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
                props.SessionExpiryInterval = self.spec.session_expiry_s
                props.ReceiveMaximum = self.spec.receive_maximum
                self.client.connect(
                    mq.host, mq.port, mq.keepalive_s, clean_start=False, properties=props
                )
            return
        except (OSError, ValueError) as exc:
            if self._delay == _RECONNECT_MIN_S:  # the first failure in a row, not each retry
                self._batch.append((LOG, logging.WARNING, f"cannot reach the broker: {exc}"))
        self._hand_over()
        self._commands(self._delay)  # the hub's word still counts while we wait
        self._delay = min(self._delay * 2, _RECONNECT_MAX_S)

    def _round(self) -> None:
        """One select() over the broker's socket and the hub's pipe, then what it allows."""
        client = self.client
        sock = client.socket()
        assert sock is not None
        reading = self._may_read()
        timeout = 0.0 if reading and client.buffered else _TICK_S
        rlist: list[Any] = [self.conn, sock] if reading else [self.conn]
        wlist = [sock] if client.want_write() else []
        try:
            readable, _, _ = select.select(rlist, wlist, [], timeout)
        except (OSError, ValueError):
            readable = []  # the socket closed under us: loop_misc notices
        if self.conn in readable:
            self._commands(0)
        if reading and (sock in readable or timeout == 0):
            self._read()
        if client.socket() is not None and client.want_write():
            client.loop_write()
        if client.socket() is not None:
            client.loop_misc()

    def _may_read(self) -> bool:
        if self._unacked < self.spec.receive_maximum:
            self._held_since = None
            return True
        now = time.monotonic()
        if self._held_since is None:
            self._held_since = now
        if now - self._held_since >= self.spec.mqtt.keepalive_s / 2:
            self._held_since = now  # one packet: a PINGRESP keeps the connection alive
            return True
        return False

    def _read(self) -> None:
        client = self.client
        client.drained = False
        for _ in range(_BURST):
            if client.loop_read() != 0 or client.socket() is None:
                return  # paho closed the connection and told on_disconnect
            if self._unacked >= self.spec.receive_maximum:
                return
            if client.drained and not client.buffered:
                return

    def _commands(self, timeout: float) -> None:
        """Carry out what the hub sent, waiting up to ``timeout`` for the first."""
        try:
            while self.conn.poll(timeout):
                timeout = 0
                command = self.conn.recv()
                if command[0] == "ack":
                    self._ack(command[1], command[2])
                elif command[0] == "clear":
                    for topic in command[1]:
                        # An empty retained message deletes the retained one (MQTT 3.3.1.3).
                        self.client.publish(topic, b"", qos=1, retain=True)
                elif command[0] == "stop":
                    self._stopping = True
                    return
        except (EOFError, OSError):
            os._exit(0)  # the hub died: leave at once, the broker keeps the session

    def _ack(self, generation: int, ids: list[tuple[int, int]]) -> None:
        if generation != self._generation:
            return  # the ids of an ended connection: the broker sends those again
        for mid, qos in ids:
            self.client.ack(mid, qos)
        self._unacked -= len(ids)

    def _hand_over(self) -> None:
        if self._batch:
            with self._has_out:
                self._out.extend(self._batch)
                self._has_out.notify()
            self._batch = []

    def _send_loop(self) -> None:
        """Whatever piled up while the last send went out goes as one: batches form by
        themselves under load, and a lone fever passage goes at once."""
        while True:
            with self._has_out:
                while not self._out and not self._sender_done:
                    self._has_out.wait()
                batch, self._out = self._out, []
            if batch:
                try:
                    self.conn.send(batch)
                except OSError:
                    os._exit(0)  # the hub is gone; the broker keeps the session
            elif self._sender_done:
                return


def _no_op(*_args: object) -> None:
    return None


def _serve(fd: int) -> None:
    """The child process: FD is its end of a socket pair, over which the first thing to
    come is the SessionSpec."""
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


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
