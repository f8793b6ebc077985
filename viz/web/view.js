"use strict";
// The palette of package viz/scene.
const palette = {running: "#2e9e44", idle: "#9aa5b1", setup: "#2f80ed", down: "#d64545", maintenance: "#9b51e0",
  blocked: "#f2994a", starved: "#f2c94c", off: "#4f4f4f", unknown: "#cfd4da"};
const legend = document.getElementById("legend");
// swatches coloured through the DOM, not a style attribute (the page's
// CSP allows no inline style)
function buildLegend() {
  legend.replaceChildren();
  for (const [k, v] of Object.entries(palette)) {
    const span = document.createElement("span"), i = document.createElement("i");
    i.style.background = v;
    span.append(i, words["state." + k] || k); // the palette's name until the catalogue is in
    legend.append(span);
  }
}

// The page's words come from i18n/<locale>.json (zh-CN or en). The
// locale: the one picked with the page's button, else ?lang=, else the
// one chosen on this browser before (localStorage "twin.locale", which
// the operator app sets too), else the plant's (scene.locale, from the
// plant file), else the browser's.
let locale = "", words = {}, picked = "", loading = null;
function localeOf(l) {
  l = String(l || "").toLowerCase();
  return l.startsWith("zh") ? "zh-CN" : l.startsWith("en") ? "en" : "";
}
function stored() { try { return localStorage.getItem("twin.locale"); } catch (e) { return ""; } }
function wanted() {
  return picked || localeOf(params.get("lang")) || localeOf(stored()) || localeOf(scene && scene.locale) || localeOf(navigator.language) || "en";
}
// t is the text under key in the page's locale, {name} replaced by args.name
function t(key, args) {
  let s = key in words ? words[key] : key;
  for (const [k, v] of Object.entries(args || {})) s = s.split("{" + k + "}").join(v);
  return s;
}
function useLocale(l) {
  if (l === locale || loading) return;
  loading = fetch(`i18n/${l}.json`).then(r => { if (!r.ok) throw new Error(`i18n/${l}.json: ${r.status}`); return r.json(); }).then(w => {
    words = w; locale = l; loading = null;
    document.documentElement.lang = l;
    for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
    for (const e of document.querySelectorAll("[data-i18n-title]")) e.title = t(e.dataset.i18nTitle);
    for (const e of document.querySelectorAll("[data-i18n-label]")) e.setAttribute("aria-label", t(e.dataset.i18nLabel));
    zoneFmt = null; // the weekday's language
    buildLegend();
    window.twin.locale = l;
    render();
  }).catch(e => { loading = null; status(String(e)); });
}
document.getElementById("lang").addEventListener("click", () => {
  picked = locale === "zh-CN" ? "en" : "zh-CN";
  try { localStorage.setItem("twin.locale", picked); } catch (e) { /* private mode: this page only */ }
  useLocale(picked);
});

let scene = null, seq = 0, selected = null, ws = null;
// the timeline: span [from, to] of the source's history, at: the time we
// look at (0: following), play: the playback timer
let span = null, at = 0, play = null, lastSeek = 0;
window.twin = { get scene() { return scene; }, get span() { return span; }, get at() { return at; }, messages: 0, locale: "" };
const esc = (v) => String(v).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})[c]);
const params = new URLSearchParams(location.search);
const token = params.get("token") || "";
const canvas = document.getElementById("floor");
const ctx = canvas.getContext("2d");

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  ws = new WebSocket(`${proto}://${location.host}/ws?token=${encodeURIComponent(token)}&rate=${params.get("rate") || 4}`);
  ws.onopen = () => { seq = 0; status(t("status.connected")); if (at && span) seek(at, true); };
  ws.onclose = () => { status(t("status.reconnecting")); setTimeout(connect, 1000); };
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    window.twin.messages++;
    if (m.v !== 1) { status(t("status.protocol", {v: m.v})); return; }
    if (m.type === "snapshot") { scene = m.scene; seq = m.seq; }
    else if (m.type === "delta") {
      if (!scene || m.seq !== seq + 1) { ws.send(JSON.stringify({type: "resync"})); return; }
      seq = m.seq;
      for (const s of m.stations || []) { const i = scene.stations.findIndex(x => x.path === s.path); if (i >= 0) scene.stations[i] = s; }
      for (const b of m.buffers || []) { const i = scene.buffers.findIndex(x => x.workcenter === b.workcenter); if (i >= 0) scene.buffers[i] = b; }
      if (m.kpis) scene.kpis = m.kpis;
      if (m.orders) scene.orders = m.orders;
      if (m.alarms) scene.alarms = m.alarms;
    }
    scene.source = m.source; scene.time = m.time; scene.at = m.at || 0;
    if (m.span) { span = m.span; document.getElementById("timeline").hidden = false; }
    render();
  };
}
const range = document.getElementById("tl-range");
function seek(when, force) {
  at = Math.min(Math.max(when, span[0]), span[1]);
  const now = Date.now();
  if (force || now - lastSeek > 80) { lastSeek = now; ws.send(JSON.stringify({type: "seek", time: Math.round(at)})); }
}
range.addEventListener("input", () => { if (span) { stopPlay(); seek(span[0] + (span[1] - span[0]) * range.value / 1000); } });
range.addEventListener("change", () => { if (span) seek(span[0] + (span[1] - span[0]) * range.value / 1000, true); });
function stopPlay() { if (play) { clearInterval(play); play = null; document.getElementById("tl-play").textContent = "▶"; } }
document.getElementById("tl-play").addEventListener("click", () => {
  if (play) { stopPlay(); return; }
  if (!span) return;
  if (!at) at = span[0];
  document.getElementById("tl-play").textContent = "⏸";
  play = setInterval(() => {
    const speed = +document.getElementById("tl-speed").value;
    seek(at + speed * 0.2e9, true);
    if (at >= span[1]) stopPlay();
  }, 200);
});
document.getElementById("tl-follow").addEventListener("click", () => { stopPlay(); at = 0; ws.send(JSON.stringify({type: "follow"})); });
function renderTimeline() {
  if (!span) return;
  document.getElementById("tl-from").textContent = fmtTime(span[0]);
  document.getElementById("tl-to").textContent = fmtTime(span[1]);
  const now = at || scene.time;
  if (document.activeElement !== range || !at) range.value = span[1] > span[0] ? Math.round(1000 * (now - span[0]) / (span[1] - span[0])) : 1000;
  document.getElementById("tl-at").textContent = at ? t("tl.at", {t: fmtTime(at)}) : t("tl.following");
}
function status(s) { document.getElementById("status").textContent = s; }
// Every time is shown in the plant's time zone (scene.zone, IANA), never
// the browser's: "Tue 2026-12-01 09:13". The clock names the zone.
let zoneFmt = null, dayFmt = null, zoneOf = null, zoneOK = false;
function plantZone() {
  const z = scene && scene.zone;
  if (zoneOf !== z || !zoneFmt) {
    zoneOf = z;
    const opts = {year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23"};
    const wd = locale === "zh-CN" ? "zh-CN" : "en-GB"; // 周二, Tue
    try {
      zoneFmt = new Intl.DateTimeFormat("en-GB", {...opts, timeZone: z || undefined});
      dayFmt = new Intl.DateTimeFormat(wd, {weekday: "short", timeZone: z || undefined});
      zoneOK = !!z;
    } catch (e) { // an unknown zone: the browser's, and the clock says so
      zoneFmt = new Intl.DateTimeFormat("en-GB", opts);
      dayFmt = new Intl.DateTimeFormat(wd, {weekday: "short"});
      zoneOK = false;
    }
  }
  return zoneFmt;
}
function parts(ns) {
  const p = {}, d = new Date(ns / 1e6);
  for (const x of plantZone().formatToParts(d)) p[x.type] = x.value;
  p.weekday = dayFmt.format(d);
  return p;
}
function fmtTime(ns) { if (!ns) return "–"; const p = parts(ns); return `${p.weekday} ${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`; }
function fmtDue(ns) { if (!ns) return ""; const p = parts(ns); return `${p.month}-${p.day} ${p.hour}:${p.minute}`; }
function zoneName() { const f = plantZone(); return zoneOK ? scene.zone : t("zone.browser", {zone: f.resolvedOptions().timeZone}); }

let view = {scale: 1, ox: 0, oy: 0};
const phone = window.matchMedia("(max-width: 600px)");
function fit() {
  // on a phone the floor takes the screen's width and the height that
  // width needs (a wide plant leaves no empty band below it)
  const main = canvas.parentElement;
  if (phone.matches && scene) main.style.height = Math.round(Math.max(200, Math.min(0.6 * innerHeight, main.clientWidth * (scene.height + 4) / (scene.width + 4)))) + "px";
  else main.style.height = "";
  const r = canvas.getBoundingClientRect();
  canvas.width = r.width * devicePixelRatio; canvas.height = r.height * devicePixelRatio;
  if (!scene) return;
  const s = Math.min(canvas.width / (scene.width + 4), canvas.height / (scene.height + 4));
  view = {scale: s, ox: 2 * s, oy: 2 * s};
}
window.addEventListener("resize", () => { fit(); render(); });
const X = (x) => view.ox + x * view.scale, Y = (y) => view.oy + y * view.scale;

function render() {
  if (!scene) return;
  if (wanted() !== locale) useLocale(wanted()); // renders again when loaded
  if (!view.set) { fit(); view.set = true; }
  const k = scene.kpis;
  document.getElementById("plant").textContent = scene.plant;
  const al = document.getElementById("alarms"); // the twin's own (its disk is full, backups overdue)
  al.hidden = !(scene.alarms || []).length;
  al.textContent = (scene.alarms || []).map(a => "⚠ " + a).join("\n");
  const src = document.getElementById("source"); src.textContent = t("source." + scene.source); src.className = scene.source;
  document.getElementById("k-running").textContent = `${k.running} / ${k.machines}`;
  document.getElementById("k-down").textContent = k.down;
  document.getElementById("k-good").textContent = Math.round(k.good);
  document.getElementById("k-wip").textContent = Math.round(k.wip);
  document.getElementById("k-kw").textContent = k.power_kw.toFixed(0);
  const day = k.day || {};
  const pct = (x) => x == null ? "–" : (100 * x).toFixed(1) + "%";
  document.getElementById("k-oee").textContent = pct(day.oee);
  document.getElementById("k-aeq").textContent = day.oee == null ? t("tile.oee") : t("tile.oee.detail", {a: pct(day.availability), e: pct(day.effectiveness), q: pct(day.quality)});
  document.getElementById("k-fpy").textContent = pct(day.fpy);
  document.getElementById("k-ontime").textContent = pct(day.on_time);
  document.getElementById("k-units").textContent = day.units == null ? "–" : Math.round(day.units);
  document.getElementById("k-kwhu").textContent = day.kwh_per_unit == null ? "–" : day.kwh_per_unit.toFixed(2);
  document.getElementById("clock").textContent = `${fmtTime(scene.time)} ${zoneName()}`;
  status(t("status.seq", {seq}));
  renderTimeline();
  const d = devicePixelRatio;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.font = `${11 * d}px system-ui`;
  ctx.fillStyle = "#829ab1";
  // labels go where they overprint neither a machine nor another label
  // (on a phone the plant is small): below a machine, else above, else a
  // row lower; one that fits nowhere is left out (a tap shows the machine)
  const taken = [];
  const free = (r) => !taken.some(q => r[0] < q[2] && q[0] < r[2] && r[1] < q[3] && q[1] < r[3]);
  const label = (text, spots) => {
    const w = ctx.measureText(text).width, h = 11 * d;
    for (const [x, y] of spots) {
      const r = [x - d, y - h, x + w + d, y + 2 * d];
      if (free(r)) { taken.push(r); ctx.fillText(text, x, y); return; }
    }
  };
  ctx.strokeStyle = "#bcccdc"; ctx.lineWidth = 2 * d;
  for (const f of scene.flows) { ctx.beginPath(); ctx.moveTo(X(f.a[0]), Y(f.a[1])); ctx.lineTo(X(f.b[0]), Y(f.b[1])); ctx.stroke(); }
  for (const b of scene.buffers) {
    const w = 3 * view.scale, h = 0.8 * view.scale;
    ctx.fillStyle = "#e4e7eb"; ctx.fillRect(X(b.x) - w / 2, Y(b.y) - h / 2, w, h);
    ctx.fillStyle = "#486581"; ctx.fillRect(X(b.x) - w / 2, Y(b.y) - h / 2, w * b.fill, h);
    taken.push([X(b.x) - w / 2, Y(b.y) - h / 2, X(b.x) + w / 2, Y(b.y) + h / 2]);
  }
  for (const s of scene.stations) {
    const w = s.w * view.scale, h = s.h * view.scale;
    ctx.fillStyle = palette[s.state] || palette.unknown;
    ctx.fillRect(X(s.x) - w / 2, Y(s.y) - h / 2, w, h);
    taken.push([X(s.x) - w / 2, Y(s.y) - h / 2, X(s.x) + w / 2, Y(s.y) + h / 2]);
    if (selected === s.path) { ctx.strokeStyle = "#102a43"; ctx.lineWidth = 3 * d; ctx.strokeRect(X(s.x) - w / 2, Y(s.y) - h / 2, w, h); }
    if ((s.alarms || []).length) { // a failure or maintenance due: a mark on the corner (not a state colour)
      const m = Math.max(11 * d, w * 0.7), x0 = X(s.x) + w / 2, y0 = Y(s.y) - h / 2;
      ctx.fillStyle = "#e8590c"; ctx.beginPath(); ctx.moveTo(x0, y0 - m); ctx.lineTo(x0 + m / 1.7, y0 + m / 4); ctx.lineTo(x0 - m / 1.7, y0 + m / 4); ctx.closePath(); ctx.fill();
      ctx.fillStyle = "#fff"; ctx.fillText("!", x0 - 1.5 * d, y0 + m / 5);
    }
  }
  ctx.fillStyle = "#102a43";
  for (const s of scene.stations) {
    const w = s.w * view.scale, h = s.h * view.scale, x = X(s.x) - w / 2, tw = ctx.measureText(s.id).width;
    const below = Y(s.y) + h / 2 + 12 * d, above = Y(s.y) - h / 2 - 3 * d;
    label(s.id, [[x, below], [x, above], [X(s.x) - tw / 2, below], [X(s.x) - tw / 2, above], [x, below + 12 * d], [x, above - 12 * d]]);
  }
  ctx.fillStyle = "#334e68";
  for (const b of scene.buffers) {
    const w = 3 * view.scale, text = Math.round(b.level) + (b.capacity ? "/" + b.capacity : ""), tw = ctx.measureText(text).width;
    label(text, [[X(b.x) + w / 2 + 3 * d, Y(b.y) + 4 * d], [X(b.x) - w / 2 - 3 * d - tw, Y(b.y) + 4 * d], [X(b.x) - tw / 2, Y(b.y) - 4 * d]]);
  }
  ctx.fillStyle = "#829ab1";
  for (const a of scene.areas) label(a.name, [[X(a.x - 10), Y(a.y - 10)], [X(a.x - 10), Y(a.y - 10) - 12 * d], [X(a.x - 10), Y(a.y - 10) + 12 * d]]);
  const tb = document.getElementById("orders"); tb.innerHTML = "";
  for (const o of (scene.orders || []).slice(0, 40))
    tb.insertAdjacentHTML("beforeend", `<tr class="${o.late ? "late" : ""}"><td>${esc(o.id)}</td><td>${esc(o.product)}</td><td>${o.done}/${o.quantity}</td><td>${fmtDue(o.due)}</td></tr>`);
  const sel = scene.stations.find(s => s.path === selected);
  const detail = [];
  if (sel) {
    detail.push(t("detail.since", {state: t("state." + sel.state), t: fmtTime(sel.since)}), t("detail.counts", {good: sel.good, reject: sel.reject}),
      t("detail.power", {kw: sel.power_kw.toFixed(1), kwh: sel.energy_kwh.toFixed(1)}));
    if (sel.job) detail.push(t("detail.job", {job: sel.job}));
    if ((sel.alarms || []).length) detail.push(t("detail.alarms", {list: sel.alarms.join(", ")}));
    if (sel.day) detail.push(t("detail.today", {oee: pct(sel.day.oee), a: pct(sel.day.availability), e: pct(sel.day.effectiveness), q: pct(sel.day.quality)}));
  }
  document.getElementById("detail").innerHTML = sel ? `<h2>${esc(sel.name)}</h2>` + detail.map(esc).join("<br>") : "";
}
canvas.addEventListener("click", (e) => {
  if (!scene) return;
  const r = canvas.getBoundingClientRect();
  const x = ((e.clientX - r.left) * devicePixelRatio - view.ox) / view.scale, y = ((e.clientY - r.top) * devicePixelRatio - view.oy) / view.scale;
  const s = scene.stations.find(s => Math.abs(s.x - x) <= s.w / 2 && Math.abs(s.y - y) <= s.h / 2);
  selected = s ? s.path : null; render();
});
buildLegend();
useLocale(wanted());
connect();
