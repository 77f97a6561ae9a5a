"""The export bundle: a ZIP of a promo's outputs plus a manifest, byte-identical on retry."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any

from pydantic import BaseModel

MANIFEST_NAME = "manifest.json"
# Fixed entry metadata (time, permissions, creator OS) so the same inputs give the same bytes.
_FIXED_TIME = (2024, 1, 1, 0, 0, 0)
_UNIX = 3
_FILE_MODE = 0o100644 << 16


class BundleFile(BaseModel):
    name: str  # path inside the ZIP, e.g. "leeds/promo.pdf"
    data: bytes
    content_type: str


def bundle_zip(files: Sequence[BundleFile], manifest: dict[str, Any]) -> bytes:
    """A ZIP holding ``manifest.json`` first, then ``files`` in the order given.

    The manifest written is ``manifest`` plus a ``files`` list (name, content
    type, size, SHA-256 of each file), keys sorted; values that are not JSON
    types (UUID, Decimal, datetime) are written as strings. Raises ValueError for
    an unsafe or duplicate file name.
    """
    names = [_checked_name(file.name) for file in files]
    if len(set(names)) != len(names) or MANIFEST_NAME in names:
        raise ValueError("bundle file names must be unique and must not be manifest.json")
    listing = [
        {
            "name": name,
            "content_type": file.content_type,
            "size": len(file.data),
            "sha256": hashlib.sha256(file.data).hexdigest(),
        }
        for name, file in zip(names, files, strict=True)
    ]
    manifest_json = json.dumps(
        {**manifest, "files": listing}, sort_keys=True, indent=2, default=str, ensure_ascii=False
    )

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        _write(archive, MANIFEST_NAME, manifest_json.encode("utf-8") + b"\n")
        for name, file in zip(names, files, strict=True):
            _write(archive, name, file.data)
    return buffer.getvalue()


def _write(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = _UNIX
    info.external_attr = _FILE_MODE
    archive.writestr(info, data, compresslevel=6)


def _checked_name(name: str) -> str:
    path = PurePosixPath(name)
    if (
        not name
        or "\\" in name
        or "\x00" in name
        or path.is_absolute()
        or any(part in ("", ".", "..") for part in name.split("/"))
    ):
        raise ValueError(f"unsafe file name for a bundle: {name!r}")
    return name
