"""The local stack behind ``counterpromo dev`` and ``counterpromo demo``.

Needs the ``local`` extra (embedded PostgreSQL, moto, the API and the worker).
"""
