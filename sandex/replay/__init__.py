"""Recorded markets replayed as live, reactive liquidity (docs/replay.md).

* ``events``: the normalized source events every reader yields;
* ``sources``: streaming readers of recordings (Coinbase full and level2, tardis CSV);
* ``mapping``: source symbols onto venue products, rescaled onto their increments;
* ``products``: venue products from a recorded ``GET /products`` reply;
* ``controller``: a venue's replay: load, run on the venue clock or at full speed, status;
* ``record``: ``sandex record``, the venue's own feed written as a recording.

The rules by which replayed orders meet users' orders live in the core
(``sandex.core.replay``), as journaled commands.
"""

from sandex.replay.controller import ReplayController, ReplayError, replay_of

__all__ = ["ReplayController", "ReplayError", "replay_of"]
