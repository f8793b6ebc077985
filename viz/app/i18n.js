// i18n: the app's words. Every string the app shows comes from a catalogue
// (i18n/zh-CN.json, i18n/en.json: flat {"key": "text with {arg}"}); the
// API's errors are translated by their stable code (error.<code>). Times
// are shown in the plant's time zone, which is named beside them.

export const locales = ["zh-CN", "en"];
const store = globalThis.localStorage;
let cat = {}, fallback = {}, locale = "en", zone = (store && store.getItem("twin.zone")) || "";

// choose picks the locale: the user's choice (kept), else the plant's,
// else the browser's, else English.
export function choose(plant) {
  const mine = store && store.getItem("twin.locale");
  if (locales.includes(mine)) return mine;
  if (locales.includes(plant)) return plant;
  for (const l of navigator.languages || []) {
    if (l.toLowerCase().startsWith("zh")) return "zh-CN";
    if (l.toLowerCase().startsWith("en")) return "en";
  }
  return "en";
}

async function fetchCatalogue(l) {
  const r = await fetch(`/app/i18n/${l}.json`);
  if (!r.ok) throw new Error(`catalogue ${l}: HTTP ${r.status}`);
  return r.json();
}

// load makes l the locale of t() and of the page.
export async function load(l) {
  if (!locales.includes(l)) l = "en";
  cat = await fetchCatalogue(l);
  if (l !== "en" && !Object.keys(fallback).length) fallback = await fetchCatalogue("en").catch(() => ({}));
  locale = l;
  document.documentElement.lang = l;
  return l;
}

// keep remembers the user's own choice of locale.
export function keep(l) { if (store) store.setItem("twin.locale", l); }

export function current() { return locale; }

// t is the text of key in the current locale with {name} replaced by
// args.name; a key missing from the catalogue shows itself (a test keeps
// that from happening).
export function t(key, args = {}) {
  const s = cat[key] ?? fallback[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, k) => (k in args ? String(args[k]) : "…"));
}

export function has(key) { return key in cat; }

// apply writes the catalogue's words into root: data-i18n (text),
// data-i18n-placeholder, data-i18n-label (aria-label), data-i18n-title.
export function apply(root = document) {
  for (const e of root.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
  for (const e of root.querySelectorAll("[data-i18n-placeholder]")) e.placeholder = t(e.dataset.i18nPlaceholder);
  for (const e of root.querySelectorAll("[data-i18n-label]")) e.setAttribute("aria-label", t(e.dataset.i18nLabel));
  for (const e of root.querySelectorAll("[data-i18n-title]")) e.title = t(e.dataset.i18nTitle);
  if (root === document && has("app.title")) document.title = t(document.body.dataset.title || "app.title");
}

// errorText is what a refusal of the API says to a person: its code's
// text from the catalogue (with its args), else the API's own sentence.
export function errorText(err) {
  if (err && err.code && has("error." + err.code)) {
    const args = { ...(err.args || {}) };
    const f = args.field || err.field || "";
    args.field = has("field." + f) ? t("field." + f) : f; // the field as a person calls it
    // the rule broken, where the code has one (out_of_sequence: start or count)
    if (args.rule && has(`error.${err.code}.${args.rule}`)) return t(`error.${err.code}.${args.rule}`, args);
    return t("error." + err.code, args);
  }
  if (err && err.status === 0) return t("error.network");
  if (err && err.message) return t("error.other", { message: err.message });
  return t("error.other", { message: String(err) });
}

// setZone makes z (IANA, from the API's Plant-Time-Zone header or the
// floor's zone) the zone times are shown in.
export function setZone(z) {
  if (!z || z === zone) return;
  try { new Intl.DateTimeFormat("en", { timeZone: z }); } catch { return; }
  zone = z;
  if (store) store.setItem("twin.zone", z);
}

export function plantZone() { return zone; }

function fmt(d, opts) {
  return new Intl.DateTimeFormat(locale, { timeZone: zone || undefined, hourCycle: "h23", ...opts }).format(d);
}

// offset is the zone's UTC offset at d as "UTC+8".
export function offset(d = new Date()) {
  if (!zone) return "";
  const p = new Intl.DateTimeFormat("en", { timeZone: zone, timeZoneName: "shortOffset" }).formatToParts(d);
  const o = (p.find(x => x.type === "timeZoneName") || {}).value || "";
  return o.replace("GMT", "UTC") || "UTC";
}

// zoneLabel names the plant's zone: "Asia/Shanghai UTC+8".
export function zoneLabel(d = new Date()) { return zone ? `${zone} ${offset(d)}` : t("time.zone_unknown"); }

// clock is the plant's time now, to the minute: "14:05".
export function clock(d = new Date()) { return fmt(d, { hour: "2-digit", minute: "2-digit" }); }

// when is a time a person reads: date and time in the plant's zone, the
// zone said: "3月4日 16:00 (Asia/Shanghai UTC+8)".
export function when(v) {
  if (!v) return "–";
  const d = v instanceof Date ? v : new Date(v);
  if (isNaN(d)) return String(v);
  return t("time.when", { time: fmt(d, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }), zone: zoneLabel(d) });
}

// time is a time of today: "16:00".
export function time(v) {
  const d = v instanceof Date ? v : new Date(v);
  return isNaN(d) ? "–" : fmt(d, { hour: "2-digit", minute: "2-digit" });
}

export function num(n) { return new Intl.NumberFormat(locale).format(n); }

// reasonName is a plant list entry's name in the locale ({code, zh, en}).
export function reasonName(r) {
  if (!r) return "";
  return (locale === "zh-CN" ? r.zh || r.en : r.en || r.zh) || r.code;
}
