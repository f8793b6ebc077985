// Prints a travellers page in headless Chromium (Debian's /usr/bin/chromium,
// npm playwright-core from viz/web/e2e) the way a planner's browser does:
//   node print.js URL OUT.pdf OUT.png
// with the header "Authorization: Bearer $TWIN_TOKEN" when it is set. It
// saves the page as PDF (page.pdf, the page's own @page size) and a
// screenshot of the screen view, then prints one line of JSON: console
// errors (a CSP violation is one), and for every card what sticks out of
// it, of its sheet, or of its table's box.
const path = require("path");
const { chromium } = require(path.join(process.env.E2E_DIR, "node_modules", "playwright-core"));

const [url, pdf, png] = process.argv.slice(2);

(async () => {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  const headers = process.env.TWIN_TOKEN ? { Authorization: "Bearer " + process.env.TWIN_TOKEN } : {};
  const page = await browser.newPage({ viewport: { width: 900, height: 1200 }, extraHTTPHeaders: headers });
  const errors = [];
  page.on("console", m => { if (m.type() === "error") errors.push(m.text()); });
  page.on("pageerror", e => errors.push(String(e)));
  const resp = await page.goto(url, { waitUntil: "load" });
  await page.screenshot({ path: png, fullPage: true });
  await page.emulateMedia({ media: "print" });
  const report = await page.evaluate(() => {
    const out = [];
    const inside = (a, b) => a.left >= b.left - 0.5 && a.top >= b.top - 0.5 && a.right <= b.right + 0.5 && a.bottom <= b.bottom + 0.5;
    for (const sheet of document.querySelectorAll(".sheet")) {
      const s = sheet.getBoundingClientRect();
      for (const card of sheet.querySelectorAll(".card")) {
        const c = card.getBoundingClientRect(), op = card.dataset.operation;
        if (!inside(c, s)) out.push(op + ": the card sticks out of its sheet");
        for (const el of card.querySelectorAll("*")) {
          if (!inside(el.getBoundingClientRect(), c)) out.push(op + ": " + el.tagName + " sticks out of the card");
        }
        const dl = card.querySelector("dl");
        if (dl.scrollHeight > dl.clientHeight + 1) out.push(op + ": the table is taller than its box (" + dl.scrollHeight + " > " + dl.clientHeight + ")");
        const h = card.querySelector("header");
        if (h.scrollWidth > h.clientWidth + 1) out.push(op + ": the header is wider than the card");
      }
    }
    return { cards: document.querySelectorAll(".card").length, sheets: document.querySelectorAll(".sheet").length, overflow: out,
      sideways: document.documentElement.scrollWidth > window.innerWidth };
  });
  await page.pdf({ path: pdf, preferCSSPageSize: true, printBackground: true });
  report.status = resp.status();
  report.csp = resp.headers()["content-security-policy"] || "";
  report.errors = errors;
  console.log(JSON.stringify(report));
  await browser.close();
})().catch(e => { console.error(String(e)); process.exit(1); });
