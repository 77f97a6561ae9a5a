"""What parsing an uploaded product file gives back."""

from __future__ import annotations

from dataclasses import dataclass

from counterpromo_core.schemas import ItemIn
from counterpromo_core.uploads import MAX_UPLOAD_BYTES
from pydantic import BaseModel


class ParsedRow(BaseModel):
    row_number: int  # as the user sees it in the spreadsheet: the header is row 1
    item: ItemIn
    image_name: str | None = None  # the "image" column: a picture uploaded before, by name


class RowError(BaseModel):
    row_number: int
    message: str


class ParseResult(BaseModel):
    rows: list[ParsedRow]
    errors: list[RowError]
    columns: dict[str, str]  # the file's header -> the field it was read into
    ignored_columns: list[str]  # non-blank headers no field was read from
    header_row: int  # the spreadsheet row number of the header row


class UnreadableFile(Exception):  # noqa: N818 - the agreed contract name
    """The whole file is refused (wrong type, too big, hostile, no usable columns).

    A permanent failure: retrying cannot help. The message says why in plain words.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ParseLimits:
    max_bytes: int = MAX_UPLOAD_BYTES  # the same limit the upload policy writes
    max_rows: int = 2000  # data rows after the header
    max_columns: int = 50
    max_uncompressed_bytes: int = 50 * 1024 * 1024  # XLSX: declared size of all zip members
    max_compression_ratio: int = 200  # XLSX: per zip member larger than 1 MiB
