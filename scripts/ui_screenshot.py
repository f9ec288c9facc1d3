"""docs/ui.png (and docs/ui-phone.png): the web page against a running demo venue.

Starts ``sandex serve --ephemeral`` with the embedded default scenario (the demo market),
runs its venue clock 30x for a while so the candles have some history, signs in with the
demo key, rests one order, opens the test controls, and takes the screenshots in headless
Chromium (tests/support/browser_kit.py). ``make ui-screenshot``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sandex.cli import ADMIN_TOKEN_VARIABLE  # noqa: E402
from sandex.server import default_scenario  # noqa: E402
from tests.support.browser_kit import chromium, why_no_browser  # noqa: E402
from tests.support.rest_kit import RawClient, start_server  # noqa: E402

TOKEN = "screenshot-admin-token"
WARM_UP_S = 40.0  # real seconds at rate 30: about 20 minutes of venue time


def admin(url: str, command: str, args: dict[str, object]) -> object:
    request = urllib.request.Request(f"{url}/admin/{command}", json.dumps(args).encode(),
                                     {"Authorization": f"Bearer {TOKEN}"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def main() -> int:
    reason = why_no_browser()
    if reason is not None:
        print(reason, file=sys.stderr)
        return 2
    scenario = tomllib.loads(default_scenario().read_text())
    keys = next(p["keys"][0] for p in scenario["profiles"] if p.get("keys"))
    creds = (keys["key"], keys["secret"], keys["passphrase"])
    os.environ[ADMIN_TOKEN_VARIABLE] = TOKEN
    server = start_server(scenario=default_scenario())
    try:
        admin(server.url, "clock.rate", {"rate": 30})
        time.sleep(WARM_UP_S)
        admin(server.url, "clock.rate", {"rate": 1})
        mid = RawClient(server.port).get("/products/BTC-USD/ticker").json()["price"]
        with chromium() as browser:
            for name, viewport in (("ui.png", {"width": 1280, "height": 800}),
                                   ("ui-phone.png", {"width": 390, "height": 844})):
                page = browser.new_page(viewport=viewport)
                page.goto(f"{server.url}/ui/?product=BTC-USD")
                page.wait_for_selector("body[data-ready=true]")
                page.fill("#key", creds[0])
                page.fill("#secret", creds[1])
                page.fill("#passphrase", creds[2])
                page.click("#signin button[type=submit]")
                page.wait_for_selector("#account:not([hidden])")
                if name == "ui.png":
                    page.fill("#o-price", f"{float(mid) * 0.98:.2f}")
                    page.fill("#o-size", "0.05")
                    page.click("#o-submit")
                    page.wait_for_selector("#orders tbody tr")
                    page.fill("#admin-token", TOKEN)
                    page.click("#admin-signin button")
                    page.wait_for_selector("#admin:not([hidden])")
                page.evaluate("scrollTo(0, 0)")
                page.wait_for_timeout(2500)
                target = ROOT / "docs" / name
                page.screenshot(path=str(target), full_page=name == "ui.png")
                print(f"wrote {target}")
                page.close()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
