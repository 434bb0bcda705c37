"""Mosquitto + InfluxDB together, started for real or taken from configured addresses."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from checkpoint.errors import StackError
from checkpoint.localstack.influxdb import InfluxDB1, influx_pings
from checkpoint.localstack.mosquitto import Mosquitto
from checkpoint.localstack.process import port_answers

MQTT_URL_ENV = "CHECKPOINT_MQTT_URL"
INFLUX_URL_ENV = "CHECKPOINT_INFLUX_URL"


def parse_mqtt_url(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
        raise StackError(f"{url!r}: expected mqtt://HOST:PORT")
    return parts.hostname, parts.port or 1883


class LocalStack:
    """Start what is not configured; stop only what it started."""

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        mqtt_url: str | None = None,
        influx_url: str | None = None,
    ) -> None:
        self._own_workdir = workdir is None
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="checkpoint-stack-"))
        self._mqtt_url = mqtt_url if mqtt_url is not None else os.environ.get(MQTT_URL_ENV)
        self._influx_url = influx_url if influx_url is not None else os.environ.get(INFLUX_URL_ENV)
        self.mosquitto: Mosquitto | None = None
        self.influxdb: InfluxDB1 | None = None
        self._started = False

    @property
    def mqtt_host(self) -> str:
        if self.mosquitto is not None:
            return self.mosquitto.host
        return parse_mqtt_url(self._require(self._mqtt_url, MQTT_URL_ENV))[0]

    @property
    def mqtt_port(self) -> int:
        if self.mosquitto is not None:
            return self.mosquitto.port
        return parse_mqtt_url(self._require(self._mqtt_url, MQTT_URL_ENV))[1]

    @property
    def influx_url(self) -> str:
        if self.influxdb is not None:
            return self.influxdb.url
        return self._require(self._influx_url, INFLUX_URL_ENV).rstrip("/")

    @staticmethod
    def _require(value: str | None, what: str) -> str:
        if value is None:
            raise StackError(f"the local stack is not started and {what} is not set")
        return value

    def start(self) -> LocalStack:
        if self._started:
            return self
        self._started = True
        try:
            if self._mqtt_url:
                host, port = parse_mqtt_url(self._mqtt_url)
                if not port_answers(port, host):
                    raise StackError(f"{MQTT_URL_ENV}={self._mqtt_url} does not answer")
            else:
                self.mosquitto = Mosquitto(self.workdir / "mosquitto")
                self.mosquitto.start()
            if self._influx_url:
                if not influx_pings(self._influx_url.rstrip("/")):
                    raise StackError(f"{INFLUX_URL_ENV}={self._influx_url} does not answer /ping")
            else:
                self.influxdb = InfluxDB1(self.workdir / "influxdb")
                self.influxdb.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self._started = False
        for service in (self.influxdb, self.mosquitto):
            if service is not None:
                service.stop()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
