"""The compiled core and the pure-Python core are twins: fed the same seeded random streams,
they give the same events and the same state hash after every command.

This process runs the compiled modules (the test is skipped, saying why, when the extension
is not built); a subprocess runs the same ``.py`` files uncompiled (``SANDEX_PURE_PYTHON``).
Each side reduces every command to one digest of its events and the state hash after it, so
the first command where they part is named.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

import sandex.core.engine
from sandex import native
from sandex.core import Command, Engine, state_hash
from tests.core.streams import concretize, random_stream, setup_commands

ROOT = Path(__file__).resolve().parents[2]
SEEDS = (1, 2, 3)
PROPERTY_COMMANDS = 300  # per seed: every kind of command the property tests make
MIX_COMMANDS = 1500  # the benchmark's mix: limits near a moving mid, cancels, marketable


def streams() -> list[tuple[str, list[Command]]]:
    """Named command streams, each from a fresh engine."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from streams import generate  # bench/streams.py: the 1M-command mix, smaller
    finally:
        sys.path.remove(str(ROOT / "bench"))
    named = [(f"property seed {seed}",
              setup_commands() + concretize(random_stream(random.Random(seed), PROPERTY_COMMANDS)))
             for seed in SEEDS]
    for seed in SEEDS:
        mix = generate(MIX_COMMANDS, seed, n_products=2, n_profiles=4)
        named.append((f"bench mix seed {seed}", mix.setup + mix.commands))
    return named


def trace(commands: list[Command]) -> list[str]:
    """One digest per command: its events (as JSON) and the state hash after it."""
    engine, encode = Engine(), msgspec.json.encode
    return [hashlib.sha256(encode(engine.apply(cmd)) + state_hash(engine).encode()).hexdigest()
            for cmd in commands]


def traces() -> dict[str, list[str]]:
    return {name: trace(commands) for name, commands in streams()}


PURE_SIDE = """
import json, sys
import sandex.core.engine
assert sandex.core.engine.__file__.endswith(".py"), sandex.core.engine.__file__
from tests.core.test_compiled_twin import traces
print(json.dumps(traces()))
"""


def test_compiled_and_pure_python_cores_give_the_same_events_and_states() -> None:
    if not native.compiled():
        pytest.skip(f"the compiled core is not built ({native.WHY_PURE})")
    assert not str(sandex.core.engine.__file__).endswith(".py")  # this side is compiled
    env = {**os.environ, native.PURE_ENV: "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", PURE_SIDE], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    pure: dict[str, list[str]] = json.loads(done.stdout)
    compiled = traces()
    assert list(compiled) == list(pure)
    for name, steps in compiled.items():
        assert len(steps) > 300
        parted = next((i for i, (a, b) in enumerate(zip(steps, pure[name], strict=True))
                       if a != b), None)
        assert parted is None, f"{name}: the cores part at command {parted}"
