"""The hub's handle on a lane's session process (hub/ingest/receiver.py): it starts the
child, passes its reports to the lane, sends it the lane's acknowledgements, and starts
it again if it dies."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from hub.ingest import receiver
from hub.ingest.receiver import CONNECTED, DOWN, FAILED, LOG, MESSAGE, READY, Message, SessionSpec

log = logging.getLogger(__name__)

RESPAWN_DELAY_S = 1.0


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
            [sys.executable, "-m", receiver.__name__, str(theirs)],
            pass_fds=(theirs,),
            close_fds=True,
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
