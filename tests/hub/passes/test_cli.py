"""``checkpoint passes``: keygen, issue (QR images and card), revoke, bad input as one line."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import zxingcpp
from PIL import Image
from typer.testing import CliRunner

from checkpoint.passes.errors import BadPassRequest
from hub.passes.cli import passes_app
from hub.passes.revocations import RevocationLedger
from tests.helpers import pdftotext, run_checkpoint
from tests.passes.frames import camera_frame, read_png_gray

runner = CliRunner()


def test_keygen_issue_revoke(tmp_path: Path) -> None:
    keys, ledger = str(tmp_path / "keys"), str(tmp_path / "revoked.json")
    made = runner.invoke(passes_app, ["keygen", "--keys", keys, "--id", "hub-a"])
    assert made.exit_code == 0, made.output
    anchor = runner.invoke(passes_app, ["keygen", "--keys", keys, "--anchor", "--id", "anc-a"])
    assert anchor.exit_code == 0, anchor.output
    anchors = runner.invoke(passes_app, ["anchors", "--keys", keys])
    assert list(json.loads(anchors.output)) == ["anc-a"]

    issue = [
        "issue", "--keys", keys, "--ledger", ledger, "--category", "delivery",
        "--ward", "phucla", "--checkpoint", "phucla-cp07", "--out", str(tmp_path / "p1"),
    ]  # fmt: skip
    issued = runner.invoke(passes_app, issue)
    assert issued.exit_code == 0, issued.output
    pass_ = json.loads(issued.output)
    assert (pass_["category"], pass_["key_id"]) == ("delivery", "hub-a")
    assert (tmp_path / "p1.svg").read_text().startswith("<svg")
    assert (tmp_path / "p1.card.pdf").read_bytes().startswith(b"%PDF-")
    frame = camera_frame(read_png_gray((tmp_path / "p1.png").read_bytes()), scale=0.9)
    text = zxingcpp.read_barcodes(frame)[0].text
    assert text.startswith("GZ1:")
    card = Image.open(tmp_path / "p1.card.png").convert("L")
    assert [b.text for b in zxingcpp.read_barcodes(np.asarray(card))] == [text]

    revoked = runner.invoke(passes_app, ["revoke", "--ledger", ledger, pass_["pass_id"]])
    assert revoked.exit_code == 0, revoked.output
    assert RevocationLedger(Path(ledger)).is_revoked(pass_["pass_id"])


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    keys, ledger = str(tmp_path / "keys"), str(tmp_path / "revoked.json")
    runner.invoke(passes_app, ["keygen", "--keys", keys])
    base = ["issue", "--keys", keys, "--ledger", ledger, "--out", str(tmp_path / "x")]
    wrong = runner.invoke(passes_app, [*base, "--category", "mayor", "--ward", "phucla"])
    assert isinstance(wrong.exception, BadPassRequest)
    assert "use one of resident" in str(wrong.exception)
    bad_ward = runner.invoke(passes_app, [*base, "--category", "medical", "--ward", "Phuc La"])
    assert isinstance(bad_ward.exception, BadPassRequest)
    assert str(bad_ward.exception).startswith("ward_id: ")
    bad_id = runner.invoke(passes_app, ["revoke", "--ledger", ledger, "x"])
    assert isinstance(bad_id.exception, BadPassRequest)
    assert not (tmp_path / "revoked.json").exists()
    assert not (tmp_path / "x.png").exists()


def checkpoint(*args: str) -> subprocess.CompletedProcess[str]:
    return run_checkpoint("passes", *args)


def test_revoking_an_id_never_issued_is_refused_unless_forced(tmp_path: Path) -> None:
    ledger = str(tmp_path / "r.json")
    typo = checkpoint("revoke", "--ledger", ledger, "Kq3v9XbT2mPa")
    assert typo.returncode == 1
    assert typo.stderr.strip().splitlines() == [
        f"error: no pass 'Kq3v9XbT2mPa' was issued with {ledger}, or it has expired "
        "(a typo?); --force revokes it anyway"
    ]
    assert not Path(ledger).exists()
    forced = checkpoint("revoke", "--ledger", ledger, "Kq3v9XbT2mPa", "--force")
    assert forced.returncode == 0, forced.stderr
    assert RevocationLedger(Path(ledger)).is_revoked("Kq3v9XbT2mPa")
    malformed = checkpoint("revoke", "--ledger", ledger, "no", "--force")
    assert malformed.returncode == 1
    assert malformed.stderr.strip().splitlines() == [
        "error: pass_id: String should match pattern '^[A-Za-z0-9_-]{4,32}$'"
    ]


def test_the_card_carries_the_ward_name_from_the_ward_file(tmp_path: Path) -> None:
    keys = str(tmp_path / "keys")
    assert checkpoint("keygen", "--keys", keys).returncode == 0
    ward_file = Path(__file__).resolve().parents[3] / "firmware_config" / "wards" / "phucla.yaml"
    issued = checkpoint(
        "issue", "--keys", keys, "--ledger", str(tmp_path / "r.json"), "--category", "resident",
        "--ward-file", str(ward_file), "--out", str(tmp_path / "p"),
    )  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    assert json.loads(issued.stdout)["ward_id"] == "phucla"
    text = pdftotext(tmp_path / "p.card.pdf")
    assert "Phường Phúc La, quận Hà Đông, Hà Nội" in text
    assert "Cư dân" in text


def test_the_card_carries_the_ward_name_from_the_hub_config(tmp_path: Path) -> None:
    keys = str(tmp_path / "keys")
    assert checkpoint("keygen", "--keys", keys).returncode == 0
    config = tmp_path / "hub.yaml"
    config.write_text("kind: hub\nwards:\n  phucla:\n    name: Phường Thử Nghiệm\n")
    issued = checkpoint(
        "issue", "--keys", keys, "--ledger", str(tmp_path / "r.json"), "--category", "resident",
        "--ward", "phucla", "--config", str(config), "--out", str(tmp_path / "p"),
    )  # fmt: skip
    assert issued.returncode == 0, issued.stderr
    assert "Phường Thử Nghiệm" in pdftotext(tmp_path / "p.card.pdf")
