"""Serving the API with uvicorn, in its own thread (beside ingest) or in the foreground."""

from __future__ import annotations

import asyncio
import threading
import time

import uvicorn
from fastapi import FastAPI

from hub.api.settings import ApiSettings


class ApiServer:
    def __init__(self, app: FastAPI, settings: ApiSettings) -> None:
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            root_path=settings.root_path,
            log_level="warning",
            access_log=False,
            lifespan="off",
            # A request still running then is cut off, so a stop never hangs on a client.
            timeout_graceful_shutdown=5,
        )
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def start(self, timeout_s: float = 10.0) -> None:
        """Serve from a background thread; return once the socket listens."""
        # uvicorn installs signal handlers only from the main thread, so the hub's own
        # SIGTERM handling stays in charge when the API runs beside ingest.
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve()), name="hub-api", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not self.server.started:
            raise RuntimeError("the API server did not start (is the port in use?)")

    @property
    def port(self) -> int:
        servers = getattr(self.server, "servers", [])
        for server in servers:
            for sock in server.sockets:
                port: int = sock.getsockname()[1]
                return port
        return int(self.server.config.port)

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
