"""The escalation chain's config and its schedule, as a function of an alert's stored state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from checkpoint.errors import ConfigError
from checkpoint.settings.loading import load_model
from hub.alerts.chain import Schedule, SeverityPolicy, Tier, schedule
from hub.alerts.config import AlertsConfig
from hub.config import HubConfig

T0 = datetime(2021, 8, 23, 22, 0, tzinfo=UTC)
POLICY = SeverityPolicy(
    renotify_every_s=300,
    escalate_after_s=900,
    tiers=[Tier(name="Trực ban"), Tier(name="Chỉ huy phường"), Tier(name="Trung tâm quận")],
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_resends_on_a_grid_and_escalates_after_each_tier_has_had_its_time() -> None:
    assert schedule(POLICY, 0, T0, T0) == Schedule(0, T0, at(300))
    # A notice sent late (the hub was busy) does not shift the next one.
    assert schedule(POLICY, 0, T0, at(307)).next_at == at(600)
    assert schedule(POLICY, 0, T0, at(600)).next_at == at(900)  # never a time already past
    # At 900 s the duty officer's time is up: the ward commander is called, and hears it
    # again every 300 s from then on.
    assert schedule(POLICY, 0, T0, at(900)) == Schedule(1, at(900), at(1200))
    assert schedule(POLICY, 1, at(900), at(1800)) == Schedule(2, at(1800), at(2100))
    # The last tier is never left: it is re-sent to until someone acknowledges.
    assert schedule(POLICY, 2, at(1800), at(9000)) == Schedule(2, at(1800), at(9300))


def test_a_hub_down_across_tiers_catches_up_in_one_step() -> None:
    """Down from 200 s to 2000 s: on its return the alert is at the third tier, as if the
    hub had never stopped, and one notice goes out, not the eight it missed."""
    plan = schedule(POLICY, 0, T0, at(2000))
    assert plan == Schedule(2, at(1800), at(2100))


def test_a_policy_that_neither_resends_nor_escalates_has_no_next_notice() -> None:
    told_once = SeverityPolicy()
    assert schedule(told_once, 0, T0, T0).next_at is None
    only_escalates = SeverityPolicy(escalate_after_s=60, tiers=[Tier(name="a"), Tier(name="b")])
    assert schedule(only_escalates, 0, T0, T0).next_at == at(60)
    assert schedule(only_escalates, 1, at(60), at(60)).next_at is None
    # A tier the policy no longer has (the config changed): the last one it has.
    assert schedule(only_escalates, 5, at(60), at(70)).tier == 1


def test_ward_overrides_name_only_what_they_change(tmp_path: Path) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text(
        "alerts:\n"
        "  webhooks:\n"
        "    - url: http://127.0.0.1:9100/zalo\n"
        "      name: zalo-chihuy\n"
        "      changes: false\n"
        "  escalation:\n"
        "    critical:\n"
        "      renotify_every_s: 120\n"
        "    wards:\n"
        "      phucla:\n"
        "        critical:\n"
        "          escalate_after_s: 600\n"
        "          tiers:\n"
        "            - name: Trực ban\n"
        "            - name: Chỉ huy phường\n"
        "              targets: [mqtt, console, webhook:zalo-chihuy]\n"
    )
    config = load_model(HubConfig, path).alerts
    phucla = config.escalation.for_ward("phucla", "critical")
    assert (phucla.renotify_every_s, phucla.escalate_after_s) == (120, 600)
    assert [t.name for t in phucla.tiers] == ["Trực ban", "Chỉ huy phường"]
    assert phucla.tiers[1].webhooks() == ["zalo-chihuy"]
    other = config.escalation.for_ward("hoangmai", "critical")
    # The file's critical block named only renotify_every_s: the rest is the built-in.
    assert (other.renotify_every_s, other.escalate_after_s, len(other.tiers)) == (120, 900, 3)
    warning = config.escalation.for_ward("phucla", "warning")
    assert (warning.renotify_every_s, warning.escalate_after_s) == (900, 1800)
    assert config.escalation.for_ward("phucla", "info").renotify_every_s is None


def test_a_tier_naming_a_webhook_that_does_not_exist_is_refused() -> None:
    tiers = [{"name": "Chỉ huy phường", "targets": ["mqtt", "webhook:sms-quan"]}]
    with pytest.raises(ValidationError, match="webhook:sms-quan"):
        AlertsConfig.model_validate({"escalation": {"critical": {"tiers": tiers}}})
    with pytest.raises(ValidationError, match="should match pattern"):
        AlertsConfig.model_validate(
            {"escalation": {"critical": {"tiers": [{"name": "x", "targets": ["email"]}]}}}
        )


def test_a_misspelt_escalation_key_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text("alerts:\n  escalation:\n    critical:\n      renotify_evry_s: 60\n")
    with pytest.raises(ConfigError, match="renotify_evry_s"):
        load_model(HubConfig, path)
