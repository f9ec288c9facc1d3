"""``Engine.orders_on_record``: the engine's own index of the orders on record (the REST
layer's ``order_ref`` probes it), the live ones and the done ones kept, and no attribute to
set."""

from __future__ import annotations

import pytest

from tests.support.venue_kit import two_traders


def test_it_is_the_engines_index_of_the_orders_on_record() -> None:
    v = two_traders()
    engine = v.engine
    index = engine.orders_on_record
    assert index is engine._live and not index
    resting, _ = v.buy("alice", "100", "1")
    filled, _ = v.sell("bob", "90", "1")  # takes alice's order whole: both done
    open_one, _ = v.buy("alice", "80", "1")
    assert engine.orders_on_record is index
    assert set(index) == {resting, filled, open_one}
    assert [index[o].status.value for o in (resting, filled, open_one)] == [
        "done", "done", "open"]
    with pytest.raises(AttributeError):
        engine.orders_on_record = {}  # type: ignore[misc]
