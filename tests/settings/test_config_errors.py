"""Broken config files as a technician writes them: each gives one line that says the file,
line and column, the key and the problem; empty and duplicate-key files are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkpoint.errors import ConfigError
from greenzone.commands.validate import Kind, validate_file
from tests.helpers import run_checkpoint

ROOT = Path(__file__).resolve().parents[2] / "firmware_config"
NODE = "kind: node\nnode_id: cp1-n1\ncheckpoint_id: cp1\nward_id: phucla\n"
WARD = "kind: ward\nward_id: phucla\n"

CASES = [
    ("empty", "", "1:1: the file is empty (no keys)"),
    ("comments only", "# nothing yet\n", "1:1: the file is empty (no keys)"),
    ("a list", "- node_id: a\n", "1:1: a config file is a mapping (key: value lines), not a list"),
    (
        "duplicate key",
        NODE + "node_id: cp1-n2\n",
        "5:1: key 'node_id' appears twice (first at line 2)",
    ),
    (
        "duplicate nested key",
        NODE + "pins:\n  buzzer: 13\n  buzzer: 12\n",
        "7:3: key 'buzzer' appears twice (first at line 6)",
    ),
    (
        "unclosed list",
        "kind: node\nnode_id: [cp1\n",
        "3:1: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence at line 2)",
    ),
    (
        "tab indent",
        "kind: hub\nmqtt:\n\thost: x\n",
        "3:1: found character '\\t' that cannot start any token",
    ),
    (
        "no kind",
        "node_id: cp1-n1\n",
        "1:1: kind: missing: start the file with `kind: node`, `kind: hub` or `kind: ward` "
        "(or pass --kind)",
    ),
    (
        "unknown kind",
        "kind: gateway\nnode_id: x\n",
        "1:1: kind: 'gateway' is not one of node, hub, ward",
    ),
    (
        "misspelt node_id",
        "kind: node\nnod_id: cp1-n1\ncheckpoint_id: cp1\nward_id: phucla\n",
        "2:1: nod_id: unknown key; did you mean node_id?",
    ),
    (
        "misspelt key beside the right one",
        NODE + "thermometer:\n  samples: 5\n  sample: 3\n",
        "7:3: thermometer.sample: unknown key",
    ),
    (
        "misspelt nested key",
        NODE + "thermometer:\n  fever_treshold_c: 37.5\n",
        "6:3: thermometer.fever_treshold_c: unknown key; did you mean fever_threshold_c?",
    ),
    (
        "missing key",
        "kind: node\nnode_id: cp1-n1\nward_id: phucla\n",
        "1:1: checkpoint_id: missing (required)",
    ),
    (
        "bad GPIO",
        NODE + "pins:\n  buzzer: 99\n",
        "6:3: pins.buzzer: Input should be less than or equal to 27",
    ),
    (
        "same GPIO twice",
        NODE + "pins:\n  buzzer: 17\n",
        "5:1: pins: GPIO 17 is used for both presence and buzzer",
    ),
    (
        "not a url",
        "kind: hub\ninflux:\n  url: not a url\n",
        "3:3: influx.url: 'not a url' is not an http:// or https:// URL",
    ),
    (
        "url without host",
        "kind: hub\ninflux:\n  url: http://\n",
        "3:3: influx.url: 'http://' is not an http:// or https:// URL",
    ),
    (
        "bad host",
        "kind: hub\nmqtt:\n  host: hub local\n",
        "3:3: mqtt.host: 'hub local' is not a host name or IP address",
    ),
    (
        "url as host",
        "kind: hub\nmqtt:\n  host: mqtt://hub.local\n",
        "3:3: mqtt.host: 'mqtt://hub.local' is not a host name or IP address",
    ),
    (
        "bad port",
        "kind: hub\nmqtt:\n  port: 99999\n",
        "3:3: mqtt.port: Input should be less than or equal to 65535",
    ),
    ("hub key in a node file", NODE + "batch:\n  max_points: 10\n", "5:1: batch: unknown key"),
    ("node file said hub", "kind: hub\nnode_id: cp1-n1\n", "2:1: node_id: unknown key"),
    (
        "ward checkpoint",
        WARD + "checkpoints:\n- id: cp1\n  group: 0\n",
        "5:3: checkpoints[cp1].group: Input should be greater than or equal to 1",
    ),
    (
        "ward checkpoint key",
        WARD + "checkpoints:\n- id: cp1\n  group: 1\n  lanes: 2\n",
        "6:3: checkpoints[cp1].lanes: unknown key; did you mean nodes?",
    ),
    (
        "ward id",
        "kind: ward\nward_id: Phuc La\ncheckpoints: [{id: cp1, group: 1}]\n",
        "2:1: ward_id: String should match pattern '^[a-z0-9][a-z0-9_-]{0,62}$'",
    ),
    (
        "ward node_defaults key",
        WARD + "node_defaults:\n  thermometer:\n    adress: 0x5B\n"
        "checkpoints:\n- {id: cp1, group: 1}\n- {id: cp2, group: 1, nodes: 2}\n",
        "5:5: node_defaults.thermometer.adress: unknown key; did you mean address? "
        "(every checkpoint)",
    ),
    (
        "ward node_defaults value",
        WARD + "node_defaults:\n  thermometer:\n    address: 0x90\n"
        "checkpoints:\n- {id: cp1, group: 1}\n",
        "5:5: node_defaults.thermometer.address: Input should be less than or equal to 119 "
        "(every checkpoint)",
    ),
    (
        "ward override",
        WARD + "checkpoints:\n- id: cp1\n  group: 1\n- id: cp2\n  group: 1\n"
        "  overrides:\n    pins:\n      buzzer: 17\n",
        "9:5: checkpoints[cp2].overrides.pins: GPIO 17 is used for both presence and buzzer",
    ),
    (
        "ward broker host",
        WARD + "broker:\n  host: hub/phucla\ncheckpoints: [{id: cp1, group: 1}]\n",
        "4:3: broker.host: 'hub/phucla' is not a host name or IP address",
    ),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_broken_file_gives_one_line_with_file_line_and_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        validate_file(path)
    assert str(info.value) == f"{path}:{expected}"


def test_a_bad_default_in_the_real_ward_is_one_line_at_its_key(tmp_path: Path) -> None:
    path = tmp_path / "phucla.yaml"
    text = (ROOT / "wards" / "phucla.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("buzzer: 13", "buzzer: 17"), encoding="utf-8")
    line = 1 + text.splitlines().index("  pins:")
    with pytest.raises(ConfigError) as info:
        validate_file(path)
    assert str(info.value) == (
        f"{path}:{line}:3: node_defaults.pins: GPIO 17 is used for both presence and buzzer "
        "(every checkpoint)"
    )


def test_kind_comes_from_the_command_for_a_file_without_one(tmp_path: Path) -> None:
    path = tmp_path / "node.yaml"
    path.write_text("node_id: cp1-n1\ncheckpoint_id: cp1\nward_id: phucla\n", encoding="utf-8")
    assert validate_file(path, Kind.node).__name__ == "NodeConfig"
    with pytest.raises(ConfigError, match=r"node.yaml:1:1: node_id: unknown key"):
        validate_file(path, Kind.hub)


def test_validate_config_prints_one_line_per_error(tmp_path: Path) -> None:
    good = tmp_path / "node.yaml"
    good.write_text(NODE, encoding="utf-8")
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(NODE + "thermometer:\n  fever_treshold_c: 37.5\npins:\n  buzzer: 17\n")
    result = run_checkpoint("validate-config", str(good), str(empty), str(bad))
    assert result.returncode == 1
    assert result.stdout == f"{good}: ok (NodeConfig)\n"
    assert result.stderr.splitlines() == [
        f"{empty}:1:1: the file is empty (no keys)",
        f"{bad}:6:3: thermometer.fever_treshold_c: unknown key; did you mean fever_threshold_c?",
        f"{bad}:7:1: pins: GPIO 17 is used for both presence and buzzer",
        "error: 2 of 3 file(s) invalid",
    ]


def test_hub_run_refuses_an_empty_file_before_connecting(tmp_path: Path) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text("\n", encoding="utf-8")
    result = run_checkpoint("hub", "run", "--config", str(path))
    assert result.returncode == 1
    assert result.stderr == f"error: {path}:1:1: the file is empty (no keys)\n"
