"""Recognising the picture files a flyer may show."""

from __future__ import annotations

_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpg",
}


def image_extension(data: bytes) -> str | None:
    """``png`` or ``jpg`` from the file's magic bytes; None for anything else."""
    for magic, extension in _SIGNATURES.items():
        if data.startswith(magic):
            return extension
    return None


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR":
        raise ValueError("not a PNG file")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
