"""Uploaded pictures (a logo, product images) read as untrusted input and re-encoded.

Only PNG, JPEG and WebP are opened (Pillow is told which decoders it may use, so a
file whose bytes are something else is refused whatever its name says). The pixel
count is checked from the header before any pixel is decoded, and Pillow's own
decompression-bomb check is an error here, not a warning. The picture is then decoded,
turned upright (EXIF orientation) and written again with nothing but its pixels: no
EXIF (camera, GPS), no XMP, no ICC profile, no text chunks. JPEG stays JPEG; PNG and
WebP become PNG (what the Typst renderer reads).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = ("PNG", "JPEG", "WEBP")


@dataclass(frozen=True)
class PictureLimits:
    max_pixels: int = 25_000_000  # 5000 x 5000: far more than print needs at flyer sizes
    max_side: int = 12_000


@dataclass(frozen=True)
class CleanPicture:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


class BadPicture(Exception):  # noqa: N818 - reads as the condition it reports
    """The upload is not a picture we accept; the message says why, for the dealer."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def clean_picture(
    data: bytes, filename: str, limits: PictureLimits = PictureLimits()
) -> CleanPicture:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as image:
                return _reencode(image, filename, limits)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise BadPicture(
                f"{filename!r} has far too many pixels (a decompression bomb)"
            ) from error
        except UnidentifiedImageError as error:
            raise BadPicture(
                f"{filename!r} is not a PNG, JPEG or WebP picture; upload one of those"
            ) from error
        except (OSError, ValueError, SyntaxError, EOFError) as error:
            raise BadPicture(f"{filename!r} is a damaged or truncated picture") from error


def _reencode(image: Image.Image, filename: str, limits: PictureLimits) -> CleanPicture:
    width, height = image.size
    if width < 1 or height < 1:
        raise BadPicture(f"{filename!r} has no pixels")
    if width > limits.max_side or height > limits.max_side or width * height > limits.max_pixels:
        raise BadPicture(
            f"{filename!r} is {width} x {height} pixels; the most accepted is "
            f"{limits.max_pixels // 1_000_000} million pixels and {limits.max_side} on a side"
        )
    source_format = image.format
    image.load()
    upright = ImageOps.exif_transpose(image) or image
    has_alpha = upright.mode in ("RGBA", "LA", "PA") or (
        upright.mode == "P" and "transparency" in upright.info
    )
    out = io.BytesIO()
    if source_format == "JPEG" and not has_alpha:
        pixels = upright.convert("L" if upright.mode == "L" else "RGB")
        pixels.save(out, format="JPEG", quality=90, optimize=True)
        content_type, extension = "image/jpeg", "jpg"
    else:
        pixels = upright.convert("RGBA" if has_alpha else "RGB")
        pixels.save(out, format="PNG", optimize=True)
        content_type, extension = "image/png", "png"
    return CleanPicture(out.getvalue(), content_type, extension, pixels.width, pixels.height)
