// The level-2 book of one product, from the feed's `level2_batch` snapshot and updates, shown
// as a ladder grouped by a chosen tick, with the spread, and as a depth chart.

import { decimalsOf, fixed, h, trim } from "./dom.js";

const ROWS = 14; // price levels shown per side

export class Book {
  constructor() {
    this.product = null;
    this.bids = new Map(); // price (number) -> [price text, size text]
    this.asks = new Map();
  }

  reset(product) {
    this.product = product;
    this.bids.clear();
    this.asks.clear();
  }

  snapshot(message) {
    this.bids.clear();
    this.asks.clear();
    for (const [price, size] of message.bids) this.bids.set(Number(price), [price, size]);
    for (const [price, size] of message.asks) this.asks.set(Number(price), [price, size]);
  }

  update(message) {
    for (const [side, price, size] of message.changes) {
      const levels = side === "buy" ? this.bids : this.asks;
      if (Number(size) === 0) levels.delete(Number(price));
      else levels.set(Number(price), [price, size]);
    }
  }

  // The best `n` levels of a side, best first, as [price text, size text].
  levels(side, n) {
    const levels = side === "buy" ? this.bids : this.asks;
    const keys = [...levels.keys()].sort(side === "buy" ? (a, b) => b - a : (a, b) => a - b);
    return keys.slice(0, n).map((key) => levels.get(key));
  }
}

// Levels grouped by `tick` (bids down, asks up), or as they are at the product's own tick.
function grouped(levels, side, tick, native, sizeDecimals, priceDecimals) {
  if (tick === native) return levels.map(([p, s]) => [p, s, Number(s)]);
  const out = [];
  const step = Number(tick);
  for (const [price, size] of levels) {
    const ratio = Number(price) / step;
    const bucket = (side === "buy" ? Math.floor(ratio + 1e-9) : Math.ceil(ratio - 1e-9)) * step;
    const last = out[out.length - 1];
    if (last && last[3] === bucket) last[2] += Number(size);
    else out.push([fixed(bucket, priceDecimals), null, Number(size), bucket]);
  }
  return out.map(([p, , total]) => [p, fixed(total, sizeDecimals), total]);
}

export class Ladder {
  constructor(book, asks, bids, spread, tickSelect) {
    this.book = book;
    this.lists = { sell: asks, buy: bids };
    this.spread = spread;
    this.tickSelect = tickSelect;
    this.product = null;
    for (const list of Object.values(this.lists)) {
      list.replaceChildren(...Array.from({ length: ROWS }, () =>
        h("li", {}, h("span"), h("span"), h("span"))));
    }
    tickSelect.addEventListener("change", () => this.render());
  }

  setProduct(product) {
    this.product = product;
    const base = Number(product.quote_increment);
    const d = decimalsOf(product.quote_increment);
    this.tickSelect.replaceChildren(...[1, 10, 100, 1000, 10000].map((k, i) => {
      const tick = i === 0 ? product.quote_increment : fixed(base * k, Math.max(0, d - i));
      return h("option", { value: tick, text: trim(tick) });
    }));
  }

  render() {
    const product = this.product;
    if (!product) return;
    const tick = this.tickSelect.value || product.quote_increment;
    const native = product.quote_increment;
    const sizeDecimals = decimalsOf(product.base_increment);
    const priceDecimals = decimalsOf(tick);
    const depth = tick === native ? ROWS : ROWS * 50;
    const sides = {};
    for (const side of ["buy", "sell"]) {
      sides[side] = grouped(this.book.levels(side, depth), side, tick, native, sizeDecimals,
        priceDecimals).slice(0, ROWS);
    }
    const most = Math.max(1e-12, ...["buy", "sell"].map((side) =>
      sides[side].reduce((sum, level) => sum + level[2], 0)));
    for (const side of ["buy", "sell"]) {
      let total = 0;
      const rows = this.lists[side].children;
      for (let i = 0; i < ROWS; i++) {
        const row = rows[i];
        const level = sides[side][i];
        const [price, size, amount] = level || ["", "", 0];
        total += amount;
        if (row.dataset.price !== price || row.dataset.size !== size) {
          row.dataset.price = price;
          row.dataset.size = size;
          row.children[0].textContent = price;
          row.children[1].textContent = size;
        }
        row.children[2].textContent = level ? fixed(total, sizeDecimals) : "";
        row.style.setProperty("--w", level ? `${(100 * total / most).toFixed(1)}%` : "0%");
      }
    }
    const bid = sides.buy[0];
    const ask = sides.sell[0];
    if (bid && ask) {
      const gap = Number(ask[0]) - Number(bid[0]);
      const mid = (Number(ask[0]) + Number(bid[0])) / 2;
      this.spread.textContent = `spread ${fixed(gap, priceDecimals)} (${(100 * gap / mid).toFixed(3)}%)`;
    } else {
      this.spread.textContent = "spread –";
    }
  }
}

// Cumulative size against price, bids left of the mid, asks right (60 levels a side at most),
// over mid ± 2.5 × the median level distance, so one far order does not flatten the rest.
export function drawDepth(canvas, book) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (!width || !height) return;
  if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
  if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const bids = book.levels("buy", 60).map(([p, s]) => [Number(p), Number(s)]);
  const asks = book.levels("sell", 60).map(([p, s]) => [Number(p), Number(s)]);
  if (!bids.length && !asks.length) return;
  const mid = bids.length && asks.length ? (bids[0][0] + asks[0][0]) / 2
    : (bids[0] || asks[0])[0];
  const distances = [...bids, ...asks].map(([p]) => Math.abs(p - mid)).sort((a, b) => a - b);
  const half = Math.max(2.5 * distances[Math.floor(distances.length / 2)],
    1.25 * distances[distances.length - 1] * (distances.length < 3 ? 1 : 0), 1e-12);
  const lo = Math.max(0, mid - half);
  const hi = mid + half;
  const steps = (levels) => {
    let total = 0;
    const out = [];
    for (const [p, s] of levels) {
      if (p < lo || p > hi) break;
      out.push([p, (total += s)]);
    }
    return out;
  };
  const b = steps(bids);
  const a = steps(asks);
  const top = Math.max(b.length ? b[b.length - 1][1] : 0, a.length ? a[a.length - 1][1] : 0, 1e-12);
  const x = (p) => ((p - lo) / (hi - lo)) * (width - 2) + 1;
  const y = (v) => height - 14 - (v / top) * (height - 20);
  for (const [points, color, edge] of [[b, "38,166,154", lo], [a, "239,83,80", hi]]) {
    if (!points.length) continue;
    ctx.beginPath();
    ctx.moveTo(x(points[0][0]), y(0));
    let last = 0;
    for (const [p, v] of points) {
      ctx.lineTo(x(p), y(last));
      ctx.lineTo(x(p), y(v));
      last = v;
    }
    ctx.lineTo(x(edge), y(last));
    ctx.lineTo(x(edge), y(0));
    ctx.closePath();
    ctx.fillStyle = `rgba(${color},0.25)`;
    ctx.strokeStyle = `rgb(${color})`;
    ctx.fill();
    ctx.stroke();
  }
  ctx.fillStyle = "#8a93a6";
  ctx.font = "11px sans-serif";
  const digits = Math.max(0, Math.min(8, 2 - Math.floor(Math.log10(half))));
  const labels = [[lo, 2], [mid, width / 2], [hi, width - 2]];
  for (const [value, at] of labels) {
    const text = value.toFixed(digits);
    const w = ctx.measureText(text).width;
    ctx.fillText(text, at === 2 ? 2 : at === width - 2 ? at - w : at - w / 2, height - 2);
  }
}
