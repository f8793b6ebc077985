// read.js ENDPOINT PKI CERT KEY UNIT POLICY/MODE[/untrusted]...: an
// independent OPC UA client (node-opcua) connects to the virtual plant's
// server once per POLICY/MODE, trusting only the server certificates in
// PKI/trusted/certs (none with /untrusted), and prints a line per
// connection: "RESULT {…}", the JSON of what it read of UNIT (its
// GoodCount, StateCode and State: value, DataType, ValueRank, AccessLevel,
// UserAccessLevel; the MachineState enumeration: EnumStrings,
// DataTypeDefinition), or "REFUSED <policy/mode> <error>".
// Run by connectors/opcua's TestNodeOPCUA.
"use strict";
const path = require("path");
const { OPCUAClient, MessageSecurityMode, SecurityPolicy, AttributeIds, BrowseDirection } = require("node-opcua-client");
const { OPCUACertificateManager } = require("node-opcua-certificate-manager");

async function main() {
  const [endpoint, pki, cert, key, unit, ...specs] = process.argv.slice(2);
  for (const spec of specs) {
    const [policy, mode, untrusted] = spec.split("/");
    const certificates = new OPCUACertificateManager({
      rootFolder: untrusted ? path.join(pki, "..", "pki-empty") : pki,
      automaticallyAcceptUnknownCertificate: false,
    });
    await certificates.initialize();
    try {
      console.log("RESULT " + JSON.stringify(await read(endpoint, policy, mode, certificates, cert, key, unit)));
    } catch (err) {
      console.log(`REFUSED ${spec} ${String(err && err.message ? err.message : err).split("\n")[0]}`);
    } finally {
      await certificates.dispose(); // its folder watchers would keep node running
    }
  }
}

async function read(endpoint, policy, mode, certificates, cert, key, unit) {
  const client = OPCUAClient.create({
    applicationName: "twin interop test",
    applicationUri: "urn:twin:node-opcua",
    securityPolicy: SecurityPolicy[policy],
    securityMode: MessageSecurityMode[mode],
    certificateFile: cert,
    privateKeyFile: key,
    clientCertificateManager: certificates,
    endpointMustExist: true,
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
  });
  await client.connect(endpoint);
  try {
    const session = await client.createSession();
    const out = { policy, mode, channel: { policy: client.securityPolicy, mode: MessageSecurityMode[client.securityMode] } };
    for (const v of ["GoodCount", "StateCode", "State"]) {
      const nodeId = `ns=2;s=${unit}.${v}`;
      const attrs = ["Value", "DataType", "ValueRank", "AccessLevel", "UserAccessLevel"];
      const dvs = await session.read(attrs.map((a) => ({ nodeId, attributeId: AttributeIds[a] })));
      out[v] = {};
      attrs.forEach((a, i) => {
        const dv = dvs[i];
        out[v][a] = dv.statusCode.isGood() ? plain(dv.value.value) : dv.statusCode.name;
        if (a === "Value") out[v].ValueType = dv.value.dataType;
      });
    }
    // the enumeration StateCode's DataType names
    const type = out.StateCode.DataType;
    const props = await session.browse({ nodeId: type, browseDirection: BrowseDirection.Forward, referenceTypeId: "HasProperty", includeSubtypes: true, resultMask: 63 });
    out.enum = { type, properties: props.references.map((r) => r.browseName.toString()) };
    const es = props.references.find((r) => r.browseName.name === "EnumStrings");
    if (es) {
      const dv = await session.read({ nodeId: es.nodeId, attributeId: AttributeIds.Value });
      out.enum.EnumStrings = dv.value.value.map((t) => t.text);
    }
    const def = await session.read({ nodeId: type, attributeId: AttributeIds.DataTypeDefinition });
    // the fields, or none and the status it was read with
    out.enum.DataTypeDefinition = def.statusCode.isGood() && def.value.value && def.value.value.fields
      ? def.value.value.fields.map((f) => ({ value: int64(f.value), name: f.name }))
      : [];
    out.enum.DataTypeDefinitionStatus = def.statusCode.name;
    await session.close();
    return out;
  } finally {
    await client.disconnect();
  }
}

// int64 is an Int64 (node-opcua: [high, low]) as a number.
function int64(v) {
  return Array.isArray(v) ? v[0] * 2 ** 32 + v[1] : Number(v);
}

// plain turns node-opcua's values into JSON: node ids as text.
function plain(v) {
  if (v === null || v === undefined) return v;
  if (typeof v === "object" && typeof v.toString === "function" && v.constructor && v.constructor.name === "NodeId") return v.toString();
  return v;
}

main().then(() => process.exit(0), (err) => {
  console.error(String(err && err.stack ? err.stack : err));
  process.exit(1);
});
