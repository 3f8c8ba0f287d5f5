"""Typed errors. Every message names the problem so a user can act on it."""


class InpaintError(Exception):
    """Base of every error this package raises on purpose."""


class ImageLoadError(InpaintError):
    """The input could not be read as an image (not an image, truncated, unsupported)."""


class ImageTooLargeError(ImageLoadError):
    """The input is over a byte or pixel limit (includes decompression bombs)."""


class MaskError(InpaintError):
    """The mask is unusable: empty, wrong size, wrong shape."""


class RequestValidationError(InpaintError, ValueError):
    """A request field is out of range. ``field`` names it."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class ModelError(InpaintError):
    """A model could not be found, loaded, or is not an inpainting model."""


class JobCancelled(InpaintError):
    """Raised inside an engine when the user cancelled; the engine stays usable."""


class UnsupportedFormatError(InpaintError, ValueError):
    """A file cannot be written in the format its name asks for (e.g. ``.gif``)."""
