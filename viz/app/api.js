// api: the records API as the app calls it. A browser signs in with a
// session (an HttpOnly cookie the page never sees, and a CSRF token sent
// with every change); a kiosk trades its API token for the same session.
// Every refusal becomes an ApiError with the API's stable code, which the
// catalogue translates.

import { setZone } from "./i18n.js";

const base = "/api/v1";
const store = globalThis.localStorage;

// ApiError is an answer that is not 2xx (status 0: no answer at all, the
// network is down).
export class ApiError extends Error {
  constructor(status, body = {}) {
    super(body.error || (status ? `HTTP ${status}` : "network"));
    this.status = status;
    this.code = body.code || (status === 0 ? "network" : "");
    this.field = body.field || "";
    this.args = body.args || {};
  }
  // permanent: asking again will never succeed (the terminal shows the
  // refusal and stops retrying). 401 (signed out), 403 csrf (a new session
  // has a new token), 408, 429 and 5xx may pass later.
  get permanent() {
    if (this.status === 0 || this.status === 401 || this.status === 408 || this.status === 429 || this.status >= 500) return false;
    if (this.code === "csrf" || this.code === "password_change_required" || this.code === "unauthorized") return false;
    return this.status >= 400;
  }
}

// session is what the server said at sign-in: {user, csrf, expires}; kept
// so that the terminal reopens offline knowing who is signed in. The
// session itself is the cookie. bearer is set only when the server has no
// session endpoint (an older twin): then the token is the session.
let session = JSON.parse((store && store.getItem("twin.session")) || "null");

function keep(s) {
  session = s;
  if (!store) return;
  if (s) store.setItem("twin.session", JSON.stringify(s));
  else store.removeItem("twin.session");
}

// missing: the twin has no such endpoint (an older twin than the app).
function missing(e) { return e.status === 404 && (e.code === "no_route" || /^no such endpoint/.test(e.message)); }

export function user() { return session && session.user; }

// call sends method path with body (JSON) and returns the decoded answer.
export async function call(method, path, body) {
  const h = { Accept: "application/json" };
  if (body !== undefined) h["Content-Type"] = "application/json";
  if (session && session.bearer) h.Authorization = "Bearer " + session.bearer;
  else if (session && session.csrf && method !== "GET") h["X-CSRF-Token"] = session.csrf;
  let r;
  try {
    r = await fetch(base + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin", cache: "no-store" });
  } catch (e) {
    throw new ApiError(0, { error: String(e && e.message || e) });
  }
  setZone(r.headers.get("Plant-Time-Zone"));
  const text = await r.text();
  let v = null;
  try { v = text ? JSON.parse(text) : null; } catch { v = { error: text }; }
  if (!r.ok) throw new ApiError(r.status, v || {});
  return v;
}

// signIn signs in with {name, password[, new_password]} or {token} (a
// kiosk's). A 403 password_change_required asks for new_password.
export async function signIn(creds) {
  try {
    const s = await call("POST", "/session", creds);
    keep({ user: s.user, csrf: s.csrf, expires: s.expires });
    return s.user;
  } catch (e) {
    if (!missing(e)) throw e;
  }
  // a twin without sessions: its token, kept by this browser
  let tok = creds.token;
  if (!tok) {
    const is = await call("POST", "/login", creds);
    if (is.must_change_password) throw new ApiError(403, { code: "password_change_required", error: "password change required" });
    tok = is.token;
  }
  keep({ bearer: tok });
  const u = await call("GET", "/me");
  keep({ bearer: tok, user: u });
  return u;
}

// refresh asks who is signed in (GET /session) and keeps its CSRF token;
// offline it answers what was kept.
export async function refresh() {
  if (session && session.bearer) {
    try {
      const u = await call("GET", "/me");
      keep({ ...session, user: u });
      return u;
    } catch (e) {
      if (e.status === 401) keep(null);
      if (e.status === 0 && session && session.user) return session.user;
      throw e;
    }
  }
  try {
    const s = await call("GET", "/session");
    keep({ user: s.user, csrf: s.csrf, expires: s.expires });
    return s.user;
  } catch (e) {
    if (e.status === 401) keep(null);
    if (e.status === 0 && session && session.user) return session.user;
    throw e;
  }
}

export async function signOut() {
  try { if (!(session && session.bearer)) await call("DELETE", "/session"); } finally { keep(null); }
}

// floor is what the terminal needs of the plant: stations, reasons, the
// locale and zone. A twin without GET /floor gets the stations from the
// equipment ledger and no reason lists.
export async function floor() {
  try {
    const f = await call("GET", "/floor");
    setZone(f.zone);
    return f;
  } catch (e) {
    if (!missing(e)) throw e;
  }
  const eq = await call("GET", "/equipment");
  return { plant: "", zone: "", locale: "", downtime_reasons: [], scrap_reasons: [],
    stations: eq.filter(x => x.level === "WorkUnit").map(x => ({ id: x.id, name: x.name, work_center: x.work_center, path: x.path })) };
}

// tokenOperation is the operation id a card's token names
// ("v1.<base64url id>.<signature>"), or "" when it is not a card's.
export function tokenOperation(tok) {
  const p = String(tok).split(".");
  if (p.length !== 3 || p[0] !== "v1") return "";
  try {
    const b = atob(p[1].replace(/-/g, "+").replace(/_/g, "/"));
    return new TextDecoder().decode(Uint8Array.from(b, c => c.charCodeAt(0)));
  } catch { return ""; }
}

// card is what a scanned card is (GET /card). A twin without it: the
// operation the token names.
export async function card(tok) {
  try {
    return await call("GET", "/card?token=" + encodeURIComponent(tok));
  } catch (e) {
    if (!missing(e)) throw e;
  }
  const id = tokenOperation(tok);
  if (!id) throw new ApiError(400, { code: "card_invalid", error: "not a card" });
  const op = await call("GET", "/operations/" + encodeURIComponent(id));
  const next = op.status === "pending" ? "start" : op.status === "started" ? "confirm" : "done";
  return { operation: op, order: { id: op.order, product: op.item, quantity: op.planned }, work_order: op.work_order,
    station: op.station || "", instructions: null, next, confirmed: { good: op.good, scrap: op.scrap }, available: op.planned };
}

// clockedOn is what the worker is clocked on now ([{operation, since}]),
// or null when the twin cannot say.
export async function clockedOn(worker) {
  try {
    return await call("GET", "/labour/on?worker=" + encodeURIComponent(worker));
  } catch (e) {
    if (missing(e)) return null;
    throw e;
  }
}

// openDowntime is the station's open stops, or [] when the twin has none.
export async function openDowntime(station) {
  try {
    return await call("GET", "/downtime?open=true&station=" + encodeURIComponent(station));
  } catch (e) {
    if (missing(e)) return [];
    throw e;
  }
}
