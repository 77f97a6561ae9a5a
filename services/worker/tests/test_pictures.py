"""clean_picture: PNG, JPEG, WebP re-encoded without metadata; hostile files refused."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from counterpromo_worker.pictures import BadPicture, PictureLimits, clean_picture
from PIL import Image


def encoded(
    fmt: str, size: tuple[int, int] = (40, 30), mode: str = "RGB", **params: object
) -> bytes:
    image = Image.new(mode, size, (200, 16, 46) if mode == "RGB" else (200, 16, 46, 128))
    out = io.BytesIO()
    image.save(out, format=fmt, **params)
    return out.getvalue()


def with_exif(fmt: str) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to view
    return encoded(fmt, exif=exif.tobytes())


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/png")]
)
def test_pictures_are_reencoded_upright_without_metadata(fmt: str, content_type: str) -> None:
    picture = clean_picture(with_exif(fmt), f"photo.{fmt.lower()}")
    assert picture.content_type == content_type
    assert (picture.width, picture.height) == (30, 40)  # the EXIF orientation was applied
    with Image.open(io.BytesIO(picture.data)) as reread:
        assert reread.format == ("JPEG" if fmt == "JPEG" else "PNG")
        assert reread.size == (30, 40)
        assert not reread.getexif()
        assert "exif" not in reread.info
        assert "icc_profile" not in reread.info
    assert b"SpyCam" not in picture.data


def test_transparency_is_kept_as_png() -> None:
    picture = clean_picture(encoded("WEBP", mode="RGBA"), "logo.webp")
    with Image.open(io.BytesIO(picture.data)) as reread:
        assert reread.mode == "RGBA"


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (_png_header_only(60_000, 60_000), "far too many pixels|million pixels"),
        (_png_header_only(6000, 6000), "6000 x 6000 pixels; the most accepted is 25 million"),
        (b"%PDF-1.7\n" + b"x" * 100, "is not a PNG, JPEG or WebP picture"),
        (encoded("GIF"), "is not a PNG, JPEG or WebP picture"),
        (encoded("BMP"), "is not a PNG, JPEG or WebP picture"),
        (encoded("PNG")[:60], "damaged or truncated"),
        (b"", "is not a PNG, JPEG or WebP picture"),
    ],
)
def test_hostile_or_wrong_files_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(BadPicture, match=reason):
        clean_picture(data, "upload.png")


def test_the_pixel_limit_is_checked_before_decoding() -> None:
    with pytest.raises(BadPicture, match="80 x 80 pixels"):
        clean_picture(encoded("PNG", size=(80, 80)), "x.png", PictureLimits(max_pixels=1000))
