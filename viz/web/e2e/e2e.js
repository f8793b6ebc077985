// End-to-end test of the plant view, driven by viz/web's e2e_test.go:
//   node e2e.js URL STATION_PATH SCREENSHOT
// 1. loads the page, waits until every station is drawn, checks the pixel
//    colour at STATION_PATH matches its state colour, prints "READY";
// 2. waits for a line on stdin (the Go test has changed the station's state),
//    then checks that the page shows the new state within 2 s: the scene
//    and the canvas pixel; saves a screenshot; prints "OK <ms>".
const { chromium } = require("playwright-core");
const readline = require("readline");

const [url, path, shot] = process.argv.slice(2);
const palette = {running: "#2e9e44", idle: "#9aa5b1", setup: "#2f80ed", down: "#d64545", maintenance: "#9b51e0",
  blocked: "#f2994a", starved: "#f2c94c", off: "#4f4f4f", unknown: "#cfd4da"};

async function pixel(page, p) {
  return page.evaluate((p) => {
    const s = window.twin.scene.stations.find(s => s.path === p);
    const c = document.getElementById("floor");
    const r = c.getBoundingClientRect();
    const scale = Math.min(c.width / (window.twin.scene.width + 4), c.height / (window.twin.scene.height + 4));
    const x = Math.round(2 * scale + s.x * scale), y = Math.round(2 * scale + s.y * scale);
    const d = c.getContext("2d").getImageData(x, y, 1, 1).data;
    return { state: s.state, rgb: "#" + [d[0], d[1], d[2]].map(v => v.toString(16).padStart(2, "0")).join("") };
  }, p);
}

(async () => {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
  const errors = [];
  page.on("pageerror", e => errors.push(String(e)));
  await page.goto(url);
  await page.waitForFunction(() => window.twin && window.twin.scene && window.twin.scene.stations.length > 0, null, { timeout: 10000 });
  const n = await page.evaluate(() => window.twin.scene.stations.length);
  let px = await pixel(page, path);
  if (px.rgb !== palette[px.state]) throw new Error(`pixel at ${path} is ${px.rgb}, its state ${px.state} is ${palette[px.state]}`);
  console.log(`READY ${n} ${px.state}`);
  const rl = readline.createInterface({ input: process.stdin });
  const want = await new Promise(res => rl.once("line", res));
  const t0 = Date.now();
  // poll with evaluate: the page's Content-Security-Policy forbids the
  // string evaluation waitForFunction uses for arguments
  for (;;) {
    const st = await page.evaluate((p) => window.twin.scene.stations.find(s => s.path === p).state, path);
    if (st === want.trim()) break;
    if (Date.now() - t0 > 2000) throw new Error(`the page still shows ${st} 2 s after the change`);
    await page.waitForTimeout(20);
  }
  await page.waitForTimeout(50); // the frame is drawn in the same task; be sure
  px = await pixel(page, path);
  if (px.rgb !== palette[want.trim()]) throw new Error(`after the change the pixel is ${px.rgb}, want ${palette[want.trim()]}`);
  const ms = Date.now() - t0;
  await page.screenshot({ path: shot });
  if (errors.length) throw new Error("page errors: " + errors.join("; "));
  console.log(`OK ${ms}`);
  await browser.close();
  process.exit(0);
})().catch(e => { console.error(e.message); process.exit(1); });
