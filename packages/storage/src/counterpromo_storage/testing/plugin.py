"""pytest fixtures: moto's server over HTTP for boto3 code under test.

- ``local_aws`` (session): the moto server, with dummy credentials and
  ``AWS_ENDPOINT_URL`` in the environment.
- ``aws_endpoint``: that server emptied before the test.
- ``provisioned_aws``: that server emptied and provisioned as environment ``test``;
  ``COUNTERPROMO_ENV`` and the other variables of ``ProvisionedEnv.environ()`` are set
  for the test, so ``load_config()`` reads it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from counterpromo_storage.clients import AwsClients, make_clients
from counterpromo_storage.provision import ProvisionedEnv, provision
from counterpromo_storage.testing.moto_server import LOCAL_CREDENTIALS, LocalAws


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    """A moto server for the whole session, with dummy credentials in the environment."""
    mp = pytest.MonkeyPatch()
    for name, value in LOCAL_CREDENTIALS.items():
        mp.setenv(name, value)
    server = LocalAws().start()
    mp.setenv("AWS_ENDPOINT_URL", server.endpoint)
    yield server
    server.stop()
    mp.undo()


@pytest.fixture
def aws_endpoint(local_aws: LocalAws) -> str:
    """The endpoint of a moto server emptied before this test."""
    local_aws.reset()
    return local_aws.endpoint


@pytest.fixture(scope="session")
def _local_aws_clients(local_aws: LocalAws) -> AwsClients:
    # Made once: creating boto3 clients costs about as much as provisioning itself.
    return make_clients(endpoint_url=local_aws.endpoint)


@pytest.fixture
def provisioned_aws(
    local_aws: LocalAws, _local_aws_clients: AwsClients, monkeypatch: pytest.MonkeyPatch
) -> ProvisionedEnv:
    """A freshly provisioned environment ``test`` on the (emptied) moto server."""
    local_aws.reset()
    env = provision("test", endpoint_url=local_aws.endpoint, clients=_local_aws_clients)
    for name, value in env.environ().items():
        monkeypatch.setenv(name, value)
    return env
