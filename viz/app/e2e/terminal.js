// The floor terminal in headless Chromium, driven by a Go test over
// stdin/stdout:   node terminal.js PLAYWRIGHT_CORE_DIR FAKE_CAMERA.y4m
// One Chromium with a fake camera that plays FAKE_CAMERA.y4m (the test
// rewrites the file before each camera scan: the device reads it when a
// page opens the camera). Then one command per line, a JSON array, each
// answered "OK <json>" or "ERR <message>":
//   ["context", W, H, LOCALE]  a fresh browser context (its own storage) with a W×H page
//   ["goto", URL]              load URL, wait for the page's modules
//   ["click", SEL]             click the element SEL names (it must be visible)
//   ["fill", SEL, TEXT]        type TEXT into the field SEL names
//   ["wedge", SEL, TEXT]       what a keyboard-wedge scanner does: TEXT typed key by key, then Enter
//   ["wait", SEL]              until SEL is visible (15 s)
//   ["hidden", SEL]            until SEL is hidden or gone (15 s)
//   ["waittext", SEL, TEXT]    until SEL's text contains TEXT (15 s)
//   ["text", SEL]              SEL's text
//   ["attr", SEL, NAME]        SEL's attribute NAME
//   ["offline", true|false]    the context's network off or on
//   ["overflow"]               [document scrollWidth, innerWidth]
//   ["shot", FILE]             a screenshot of the page
//   ["reload"]                 reload the page (offline: the service worker's copy)
//   ["errors"]                 the page's uncaught errors so far
//   ["html", SEL]              SEL's HTML (its first 4000 characters), for a failure's log
//   ["quit"]
const [pw, y4m] = process.argv.slice(2);
const { chromium } = require(pw);
const readline = require("readline");

const T = 15000;

(async () => {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run",
      "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream", "--use-file-for-fake-video-capture=" + y4m] });
  let ctx = null, page = null, errors = [];
  const cmds = {
    async context(w, h, locale) {
      if (ctx) await ctx.close();
      ctx = await browser.newContext({ viewport: { width: w, height: h }, locale, permissions: ["camera"], ignoreHTTPSErrors: true,
        hasTouch: w < 600, isMobile: false, serviceWorkers: "allow" });
      page = await ctx.newPage();
      errors = [];
      page.on("pageerror", e => errors.push(String(e)));
      page.on("console", m => { if (m.type() === "error") errors.push("console: " + m.text()); });
    },
    async goto(url) { await page.goto(url, { waitUntil: "load" }); },
    async click(sel) { await page.locator(sel).first().click({ timeout: T }); },
    async fill(sel, text) { await page.locator(sel).first().fill(text, { timeout: T }); },
    async wedge(sel, text) {
      const l = page.locator(sel).first();
      await l.focus({ timeout: T });
      await page.keyboard.type(text, { delay: 2 });
      await page.keyboard.press("Enter");
    },
    async wait(sel) { await page.locator(sel).first().waitFor({ state: "visible", timeout: T }); },
    async hidden(sel) { await page.locator(sel).first().waitFor({ state: "hidden", timeout: T }); },
    async waittext(sel, text) {
      const t0 = Date.now();
      for (;;) {
        const s = await page.locator(sel).first().textContent({ timeout: T }).catch(() => null);
        if (s !== null && s.includes(text)) return s;
        if (Date.now() - t0 > T) throw new Error(`${sel}: text ${JSON.stringify(s)} has no ${JSON.stringify(text)} after ${T} ms`);
        await new Promise(r => setTimeout(r, 50));
      }
    },
    async text(sel) { return page.locator(sel).first().textContent({ timeout: T }); },
    async attr(sel, name) { return page.locator(sel).first().getAttribute(name, { timeout: T }); },
    async offline(on) { await ctx.setOffline(on); },
    async overflow() { return page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]); },
    async shot(file) { await page.screenshot({ path: file, fullPage: true }); },
    async reload() { await page.reload({ waitUntil: "load" }); },
    async errors() { return errors; },
    async html(sel) { return page.locator(sel).first().evaluate(e => e.outerHTML.slice(0, 4000), null, { timeout: T }); },
  };
  console.log("READY");
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    let c;
    try { c = JSON.parse(line); } catch (e) { console.log("ERR not JSON: " + line); continue; }
    if (c[0] === "quit") break;
    try {
      if (!cmds[c[0]]) throw new Error("unknown command " + c[0]);
      const v = await cmds[c[0]](...c.slice(1));
      console.log("OK " + JSON.stringify(v === undefined ? null : v));
    } catch (e) {
      console.log("ERR " + String(e && e.message || e).split("\n").slice(0, 6).join(" | "));
    }
  }
  await browser.close();
  process.exit(0);
})().catch(e => { console.error(e && e.stack || e); process.exit(1); });
