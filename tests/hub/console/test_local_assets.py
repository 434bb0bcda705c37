"""Nothing the console, /docs or /redoc load comes from another host: the ward LAN may
have no internet. Checked twice: in the pages' text and stylesheets, and in the browser's
own record of every request it made (which covers the vendored bundles)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
from selenium import webdriver
from selenium.webdriver.common.by import By

from hub.console.session import COOKIE
from tests.helpers import wait_for
from tests.hub.console.browsing import shot, sign_in, wait
from tests.hub.console.conftest import GRAFANA, ConsoleHub, Nodes
from tests.hub.traffic import passage

# What a page may load: only from the hub. <a href> to the configured Grafana is a link a
# person follows, not something the page loads; XML namespaces are names, not addresses.
URL = re.compile(r"""(?:https?:)?//[A-Za-z0-9.\-\[\]:]+""")
NAMESPACES = ("http://www.w3.org",)


def outside_hosts(text: str, hub: str) -> list[str]:
    found = []
    for match in URL.finditer(text):
        url = match.group(0)
        if url.startswith(NAMESPACES) or url.startswith(GRAFANA):
            continue
        host = urlsplit(url if ":" in url.split("//")[0] else "http:" + url).netloc
        if host != hub:
            found.append(url)
    return found


def test_nothing_loads_from_another_host(
    console_hub: ConsoleHub, page: webdriver.Chrome, nodes: Nodes
) -> None:
    hub = urlsplit(console_hub.url).netloc
    passage(nodes("phucla-cp09-n1", "phucla"), temp=(38.0, 38.3), pass_id=None)
    alert_id = wait_for(
        lambda: console_hub.api("GET", "/alerts?checkpoint=phucla-cp09").json()["items"],
        what="an alert to show",
    )[0]["id"]
    sign_in(page, console_hub, "admin")
    pages = [
        "/console/sign-in",
        "/console",
        f"/console/alerts/{alert_id}",
        "/console/checkpoints",
        "/console/levels",
        "/console/passes",
        "/docs",
        "/redoc",
    ]
    page.get_log("performance")  # drop what came before
    cookie = page.get_cookie(COOKIE)
    assert cookie is not None
    fetch = httpx.Client(base_url=console_hub.url, cookies={COOKIE: cookie["value"]}, timeout=10)
    assets: set[str] = set()
    for path in pages:
        page.get(console_hub.url + path)
        if path == "/docs":
            wait(page, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock"))
            shot(page, "docs")
        elif path == "/redoc":
            wait(page, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".api-content"))
            shot(page, "redoc")
        html = fetch.get(path).text
        assert outside_hosts(html, hub) == [], path
        assets |= set(re.findall(r"""(?:src|href)="(/console/static/[^"]+)\"""", html))
    # Every request the browser made, vendored bundles included, went to the hub.
    requests = _requested(page)
    assert requests, "the performance log recorded nothing"
    elsewhere = [
        u
        for u in requests
        if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).netloc != hub
    ]
    assert elsewhere == []
    assert {"/console/static/console.css", "/console/static/board.js"} <= assets
    # Our own CSS and JS in full; what a stylesheet loads (url(), @import), vendored ones
    # included. The vendored bundles' requests are in the browser's log above.
    assets |= {"/console/static/vendor/swagger-ui/swagger-ui.css"}
    for asset in sorted(assets):
        text = fetch.get(asset).text
        if asset.endswith(".css"):
            loads = re.findall(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", text)
            text = " ".join(u for pair in loads for u in pair if u and not u.startswith("data:"))
        elif "/vendor/" in asset:
            continue
        assert outside_hosts(text, hub) == [], asset


def _requested(driver: webdriver.Chrome) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message: dict[str, Any] = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls
