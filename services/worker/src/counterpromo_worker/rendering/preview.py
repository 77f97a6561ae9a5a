"""The PNG preview: page 1 of the PDF rasterised with PDFium, and nothing else.

PDFium is not thread-safe and the worker renders on several threads, so every use of
it holds one process-wide lock (rasterising one page takes milliseconds).
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

import pypdfium2 as pdfium

_POINTS_PER_INCH = 72
PDFIUM_LOCK = threading.Lock()


@dataclass(frozen=True)
class Preview:
    png: bytes
    width: int
    height: int
    page_count: int


def first_page_png(pdf: bytes, *, ppi: int) -> Preview:
    """Page 1 of ``pdf`` as an RGB PNG at ``ppi`` (A4 at 72 ppi is 595x842 pixels)."""
    with PDFIUM_LOCK:
        document = pdfium.PdfDocument(pdf)
        try:
            page = document[0]
            try:
                scale = ppi / _POINTS_PER_INCH
                width, height = (round(side * scale) for side in page.get_size())
                bitmap = page.render(scale=scale, may_draw_forms=False)
                # PDFium rounds a partial pixel up; keep whole pixels like Typst's export.
                image = bitmap.to_pil().crop((0, 0, width, height))
            finally:
                page.close()
            page_count = len(document)
        finally:
            document.close()
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", optimize=False, compress_level=3)
    return Preview(
        png=out.getvalue(), width=image.width, height=image.height, page_count=page_count
    )
