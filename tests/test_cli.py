import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from inpaint_core import cli
from inpaint_core.imaging import load_image
from inpaint_core.metadata import request_from_png_text
from inpaint_core.resources import sample_mask, sample_photo


def test_run_classical_writes_png_with_parameters(tmp_path, capsys):
    out = tmp_path / "out.png"
    code = cli.main(
        [
            "run",
            "--image",
            str(sample_photo()),
            "--mask",
            str(sample_mask()),
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["outputs"][0]["path"] == str(out)
    img = load_image(out)
    assert "parameters" in img.text and "inpaint_studio" in img.text
    req = request_from_png_text(img.text)
    assert req.engine == "classical"
    photo = load_image(sample_photo()).rgb
    mask = np.asarray(Image.open(sample_mask()))
    assert img.rgb.shape == photo.shape
    # far from the mask nothing changed; under the mask the spoon is gone (pixels changed)
    assert np.array_equal(img.rgb[:50, :50], photo[:50, :50])
    assert np.abs(img.rgb[mask > 0].astype(int) - photo[mask > 0]).mean() > 10


def test_bad_input_exits_nonzero_with_one_line(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("this is not an image")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "inpaint_core.cli",
            "run",
            "--image",
            str(bad),
            "--mask",
            str(sample_mask()),
            "--out",
            str(tmp_path / "o.png"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "notes.png" in lines[0]


@pytest.mark.parametrize(
    "args,words",
    [
        (["--steps", "0"], "steps"),
        (["--engine", "diffusion"], "needs --model"),
        (["--resize-mask-nope"], None),
    ],
)
def test_bad_flags(tmp_path, capsys, args, words):
    base = [
        "run",
        "--image",
        str(sample_photo()),
        "--mask",
        str(sample_mask()),
        "--out",
        str(tmp_path / "o.png"),
    ]
    if words is None:
        with pytest.raises(SystemExit) as info:
            cli.main(base + args)
        assert info.value.code == 2
        return
    assert cli.main(base + args) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1


def test_wrong_size_mask_names_both_sizes(tmp_path, capsys):
    small = tmp_path / "m.png"
    m = np.zeros((10, 20), np.uint8)
    m[4:6, 8:12] = 255
    Image.fromarray(m).save(small)
    args = [
        "run",
        "--image",
        str(sample_photo()),
        "--mask",
        str(small),
        "--out",
        str(tmp_path / "o.png"),
    ]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "20x10" in err and "600x400" in err
    assert cli.main(args + ["--resize-mask"]) == 0


def test_output_paths_file_or_folder(tmp_path):
    assert cli.output_paths(str(tmp_path / "a.png"), "p", [1]) == [tmp_path / "a.png"]
    many = cli.output_paths(str(tmp_path / "a.png"), "p", [1, 2])
    assert [p.name for p in many] == ["a-1-seed1.png", "a-2-seed2.png"]
    folder = cli.output_paths(str(tmp_path / "outdir"), "photo", [7, 8])
    assert [p.name for p in folder] == ["photo-1-seed7.png", "photo-2-seed8.png"]
    assert all(p.parent == tmp_path / "outdir" for p in folder)


def test_compare_classical_writes_sheet_and_cells(tmp_path, capsys):
    code = cli.main(
        [
            "compare",
            "--image",
            str(sample_photo()),
            "--mask",
            str(sample_mask()),
            "--out",
            str(tmp_path),
            "--seeds",
            "1,2",
            "--json",
            "--method",
            "telea",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert (tmp_path / "contact-sheet.png").exists()
    assert len(report["cells"]) == 2


def test_diffusion_batch_then_rerun_one_seed_from_its_png(tmp_path, capsys, tiny_model_dir):
    """A seed made in a batch is reproduced alone from the parameters stored in its PNG."""
    common = [
        "--image",
        str(sample_photo()),
        "--mask",
        str(sample_mask()),
        "--model",
        str(tiny_model_dir),
        "--steps",
        "3",
        "--target-size",
        "64",
        "--scheduler",
        "Euler a",
        "--prompt",
        "a clean saucer",
        "--json",
    ]
    assert cli.main(["run", *common, "--seeds", "11,12", "--out", str(tmp_path / "batch")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [o["seed"] for o in report["outputs"]] == [11, 12]
    second = load_image(report["outputs"][1]["path"])
    req = request_from_png_text(second.text)
    assert (
        req.seed == 12
        and req.scheduler == "Euler a"
        and req.steps == 3
        and req.model == str(tiny_model_dir)
    )
    args = [
        "run",
        "--image",
        str(sample_photo()),
        "--mask",
        str(sample_mask()),
        "--model",
        req.model,
        "--steps",
        str(req.steps),
        "--target-size",
        str(req.target_size),
        "--scheduler",
        req.scheduler,
        "--prompt",
        req.prompt,
        "--seed",
        str(req.seed),
        "--out",
        str(tmp_path / "alone.png"),
        "--json",
    ]
    assert cli.main(args) == 0
    alone = load_image(tmp_path / "alone.png")
    # the seed alone (plain flags) equals its batched self within the batch tolerance ...
    diff = np.abs(alone.rgb.astype(int) - second.rgb.astype(int)).max()
    assert diff <= 3
    # ... and re-running the PNG's full saved request reproduces it bit for bit
    from inpaint_core.engines.registry import get_engine
    from inpaint_core.inpaint import inpaint

    photo = load_image(sample_photo())
    mask = np.asarray(Image.open(sample_mask()))
    (again,) = inpaint(req, photo, mask, get_engine("diffusion", model=req.model))
    assert np.array_equal(again.composite(photo.rgb), second.rgb)
    first = load_image(report["outputs"][0]["path"])
    assert np.abs(first.rgb.astype(int) - second.rgb.astype(int)).max() > 10  # seeds differ


def test_run_with_a_url_from_a_loopback_server(tmp_path, capsys):
    import functools
    import http.server
    import threading

    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(sample_photo().parent)
    )
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{sample_photo().name}"
        out = tmp_path / "u.png"
        assert (
            cli.main(
                ["run", "--image", url, "--mask", str(sample_mask()), "--out", str(out), "--quiet"]
            )
            == 0
        )
        assert load_image(out).size == (600, 400)
        missing = url.replace("sample.jpg", "nope.jpg")
        assert (
            cli.main(["run", "--image", missing, "--mask", str(sample_mask()), "--out", str(out)])
            == 2
        )
        assert "404" in capsys.readouterr().err
    finally:
        server.shutdown()
