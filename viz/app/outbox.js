// outbox: the terminal's actions on their way to the server. An action
// (a scan, a stop, a clock on/off) is written to IndexedDB with its client
// id BEFORE it is sent, and stays there until the server has answered it:
// 2xx (done: removed) or a refusal that will never pass (kept, marked
// refused, shown in words until the operator dismisses it). Anything else
// (no network, 5xx, signed out) is tried again, oldest first and in order
// (a confirm never overtakes its start), when the network returns and
// with a growing pause (1 s, 2 s, 4 s … 30 s). The server's idempotency
// (scan_id, the downtime id) makes a resend after a lost answer harmless:
// exactly once.

const DB = "twin-terminal", STORE = "outbox";

function req(r) {
  return new Promise((res, rej) => { r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
}

function openDB(name) {
  const r = indexedDB.open(name, 1);
  r.onupgradeneeded = () => r.result.createObjectStore(STORE, { keyPath: "id" });
  return req(r);
}

// newID is a client id for an action: a random UUID.
export function newID() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, x => x.toString(16).padStart(2, "0")).join("");
}

export class Outbox {
  // send(item) delivers an item (resolves with the answer, rejects with an
  // error whose .permanent says it will never pass); onchange(items,
  // event) hears every change: event {item, result} once the server has
  // it, {item, error} on a refusal or a failed try.
  constructor({ send, onchange = () => {}, name = DB, maxPause = 30000 }) {
    this.send = send;
    this.onchange = onchange;
    this.name = name;
    this.maxPause = maxPause;
    this.items = [];
    this.tries = 0;
    this.timer = 0;
    this.running = false;
    this.again = false;
    this.seq = 0;
  }

  async open() {
    this.db = await openDB(this.name);
    const all = await req(this.db.transaction(STORE).objectStore(STORE).getAll());
    this.items = all.sort((a, b) => a.seq - b.seq);
    this.seq = this.items.reduce((m, x) => Math.max(m, x.seq), 0);
    addEventListener("online", () => this.kick(true));
    document.addEventListener("visibilitychange", () => { if (!document.hidden) this.kick(true); });
    this.onchange(this.list(), {});
    this.kick();
    return this;
  }

  list() { return this.items.map(x => ({ ...x })); }

  // pending is how many items wait for the server (refused ones excluded).
  pending() { return this.items.filter(x => x.state !== "refused").length; }

  async put(item) {
    const tx = this.db.transaction(STORE, "readwrite");
    tx.objectStore(STORE).put(item);
    await new Promise((res, rej) => { tx.oncomplete = res; tx.onerror = () => rej(tx.error); tx.onabort = () => rej(tx.error); });
  }

  async remove(id) {
    const tx = this.db.transaction(STORE, "readwrite");
    tx.objectStore(STORE).delete(id);
    await new Promise((res, rej) => { tx.oncomplete = res; tx.onerror = () => rej(tx.error); });
    this.items = this.items.filter(x => x.id !== id);
  }

  // add keeps item ({id, kind, method, path, body, ...what the screen
  // shows}) on disk, then tries to send it. It resolves once the item is
  // kept, not when it is sent.
  async add(item) {
    const it = { ...item, seq: ++this.seq, state: "pending", made: new Date().toISOString(), error: null };
    await this.put(it);
    this.items.push(it);
    this.onchange(this.list(), { item: { ...it } });
    this.kick(true);
    return it;
  }

  // dismiss forgets a refused item (the operator has read why).
  async dismiss(id) {
    const it = this.items.find(x => x.id === id);
    if (!it || it.state !== "refused") return;
    await this.remove(id);
    this.onchange(this.list(), {});
  }

  // kick tries to send now (now: forget the pause, the network is back).
  kick(now = false) {
    if (now) this.tries = 0;
    if (this.running) { this.again = true; return; }
    clearTimeout(this.timer);
    this.timer = 0;
    this.flush();
  }

  async flush() {
    this.running = true;
    try {
      for (;;) {
        const it = this.items.find(x => x.state !== "refused");
        if (!it) { this.tries = 0; break; }
        let result;
        try {
          result = await this.send(it);
        } catch (e) {
          const error = { status: e.status || 0, code: e.code || "", args: e.args || {}, field: e.field || "", message: e.message || String(e) };
          if (e.permanent) {
            it.state = "refused";
            it.error = error;
            await this.put(it);
            this.onchange(this.list(), { item: { ...it }, error });
            continue;
          }
          it.error = error;
          it.tries = (it.tries || 0) + 1;
          this.onchange(this.list(), { item: { ...it }, error, retry: true });
          const pause = Math.min(this.maxPause, 1000 * 2 ** this.tries) * (0.75 + Math.random() / 2);
          this.tries++;
          if (!this.again) this.timer = setTimeout(() => { this.timer = 0; this.kick(); }, pause);
          break;
        }
        await this.remove(it.id);
        this.tries = 0;
        this.onchange(this.list(), { item: { ...it }, result });
      }
    } finally {
      this.running = false;
    }
    if (this.again) { this.again = false; this.kick(); }
  }
}
