"""counterpromo-cli."""

from importlib.metadata import version

__version__ = version("counterpromo-cli")
