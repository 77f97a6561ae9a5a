"""counterpromo-api."""

from importlib.metadata import version

__version__ = version("counterpromo-api")
