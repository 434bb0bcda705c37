"""InfluxDB 2.x/3.x through ``influxdb-client``: synchronous, gzip'd line-protocol writes.

Synchronous on purpose: ingest acknowledges MQTT messages only after the write returned,
so the client's own background batching (which would return before the server has the
points) and its retries (ingest retries with its own backoff) are both off.
"""

from __future__ import annotations

from collections.abc import Sequence

import urllib3
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.rest import ApiException

from hub.influx.errors import InfluxError


class InfluxV2:
    def __init__(
        self,
        url: str,
        bucket: str,
        *,
        org: str | None = None,
        token: str | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.bucket = bucket
        self.org = org or "-"  # InfluxDB 3 and VictoriaMetrics ignore the organisation
        self._client = InfluxDBClient(
            url=self.url,
            token=token or "",
            org=self.org,
            timeout=int(timeout_s * 1000),
            enable_gzip=True,
            retries=False,
        )
        self._write = self._client.write_api(write_options=SYNCHRONOUS)

    def create_database(self) -> None:
        """Buckets are provisioned with the server (they carry retention and tokens)."""

    def write_lines(self, lines: Sequence[str]) -> None:
        try:
            self._write.write(
                bucket=self.bucket,
                org=self.org,
                record="\n".join(lines),
                write_precision=WritePrecision.NS,  # type: ignore[arg-type]  # NS is a str constant
            )
        except ApiException as exc:
            status = int(exc.status or 0)
            # 4xx other than 404 (bucket missing), 408 and 429 (throttled) will not heal.
            retryable = status >= 500 or status in (404, 408, 429)
            body = exc.body.decode(errors="replace") if isinstance(exc.body, bytes) else exc.body
            raise InfluxError(
                f"write refused ({status}): {str(body)[:300]}", retryable=retryable
            ) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise InfluxError(f"write to {self.url} failed: {exc}", retryable=True) from None

    def close(self) -> None:
        self._write.close()  # type: ignore[no-untyped-call]
        self._client.close()  # type: ignore[no-untyped-call]
