"""The race controls' checks, in process: matches, releases and feed holds refuse bad input
with one line and change nothing."""

from __future__ import annotations

import asyncio

import pytest

from sandex.admin.races import FeedHolds, Holds, RaceError, Races, parse_match


def test_a_match_is_checked_field_by_field() -> None:
    assert parse_match({"type": "cancel", "order_id": " ABC "}) == {"type": "cancel",
                                                                   "order_id": "abc"}
    for bad, message in (([], "match must be an object"),
                         ({"key": ""}, "match.key must be a non-empty text"),
                         ({"order_id": 7}, "match.order_id must be a non-empty text")):
        with pytest.raises(RaceError, match=message):
            parse_match(bad)


def test_a_release_names_exactly_one_of_ids_n_or_all() -> None:
    async def main() -> None:
        holds = Holds(iter(range(1, 10)), lambda: None)
        first = holds.admit("POST", "/orders", {"type": "place"}, "place")
        holds.admit("POST", "/orders", {"type": "place"}, "place")
        for args, message in (({"n": 0}, "n must be a whole number >= 1, not 0"),
                              ({"n": True}, "n must be a whole number >= 1, not True"),
                              ({"ids": [1, 1]}, "id 1 is given twice"),
                              ({"ids": ["1"]}, "no held request has id '1'"),
                              ({"ids": [1], "n": 1}, "give exactly one of ids, n or all"),
                              ({"all": "yes"}, "all must be true")):
            with pytest.raises(RaceError, match=message):
                holds.pick(**args)
        assert len(holds.held) == 2 and not first.freed.done()
        assert [h.id for h in holds.pick(n=5)] == [1, 2]

    asyncio.run(main())


def test_feed_holds_need_a_connection_key_or_profile() -> None:
    feed = FeedHolds()
    with pytest.raises(RaceError, match=r"feed\.hold needs connection, key or profile"):
        feed.hold({})
    feed.hold({"connection": 3})
    assert feed.holds(3, None, None) and not feed.holds(4, None, None)
    with pytest.raises(RaceError, match="no feed hold matches"):
        feed.release({"key": "k"})
    feed.release({"connection": "3"})
    assert feed.rules == []


def test_the_gateway_looks_only_while_a_rule_is_set() -> None:
    races = Races()
    assert not races.active
    races.gate.close({"type": "cancel"})
    assert races.active
    races.gate.open()
    races.replies.close({})
    assert races.active
    races.replies.open()
    assert not races.active
