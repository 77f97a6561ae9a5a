"""moto's server in this process, provisioned as environment ``local``."""

from __future__ import annotations

import os

from counterpromo_storage.provision import (
    LOCAL_CREDENTIALS,
    ProvisionedEnv,
    ProvisionValues,
    provision,
)
from counterpromo_storage.testing import LocalAws

ENV = "local"


def start_aws(port: int, *, app_url: str) -> tuple[LocalAws, ProvisionedEnv]:
    """moto on ``port``, provisioned; this process's boto3 gets moto's dummy credentials."""
    os.environ.update(LOCAL_CREDENTIALS)
    server = LocalAws(port=port).start()
    try:
        env = provision(ENV, endpoint_url=server.endpoint, values=ProvisionValues(app_url=app_url))
    except BaseException:
        server.stop()
        raise
    return server, env
