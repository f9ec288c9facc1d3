// The page: picks a product, wires the feed to the book, candles, tape and stats, and starts
// the trading and test-control panels. `window.sandexPage` exposes the parts for the
// benchmark (bench/ui_feed.py) and for debugging in the browser console.

import { Api } from "./api.js";
import { Book, Ladder, drawDepth } from "./book.js";
import { Controls } from "./controls.js";
import { $, h } from "./dom.js";
import { Feed } from "./feed.js";
import { Candles, Tape, showStats } from "./market.js";
import { Trading } from "./trading.js";

const PUBLIC_CHANNELS = ["level2_batch", "matches", "ticker"];

async function start() {
  const api = new Api();
  const status = $("feed-status");
  let lost = false;
  let reload = () => {};
  const feed = new Feed(api, (state, detail) => {
    status.textContent = `feed: ${state}${detail ? ` (${detail})` : ""}`;
    status.className = `status ${state === "open" ? "ok" : state === "closed" ? "bad" : ""}`;
    if (state === "closed") lost = true;
    if (state === "open" && lost) reload(); // e.g. after a snapshot restore: read it all again
  });
  const products = (await api.get("/products")).sort((a, b) => a.id.localeCompare(b.id));
  const picker = $("product");
  picker.replaceChildren(...products.map((p) => h("option", { value: p.id, text: p.id })));
  const wanted = new URLSearchParams(location.search).get("product") || "BTC-USD";
  if (products.some((p) => p.id === wanted)) picker.value = wanted;
  let product = products.find((p) => p.id === picker.value);

  const book = new Book();
  const ladder = new Ladder(book, $("asks"), $("bids"), $("spread"), $("book-tick"));
  const candles = new Candles($("candles"), $("candle-legend"), $("granularity"), api);
  const tape = new Tape($("tape"));
  const depth = $("depth");
  let stats = null;
  let dirty = false;
  const mine = (message) => message.product_id === product.id;

  feed.on("snapshot", (m) => { if (mine(m)) { book.snapshot(m); dirty = true; } });
  feed.on("l2update", (m) => { if (mine(m)) { book.update(m); dirty = true; } });
  // A trade once, though a signed connection hears ours on `matches` and on `user` alike.
  let lastTrade = 0;
  const onMatch = (m) => {
    if (!mine(m) || m.trade_id <= lastTrade) return;
    lastTrade = m.trade_id;
    tape.add(m);
    if (m.type === "match") candles.trade(m); // a last_match is in /candles already
  };
  feed.on("match", onMatch);
  feed.on("last_match", onMatch);
  feed.on("ticker", (m) => {
    if (!mine(m)) return;
    stats = { ...(stats || {}), last: m.price, open: m.open_24h, high: m.high_24h,
      low: m.low_24h, volume: m.volume_24h };
    showStats(stats);
  });

  // One repaint per frame, whatever the message rate.
  const frame = () => {
    if (dirty) {
      dirty = false;
      ladder.render();
      drawDepth(depth, book);
    }
    tape.flush();
    candles.flush();
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  addEventListener("resize", () => { dirty = true; });

  const choose = async () => {
    product = products.find((p) => p.id === picker.value);
    history.replaceState(null, "", `?product=${product.id}`);
    document.title = `${product.id} · sandex`;
    book.reset(product);
    lastTrade = 0;
    ladder.setProduct(product);
    dirty = true;
    candles.setProduct(product);
    feed.watch([product.id], PUBLIC_CHANNELS);
    const [trades, fresh] = await Promise.all([
      api.get(`/products/${product.id}/trades?limit=50`),
      api.get(`/products/${product.id}/stats`)]);
    tape.load(trades);
    stats = fresh;
    showStats(stats);
  };
  picker.addEventListener("change", () => {
    choose();
    if (api.creds) trading.refresh().catch(() => {});
  });
  feed.connect();
  await choose();
  const trading = new Trading(api, feed, products.map((p) => p.id), () => product);
  reload = () => {
    lost = false;
    choose().catch(() => {});
    if (api.creds) trading.refresh().catch(() => {});
  };
  const controls = new Controls(api);
  window.sandexPage = { api, feed, book, ladder, candles, tape, trading, controls };
  document.body.dataset.ready = "true";
}

start().catch((error) => {
  $("feed-status").textContent = `failed to start: ${error.message}`;
  $("feed-status").className = "status bad";
});
