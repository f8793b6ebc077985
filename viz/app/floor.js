// floor: the operator terminal at /app/floor. Pick the station (from the
// list or by scanning its QR), scan a card (camera or keyboard wedge),
// see what it is, start it, report or confirm good and scrap counts, clock
// on and off, report a stop with its reason and end it. Every action goes
// through the outbox (IndexedDB, sent when the network allows); the
// screen says done only once the server has said so.

import * as api from "./api.js";
import * as i18n from "./i18n.js";
import { Outbox, newID } from "./outbox.js";
import { Camera, parse, wedge } from "./scanner.js";
import { $, el, say, show, startLocale, startClock, serviceWorker, tick } from "./ui.js";

const store = globalThis.localStorage;
const st = {
  user: null,
  floor: { stations: [], downtime_reasons: [], scrap_reasons: [] },
  hasFloor: false, // the twin has GET /floor (reports, reasons, downtime)
  station: store.getItem("twin.station") || "",
  token: "", card: null, offlineCard: false,
  clocked: new Set(), // operations the worker is clocked on (the server's word)
  down: null, // the station's open stop {id, reason, start, sent}
  scrapReason: "",
  last: "", // the last thing the server confirmed, for the card's status line
};
const terminal = store.getItem("twin.terminal") || (() => { const id = "web-" + newID().slice(0, 8); store.setItem("twin.terminal", id); return id; })();
let outbox, camera;

// ---- the card cache: cards seen, so that one scanned offline is known
function cached(tok) { try { return JSON.parse(store.getItem("twin.card." + tok) || "null"); } catch { return null; } }
function cache(tok, c) {
  store.setItem("twin.card." + tok, JSON.stringify(c));
  const keys = JSON.parse(store.getItem("twin.cards") || "[]").filter(k => k !== tok);
  keys.push(tok);
  while (keys.length > 50) store.removeItem("twin.card." + keys.shift());
  store.setItem("twin.cards", JSON.stringify(keys));
}

// ---- header
function stationName(id) {
  const s = st.floor.stations.find(x => x.id === id || x.path === id);
  return s ? s.name || s.id : id;
}

function header() {
  $("b-station").textContent = st.station ? i18n.t("floor.station", { station: stationName(st.station) }) : i18n.t("floor.no_station");
  $("who").textContent = st.user ? st.user.name : "";
  const n = outbox ? outbox.pending() : 0;
  const net = $("net");
  net.textContent = (navigator.onLine ? i18n.t("net.online") : i18n.t("net.offline")) + (n ? " · " + i18n.t("net.pending", { n }) : "");
  net.className = "chip net " + (navigator.onLine ? "on" : "off") + (n ? " pending" : "");
}

// ---- stations
function renderStations() {
  const list = $("station-list");
  list.replaceChildren();
  // one grid, in the plant file's order (work centre by work centre),
  // each button naming its machine and, below, its work centre
  const g = el("div", { class: "grid stations" });
  for (const s of st.floor.stations) {
    g.append(el("button", { type: "button", class: "big" + (s.id === st.station ? " chosen" : ""), dataset: { station: s.id }, onclick: () => pickStation(s.id) },
      el("span", {}, s.name || s.id), s.work_center ? el("small", {}, s.work_center) : null));
  }
  list.append(g);
}

async function pickStation(id) {
  const s = st.floor.stations.find(x => x.id === id || x.path === id);
  if (!s && st.floor.stations.length) { say(i18n.t("station.unknown", { station: id })); return; }
  st.station = s ? s.id : id;
  store.setItem("twin.station", st.station);
  say("");
  header();
  show("work", ["stations", "work"]);
  $("wedge").focus();
  await loadDowntime();
}

// ---- scanning
function scanned(text) {
  const p = parse(text);
  if (!p) return;
  if (p.station) { pickStation(p.station); return; }
  if (!st.station) { say(i18n.t("station.first")); return; }
  openCard(p.card);
}

async function startCamera() {
  say("");
  $("cam-box").hidden = false;
  $("b-camera").hidden = true;
  try {
    await camera.start(text => { stopCamera(); scanned(text); });
    document.body.dataset.decoder = camera.decoder;
  } catch (e) {
    stopCamera();
    say(i18n.t("scan.no_camera", { why: e && e.name ? e.name : String(e) }));
  }
}

function stopCamera() {
  camera.stop();
  $("cam-box").hidden = true;
  $("b-camera").hidden = false;
}

// ---- the card
async function openCard(tok) {
  st.token = tok;
  st.scrapReason = "";
  st.last = "";
  say("");
  $("c-state").textContent = i18n.t("card.looking");
  $("card").hidden = false;
  try {
    st.card = await api.card(tok);
    st.offlineCard = false;
    cache(tok, st.card);
    await loadClocked();
  } catch (e) {
    if (e.status !== 0) {
      st.card = null;
      $("card").hidden = true;
      say(i18n.errorText(e));
      return;
    }
    st.card = cached(tok) || { operation: { id: api.tokenOperation(tok) }, next: "", confirmed: { good: 0, scrap: 0 } };
    st.offlineCard = true;
  }
  setCounts();
  renderCard();
  $("card").scrollIntoView({ block: "start", behavior: "instant" });
}

// next is what the card needs now, as far as the terminal knows: the
// server's word, moved on by what waits in the outbox for this card.
function next() {
  const c = st.card;
  let n = c.next || "";
  for (const it of outbox.list()) {
    if (it.kind !== "scan" || it.body.token !== st.token || it.state === "refused") continue;
    if (it.body.action === "start") n = "confirm";
    if (it.body.action === "confirm") n = "done";
  }
  return n;
}

function pendingFor(tok) { return outbox.list().filter(it => it.kind === "scan" && it.body.token === tok); }

function fact(dl, key, value) {
  if (value === undefined || value === null || value === "") return;
  dl.append(el("dt", {}, i18n.t(key)), el("dd", {}, value));
}

function renderCard() {
  const c = st.card;
  if (!c) return;
  const op = c.operation || {}, o = c.order || {};
  $("c-title").textContent = op.name ? i18n.t("card.title", { seq: op.seq || "", name: op.name }) : i18n.t("card.title_unknown", { id: op.id || "?" });
  const dl = $("c-facts");
  dl.replaceChildren();
  fact(dl, "card.order", o.id || op.order);
  fact(dl, "card.customer", o.customer);
  fact(dl, "card.product", o.product || op.item);
  fact(dl, "card.work_order", c.work_order || op.work_order);
  fact(dl, "card.quantity", (o.quantity || op.planned) ? i18n.t("card.quantity_value", { planned: i18n.num(op.planned || o.quantity), order: i18n.num(o.quantity || op.planned) }) : "");
  fact(dl, "card.due", o.due ? i18n.when(o.due) : "");
  fact(dl, "card.station", c.station || op.station ? stationName(c.station || op.station) : (op.work_centers || []).join(" / "));
  if (c.confirmed && (c.confirmed.good || c.confirmed.scrap)) fact(dl, "card.so_far", i18n.t("card.so_far_value", { good: i18n.num(c.confirmed.good), scrap: i18n.num(c.confirmed.scrap) }));
  if (c.available !== undefined && c.available !== null && op.seq > 10) fact(dl, "card.available", i18n.num(c.available));
  const ins = c.instructions && (i18n.current() === "zh-CN" ? c.instructions.zh || c.instructions.en : c.instructions.en || c.instructions.zh);
  $("c-instr").hidden = !ins;
  $("c-instr-text").textContent = ins || "";

  const n = next();
  const known = !st.offlineCard || !!c.next;
  $("b-start").hidden = !(n === "start" || !known);
  $("counts").hidden = !(n === "confirm" || !known);
  $("b-report").hidden = !st.hasFloor;
  $("b-clock").hidden = !op.id || n === "done";
  $("b-clock").textContent = i18n.t(st.clocked.has(op.id) ? "clock.off" : "clock.on");
  renderScrapReasons();

  // the status line: what the server has said, and what waits
  const waiting = pendingFor(st.token);
  const parts = [];
  if (st.offlineCard) parts.push(i18n.t(c.next ? "card.offline_cached" : "card.offline_unknown"));
  if (st.last) parts.push(st.last);
  for (const it of waiting) {
    parts.push(it.state === "refused" ? i18n.t("outbox.refused_line", { what: label(it), why: refusal(it.error) }) : i18n.t("card.waiting", { what: label(it) }));
  }
  if (!waiting.length && !st.last && !st.offlineCard) parts.push(i18n.t("card.next." + (c.next || "start")));
  const meant = c.station || op.station || "";
  if (n !== "done" && meant && st.station && meant !== st.station && stationName(meant) !== stationName(st.station) && !(c.stations || []).includes(st.station)) {
    parts.push(i18n.t("card.other_station", { station: stationName(meant) }));
  }
  $("c-state").textContent = parts.join(" · ");
  $("c-state").className = "state" + (waiting.some(x => x.state === "refused") ? " refused" : waiting.length ? " waiting" : st.last ? " done" : "");
}

function stepper(id) { return $(id).querySelector("input"); }
function count(id) { const v = parseInt(stepper(id).value, 10); return isNaN(v) || v < 0 ? 0 : v; }

function setCounts() {
  const c = st.card, op = c.operation || {};
  const done = (c.confirmed ? c.confirmed.good + c.confirmed.scrap : 0);
  const avail = c.available ?? op.planned ?? 0;
  stepper("s-good").value = Math.max(0, c.remaining ?? avail - done);
  stepper("s-scrap").value = 0;
}

// scrapReasons are the reasons the card's operation offers, else the plant's.
function scrapReasons() {
  const own = st.card && st.card.scrap_reasons;
  return own && own.length ? own : st.floor.scrap_reasons || [];
}

function renderScrapReasons() {
  const box = $("scrap-reasons");
  const reasons = scrapReasons();
  const need = count("s-scrap") > 0 && reasons.length > 0;
  box.hidden = !need;
  box.replaceChildren();
  if (need) {
    box.append(el("p", { class: "hint" }, i18n.t("scrap.pick")));
    for (const r of reasons) {
      box.append(el("button", { type: "button", class: "big reason" + (r.code === st.scrapReason ? " chosen" : ""), "aria-pressed": r.code === st.scrapReason ? "true" : "false",
        dataset: { reason: r.code }, onclick: () => { st.scrapReason = r.code; renderScrapReasons(); } }, i18n.reasonName(r)));
    }
  }
  $("b-confirm").disabled = $("b-report").disabled = need && !st.scrapReason;
}

// why is a refusal in words, the plant's reason names in the locale.
function refusal(err) {
  if (err && err.args && err.args.reason) err = { ...err, args: { ...err.args, reason: reasonText(err.args.reason) } };
  return i18n.errorText(err);
}

// label is what an outbox item is, for a person.
function label(it) {
  const what = it.card || it.body.operation || it.body.token || "";
  switch (it.kind) {
    case "scan": return i18n.t("outbox.scan." + it.body.action, { card: what, good: it.body.good ?? "", scrap: it.body.scrap ?? "" });
    case "clock": return i18n.t("outbox.clock." + it.body.action, { card: what });
    case "down": return i18n.t("outbox.down", { reason: reasonText(it.body.reason), station: stationName(it.body.station) });
    case "down_end": return i18n.t("outbox.down_end", { station: stationName(it.station || "") });
  }
  return it.kind;
}

function cardName() {
  const op = (st.card && st.card.operation) || {};
  return op.name ? `${op.order || ""} ${op.name}`.trim() : op.id || st.token.slice(0, 12);
}

async function act(action) {
  if (!st.card) return;
  const body = { token: st.token, action, scan_id: newID(), terminal, at: new Date().toISOString() };
  if (st.station) body.station = st.station;
  if (action !== "start") {
    body.good = count("s-good");
    body.scrap = count("s-scrap");
    if (body.scrap > 0 && st.scrapReason) body.scrap_reason = st.scrapReason;
  }
  st.last = "";
  say("");
  await outbox.add({ id: body.scan_id, kind: "scan", method: "POST", path: "/scan", body, card: cardName() });
  renderCard();
}

async function clockToggle() {
  const op = st.card && st.card.operation;
  if (!op || !op.id) return;
  const action = st.clocked.has(op.id) ? "off" : "on";
  await outbox.add({ id: newID(), kind: "clock", method: "POST", path: "/labour/clock", body: { operation: op.id, action, at: new Date().toISOString() }, card: cardName() });
  renderCard();
}

async function loadClocked() {
  if (!st.user) return;
  try {
    const on = await api.clockedOn(st.user.name);
    if (on) st.clocked = new Set(on.map(x => x.operation));
  } catch { /* offline: what was known */ }
}

// ---- stops (downtime)
function reasonText(code) { return i18n.reasonName(st.floor.downtime_reasons.find(r => r.code === code)) || code; }

async function loadDowntime() {
  st.down = null;
  if (st.hasFloor && st.station) {
    try {
      const v = await api.openDowntime(st.station);
      const list = Array.isArray(v) ? v : (v && v.items) || [];
      const d = list.find(x => !x.end);
      if (d) st.down = { id: d.id, reason: d.reason, start: d.start, sent: true };
    } catch { /* offline */ }
  }
  for (const it of outbox.list()) { // what waits for the server
    if (it.kind === "down" && it.body.station === st.station && it.state !== "refused") st.down = { id: it.body.id, reason: it.body.reason, start: it.body.start, sent: false };
    if (it.kind === "down_end" && st.down && it.downtime === st.down.id) st.down = null;
  }
  renderDown();
}

function renderDown() {
  const d = st.down;
  $("down").hidden = !d;
  $("b-stop").hidden = !!d || !st.floor.downtime_reasons.length;
  if (d) $("down-text").textContent = i18n.t(d.sent ? "down.open" : "down.open_waiting", { reason: reasonText(d.reason), since: i18n.time(d.start), zone: i18n.zoneLabel() });
  const box = $("down-reasons");
  box.replaceChildren();
  if (!box.hidden) {
    box.append(el("p", { class: "hint" }, i18n.t("down.pick")));
    for (const r of st.floor.downtime_reasons) box.append(el("button", { type: "button", class: "big reason", dataset: { reason: r.code }, onclick: () => stop(r.code) }, i18n.reasonName(r)));
    box.append(el("button", { type: "button", class: "big quiet", onclick: () => { box.hidden = true; renderDown(); } }, i18n.t("down.cancel")));
  }
}

async function stop(reason) {
  $("down-reasons").hidden = true;
  const body = { id: newID(), station: st.station, reason, start: new Date().toISOString() };
  st.down = { id: body.id, reason, start: body.start, sent: false };
  await outbox.add({ id: body.id, kind: "down", method: "POST", path: "/downtime", body });
  renderDown();
}

async function endStop() {
  const d = st.down;
  if (!d) return;
  await outbox.add({ id: newID(), kind: "down_end", method: "POST", path: "/downtime/" + encodeURIComponent(d.id) + "/end", body: { at: new Date().toISOString() }, downtime: d.id, station: st.station });
  st.down = null;
  renderDown();
}

// ---- the outbox on screen
function renderOutbox(items) {
  const box = $("outbox");
  box.hidden = !items.length;
  const refused = items.filter(x => x.state === "refused").length;
  $("outbox-title").textContent = i18n.t(refused ? "outbox.title_refused" : "outbox.title", { n: items.length - refused, refused });
  const ul = $("outbox-list");
  ul.replaceChildren();
  for (const it of items) {
    const refused = it.state === "refused";
    const why = refused ? refusal(it.error) : it.error ? i18n.t("outbox.retrying", { why: refusal(it.error) }) : i18n.t("outbox.waiting");
    ul.append(el("li", { class: refused ? "refused" : "waiting", dataset: { id: it.id, kind: it.kind } },
      el("b", {}, label(it)), el("span", { class: "when" }, i18n.time(it.made)), el("span", { class: "why" }, why),
      refused ? el("button", { type: "button", class: "big quiet", onclick: () => outbox.dismiss(it.id) }, i18n.t("outbox.dismiss")) : null));
  }
}

// done is what the server said to an item: the card and the stop follow it.
async function done(it, result) {
  if (it.kind === "scan" && it.body.token === st.token) {
    const key = { started: "card.done.started", confirmed: it.body.action === "report" ? "card.done.reported" : "card.done.confirmed", reported: "card.done.reported" }[result && result.action] || "card.done.confirmed";
    st.last = i18n.t(key, { good: i18n.num(it.body.good ?? 0), scrap: i18n.num(it.body.scrap ?? 0) }) + (result && result.duplicate ? " " + i18n.t("card.done.duplicate") : "");
    try { st.card = await api.card(st.token); cache(st.token, st.card); st.offlineCard = false; setCounts(); } catch { /* shown as it was */ }
  }
  if (it.kind === "clock") {
    if (it.body.action === "on") st.clocked.add(it.body.operation); else st.clocked.delete(it.body.operation);
    say(i18n.t("clock.done." + it.body.action, { card: it.card || "" }), "ok");
  }
  if (it.kind === "down" && st.down && st.down.id === it.body.id) st.down.sent = true;
  if (it.kind === "down_end") say(i18n.t("down.ended"), "ok");
}

function changed(items, ev) {
  header();
  renderOutbox(items);
  if (ev.item && ev.result !== undefined) done(ev.item, ev.result).then(() => { renderCard(); renderDown(); header(); });
  else { if (st.card) renderCard(); renderDown(); }
  if (ev.error && ev.error.status === 401) { say(i18n.t("signin.again")); $("b-again").hidden = false; }
}

// send delivers an outbox item; a CSRF refusal (the session was renewed
// in another tab) fetches the session's token and tries once more.
async function send(it) {
  try {
    return await api.call(it.method, it.path, it.body);
  } catch (e) {
    if (e.code !== "csrf") throw e;
    await api.refresh();
    return api.call(it.method, it.path, it.body);
  }
}

// ---- start
function rerender() { header(); renderStations(); if (st.card) renderCard(); renderDown(); renderOutbox(outbox.list()); }

async function main() {
  await startLocale(store.getItem("twin.plant_locale") || "");
  try {
    st.user = await api.refresh();
  } catch (e) {
    st.user = null;
  }
  if (!st.user) { location.replace("/app/?next=floor"); return; }
  try {
    const f = await api.floor();
    st.floor = { ...st.floor, ...f };
    st.hasFloor = !!f.zone;
    store.setItem("twin.floor", JSON.stringify(st.floor));
    if (f.locale) store.setItem("twin.plant_locale", f.locale);
  } catch (e) {
    const kept = JSON.parse(store.getItem("twin.floor") || "null");
    if (kept) { st.floor = kept; st.hasFloor = !!kept.zone; } else say(i18n.errorText(e));
  }
  await startLocale(st.floor.locale || store.getItem("twin.plant_locale") || "", rerender);
  startClock();
  serviceWorker();
  camera = new Camera($("cam"));
  outbox = new Outbox({ send, onchange: changed });
  await outbox.open();
  addEventListener("online", header);
  addEventListener("offline", header);

  wedge($("wedge"), scanned);
  $("b-camera").addEventListener("click", startCamera);
  // signed out while items wait: they stay in the outbox for after
  $("b-again").addEventListener("click", () => location.assign("/app/?next=floor"));
  $("b-camera-stop").addEventListener("click", stopCamera);
  $("b-station").addEventListener("click", () => { stopCamera(); renderStations(); show("stations", ["stations", "work"]); });
  $("b-start").addEventListener("click", () => act("start"));
  $("b-report").addEventListener("click", () => act("report"));
  $("b-confirm").addEventListener("click", () => act("confirm"));
  $("b-clock").addEventListener("click", clockToggle);
  $("b-stop").addEventListener("click", () => { $("down-reasons").hidden = false; renderDown(); });
  $("b-down-end").addEventListener("click", endStop);
  for (const id of ["s-good", "s-scrap"]) {
    const s = $(id), input = s.querySelector("input");
    s.querySelector(".minus").addEventListener("click", () => { input.value = Math.max(0, count(id) - 1); renderScrapReasons(); });
    s.querySelector(".plus").addEventListener("click", () => { input.value = count(id) + 1; renderScrapReasons(); });
    input.addEventListener("input", renderScrapReasons);
  }
  // a wedge scanner types into whatever has focus: a scan typed outside a
  // field goes to the scan field
  document.addEventListener("keydown", e => {
    if (e.target === document.body && e.key.length === 1 && !e.ctrlKey && !e.metaKey) $("wedge").focus();
  });
  header();
  renderStations();
  if (st.station && (!st.floor.stations.length || st.floor.stations.some(s => s.id === st.station))) await pickStation(st.station);
  else show("stations", ["stations", "work"]);
  tick();
  document.body.dataset.ready = "1";
}

main().catch(e => { say(i18n.errorText(e)); document.body.dataset.ready = "error"; });
