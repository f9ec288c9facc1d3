"""The ``[demo]`` table: the default scenario's, and a clear error for each mistake."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import pytest

from sandex.demo import DemoConfig, demo_config
from sandex.node import Node
from sandex.scenario import build, read
from sandex.server import default_scenario
from tests.support.demo_kit import USD_TICK, default_config

MAKER = "d3a10000-0000-4000-8000-00000000a001"
TAKER = "d3a10000-0000-4000-8000-00000000a002"


def table(**changes: Any) -> dict[str, Any]:
    product = {"id": "btc-usd", "reference_price": "60000", "size": "0.05"}
    product.update(changes.pop("product", {}))
    data: dict[str, Any] = {"maker_profile_id": "m", "taker_profile_id": "t",
                            "products": [product]}
    data.update(changes)
    return data


def test_the_default_scenario_quotes_four_products():
    config = default_config()
    assert (config.seed, config.tick_seconds) == (1, 1.0)
    assert (config.maker_profile_id, config.taker_profile_id) == (MAKER, TAKER)
    assert [(p.product_id, p.reference_price, p.levels, p.size, p.size_max)
            for p in config.products] == [
        ("BTC-USD", 60_000 * 10**8, 20, 10**6, 2 * 10**8),
        ("ETH-USD", 3_000 * 10**8, 5, 10**8, None), ("ETH-BTC", 5_000_000, 5, 10**8, None),
        ("BTC-EUR", 55_000 * 10**8, 20, 10**6, 2 * 10**8)]
    btc_usd = config.products[0]
    # 0.01 BTC at the best level, 0.11473684 at the next (1.99 / 19 more each), 2 at the 20th
    assert [btc_usd.level_size(k) for k in (0, 1, 19)] == [10**6, 11_473_684, 2 * 10**8]
    assert sum(btc_usd.level_size(k) for k in range(20)) == 2_009_999_991  # ~20.1 BTC a side
    assert btc_usd.spacing(USD_TICK) == 600 * USD_TICK  # 1 bp of 60000: $6.00
    assert btc_usd.walk(USD_TICK) == 150 * USD_TICK
    assert config.products[2].spacing(1000) == 1000  # ETH-BTC: one tick


def test_the_scenario_loader_ignores_the_demo_table_and_creates_its_profiles():
    data = tomllib.loads(default_scenario().read_text())
    assert "demo" in data
    scenario = build(data, Node())
    created = {c.profile_id: c for c in scenario.commands if type(c).__name__ == "CreateProfile"}
    assert MAKER in created and TAKER in created
    assert {c.profile_id for c in scenario.credentials} == {
        "8058d771-2d88-4f0f-ab6e-299c153d4308"}  # the demo profiles have no keys


def test_defaults_fill_in_what_is_left_out():
    config = demo_config(table())
    assert isinstance(config, DemoConfig)
    product = config.products[0]
    assert (config.seed, config.tick_seconds, product.product_id) == (1, 1.0, "BTC-USD")
    assert (product.levels, product.spacing_fraction, product.max_drift) == (5, 100, 50_000)
    assert (product.taker_chance, product.taker_size, product.walk_fraction) == (
        200_000, 1_250_000, None)


def test_absent_empty_or_disabled_means_no_demo():
    assert demo_config(None) is None
    assert demo_config({}) is None
    assert demo_config(table(enabled=False)) is None
    with pytest.raises(ValueError, match=r"demo\.products"):
        demo_config({"enabled": False, "maker_profile_id": "m", "taker_profile_id": "t"})


@pytest.mark.parametrize(("changes", "message"), [
    ({"enabled": "yes"}, "demo.enabled: must be true or false"),
    ({"seed": 1.5}, "demo.seed: must be an integer"),
    ({"tick_seconds": 0}, "demo.tick_seconds: must be a number of seconds"),
    ({"maker_profile_id": ""}, "demo.maker_profile_id: must be a non-empty string"),
    ({"taker_profile_id": "m"}, "demo.taker_profile_id: must differ from maker_profile_id"),
    ({"products": []}, "demo.products: must be a non-empty array"),
    ({"product": {"id": "BTCUSD"}}, "demo.products[0].id: must be BASE-QUOTE"),
    ({"product": {"reference_price": "-1"}}, "demo.products[0].reference_price: must be a "
                                              "positive number"),
    ({"product": {"size": "0.000000001"}}, "demo.products[0].size: must be a positive number "
                                            "with at most 8 decimals"),
    ({"product": {"levels": 51}}, "demo.products[0].levels: must be an integer between 1 and 50"),
    ({"product": {"spacing": "0"}}, "demo.products[0].spacing: must be a fraction above 0"),
    ({"product": {"spacing_ticks": 0}}, "demo.products[0].spacing_ticks: must be an integer"),
    ({"product": {"spacing": "0.001", "spacing_ticks": 2}}, "spacing or spacing_ticks, not both"),
    ({"product": {"taker_chance": 1.5}}, "demo.products[0].taker_chance: must be a fraction"),
    ({"product": {"colour": "red"}}, "demo.products[0].colour: unknown field"),
    ({"speed": 2}, "demo.speed: unknown field"),
])
def test_each_mistake_names_its_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        demo_config(table(**changes))


def test_a_product_listed_twice_is_refused():
    data = table()
    data["products"].append(dict(data["products"][0]))
    with pytest.raises(ValueError, match=r"demo.products\[1\].id: BTC-USD is listed twice"):
        demo_config(data)


def test_load_names_the_file(tmp_path):
    path = tmp_path / "venue.toml"
    path.write_text('[demo]\nmaker_profile_id = "m"\ntaker_profile_id = "m"\n'
                    '[[demo.products]]\nid = "BTC-USD"\nreference_price = 1\nsize = 1\n')
    with pytest.raises(ValueError, match=r"venue.toml: demo.taker_profile_id"):
        read(path).demo()
    path.write_text("[venue]\n")
    assert read(path).demo() is None
