"""counterpromo-worker."""

from importlib.metadata import version

__version__ = version("counterpromo-worker")
