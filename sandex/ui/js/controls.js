// The test controls: the admin API (`/admin/<command>`, loopback clients with the admin token)
// as buttons. Sections appear for the commands this venue has (read from /openapi.json), so
// the panel grows with the admin API: clock, state, reset and snapshots, faults, gate, replay.

import { $, h } from "./dom.js";

const STORE = "sandex.admin-token";
const REFRESH_MS = 1000;

function list(pairs) {
  return h("dl", {}, ...pairs.flatMap(([name, value]) => [h("dt", { text: name }),
    h("dd", { "data-field": name, text: value === null || value === undefined ? "–" :
      typeof value === "object" ? JSON.stringify(value) : String(value) })]));
}

export class Controls {
  constructor(api) {
    this.api = api;
    this.token = null;
    this.commands = new Set();
    this.sections = [];
    this.timer = null;
    $("admin-signin").addEventListener("submit", (event) => {
      event.preventDefault();
      this.open($("admin-token").value.trim());
    });
    const kept = sessionStorage.getItem(STORE);
    if (kept) this.open(kept);
  }

  async call(command, args) {
    return this.api.admin(this.token, command, args);
  }

  async open(token) {
    $("admin-error").textContent = "";
    this.token = token;
    try {
      await this.call("clock");
      const spec = await this.api.get("/openapi.json");
      this.commands = new Set(Object.keys(spec.paths).filter((p) => p.startsWith("/admin/"))
        .map((p) => p.slice(7)));
      this.presets = spec.paths["/admin/fault.preset"]?.post?.requestBody?.content?.[
        "application/json"]?.schema?.properties?.name?.enum || [];
    } catch (error) {
      this.token = null;
      $("admin-error").textContent = error.status === 403
        ? `${error.message} (the admin API answers loopback clients only)` : error.message;
      return;
    }
    sessionStorage.setItem(STORE, token);
    $("admin-token").value = "";
    $("admin-signin").hidden = true;
    this.build();
    $("admin").hidden = false;
    this.tick();
  }

  close() {
    sessionStorage.removeItem(STORE);
    clearTimeout(this.timer);
    this.token = null;
    $("admin").hidden = true;
    $("admin-signin").hidden = false;
  }

  // One section: a title, a live view (refreshed by `read`), buttons and an output line.
  section(title, read, ...controls) {
    const view = h("div", { class: "view" });
    const out = h("p", { class: "error", role: "alert" });
    const node = h("section", { "aria-label": title }, h("h2", { text: title }), view, ...controls, out);
    const entry = { node, view, out, read };
    this.sections.push(entry);
    return entry;
  }

  // A button running `command` with `args()`, its answer shown, its error in the section.
  button(label, command, args, entry, done) {
    return h("button", { type: "button", text: label, onclick: async (event) => {
      const section = entry();
      section.out.textContent = "";
      try {
        const answer = await this.call(command, args ? args() : {});
        if (done) done(answer, section);
      } catch (error) {
        section.out.textContent = error.message;
      }
      this.tick();
    } });
  }

  build() {
    this.sections = [];
    const has = (name) => this.commands.has(name);
    const input = (id, placeholder, value = "") => h("input", { id, placeholder, value,
      "aria-label": placeholder });
    const grid = h("div", { class: "admin-grid" });
    let clock;
    clock = this.section("Venue clock", async (view) => {
      const c = await this.call("clock");
      view.replaceChildren(list([["mode", c.mode], ["now", c.now], ["rate", c.rate],
        ["frozen", c.frozen], ["next due", c.next_due ? `${c.next_due.kind} at ${c.next_due.at}` : null]]));
    },
    h("div", { class: "row" }, this.button("Freeze", "clock.freeze", null, () => clock)),
    h("div", { class: "row" }, input("clock-rate", "rate (e.g. 10)"),
      this.button("Set rate", "clock.rate", () => ({ rate: $("clock-rate").value }), () => clock)),
    h("div", { class: "row" }, input("clock-advance", "by (90s, 15m, 2h, 1d)"),
      this.button("Advance", "clock.advance", () => ({ by: $("clock-advance").value }), () => clock,
        (answer, s) => { s.out.textContent = `fired: ${JSON.stringify(answer.fired)}`; }),
      this.button("To next expiry", "clock.advance", () => ({ until: "next-expiry" }), () => clock,
        (answer, s) => { s.out.textContent = `fired: ${JSON.stringify(answer.fired)}`; })));
    grid.append(clock.node);

    let snaps;
    let armed = 0;
    const reset = h("button", { type: "button", id: "reset", text: "Reset to baseline",
      onclick: async () => {
        if (Date.now() - armed > 4000) {
          armed = Date.now();
          reset.textContent = "Click again to reset";
          setTimeout(() => { reset.textContent = "Reset to baseline"; }, 4000);
          return;
        }
        armed = 0;
        reset.textContent = "Reset to baseline";
        snaps.out.textContent = "";
        try {
          const answer = await this.call("reset", {});
          snaps.out.textContent = `reset: state ${answer.state_hash}`;
        } catch (error) {
          snaps.out.textContent = error.message;
        }
        this.tick();
      } });
    snaps = this.section("State, reset and snapshots", async (view) => {
      const [state, saved] = await Promise.all([this.call("state"), this.call("snapshot.list")]);
      const key = JSON.stringify([state, saved]);
      if (view.dataset.key === key) return; // unchanged: keep the buttons (and the focus)
      view.dataset.key = key;
      view.replaceChildren(list([["position", state.position], ["state hash", state.state_hash],
        ["time", state.time]]), h("table", { class: "table" }, h("tbody", {}, ...saved.map((s) =>
        h("tr", { "data-snapshot": s.name }, h("td", { text: s.name }), h("td", { text: s.time }),
          h("td", {}, this.button("Restore", "snapshot.restore", () => ({ name: s.name }), () => snaps),
            s.name === "baseline" ? "" : this.button("Delete", "snapshot.delete",
              () => ({ name: s.name }), () => snaps)))))));
    },
    h("div", { class: "row" }, input("snapshot-name", "snapshot name"),
      this.button("Save", "snapshot.save", () => ({ name: $("snapshot-name").value }), () => snaps)),
    h("div", { class: "row" }, reset));
    grid.append(snaps.node);

    if (has("fault.list")) {
      let faults;
      faults = this.section("Faults", async (view) => {
        const rules = await this.call("fault.list");
        const shown = Array.isArray(rules) ? rules : rules.rules || [];
        view.replaceChildren(h("pre", { class: "out", text: shown.length
          ? shown.map((r) => JSON.stringify(r)).join("\n") : "no fault rules" }));
      },
      has("fault.preset") ? h("div", { class: "row" }, h("select", { id: "fault-preset",
        "aria-label": "fault preset" }, ...this.presets.map((name) => h("option", { text: name }))),
      this.button("Install preset", "fault.preset", () => ({ name: $("fault-preset").value }),
        () => faults)) : "",
      has("fault.clear") ? h("div", { class: "row" },
        this.button("Clear all", "fault.clear", () => ({}), () => faults)) : "");
      grid.append(faults.node);
    }

    if (has("gate.held")) {
      let gate;
      gate = this.section("Order gate", async (view) => {
        const g = await this.call("gate.held");
        view.replaceChildren(list([["closed", g.closed], ["held", (g.held || []).length]]));
      }, h("div", { class: "row" },
        this.button("Close", "gate.close", () => ({ match: {} }), () => gate),
        this.button("Release all", "gate.release", () => ({ all: true }), () => gate),
        this.button("Open", "gate.open", () => ({}), () => gate)));
      grid.append(gate.node);
    }

    if (has("replay.status")) {
      let replay;
      replay = this.section("Replay", async (view) => {
        const r = await this.call("replay.status");
        view.replaceChildren(h("pre", { class: "out", text: JSON.stringify(r, null, 1) }));
      }, h("div", { class: "row" }, ...["start", "pause", "resume"].filter((c) => has(`replay.${c}`))
        .map((c) => this.button(c[0].toUpperCase() + c.slice(1), `replay.${c}`, () => ({}), () => replay))));
      grid.append(replay.node);
    }

    const leave = h("button", { type: "button", class: "link", text: "Close the controls",
      onclick: () => this.close() });
    $("admin").replaceChildren(grid, leave);
  }

  async tick() {
    clearTimeout(this.timer);
    if (!this.token) return;
    if (!document.hidden) {
      await Promise.all(this.sections.map(async (s) => {
        try {
          await s.read(s.view);
        } catch (error) {
          s.view.textContent = error.message;
        }
      }));
    }
    if (this.token) this.timer = setTimeout(() => this.tick(), REFRESH_MS);
  }
}
