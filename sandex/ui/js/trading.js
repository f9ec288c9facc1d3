// Signing in, balances and holds, the order form, open orders with their cancel buttons, and
// fills: all over signed REST; refreshed when the `user` channel says one of our orders moved.

import { $, fillTable, h, timeOf, trim } from "./dom.js";

const STORE = "sandex.credentials";
const REFRESH_GAP_MS = 1000;

export class Trading {
  constructor(api, feed, products, getProduct) {
    this.api = api;
    this.feed = feed;
    this.products = products; // all product ids (the user channel covers them all)
    this.getProduct = getProduct;
    this.timer = null;
    this.refreshed = 0;
    $("signin").addEventListener("submit", (event) => {
      event.preventDefault();
      this.signIn($("key").value, $("secret").value, $("passphrase").value, $("remember").checked);
    });
    $("signout").addEventListener("click", () => this.signOut());
    $("order-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.place();
    });
    $("o-type").addEventListener("change", () => this.showFields());
    $("o-tif").addEventListener("change", () => this.showFields());
    $("cancel-all").addEventListener("click", () => this.cancelAll());
    for (const type of ["received", "open", "done", "match", "change", "activate"]) {
      feed.on(type, (message) => { if (message.profile_id) this.refreshSoon(); });
    }
    this.showFields();
    const kept = sessionStorage.getItem(STORE);
    if (kept) {
      const { key, secret, passphrase } = JSON.parse(kept);
      this.signIn(key, secret, passphrase, true);
    }
  }

  async signIn(key, secret, passphrase, remember) {
    $("signin-error").textContent = "";
    try {
      await this.api.signIn(key, secret, passphrase);
      await this.refresh();
    } catch (error) {
      this.api.signOut();
      $("signin-error").textContent = error.message;
      return;
    }
    if (remember) sessionStorage.setItem(STORE, JSON.stringify({ key, secret, passphrase }));
    $("secret").value = "";
    $("passphrase").value = "";
    $("who").textContent = this.api.creds.key;
    $("signin").hidden = true;
    $("account").hidden = false;
    $("private").hidden = false;
    await this.feed.watchSigned(this.products, ["user"]);
  }

  signOut() {
    sessionStorage.removeItem(STORE);
    this.api.signOut();
    this.feed.watchSigned(null);
    $("signin").hidden = false;
    $("account").hidden = true;
    $("private").hidden = true;
  }

  showFields() {
    const type = $("o-type").value;
    const limit = type === "limit" || type === "stop-limit";
    const shown = { limit, market: !limit, stop: type.startsWith("stop"),
      gtt: limit && $("o-tif").value === "GTT" };
    for (const label of document.querySelectorAll("#order-form [data-for]")) {
      label.hidden = !shown[label.dataset.for];
    }
  }

  // The POST /orders body of the form, as Coinbase takes it (empty fields left out).
  body() {
    const form = new FormData($("order-form"));
    const type = form.get("type");
    const limit = type === "limit" || type === "stop-limit";
    const body = { product_id: this.getProduct().id, side: form.get("side"),
      type: limit ? "limit" : "market", stp: form.get("stp") };
    const put = (name) => {
      const value = String(form.get(name) || "").trim();
      if (value) body[name] = value;
    };
    put("size");
    if (limit) {
      put("price");
      body.time_in_force = form.get("time_in_force");
      if (body.time_in_force === "GTT") body.cancel_after = form.get("cancel_after");
      if (form.get("post_only")) body.post_only = true;
    } else {
      put("funds");
    }
    if (type.startsWith("stop")) {
      body.stop = form.get("stop");
      put("stop_price");
    }
    return body;
  }

  async place() {
    $("order-error").textContent = "";
    $("order-result").textContent = "";
    const body = this.body();
    try {
      const order = await this.api.private("POST", "/orders", body);
      $("order-result").textContent = `${order.side} ${trim(order.size || order.funds)} ` +
        `${order.product_id}: ${order.status} (${order.id})`;
      $("order-result").dataset.orderId = order.id;
    } catch (error) {
      $("order-error").textContent = error.message;
    }
    this.refresh().catch(() => {});
  }

  async cancel(order) {
    $("orders-error").textContent = "";
    try {
      await this.api.private("DELETE", `/orders/${order.id}`);
    } catch (error) {
      $("orders-error").textContent = error.message;
    }
    this.refresh().catch(() => {});
  }

  async cancelAll() {
    $("orders-error").textContent = "";
    try {
      await this.api.private("DELETE", "/orders");
    } catch (error) {
      $("orders-error").textContent = error.message;
    }
    this.refresh().catch(() => {});
  }

  // At most one refresh a second however busy the profile is: the page's private requests
  // count against the profile's rate limit, which its bot shares.
  refreshSoon() {
    if (this.timer) return;
    const wait = Math.max(0, this.refreshed + REFRESH_GAP_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.refresh().catch((error) => { $("orders-error").textContent = error.message; });
    }, wait);
  }

  async refresh() {
    this.refreshed = Date.now();
    const product = this.getProduct();
    const [accounts, orders, fills] = await Promise.all([
      this.api.private("GET", "/accounts"),
      this.api.private("GET", "/orders?status=open&status=pending&status=active"),
      this.api.private("GET", `/fills?product_id=${product.id}&limit=20`)]);
    fillTable($("balances").tBodies[0], accounts
      .filter((a) => Number(a.balance) !== 0 || Number(a.hold) !== 0)
      .map((a) => h("tr", { "data-currency": a.currency },
        h("td", { text: a.currency }), h("td", { text: trim(a.balance) }),
        h("td", { text: trim(a.available) }), h("td", { "data-field": "hold", text: trim(a.hold) }))));
    fillTable($("orders").tBodies[0], orders.map((o) => h("tr", { "data-order-id": o.id },
      h("td", { text: o.product_id }), h("td", { class: o.side, text: o.side }),
      h("td", { text: o.stop ? `stop ${o.stop} ${trim(o.stop_price)} ${o.type}` : o.type }),
      h("td", { "data-field": "price", text: o.price ? trim(o.price) : "market" }),
      h("td", { "data-field": "size", text: trim(o.size || o.funds) }),
      h("td", { text: trim(o.filled_size) }), h("td", { text: o.status }),
      h("td", { text: o.time_in_force || "" }), h("td", { text: timeOf(o.created_at) }),
      h("td", {}, h("button", { type: "button", class: "cancel", text: "Cancel",
        "aria-label": `Cancel order ${o.id}`, onclick: () => this.cancel(o) })))));
    fillTable($("fills").tBodies[0], fills.map((f) => h("tr", { "data-trade-id": String(f.trade_id) },
      h("td", { text: timeOf(f.created_at) }), h("td", { text: f.product_id }),
      h("td", { class: f.side, text: f.side }), h("td", { text: trim(f.price) }),
      h("td", { text: trim(f.size) }), h("td", { text: trim(f.fee) }),
      h("td", { text: f.liquidity === "M" ? "maker" : "taker" }))));
  }
}
