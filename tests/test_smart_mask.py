"""Smart masks (inpaint_core.smart_mask) with a tiny random-weight SamModel built here, saved and
loaded like a real one, through the real SamProcessor path."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import data

from inpaint_core.errors import InpaintError, ModelError
from inpaint_core.smart_mask import Click, SmartMasker


@pytest.fixture(scope="module")
def tiny_sam_dir(tmp_path_factory):
    from transformers import SamConfig, SamModel, SamProcessor
    from transformers.models.sam.configuration_sam import (
        SamMaskDecoderConfig,
        SamPromptEncoderConfig,
        SamVisionConfig,
    )
    from transformers.models.sam.image_processing_pil_sam import SamImageProcessorPil

    torch.manual_seed(0)
    config = SamConfig(
        vision_config=SamVisionConfig(
            hidden_size=32,
            output_channels=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            image_size=64,
            patch_size=8,
            window_size=4,
            global_attn_indexes=(1,),
            mlp_dim=64,
            num_pos_feats=16,
        ),
        prompt_encoder_config=SamPromptEncoderConfig(
            hidden_size=32, image_size=64, patch_size=8, mask_input_channels=4
        ),
        mask_decoder_config=SamMaskDecoderConfig(
            hidden_size=32,
            mlp_dim=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            iou_head_hidden_dim=32,
        ),
    )
    folder = tmp_path_factory.mktemp("tiny-sam") / "tiny-sam"
    SamModel(config).save_pretrained(folder)
    processor = SamProcessor(
        image_processor=SamImageProcessorPil(
            size={"longest_edge": 64}, pad_size={"height": 64, "width": 64}
        )
    )
    processor.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def photo():
    return np.ascontiguousarray(data.astronaut()[:300, :200])


def test_a_click_gives_a_photo_sized_mask_and_reuses_the_embedding(tiny_sam_dir, photo):
    masker = SmartMasker(model=str(tiny_sam_dir))
    masker.load()
    calls = []
    original = masker._model.get_image_embeddings

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    masker._model.get_image_embeddings = counted
    mask = masker.mask(photo, [Click(50, 60)])
    assert mask.shape == photo.shape[:2] and mask.dtype == np.uint8
    assert set(np.unique(mask)) <= {0, 255}
    again = masker.mask(photo, [Click(50, 60)])
    assert np.array_equal(mask, again)
    refined = masker.mask(photo, [Click(50, 60), Click(150, 250, positive=False)])
    assert refined.shape == mask.shape
    assert len(calls) == 1  # adding points reuses the photo's embedding
    masker.mask(np.ascontiguousarray(photo[::-1]), [Click(50, 60)])
    assert len(calls) == 2  # another photo is embedded anew


def test_the_mask_follows_the_model_through_the_processor(tiny_sam_dir, photo):
    """The mask is SAM's best-scored candidate, post-processed to the photo's size."""
    from transformers import SamModel, SamProcessor

    model = SamModel.from_pretrained(tiny_sam_dir).eval()
    proc = SamProcessor.from_pretrained(tiny_sam_dir)
    inputs = proc(
        images=photo, input_points=[[[[10.0, 20.0]]]], input_labels=[[[1]]], return_tensors="pt"
    )
    with torch.no_grad():
        out = model(**inputs, multimask_output=True)
    masks = proc.image_processor.post_process_masks(
        out.pred_masks, inputs["original_sizes"], inputs["reshaped_input_sizes"]
    )[0]
    expected = masks[0, int(out.iou_scores[0, 0].argmax())].numpy()
    ours = SmartMasker(model=model, processor=proc).mask(photo, [Click(10, 20)])
    assert np.array_equal(ours > 0, expected)


def test_bad_input_is_a_clear_error(tiny_sam_dir, photo, tmp_path):
    masker = SmartMasker(model=str(tiny_sam_dir))
    with pytest.raises(InpaintError, match="at least one point"):
        masker.mask(photo, [])
    with pytest.raises(InpaintError, match="on the object"):
        masker.mask(photo, [Click(5, 5, positive=False)])
    with pytest.raises(InpaintError, match="outside"):
        masker.mask(photo, [Click(500, 5)])
    with pytest.raises(InpaintError, match="RGB"):
        masker.mask(photo[..., 0], [Click(5, 5)])
    with pytest.raises(ModelError, match="not a Segment Anything model"):
        SmartMasker(model=str(tmp_path)).mask(photo, [Click(5, 5)])
    with pytest.raises(ModelError, match="need a Segment Anything model"):
        SmartMasker()
    # a typed folder that is not there: said so (not the hub's "repo id must be..." message)
    with pytest.raises(ModelError, match="no such folder"):
        SmartMasker(model=str(tmp_path / "nothere")).mask(photo, [Click(5, 5)])


def test_cli_smart_mask_writes_a_mask_run_can_read(tiny_sam_dir, photo, tmp_path, capsys):
    import json

    from PIL import Image

    from inpaint_core import cli
    from inpaint_core.imaging import load_mask

    src = tmp_path / "p.png"
    Image.fromarray(photo).save(src)
    out = tmp_path / "mask.png"
    args = ["smart-mask", "--image", str(src), "--model", str(tiny_sam_dir), "--out", str(out)]
    assert cli.main([*args, "--point", "50,60", "--not", "150,250", "--grow", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["path"] == str(out) and 0 <= report["coverage"] <= 1
    mask = load_mask(str(out), (photo.shape[1], photo.shape[0]))
    assert mask.shape == photo.shape[:2]
    assert cli.main(args) == 2
    assert "--point" in capsys.readouterr().err
    assert cli.main([*args, "--point", "900,5"]) == 2
    assert "outside" in capsys.readouterr().err
