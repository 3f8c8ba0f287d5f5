"""Entry point of the frozen app: offline by default, freeze_support first."""

import multiprocessing
import os
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    exe = os.path.basename(sys.executable).lower()
    if "cli" in exe or (len(sys.argv) > 1 and sys.argv[1] in ("run", "models", "compare")):
        from inpaint_core.cli import main as cli_main

        raise SystemExit(cli_main())
    from desktop.app import main as gui_main

    raise SystemExit(gui_main())
