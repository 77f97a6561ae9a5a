"""What kind of file an upload really is, judged by its bytes (never by its name)."""

from __future__ import annotations

import re
from typing import Literal

from counterpromo_worker.parsing.models import UnreadableFile

FileKind = Literal["csv", "xlsx"]

UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# A byte that is not whitespace, NUL or a byte-order mark: the file is not empty.
_CONTENT = re.compile(rb"[^ \t\r\n\x00\xef\xbb\xbf\xff\xfe]")

_KNOWN_BINARY: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"RIFF", "a media file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel 97-2003 (.xls) or other Office 97 file"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
)


def detect_kind(data: bytes, filename: str) -> FileKind:
    if _CONTENT.search(data) is None:  # searched in place: no copy of a large file
        raise UnreadableFile(f"{filename!r} is empty")
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    for magic, what in _KNOWN_BINARY:
        if data.startswith(magic):
            raise UnreadableFile(
                f"{filename!r} is {what}, not a spreadsheet; upload a CSV or Excel (.xlsx) file"
            )
    if data.startswith(UTF16_BOMS):
        return "csv"
    if b"\x00" in data[:65536]:
        raise UnreadableFile(
            f"{filename!r} is a binary file, not CSV text; upload a CSV or Excel (.xlsx) file"
        )
    return "csv"
