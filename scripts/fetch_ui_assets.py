"""Fetch the web page's one third-party file: TradingView's lightweight-charts, pinned.

Downloads the package's npm registry tarball, checks its sha256 against the pin below, and
writes its published standalone ES module build and its licence into ``sandex/ui/vendor/``
(committed, so ``make run`` needs neither the network nor a build step). An update is one
command: change ``VERSION`` and ``SHA256`` and run ``make ui-assets`` (or this script).

    python scripts/fetch_ui_assets.py          # fetch, verify, write
    python scripts/fetch_ui_assets.py --check  # verify the committed files against the tarball
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import tarfile
import urllib.request
from pathlib import Path

PACKAGE = "lightweight-charts"
VERSION = "5.2.1"
SHA256 = "64310292298df4dd527494865e5d91d447f8bb397b68de3912c2a6465025ee5e"
# the standalone module as the tarball holds it (checked offline by tests/ui/test_static.py)
MODULE_SHA256 = "1bb1ee79f9d4dd17261b53d930f7a8995748276f80e7ba0e24412b5068062f5f"
TARBALL = f"https://registry.npmjs.org/{PACKAGE}/-/{PACKAGE}-{VERSION}.tgz"
# tarball member -> file written under sandex/ui/vendor/
FILES = {
    "package/dist/lightweight-charts.standalone.production.mjs":
        f"lightweight-charts-{VERSION}.standalone.production.mjs",
    "package/LICENSE": "lightweight-charts.LICENSE",
}
VENDOR = Path(__file__).resolve().parent.parent / "sandex" / "ui" / "vendor"


def download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        return bytes(response.read())


def members(tarball: bytes) -> dict[str, bytes]:
    """The files of ``FILES`` out of the tarball (a missing one is an error)."""
    found: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        for name in FILES:
            extracted = tar.extractfile(name)
            if extracted is None:
                raise SystemExit(f"{TARBALL}: no {name}")
            found[name] = extracted.read()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare the committed files with the tarball; write nothing")
    args = parser.parse_args()
    tarball = download(TARBALL)
    digest = hashlib.sha256(tarball).hexdigest()
    if digest != SHA256:
        print(f"{TARBALL}: sha256 {digest}, expected {SHA256}: refusing it", file=sys.stderr)
        return 1
    stale = []
    found = members(tarball)
    module = hashlib.sha256(found[next(iter(FILES))]).hexdigest()
    if module != MODULE_SHA256:
        print(f"the standalone module's sha256 is {module}, expected {MODULE_SHA256}",
              file=sys.stderr)
        return 1
    for name, data in found.items():
        target = VENDOR / FILES[name]
        if args.check:
            if not target.exists() or target.read_bytes() != data:
                stale.append(str(target))
            continue
        target.write_bytes(data)
        print(f"wrote {target} ({len(data)} bytes)")
    if stale:
        print("differs from the tarball: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
