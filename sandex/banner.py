"""What ``sandex serve`` prints once it is ready: where it listens and how to connect."""

from __future__ import annotations

from pathlib import Path

from sandex import __version__, native
from sandex.core import emit
from sandex.journal import reader
from sandex.scenario import Credentials


def banner(host: str, port: int, data_dir: Path | None, position: int,
           credentials: list[Credentials], admin_token: str | None,
           program: str = "sandex") -> str:
    """``program`` is how the user can call sandex again (``.venv/bin/sandex`` from make)."""
    rest, feed = f"http://{host}:{port}", f"ws://{host}:{port}"
    where = "in memory (--ephemeral)" if data_dir is None else str(data_dir)
    lines = [f"sandex {__version__} ready",
             f"  REST       {rest}",
             f"  feed       {feed}",
             f"  web page   {rest}/ui/",
             f"  data       {where}, journal position {position}"]
    if data_dir is not None:  # how start-up read the journal: in C, or why not (once)
        lines[-1] += f"; {reader.describe()}"
    if data_dir is None:
        lines.append(f"  admin      {program} profile list --url {rest} --token {admin_token}")
    else:
        lines.append(f"  admin      {program} profile list --data-dir {data_dir}")
    lines.append(f"  core       {native.describe()}")  # compiled, or why not (once, at start)
    if emit.REFUSED is not None and native.compiled():
        lines.append(f"  events     built by their constructors: {emit.REFUSED}")
    for creds in credentials:
        lines += [f"  profile {creds.profile_id} ({', '.join(creds.permissions)})",
                  f"    key        {creds.key}",
                  f"    secret     {creds.secret}",
                  f"    passphrase {creds.passphrase}"]
    trading = [c for c in credentials if "trade" in c.permissions]
    if trading:
        c = trading[0]
        lines += ["", "Paste into Python (pip install ccxt):", "",
                  "import ccxt",
                  f'ex = ccxt.coinbaseexchange({{"apiKey": "{c.key}",',
                  f'    "secret": "{c.secret}",',
                  f'    "password": "{c.passphrase}"}})',
                  f'ex.urls["api"] = {{"public": "{rest}", "private": "{rest}"}}',
                  'print(ex.create_order("BTC/USD", "market", "buy", 0.001))  # a fill',
                  'order = ex.create_order("BTC/USD", "limit", "buy", 0.001, 1000)',
                  'print(ex.cancel_order(order["id"], "BTC/USD"))',
                  "", "or (pip install cbpro):", "",
                  "import cbpro",
                  f'c = cbpro.AuthenticatedClient("{c.key}", "{c.secret}",',
                  f'    "{c.passphrase}", api_url="{rest}")',
                  'print(c.place_market_order("BTC-USD", "buy", size="0.001"))',
                  ""]
    return "\n".join(lines)
