"""sandex: a self-hosted trading venue that speaks the Coinbase Exchange API.

Layers, bottom first (imports point down only; ``docs/architecture.md`` has the table that
``tests/test_layers.py`` enforces):

* ``errors``, ``units``, ``timefmt``, ``logs``: the wire table, number and time text, log lines
* ``core``: the deterministic state machine (no clock, no I/O)
* ``auth``: request signatures and API keys
* ``views``, ``journal``, ``node``: read models, the command log, the single writer
* ``admin``: admin commands, the data-dir lock
* ``api``: what the gateways share; ``api.rest``, ``api.feed``, ``api.admin``: the gateways
* ``demo``: demo liquidity through ordinary commands
* ``cli``, ``server``, ``scenario``, ``banner``: entry points and the venue's assembly
* ``testing``: for a bot's tests: a venue client over HTTP, a server launcher, the pytest plugin
"""

__version__ = "0.1.0"
