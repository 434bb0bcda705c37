"""Processes appending to a node's outbox in a tight loop, for the power-loss scenario.

    python -m tests.reliability.appender OUTBOX NODE_ID WARD_ID

A zygote: it imports the outbox once, then for every ``run FILE`` line on stdin forks a
child and answers with the child's pid; ``reap`` waits for that child (killed -9 by the
test) and answers ``reaped``. Each child opens the outbox afresh, as a booting node would,
and two threads emit passages into it (as a node's worker and health thread share group
commits), writing ``seq id`` to FILE once ``emit`` has returned, until killed. Forking
from a warm process makes each of the scenario's many "boots" take milliseconds.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from checkpoint.contract import Passage
from edge.uplink.outbox import Outbox

PASSAGE = {
    "direction": "in",
    "decision": "admit",
    "reason": "ok",
    "zone_level": "green",
    "temperature": None,
    "pass_check": None,
    "barrier": None,
    "duration_ms": 800,
}


def append_forever(path: Path, node_id: str, ward_id: str, out: Path) -> None:
    outbox = Outbox(
        path, node_id=node_id, checkpoint_id=f"{node_id}-cp", ward_id=ward_id, max_bytes=10**9
    )
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    lock = threading.Lock()

    def loop() -> None:
        while True:
            event = outbox.emit(Passage, **PASSAGE)
            with lock:  # one write per line: a kill leaves at most the last one cut short
                os.write(fd, f"{event.seq} {event.id}\n".encode())

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def main() -> None:
    path, node_id, ward_id = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    child = 0
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        if command == "run":
            child = os.fork()
            if child == 0:  # the zygote has no threads, so forking it is safe
                try:
                    append_forever(path, node_id, ward_id, Path(arg))
                finally:
                    os._exit(1)
            print(child, flush=True)
        elif command == "reap":
            os.waitpid(child, 0)
            print("reaped", flush=True)


if __name__ == "__main__":
    main()
