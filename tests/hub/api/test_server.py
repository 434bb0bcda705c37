"""The API served for real by uvicorn on a loopback port."""

from __future__ import annotations

import httpx

from hub.api.app import create_app
from hub.api.context import ApiContext
from hub.api.server import ApiServer
from hub.api.settings import ApiSettings


def test_served_on_a_real_port(api_ctx: ApiContext) -> None:
    server = ApiServer(create_app(api_ctx), ApiSettings(port=0))
    server.start()
    try:
        base = f"http://127.0.0.1:{server.port}"
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        assert httpx.get(f"{base}/nodes").status_code == 401
    finally:
        server.stop()
    try:
        httpx.get(f"{base}/healthz", timeout=1)
    except httpx.HTTPError:
        pass
    else:
        raise AssertionError("the server still answers after stop()")
