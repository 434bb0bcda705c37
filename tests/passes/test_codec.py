"""The pass text survives the round trip exactly, and stays small."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from checkpoint.passes import base45, codec
from checkpoint.passes.model import Category, HourWindow
from tests.passes.factory import make_pass

KEY = Ed25519PrivateKey.generate()


@given(st.binary(max_size=200))
def test_base45_round_trip(data: bytes) -> None:
    text = base45.encode(data)
    assert set(text) <= set(base45.ALPHABET)
    assert base45.decode(text) == data


def test_base45_rfc9285_examples() -> None:
    assert base45.encode(b"AB") == "BB8"
    assert base45.encode(b"Hello!!") == "%69 VD92EX0"
    assert base45.decode("QED8WEX0") == b"ietf!"
    with pytest.raises(base45.Base45Error):
        base45.decode("GGW")  # 65535 < value: not two bytes


@given(
    category=st.sampled_from(Category),
    checkpoints=st.lists(st.from_regex(r"[a-z0-9][a-z0-9-]{0,20}", fullmatch=True), max_size=8),
    hours=st.lists(st.tuples(st.integers(0, 1440), st.integers(0, 1440)), max_size=4),
    label=st.text(max_size=24),
    days=st.integers(1, 365),
    holder=st.none() | st.binary(min_size=8, max_size=16),
)
def test_pass_round_trip(
    *,
    category: Category,
    checkpoints: list[str],
    hours: list[tuple[int, int]],
    label: str,
    days: int,
    holder: bytes | None,
) -> None:
    start = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    pass_ = make_pass(
        category=category,
        checkpoints=tuple(checkpoints),
        hours=tuple(HourWindow(start=a, end=b) for a, b in hours),
        label=label,
        valid_from=start,
        valid_until=start + timedelta(days=days),
        holder_hash=holder,
        zone_id="to-19",
    )
    text = codec.sign(pass_, KEY)
    signed = codec.split(text)
    KEY.public_key().verify(signed.signature, signed.signed_message)
    assert signed.to_pass() == pass_


def test_a_typical_pass_is_compact() -> None:
    text = codec.sign(make_pass(checkpoints=("phucla-cp07",), holder_hash=bytes(16)), KEY)
    assert len(text) < 260
    assert text.isascii()
    assert text == text.upper()  # QR alphanumeric mode needs upper case


def test_wedge_line_end_is_forgiven() -> None:
    text = codec.sign(make_pass(), KEY)
    assert codec.split(text + "\r\n").body == codec.split(text).body
