"""Globally unique, time-ordered event ids (UUIDv7, RFC 9562).

Time order keeps the node's outbox index and the hub's dedup lookups local; the 74
random bits make two nodes (or a node whose disk was replaced) never collide.
"""

from __future__ import annotations

import os
import time


def uuid7(unix_ms: int | None = None) -> str:
    ms = time.time_ns() // 1_000_000 if unix_ms is None else unix_ms
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76  # version
    value |= (rand >> 68) << 64 & (0xFFF << 64)  # rand_a, 12 bits
    value |= 0b10 << 62  # variant
    value |= rand & ((1 << 62) - 1)  # rand_b
    # Formatted by hand: uuid.UUID(int=...) costs several times more, on every event.
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
