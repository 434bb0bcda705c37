"""Tell each node which of its events the hub made durable (the end-to-end
acknowledgement), so that the node deletes them from its outbox.

The lanes hand over ``(node, seq)`` once a batch's derivation, points and dead letters are
written (hub/ingest/consumer.py); this publishes them every ``ingest.confirm_interval_s``
as one ``Confirmation`` a node (ranges of sequence numbers) on
``checkpoint/v1/down/<node>/confirm``, QoS 1, through a client of its own (client id
``<client_id>-confirm``), so that a confirmation never waits behind ingest.

Losing a confirmation costs a redelivery, never an event: the node sends what stays
unconfirmed again, and the hub stores an id once and confirms it again. So what could not
be published is kept for the next round only while it is small; a hub cut off from the
broker for long lets it go (every node re-sends all it holds on its next connection).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from checkpoint.contract import encode, topics
from checkpoint.contract.confirm import Confirmation, confirmations
from checkpoint.settings.mqtt import MqttSettings
from hub.publisher import HubPublisher, PublishError

log = logging.getLogger(__name__)

MAX_KEPT = 1_000_000  # sequence numbers kept across failed rounds, at most


class Confirmer:
    def __init__(self, settings: MqttSettings, client_id: str, *, interval_s: float) -> None:
        self.interval_s = interval_s
        self.publisher = HubPublisher(settings, client_id)
        self.stats = {"confirmed": 0, "messages": 0, "failed_rounds": 0}
        self._pending: dict[str, set[int]] = {}
        self._count = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hub-confirm", daemon=True)

    def add(self, confirmed: Iterable[tuple[str, int]]) -> None:
        """These events are durable (called from the lanes' store threads)."""
        with self._lock:
            for node_id, seq in confirmed:
                seqs = self._pending.setdefault(node_id, set())
                before = len(seqs)
                seqs.add(seq)
                self._count += len(seqs) - before

    def start(self) -> None:
        self.publisher.start()
        self._thread.start()

    def stop(self) -> None:
        """After the lanes stopped: their last confirmations go out first."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.publisher.stop()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.flush()
        self.flush()

    def flush(self) -> None:
        """Publish what is pending, one message per node (more for a long backlog)."""
        with self._lock:
            pending, self._pending, self._count = self._pending, {}, 0
        if not pending:
            return
        messages = [
            (node_id, c) for node_id, seqs in pending.items() for c in confirmations(node_id, seqs)
        ]
        try:
            done = self.publisher.publish_many(
                [(topics.confirm_topic(node_id), encode(c)) for node_id, c in messages]
            )
        except PublishError as exc:
            done = 0
            log.warning("confirmations not published (%s); kept for the next round", exc)
        self.stats["messages"] += done
        self.stats["confirmed"] += sum(
            last - first + 1 for _, c in messages[:done] for first, last in c.seqs
        )
        if done < len(messages):
            self.stats["failed_rounds"] += 1
            self._keep(messages[done:])

    def _keep(self, unpublished: list[tuple[str, Confirmation]]) -> None:
        if self._count > MAX_KEPT:
            return  # the nodes re-send on their next connection; see above
        self.add(
            (node_id, seq)
            for node_id, c in unpublished
            for first, last in c.seqs
            for seq in range(first, last + 1)
        )
