"""The outbox on its own: durable before emit returns, seq never reused, bounded with
telemetry giving way first, a full disk survived, a kill -9 mid-write survived."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from checkpoint.contract import BarrierAlarm, Passage, Reading, decode_event
from edge.uplink.outbox import Outbox
from tests.edge.uplink.support import passage, reading
from tests.smallfs import small_filesystem


def open_outbox(path: Path, max_bytes: int = 10**9, page_limit: int | None = None) -> Outbox:
    return Outbox(
        path,
        node_id="n1",
        checkpoint_id="cp1",
        ward_id="w1",
        max_bytes=max_bytes,
        page_limit=page_limit,
    )


def stored_seqs(path: Path) -> list[int]:
    with sqlite3.connect(path) as db:
        return [s for (s,) in db.execute("SELECT seq FROM events ORDER BY seq")]


def test_an_event_is_on_disk_when_emit_returns(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    outbox = open_outbox(path)
    event = passage(outbox)
    # Another connection (another process, after a crash) sees it already.
    with sqlite3.connect(path) as db:
        [(payload,)] = db.execute("SELECT payload FROM events").fetchall()
    assert decode_event("checkpoint/v1/up/n1/events/passage", payload) == event
    assert (event.node_id, event.checkpoint_id, event.ward_id) == ("n1", "cp1", "w1")
    outbox.close()


def test_sequence_numbers_survive_delivery_and_restart(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    outbox = open_outbox(path)
    first = [reading(outbox).seq for _ in range(3)]
    outbox.mark_sent(first)
    outbox.confirm([(0, 2)])  # all confirmed by the hub: the table is empty
    assert (outbox.depth, outbox.held) == (0, 0)
    outbox.close()
    outbox = open_outbox(path)
    assert reading(outbox).seq == 3
    assert first == [0, 1, 2]
    outbox.close()


def test_drain_sends_urgent_events_first_each_class_in_order(tmp_path: Path) -> None:
    outbox = open_outbox(tmp_path / "outbox.sqlite")
    events = [passage(outbox) if i % 2 else reading(outbox) for i in range(10)]
    batch = outbox.due(4)
    assert [s.seq for s in batch] == [1, 3, 5, 7]
    assert {s.type for s in batch} == {"passage"}
    assert [s.seq for s in outbox.due(4, skip={1, 3, 5, 7})] == [9, 0, 2, 4]
    outbox.close()
    # The order outlives a restart: it is in the file, not in memory.
    outbox = open_outbox(tmp_path / "outbox.sqlite")
    assert [s.seq for s in outbox.due(10)] == [e.seq for e in events[1::2] + events[0::2]]
    outbox.close()


def test_sent_events_are_kept_until_the_hub_confirms_them(tmp_path: Path) -> None:
    outbox = open_outbox(tmp_path / "outbox.sqlite")
    events = [passage(outbox) if i % 2 else reading(outbox) for i in range(10)]
    outbox.mark_sent([1, 3, 0])  # the broker's PUBACKs
    assert (outbox.depth, outbox.held) == (7, 10)
    assert 1 not in [s.seq for s in outbox.due(100)], "sent: not sent again for now"
    assert outbox.confirm([(0, 1), (3, 3), (42, 50)]) == 3  # 42-50: not (any longer) here
    assert (outbox.depth, outbox.held) == (7, 7)
    assert [s.seq for s in outbox.after(-1, 100)] == [
        e.seq for e in events if e.seq > 1 and e.seq != 3
    ]
    outbox.mark_sent([2, 5])
    assert outbox.resend_all() == 2  # a new connection: unconfirmed events go again
    assert (outbox.depth, outbox.held) == (7, 7)
    outbox.close()


def test_an_event_the_hub_passed_over_is_sent_again(tmp_path: Path) -> None:
    outbox = open_outbox(tmp_path / "outbox.sqlite")
    first, second = passage(outbox).seq, passage(outbox).seq
    outbox.mark_sent([first])
    time.sleep(0.05)
    outbox.mark_sent([second])
    assert outbox.resend_stale(0.01) == 0, "nothing confirmed yet: the hub may be away"
    outbox.confirm([(second, second)])  # a later one confirmed, the first not
    assert outbox.resend_stale(10.0) == 0, "not yet: within the timeout"
    assert outbox.resend_stale(0.01) == 1
    assert [s.seq for s in outbox.due(10)] == [first]
    outbox.close()


def test_an_outbox_file_without_delivery_columns_is_brought_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    with sqlite3.connect(path) as db:  # the first release's table
        db.execute(
            "CREATE TABLE events (seq INTEGER PRIMARY KEY, type TEXT NOT NULL, "
            "priority INTEGER NOT NULL, size INTEGER NOT NULL, payload BLOB NOT NULL)"
        )
        db.executemany(
            "INSERT INTO events VALUES (?, ?, ?, 3, x'7b7d20')",
            [(0, "reading", 0), (1, "passage", 1)],
        )
    outbox = open_outbox(path)
    assert [s.seq for s in outbox.due(10)] == [1, 0]
    assert (outbox.depth, outbox.held) == (2, 2)
    assert passage(outbox).seq == 2
    outbox.close()


def test_when_full_telemetry_gives_way_before_passages(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    outbox = open_outbox(path, max_bytes=40_000)
    passages = [passage(outbox).seq for _ in range(20)]
    readings = [reading(outbox).seq for _ in range(400)]  # far more than fits
    alarm = outbox.emit(BarrierAlarm, kind="forced_open", detail="switch opened").seq
    kept = stored_seqs(path)
    assert set(passages) <= set(kept), "a passage gave way while telemetry was left"
    assert alarm in kept
    kept_readings = [s for s in kept if s in set(readings)]
    assert kept_readings, "some telemetry still fits"
    # Oldest first: what is left of the readings is the newest run of them.
    assert kept_readings == readings[-len(kept_readings) :]
    assert outbox.size_bytes <= 40_000
    dropped = 400 - len(kept_readings)
    assert outbox.dropped == {"reading": dropped}
    outbox.close()
    # The count is kept on disk: health keeps reporting it after a restart.
    assert open_outbox(path, max_bytes=40_000).dropped == {"reading": dropped}


def test_with_no_telemetry_left_the_oldest_passages_go(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    outbox = open_outbox(path, max_bytes=20_000)
    seqs = [passage(outbox).seq for _ in range(100)]
    kept = stored_seqs(path)
    assert kept == seqs[-len(kept) :]
    assert outbox.dropped == {"passage": 100 - len(kept)}
    outbox.close()


def test_a_full_disk_drops_telemetry_and_keeps_the_passage(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    # SQLite reports SQLITE_FULL when the file would pass this many pages, as on a full disk.
    outbox = open_outbox(path, page_limit=40)
    readings: list[int] = []
    while "disk_full" not in outbox.flags and len(readings) < 5000:
        readings.append(reading(outbox).seq)
    assert "disk_full" in outbox.flags
    event = passage(outbox)
    assert event.seq in stored_seqs(path), "the passage was stored after telemetry made room"
    assert outbox.dropped.get("reading", 0) > 0
    assert outbox.dropped.get("passage", 0) == 0
    outbox.close()


def test_a_full_disk_with_nothing_to_give_way_loses_no_stored_event(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    outbox = open_outbox(path, page_limit=30)
    for _ in range(3000):
        passage(outbox)  # emit never raises: the node keeps deciding
        if outbox.lost:
            break
    assert outbox.lost == 1
    assert "disk_full" in outbox.flags
    before = stored_seqs(path)
    for _ in range(10):
        passage(outbox)
    # The new passages are lost (counted and logged); the stored ones all stay.
    assert outbox.lost == 11
    assert stored_seqs(path) == before
    assert outbox.dropped == {}
    outbox.close()


WRITER = """
import sys
from pathlib import Path
from edge.uplink.outbox import Outbox
from tests.edge.uplink.support import passage, reading
from tests.smallfs import small_filesystem
outbox = Outbox(Path(sys.argv[1]), node_id="n1", checkpoint_id="cp1", ward_id="w1",
                max_bytes=10**9)
i = 0
while True:
    event = passage(outbox) if i % 3 else reading(outbox)
    print(event.seq, event.id, flush=True)
    i += 1
"""


def test_a_kill_9_mid_write_keeps_every_committed_event(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[3],
    )
    assert proc.stdout is not None
    committed = {}
    for line in proc.stdout:
        seq, event_id = line.split()
        committed[int(seq)] = event_id
        if len(committed) >= 300:
            break
    os.kill(proc.pid, signal.SIGKILL)  # mid-write: it was emitting as fast as it could
    proc.wait()
    outbox = open_outbox(path)
    stored = {s.seq: json.loads(s.payload)["id"] for s in outbox.after(-1, 100_000)}
    assert committed.items() <= stored.items()
    assert outbox.next_seq == max(stored) + 1
    assert isinstance(passage(outbox), Passage)
    outbox.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_an_unreadable_file_is_kept_aside_and_the_node_starts(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite"
    old = open_outbox(path)
    last = passage(old).seq
    old.close()
    path.write_bytes(b"this is not a database, a torn SD card block" * 100)
    outbox = open_outbox(path)
    assert "outbox_corrupt" in outbox.flags
    event = outbox.emit(
        Reading, object_c=36.0, ambient_c=28.0, samples=1, spread_c=0.0, emissivity=0.98
    )
    assert event.seq in stored_seqs(path)
    # The old counter is gone with the old file; the new one starts far above it.
    assert event.seq > last + 10**12
    [aside] = tmp_path.glob("outbox.sqlite.corrupt-*")
    assert aside.read_bytes().startswith(b"this is not a database")
    outbox.close()


def test_a_really_full_disk_gives_way_and_recovers_after_the_drain(tmp_path: Path) -> None:
    """On a real small filesystem: before the headroom, SQLite filled the disk to the last
    byte, and then nothing (making room, deleting acknowledged events) could be written
    again: the outbox lost every event for good, even after its backlog was delivered."""
    with small_filesystem(tmp_path / "small", 3 * 1024 * 1024) as disk:
        path = disk / "outbox.sqlite"
        outbox = Outbox(
            path,
            node_id="n1",
            checkpoint_id="cp1",
            ward_id="w1",
            max_bytes=10**9,
            disk_headroom_bytes=1024 * 1024,
        )
        for i in range(20_000):
            (reading if i % 3 == 0 else passage)(outbox)
            if outbox.lost > 20:
                break
        assert "disk_full" in outbox.flags
        assert outbox.dropped.get("reading", 0) > 0, "telemetry gave way first"
        assert outbox.dropped_total == sum(outbox.dropped.values()) + outbox.lost
        # The uplink is back: everything is delivered and confirmed by the hub.
        while rows := outbox.after(-1, 500):
            outbox.mark_sent(r.seq for r in rows)
            outbox.confirm((r.seq, r.seq) for r in rows)
        assert (outbox.depth, outbox.held) == (0, 0)
        lost = outbox.lost
        for _ in range(200):
            passage(outbox)
        assert outbox.lost == lost, "the outbox takes events again"
        assert "disk_full" not in outbox.flags
        assert outbox.depth == 200
        outbox.close()
        (check,) = sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()
        assert check == "ok"
