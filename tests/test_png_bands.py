"""The band PNG encoder writes plain PNGs every reader opens (Pillow, OpenCV), in every layout we
use (RGB, RGBA, grey, indexed with tRNS, 16-bit RGB/RGBA), and says how far it is."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from inpaint_core.imaging import png_bands
from inpaint_core.imaging.highbits import HighBits, reduce16
from inpaint_core.imaging.png_bands import encode_grey, encode_picture


@pytest.fixture
def rgb() -> np.ndarray:
    return data.astronaut()[:301, :257]  # odd sizes: bands do not divide them


def pillow(png: bytes) -> tuple[str, np.ndarray]:
    with Image.open(io.BytesIO(png)) as im:
        return im.mode, np.asarray(im.convert("RGBA") if im.mode == "P" else im)


def test_8_bit_layouts_read_back_exactly(rgb, monkeypatch) -> None:
    monkeypatch.setattr(png_bands, "BAND_BYTES", 5000)  # many bands, and a last short one
    alpha = data.camera()[:301, :257]
    mode, back = pillow(encode_picture(rgb))
    assert mode == "RGB" and np.array_equal(back, rgb)
    mode, back = pillow(encode_picture(rgb, alpha, compress_level=1))
    assert mode == "RGBA" and np.array_equal(back, np.dstack([rgb, alpha]))
    mode, back = pillow(encode_grey(alpha, compress_level=0))
    assert mode == "L" and np.array_equal(back, alpha)
    palette = bytes((0, 90, 255)) * 256
    mode, back = pillow(encode_grey(alpha, palette=palette, transparency=bytes(range(256))))
    assert mode == "P" and np.array_equal(back[..., 3], alpha)
    assert (back[..., :3] == (0, 90, 255)).all()
    ocv = cv2.imdecode(np.frombuffer(encode_picture(rgb), np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(ocv[..., ::-1], rgb)


def test_16_bit_pictures_are_lifted_band_by_band(rgb, monkeypatch) -> None:
    monkeypatch.setattr(png_bands, "BAND_BYTES", 7000)
    rng = np.random.default_rng(0)
    deep = np.clip(rgb.astype(np.int64) * 257 + rng.integers(-128, 129, rgb.shape), 0, 65535)
    deep = deep.astype(np.uint16)
    edited = reduce16(deep)
    edited[100:140, 20:60] = 3
    want = HighBits(deep).lift(edited)
    alpha = data.camera()[:301, :257]
    for a in (None, alpha):
        png = encode_picture(edited, a, high_bits=HighBits(deep))
        back = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
        assert back.dtype == np.uint16
        assert np.array_equal(back[..., 2::-1], want)
        if a is not None:
            assert np.array_equal(back[..., 3], a.astype(np.uint16) * 257)
    # samples placed elsewhere on the canvas (a grown canvas): the same lift as a whole
    moved = HighBits(deep[:200, :200], x=30, y=50)
    png = encode_picture(edited, high_bits=moved)
    back = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(back[..., ::-1], moved.lift(edited))


def test_progress_counts_every_row_once(rgb, monkeypatch) -> None:
    monkeypatch.setattr(png_bands, "BAND_BYTES", 10_000)
    seen: list[int] = []
    encode_picture(rgb, on_rows=seen.append)
    assert len(seen) > 10 and sum(seen) == rgb.shape[0]


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        encode_picture(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match="alpha"):
        encode_picture(np.zeros((4, 4, 3), np.uint8), np.zeros((3, 4), np.uint8))
