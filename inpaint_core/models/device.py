"""Device and dtype policy: which accelerator and which precision a model runs in.

* ``auto`` device: CUDA if available, else Apple MPS, else the CPU.
* CUDA: float16 by default, with the VAE kept in float32 (an fp16 VAE can overflow into NaNs,
  i.e. black pictures); bfloat16 and float32 on request.
* MPS: float32 (float16 gives black images there, diffusers#4480).
* CPU: float32 by default; bfloat16 on request (``--dtype bfloat16``, ~1.6x faster UNet steps on
  a CPU with bf16 support); float16 is refused (missing/slow CPU kernels).

Bad values raise :class:`~inpaint_core.errors.RequestValidationError` naming ``device``/``dtype``,
the names of the CLI flags.
"""

from __future__ import annotations

import torch

from ..errors import RequestValidationError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "cuda:N", "mps")
DTYPE_CHOICES = ("auto", "float32", "float16", "bfloat16")

_DTYPE_ALIASES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "float": torch.float32,
    "full": torch.float32,
    "float16": torch.float16,
    "fp16": torch.float16,
    "half": torch.float16,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
}


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def resolve_device(device: str | None = None) -> str:
    """``None``/``"auto"`` → ``"cuda"``, else ``"mps"``, else ``"cpu"``; explicit names are checked.

    Returns a normalised torch device string (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``).
    """
    name = (device or "auto").strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if _mps_available():
            return "mps"
        return "cpu"
    if name == "gpu":
        name = "cuda"
    if name == "cpu":
        return "cpu"
    if name == "mps":
        if not _mps_available():
            raise RequestValidationError(
                "device",
                "mps (Apple GPU) was asked for but this machine/PyTorch has no MPS support",
            )
        return "mps"
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            build = (
                "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}"
            )
            raise RequestValidationError(
                "device",
                f"{name} was asked for but PyTorch sees no CUDA GPU (torch {torch.__version__}, "
                f"{build}). Install the CUDA build of torch (see README) or use --device cpu",
            )
        if name != "cuda":
            index_text = name.split(":", 1)[1]
            if not index_text.isdigit():
                raise RequestValidationError("device", f"bad CUDA device {device!r}: use cuda:N")
            count = torch.cuda.device_count()
            if int(index_text) >= count:
                raise RequestValidationError(
                    "device", f"{name} does not exist: this machine has {count} CUDA device(s)"
                )
        return name
    raise RequestValidationError(
        "device", f"unknown device {device!r}: use one of {', '.join(DEVICE_CHOICES)}"
    )


def parse_dtype(dtype: str | torch.dtype | None) -> torch.dtype | None:
    """A dtype name (``float16``, ``fp16``, ``half``, ``bfloat16``, ``bf16``, ``float32`` …) →
    ``torch.dtype``; ``None``/``"auto"`` → ``None`` (let the policy choose)."""
    if dtype is None:
        return None
    if isinstance(dtype, torch.dtype):
        if dtype not in (torch.float32, torch.float16, torch.bfloat16):
            raise RequestValidationError(
                "dtype", f"unsupported dtype {dtype}: use one of {', '.join(DTYPE_CHOICES)}"
            )
        return dtype
    name = str(dtype).strip().lower().removeprefix("torch.")
    if name == "auto":
        return None
    try:
        return _DTYPE_ALIASES[name]
    except KeyError:
        raise RequestValidationError(
            "dtype", f"unknown dtype {dtype!r}: use one of {', '.join(DTYPE_CHOICES)}"
        ) from None


def resolve_dtype(device: str, dtype: str | torch.dtype | None = None) -> torch.dtype:
    """The precision the UNet and text encoder run in on ``device`` (see the module docstring)."""
    chosen = parse_dtype(dtype)
    kind = device.split(":", 1)[0]
    if chosen is None:
        return torch.float16 if kind == "cuda" else torch.float32
    if chosen == torch.float16 and kind == "mps":
        raise RequestValidationError(
            "dtype", "float16 on Apple MPS gives black images (diffusers#4480): use float32"
        )
    if chosen == torch.float16 and kind == "cpu":
        raise RequestValidationError(
            "dtype",
            "float16 is not supported on the CPU (slow or missing kernels): use float32 "
            "or bfloat16",
        )
    return chosen


def vae_dtype_for(dtype: torch.dtype) -> torch.dtype:
    """The VAE runs in float32 whenever the model runs in float16 (fp16 VAEs overflow into NaNs,
    i.e. black images); bfloat16 has float32's range, so a bf16 VAE is kept (it is faster)."""
    return torch.float32 if dtype == torch.float16 else dtype


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")
