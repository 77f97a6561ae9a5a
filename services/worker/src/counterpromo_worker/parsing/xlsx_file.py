"""Rows of the first worksheet of an Excel (.xlsx) workbook, read as untrusted input.

Formulas: the workbook is opened with ``data_only=False`` so that formula cells
are seen as formulas, and a workbook holding any formula in the rows we read is
refused as a whole. We never evaluate formulas, and a cached result may be stale
or absent (files written by scripts carry none), so the user is asked to save
values instead. XML entity tricks are stopped by defusedxml, which openpyxl uses
whenever it is installed.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Generator
from xml.etree.ElementTree import ParseError

from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._reader import WorkSheetParser

from counterpromo_worker.parsing.cells import CellValue
from counterpromo_worker.parsing.merged_cells import MergeFiller, merged_ranges
from counterpromo_worker.parsing.models import ParseLimits, UnreadableFile

_MIB = 1024 * 1024
_MAX_ZIP_MEMBERS = 1000
# Everything openpyxl and zipfile raise on a damaged or hostile workbook.
_READ_ERRORS = (
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    OSError,
    EOFError,
    ParseError,
    zlib.error,
    zipfile.BadZipFile,
    InvalidFileException,
)


def read_xlsx(
    data: bytes, filename: str, limits: ParseLimits
) -> Generator[tuple[int, list[CellValue]], None, None]:
    """(row number, cells) for every row of the first sheet, at most max_columns + 1 wide.

    Streamed: the workbook parts (shared strings, styles) are read as openpyxl's
    read-only mode reads them, but the sheet itself is parsed once, row by row, with
    openpyxl's sheet parser. (``load_workbook(read_only=True)`` walks a sheet without
    a ``<dimension>`` element, as scripts write them, in full before the first row:
    ~80 bytes per row held at once.)
    """
    check_archive(data, filename, limits)
    width = limits.max_columns + 1
    reader: ExcelReader | None = None
    try:
        reader = _open_workbook(data)
        sheet_path = _first_sheet_path(reader, filename)
        merges = MergeFiller(merged_ranges(reader.archive, sheet_path, filename), width)
        workbook = reader.wb
        with reader.archive.open(sheet_path) as source:
            parser = WorkSheetParser(
                source,
                reader.shared_strings,
                data_only=False,
                epoch=workbook.epoch,
                date_formats=workbook._date_formats,  # set by apply_stylesheet
                timedelta_formats=workbook._timedelta_formats,
            )
            expected = 1
            for number, cells in parser.parse():
                for blank in range(expected, number):  # rows the sheet leaves out are blank
                    yield blank, merges.fill(blank, [])
                expected = number + 1
                values: list[CellValue] = []
                for cell in cells:
                    column = cell["column"]
                    if column > width:
                        break
                    if cell["data_type"] == "f":
                        raise UnreadableFile(
                            f"{filename!r} has a formula in row {number}, column {column} "
                            f"({cell['value']!s:.40}); Counter Promo reads values only: save "
                            "the sheet with values (Paste Special > Values) or export it as CSV"
                        )
                    values.extend([None] * (column - 1 - len(values)))
                    values.append(cell["value"])
                yield number, merges.fill(number, values)
    except _READ_ERRORS as error:
        raise UnreadableFile(f"{filename!r} is a damaged Excel workbook") from error
    finally:
        if reader is not None:
            reader.archive.close()


def _open_workbook(data: bytes) -> ExcelReader:
    """The workbook's parts except its sheets, as ``load_workbook(read_only=True)`` reads them."""
    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=False)
    reader.read_manifest()
    reader.read_strings()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)
    return reader


def _first_sheet_path(reader: ExcelReader, filename: str) -> str:
    for _sheet, rel in reader.parser.find_sheets():
        if rel.target in reader.valid_files and "chartsheet" not in rel.Type:
            return str(rel.target)
    raise UnreadableFile(f"{filename!r} has no worksheet")


def check_archive(data: bytes, filename: str, limits: ParseLimits) -> None:
    """Refuse zip bombs and non-workbook archives before any member is decompressed.

    The declared sizes are trustworthy enough: zipfile stops decompressing a member
    at its declared size (and fails the CRC check), so a member that lies about its
    size cannot expand past what was checked here.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise UnreadableFile(f"{filename!r} is a damaged ZIP/Excel file") from error
    if len(members) > _MAX_ZIP_MEMBERS:
        raise UnreadableFile(f"{filename!r} has {len(members)} parts, far more than a workbook")
    expanded = sum(member.file_size for member in members)
    if expanded > limits.max_uncompressed_bytes:
        raise UnreadableFile(
            f"{filename!r} would expand to {expanded // _MIB} MiB, over the "
            f"{limits.max_uncompressed_bytes // _MIB} MiB limit "
            "(a zip bomb or a far too large sheet)"
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > _MIB and ratio > limits.max_compression_ratio:
            raise UnreadableFile(
                f"{filename!r} is compressed {ratio:.0f}:1, far beyond any real spreadsheet; "
                "refused as a possible zip bomb"
            )
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names:
        what = (
            "a Word document"
            if "word/document.xml" in names
            else "a PowerPoint file"
            if "ppt/presentation.xml" in names
            else "a ZIP archive"
        )
        raise UnreadableFile(
            f"{filename!r} is {what}, not an Excel workbook; upload a CSV or Excel (.xlsx) file"
        )
