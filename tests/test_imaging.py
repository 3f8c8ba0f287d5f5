"""load_image / load_mask on every odd input, each written here from real photos (skimage.data)."""

from __future__ import annotations

import inspect
import io
import struct
import warnings
import zlib
from datetime import datetime

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms
from skimage import data

from inpaint_core import imaging
from inpaint_core.errors import ImageLoadError, ImageTooLargeError, MaskError
from inpaint_core.imaging import LoadedImage, load_image, load_mask

# -- helpers ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return data.astronaut()  # 512x512x3


@pytest.fixture(scope="module")
def chelsea() -> np.ndarray:
    return data.chelsea()  # 300x451x3: not square, so rotations show


def encode(arr_or_im, fmt: str, **kw) -> bytes:
    im = arr_or_im if isinstance(arr_or_im, Image.Image) else Image.fromarray(arr_or_im)
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def exif_with_orientation(value: int) -> bytes:
    ex = Image.Exif()
    ex[0x0112] = value
    return ex.tobytes()


def png_claiming(width: int, height: int) -> bytes:
    """A real 1x1 PNG whose IHDR (CRC fixed up) claims another size: a decompression bomb's header."""
    raw = encode(np.zeros((1, 1), np.uint8), "PNG")
    assert raw[12:16] == b"IHDR"
    ihdr = struct.pack(">II", width, height) + raw[24:29]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return raw[:16] + ihdr + crc + raw[33:]


def _s15(x: float) -> bytes:
    return struct.pack(">i", round(x * 65536))


def icc_profile(space: str, desc: str, *, colorants=None, gamma: float = 2.2) -> bytes:
    """A minimal ICC v2 matrix/TRC profile ('RGB ' with colorants, or 'GRAY'), built byte by byte."""

    def xyz(v) -> bytes:
        return b"XYZ " + b"\0" * 4 + b"".join(_s15(c) for c in v)

    def curv(g: float) -> bytes:
        return b"curv" + b"\0" * 4 + struct.pack(">IH", 1, round(g * 256)) + b"\0\0"

    text = desc.encode("ascii") + b"\0"
    desc_tag = (
        b"desc"
        + b"\0" * 4
        + struct.pack(">I", len(text))
        + text
        + b"\0" * 8
        + b"\0\0\0"
        + b"\0" * 67
    )
    d50 = (0.9642, 1.0, 0.8249)
    tags = [(b"desc", desc_tag), (b"wtpt", xyz(d50)), (b"cprt", b"text" + b"\0" * 4 + b"none\0")]
    if space == "RGB ":
        for sig, col in zip((b"rXYZ", b"gXYZ", b"bXYZ"), colorants, strict=True):
            tags.append((sig, xyz(col)))
        tags += [(b"rTRC", curv(gamma)), (b"gTRC", curv(gamma)), (b"bTRC", curv(gamma))]
    else:
        tags.append((b"kTRC", curv(gamma)))
    offset = 128 + 4 + 12 * len(tags)
    table, blob = b"", b""
    for sig, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += sig + struct.pack(">II", offset + len(blob), len(body))
        blob += body
    total = offset + len(blob)
    now = datetime(2024, 1, 1)
    header = (
        struct.pack(">I", total)
        + b"\0" * 4
        + struct.pack(">I", 0x02100000)
        + b"mntr"
        + space.encode()
        + b"XYZ "
        + struct.pack(">6H", now.year, now.month, now.day, 0, 0, 0)
        + b"acsp"
        + b"\0" * 24
        + struct.pack(">I", 0)
        + b"".join(_s15(c) for c in d50)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + blob


# Adobe RGB (1998) colorants adapted to D50, as in Adobe's own profile; lcms's built-in sRGB likewise
ADOBE_D50 = np.array(
    [[0.60974, 0.31111, 0.01947], [0.20528, 0.62567, 0.06087], [0.14919, 0.06322, 0.74457]]
)
SRGB_D50 = np.array(
    [
        [0.4360747, 0.2225045, 0.0139322],
        [0.3850649, 0.7168786, 0.0971045],
        [0.1430804, 0.0606169, 0.7141733],
    ]
)


def srgb_encode(lin: np.ndarray) -> np.ndarray:
    lin = np.clip(lin, 0.0, 1.0)
    v = np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)
    return np.rint(v * 255).astype(int)


def adobe_to_srgb_expected(rgb: np.ndarray, gamma: float) -> np.ndarray:
    """Independent of LittleCMS: decode gamma, colorant matrix to XYZ(D50), inverse sRGB matrix, encode."""
    lin = (rgb.astype(np.float64) / 255.0) ** gamma
    xyz = lin @ ADOBE_D50  # rows are the r, g, b colorants
    return srgb_encode(xyz @ np.linalg.inv(SRGB_D50))


def assert_close(a: np.ndarray, b: np.ndarray, max_diff: int, mean_diff: float = 1e9) -> None:
    d = np.abs(a.astype(int) - b.astype(int))
    assert d.max() <= max_diff and d.mean() <= mean_diff, (d.max(), d.mean())


# -- sources, formats -------------------------------------------------------------------------


def test_path_str_pathlike_and_bytes_give_the_same_photo(tmp_path, astronaut):
    p = tmp_path / "a.png"
    p.write_bytes(encode(astronaut, "PNG"))
    for src in (p, str(p), p.read_bytes()):
        img = load_image(src)
        assert isinstance(img, LoadedImage)
        assert img.rgb.dtype == np.uint8 and img.rgb.shape == (512, 512, 3)
        np.testing.assert_array_equal(img.rgb, astronaut)
        assert img.alpha is None and img.format == "PNG" and img.size == (512, 512)
    assert load_image(p).source == str(p)
    assert load_image(p.read_bytes()).source == "<bytes>"


@pytest.mark.parametrize(
    "fmt, kw, exact",
    [
        ("PNG", {}, True),
        ("BMP", {}, True),
        ("TIFF", {}, True),
        ("WEBP", {"lossless": True}, True),
        ("JPEG", {"quality": 95}, False),
        ("WEBP", {"quality": 90}, False),
    ],
)
def test_formats(chelsea, fmt, kw, exact):
    img = load_image(encode(chelsea, fmt, **kw))
    assert img.format == fmt and img.size == (451, 300)
    if exact:
        np.testing.assert_array_equal(img.rgb, chelsea)
    else:
        assert_close(img.rgb, chelsea, 255, mean_diff=4.0)


def test_greyscale_and_1bit(tmp_path):
    cam = data.camera()
    img = load_image(encode(cam, "PNG"))
    assert img.rgb.shape == (512, 512, 3) and img.alpha is None
    for c in range(3):
        np.testing.assert_array_equal(img.rgb[..., c], cam)
    bw = Image.fromarray(cam).convert("1", dither=Image.Dither.NONE)
    img = load_image(encode(bw, "PNG"))
    np.testing.assert_array_equal(img.rgb[..., 0], np.where(cam >= 128, 255, 0))


# -- colour modes -----------------------------------------------------------------------------


def test_cmyk_jpeg_converts_to_rgb(astronaut):
    raw = encode(Image.fromarray(astronaut).convert("CMYK"), "JPEG", quality=95)
    assert Image.open(io.BytesIO(raw)).mode == "CMYK"
    img = load_image(raw)
    assert img.rgb.shape == (512, 512, 3) and img.alpha is None
    assert_close(img.rgb, astronaut, 255, mean_diff=2.5)


def test_cmyk_tiff_is_exact(astronaut):
    img = load_image(encode(Image.fromarray(astronaut).convert("CMYK"), "TIFF"))
    np.testing.assert_array_equal(img.rgb, astronaut)


def test_rgba_keeps_alpha_separately(astronaut):
    alpha = np.tile(np.arange(512, dtype=np.uint16) // 2, (512, 1)).astype(np.uint8)
    img = load_image(encode(np.dstack([astronaut, alpha]), "PNG"))
    np.testing.assert_array_equal(img.rgb, astronaut)
    np.testing.assert_array_equal(img.alpha, alpha)
    np.testing.assert_array_equal(img.rgba[..., 3], alpha)


def test_fully_opaque_alpha_is_reported_as_none(astronaut):
    opaque = np.dstack([astronaut, np.full((512, 512), 255, np.uint8)])
    img = load_image(encode(opaque, "PNG"))
    assert img.alpha is None
    np.testing.assert_array_equal(img.rgb, astronaut)


def test_greyscale_with_alpha():
    cam = data.camera()
    alpha = np.zeros_like(cam)
    alpha[100:200, 50:300] = 255
    img = load_image(encode(Image.fromarray(np.dstack([cam, alpha]), "LA"), "PNG"))
    np.testing.assert_array_equal(img.rgb[..., 1], cam)
    np.testing.assert_array_equal(img.alpha, alpha)


def test_palette_png_with_transparent_index(chelsea):
    pal = Image.fromarray(chelsea).quantize(16)
    idx = np.asarray(pal)
    clear = int(np.bincount(idx.ravel()).argmax())
    img = load_image(encode(pal, "PNG", transparency=clear))
    assert img.alpha is not None
    np.testing.assert_array_equal(img.alpha, np.where(idx == clear, 0, 255))
    np.testing.assert_array_equal(img.rgb, np.asarray(pal.convert("RGB")))
    assert_close(img.rgb, chelsea, 255, mean_diff=12)  # a real 16-colour version of the photo


def test_palette_png_with_per_index_alpha(chelsea):
    pal = Image.fromarray(chelsea).quantize(16)
    levels = bytes([0, 64, 128] + [255] * 13)
    img = load_image(encode(pal, "PNG", transparency=levels))
    np.testing.assert_array_equal(img.alpha, np.frombuffer(levels, np.uint8)[np.asarray(pal)])


def test_palette_gif_with_transparency(chelsea):
    pal = Image.fromarray(chelsea).quantize(32)
    img = load_image(encode(pal, "GIF", transparency=5))
    assert img.format == "GIF"
    np.testing.assert_array_equal(img.alpha == 0, np.asarray(pal) == 5)


# -- 16 bit -----------------------------------------------------------------------------------


def test_16bit_grey_png_is_scaled_not_clipped():
    ramp = np.array([[0, 257, 32768, 65535, 65280, 128]], np.uint16)
    assert Image.open(io.BytesIO(encode(ramp, "PNG"))).mode == "I;16"
    img = load_image(encode(ramp, "PNG"))
    np.testing.assert_array_equal(img.rgb[0, :, 0], [0, 1, 128, 255, 254, 0])
    cam = data.camera()
    img = load_image(encode(cam.astype(np.uint16) * 257, "PNG"))
    np.testing.assert_array_equal(img.rgb[..., 0], cam)


def test_16bit_big_endian_and_32bit_int_tiff():
    cam = data.camera()
    be = Image.fromarray((cam.astype(np.uint16) * 257).astype(">u2"))
    assert be.mode == "I;16B"
    np.testing.assert_array_equal(load_image(encode(be, "TIFF")).rgb[..., 2], cam)
    as_i = Image.fromarray(cam.astype(np.int32) * 257)
    assert as_i.mode == "I"
    np.testing.assert_array_equal(load_image(encode(as_i, "TIFF")).rgb[..., 0], cam)


@pytest.mark.parametrize("ext", [".png", ".tiff"])
def test_48bit_rgb_and_64bit_rgba(astronaut, ext):
    bgr16 = astronaut[..., ::-1].astype(np.uint16) * 257
    ok, raw = cv2.imencode(ext, bgr16)
    assert ok
    np.testing.assert_array_equal(load_image(raw.tobytes()).rgb, astronaut)
    alpha = np.tile(np.linspace(0, 65535, 512).astype(np.uint16), (512, 1))
    ok, raw = cv2.imencode(ext, np.dstack([bgr16, alpha]))
    img = load_image(raw.tobytes())
    np.testing.assert_array_equal(img.rgb, astronaut)
    assert img.alpha is not None
    assert_close(img.alpha, np.rint(alpha / 257.0), 1)
    assert img.alpha[0, 0] == 0 and img.alpha[0, -1] == 255


# -- orientation ------------------------------------------------------------------------------

# how a camera stores an upright picture under each EXIF orientation (EXIF 2.3, tag 0x0112)
STORED = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.transpose(1, 0, 2),
    6: lambda a: np.rot90(a, 1),  # shown after turning 90 degrees clockwise
    7: lambda a: a[::-1, ::-1].transpose(1, 0, 2),
    8: lambda a: np.rot90(a, -1),
}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_png_gives_the_upright_photo(chelsea, orientation):
    stored = np.ascontiguousarray(STORED[orientation](chelsea))
    img = load_image(encode(stored, "PNG", exif=exif_with_orientation(orientation)))
    np.testing.assert_array_equal(img.rgb, chelsea)


def test_exif_rotated_jpeg_orientation_6(chelsea):
    stored = np.ascontiguousarray(np.rot90(chelsea, 1))  # 451 rows x 300 columns as stored
    raw = encode(stored, "JPEG", quality=95, exif=exif_with_orientation(6))
    img = load_image(raw)
    assert img.size == (451, 300)
    err = np.abs(img.rgb.astype(int) - chelsea).mean()
    wrong_way = np.abs(img.rgb.astype(int) - chelsea[::-1, ::-1]).mean()
    assert err < 3.0 < wrong_way, (err, wrong_way)
    assert any("orientation 6" in n for n in img.notes)


def test_exif_orientation_turns_alpha_too(chelsea):
    alpha = np.zeros(chelsea.shape[:2], np.uint8)
    alpha[:50, :80] = 255  # top-left corner of the upright picture
    stored = np.ascontiguousarray(np.rot90(np.dstack([chelsea, alpha]), 1))
    img = load_image(encode(stored, "PNG", exif=exif_with_orientation(6)))
    np.testing.assert_array_equal(img.alpha, alpha)


# -- ICC profiles -----------------------------------------------------------------------------


def test_embedded_srgb_profile_passes_through_unchanged(astronaut):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for fmt in ("PNG", "TIFF"):
        img = load_image(encode(astronaut, fmt, icc_profile=srgb))
        np.testing.assert_array_equal(img.rgb, astronaut)


def test_adobe_rgb_profile_is_converted_to_srgb(astronaut):
    gamma = 563 / 256  # 2.2 as an ICC u8Fixed8
    icc = icc_profile("RGB ", "Adobe-ish RGB test profile", colorants=ADOBE_D50, gamma=gamma)
    ImageCms.ImageCmsProfile(io.BytesIO(icc))  # LittleCMS accepts it
    expected = adobe_to_srgb_expected(astronaut, gamma)
    img = load_image(encode(astronaut, "PNG", icc_profile=icc))
    assert_close(img.rgb, expected, 3, mean_diff=0.6)
    # and it really changed the colours (a wide-gamut red is redder in sRGB numbers)
    assert np.abs(img.rgb.astype(int) - astronaut).max() > 20
    assert any("to sRGB" in n for n in img.notes)
    jpg = load_image(encode(astronaut, "JPEG", quality=95, icc_profile=icc))
    assert_close(jpg.rgb, expected, 255, mean_diff=2.5)


def test_grey_profile_with_linear_curve_is_converted():
    cam = data.camera()
    icc = icc_profile("GRAY", "linear grey test profile", gamma=1.0)
    img = load_image(encode(cam, "PNG", icc_profile=icc))
    expected = srgb_encode(cam / 255.0)
    for c in range(3):
        assert_close(img.rgb[..., c], expected, 2, mean_diff=0.5)


def test_damaged_icc_profile_is_ignored_with_a_note(astronaut):
    img = load_image(encode(astronaut, "PNG", icc_profile=b"not a profile at all" * 10))
    np.testing.assert_array_equal(img.rgb, astronaut)
    assert any("ICC" in n for n in img.notes)


# -- animation --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt, kw", [("WEBP", {"lossless": True}), ("PNG", {}), ("GIF", {})])
def test_animated_file_gives_the_first_frame(chelsea, fmt, kw):
    frames = [
        Image.fromarray(chelsea),
        Image.fromarray(255 - chelsea),
        Image.fromarray(chelsea[::-1]),
    ]
    raw = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, **kw)
    assert Image.open(io.BytesIO(raw)).n_frames == 3
    img = load_image(raw)
    first, second = (
        np.abs(img.rgb.astype(int) - chelsea).mean(),
        np.abs(img.rgb.astype(int) - (255 - chelsea)).mean(),
    )
    assert first < (8 if fmt == "GIF" else 0.01) and second > 50
    assert any("first frame" in n for n in img.notes)


# -- bad input --------------------------------------------------------------------------------


def test_truncated_files(tmp_path, astronaut):
    for fmt in ("JPEG", "PNG"):
        raw = encode(astronaut, fmt)
        p = tmp_path / f"cut.{fmt.lower()}"
        p.write_bytes(raw[: len(raw) // 2])
        with pytest.raises(ImageLoadError, match="truncated") as exc:
            load_image(p)
        assert str(p) in str(exc.value) and not isinstance(exc.value, ImageTooLargeError)
    p.write_bytes(raw[:40])  # cut inside the header
    with pytest.raises(ImageLoadError, match="cut.png"):
        load_image(p)


def test_decompression_bomb_is_refused_from_the_header(tmp_path):
    p = tmp_path / "bomb.png"
    p.write_bytes(png_claiming(50000, 50000))
    assert p.stat().st_size < 100
    with pytest.raises(ImageTooLargeError, match="50000x50000") as exc:
        load_image(p)
    msg = str(exc.value)
    assert "bomb.png" in msg and "2500.0 megapixels" in msg and "INPAINT_MAX_PIXELS" in msg


def test_pixel_ceiling_argument_and_env(monkeypatch, astronaut):
    raw = encode(astronaut, "PNG")
    with pytest.raises(ImageTooLargeError, match="512x512"):
        load_image(raw, max_pixels=512 * 512 - 1)
    assert load_image(raw, max_pixels=512 * 512).size == (512, 512)
    monkeypatch.setenv("INPAINT_MAX_PIXELS", "100000")
    with pytest.raises(ImageTooLargeError, match="0.1 megapixels"):
        load_image(raw)
    assert load_image(raw, max_pixels=10**6).size == (512, 512)  # the argument wins
    monkeypatch.setenv("INPAINT_MAX_PIXELS", "lots")
    with pytest.raises(ImageLoadError, match="INPAINT_MAX_PIXELS"):
        load_image(raw)


def test_does_not_depend_on_pillows_global_bomb_limit(monkeypatch, astronaut):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's DecompressionBombWarning would fail this
        assert load_image(encode(astronaut, "PNG")).size == (512, 512)
    assert Image.MAX_IMAGE_PIXELS == 1000  # restored
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # someone switched Pillow's check off
    with pytest.raises(ImageTooLargeError):
        load_image(png_claiming(50000, 50000))


def test_defaults_fit_big_photos_and_scans():
    sig = inspect.signature(load_image).parameters
    assert sig["max_bytes"].default is None  # $INPAINT_MAX_MB or 50 MiB
    assert imaging.MAX_BYTES == 50 * 1024 * 1024
    assert 8000 * 6000 <= imaging.DEFAULT_MAX_PIXELS <= 200_000_000
    assert imaging.max_pixels_from_env() == imaging.DEFAULT_MAX_PIXELS


def test_8000x6000_photo_loads_with_the_defaults(astronaut):
    big = cv2.resize(astronaut, (8000, 6000), interpolation=cv2.INTER_NEAREST)
    ok, raw = cv2.imencode(".jpg", big[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 80])
    img = load_image(raw.tobytes())
    assert img.size == (8000, 6000)
    assert_close(img.rgb[::50, ::50], big[::50, ::50], 255, mean_diff=6)


def test_header_over_the_ceiling_is_refused_but_under_it_is_decoded():
    # 8000x6000 is within the default ceiling: the header passes and the (missing) data is the problem
    with pytest.raises(ImageLoadError) as exc:
        load_image(png_claiming(8000, 6000))
    assert not isinstance(exc.value, ImageTooLargeError)


def test_byte_limit_for_bytes_and_paths(tmp_path, astronaut):
    raw = encode(astronaut, "PNG")
    with pytest.raises(ImageTooLargeError, match="limit"):
        load_image(raw, max_bytes=len(raw) - 1)
    p = tmp_path / "photo.png"
    p.write_bytes(raw)
    with pytest.raises(ImageTooLargeError, match="photo.png"):
        load_image(p, max_bytes=1000)
    assert load_image(p, max_bytes=len(raw)).size == (512, 512)


def test_default_byte_limit_is_50_mib():
    with pytest.raises(ImageTooLargeError, match="50.0 MiB limit"):
        load_image(bytes(50 * 1024 * 1024 + 1))


def test_a_file_over_50_mib_is_refused_by_default_and_opens_with_a_raised_limit(
    tmp_path, astronaut, monkeypatch
):
    """50 MB per file (the product's limit) unless the user raises it for a big 16-bit scan."""
    raw = encode(astronaut, "PNG")
    padding = b"x" * (60 * 1024 * 1024)  # a private ancillary chunk readers skip
    crc = struct.pack(">I", zlib.crc32(b"prVt" + padding))
    chunk = struct.pack(">I", len(padding)) + b"prVt" + padding + crc
    big = raw[:33] + chunk + raw[33:]
    p = tmp_path / "big.png"
    p.write_bytes(big)
    with pytest.raises(ImageTooLargeError, match=r"50.0 MiB limit.*--max-mb or \$INPAINT_MAX_MB"):
        load_image(p)
    with pytest.raises(ImageTooLargeError, match="50.0 MiB limit"):
        load_image(big)
    assert load_image(p, max_bytes=imaging.bytes_from_mib(61)).size == (512, 512)
    monkeypatch.setenv(imaging.MAX_MB_ENV, "61")
    assert load_image(p).size == (512, 512)
    assert load_image(big).size == (512, 512)
    monkeypatch.setenv(imaging.MAX_MB_ENV, "lots")
    with pytest.raises(ImageLoadError, match="INPAINT_MAX_MB must be a positive number"):
        load_image(p)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "x"])
def test_bytes_from_mib_refuses_what_is_not_a_positive_size(bad):
    with pytest.raises(ImageLoadError, match="--max-mb must be a positive number of MiB"):
        imaging.bytes_from_mib(bad)
    assert imaging.bytes_from_mib(None) is None
    assert imaging.bytes_from_mib(1.5) == 1536 * 1024


def test_text_file_named_png(tmp_path):
    p = tmp_path / "notes.png"
    p.write_text("this is not a picture\n" * 20)
    with pytest.raises(ImageLoadError, match="not a recognised image") as exc:
        load_image(p)
    assert "notes.png" in str(exc.value)


def test_empty_missing_and_folder(tmp_path):
    p = tmp_path / "empty.jpg"
    p.write_bytes(b"")
    with pytest.raises(ImageLoadError, match="empty.jpg: is empty"):
        load_image(p)
    with pytest.raises(ImageLoadError, match="empty"):
        load_image(b"")
    with pytest.raises(ImageLoadError, match="not found"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageLoadError, match="folder"):
        load_image(tmp_path)
    with pytest.raises(ImageLoadError, match="http"):
        load_image("ftp://example.invalid/a.png")
    with pytest.raises(TypeError):
        load_image(12345)  # type: ignore[arg-type]


def test_eps_is_not_opened(tmp_path):
    # Pillow's EPS plugin would start Ghostscript; we accept raster photo formats only
    p = tmp_path / "x.eps"
    p.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n")
    with pytest.raises(ImageLoadError, match="not a recognised image"):
        load_image(p)


def test_a1111_parameters_in_jpeg_exif_user_comment(chelsea):
    ex = Image.Exif()
    text = "a cat, photo\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7"
    ex.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + text.encode("utf-16-be")
    img = load_image(encode(chelsea, "JPEG", exif=ex.tobytes()))
    assert img.text == {"parameters": text}


# -- masks ------------------------------------------------------------------------------------


def _mask_png(tmp_path, arr: np.ndarray, name="mask.png"):
    p = tmp_path / name
    p.write_bytes(encode(arr, "PNG"))
    return p


def test_greyscale_mask_keeps_its_values(tmp_path):
    m = np.zeros((300, 451), np.uint8)
    m[100:150, 200:260] = 255
    m[160:170, 200:260] = 100
    out = load_mask(_mask_png(tmp_path, m), (451, 300))
    assert out.dtype == np.uint8 and out.shape == (300, 451)
    np.testing.assert_array_equal(out, m)


def test_rgb_mask_non_black_paints(tmp_path, chelsea):
    m = np.zeros_like(chelsea)
    m[20:60, 30:90, 0] = 255  # a red brush stroke
    m[200:220, 300:330] = (0, 0, 180)  # a blue one
    out = load_mask(_mask_png(tmp_path, m), (451, 300))
    assert (out[20:60, 30:90] == 255).all() and (out[200:220, 300:330] == 180).all()
    assert out.sum() == 255 * 40 * 60 + 180 * 20 * 30


def test_alpha_mask_transparent_paints(tmp_path, chelsea):
    alpha = np.full(chelsea.shape[:2], 255, np.uint8)
    alpha[50:100, 100:200] = 0
    out = load_mask(_mask_png(tmp_path, np.dstack([chelsea, alpha])), (451, 300))
    np.testing.assert_array_equal(out, 255 - alpha)
    # channel="alpha" on a picture without transparency is an error that says so
    with pytest.raises(MaskError, match="transparency"):
        load_mask(_mask_png(tmp_path, chelsea, "opaque.png"), channel="alpha")


def test_wrong_size_mask_names_both_sizes_and_resize_fixes_it(tmp_path):
    m = np.zeros((80, 100), np.uint8)
    m[20:40, 30:60] = 255
    p = _mask_png(tmp_path, m, "small.png")
    with pytest.raises(MaskError) as exc:
        load_mask(p, (512, 384))
    msg = str(exc.value)
    assert "100x80" in msg and "512x384" in msg and "small.png" in msg
    out = load_mask(p, (512, 384), resize=True)
    assert out.shape == (384, 512)
    assert out[int(30 * 4.8), int(45 * 5.12)] == 255 and out[5, 5] == 0


def test_empty_mask_is_an_error(tmp_path):
    p = _mask_png(tmp_path, np.zeros((300, 451), np.uint8), "blank.png")
    with pytest.raises(MaskError, match="empty"):
        load_mask(p, (451, 300))
    assert not load_mask(p).any()  # without a photo to check against it is just returned
