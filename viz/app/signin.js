// signin: the page at /app/: sign in with a name and password (and the
// forced first change of a made-up password), or a kiosk's API token; then
// the start page, or the terminal the user came from (?next=floor).

import * as api from "./api.js";
import * as i18n from "./i18n.js";
import { $, say, show, startLocale, startClock, serviceWorker } from "./ui.js";

const sections = ["signin", "change", "start"];
let pending = null; // the name and password of a sign-in that must change its password first

function next() {
  const n = new URLSearchParams(location.search).get("next");
  return n === "floor" ? "/app/floor" : "";
}

function started(u) {
  const to = next();
  if (to) { location.assign(to); return; }
  $("hello").textContent = i18n.t("start.hello", { name: u.name });
  $("roles").textContent = i18n.t("start.roles", { roles: (u.roles || []).map(r => i18n.t("role." + r)).join(i18n.t("list.sep")) });
  say("");
  show("start", sections);
}

async function signIn(creds, button) {
  button.disabled = true;
  say(i18n.t("signin.working"), "info");
  try {
    started(await api.signIn(creds));
  } catch (e) {
    if (e.code === "password_change_required" && creds.name) {
      pending = creds;
      say(i18n.t("change.required"), "info");
      show("change", sections);
      $("new1").focus();
    } else {
      say(i18n.errorText(e));
    }
  } finally {
    button.disabled = false;
  }
}

async function main() {
  // the plant's language and zone before anyone signs in (the plant file's)
  const plant = await fetch("/app/plant.json").then(r => r.ok ? r.json() : {}).catch(() => ({}));
  if (plant.zone) i18n.setZone(plant.zone);
  await startLocale(plant.locale || "", () => { const u = api.user(); if (u && !$("start").hidden) started(u); });
  startClock();
  serviceWorker();
  $("f-signin").addEventListener("submit", e => {
    e.preventDefault();
    signIn({ name: $("name").value.trim(), password: $("password").value }, $("b-signin"));
  });
  $("f-token").addEventListener("submit", e => {
    e.preventDefault();
    signIn({ token: $("token").value.trim() }, $("b-token"));
  });
  $("f-change").addEventListener("submit", e => {
    e.preventDefault();
    if ($("new1").value !== $("new2").value) { say(i18n.t("change.mismatch")); return; }
    signIn({ ...pending, new_password: $("new1").value }, $("b-change"));
  });
  $("b-signout").addEventListener("click", async () => {
    try { await api.signOut(); } catch (e) { say(i18n.errorText(e)); }
    show("signin", sections);
  });
  try {
    const u = await api.refresh();
    if (u) { started(u); return; }
  } catch { /* not signed in */ }
  show("signin", sections);
  $("name").focus();
}

main();
