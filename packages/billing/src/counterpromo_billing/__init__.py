"""counterpromo-billing."""

from importlib.metadata import version

__version__ = version("counterpromo-billing")
