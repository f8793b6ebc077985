// scanner: codes from the camera or from a keyboard-wedge scanner (a PDA
// that types what it read and Enter into the focused field). The camera's
// frames are decoded by the browser's BarcodeDetector where it has one,
// else by the vendored jsQR (vendor/jsqr, loaded on first use).

// parse says what a scanned text is: a station's QR ("twin:station:<id>")
// or a card's token (anything else; the server judges it).
export function parse(text) {
  const s = String(text || "").trim();
  if (!s) return null;
  if (s.startsWith("twin:station:")) return { station: s.slice("twin:station:".length) };
  return { card: s };
}

let jsqr = null;

function loadJsQR() {
  if (globalThis.jsQR) return Promise.resolve(globalThis.jsQR);
  if (jsqr) return jsqr;
  jsqr = new Promise((res, rej) => {
    const s = document.createElement("script");
    s.src = "/app/vendor/jsqr/jsQR.js";
    s.onload = () => (globalThis.jsQR ? res(globalThis.jsQR) : rej(new Error("jsQR did not load")));
    s.onerror = () => { jsqr = null; rej(new Error("jsQR could not be fetched")); };
    document.head.append(s);
  });
  return jsqr;
}

// decoder returns a function that finds a QR code's text in the video's
// current frame (or null), and which decoder it is.
async function decoder(video) {
  if ("BarcodeDetector" in globalThis) {
    try {
      const formats = await BarcodeDetector.getSupportedFormats();
      if (formats.includes("qr_code")) {
        const d = new BarcodeDetector({ formats: ["qr_code"] });
        return { name: "BarcodeDetector", find: async () => { const r = await d.detect(video); return r.length ? r[0].rawValue : null; } };
      }
    } catch { /* the jsQR below */ }
  }
  const decode = await loadJsQR();
  const c = document.createElement("canvas");
  const g = c.getContext("2d", { willReadFrequently: true });
  return { name: "jsQR", find: async () => {
    const w = video.videoWidth, h = video.videoHeight;
    if (!w || !h) return null;
    const k = Math.min(1, 800 / Math.max(w, h)); // enough pixels for a card held up; fast on a phone
    c.width = Math.round(w * k); c.height = Math.round(h * k);
    g.drawImage(video, 0, 0, c.width, c.height);
    const img = g.getImageData(0, 0, c.width, c.height);
    const r = decode(img.data, img.width, img.height, { inversionAttempts: "attemptBoth" });
    return r ? r.data : null;
  } };
}

// Camera reads codes from the device's (back) camera into a <video>.
export class Camera {
  constructor(video) { this.video = video; this.stream = null; this.stopped = true; this.decoder = ""; }

  // start opens the camera and calls onCode(text) with the first code it
  // sees, then stops. It rejects when there is no camera or no permission.
  async start(onCode) {
    this.stop();
    this.stopped = false;
    this.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false });
    if (this.stopped) { this.stop(); return; }
    this.video.srcObject = this.stream;
    this.video.muted = true;
    this.video.setAttribute("playsinline", "");
    await this.video.play();
    const d = await decoder(this.video);
    this.decoder = d.name;
    const tick = async () => {
      if (this.stopped) return;
      let text = null;
      try { text = await d.find(); } catch { /* a frame not ready */ }
      if (this.stopped) return;
      if (text) { this.stop(); onCode(text); return; }
      this.timer = setTimeout(tick, 120);
    };
    tick();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.stream) for (const tr of this.stream.getTracks()) tr.stop();
    this.stream = null;
    if (this.video) this.video.srcObject = null;
  }
}

// wedge makes input a keyboard-wedge field: Enter hands its text to
// onCode and clears it.
export function wedge(input, onCode) {
  input.addEventListener("keydown", e => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    const v = input.value;
    input.value = "";
    if (v.trim()) onCode(v.trim());
  });
}
