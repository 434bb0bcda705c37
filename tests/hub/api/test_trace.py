"""Tracing through a running hub: passages published to the real broker, stored by the hub,
traced through its API by a commander (audited), refused to a technician; details older
than the retention are deleted while the passage counts stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from checkpoint.contract import Passage, encode, topics
from checkpoint.contract.models import Decision, PassCheck, Reason
from checkpoint.passes.model import Category
from edge.events import MemoryEmitter
from hub.api.audit import AuditLog
from hub.api.keys import KeyStore
from hub.api.roles import Role
from hub.influx.v1 import InfluxV1
from hub.passes.issuer import holder_hash
from hub.service import HubService
from hub.tracing.retention import TracePurger
from hub.tracing.settings import TracingSettings
from tests.helpers import wait_for
from tests.hub.api.conftest import auth
from tests.hub.conftest import RawPublisher

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)


def _passage(em: MemoryEmitter, pass_id: str | None, minutes: float, refuse: bool) -> Passage:
    em.clock = lambda: T0 + timedelta(minutes=minutes)
    reason = Reason.PASS_EXPIRED if refuse else Reason.OK
    return em.emit(
        Passage,
        direction="in",
        decision=Decision.REFUSE if refuse else Decision.ADMIT,
        reason=reason,
        zone_level="green",
        temperature=None,
        pass_check=PassCheck(pass_id=pass_id, category="resident", valid=not refuse, reason=reason)
        if pass_id
        else None,
        barrier=None,
        duration_ms=1800,
    )


def test_tracing_answers_exactly_what_was_stored_for_commanders_only(
    hub: HubService, raw_publisher: RawPublisher, influx: InfluxV1
) -> None:
    assert hub.engine is not None
    assert hub.api is not None
    assert hub.passes is not None
    hub.passes.keys.create_key("hub-a")  # as `checkpoint passes keygen` does
    hub.passes.issuer.salt = b"phucla-salt"  # as from its systemd credential
    issued = hub.passes.issue(
        by="desk",
        category=Category.RESIDENT,
        ward_id="phucla",
        valid_for=timedelta(days=14),
        valid_from=None,
        zone_id=None,
        checkpoints=(),
        hours=(),
        label="To 7",
        document_number="001234567890",
    )
    tracked = issued.pass_id
    cp1 = MemoryEmitter("phucla-cp01-a", "phucla-cp01", "phucla")
    cp2 = MemoryEmitter("phucla-cp02-a", "phucla-cp02", "phucla")
    other = MemoryEmitter("tayho-cp01-a", "tayho-cp01", "tayho")
    events = [
        _passage(cp1, tracked, 0, refuse=False),
        _passage(cp1, "p-other-1", 5, refuse=False),
        _passage(cp2, tracked, 40, refuse=False),
        _passage(cp2, "p-other-2", 41, refuse=True),
        _passage(cp1, None, 50, refuse=True),  # no pass shown: nothing to trace
        _passage(cp1, tracked, 90, refuse=True),
        _passage(other, tracked, 20, refuse=False),  # another ward's passage of that id
    ]
    raw_publisher.publish([(topics.event_topic(e.node_id, "passage"), encode(e)) for e in events])
    wait_for(
        lambda: len(influx.query('SELECT "duration_ms" FROM "passage"')) == len(events),
        what="all passages stored",
    )

    keys = KeyStore(hub.engine)  # the running API's keys live in its state store
    commander = keys.issue(Role.COMMANDER, "cmd", wards=["phucla"])[1]
    technician = keys.issue(Role.TECHNICIAN, "tech", wards=["phucla"])[1]
    base = f"http://127.0.0.1:{hub.api.port}"
    window = {
        "ward": "phucla",
        "since": (T0 - timedelta(hours=1)).isoformat(),
        "until": (T0 + timedelta(hours=3)).isoformat(),
    }
    with httpx.Client(base_url=base, timeout=10) as api:
        seen = api.get(f"/trace/passes/{tracked}", params=window, headers=auth(commander))
        assert seen.status_code == 200, seen.text
        body = seen.json()
        got = [(p["checkpoint_id"], p["time"], p["decision"]) for p in body["passages"]]
        expected = [e for e in events[:-1] if e.pass_check and e.pass_check.pass_id == tracked]
        assert got == [
            (e.checkpoint_id, e.ts.isoformat().replace("+00:00", "Z"), e.decision.value)
            for e in expected
        ]
        assert {p["event_id"] for p in body["passages"]} == {e.id for e in expected}
        assert {p["holder_hash"] for p in body["passages"]} == {
            holder_hash(b"phucla-salt", "001234567890").hex()
        }
        assert set(body["passages"][0]).isdisjoint({"label", "name", "document_number"})

        at_cp1 = api.get("/trace/checkpoints/phucla-cp01", params=window, headers=auth(commander))
        assert at_cp1.status_code == 200
        assert [(p["pass_id"], p["event_id"]) for p in at_cp1.json()["passages"]] == [
            (e.pass_check.pass_id, e.id)
            for e in events
            if e.checkpoint_id == "phucla-cp01" and e.pass_check is not None
        ]

        sneaky = api.get("/trace/passes/x' OR '1'='1", params=window, headers=auth(commander))
        assert sneaky.status_code == 422  # a pass id is letters, digits, _ and -
        quoted = api.get(
            "/trace/checkpoints/phucla-cp01",
            params={**window, "ward": "phucla' OR 'a'='a"},
            headers=auth(commander),
        )
        assert quoted.status_code in (403, 422)  # never run as InfluxQL
        refused = api.get(f"/trace/passes/{tracked}", params=window, headers=auth(technician))
        assert refused.status_code == 403
        elsewhere = api.get(
            f"/trace/passes/{tracked}", params={**window, "ward": "tayho"}, headers=auth(commander)
        )
        assert elsewhere.status_code == 403

    entries = [e for e in AuditLog(hub.engine).entries() if e.action.startswith("trace.")]
    assert [(e.action, e.target, e.ward_id, e.detail["passages"]) for e in entries] == [
        ("trace.checkpoint", "phucla-cp01", "phucla", 3),
        ("trace.pass", tracked, "phucla", 3),
    ]
    assert all(e.role == "commander" and e.ts > T0 for e in entries)

    # Retention: details older than the limit go, the passage counts stay.
    now = datetime.now(UTC)
    keep_days = (now - (T0 + timedelta(minutes=30))).total_seconds() / 86400
    purger = TracePurger(influx, TracingSettings(retention_days=keep_days), clock=lambda: now)
    purger.run_once()
    cutoff = purger.last_cutoff
    assert cutoff is not None
    assert T0 + timedelta(minutes=20) < cutoff < T0 + timedelta(minutes=40)
    left = influx.query('SELECT "pass_id" FROM "passage_trace" WHERE "ward" = \'phucla\'')
    assert len(left) == 3  # the 40, 41 and 90 minute ones
    assert len(influx.query('SELECT "duration_ms" FROM "passage"')) == len(events)
