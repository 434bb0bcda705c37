"""Version counters of the trust documents in the state store, shared by hub instances.

Every change takes the ``trust-documents`` lock inside its transaction (a no-op on
SQLite, which has one writer anyway), so two hubs never hand out the same version.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, Integer, String, Table, insert, select, update

from hub.state import metadata
from hub.state.locks import hold_in

trust_versions = Table(
    "trust_versions",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", Integer, nullable=False),
)

KEYS = "keys"
REVOCATIONS = "revocations"
REVOCATIONS_BASE = "revocations_base"


def lock(conn: Connection) -> None:
    """Serialise changes to keys and revocations across instances (this transaction)."""
    hold_in(conn, "trust-documents")


def read(conn: Connection, name: str) -> int:
    found = conn.execute(
        select(trust_versions.c.value).where(trust_versions.c.name == name)
    ).scalar_one_or_none()
    return int(found or 0)


def write(conn: Connection, name: str, value: int) -> None:
    done = conn.execute(
        update(trust_versions).where(trust_versions.c.name == name).values(value=value)
    )
    if done.rowcount == 0:
        conn.execute(insert(trust_versions).values(name=name, value=value))


def bump(conn: Connection, name: str) -> int:
    value = read(conn, name) + 1
    write(conn, name, value)
    return value
