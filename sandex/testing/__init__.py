"""Test a bot against a real sandex: ``Venue``, a server launcher and the pytest plugin.

The top layer: it talks to a venue over HTTP only (REST and the ``/admin/`` endpoint) and
starts one as a ``sandex serve`` subprocess. See ``docs/testing.md``. Names load on first
use, so pytest loading the plugin (``sandex.testing.plugin``) costs a session nothing more.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandex.testing.http import VenueError
    from sandex.testing.launcher import LocalServer, StartError
    from sandex.testing.setup import TESTING_SCENARIO, Credentials, SetupError
    from sandex.testing.venue import Clock, Venue

_HOMES = {"VenueError": "http", "LocalServer": "launcher", "StartError": "launcher",
          "TESTING_SCENARIO": "setup", "Credentials": "setup", "SetupError": "setup",
          "Clock": "venue", "Venue": "venue"}

__all__ = ["TESTING_SCENARIO", "Clock", "Credentials", "LocalServer", "SetupError",
           "StartError", "Venue", "VenueError"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sandex.testing' has no attribute {name!r}")
    return getattr(import_module(f"sandex.testing.{home}"), name)
