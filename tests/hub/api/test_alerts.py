"""Command staff and alerts: list and filter, acknowledge, resolve (409 twice), the live
stream, ward limits, and the audit trail; on the real state store."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from hub.alerts.config import AlertsConfig
from hub.alerts.signals import Raise, Subject
from hub.alerts.store import AlertStore
from hub.api.app import create_app
from hub.api.context import ApiContext
from tests.hub.api.conftest import Keys, auth


@pytest.fixture
def store(api_ctx: ApiContext) -> AlertStore:
    store = AlertStore(api_ctx.engine, AlertsConfig())
    api_ctx.alerts = store
    api_ctx.stream_poll_s = 0.05
    api_ctx.stream_max_s = 3.0
    return store


@pytest.fixture
def alerting(store: AlertStore, api_ctx: ApiContext) -> Iterator[TestClient]:
    with TestClient(create_app(api_ctx)) as c:
        yield c


def raise_alert(store: AlertStore, ward: str, cp: str, kind: str, when: datetime) -> str:
    signal = Raise(kind, "critical", Subject(ward, cp, f"{cp}-n1"), f"{kind} at {cp}")
    with store.engine.begin() as conn:
        [message] = store.apply(conn, signal, when)
    return message.alert_id


def test_list_filter_and_ward_limits(alerting: TestClient, keys: Keys, store: AlertStore) -> None:
    now = datetime.now(UTC)
    fever = raise_alert(store, "phucla", "phucla-cp01", "fever", now - timedelta(minutes=5))
    forced = raise_alert(store, "phucla", "phucla-cp02", "barrier_forced_open", now)
    raise_alert(store, "hoangmai", "hm-cp01", "fever", now)
    mine = alerting.get("/alerts", headers=auth(keys.commander)).json()["items"]
    assert [a["id"] for a in mine] == [forced, fever]  # newest first, own ward only
    fevers = alerting.get("/alerts?kind=fever", headers=auth(keys.admin)).json()["items"]
    assert {a["ward_id"] for a in fevers} == {"phucla", "hoangmai"}
    by_cp = alerting.get("/alerts?checkpoint=phucla-cp02", headers=auth(keys.commander)).json()
    assert [a["id"] for a in by_cp["items"]] == [forced]
    page = alerting.get("/alerts?limit=1", headers=auth(keys.commander)).json()
    assert page["next_offset"] == 1
    assert alerting.get("/alerts?ward=hoangmai", headers=auth(keys.commander)).status_code == 403
    assert (
        alerting.get(f"/alerts/{fever}", headers=auth(keys.commander_other_ward)).status_code == 403
    )
    assert (
        alerting.get(
            "/alerts/0190aaaa-0000-7000-8000-000000000000", headers=auth(keys.admin)
        ).status_code
        == 404
    )


def test_acknowledge_resolve_and_who_did_it(
    alerting: TestClient, keys: Keys, store: AlertStore
) -> None:
    alert_id = raise_alert(store, "phucla", "phucla-cp03", "fever", datetime.now(UTC))
    url = f"/alerts/{alert_id}"
    assert (
        alerting.post(f"{url}/ack", json={"note": "x"}, headers=auth(keys.technician)).status_code
        == 403
    )
    acked = alerting.post(f"{url}/ack", json={"note": "team 3 sent"}, headers=auth(keys.commander))
    assert acked.status_code == 200
    body = acked.json()
    assert (body["state"], body["note"]) == ("acknowledged", "team 3 sent")
    assert body["acknowledged_by"].startswith("cmd (")
    done = alerting.post(
        f"{url}/resolve", json={"note": "rechecked: 36.9"}, headers=auth(keys.commander)
    )
    assert done.json()["state"] == "resolved"
    again = alerting.post(f"{url}/ack", json={}, headers=auth(keys.commander))
    assert again.status_code == 409
    assert alerting.post(f"{url}/resolve", json={}, headers=auth(keys.commander)).status_code == 409
    assert (
        alerting.get("/alerts?state=resolved", headers=auth(keys.commander)).json()["items"][0][
            "id"
        ]
        == alert_id
    )
    trail = alerting.get("/audit", headers=auth(keys.admin)).json()["items"]
    assert [(e["action"], e["target"]) for e in trail[:2]] == [
        ("alert.resolve", alert_id),
        ("alert.ack", alert_id),
    ]
    assert trail[1]["detail"]["note"] == "team 3 sent"


def read_events(
    client: TestClient,
    token: str,
    out: list[tuple[str, dict[str, object]]],
    ready: threading.Event,
    last_event_id: str | None = None,
) -> None:
    headers = auth(token) | ({"Last-Event-ID": last_event_id} if last_event_id else {})
    with client.stream("GET", "/alerts/stream", headers=headers) as resp:
        assert resp.status_code == 200
        event_id = ""
        for line in resp.iter_lines():
            if line.startswith(": connected"):
                ready.set()
            if line.startswith("id: "):
                event_id = line[4:]
            if line.startswith("data: "):
                out.append((event_id, json.loads(line[6:])))


def stream_while(
    client: TestClient, token: str, act: Callable[[], None], last_event_id: str | None = None
) -> list[tuple[str, dict[str, object]]]:
    events: list[tuple[str, dict[str, object]]] = []
    ready = threading.Event()
    reader = threading.Thread(
        target=read_events, args=(client, token, events, ready, last_event_id)
    )
    reader.start()
    assert ready.wait(5)
    act()
    reader.join(10)  # the stream ends after stream_max_s
    return events


def test_the_stream_carries_every_change_for_the_keys_wards(
    alerting: TestClient, keys: Keys, store: AlertStore
) -> None:
    raise_alert(store, "phucla", "phucla-cp04", "fever", datetime.now(UTC))  # before: not replayed
    made: list[str] = []

    def act() -> None:
        made.append(
            raise_alert(store, "phucla", "phucla-cp05", "barrier_forced_open", datetime.now(UTC))
        )
        raise_alert(store, "hoangmai", "hm-cp05", "fever", datetime.now(UTC))  # not this key's
        # Acknowledged at once: both changes still arrive, in order, none folded.
        alerting.post(f"/alerts/{made[0]}/ack", json={"note": "seen"}, headers=auth(keys.commander))

    events = stream_while(alerting, keys.commander, act)
    new = made[0]
    assert [(e["alert_id"], e["change"]) for _, e in events] == [
        (new, "new"),
        (new, "acknowledged"),
    ]

    # A client that lost the connection after the first event resumes from its id.
    resumed = stream_while(alerting, keys.commander, lambda: None, last_event_id=events[0][0])
    assert [(e["alert_id"], e["change"]) for _, e in resumed] == [(new, "acknowledged")]

    history = alerting.get(f"/alerts/{new}/history", headers=auth(keys.commander)).json()
    assert [h["change"] for h in history] == ["new", "acknowledged"]
    assert history[1]["message"]["details"]["note"] == "seen"


def test_a_last_event_id_past_every_change_streams_from_now(
    alerting: TestClient, keys: Keys, store: AlertStore
) -> None:
    """Found by schemathesis: an id too big for the database was a 500. An id past the
    latest change (a made-up number, a state store reset) means "from now"."""
    raise_alert(store, "phucla", "phucla-cp06", "fever", datetime.now(UTC))  # before: not replayed
    made: list[str] = []

    def act() -> None:
        made.append(
            raise_alert(store, "phucla", "phucla-cp07", "barrier_forced_open", datetime.now(UTC))
        )

    events = stream_while(alerting, keys.commander, act, last_event_id="9" * 20)
    assert [(e["alert_id"], e["change"]) for _, e in events] == [(made[0], "new")]
