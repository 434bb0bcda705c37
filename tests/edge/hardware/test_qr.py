"""Real QR images, rendered into 640x480 camera frames, decoded by zxing-cpp."""

from __future__ import annotations

import numpy as np
import pytest

from edge.hardware.camera_emulated import RenderedQRFrameSource, render_qr
from edge.hardware.qr_decode import decode_frame

TEXTS = [
    "GZA:phucla-cp07-res001",
    "GZA:" + "x" * 60,
    "https://example.vn/giay-di-duong?id=123",
    "Giấy đi đường: phường Phúc La",  # Vietnamese text, UTF-8 in byte mode
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("module_px", [3, 5])
def test_rendered_frames_decode_to_the_text(text: str, module_px: int) -> None:
    camera = RenderedQRFrameSource(seed=len(text) + module_px)
    camera.show(text, module_px=module_px)
    for _ in range(3):  # a new position and new noise every frame
        frame = camera.read()
        assert frame.shape == (480, 640)
        assert frame.dtype == np.uint8
        scan = decode_frame(frame)
        assert scan is not None
        assert scan.text == text


def test_an_empty_scene_has_no_code() -> None:
    camera = RenderedQRFrameSource()
    assert decode_frame(camera.read()) is None


def test_a_damaged_code_is_found_but_unreadable() -> None:
    camera = RenderedQRFrameSource(seed=3)
    camera.show("GZA:phucla-cp07-res001", module_px=4)
    camera.damage()
    scan = decode_frame(camera.read())
    assert scan is not None
    assert scan.text is None
    assert scan.error is not None
    assert "not decodable" in scan.error


def test_the_qr_image_is_black_on_white_with_a_quiet_zone() -> None:
    img = render_qr("GZA:abc", module_px=2)
    assert set(np.unique(img)) == {0, 255}
    assert (img[:8, :] == 255).all()  # 4-module quiet zone at 2 px per module
