"""A liveness file for the container health check.

The consumer loop touches the file on every turn (at least once per long poll),
so a file older than a few polls (the image's health check allows 90 s) means
the loop is stuck.
"""

from __future__ import annotations

from pathlib import Path


class LivenessFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def touch(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch()
