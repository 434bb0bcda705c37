"""Forged and fuzzed passes at the checkpoint: never admitted, never an exception.

tests/passes/test_fuzz.py samples bit flips with hypothesis; here every single-bit flip of
a signed pass is tried, of its signed bytes and of its QR text, and flipped passes go the
whole way a real one goes at a node: printed as the hub prints a pass (segno PNG), seen by
a camera (scaled, noisy frame), decoded by the node's decoder (zxing-cpp), verified.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkpoint.contract.models import Reason
from checkpoint.passes import base45, codec, qr
from edge.hardware.qr_decode import decode_frame
from tests.passes.factory import context, make_pass, signed, verifier
from tests.passes.frames import camera_frame, read_png_gray

KEY = Ed25519PrivateKey.generate()
GOOD = signed(make_pass(), KEY)
RAW = base45.decode(GOOD[len(codec.PREFIX) :])
VERIFIER = verifier(("k1", KEY))
CONTEXT = context()

# Why a forged pass may be refused: it is not a pass, cannot be read, or its signature
# (or signing key) does not check out. Never an admission, never e.g. "expired", which
# would mean the fields were trusted before the signature was.
FORGERY_REASONS = {
    Reason.PASS_NOT_A_PASS,
    Reason.PASS_UNREADABLE,
    Reason.PASS_BAD_SIGNATURE,
    Reason.PASS_UNKNOWN_KEY,
}


def flipped(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def refused(text: str) -> Reason:
    result = VERIFIER.check(text, CONTEXT)  # raising fails the test: it must not
    assert not result.valid, text
    assert result.pass_id is None  # nothing unverified is reported as a pass id
    return result.reason


def test_the_untouched_pass_is_admitted_through_the_camera() -> None:
    assert VERIFIER.check(GOOD, CONTEXT).valid
    scan = decode_frame(camera_frame(read_png_gray(qr.png(GOOD, scale=4))))
    assert scan is not None
    assert scan.text == GOOD


def test_every_single_bit_flip_of_the_signed_bytes_is_refused() -> None:
    reasons = {refused(codec.PREFIX + base45.encode(flipped(RAW, b))) for b in range(len(RAW) * 8)}
    assert reasons <= FORGERY_REASONS
    assert Reason.PASS_BAD_SIGNATURE in reasons


def test_every_single_bit_flip_of_the_qr_text_is_refused() -> None:
    text = GOOD.encode("ascii")
    for bit in range(len(text) * 8):
        candidate = flipped(text, bit).decode("latin-1")
        assert refused(candidate) in FORGERY_REASONS, bit


def bits_to_try(every: int) -> list[int]:
    """Bit positions spread over the whole pass: body (format, key id, fields) and
    signature. ``every`` 1: all of them."""
    return list(range(0, len(RAW) * 8, every))


@pytest.mark.parametrize(
    "every",
    [pytest.param(11, id="sampled"), pytest.param(1, id="every-bit", marks=pytest.mark.slow)],
)
def test_bit_flipped_passes_read_by_the_camera_are_refused(every: int) -> None:
    for i, bit in enumerate(bits_to_try(every)):
        forged = codec.PREFIX + base45.encode(flipped(RAW, bit))
        image = read_png_gray(qr.png(forged, scale=4))
        frame = camera_frame(image, scale=1.0 + (i % 5) / 10, noise=10.0, seed=i)
        scan = decode_frame(frame)
        assert scan is not None, bit
        # The decoder hands over the forgery faithfully; the verifier is what refuses it.
        assert scan.text == forged, bit
        assert refused(scan.text) in FORGERY_REASONS, bit


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.text(min_size=1, max_size=200) | st.text(alphabet=base45.ALPHABET, max_size=300))
def test_fuzzed_qr_contents_read_by_the_camera_are_refused(content: str) -> None:
    for text in (content, codec.PREFIX + content):
        image = read_png_gray(qr.png(text, scale=4))
        scan = decode_frame(camera_frame(image, offset=(10, 10), noise=6.0))
        # Whatever the camera makes of it (read, unreadable, nothing): never admitted.
        if scan is not None and scan.text is not None:
            assert refused(scan.text) in FORGERY_REASONS
