"""Whatever a camera or a keyboard-wedge scanner hands over, the verifier answers, never raises."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from checkpoint.contract.models import Reason
from checkpoint.passes import base45, codec
from tests.passes.factory import context, make_pass, signed, verifier

KEY = Ed25519PrivateKey.generate()
GOOD = signed(make_pass(), KEY)
RAW = base45.decode(GOOD[len(codec.PREFIX) :])
VERIFIER = verifier(("k1", KEY))
CONTEXT = context()

UNUSABLE = {
    Reason.PASS_NOT_A_PASS,
    Reason.PASS_UNREADABLE,
    Reason.PASS_BAD_SIGNATURE,
    Reason.PASS_UNKNOWN_KEY,
}


def refused(text: str) -> Reason:
    result = VERIFIER.check(text, CONTEXT)
    assert not result.valid
    assert result.pass_id is None  # nothing unverified is reported as a pass id
    return result.reason


def test_the_untouched_pass_is_admitted() -> None:
    assert VERIFIER.check(GOOD, CONTEXT).valid


@given(st.text(max_size=400))
def test_any_text(text: str) -> None:
    assert refused(text) in UNUSABLE


@given(st.text(alphabet=base45.ALPHABET + "abc\n", max_size=400))
def test_any_text_with_the_prefix(text: str) -> None:
    assert refused(codec.PREFIX + text) in UNUSABLE


@given(st.binary(max_size=300))
def test_any_bytes_dressed_as_a_pass(data: bytes) -> None:
    assert refused(codec.PREFIX + base45.encode(data)) in UNUSABLE


@settings(max_examples=300)
@given(st.integers(0, len(RAW) * 8 - 1))
def test_every_single_bit_flip_is_refused(bit: int) -> None:
    raw = bytearray(RAW)
    raw[bit // 8] ^= 1 << (bit % 8)
    assert refused(codec.PREFIX + base45.encode(bytes(raw))) in UNUSABLE


@given(st.integers(0, len(GOOD) - 1))
def test_every_truncation_is_refused(length: int) -> None:
    assert refused(GOOD[:length]) in {Reason.PASS_NOT_A_PASS, Reason.PASS_UNREADABLE}


@given(st.lists(st.tuples(st.integers(0, len(RAW) - 1), st.integers(0, 255)), max_size=8))
def test_overwritten_bytes_are_refused(edits: list[tuple[int, int]]) -> None:
    raw = bytearray(RAW)
    for index, value in edits:
        raw[index] = value
    if bytes(raw) == RAW:
        return  # no change: the real pass, admitted above
    assert refused(codec.PREFIX + base45.encode(bytes(raw))) in UNUSABLE
