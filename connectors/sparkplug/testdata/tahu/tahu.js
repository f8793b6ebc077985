// Reference vectors made and read by Eclipse Tahu's own JavaScript library,
// sparkplug-payload (npm, EPL-2.0), for connectors/sparkplug's tests.
//
//   node tahu.js encode [DIR]      each case of vectors.json, encoded by Tahu, to DIR/<name>.bin
//                                  (DIR: this directory, where the checked-in vectors are)
//   node tahu.js decode FILE...    each file decoded by Tahu, as JSON lines {"file", "payload"}
//
// Numbers beyond 2^53 travel as decimal strings both ways (JSON cannot hold them).
"use strict";
const fs = require("fs");
const path = require("path");
const Long = require("long");
const sparkplug = require("sparkplug-payload").get("spBv1.0");

const unsigned64 = new Set(["UInt64", "DateTime"]);

// toTahu turns a case's payload into encodePayload's input.
function toTahu(p) {
  const out = { timestamp: Long.fromValue(p.timestamp, true) };
  if (p.seq !== undefined) out.seq = Long.fromValue(p.seq, true);
  out.metrics = (p.metrics || []).map((m) => {
    const t = { type: m.type, value: m.value };
    if (m.name !== undefined) t.name = m.name;
    if (m.alias !== undefined) t.alias = Long.fromValue(m.alias, true);
    if (m.timestamp !== undefined) t.timestamp = Long.fromValue(m.timestamp, true);
    if (typeof m.value === "string" && (m.type === "Int64" || unsigned64.has(m.type))) {
      t.value = Long.fromString(m.value, unsigned64.has(m.type));
    }
    return t;
  });
  return out;
}

// fromTahu turns decodePayload's output back into the cases' form.
function fromTahu(p) {
  const str = (v) => (Long.isLong(v) ? v.toString() : v);
  const out = { timestamp: str(p.timestamp) };
  if (p.seq !== undefined) out.seq = str(p.seq);
  out.metrics = (p.metrics || []).map((m) => {
    const t = { type: m.type, value: str(m.value) };
    if (m.name !== undefined) t.name = m.name;
    if (m.alias !== undefined) t.alias = str(m.alias);
    if (m.timestamp !== undefined) t.timestamp = str(m.timestamp);
    // sparkplug-payload 1.0.3 returns a UInt32 through Long.toInt(), a
    // signed int: 4294967295 comes back as -1 (its getValue). The bits
    // are right; read them unsigned.
    if (m.type === "UInt32" && typeof t.value === "number") t.value = t.value >>> 0;
    return t;
  });
  return out;
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "encode") {
  const dir = args[0] || __dirname;
  const { cases } = JSON.parse(fs.readFileSync(path.join(__dirname, "vectors.json"), "utf8"));
  for (const c of cases) {
    fs.writeFileSync(path.join(dir, c.name + ".bin"), sparkplug.encodePayload(toTahu(c.payload)));
  }
} else if (mode === "decode") {
  for (const f of args) {
    const payload = fromTahu(sparkplug.decodePayload(fs.readFileSync(f)));
    process.stdout.write(JSON.stringify({ file: path.basename(f), payload }) + "\n");
  }
} else {
  process.stderr.write("usage: node tahu.js encode [DIR] | decode FILE...\n");
  process.exit(2);
}
