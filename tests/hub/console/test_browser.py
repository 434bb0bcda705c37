"""The console as command staff meet it: Debian's Chromium, headless, against a real hub
(Mosquitto, InfluxDB, state store). Nodes are MQTT sessions publishing contract events.

Screenshots of every view land in test-artifacts/console/."""

from __future__ import annotations

import time

import httpx
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import select

from hub.alerts.tables import alert_changes
from hub.console.session import COOKIE
from tests.helpers import wait_for
from tests.hub.console.browsing import csrf_of, open_board, row_for, rows, shot, sign_in, wait
from tests.hub.console.conftest import GRAFANA, ConsoleHub, Nodes
from tests.hub.traffic import health, passage


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
    health(cp07)
    passage(cp07, temp=(36.4, None))  # someone passes: traffic
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
    assert "may not do this" in page.find_element(By.ID, "detail").text
    shot(page, "refused")


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
    assert printed.headers["content-type"] == "application/pdf"  # the ID-1 card
    assert printed.content.startswith(b"%PDF")
    row.find_element(By.CSS_SELECTOR, "button.danger").click()
    page.switch_to.alert.dismiss()  # asked first; "no" keeps the pass
    assert page.find_elements(By.CSS_SELECTOR, f"tr.valid[id='{pass_id}']")
    assert console_hub.api("GET", f"/passes/{pass_id}").json()["revoked_at"] is None
    page.find_element(By.CSS_SELECTOR, f"tr[id='{pass_id}'] button.danger").click()
    page.switch_to.alert.accept()
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
    assert "not allowed in ward 'phucla'" in page.find_element(By.ID, "detail").text
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
        cursor = max((r[0] for r in conn.execute(select(alert_changes.c.id))), default=0)
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
