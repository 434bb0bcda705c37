"""The node runtime in a process of its own, for kill -9 and SIGTERM tests.

    python -m tests.edge.uplink.node_proc NODE.yaml EVENTS

Runs EdgeService with a scripted node that emits EVENTS passages as fast as it can and
prints ``seq id`` for each once ``emit`` has returned (so the event is committed).
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from checkpoint.settings.loading import load_model
from edge.config import NodeConfig
from edge.events import Emitter
from edge.service import EdgeService
from tests.edge.uplink.support import ScriptedNode, passage


def main() -> None:
    path, count = Path(sys.argv[1]), int(sys.argv[2])

    def factory(config: NodeConfig, emitter: Emitter) -> ScriptedNode:
        def traffic() -> None:
            for _ in range(count):
                event = passage(emitter)
                print(event.seq, event.id, flush=True)

        threading.Thread(target=traffic, daemon=True).start()
        return ScriptedNode(config, emitter)

    service = EdgeService(load_model(NodeConfig, path), config_path=path, node_factory=factory)
    signal.signal(signal.SIGTERM, lambda _s, _f: service.request_stop())
    service.run()


if __name__ == "__main__":
    main()
