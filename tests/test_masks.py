import numpy as np
import pytest

from inpaint_core import masks
from inpaint_core.errors import MaskError


def _square(size=64, box=(20, 20, 40, 40)):
    m = np.zeros((size, size), np.uint8)
    m[box[1] : box[3], box[0] : box[2]] = 255
    return m


def test_mask_from_grey_rgb_and_alpha():
    grey = _square()
    assert np.array_equal(masks.mask_from_image(grey), grey)
    rgb = np.zeros((64, 64, 3), np.uint8)
    rgb[20:40, 20:40, 0] = 200  # a red brush is paint too
    assert (masks.mask_from_image(rgb)[20:40, 20:40] == 200).all()
    alpha = 255 - grey  # transparent hole = fill
    m = masks.mask_from_image(np.zeros((64, 64, 3), np.uint8), alpha)
    assert np.array_equal(m, grey)


def test_alpha_source_without_alpha_is_an_error():
    with pytest.raises(MaskError, match="transparency"):
        masks.mask_from_image(np.zeros((4, 4, 3), np.uint8), None, source="alpha")


def test_binarize_grow_shrink_invert_bbox():
    m = _square()
    soft = (m // 2).astype(np.uint8)
    assert set(np.unique(masks.binarize(soft, 100))) == {0, 255}
    g = masks.grow(m, 3)
    assert masks.bbox(g) == masks.BBox(17, 17, 43, 43)
    s = masks.shrink(m, 3)
    assert masks.bbox(s) == masks.BBox(23, 23, 37, 37)
    assert np.array_equal(masks.grow(m, -3), s)
    assert np.array_equal(masks.invert(masks.invert(m)), m)
    assert masks.bbox(np.zeros((5, 5), np.uint8)) is None


def test_feather_softens_edges_only():
    f = masks.feather(_square(), 6)
    assert f[30, 30] == 255 and f[0, 0] == 0
    assert 0 < f[30, 20] < 255


def test_validate_mask_size_and_empty():
    with pytest.raises(MaskError, match=r"mask size 64x64 does not match the photo size 128x96"):
        masks.validate_mask(_square(), (128, 96))
    resized = masks.validate_mask(_square(), (128, 96), resize=True)
    assert resized.shape == (96, 128)
    with pytest.raises(MaskError, match="empty"):
        masks.validate_mask(np.zeros((8, 8), np.uint8), (8, 8))
    with pytest.raises(MaskError, match="single-channel"):
        masks.validate_mask(np.zeros((8, 8, 3), np.uint8), (8, 8))


def test_a_mask_of_the_photo_turned_a_quarter_is_named_as_such():
    """A phone photo shown upright by its EXIF orientation, beside a mask drawn on its stored
    pixels: the refusal says what happened, and only a caller with a flag names it."""
    mask = np.full((64, 96), 255, np.uint8)
    with pytest.raises(MaskError) as plain:
        masks.validate_mask(mask, (64, 96))
    assert "turned a quarter" in str(plain.value) and "EXIF" in str(plain.value)
    assert "--resize-mask" not in str(plain.value)
    with pytest.raises(MaskError) as other:
        masks.validate_mask(
            np.full((10, 20), 255, np.uint8), (64, 96), resize_hint="--flag does it"
        )
    assert "turned" not in str(other.value) and "--flag does it" in str(other.value)


def test_the_cli_names_its_resize_flag_and_the_exif_turn(tmp_path, capsys):
    from PIL import Image

    from inpaint_core import cli

    photo = Image.fromarray(np.zeros((40, 60, 3), np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown portrait
    photo.save(tmp_path / "p.jpg", exif=exif)
    mask = np.zeros((40, 60), np.uint8)
    mask[10:20, 10:20] = 255
    Image.fromarray(mask).save(tmp_path / "m.png")
    argv = ["run", "--image", str(tmp_path / "p.jpg"), "--mask", str(tmp_path / "m.png")]
    assert cli.main([*argv, "--out", str(tmp_path / "o.png"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "60x40" in err[0] and "turned a quarter" in err[0]
    assert "--resize-mask" not in err[0]  # scaling a turned mask would squash it
    Image.fromarray(mask[:, :50]).save(tmp_path / "m.png")  # merely another size
    assert cli.main([*argv, "--out", str(tmp_path / "o.png"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "turned" not in err[0] and "--resize-mask" in err[0]
