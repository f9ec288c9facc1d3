"""A few rounds of the crash test in every ``make test``; ``make crash-test`` runs 100."""

from __future__ import annotations

from pathlib import Path

from tests.support.crash_kit import crash_round


def test_acknowledged_means_durable_across_kill_9(tmp_path: Path) -> None:
    checked = 0
    for seed in range(3):  # the same data dir: each round recovers the previous rounds too
        result = crash_round(tmp_path / "data", seed)
        assert result.problems == [], f"round {seed}"
        checked += result.acknowledged
    assert checked > 50, "the clients hardly got anything acknowledged before the kills"
