"""A JetStream cluster of three servers on 127.0.0.1 for the module's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandex.cluster.local import LocalCluster
from tests.support.cluster_kit import _free_base


@pytest.fixture(scope="module")
def jetstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    cluster = LocalCluster(tmp_path_factory.mktemp("nats"), base=_free_base())
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
