"""What a test venue starts from: a scenario's TOML text and a seed; equal setups share a server.

The default is the packaged ``testing.toml`` (``TESTING_SCENARIO``). A test changes it with
the ``sandex_scenario`` fixture (a path, TOML text or a dict) and the ``sandex`` marker
(``seed``, and ``clock``, ``start`` and ``rate``, which rewrite the scenario's ``[clock]``
table). The trader and counterparty keys are the first two trading keys of two different
profiles, in file order.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from sandex.timefmt import iso, parse_iso

TESTING_SCENARIO = Path(str(resources.files("sandex") / "scenarios" / "testing.toml"))
DEFAULT_SEED = 1  # when neither the marker nor the scenario's [venue] seed gives one
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CLOCKS = ("frozen", "virtual", "wall")

Source = str | os.PathLike[str] | dict[str, Any] | None


class SetupError(ValueError):
    """A scenario or marker argument that cannot make a venue; the text says why."""


@dataclass(frozen=True)
class Credentials:
    """An API key of a funded profile: what a client signs with (§2.2), and its profile."""

    key: str
    secret: str  # base64
    passphrase: str
    profile_id: str


@dataclass(frozen=True)
class Setup:
    """A scenario (TOML text, as the server reads it) and the seed of its generated ids."""

    text: str
    seed: int

    @property
    def digest(self) -> str:
        """Names the setup (its server, its scenario file)."""
        return hashlib.sha256(f"{self.seed}\n{self.text}".encode()).hexdigest()[:16]

    def keys(self) -> list[Credentials]:
        """The scenario's trading keys: the trader's, then the counterparty's, ..."""
        return trading_keys(_parse(self.text))


def trading_keys(data: dict[str, Any]) -> list[Credentials]:
    """The first key with the trade permission of each profile that has one, in file order."""
    found = []
    for profile in data.get("profiles", []):
        for key in profile.get("keys", []):
            if "trade" in key.get("permissions", ("view", "trade")):
                found.append(Credentials(key["key"], key["secret"], key["passphrase"],
                                         str(profile.get("id", ""))))
                break
    return found


@cache
def default_setup() -> Setup:
    return resolve(None)


def default_keys() -> list[Credentials]:
    return default_setup().keys()


def resolve(source: Source, *, root: Path | None = None, seed: int | None = None,
            clock: str | None = None, start: str | datetime | None = None,
            rate: float | None = None) -> Setup:
    """The setup of ``source`` (``None``: the default; a relative path is under ``root``)
    with the marker's overrides; ``SetupError`` if it cannot be one."""
    text = _text(source, root or Path.cwd())
    data = _parse(text)
    table = _clock(data.get("clock", {}), clock, start, rate)
    if table is not None:
        import tomli_w

        text = tomli_w.dumps({**data, "clock": table})
    if seed is None:
        given = data.get("venue", {}).get("seed")
        seed = given if isinstance(given, int) else DEFAULT_SEED
    elif not isinstance(seed, int) or isinstance(seed, bool):
        raise SetupError(f"sandex marker: seed={seed!r} is not an integer")
    return Setup(text, seed)


@lru_cache(maxsize=64)
def _parse(text: str) -> dict[str, Any]:
    """The scenario's tables, parsed once per text (every test resolves its setup): read
    them, never change them."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SetupError(f"sandex scenario: {exc}") from None


@cache
def _default_text() -> str:
    return TESTING_SCENARIO.read_text()


def _text(source: Source, root: Path) -> str:
    if source is None:
        return _default_text()
    if isinstance(source, dict):
        import tomli_w

        return tomli_w.dumps(source)
    if isinstance(source, str) and ("\n" in source or "=" in source):
        return source  # TOML text
    path = Path(source)
    try:
        return (path if path.is_absolute() else root / path).read_text()
    except OSError as exc:
        raise SetupError(f"sandex scenario: {exc}") from None


def _clock(table: dict[str, Any], clock: str | None, start: str | datetime | None,
           rate: float | None) -> dict[str, Any] | None:
    """The ``[clock]`` table with the marker's changes (``None``: unchanged)."""
    if clock is None and start is None and rate is None:
        return None
    if clock is not None and clock not in CLOCKS:
        raise SetupError(f"sandex marker: clock={clock!r} is not one of {', '.join(CLOCKS)}")
    if clock == "wall":
        if start is not None or rate is not None:
            raise SetupError("sandex marker: start and rate need a virtual clock")
        return {k: v for k, v in table.items() if k not in ("start", "rate")} | {"mode": "wall"}
    changed = {**table, "mode": "virtual"}
    if clock == "frozen":
        changed["rate"] = 0
    if rate is not None:
        if clock == "frozen" and rate != 0:
            raise SetupError(f"sandex marker: clock='frozen' with rate={rate!r}")
        changed["rate"] = rate
    if start is not None:
        changed["start"] = _start(start)
    return changed


def _start(start: str | datetime) -> str:
    """``start`` in one spelling, so equal starts make equal setups (and share a server)."""
    if isinstance(start, datetime):
        return utc_text(start)
    micros = parse_iso(start) if isinstance(start, str) else None
    if micros is None:
        raise SetupError(f"sandex marker: start={start!r} is not an ISO 8601 time")
    return iso(micros)


def utc_text(moment: datetime) -> str:
    """An aware datetime as the venue writes times (``2024-01-01T00:00:00.000000Z``)."""
    if moment.tzinfo is None:
        raise SetupError(f"{moment!r} has no time zone: give one (datetime.UTC)")
    return iso((moment - EPOCH) // timedelta(microseconds=1))
