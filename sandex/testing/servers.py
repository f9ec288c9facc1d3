"""The venues of one pytest session (one per xdist worker): a server per setup, started on
first use and kept until the session ends, so a reset restores exactly that setup."""

from __future__ import annotations

from pathlib import Path

from sandex.testing.launcher import LocalServer, RemoteServer
from sandex.testing.setup import Setup, SetupError, default_setup

Server = LocalServer | RemoteServer


class Servers:
    """``get(setup)``: the running server of ``setup``; ``remote``: the one venue to use
    instead of starting any (``--sandex-url``), which must be the default setup."""

    def __init__(self, directory: Path, remote: RemoteServer | None = None) -> None:
        self.directory = directory
        self.remote = remote
        self._running: dict[Setup, LocalServer] = {}

    def get(self, setup: Setup) -> Server:
        if self.remote is not None:
            if setup != default_setup():
                raise SetupError(f"this test asks for its own scenario or clock, but "
                                 f"--sandex-url gives one venue ({self.remote.url}): run it "
                                 "without --sandex-url")
            return self.remote
        server = self._running.get(setup)
        if server is None:
            scenario = self.directory / f"scenario-{setup.digest}.toml"
            scenario.write_text(setup.text)
            server = LocalServer.start(scenario, setup.seed,
                                       self.directory / f"sandex-{setup.digest}.log")
            self._running[setup] = server
        return server

    def close(self) -> None:
        for server in self._running.values():
            server.stop()
        self._running.clear()
