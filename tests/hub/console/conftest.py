"""A real hub (broker, InfluxDB, state store, API with the console) on a fixed API port so a
test can restart it under an open page, and Debian's headless Chromium driving it.

One hub and one browser for the package's test modules: starting either costs seconds.
Screenshots go to ``test-artifacts/console/`` (git-ignored) for a person to look at."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from checkpoint.localstack import LocalStack
from checkpoint.localstack.process import free_port
from checkpoint.settings.mqtt import MqttSettings
from edge.events import MemoryEmitter
from hub.api.roles import Role
from hub.api.settings import ApiSettings
from hub.config import HubConfig
from hub.console.settings import ConsoleSettings
from hub.influx.v1 import InfluxV1
from hub.passes.keystore import KeyStore as PassKeys
from hub.service import HubService
from hub.wards import WardSettings
from tests.hub.conftest import fast_config
from tests.node_publisher import Publisher

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "console"
GRAFANA = "http://grafana.ward.test:3000"
WARD_NAMES = {"phucla": "Phường Phúc La", "vanphuc": "Phường Vạn Phúc"}


@dataclass
class ConsoleHub:
    config: HubConfig
    service: HubService | None = None
    keys: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.config.api.port}"

    def start(self) -> None:
        self.service = HubService(self.config)
        self.service.start()  # returns once ingest is connected and the API listens

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()
            self.service = None

    def api(self, method: str, path: str, key: str = "admin", **kw: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.keys[key]}"}
        return httpx.request(method, self.url + path, headers=headers, timeout=10, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="package")
def console_hub(
    stack: LocalStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleHub]:
    directory = tmp_path_factory.mktemp("console-hub")
    influx = InfluxV1(stack.influx_url, f"console_{directory.name}")
    influx.create_database()
    config = fast_config(
        MqttSettings(host=stack.mqtt_host, port=stack.mqtt_port),
        influx.url,
        influx.database,
        f"hub-console-{directory.name}",
        directory,
        api=ApiSettings(port=free_port(), stream_poll_s=0.2),
        console=ConsoleSettings(grafana_url=GRAFANA),
        wards={ward: WardSettings(name=name) for ward, name in WARD_NAMES.items()},
    )
    # The passes desk signs with a key made the day before (checkpoint passes keygen).
    PassKeys(directory / config.passes.directory / "keys").create_key(
        "hub-a", now=datetime.now(UTC) - timedelta(days=1)
    )
    hub = ConsoleHub(config)
    hub.start()
    assert hub.service is not None
    assert hub.service.api_ctx is not None
    issue = hub.service.api_ctx.keys.issue
    hub.keys = {
        "admin": issue(Role.ADMIN, "admin")[1],
        "commander": issue(Role.COMMANDER, "Trực ban")[1],
        "technician": issue(Role.TECHNICIAN, "Kỹ thuật", wards=["phucla"])[1],
        "vanphuc": issue(Role.COMMANDER, "Chỉ huy Vạn Phúc", wards=["vanphuc"])[1],
    }
    yield hub
    hub.stop()
    influx.close()


@pytest.fixture(scope="package")
def browser() -> Iterator[webdriver.Chrome]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("chromium and chromium-driver are missing: ./run setup installs them")
    profile = tempfile.mkdtemp(prefix="console-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    # Every request the pages make, for the no-outside-host test.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    # The driver's path given explicitly: selenium-manager (which downloads) never runs.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


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


@pytest.fixture(scope="package")
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


@pytest.fixture(scope="package")
def page(browser: webdriver.Chrome) -> webdriver.Chrome:
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORDER})
    return browser
