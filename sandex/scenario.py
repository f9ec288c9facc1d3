"""Scenario files: the venue's starting state as TOML (see ``docs/scenario.md``).

A scenario lists currencies, products, fee rates, profiles with balances, and API keys with
a given key, secret and passphrase, so tests and CI get reproducible credentials. ``read``
reads the file once; ``load`` turns it into ordinary commands that go through the node like
any other, and its ``[demo]``, ``[feed]`` and ``[clock]`` tables configure the demo, the feed
and the venue clock, its ``[funds]`` tables the outside world funds come from and go to;
its ``[[faults]]`` are fault rules installed at start.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandex.admin.ops import DEFAULT_MAKER_FEE, DEFAULT_TAKER_FEE
from sandex.api.clocks import AuthWindow
from sandex.api.feed import FeedLimits
from sandex.api.guard import HttpLimits
from sandex.api.rest.account_config import AccountConfig
from sandex.auth.keys import KDF, hash_passphrase
from sandex.core import (
    AddCurrency,
    AddProduct,
    Command,
    CreateProfile,
    Deposit,
    ProductStatus,
    SetVenue,
)
from sandex.demo import DemoConfig, demo_config
from sandex.faults import FaultSet, RuleError
from sandex.funds import FundsConfig, funds_config
from sandex.node import ClockMode, CreateApiKey, Node, SetClock
from sandex.node.clock import clock_rate
from sandex.timefmt import parse_iso
from sandex.units import AMOUNT_DECIMALS, PRICE_DECIMALS, RATE_DECIMALS, parse_units


class ScenarioError(ValueError):
    """A scenario file that cannot be loaded; the text says where and why."""


@dataclass(frozen=True)
class Credentials:
    """An API key as the scenario gives it, to print for the user (never journaled)."""

    key: str
    secret: str
    passphrase: str
    profile_id: str
    permissions: tuple[str, ...]


@dataclass
class Scenario:
    commands: list[Command] = field(default_factory=list)
    credentials: list[Credentials] = field(default_factory=list)
    rate_limits: bool = True
    seed: int | None = None


@dataclass(frozen=True)
class ClockConfig:
    """The ``[clock]`` table: the venue clock a new data dir starts with, and which clock
    signatures are checked against (read at every start)."""

    mode: ClockMode = ClockMode.WALL
    start: int | None = None  # microseconds; None: now
    rate: float = 1.0
    auth_window: AuthWindow = AuthWindow.WALL

    def command(self, now: int) -> SetClock | None:
        """The journaled command that starts a virtual clock (``None`` for the wall clock)."""
        if self.mode is ClockMode.WALL:
            return None
        return SetClock(time=self.start if self.start is not None else now,
                        mode=self.mode, rate=self.rate)


@dataclass(frozen=True)
class ScenarioFile:
    """A scenario file's parsed TOML (read once; every part of the venue takes its table)."""

    path: str
    data: dict[str, Any]

    def demo(self) -> DemoConfig | None:
        """The ``[demo]`` table's config (``None``: no demo); errors name the file."""
        try:
            return demo_config(self.data.get("demo"))
        except ValueError as exc:
            raise ScenarioError(f"{self.path}: {exc}") from None

    def clock(self) -> ClockConfig:
        """The ``[clock]`` table's config; errors name the file and the field."""
        table = self.data.get("clock", {})
        at = f"{self.path}: [clock]"
        if not isinstance(table, dict):
            raise ScenarioError(f"{at} must be a table")
        unknown = set(table) - {"mode", "start", "rate", "auth_window"}
        if unknown:
            raise ScenarioError(f"{at}: unknown field(s) {', '.join(sorted(unknown))}")
        try:
            mode = ClockMode(table.get("mode", "wall"))
            window = AuthWindow(table.get("auth_window", "wall"))
        except ValueError as exc:
            raise ScenarioError(f"{at}: {exc}") from None
        start = table.get("start")
        if start is not None:
            parsed = parse_iso(start) if isinstance(start, str) else None
            if parsed is None or parsed <= 0:
                raise ScenarioError(f"{at}: start {start!r} is not an ISO 8601 time after 1970")
            start = parsed
        try:
            rate = clock_rate(table.get("rate", 1.0))
        except ValueError as exc:
            raise ScenarioError(f"{at}: {exc}") from None
        if mode is ClockMode.WALL and ("start" in table or "rate" in table):
            raise ScenarioError(f"{at}: start and rate need mode = \"virtual\"")
        return ClockConfig(mode, start, rate, window)

    def faults(self) -> list[object]:
        """The ``[[faults]]`` rules, checked (docs/testing.md, "Faults"); installed at every
        start, and again by each reset."""
        rules = self.data.get("faults", [])
        if not isinstance(rules, list):
            raise ScenarioError(f"{self.path}: faults must be an array of tables ([[faults]])")
        try:
            FaultSet(lambda: 0, lambda: None).add_all(rules)
        except RuleError as exc:
            raise ScenarioError(f"{self.path}: [[faults]]: {exc}") from None
        return rules

    def replay(self) -> dict[str, Any] | None:
        """The ``[replay]`` table (docs/replay.md): what a new venue loads, paths relative to
        the scenario file; ``None`` if there is none. Checked when it is loaded."""
        table = self.data.get("replay")
        if table is None:
            return None
        if not isinstance(table, dict):
            raise ScenarioError(f"{self.path}: [replay] must be a table")
        out = dict(table)
        base = Path(self.path).parent
        for name in ("source", "create_products_from"):
            value = out.get(name)
            if isinstance(value, str):
                out[name] = str(base / value)
            elif isinstance(value, list):
                out[name] = [str(base / v) if isinstance(v, str) else v for v in value]
        return out

    def request_ids(self) -> bool:
        """``[testing] request_ids``: send each REST answer's ``X-Sandex-Request-Id`` (off:
        the wire stays Coinbase's)."""
        table = self.data.get("testing", {})
        unknown = sorted(set(table) - {"request_ids"}) if isinstance(table, dict) else None
        if unknown is None or unknown:
            raise ScenarioError(f"{self.path}: [testing] takes request_ids only")
        value = table.get("request_ids", False)
        if not isinstance(value, bool):
            raise ScenarioError(f"{self.path}: [testing] request_ids must be true or false")
        return value

    def funds(self) -> FundsConfig:
        """The simulated outside world of deposits and withdrawals: the ``[funds]``,
        ``[[payment_methods]]`` and ``[[coinbase_accounts]]`` tables (docs/scenario.md)."""
        try:
            return funds_config(self.data)
        except ValueError as exc:
            raise ScenarioError(f"{self.path}: {exc}") from None

    def http(self) -> HttpLimits:
        """The HTTP connection limits with the ``[http]`` table's overrides."""
        try:
            return HttpLimits.from_table(self.data.get("http", {}))
        except ValueError as exc:
            raise ScenarioError(str(exc)) from None

    def account(self) -> AccountConfig:
        """Fee tiers, wrapped assets, reports and withdrawal limits (``AccountConfig``)."""
        try:
            return AccountConfig.from_scenario(self.data)
        except ValueError as exc:
            raise ScenarioError(f"{self.path}: {exc}") from None

    def feed(self, rate_limits: bool) -> FeedLimits:
        """The feed's limits with the ``[feed]`` table's overrides."""
        try:
            return FeedLimits.from_table(self.data.get("feed", {}), rate_limits)
        except ValueError as exc:
            raise ScenarioError(str(exc)) from None


def read(path: str | Path) -> ScenarioFile:
    """The scenario file at ``path``; ``ScenarioError`` names it if it cannot be read."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    return ScenarioFile(str(path), data)


def load(file: ScenarioFile, node: Node) -> Scenario:
    """The commands that build ``file``'s state (stamped by ``node``) and its credentials."""
    return build(file.data, node, file.path)


def build(data: dict[str, Any], node: Node, where: str = "scenario") -> Scenario:
    venue = data.get("venue", {})
    scenario = Scenario(rate_limits=bool(venue.get("rate_limits", True)), seed=venue.get("seed"))
    maker = venue.get("maker_fee_rate", DEFAULT_MAKER_FEE)
    taker = venue.get("taker_fee_rate", DEFAULT_TAKER_FEE)
    out = scenario.commands
    dedup = venue.get("client_oid_dedup", True)
    if not isinstance(dedup, bool):
        raise ScenarioError(f"{where}: venue.client_oid_dedup must be true or false")
    if not dedup:  # journaled only when not the default
        out.append(SetVenue(time=node.stamp(), client_oid_dedup=False))
    for i, cur in enumerate(data.get("currencies", [])):
        at = f"{where}: currencies[{i}]"
        out.append(AddCurrency(time=node.stamp(), currency=_text(cur, "id", at),
                               name=str(cur.get("name", cur["id"])),
                               min_size=_number(cur.get("min_size", "0"), AMOUNT_DECIMALS, at)))
    for i, prod in enumerate(data.get("products", [])):
        at = f"{where}: products[{i}]"
        product_id = _text(prod, "id", at).upper()
        if product_id.count("-") != 1:
            raise ScenarioError(f"{at}: id must be BASE-QUOTE with exactly one '-'")
        base, quote = product_id.split("-")
        try:
            status = ProductStatus(prod.get("status", "online"))
        except ValueError:
            raise ScenarioError(f"{at}: unknown status {prod.get('status')!r}") from None
        out.append(AddProduct(
            time=node.stamp(), product_id=product_id, base_currency=base, quote_currency=quote,
            base_increment=_number(prod.get("base_increment", "0.00000001"), PRICE_DECIMALS, at),
            quote_increment=_number(prod.get("quote_increment", "0.01"), PRICE_DECIMALS, at),
            min_market_funds=_number(prod.get("min_market_funds", "1"), AMOUNT_DECIMALS, at),
            status=status))
    for i, prof in enumerate(data.get("profiles", [])):
        out.extend(_profile(prof, node, f"{where}: profiles[{i}]", maker, taker))
    for command in out:
        if isinstance(command, CreateApiKey):
            table = next(k for p in data.get("profiles", []) for k in p.get("keys", [])
                         if k.get("key") == command.key)
            scenario.credentials.append(Credentials(command.key, command.secret,
                                                    table["passphrase"], command.profile_id,
                                                    command.permissions))
    return scenario


def _profile(prof: dict[str, Any], node: Node, at: str, maker: str,
             taker: str) -> list[Command]:
    profile_id = str(prof.get("id") or node.ids.uuid())
    commands: list[Command] = [CreateProfile(
        time=node.stamp(), profile_id=profile_id,
        user_id=str(prof.get("user_id") or node.ids.user_id()),
        name=str(prof.get("name", "default")),
        maker_fee_rate=_number(prof.get("maker_fee_rate", maker), RATE_DECIMALS, at),
        taker_fee_rate=_number(prof.get("taker_fee_rate", taker), RATE_DECIMALS, at))]
    for currency, amount in prof.get("balances", {}).items():
        commands.append(Deposit(time=node.stamp(), profile_id=profile_id,
                                currency=currency.upper(),
                                amount=_number(amount, AMOUNT_DECIMALS, f"{at}.balances"),
                                transfer_id=node.ids.uuid()))
    for j, key in enumerate(prof.get("keys", [])):
        where = f"{at}.keys[{j}]"
        salt = node.ids.salt()
        commands.append(CreateApiKey(
            time=node.stamp(), key=_text(key, "key", where), secret=_text(key, "secret", where),
            passphrase_hash=hash_passphrase(salt, _text(key, "passphrase", where)), salt=salt,
            permissions=tuple(key.get("permissions", ["view", "trade"])),
            profile_id=profile_id, kdf=KDF))
    return commands


def _text(table: dict[str, Any], name: str, at: str) -> str:
    value = table.get(name)
    if not isinstance(value, str) or not value:
        raise ScenarioError(f"{at}: '{name}' must be a non-empty string")
    return value


def _number(value: object, decimals: int, at: str) -> int:
    if isinstance(value, float):
        value = repr(value)  # TOML floats: use their shortest exact text, never binary math
    units = parse_units(value, decimals)
    if units is None:
        raise ScenarioError(f"{at}: {value!r} is not a number with at most {decimals} decimals")
    return units
