"""Which font files Typst may use, and how a brand's font name maps onto them.

Rendering ignores the host's system fonts so that a flyer looks the same on a
laptop, in CI and in the container: the only fonts are Typst's embedded ones
(Libertinus Serif, New Computer Modern, DejaVu Sans Mono) and Lato, which ships
as the ``font-lato`` wheel. A brand font we do not have falls back silently.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import as_file, files
from pathlib import Path

SANS = "Lato"
SERIF = "Libertinus Serif"

_SERIF_FAMILIES = frozenset({"libertinus serif", "new computer modern", "dejavu serif"})


@cache
def font_dirs() -> tuple[str, ...]:
    """Folders of font files handed to Typst besides its embedded fonts."""
    lato = files("font_lato").joinpath("files")
    with as_file(lato) as path:
        # An installed wheel is a real folder, so the path outlives the context.
        return (str(Path(path)),)


def font_stack(brand_font: str | None) -> list[str]:
    """Typst font families to try in order; the first one available is used per glyph."""
    wanted = (brand_font or "").strip().lower()
    primary = SERIF if wanted in _SERIF_FAMILIES else SANS
    return [primary, SERIF if primary == SANS else SANS, "DejaVu Sans Mono"]
