"""Rebuild the bundled CLIP tokenizer (vocab.json + merges.txt) offline.

Source: OpenAI CLIP's BPE table ``bpe_simple_vocab_16e6.txt.gz`` (MIT licence), as shipped inside the
``open_clip_torch`` wheel on PyPI (``open_clip/bpe_simple_vocab_16e6.txt.gz``). The vocabulary is
built exactly as CLIP's own ``SimpleTokenizer`` builds it (byte symbols, their ``</w>`` forms, the
first 48,894 merges, then ``<|startoftext|>`` and ``<|endoftext|>``: 49,408 tokens), which is the
table Stable Diffusion 1.x's text encoder was trained with.

Usage::

    pip download open-clip-torch==3.3.0 --no-deps -d /tmp/oc
    python tools/build_clip_tokenizer.py /tmp/oc/open_clip_torch-3.3.0-py3-none-any.whl \
        inpaint_core/configs/sd15-inpainting/tokenizer
"""

from __future__ import annotations

import gzip
import json
import sys
import zipfile
from pathlib import Path

N_MERGES = 49152 - 256 - 2


def bytes_to_unicode() -> dict[int, str]:
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs], strict=True))


def build(bpe_gz: bytes, dest: Path) -> None:
    lines = gzip.decompress(bpe_gz).decode("utf-8").split("\n")
    merges = lines[1 : N_MERGES + 1]
    assert len(merges) == N_MERGES
    vocab = list(bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab]
    vocab += ["".join(m.split()) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    assert len(vocab) == 49408 and len(set(vocab)) == 49408
    dest.mkdir(parents=True, exist_ok=True)
    encoder = {tok: i for i, tok in enumerate(vocab)}
    (dest / "vocab.json").write_text(json.dumps(encoder, ensure_ascii=False), encoding="utf-8")
    (dest / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n", encoding="utf-8")


def main() -> None:
    wheel, dest = Path(sys.argv[1]), Path(sys.argv[2])
    with zipfile.ZipFile(wheel) as zf:
        data = zf.read("open_clip/bpe_simple_vocab_16e6.txt.gz")
    build(data, dest)
    print(f"wrote {dest}/vocab.json and {dest}/merges.txt")


if __name__ == "__main__":
    main()
