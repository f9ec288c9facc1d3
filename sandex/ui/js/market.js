// Candles with volume (lightweight-charts), the trades tape and the 24 h stats of one product:
// first from REST (`/candles`, `/trades`, `/stats`), then kept up from the `matches` and
// `ticker` channels, so the page shows what any client of the venue sees.

import { CandlestickSeries, ColorType, HistogramSeries, createChart } from
  "../vendor/lightweight-charts-5.2.1.standalone.production.mjs";
import { $, h, timeOf, trim } from "./dom.js";

export const GRANULARITIES = [[60, "1m"], [300, "5m"], [900, "15m"], [3600, "1h"],
  [21600, "6h"], [86400, "1d"]];
const TAPE_ROWS = 50;

export class Candles {
  constructor(container, legend, buttons, api) {
    this.api = api;
    this.legend = legend;
    this.granularity = 60;
    this.product = null;
    this.last = null; // the newest bar {time, open, high, low, close, volume}
    this.loading = 0;
    this.chart = createChart(container, {
      autoSize: true,
      layout: { background: { type: ColorType.Solid, color: "#171c27" }, textColor: "#8a93a6" },
      grid: { vertLines: { color: "#1f2533" }, horzLines: { color: "#1f2533" } },
      timeScale: { timeVisible: true, secondsVisible: false, borderColor: "#262d3d" },
      rightPriceScale: { borderColor: "#262d3d" },
    });
    this.candles = this.chart.addSeries(CandlestickSeries, { upColor: "#26a69a",
      downColor: "#ef5350", wickUpColor: "#26a69a", wickDownColor: "#ef5350", borderVisible: false });
    this.volume = this.chart.addSeries(HistogramSeries, { priceScaleId: "volume",
      priceFormat: { type: "volume" }, color: "#3a4a6b" });
    this.chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    this.buttons = GRANULARITIES.map(([seconds, label]) => h("button", {
      type: "button", text: label, "data-granularity": String(seconds),
      "aria-pressed": String(seconds === this.granularity),
      onclick: () => this.setGranularity(seconds) }));
    buttons.replaceChildren(...this.buttons);
  }

  setGranularity(seconds) {
    this.granularity = seconds;
    for (const b of this.buttons) b.setAttribute("aria-pressed", String(b.dataset.granularity === String(seconds)));
    this.load();
  }

  setProduct(product) {
    this.product = product;
    const d = Math.max(0, trim(product.quote_increment).split(".")[1]?.length || 0);
    this.candles.applyOptions({ priceFormat: { type: "price", precision: d,
      minMove: Number(product.quote_increment) } });
    this.load();
  }

  async load() {
    const ticket = ++this.loading;
    const rows = await this.api.get(
      `/products/${this.product.id}/candles?granularity=${this.granularity}`);
    if (ticket !== this.loading) return; // a newer product or granularity was chosen
    const bars = rows.map(([time, low, high, open, close, volume]) =>
      ({ time, low, high, open, close, volume })).reverse();
    this.candles.setData(bars.map(({ volume, ...bar }) => bar));
    this.volume.setData(bars.map((bar) => this.volumeBar(bar)));
    this.last = bars.length ? { ...bars[bars.length - 1] } : null;
    this.showLegend();
  }

  volumeBar(bar) {
    return { time: bar.time, value: bar.volume,
      color: bar.close >= bar.open ? "rgba(38,166,154,0.5)" : "rgba(239,83,80,0.5)" };
  }

  // A trade: into the current bar, or a new bar (a gap in time leaves no bar, as /candles).
  trade(match) {
    const seconds = Date.parse(match.time) / 1000;
    const start = Math.floor(seconds / this.granularity) * this.granularity;
    const price = Number(match.price);
    const size = Number(match.size);
    const last = this.last;
    if (last && start < last.time) return; // older than the newest bar: already counted
    if (last && start === last.time) {
      last.high = Math.max(last.high, price);
      last.low = Math.min(last.low, price);
      last.close = price;
      last.volume += size;
    } else {
      this.last = { time: start, open: price, high: price, low: price, close: price, volume: size };
    }
    this.dirty = true;
  }

  flush() {
    if (!this.dirty || !this.last) return;
    this.dirty = false;
    const { volume, ...bar } = this.last;
    this.candles.update(bar);
    this.volume.update(this.volumeBar(this.last));
    this.showLegend();
  }

  showLegend() {
    const bar = this.last;
    this.legend.replaceChildren();
    if (!bar) {
      this.legend.textContent = "no trades in this range";
      return;
    }
    for (const [name, value] of [["O", bar.open], ["H", bar.high], ["L", bar.low],
      ["C", bar.close], ["V", +bar.volume.toFixed(8)]]) {
      this.legend.append(`${name} `, h("b", { "data-field": name, text: String(value) }), "  ");
    }
    this.legend.dataset.time = String(bar.time);
  }
}

export class Tape {
  constructor(list) {
    this.list = list;
    this.pending = [];
    this.seen = new Set(); // trade ids shown (bounded with the rows)
  }

  clear() {
    this.list.replaceChildren();
    this.pending = [];
    this.seen.clear();
  }

  // Trades newest first (GET /products/{id}/trades); the side is the maker's, as on the feed.
  load(trades) {
    this.clear();
    for (const trade of trades.slice(0, TAPE_ROWS).reverse()) this.add(trade);
    this.flush();
  }

  add(trade) {
    this.pending.push(trade);
  }

  flush() {
    if (!this.pending.length) return;
    const fresh = this.pending.filter((t) => !this.seen.has(t.trade_id)).slice(-TAPE_ROWS);
    this.pending = [];
    const rows = [];
    for (const trade of fresh) {
      this.seen.add(trade.trade_id);
      rows.unshift(h("li", { class: trade.side === "sell" ? "up" : "down",
        "data-trade-id": String(trade.trade_id), "data-price": trim(trade.price),
        "data-size": trim(trade.size) },
      h("span", { text: trim(trade.price) }), h("span", { text: trim(trade.size) }),
      h("span", { text: timeOf(trade.time) })));
    }
    this.list.prepend(...rows);
    while (this.list.children.length > TAPE_ROWS) {
      this.seen.delete(Number(this.list.lastElementChild.dataset.tradeId));
      this.list.lastElementChild.remove();
    }
  }
}

// The header's 24 h figures: GET /products/{id}/stats, then each `ticker` message.
export function showStats(stats) {
  const last = Number(stats.last);
  const open = Number(stats.open);
  $("stat-last").textContent = trim(stats.last);
  $("stat-high").textContent = trim(stats.high);
  $("stat-low").textContent = trim(stats.low);
  $("stat-volume").textContent = trim(stats.volume);
  const change = $("stat-change");
  if (open > 0 && Number.isFinite(last)) {
    const pct = (100 * (last - open)) / open;
    change.textContent = `${pct >= 0 ? "+" : ""}${pct.toFixed(2)}%`;
  } else {
    change.textContent = "–";
  }
}
