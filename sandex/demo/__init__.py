"""Live demo liquidity: a seeded market maker and a light taker flow (see ``docs/demo.md``).

``demo_config(table)`` reads a scenario's ``[demo]`` table (the file is read once, by
``sandex.scenario``); ``start_demo(node, config)`` adds its tick to the node's scheduler
(``run_demo`` also runs the scheduler, for a node no server runs);
``withdraw_quotes(node, config)`` cancels the maker's resting orders when the demo is off.
The maker and the taker are pure: the same seed and the same observations give the same
intents.
"""

from sandex.demo.config import DemoConfig, ProductConfig, demo_config
from sandex.demo.maker import MarketMaker
from sandex.demo.model import Cancel, Intent, Observation, OwnOrder, Place, ProductView
from sandex.demo.runner import DemoTimer, observe, run_demo, start_demo, withdraw_quotes
from sandex.demo.taker import Taker

__all__ = [
    "Cancel",
    "DemoConfig",
    "DemoTimer",
    "Intent",
    "MarketMaker",
    "Observation",
    "OwnOrder",
    "Place",
    "ProductConfig",
    "ProductView",
    "Taker",
    "demo_config",
    "observe",
    "run_demo",
    "start_demo",
    "withdraw_quotes",
]
