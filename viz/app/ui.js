// ui: what every page of the app shares: the locale switch, the plant's
// clock (its zone named), messages, the service worker.

import * as i18n from "./i18n.js";

export const $ = id => document.getElementById(id);

// el makes an element: el("button", {class: "big", onclick}, "text", child…).
export function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "class") e.className = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of kids.flat()) if (c !== null && c !== undefined && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}

// show shows the one section of ids named by id.
export function show(id, ids) { for (const x of ids) $(x).hidden = x !== id; }

// say puts a message in #msg (kind: "error", "ok", "info"); "" hides it.
export function say(text, kind = "error") {
  const m = $("msg");
  m.textContent = text;
  m.className = "msg " + kind;
  m.hidden = !text;
}

// startLocale loads the locale (the user's, else plant's, else the
// browser's), writes the page's words, and makes the switch button swap
// it; onswitch runs after each swap.
export async function startLocale(plant, onswitch = () => {}) {
  await i18n.load(i18n.choose(plant));
  i18n.apply();
  const b = $("locale");
  if (b && !b.dataset.bound) {
    b.dataset.bound = "1";
    b.addEventListener("click", async () => {
      const next = i18n.current() === "zh-CN" ? "en" : "zh-CN";
      i18n.keep(next);
      await i18n.load(next);
      i18n.apply();
      tick();
      onswitch();
    });
  }
  tick();
}

// tick shows the plant's time and zone in #clock.
export function tick() {
  const c = $("clock");
  if (!c) return;
  c.textContent = i18n.plantZone() ? `${i18n.clock()} ${i18n.zoneLabel()}` : "";
}

export function startClock() {
  tick();
  return setInterval(tick, 15000);
}

// serviceWorker registers the worker that keeps the app's shell for
// opening the terminal offline.
export function serviceWorker() {
  if (!("serviceWorker" in navigator) || !isSecureContext) return;
  const sw = navigator.serviceWorker;
  // body[data-sw] says the page is the worker's (it reopens offline)
  const mark = () => { if (sw.controller) document.body.dataset.sw = "1"; };
  sw.addEventListener("controllerchange", mark);
  sw.register("/app/sw.js", { scope: "/app/" }).then(mark).catch(() => {});
  mark();
}
