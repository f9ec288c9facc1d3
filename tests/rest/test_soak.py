"""A 10-second soak in the suite (the 60-second one is ``make soak``): 500 connections, idle,
slowloris, half-sent and silent feed subscribers, reconnecting as the server closes them
(timeouts shortened to 2 s so that they churn), while a client places and cancels orders."""

from __future__ import annotations

from pathlib import Path

from tests.support.soak_kit import soak


def test_500_abusive_connections_for_10_seconds(tmp_path: Path) -> None:
    figures, summary = soak(10.0, 500, tmp_path, timeouts=2.0)
    assert figures.errors == []
    assert summary["requests"] >= 150  # 20 a second were due; none refused or lost
    assert summary["closed_by_server"] >= 500  # each kind but the subscribers, cut and back
    assert summary["rss_mb_last_third"] - summary["rss_mb_first_third"] < 20
    # The goal (p99 < 10 ms) is checked by `make soak` on a quiet machine; here other tests
    # share the two cores, so only a bound that still tells a stalled server apart.
    assert summary["p99_ms"] < 250, summary
