"""The console as command staff meet it: Debian's Chromium, headless, against a real hub
(Mosquitto, InfluxDB, state store). Nodes are MQTT sessions publishing contract events.

Screenshots of every view land in test-artifacts/console/."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select

from checkpoint.localstack import LocalStack
from checkpoint.settings.mqtt import MqttSettings
from edge.events import MemoryEmitter
from hub.alerts.tables import alert_changes
from hub.console.session import COOKIE
from tests.helpers import wait_for
from tests.hub.console.conftest import ARTIFACTS, GRAFANA, ConsoleHub
from tests.hub.traffic import health, passage
from tests.node_publisher import Publisher

# Installed before any page script: records each alert event the page's EventSource gets.
RECORDER = """
window.__seen = [];
(function () {
  var Native = window.EventSource;
  function Recorded(url, options) {
    var source = new Native(url, options);
    source.addEventListener("alert", function (e) {
      var m = JSON.parse(e.data);
      window.__seen.push({id: Number(e.lastEventId), alert: m.alert_id, ward: m.ward_id});
    });
    return source;
  }
  Recorded.prototype = Native.prototype;
  Recorded.CONNECTING = 0; Recorded.OPEN = 1; Recorded.CLOSED = 2;
  window.EventSource = Recorded;
})();
"""

Nodes = Callable[..., MemoryEmitter]


@pytest.fixture(scope="module")
def nodes(stack: LocalStack) -> Iterator[Nodes]:
    """``nodes(node_id, ward)``: a connected node's emitter (one session per node)."""
    settings = MqttSettings(host=stack.mqtt_host, port=stack.mqtt_port)
    publishers: dict[str, Publisher] = {}

    def node(node_id: str, ward: str, *, ago_s: float = 0) -> MemoryEmitter:
        if node_id not in publishers:
            publishers[node_id] = Publisher(node_id, settings)
            publishers[node_id].connect()
        return MemoryEmitter(
            node_id,
            node_id.rsplit("-", 1)[0],
            ward,
            clock=lambda: datetime.now(UTC) - timedelta(seconds=ago_s),
            sink=publishers[node_id].publish,
        )

    yield node
    for pub in publishers.values():
        pub.close()


@pytest.fixture(scope="module")
def page(browser: webdriver.Chrome) -> webdriver.Chrome:
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})
    return browser


def wait(driver: webdriver.Chrome, timeout_s: float = 10.0) -> WebDriverWait[webdriver.Chrome]:
    # The board swaps its table on every event and a form post replaces the page: an
    # element found a moment ago may be gone, so look again.
    return WebDriverWait(
        driver,
        timeout_s,
        poll_frequency=0.05,
        ignored_exceptions=(NoSuchElementException, StaleElementReferenceException),
    )


def shot(driver: webdriver.Chrome, name: str) -> None:
    """The whole page, not only the window."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, max(900, min(int(height), 4000)))
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
    driver.set_window_size(1280, 900)


def sign_in(driver: webdriver.Chrome, hub: ConsoleHub, who: str, lang: str = "vi") -> None:
    driver.get(hub.url + "/console/sign-in")
    driver.delete_all_cookies()
    driver.get(f"{hub.url}/console/lang/{lang}?next=/console/sign-in")
    driver.find_element(By.ID, "key").send_keys(hub.keys[who])
    driver.find_element(By.ID, "sign-in").click()
    wait(driver).until(lambda d: d.find_elements(By.ID, "who"))


def open_board(driver: webdriver.Chrome, hub: ConsoleHub) -> None:
    driver.get(hub.url + "/console")
    wait(driver).until(lambda d: "on" in d.find_element(By.ID, "live").get_attribute("class"))
    driver.execute_script("window.__marker = 'never reloaded'")


def rows(driver: webdriver.Chrome, kind: str, ward: str) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, f"tr[data-kind='{kind}'][data-ward='{ward}']")


def row_for(driver: webdriver.Chrome, checkpoint: str) -> WebElement | None:
    for row in driver.find_elements(By.CSS_SELECTOR, "#board tbody tr"):
        if checkpoint in row.text:
            return row
    return None


def csrf_of(driver: webdriver.Chrome) -> str:
    field = driver.find_element(By.CSS_SELECTOR, "input[name='csrf']")
    return str(field.get_attribute("value"))


def test_commander_sees_a_fever_live_and_acknowledges_it(
    console_hub: ConsoleHub, page: webdriver.Chrome, nodes: Nodes
) -> None:
    sign_in(page, console_hub, "commander")
    open_board(page, console_hub)
    node = nodes("phucla-cp07-n1", "phucla")
    health(node)
    published = time.monotonic()
    passage(node, temp=(38.3, 38.5), pass_id=None)
    row_id, text = wait(page, 2.0).until(
        lambda d: (row := row_for(d, "phucla-cp07")) and (row.get_attribute("id"), row.text)
    )
    seen_after_s = time.monotonic() - published
    assert seen_after_s <= 2.0
    assert page.execute_script("return window.__marker") == "never reloaded"
    assert "Nghiêm trọng" in text  # severity told in words, Vietnamese first
    assert "Phường Phúc La" in text
    cue = page.find_element(By.ID, "cue")
    assert cue.is_displayed()  # the visual cue of a new critical alert
    shot(page, "board")
    alert_id = str(row_id).removeprefix("alert-")

    page.get(f"{console_hub.url}/console/alerts/{alert_id}")
    note = "Tổ 3 đang đến; đo lại 37,1 °C"
    wait(page).until(lambda d: d.find_elements(By.ID, "note-input"))
    page.find_element(By.ID, "note-input").send_keys(note)
    page.find_element(By.ID, "ack").click()
    wait(page).until(lambda d: d.find_element(By.ID, "state").text == "Đã tiếp nhận")
    assert page.find_element(By.ID, "note").text == note
    history = page.find_element(By.ID, "history").text
    assert "Mới" in history
    assert "Đã tiếp nhận" in history
    assert "alert.ack" in page.find_element(By.ID, "audit").text
    shot(page, "alert")

    answer = console_hub.api("GET", f"/alerts/{alert_id}").json()
    assert answer["state"] == "acknowledged"
    assert answer["note"] == note
    assert answer["acknowledged_by"].startswith("Trực ban")


def test_checkpoint_states_and_a_confirmed_level_change(
    console_hub: ConsoleHub, page: webdriver.Chrome, nodes: Nodes
) -> None:
    health(nodes("phucla-cp02-n1", "phucla"))  # online, nobody passes
    health(nodes("phucla-cp03-n1", "phucla", ago_s=600))  # last heard 10 minutes ago
    cp07 = nodes("phucla-cp07-n1", "phucla")
    passage(cp07, temp=(36.4, None))
    sign_in(page, console_hub, "commander", lang="en")
    page.get(console_hub.url + "/console/checkpoints")

    def state(cp: str) -> str:
        found = page.find_elements(By.ID, f"cp-{cp}")
        return str(found[0].get_attribute("data-state")) if found else ""

    wait_for(
        lambda: (
            page.refresh()
            or (state("phucla-cp07"), state("phucla-cp02"), state("phucla-cp03"))
            == ("traffic", "quiet", "offline")
        ),
        timeout_s=15,
        what="three checkpoint states",
    )
    offline = page.find_element(By.ID, "cp-phucla-cp03").text
    assert "since" in offline
    cp07_row = page.find_element(By.ID, "cp-phucla-cp07")
    link = cp07_row.find_element(By.CLASS_NAME, "grafana").get_attribute("href")
    assert link == f"{GRAFANA}/d/checkpoint-detail?var-ward=phucla&var-checkpoint=phucla-cp07"
    assert "Phường Phúc La" in page.find_element(By.TAG_NAME, "h2").text
    shot(page, "checkpoints")

    page.get(console_hub.url + "/console/levels")
    page.find_element(By.ID, "target-phucla").send_keys("phucla-cp07")
    Select(page.find_element(By.ID, "level-phucla")).select_by_value("red")
    page.find_element(By.CSS_SELECTOR, "#ward-phucla form button").click()
    wait(page).until(lambda d: d.find_elements(By.ID, "confirm"))
    assert "phucla-cp07" in page.find_element(By.TAG_NAME, "main").text
    assert console_hub.api("GET", "/wards/phucla/levels").json()["levels"] == []  # not yet
    shot(page, "level-confirm")
    page.find_element(By.ID, "confirm").click()
    wait(page).until(lambda d: d.find_elements(By.ID, "level-phucla-cp07"))
    version = console_hub.api("GET", "/wards/phucla/levels").json()["version"]
    # One node reports the new document applied; the others not yet.
    health(cp07, levels_version=version)

    def applied(node: str) -> str:
        return str(page.find_element(By.ID, f"applied-{node}").get_attribute("data-applied"))

    wait_for(
        lambda: page.refresh() or applied("phucla-cp07-n1") == "yes",
        timeout_s=10,
        what="cp07 applied",
    )
    assert applied("phucla-cp02-n1") == "no"
    shot(page, "levels")


def test_technician_has_no_level_control_and_a_forged_change_is_refused(
    console_hub: ConsoleHub, page: webdriver.Chrome
) -> None:
    sign_in(page, console_hub, "technician")
    page.get(console_hub.url + "/console/levels")
    assert page.find_elements(By.CSS_SELECTOR, ".level-form") == []
    assert page.find_elements(By.CSS_SELECTOR, "a[href$='/console/passes']") == []
    shot(page, "levels-technician")
    before = console_hub.api("GET", "/wards/phucla/levels").json()
    cookie = page.get_cookie(COOKIE)
    assert cookie is not None
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    form = {"csrf": csrf_of(page), "target": "phucla-cp02", "level": "level5"}
    for path in ("/console/levels/phucla/confirm", "/console/levels/phucla"):
        forged = httpx.post(
            console_hub.url + path, data=form, cookies={COOKIE: cookie["value"]}, timeout=10
        )
        assert forged.status_code == 403, forged.text
        assert "technician" in forged.json()["detail"]
    assert console_hub.api("GET", "/wards/phucla/levels").json() == before
    page.get(console_hub.url + "/console/passes")
    assert "403" in page.page_source or "may not" in page.page_source


def test_passes_desk_issue_card_revoke(console_hub: ConsoleHub, page: webdriver.Chrome) -> None:
    sign_in(page, console_hub, "commander")
    page.get(console_hub.url + "/console/passes")
    Select(page.find_element(By.ID, "ward_id")).select_by_value("phucla")
    Select(page.find_element(By.ID, "category")).select_by_value("medical")
    page.find_element(By.ID, "label").send_keys("Tổ 7 số 12")
    page.find_element(By.ID, "issue").click()
    row = wait(page).until(lambda d: d.find_elements(By.CSS_SELECTOR, "table.passes tr.valid"))[0]
    pass_id = str(row.get_attribute("id"))
    assert "Y tế" in row.text
    assert "Tổ 7 số 12" in row.text
    shot(page, "passes")
    card = str(row.find_element(By.LINK_TEXT, "In thẻ").get_attribute("href"))
    cookie = page.get_cookie(COOKIE)
    assert cookie is not None
    printed = httpx.get(card, cookies={COOKIE: cookie["value"]}, timeout=10)
    assert printed.status_code == 200
    assert printed.headers["content-type"].startswith("image/svg+xml")
    row.find_element(By.CSS_SELECTOR, "button.danger").click()
    wait(page).until(lambda d: d.find_elements(By.CSS_SELECTOR, f"tr.revoked[id='{pass_id}']"))
    assert console_hub.api("GET", f"/passes/{pass_id}").json()["revoked_at"] is not None


def test_a_ward_limited_commander_never_sees_another_wards_alert(
    console_hub: ConsoleHub, page: webdriver.Chrome, nodes: Nodes
) -> None:
    sign_in(page, console_hub, "vanphuc")
    open_board(page, console_hub)
    passage(nodes("phucla-cp04-n1", "phucla"), temp=(38.0, 38.2), pass_id=None)
    passage(nodes("vanphuc-cp01-n1", "vanphuc"), temp=(38.6, 38.9), pass_id=None)
    wait(page).until(lambda d: rows(d, "fever", "vanphuc"))
    # The phucla fever was published first: by now the hub has it, and it must stay away.
    wait_for(
        lambda: [
            a
            for a in console_hub.api("GET", "/alerts?ward=phucla").json()["items"]
            if a["checkpoint_id"] == "phucla-cp04"
        ],
        what="the phucla alert stored",
    )
    time.sleep(0.5)  # a stream poll or two: a leaked event would have arrived
    assert rows(page, "fever", "phucla") == []
    assert "phucla" not in page.find_element(By.ID, "board").text
    seen = page.execute_script("return window.__seen")
    assert seen
    assert {e["ward"] for e in seen} == {"vanphuc"}
    shot(page, "board-vanphuc")
    phucla_alert = console_hub.api("GET", "/alerts?ward=phucla").json()["items"][0]["id"]
    page.get(f"{console_hub.url}/console/alerts/{phucla_alert}")
    assert "not allowed in ward 'phucla'" in page.page_source
    page.get(console_hub.url + "/console/checkpoints")
    assert "phucla-cp" not in page.find_element(By.TAG_NAME, "main").text


def test_the_stream_survives_a_hub_restart(
    console_hub: ConsoleHub, page: webdriver.Chrome, nodes: Nodes
) -> None:
    sign_in(page, console_hub, "commander")
    open_board(page, console_hub)
    assert console_hub.service is not None
    assert console_hub.service.engine is not None
    with console_hub.service.engine.connect() as conn:
        cursor = max(r[0] for r in conn.execute(select(alert_changes.c.id)))
    console_hub.stop()
    wait(page).until(lambda d: "on" not in d.find_element(By.ID, "live").get_attribute("class"))
    # Raised while the hub is down: the broker keeps it for the hub's session.
    passage(nodes("phucla-cp05-n1", "phucla"), temp=(38.1, 38.4), pass_id=None)
    console_hub.start()
    passage(
        nodes("phucla-cp06-n1", "phucla"), temp=(38.2, 38.7), pass_id=None
    )  # right after the restart
    wait(page, 30).until(lambda d: row_for(d, "phucla-cp05") and row_for(d, "phucla-cp06"))
    assert page.execute_script("return window.__marker") == "never reloaded"
    assert console_hub.service is not None
    assert console_hub.service.engine is not None
    with console_hub.service.engine.connect() as conn:
        changes = {r[0] for r in conn.execute(select(alert_changes.c.id)) if r[0] > cursor}
    seen = wait_for(
        lambda: (
            (ids := {e["id"] for e in page.execute_script("return window.__seen")}) >= changes
            and ids
        ),
        what="every change since the page opened, through the stream",
    )
    assert changes
    assert seen >= changes
    shot(page, "board-after-restart")


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


def test_nothing_loads_from_another_host(console_hub: ConsoleHub, page: webdriver.Chrome) -> None:
    hub = urlsplit(console_hub.url).netloc
    sign_in(page, console_hub, "admin")
    alert_id = console_hub.api("GET", "/alerts").json()["items"][0]["id"]
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
    import json

    urls = []
    for entry in driver.get_log("performance"):
        message: dict[str, Any] = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls
