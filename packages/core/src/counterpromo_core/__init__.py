"""Counter Promo domain: model, schema, migrations and use-cases."""

from importlib.metadata import version

__version__ = version("counterpromo-core")
