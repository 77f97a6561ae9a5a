"""Which font files Typst may use, and how a brand's font name maps onto them.

Rendering ignores the host's system fonts so that a flyer looks the same on a
laptop, in CI and in the container. The fonts are:

- Noto Sans (Regular, Italic, Bold; SIL Open Font License, shipped in this package's
  ``fonts`` folder with its ``OFL.txt``): every Latin letter of the European
  languages, Greek and Cyrillic. It is the default face and the fallback of every
  other one, so a character any face lacks is drawn by Noto Sans.
- Lato, from the ``font-lato`` wheel (Western and Polish Latin only), for brands
  that ask for it.
- Typst's embedded Libertinus Serif for serif brand fonts, and DejaVu Sans Mono.

Text holding a character Noto Sans cannot draw (CJK, emoji, Arabic, ...) is refused
before rendering (see ``coverage``), so nothing ever prints as an empty box.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import as_file, files
from pathlib import Path

SANS = "Noto Sans"
LATO = "Lato"
SERIF = "Libertinus Serif"
MONO = "DejaVu Sans Mono"

_SERIF_FAMILIES = frozenset({"libertinus serif", "new computer modern", "dejavu serif"})


@cache
def font_dirs() -> tuple[str, ...]:
    """Folders of font files handed to Typst besides its embedded fonts."""
    folders = []
    for resource in (files("counterpromo_worker").joinpath("fonts"), files("font_lato") / "files"):
        with as_file(resource) as path:
            # An installed wheel is a real folder, so the path outlives the context.
            folders.append(str(Path(path)))
    return tuple(folders)


def bundled_sans() -> Path:
    """The regular Noto Sans file: its character map says what a flyer can print."""
    return Path(font_dirs()[0]) / "NotoSans-Regular.ttf"


def font_stack(brand_font: str | None) -> list[str]:
    """Typst font families to try in order; the first one available is used per glyph."""
    wanted = (brand_font or "").strip().lower()
    if wanted in _SERIF_FAMILIES:
        return [SERIF, SANS, MONO]
    if wanted == "lato":
        return [LATO, SANS, MONO]
    return [SANS, MONO]
