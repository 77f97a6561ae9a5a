"""render_promo: a promo in, a print PDF and a PNG preview of its first page out.

The preview is page 1 of the PDF rasterised by PDFium (``preview``): one page, whatever
the flyer's length, where Typst's PNG export would rasterise every page.
"""

from __future__ import annotations

import json
import tempfile
from importlib.resources import files
from pathlib import Path
from typing import Literal

import typst

from counterpromo_worker.rendering.coverage import check_printable
from counterpromo_worker.rendering.document import build_document
from counterpromo_worker.rendering.fonts import font_dirs
from counterpromo_worker.rendering.models import RenderError, RenderInput, RenderOutput
from counterpromo_worker.rendering.preview import first_page_png

# A fixed creation date keeps the PDF bytes identical when a job is retried.
_PDF_TIMESTAMP = 1_704_067_200  # 2024-01-01T00:00:00Z


def template_sources() -> dict[str, str]:
    """The shipped Typst files by file name (templates plus the shared library)."""
    folder = files("counterpromo_worker").joinpath("templates")
    return {
        entry.name: entry.read_text(encoding="utf-8")
        for entry in folder.iterdir()
        if entry.name.endswith(".typ")
    }


def render_promo(data: RenderInput, *, preview_ppi: int = 72) -> RenderOutput:
    if not 1 <= preview_ppi <= 600:
        raise RenderError(f"preview_ppi must be between 1 and 600, not {preview_ppi}")
    pdf = compile_flyer(data, "pdf")[0]
    preview = first_page_png(pdf, ppi=preview_ppi)
    return RenderOutput(
        pdf=pdf,
        png=preview.png,
        png_width=preview.width,
        png_height=preview.height,
        page_count=preview.page_count,
    )


def compile_flyer(
    data: RenderInput, output: Literal["pdf", "png"], *, ppi: int = 72
) -> list[bytes]:
    """The flyer as one PDF, or as one PNG per page (Typst's own rasteriser, every page:
    what the preview cost before it kept to page 1; the gallery and the bench use it)."""
    check_printable(data)
    document = build_document(data)
    with tempfile.TemporaryDirectory(prefix="counterpromo-render-") as tmp:
        # The compile root holds only our templates and this promo's pictures:
        # Typst cannot read anything outside it, and with no packages it never
        # touches the network.
        root = Path(tmp)
        for name, source in template_sources().items():
            (root / name).write_text(source, encoding="utf-8")
        (root / "img").mkdir()
        for path, content in document.files.items():
            (root / path.lstrip("/")).write_bytes(content)
        compiler = typst.Compiler(
            str(root / f"{data.template}.typ"),
            root=str(root),
            font_paths=list(font_dirs()),
            ignore_system_fonts=True,
            sys_inputs={"data": json.dumps(document.data)},
        )
        try:
            if output == "pdf":
                result = compiler.compile(format="pdf", timestamp=_PDF_TIMESTAMP)
            else:
                result = compiler.compile(format="png", ppi=ppi)
        except typst.TypstError as error:
            raise RenderError(f"the flyer could not be laid out: {error.message}") from error
    pages = [page for page in (result if isinstance(result, list) else [result]) if page]
    if not pages:
        raise RenderError("the renderer produced no output")
    return pages
