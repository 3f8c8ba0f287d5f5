#!/usr/bin/env bash
# Smoke test of the frozen app (after `pyinstaller packaging/inpaint_studio.spec`):
# the CLI fills the sample with the classical engine and with a tiny random-weight model, offline.
set -euo pipefail
DIST="${1:-dist/inpaint-studio}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$DIST/inpaint-studio-cli" run --image "$ROOT/resources/sample.jpg" --mask "$ROOT/resources/sample_mask.png" \
    --out "$TMP/classical.png" --json
"$ROOT/.venv/bin/python" -c "from pathlib import Path; from inpaint_core.testing import save_tiny_inpaint_model as s; s(Path('$TMP/tiny'))"
"$DIST/inpaint-studio-cli" run --image "$ROOT/resources/sample.jpg" --mask "$ROOT/resources/sample_mask.png" \
    --model "$TMP/tiny" --steps 3 --target-size 64 --seeds 1,2 --out "$TMP/diffusion" --json
"$DIST/inpaint-studio-cli" models
echo "frozen app smoke test: OK"
