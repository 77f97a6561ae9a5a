"""Test support for code that uses counterpromo-storage: moto's server over HTTP.

Install ``counterpromo-storage[testing]``; the pytest plugin in ``plugin`` is
loaded automatically and gives the ``aws_endpoint`` fixture.
"""

from counterpromo_storage.testing.moto_server import LocalAws

__all__ = ["LocalAws"]
