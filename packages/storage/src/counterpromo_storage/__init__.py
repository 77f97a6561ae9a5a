"""counterpromo-storage."""

from importlib.metadata import version

__version__ = version("counterpromo-storage")
