"""The hub's state store: SQLite by default, PostgreSQL for several hub instances.

One interface for both through SQLAlchemy Core. Modules that keep state declare their
tables on ``metadata`` (alerts, dead letters, audit, ...); ``open_store`` creates them.
"""

from __future__ import annotations

from sqlalchemy import Engine, MetaData, create_engine, event

metadata = MetaData()


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # WAL: readers (the API) do not block the writer (ingest); synchronous=FULL so that a
    # committed alert survives power loss before we acknowledge the MQTT message.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def open_store(url: str) -> Engine:
    """``sqlite:///path/hub.db`` or ``postgresql+psycopg://user@host:port/db``."""
    engine = create_engine(url, future=True, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    metadata.create_all(engine)
    return engine
