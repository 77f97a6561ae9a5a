"""The storage tests use the package's own pytest plugin, opted into like any consumer would."""

pytest_plugins = ["counterpromo_storage.testing.plugin"]
