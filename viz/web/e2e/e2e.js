// End-to-end test of the plant view in headless Chromium, driven by a Go
// test over stdin/stdout:   node e2e.js URL
// On start: loads the page, waits until the scene has stations, checks
// that the canvas pixel at every station is its state's colour, prints
// "READY <stations>". Then one command per line, each answered "OK …" or
// an error on stderr and exit status 1:
//   state PATH STATE   the page shows PATH in STATE within 2 s (scene and pixel)
//   since PATH NS      the page shows a state of PATH that began at NS or later, within 2 s
//   seek FRACTION      move the timeline slider; the page shows the past within 2 s
//   follow             press "follow"; the page follows the source again within 2 s
//   shot FILE          save a screenshot
//   day                the day's figures on the tiles: "OK <to ns> <OEE tile text> <FPY tile text>"
//   viewport W H       resize the page to W×H CSS pixels (a phone: 390 844)
//   text SELECTOR      the text of the first element SELECTOR names, as JSON
//   zone               the browser's own time zone (the test runs it with TZ=UTC)
//   click SELECTOR     click the first element SELECTOR names
//   overflow           "OK <document scroll width> <viewport width>": wider means the page scrolls sideways
//   quit
const { chromium } = require("playwright-core");
const readline = require("readline");

const [url] = process.argv.slice(2);
const palette = {running: "#2e9e44", idle: "#9aa5b1", setup: "#2f80ed", down: "#d64545", maintenance: "#9b51e0",
  blocked: "#f2994a", starved: "#f2c94c", off: "#4f4f4f", unknown: "#cfd4da"};

// stations: every station's state and the pixel at its centre, read in one
// task (the page draws in the task that receives a message)
function stations(page) {
  return page.evaluate(() => {
    const sc = window.twin.scene, c = document.getElementById("floor");
    const scale = Math.min(c.width / (sc.width + 4), c.height / (sc.height + 4));
    const g = c.getContext("2d");
    return sc.stations.map(s => {
      const d = g.getImageData(Math.round(2 * scale + s.x * scale), Math.round(2 * scale + s.y * scale), 1, 1).data;
      return { path: s.path, state: s.state, since: s.since, rgb: "#" + [d[0], d[1], d[2]].map(v => v.toString(16).padStart(2, "0")).join("") };
    });
  });
}

async function until(what, fn) {
  const t0 = Date.now();
  // poll with evaluate: the page's Content-Security-Policy forbids the
  // string evaluation waitForFunction uses for arguments
  for (;;) {
    const r = await fn();
    if (r) return Date.now() - t0;
    if (Date.now() - t0 > 2000) throw new Error(`${what}: not within 2 s`);
    await new Promise(res => setTimeout(res, 20));
  }
}

function checkPixels(list) {
  for (const s of list) if (s.rgb !== palette[s.state]) throw new Error(`pixel at ${s.path} is ${s.rgb}, its state ${s.state} is ${palette[s.state]}`);
}

(async () => {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"] });
  // a twin on HTTPS with the certificate it made: its CA is not in this browser
  const page = await browser.newPage({ viewport: { width: 1400, height: 800 }, ignoreHTTPSErrors: true });
  const errors = [];
  page.on("pageerror", e => { errors.push(String(e)); console.error("pageerror: " + e); });
  await page.goto(url);
  const t0 = Date.now();
  while (!(await page.evaluate(() => !!(window.twin && window.twin.scene && window.twin.scene.stations.length)))) {
    if (Date.now() - t0 > 10000) throw new Error("no scene after 10 s");
    await new Promise(res => setTimeout(res, 50));
  }
  const first = await stations(page);
  checkPixels(first);
  console.log(`READY ${first.length}`);
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const [cmd, a, b] = line.trim().split(/\s+/);
    if (cmd === "quit") break;
    if (cmd === "state") {
      const ms = await until(`${a} shown ${b}`, async () => (await stations(page)).find(s => s.path === a).state === b);
      checkPixels(await stations(page));
      console.log(`OK ${ms}`);
    } else if (cmd === "since") {
      const ms = await until(`${a}'s state since ${b}`, async () => (await stations(page)).find(s => s.path === a).since >= +b);
      checkPixels(await stations(page));
      console.log(`OK ${ms}`);
    } else if (cmd === "seek") {
      await page.evaluate((f) => { const r = document.getElementById("tl-range"); r.value = Math.round(1000 * f); r.dispatchEvent(new Event("input")); r.dispatchEvent(new Event("change")); }, +a);
      const ms = await until("seek shown", () => page.evaluate(() => window.twin.scene.at !== 0 && window.twin.scene.at === window.twin.at));
      checkPixels(await stations(page));
      const r = await page.evaluate(() => ({ source: window.twin.scene.source, at: window.twin.scene.at, time: window.twin.scene.time }));
      console.log(`OK ${ms} ${r.source} ${r.at} ${r.time}`);
    } else if (cmd === "follow") {
      await page.click("#tl-follow");
      const ms = await until("following", () => page.evaluate(() => window.twin.scene.at === 0));
      const src = await page.evaluate(() => window.twin.scene.source);
      console.log(`OK ${ms} ${src}`);
    } else if (cmd === "day") {
      const r = await page.evaluate(() => ({ to: (window.twin.scene.kpis.day || {}).to || 0,
        oee: document.getElementById("k-oee").textContent, fpy: document.getElementById("k-fpy").textContent }));
      console.log(`OK ${r.to} ${r.oee} ${r.fpy}`);
    } else if (cmd === "viewport") {
      await page.setViewportSize({ width: +a, height: +b });
      await page.evaluate(() => new Promise(res => requestAnimationFrame(() => res())));
      console.log("OK");
    } else if (cmd === "text") {
      const sel = line.trim().slice("text ".length);
      const text = await page.evaluate((s) => { const e = document.querySelector(s); return e ? e.textContent : null; }, sel);
      if (text === null) throw new Error(`no element ${sel}`);
      console.log("OK " + JSON.stringify(text));
    } else if (cmd === "click") {
      await page.click(line.trim().slice("click ".length));
      console.log("OK");
    } else if (cmd === "overflow") {
      const r = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      console.log(`OK ${r[0]} ${r[1]}`);
    } else if (cmd === "zone") {
      console.log("OK " + await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone));
    } else if (cmd === "shot") {
      await page.screenshot({ path: a });
      console.log("OK");
    } else {
      throw new Error("unknown command " + line);
    }
    if (errors.length) throw new Error("page errors: " + errors.join("; "));
  }
  await browser.close();
  process.exit(0);
})().catch(e => { console.error(e.message); process.exit(1); });
