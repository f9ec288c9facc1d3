"""The shipped FIX data dictionaries are ``scripts/fix_dictionary.py``'s output, and cover
every tag the gateways' modules name (a new tag sent without a dictionary entry would make
validating clients drop the message)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from sandex.api.fix import spec

ROOT = Path(__file__).resolve().parents[2]


def generator():  # type: ignore[no-untyped-def]
    path = ROOT / "scripts" / "fix_dictionary.py"
    loaded = importlib.util.spec_from_file_location("fix_dictionary", path)
    assert loaded is not None and loaded.loader is not None
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    return module


def test_the_shipped_dictionaries_are_the_generators_output() -> None:
    files = generator().files()
    assert files["FIXT11-sandex.xml"] == spec.TRANSPORT.read_text()
    assert files["FIX50SP2-sandex.xml"] == spec.APPLICATION.read_text()


def test_every_tag_the_gateways_send_is_defined() -> None:
    defined = {int(n) for n in re.findall(r"number='(\d+)'", spec.TRANSPORT.read_text()
                                          + spec.APPLICATION.read_text())}
    sent: set[int] = set()
    for module in (ROOT / "sandex" / "api" / "fix").glob("*.py"):
        sent |= {int(t) for t in re.findall(r"\((\d{1,5}), ", module.read_text())}
    assert sent - {0, 4, 13} <= defined  # list indexes and a reject reason, not tags


def test_the_dictionaries_ship_with_the_package() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"api/fix/spec/*.xml"' in pyproject.split("[tool.setuptools.package-data]")[1]
