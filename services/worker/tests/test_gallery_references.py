"""Renders compared with the committed reference PNGs (``gallery/references``): a render that
drifts beyond a pixel tolerance fails, and a diff image (reference | render | differences in
red) is written for a person to look at: ``gallery-diffs/`` beside this package's README,
or the folder named by ``COUNTERPROMO_GALLERY_DIFFS``.

After a deliberate change of the templates, look at the diffs, then rewrite the references:
``uv run python services/worker/gallery/gallery.py --references``.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from PIL import Image, ImageChops

WORKER = Path(__file__).resolve().parents[1]
MAX_CHANGED_SHARE = 0.005  # at most 0.5% of the pixels may differ...
CHANNEL_THRESHOLD = 48  # ...by more than this in any channel (anti-aliasing noise is below)


def load_gallery() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gallery", WORKER / "gallery" / "gallery.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gallery = load_gallery()


@dataclass(frozen=True)
class Drift:
    changed_share: float
    diff_path: Path | None


def compare(reference: Image.Image, render: Image.Image, name: str, diff_dir: Path) -> Drift:
    """The share of pixels that changed beyond the threshold; writes a diff image when the
    share is above the tolerance (or the sizes differ)."""
    if reference.size != render.size:
        changed_share = 1.0
        mask = Image.new("L", reference.size, 255)
    else:
        difference = ImageChops.difference(reference, render)
        channels = [
            channel.point(lambda v: 255 if v > CHANNEL_THRESHOLD else 0)
            for channel in difference.split()
        ]
        mask = ImageChops.lighter(ImageChops.lighter(channels[0], channels[1]), channels[2])
        changed = mask.histogram()[255]
        changed_share = changed / (reference.width * reference.height)
    if changed_share <= MAX_CHANGED_SHARE:
        return Drift(changed_share, None)
    diff_dir.mkdir(parents=True, exist_ok=True)
    width, height = reference.size
    sheet = Image.new("RGB", (width * 3, max(height, render.height)), "white")
    sheet.paste(reference, (0, 0))
    sheet.paste(render, (width, 0))
    highlight = Image.composite(
        Image.new("RGB", reference.size, (230, 0, 0)),
        reference.convert("L").convert("RGB"),
        mask.resize(reference.size),
    )
    sheet.paste(highlight, (width * 2, 0))
    path = diff_dir / f"{name}-diff.png"
    sheet.save(path)
    return Drift(changed_share, path)


def diff_dir() -> Path:
    return Path(os.environ.get("COUNTERPROMO_GALLERY_DIFFS", WORKER / "gallery-diffs"))


@pytest.mark.parametrize(("template", "paper", "count", "locale"), gallery.reference_cases())
def test_render_matches_its_reference(template: str, paper: str, count: int, locale: str) -> None:
    name = f"{template}-{paper}-{count}-{locale}"
    reference = Image.open(gallery.REFERENCES / f"{name}.png").convert("RGB")

    render = gallery.preview(template, paper, count, locale, gallery.REFERENCE_PPI)

    drift = compare(reference, render, name, diff_dir())
    assert drift.diff_path is None, (
        f"{name} drifted: {drift.changed_share:.2%} of its pixels changed; "
        f"look at {drift.diff_path}"
    )


def test_a_changed_render_is_caught_and_its_diff_written(tmp_path: Path) -> None:
    reference = Image.open(gallery.REFERENCES / "multi-product-A4-12-en-GB.png").convert("RGB")
    other = gallery.preview("modern", "A4", 12, "en-GB", gallery.REFERENCE_PPI)

    drift = compare(reference, other, "changed", tmp_path)

    assert drift.changed_share > MAX_CHANGED_SHARE
    assert drift.diff_path == tmp_path / "changed-diff.png"
    assert Image.open(drift.diff_path).size == (reference.width * 3, reference.height)


def test_an_identical_render_passes_without_a_diff(tmp_path: Path) -> None:
    reference = Image.open(gallery.REFERENCES / "clearance-A4-12-en-GB.png").convert("RGB")

    drift = compare(reference, reference.copy(), "same", tmp_path)

    assert drift == Drift(0.0, None)
    assert list(tmp_path.iterdir()) == []
