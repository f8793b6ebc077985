// The terminal's service worker: it keeps the app's shell (pages, modules,
// styles, catalogues, the QR decoder) so that the terminal opens when the
// network is down. It asks the network first (a new twin's app arrives at
// once) and answers from its copy only when there is no answer. It never
// touches /api/: the records are the server's, and the actions made
// offline wait in the page's outbox (IndexedDB), not here.

const SHELL = "twin-app-shell-1";
const FILES = ["/app/", "/app/floor", "/app/app.css", "/app/api.js", "/app/i18n.js", "/app/outbox.js", "/app/scanner.js",
  "/app/ui.js", "/app/signin.js", "/app/floor.js", "/app/i18n/zh-CN.json", "/app/i18n/en.json", "/app/vendor/jsqr/jsQR.js",
  "/app/icon.svg", "/app/app.webmanifest", "/app/plant.json"];

self.addEventListener("install", e => {
  e.waitUntil(caches.open(SHELL).then(c => c.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", e => {
  e.waitUntil(caches.keys().then(ks => Promise.all(ks.filter(k => k !== SHELL).map(k => caches.delete(k)))).then(() => self.clients.claim()));
});

self.addEventListener("fetch", e => {
  const u = new URL(e.request.url);
  if (e.request.method !== "GET" || u.origin !== location.origin || !u.pathname.startsWith("/app/")) return;
  e.respondWith((async () => {
    const c = await caches.open(SHELL);
    try {
      const r = await fetch(e.request);
      if (r.ok) c.put(u.pathname, r.clone());
      return r;
    } catch (err) {
      const kept = await c.match(u.pathname);
      if (kept) return kept;
      throw err;
    }
  })());
});
