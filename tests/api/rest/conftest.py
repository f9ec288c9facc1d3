"""An in-process venue per test module (tests/scenario.toml) and its signed clients."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.rest.harness import InProcessClient, InProcessVenue
from tests.support.rest_kit import ALICE, BOB, VIEWER


@pytest.fixture(scope="module")
def venue() -> Iterator[InProcessVenue]:
    running = InProcessVenue()
    yield running
    running.close()


@pytest.fixture
def anon(venue: InProcessVenue) -> InProcessClient:
    """An unsigned client."""
    return venue.client()


@pytest.fixture
def alice(venue: InProcessVenue) -> InProcessClient:
    return venue.client(ALICE)


@pytest.fixture
def bob(venue: InProcessVenue) -> InProcessClient:
    return venue.client(BOB)


@pytest.fixture
def viewer(venue: InProcessVenue) -> InProcessClient:
    """A key with only the view permission."""
    return venue.client(VIEWER)
