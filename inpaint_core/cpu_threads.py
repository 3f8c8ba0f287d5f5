"""How many CPUs this process may use, and how many torch threads a CPU generation runs on.

Why one place: on the CPU the thread count is part of the picture (torch's kernels split their
sums by thread, so 1 and 2 threads differ by a level in a few pixels). The studio, ``run``,
``compare``, ``batch`` and the service must all pick the same count for a request that names
none, or the same seed gives a slightly different picture at each front door. Each output
records the count it was made with (``options.cpu_threads``), so a re-run from its PNG is exact
on any machine.
"""

from __future__ import annotations

import os

#: Overrides the default thread count everywhere (``OMP_NUM_THREADS`` is honoured too).
THREADS_ENV = "INPAINT_STUDIO_TORCH_THREADS"


def available_cpus() -> int:
    """CPUs this process may run on (its affinity where the OS says, else all)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def default_cpu_threads() -> int:
    """Torch threads for a CPU generation whose request names none: ``$INPAINT_STUDIO_TORCH_THREADS``,
    else ``$OMP_NUM_THREADS``, else all CPUs but one.

    All but one: the studio's window thread always finds a free core, and on a machine other
    programs keep busy fewer threads are steadier (measured on 2 cores, ``bench/responsiveness.py``:
    the tiny model's 100 steps took 1.7 s every time on 1 thread and 4.7 to 43 s on 2, OpenMP
    threads waiting for each other at every barrier; idle, 2 threads were ~12 % faster). The CLI,
    the batch command and the service use the same rule so their pictures match the studio's.
    """
    for var in (THREADS_ENV, "OMP_NUM_THREADS"):
        wanted = os.environ.get(var, "").strip()
        if wanted.isdigit() and int(wanted) > 0:
            return int(wanted)
    return max(1, available_cpus() - 1)
