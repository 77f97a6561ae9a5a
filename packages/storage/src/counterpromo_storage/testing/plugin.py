"""pytest fixtures: moto's server over HTTP for boto3 code under test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
