"""Camera-like frames from real PNG bytes: decode the PNG, then scale, offset and add noise."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]


def _unfilter(rows: bytes, width_bytes: int, height: int, bpp: int) -> list[bytearray]:
    out: list[bytearray] = []
    prev = bytearray(width_bytes)
    pos = 0
    for _ in range(height):
        kind = rows[pos]
        line = bytearray(rows[pos + 1 : pos + 1 + width_bytes])
        pos += 1 + width_bytes
        for i in range(width_bytes):
            left = line[i - bpp] if i >= bpp else 0
            up = prev[i]
            up_left = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + pred) & 0xFF
        out.append(line)
        prev = line
    return out


def read_png_gray(data: bytes) -> Frame:
    """A greyscale (colour type 0, depth 1 or 8) PNG as a 0-255 array, as segno writes it."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    width = height = depth = colour = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        chunk = data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", chunk[:10])
        elif kind == b"IDAT":
            idat += chunk
    assert colour == 0, f"colour type {colour} not handled"
    assert depth in (1, 8), f"bit depth {depth} not handled"
    width_bytes = (width * depth + 7) // 8
    rows = _unfilter(zlib.decompress(idat), width_bytes, height, 1)
    packed = np.array(rows, dtype=np.uint8)
    if depth == 8:
        return packed
    bits = np.unpackbits(packed, axis=1)[:, :width]
    return (bits * 255).astype(np.uint8)


def camera_frame(
    image: Frame,
    *,
    scale: float = 1.0,
    offset: tuple[int, int] = (40, 30),
    noise: float = 12.0,
    blur: int = 0,
    seed: int = 7,
    size: tuple[int, int] = (480, 640),
) -> Frame:
    """``image`` resized (nearest), pasted on a grey 640x480 background, blurred by a box of
    ``2 * blur + 1`` pixels (focus, motion), with sensor noise."""
    rng = np.random.default_rng(seed)
    h = int(image.shape[0] * scale)
    w = int(image.shape[1] * scale)
    ys = (np.arange(h) / scale).astype(int)
    xs = (np.arange(w) / scale).astype(int)
    scaled = image[ys][:, xs].astype(np.float64)
    # A camera sees paper as light grey and ink as dark grey, not 255 and 0.
    scaled = 40 + scaled * (190 / 255)
    frame = np.full(size, 120.0)
    y0, x0 = offset
    frame[y0 : y0 + h, x0 : x0 + w] = scaled[: size[0] - y0, : size[1] - x0]
    if blur:
        padded = np.pad(frame, blur, mode="edge")
        n = 2 * blur + 1
        frame = sum(
            padded[dy : dy + size[0], dx : dx + size[1]] for dy in range(n) for dx in range(n)
        ) / (n * n)
    frame += rng.normal(0, noise, size)
    return np.clip(frame, 0, 255).astype(np.uint8)
