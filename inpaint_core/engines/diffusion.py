"""The diffusion engine: Stable Diffusion inpainting (diffusers ``StableDiffusionInpaintPipeline``).

It fills the *working crop* (already on the model grid, multiples of 8) for every seed of the
request. What it adds over a bare pipeline call, and why:

* **Batched seeds equal single seeds.** Given a list of generators, diffusers VAE-encodes the
  masked image (and, for strength < 1, the photo) once, *sampling* with ``generator[0]`` only, so
  seed 6 in a batch [5, 6] is not the picture seed 6 gives alone (FIELD_NOTES). We encode both
  ourselves with the latent *mean* (``latent_dist.mode() * scaling_factor``), pass
  ``masked_image_latents=``, and draw each seed's starting noise from its own generator — noised
  with the photo's latents for strength < 1, since the pipeline takes ``latents=`` as pure noise.
  The encodings are cached, so a sweep over seeds/schedulers encodes once.
* **Prompt embeddings are cached** across jobs (prompt, negative prompt, model) and passed as
  ``prompt_embeds=``/``negative_prompt_embeds=``.
* **We decode the latents ourselves** (``output_type="latent"``): the VAE may run in another dtype
  than the UNet (fp32 VAE next to an fp16 UNet on CUDA), a NaN decode is retried with the VAE
  upcast to float32, and the safety checker runs on a copy so a flagged image is *kept and flagged*
  (``EngineOutput.nsfw_flagged``), never silently blacked out: the GUI hides it behind a reveal
  option, the CLI reports it. When the user turned the checker off it does not run at all.
* **Progress, previews, cancel** from ``callback_on_step_end``: one ``progress`` event per step, a
  throttled ``preview`` (linear latent->RGB, no extra weights), and a cancel raises
  :class:`JobCancelled` from the callback, i.e. within one UNet step, with no VAE decode after it.
* **Out of memory** (CUDA/MPS): empty the cache, go one rung down the memory ladder
  (:mod:`inpaint_core.models.memory`; at least attention slicing + VAE slicing/tiling), retry
  once one image at a time, then a clear :class:`InpaintError`.
* **Families** (``[models]`` hooks): SD 1.x/2.x and SDXL run through their diffusers pipelines with
  the conditioning of :mod:`.family_support`; FLUX.1 Fill through our own loop
  (:mod:`.flux_fill`); LoRAs are switched per request (:class:`inpaint_core.lora.LoraSet`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import schedulers
from ..cpu_threads import default_cpu_threads
from ..errors import InpaintError, JobCancelled, ModelError
from ..events import CancelToken, EngineEvent, EventCallback, ignore_events
from ..lora import LoraSet
from ..models.memory import RUNGS, apply_rung, next_rung
from ..request import InpaintRequest
from . import family_support, flux_fill, masked_content, soft_inpaint
from .base import EngineOutput
from .latent_preview import latents_to_rgb
from .registry import DIFFUSION

log = logging.getLogger(__name__)

#: Seeds per pipeline call by default: up to four in one batched call (a list of generators),
#: ~1.3x faster than one by one at real sizes on CPU and more on a GPU (bench/batch_seeds.py).
#: Kernels round per batch size (on CPU: latents ~1e-5 apart, at most 1 level in a few pixels),
#: so a seed made in a batch is within a level of the seed made alone, not bit for bit; each
#: output records the batch it was made in (``batch_seeds`` + ``max_batch``) and a replay of
#: its parameters re-makes that batch, so every PNG reproduces exactly. ``max_batch=1`` (engine
#: argument or ``options.max_batch``) makes each seed alone.
DEFAULT_MAX_BATCH = 4
#: a PNG recording ``batch_seeds`` without ``max_batch`` was made in chunks of this many
_LEGACY_MAX_BATCH = 4
_EMBED_CACHE_SIZE = 16
_LATENT_CACHE_SIZE = 8


@dataclass
class _Loaded:
    """Stand-in for :class:`inpaint_core.models.LoadedModel` (same attributes)."""

    pipe: Any
    name: str
    device: str
    dtype: torch.dtype
    has_safety_checker: bool


def loaded_from_pipeline(pipe: Any, name: str = "in-memory pipeline") -> Any:
    """Wrap an already built pipeline (e.g. :func:`inpaint_core.testing.build_tiny_inpaint_pipeline`)."""
    return _Loaded(
        pipe=pipe,
        name=name,
        device=str(pipe.device),
        dtype=family_support.denoiser(pipe).dtype,
        has_safety_checker=getattr(pipe, "safety_checker", None) is not None,
    )


def _load_model(
    model: str | Path,
    device: str | None,
    dtype: str | None,
    on_progress: Any,
    allow_non_inpainting: bool = False,
    memory: str | None = None,
) -> Any:
    """Load through :mod:`inpaint_core.models` (the real path: folders, HF cache, single files)."""
    try:
        from ..models import load_pipeline
    except ImportError:  # models module not available yet: plain diffusers folder only
        load_pipeline = None
    if load_pipeline is not None:
        return load_pipeline(
            model,
            device=device,
            dtype=dtype,
            on_progress=on_progress,
            allow_non_inpainting=allow_non_inpainting,
            memory=memory,
        )
    from diffusers import StableDiffusionInpaintPipeline

    folder = Path(model)
    if not (folder / "model_index.json").is_file():
        raise ModelError(f"{model}: not a diffusers model folder (no model_index.json)")
    dev = device or ("cuda" if torch.cuda.is_available() else "cpu")
    pipe = StableDiffusionInpaintPipeline.from_pretrained(folder, local_files_only=True).to(dev)
    pipe.set_progress_bar_config(disable=True)
    return loaded_from_pipeline(pipe, folder.name)


def _is_oom(exc: BaseException) -> bool:
    if isinstance(exc, torch.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        h.update(str((a.shape, a.dtype.str)).encode())
        h.update(np.ascontiguousarray(a).data)
    return h.hexdigest()


class _LRU(OrderedDict):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def get_or(self, key: Any, make: Any) -> Any:
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = make()
        self[key] = value
        while len(self) > self.size:
            self.popitem(last=False)
        return value


class DiffusionEngine:
    """Stable Diffusion inpainting on a local model; the model stays loaded between jobs.

    ``DiffusionEngine(model="path/or/repo-id", device=None, dtype=None)`` loads lazily on the first
    :meth:`run` (with progress events); ``DiffusionEngine(loaded=LoadedModel)`` uses a loaded one.
    ``preview``: send cheap per-step previews (at most one per ``preview_interval_s``).
    ``max_batch``: seeds per pipeline call (bigger batches are split; ``options.max_batch``).
    """

    name = "diffusion"
    capabilities = DIFFUSION
    native_resolution = DIFFUSION.native_resolution
    #: takes the feather band encoded in the mask (engines/soft_inpaint.py: soft inpainting)
    soft_masks = True

    def __init__(
        self,
        model: str | Path | None = None,
        *,
        device: str | None = None,
        dtype: str | None = None,
        loaded: Any = None,
        preview: bool = True,
        preview_interval_s: float = 0.25,
        max_batch: int = DEFAULT_MAX_BATCH,
        allow_non_inpainting: bool = False,
        memory: str | None = None,
        cpu_threads: int | None = None,
    ) -> None:
        if model is None and loaded is None:
            raise ModelError("the diffusion engine needs a model: give model=PATH|REPO_ID")
        self.model = model
        self.device = device
        self.dtype = dtype
        self.preview = preview
        self.preview_interval_s = preview_interval_s
        self.max_batch = max(1, int(max_batch))
        # [models] a plain (4-channel) SD/SDXL model runs as masked img2img only when allowed
        self.allow_non_inpainting = bool(allow_non_inpainting)
        self.memory = memory  # [models] memory-ladder rung (None/"auto": from the VRAM)
        #: torch CPU threads for a request that names none (None: default_cpu_threads(), the
        #: count every front door uses, so the same seed is the same picture at each of them)
        self.cpu_threads = cpu_threads
        self._loaded = loaded
        self._embeds = _LRU(_EMBED_CACHE_SIZE)
        self._latents = _LRU(_LATENT_CACHE_SIZE)
        self._memory_savers = False
        self._loras = LoraSet()  # [models] LoRAs loaded on this engine's pipeline

    # -- model ------------------------------------------------------------------------------
    @property
    def is_loaded(self) -> bool:
        return self._loaded is not None

    @property
    def model_name(self) -> str:
        if self._loaded is not None:
            return str(self._loaded.name)
        return Path(str(self.model)).name if self.model is not None else ""

    def load(self, on_event: EventCallback = ignore_events) -> Any:
        """Load the model now (no-op when loaded). Sends ``progress`` events while loading."""
        if self._loaded is not None:
            return self._loaded
        what = str(self.model)
        on_event(
            EngineEvent("progress", progress=0.0, message=f"loading model {what}", phase="load")
        )

        def on_progress(*args: Any, **kwargs: Any) -> None:
            # tolerant of the loader's callback shape: (fraction[, message]) or (message) or kwargs
            fraction = kwargs.get("progress", kwargs.get("fraction"))
            message = kwargs.get("message")
            for a in args:
                if isinstance(a, (int, float)) and not isinstance(a, bool) and fraction is None:
                    fraction = float(a)
                elif isinstance(a, str) and message is None:
                    message = a
            on_event(
                EngineEvent(
                    "progress",
                    progress=float(fraction or 0.0),
                    message=message or f"loading model {what}",
                    phase="load",
                )
            )

        loaded = _load_model(
            self.model,
            self.device,
            self.dtype,
            on_progress,
            self.allow_non_inpainting,
            self.memory,
        )
        family_support.check_runnable(loaded, self.allow_non_inpainting)  # [models]
        loaded.pipe.set_progress_bar_config(disable=True)
        self._loaded = loaded
        self._embeds.clear()
        self._latents.clear()
        on_event(
            EngineEvent(
                "progress", progress=1.0, message=f"model {loaded.name} loaded", phase="load"
            )
        )
        return loaded

    def unload(self) -> None:
        """Drop the model (frees its memory once nothing else holds it)."""
        self._loaded = None
        self._embeds.clear()
        self._latents.clear()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    # -- caches -----------------------------------------------------------------------------
    def _model_key(self, pipe: Any) -> tuple[Any, ...]:
        """What cached embeddings and latents depend on besides their inputs; on the CPU the
        thread count too (kernels round per thread count: a re-run on another count must not
        reuse latents made on this one)."""
        device = str(pipe.device)
        threads = torch.get_num_threads() if device == "cpu" else None
        return (
            self.model_name,
            id(pipe),
            device,
            str(family_support.denoiser(pipe).dtype),
            threads,
        )

    def encode_prompt(
        self, prompt: str, negative_prompt: str, cfg: bool, lora_key: Any = ()
    ) -> family_support.PromptKwargs:
        """The pipeline's prompt arguments for a batch of one (``prompt_embeds``, and per family
        ``negative_prompt_embeds``, ``pooled_prompt_embeds`` …), cached by prompt, negative,
        model and LoRA set (a LoRA may change the text encoders)."""
        pipe = self._loaded.pipe
        family = family_support.model_family(self._loaded)
        key = (
            self._model_key(pipe),
            id(pipe.text_encoder),
            prompt,
            negative_prompt,
            cfg,
            lora_key,
        )
        return self._embeds.get_or(
            key,
            lambda: family_support.encode_prompt(pipe, family, prompt, negative_prompt, cfg),
        )

    def _vae_encode(self, pixels: torch.Tensor) -> torch.Tensor:
        """Pixels in [-1, 1] (N, 3, H, W) -> scaled latent *mean* (deterministic, no sampling)."""
        vae = self._loaded.pipe.vae
        with torch.inference_mode():
            dist = vae.encode(pixels.to(device=vae.device, dtype=vae.dtype)).latent_dist
            return dist.mode() * vae.config.scaling_factor

    def _image_latents(
        self, image: np.ndarray, mask: np.ndarray, need_photo: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(masked-image latents, photo latents or None), cached per (model, image, mask)."""
        pipe = self._loaded.pipe
        pixels = torch.tensor(image).permute(2, 0, 1)[None].float() / 255.0 * 2.0 - 1.0
        keep = torch.from_numpy(mask < 128)[None, None].float()  # the pipeline's 0.5 threshold
        img_key = _digest(image)
        masked = self._latents.get_or(
            ("masked", self._model_key(pipe), img_key, _digest(mask)),
            lambda: self._vae_encode(pixels * keep),
        )
        photo = None
        if need_photo:
            photo = self._latents.get_or(
                ("photo", self._model_key(pipe), img_key), lambda: self._vae_encode(pixels)
            )
        return masked, photo

    # -- the run ----------------------------------------------------------------------------
    def run(
        self,
        request: InpaintRequest,
        image: np.ndarray,
        mask: np.ndarray,
        on_event: EventCallback = ignore_events,
        cancel: CancelToken | None = None,
    ) -> list[EngineOutput]:
        cancel = cancel or CancelToken()
        _check_inputs(image, mask)
        # -- soft inpainting: 1..254 in the mask = the feather band (engines/soft_inpaint.py)
        mask, change = soft_inpaint.split_mask(mask)
        loaded = self.load(on_event)
        cancel.raise_if_cancelled()
        # On the CPU the thread count is part of the picture (kernels split their sums by
        # thread): a re-run takes the one its output recorded, and every output records its own.
        # A request naming none runs on the front doors' common default, never on whatever the
        # calling thread happens to have (the studio, run and the service would each differ).
        on_cpu = torch.device(loaded.pipe._execution_device).type == "cpu"
        wanted = None
        if on_cpu:
            wanted = request.options.cpu_threads or self.cpu_threads or default_cpu_threads()
        with _torch_threads(wanted) as threads:
            outputs = self._run_loaded(loaded, request, image, mask, change, on_event, cancel)
        if on_cpu:
            for out in outputs:
                out.info["cpu_threads"] = threads
        return outputs

    def _run_loaded(
        self,
        loaded: Any,
        request: InpaintRequest,
        image: np.ndarray,
        mask: np.ndarray,
        change: np.ndarray | None,
        on_event: EventCallback,
        cancel: CancelToken,
    ) -> list[EngineOutput]:
        pipe = loaded.pipe
        req = request.resolved()
        seeds = list(req.seeds or ())
        family = family_support.model_family(loaded)  # [models]
        if family == "flux":  # Flux keeps its own flow-matching scheduler
            scheduler = flux_fill.FLUX_SCHEDULER
        else:
            scheduler = schedulers.set_scheduler(pipe, req.scheduler)
        opts = req.options
        max_batch = max(1, int(opts.max_batch if opts.max_batch is not None else self.max_batch))
        preview = bool(opts.preview if opts.preview is not None else self.preview)
        # One cell of a batch re-run from its saved parameters (``options.batch_seeds``, set by
        # compare sweeps): run the batch it was made in and keep its output. CPU kernels round
        # per batch size, so a batch of one would be off by ±1 level (see inpaint.inpaint).
        keep_seed = None
        batch_seeds = [int(s) for s in opts.batch_seeds or ()]
        if len(seeds) == 1 and seeds[0] in batch_seeds:
            # the chunk it was made in: its batch at the recorded max_batch (older files: 4)
            size = max(1, int(opts.max_batch or _LEGACY_MAX_BATCH))
            index = batch_seeds.index(seeds[0]) // size * size
            keep_seed, seeds, max_batch = seeds[0], batch_seeds[index : index + size], size

        # [models] family-specific conditioning; a plain 4-channel UNet (masked img2img) blends
        # the photo's latents back outside the mask, so it always needs them
        cfg = family_support.uses_cfg(pipe, family, req.guidance_scale)
        lora_key = self._loras.apply(pipe, family, req.loras)  # [models] exactly req.loras active
        embeds = self.encode_prompt(req.prompt, req.negative_prompt, cfg, lora_key)
        img2img = not family_support.is_inpainting_model(loaded)
        mode = req.effective_masked_content()
        start_latents = None
        if family == "flux":
            key = (self._model_key(pipe), _digest(image), _digest(mask))
            masked_latents, photo_latents = flux_fill.conditioning(self, image, mask, key), None
            change = None  # masked content and soft inpainting: the SD families' latent paths
        else:
            # -- masked content: what the model starts from (engines/masked_content.py)
            from_start = req.strength < 1.0 or mode != "original"
            masked_latents, photo_latents = self._image_latents(
                image, mask, (from_start and mode != "fill") or change is not None or img2img
            )
            start_latents = photo_latents if from_start else None
            if from_start and mode == "fill":
                start_latents = self._fill_latents(image, mask)
        height, width = image.shape[:2]
        ctx = _RunContext(
            engine=self,
            req=req,
            image=image,
            mask=mask,
            embeds=embeds,
            masked_latents=masked_latents,
            photo_latents=photo_latents,
            start_latents=start_latents,
            mode=mode,
            change=change,
            img2img=img2img,
            family=family,
            on_event=on_event,
            cancel=cancel,
            preview=preview,
            n_images=len(seeds),
        )
        t0 = time.perf_counter()
        outputs: list[EngineOutput] = []
        try:
            for start in range(0, len(seeds), max_batch):
                chunk = seeds[start : start + max_batch]
                outputs.extend(self._chunk_with_oom_retry(ctx, chunk, len(outputs)))
        except BaseException:
            schedulers.forget_scheduler(pipe)  # a half-run scheduler is not reused
            raise
        seconds = time.perf_counter() - t0
        for out in outputs:
            out.info.update(
                scheduler=scheduler,
                steps=req.steps,
                model=loaded.name,
                device=str(pipe.device),
                dtype=str(family_support.denoiser(pipe).dtype).removeprefix("torch."),
                size=(width, height),
                seconds=seconds,
                loras=[list(k) for k in lora_key],
                memory=getattr(self._loaded, "memory", None),  # the memory-ladder rung
            )
        if keep_seed is not None:
            outputs = [next(o for o in outputs if o.seed == keep_seed)]
        return outputs

    def _chunk_with_oom_retry(
        self, ctx: _RunContext, seeds: list[int], done: int
    ) -> list[EngineOutput]:
        try:
            made = self._run_chunk(ctx, seeds, done)
            if len(seeds) > 1:  # batched: rounds per batch size, so each output records its batch
                for out in made:
                    out.info["batch_seeds"] = [int(s) for s in seeds]
            return made
        except (JobCancelled, InpaintError):
            raise
        except Exception as exc:
            if not _is_oom(exc) or self._memory_savers:
                if _is_oom(exc):
                    raise InpaintError(_oom_message(ctx, len(seeds))) from exc
                raise
            log.warning("out of memory; retrying with attention slicing and VAE tiling")
        rung = self._enable_memory_savers()
        ctx.on_event(
            EngineEvent("progress", message=f"out of memory: retrying with memory setting {rung}")
        )
        outputs: list[EngineOutput] = []
        try:
            for i, seed in enumerate(seeds):
                outputs.extend(self._run_chunk(ctx, [seed], done + i))
        except (JobCancelled, InpaintError):
            raise
        except Exception as exc:
            if _is_oom(exc):
                raise InpaintError(_oom_message(ctx, 1)) from exc
            raise
        return outputs

    def _enable_memory_savers(self) -> str:
        """[models] One rung down the memory ladder (at least attention slicing + VAE tiling)."""
        pipe = self._loaded.pipe
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        current = getattr(self._loaded, "memory", "full")
        if RUNGS.index(current) < RUNGS.index("tiled"):
            target = "tiled"
        else:
            target = next_rung(current) or current
        apply_rung(pipe, target, str(getattr(self._loaded, "device", pipe.device)))
        self._loaded.memory = target
        self._memory_savers = True
        return target

    def _run_chunk(self, ctx: _RunContext, seeds: list[int], done: int) -> list[EngineOutput]:
        from PIL import Image

        pipe = self._loaded.pipe
        req = ctx.req
        ctx.cancel.raise_if_cancelled()
        if ctx.family == "flux":  # [models] our own Fill loop (see flux_fill)
            return flux_fill.run_chunk(self, ctx, seeds, _StepCallback(ctx, done, len(seeds)))
        device = pipe._execution_device  # [models] where it runs (also under CPU offload)
        dtype = family_support.denoiser(pipe).dtype
        height, width = ctx.image.shape[:2]
        n = len(seeds)
        # one CPU generator per seed: the same seed gives the same noise on any device
        generators = [torch.Generator("cpu").manual_seed(int(s)) for s in seeds]
        shape = (1, pipe.vae.config.latent_channels, height // 8, width // 8)
        noise = torch.cat(
            [torch.randn(shape, generator=g, dtype=torch.float32) for g in generators]
        )
        noise = noise.to(device=device, dtype=dtype)
        latent_hw = (height // 8, width // 8)
        if ctx.start_latents is not None:
            start = masked_content.start_latents(
                ctx.mode,
                ctx.start_latents,
                masked_content.latent_mask(
                    ctx.mask, latent_hw, ctx.start_latents.device, ctx.start_latents.dtype
                ),
                [int(s) for s in seeds],
            )
            latents = self._noised_photo_latents(start, noise, req, n)
        else:
            latents = noise
        kwargs: dict[str, Any] = family_support.repeat_for_batch(ctx.embeds, n)
        image_arg: Any = Image.fromarray(ctx.image)
        if ctx.img2img:
            # [models] masked img2img: hand the pipeline our deterministic photo latents (a
            # 4-channel tensor is taken as latents as they are), not pixels it would encode by
            # sampling with generator[0] only
            image_arg = ctx.photo_latents.to(device=device, dtype=dtype)
        soft = None
        if ctx.change is not None and ctx.photo_latents is not None:
            soft = soft_inpaint.SoftInpaintStep(
                soft_inpaint.latent_change_map(ctx.change, noise),
                ctx.photo_latents,
                noise,
            )
        callback = _StepCallback(ctx, done, n, soft)
        with torch.inference_mode():
            result = pipe(
                image=image_arg,
                mask_image=Image.fromarray(ctx.mask),
                masked_image_latents=ctx.masked_latents.to(dtype),
                latents=latents,
                height=height,
                width=width,
                strength=req.strength,
                num_inference_steps=req.steps,
                guidance_scale=req.guidance_scale,
                generator=generators,
                output_type="latent",
                callback_on_step_end=callback,
                callback_on_step_end_tensor_inputs=["latents"],
                **kwargs,
            )
        ctx.cancel.raise_if_cancelled()
        images = self._decode(result.images)
        flags = self._safety_flags(images) if req.safety_checker else [False] * n
        return [
            EngineOutput(image=img, seed=int(seed), nsfw_flagged=bool(flag))
            for img, seed, flag in zip(images, seeds, flags, strict=True)
        ]

    def _noised_photo_latents(
        self, photo: torch.Tensor, noise: torch.Tensor, req: InpaintRequest, n: int
    ) -> torch.Tensor:
        """strength < 1: the photo's latents noised to the first timestep, as the pipeline would
        (it takes ``latents=`` as pure noise and multiplies by ``init_noise_sigma``, so divide)."""
        pipe = self._loaded.pipe
        device = pipe._execution_device
        pipe.scheduler.set_timesteps(req.steps, device=device)
        timesteps, _ = pipe.get_timesteps(req.steps, req.strength, device)
        if len(timesteps) == 0:
            raise InpaintError(
                f"strength {req.strength} with {req.steps} steps leaves no denoising step: "
                "raise the strength or the steps"
            )
        t0 = timesteps[:1].repeat(n)
        photo = photo.to(device=device, dtype=noise.dtype)
        if photo.shape[0] != n:
            photo = photo.repeat(n, 1, 1, 1)
        noised = pipe.scheduler.add_noise(photo, noise, t0)
        return noised / pipe.scheduler.init_noise_sigma

    def _fill_latents(self, image: np.ndarray, mask: np.ndarray) -> torch.Tensor:
        """Latents of the classical fill of ``mask`` (masked content ``fill``), cached."""
        pipe = self._loaded.pipe

        def make() -> torch.Tensor:
            filled = masked_content.classical_fill(image, mask)
            pixels = torch.tensor(filled).permute(2, 0, 1)[None].float() / 255.0 * 2.0 - 1.0
            return self._vae_encode(pixels)

        key = ("fill", self._model_key(pipe), _digest(image), _digest(mask))
        return self._latents.get_or(key, make)

    def _decode(self, latents: torch.Tensor) -> list[np.ndarray]:
        pipe = self._loaded.pipe
        vae = pipe.vae
        decoded = self._vae_decode(latents)
        if not torch.isfinite(decoded).all():
            if vae.dtype != torch.float32:
                log.warning(
                    "VAE decode gave NaN/inf in %s; retrying with the VAE in float32", vae.dtype
                )
                vae.to(torch.float32)
                decoded = self._vae_decode(latents)
            if not torch.isfinite(decoded).all():
                hint = (
                    "the model's own output was not finite (try --dtype float32)"
                    if not torch.isfinite(latents).all()
                    else "the VAE decode was not finite even in float32"
                )
                raise InpaintError(
                    f"the model produced NaN (not-a-number) values, which would be a black image: "
                    f"{hint}"
                )
        arr = pipe.image_processor.postprocess(decoded.float(), output_type="np")
        return [np.ascontiguousarray((a * 255).round().astype(np.uint8)) for a in arr]

    def _vae_decode(self, latents: torch.Tensor) -> torch.Tensor:
        vae = self._loaded.pipe.vae
        with torch.inference_mode():
            z = latents.to(device=vae.device, dtype=vae.dtype) / vae.config.scaling_factor
            shift = getattr(vae.config, "shift_factor", None)  # [models] Flux's VAE
            if shift:
                z = z + shift
            return vae.decode(z, return_dict=False)[0]

    def _safety_flags(self, images: list[np.ndarray]) -> list[bool]:
        """Run the model's safety checker (if it ships one) on a *copy*: flag, never blacken."""
        pipe = self._loaded.pipe
        checker = getattr(pipe, "safety_checker", None)
        extractor = getattr(pipe, "feature_extractor", None)
        if checker is None or extractor is None:
            return [False] * len(images)
        batch = np.stack([img.astype(np.float32) / 255.0 for img in images])
        with torch.inference_mode():
            _, flags = pipe.run_safety_checker(batch.copy(), pipe.device, checker.dtype)
        return [bool(f) for f in (flags or [False] * len(images))]


@dataclass
class _RunContext:
    engine: DiffusionEngine
    req: InpaintRequest
    image: np.ndarray
    mask: np.ndarray
    embeds: dict[str, torch.Tensor]
    masked_latents: torch.Tensor
    photo_latents: torch.Tensor | None
    #: masked content: the clean latents to start from (None: pure noise) and the mode
    start_latents: torch.Tensor | None
    mode: str
    #: soft inpainting: the change map on the working grid (None: hard mask)
    change: np.ndarray | None
    img2img: bool
    family: str
    on_event: EventCallback
    cancel: CancelToken
    preview: bool
    n_images: int
    last_preview: float = float("-inf")


class _StepCallback:
    """``callback_on_step_end``: progress every step, throttled previews, cancel by raising."""

    def __init__(
        self, ctx: _RunContext, done: int, n: int, soft: soft_inpaint.SoftInpaintStep | None = None
    ) -> None:
        self.ctx = ctx
        self.done = done
        self.n = n
        self.soft = soft

    def __call__(self, pipe: Any, i: int, t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        ctx = self.ctx
        ctx.cancel.raise_if_cancelled()
        total = max(1, int(getattr(pipe, "num_timesteps", 0) or ctx.req.steps))
        step = i + 1
        overall = (self.done + self.n * step / total) / ctx.n_images
        message = f"step {step}/{total}"
        if self.n < ctx.n_images:
            message += f" (images {self.done + 1}-{self.done + self.n} of {ctx.n_images})"
        ctx.on_event(
            EngineEvent(
                "progress",
                progress=min(1.0, overall),
                step=step,
                total_steps=total,
                message=message,
            )
        )
        now = time.perf_counter()
        if ctx.preview and now - ctx.last_preview >= ctx.engine.preview_interval_s:
            ctx.last_preview = now
            ctx.on_event(
                EngineEvent(
                    "preview",
                    progress=min(1.0, overall),
                    step=step,
                    total_steps=total,
                    preview=latents_to_rgb(kwargs["latents"][:1], ctx.image.shape[:2]),
                )
            )
        ctx.cancel.raise_if_cancelled()  # a cancel from an event handler stops right here
        if self.soft is not None:  # soft inpainting: per-pixel reset of the feather band
            return {"latents": self.soft(pipe, i, kwargs["latents"])}
        return {}


@contextmanager
def _torch_threads(wanted: int | None) -> Iterator[int]:
    """Run with ``wanted`` torch CPU threads (None: as they are), restored afterwards; yields the
    count in use. OpenMP keeps the count per calling thread: this touches the caller's only."""
    before = torch.get_num_threads()
    if wanted and wanted != before:
        torch.set_num_threads(int(wanted))
    try:
        yield torch.get_num_threads()
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def _check_inputs(image: np.ndarray, mask: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        raise InpaintError("the diffusion engine needs an RGB image (H, W, 3)")
    if image.dtype != np.uint8:
        raise InpaintError(f"the image must be uint8, got {image.dtype}")
    if not isinstance(mask, np.ndarray) or mask.ndim != 2 or mask.dtype != np.uint8:
        raise InpaintError("the mask must be a uint8 (H, W) array, 255 = fill")
    h, w = image.shape[:2]
    if mask.shape != (h, w):
        raise InpaintError(f"the mask is {mask.shape[1]}x{mask.shape[0]} but the image is {w}x{h}")
    if h % 8 or w % 8:
        raise InpaintError(
            f"the working crop must be a multiple of 8 on both sides for the diffusion model, "
            f"got {w}x{h}"
        )
    if h < 8 or w < 8:
        raise InpaintError(f"the working crop {w}x{h} is too small")


def _oom_message(ctx: _RunContext, batch: int) -> str:
    h, w = ctx.image.shape[:2]
    return (
        f"out of GPU memory at {w}x{h} with {batch} image(s) per call, even with attention "
        "slicing and VAE tiling: lower the target size, make fewer outputs, or use float16"
    )
