"""Console sign-in and its guards, through the app factory on a real state store: the
session cookie's flags, CSRF on every change, expiry, sign-out, a revoked key, the
language, the stream's keep-alive. The browser tests (test_browser.py) drive the views."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from hub.alerts.config import AlertsConfig
from hub.alerts.signals import Raise, Subject
from hub.alerts.store import AlertStore
from hub.api.app import create_app
from hub.api.context import ApiContext
from hub.api.roles import Role
from hub.console import web
from hub.console.i18n import MESSAGES, pick
from hub.console.session import COOKIE, console_sessions
from hub.state import open_store
from hub.wards import WardSettings


@pytest.fixture
def ctx(tmp_path: Path) -> ApiContext:
    engine = open_store(f"sqlite:///{tmp_path / 'hub.db'}")
    return ApiContext(
        engine,
        alerts=AlertStore(engine, AlertsConfig()),
        stream_poll_s=0.05,
        stream_max_s=0.6,
        stream_keepalive_s=0.2,
        wards={"phucla": WardSettings(name="Phường Phúc La")},
    )


@pytest.fixture
def client(ctx: ApiContext) -> Iterator[TestClient]:
    # https: the cookie must then be Secure.
    with TestClient(create_app(ctx), base_url="https://testserver") as c:
        yield c


def sign_in(client: TestClient, key: str) -> str:
    """Sign in; the session's CSRF token (from the page's sign-out form)."""
    answer = client.post("/console/sign-in", data={"key": key}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    page = client.get("/console")
    assert page.status_code == 200
    return page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def test_session_cookie_flags_and_sign_out(client: TestClient, ctx: ApiContext) -> None:
    _, key = ctx.keys.issue(Role.COMMANDER, "duty officer", wards=["phucla"])
    answer = client.post("/console/sign-in", data={"key": key}, follow_redirects=False)
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for flag in ("HttpOnly", "SameSite=strict", "Secure", "Path=/console", "Max-Age=43200"):
        assert flag.lower() in cookie.lower(), cookie
    page = client.get("/console")
    assert "Phường Phúc La" in page.text  # the ward's name as people read it
    csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    # Sign-out is a change: without the token it is refused, with it the session ends.
    assert client.post("/console/sign-out", data={}).status_code == 403
    out = client.post("/console/sign-out", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.set(COOKIE, cookie.split(";")[0].split("=", 1)[1], path="/console")
    assert (
        client.get("/console", follow_redirects=False)
        .headers["location"]
        .endswith("/console/sign-in")
    )


def test_wrong_key_expired_session_and_revoked_key(client: TestClient, ctx: ApiContext) -> None:
    bad = client.post("/console/sign-in", data={"key": "cpk_nope_nope"})
    assert bad.status_code == 401
    assert "bị thu hồi" in bad.text  # Vietnamese first
    principal, key = ctx.keys.issue(Role.COMMANDER, "cmd")
    sign_in(client, key)
    with ctx.engine.begin() as conn:
        conn.execute(
            update(console_sessions).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert client.get("/console", follow_redirects=False).status_code == 303
    assert client.get("/console/stream").status_code == 401
    sign_in(client, key)
    ctx.keys.revoke(principal.key_id)
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_every_change_needs_the_sessions_csrf_token(client: TestClient, ctx: ApiContext) -> None:
    _, key = ctx.keys.issue(Role.COMMANDER, "cmd", wards=["phucla"])
    csrf = sign_in(client, key)
    form = {"target": "phucla-cp01", "level": "red"}
    for token in (None, "x" * 43):
        data = form if token is None else {**form, "csrf": token}
        answer = client.post("/console/levels/phucla/confirm", data=data)
        assert answer.status_code == 403, answer.text
        assert "CSRF" in answer.json()["detail"]
    confirm = client.post("/console/levels/phucla/confirm", data={**form, "csrf": csrf})
    assert confirm.status_code == 200
    assert "phucla-cp01" in confirm.text
    # ... and in the header, as a script would send it.
    header = client.post(
        "/console/levels/phucla/confirm", data=form, headers={"X-CSRF-Token": csrf}
    )
    assert header.status_code == 200


def test_language_from_accept_language_and_the_switch(client: TestClient, ctx: ApiContext) -> None:
    assert pick(None, "en-GB,en;q=0.9,vi;q=0.8") == "en"
    assert pick(None, "fr, vi;q=0.5, en;q=0.4") == "vi"
    assert pick(None, "vi;q=0, en;q=0.1") == "en"
    assert pick(None, None) == "vi"
    assert pick("en", "vi") == "en"
    assert "Đăng nhập" in client.get("/console/sign-in").text
    english = client.get("/console/sign-in", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Sign in" in english.text
    switch = client.get("/console/lang/en?next=/console/sign-in", follow_redirects=False)
    assert switch.headers["location"].endswith("/console/sign-in")
    assert "Sign in" in client.get("/console/sign-in").text
    # ?next= goes only to console pages.
    away = client.get("/console/lang/vi?next=//elsewhere.example/x", follow_redirects=False)
    assert away.headers["location"].endswith("/console")


def test_stream_sends_keep_alives_with_the_session(client: TestClient, ctx: ApiContext) -> None:
    _, key = ctx.keys.issue(Role.TECHNICIAN, "tech")
    sign_in(client, key)
    body = client.get("/console/stream").text  # ends after stream_max_s
    assert body.startswith("retry: 1000\n")
    assert body.count(": keep-alive\n\n") >= 2


def test_every_word_on_the_pages_has_both_languages() -> None:
    used: set[str] = set()
    for template in (web.HERE / "templates").glob("*.html"):
        used |= set(re.findall(r"""\bt\('([a-z_]+)'[,)]""", template.read_text()))
    assert used - set(MESSAGES) == set()
    for key, (vi, en) in MESSAGES.items():
        assert vi, key
        assert en, key
        assert re.findall(r"\{\w+\}", vi) == re.findall(r"\{\w+\}", en), key


def test_the_console_stream_resumes_where_the_page_left_off(
    client: TestClient, ctx: ApiContext
) -> None:
    _, key = ctx.keys.issue(Role.COMMANDER, "cmd", wards=["phucla"])
    sign_in(client, key)
    assert ctx.alerts is not None
    ids = []
    for ward, cp in (("phucla", "phucla-cp01"), ("vanphuc", "vanphuc-cp01"), ("phucla", "cp02")):
        signal = Raise("fever", "critical", Subject(ward, cp, f"{cp}-n1"), f"fever at {cp}")
        with ctx.engine.begin() as conn:
            ids.append(ctx.alerts.apply(conn, signal, datetime.now(UTC))[0].alert_id)

    def streamed(url: str, **headers: str) -> list[str]:
        body = client.get(url, headers=headers).text  # ends after stream_max_s
        return [
            json.loads(line[6:])["alert_id"] for line in body.split("\n") if line[:6] == "data: "
        ]

    # The page was rendered after the first change: it gets the rest of its ward's.
    assert streamed("/console/stream?after=1") == [ids[2]]
    # A reconnect's Last-Event-ID wins over the page's cursor.
    assert streamed("/console/stream?after=3", **{"Last-Event-ID": "0"}) == [ids[0], ids[2]]
