// The venue's WebSocket feed: one connection, re-opened after a close (a snapshot restore
// closes every connection with 1012), subscriptions replayed on each open.

export class Feed {
  constructor(api, onStatus) {
    this.api = api;
    this.onStatus = onStatus;
    this.handlers = new Map(); // message type -> [handler]
    this.public = null; // {product_ids, channels}
    this.signed = null; // {product_ids, channels}
    this.ws = null;
    this.retry = 250;
    this.received = 0; // messages, for the benchmark
    this.closes = 0; // connections lost (a slow page would be cut off by the venue)
  }

  on(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, []);
    this.handlers.get(type).push(handler);
  }

  connect() {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    const ws = new WebSocket(url);
    this.ws = ws;
    this.onStatus("connecting", "");
    ws.onopen = () => {
      this.retry = 250;
      this.onStatus("open", "");
      this.resubscribe();
    };
    ws.onmessage = (event) => {
      this.received += 1;
      const message = JSON.parse(event.data);
      for (const handler of this.handlers.get(message.type) || []) handler(message);
    };
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.closes += 1;
      this.onStatus("closed", event.code === 1012 ? "venue restored" : `code ${event.code}`);
      setTimeout(() => this.connect(), this.retry);
      this.retry = Math.min(this.retry * 2, 5000);
    };
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  // Replace the public subscription (the page's product) and re-send it.
  watch(productIds, channels) {
    if (this.public) this.send({ type: "unsubscribe", ...this.public });
    this.public = { product_ids: productIds, channels };
    this.send({ type: "subscribe", ...this.public });
  }

  // The signed subscription (the `user` channel); null to drop it.
  async watchSigned(productIds, channels) {
    if (this.signed) this.send({ type: "unsubscribe", ...this.signed });
    this.signed = productIds ? { product_ids: productIds, channels } : null;
    if (this.signed) await this.subscribeSigned();
  }

  async subscribeSigned() {
    if (!this.signed || !this.api.creds) return;
    const auth = await this.api.authFields("GET", "/users/self/verify");
    this.send({ type: "subscribe", ...this.signed, ...auth });
  }

  resubscribe() {
    if (this.public) this.send({ type: "subscribe", ...this.public });
    this.subscribeSigned();
  }
}
