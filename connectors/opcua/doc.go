// Package opcua connects the twin to OPC UA: a server that publishes a
// (virtual) plant's machines the way a plant's PLC gateway would, and a
// client that subscribes to the nodes a plant file's tag map names and turns
// their data changes into events.
//
// It is not a general OPC UA server: the address space is the plant's and
// read-only, there is no history, no methods, no events, and the server
// checks no user names (see "Identity" below). It is built on
// github.com/gopcua/opcua v0.9.0 (its transport, secure channel and
// services); the plant's namespace is this package's own.
//
// # Address space
//
// Under Objects, a folder (FolderType) per site, area, line and work
// centre, organised as the equipment tree; an object (BaseObjectType) per
// unit; and per unit these variables (BaseDataVariableType, scalar,
// read-only: AccessLevel CurrentRead), with string node ids
// "ns=2;s=<unit id>.<variable>":
//
//	State         String      the state's name: unknown, off, idle, setup, running, down, …
//	StateCode     MachineState the same state as an enumeration (Int32 values, ns=1;s=MachineState)
//	GoodCount     UInt32      good parts, cumulative
//	RejectCount   UInt32      rejected parts, cumulative
//	PowerKW       Double      power drawn, kW
//	EnergyKWh     Double      energy meter, kWh
//	CurrentOrder  String      the order in process
//
// Namespace 1 (urn:twin:virtual-plant) holds the twin's types: the
// MachineState enumeration, a subtype of Enumeration with EnumStrings and a
// DataTypeDefinition; namespace 2 (urn:twin:plant:<plant id>) the plant.
// Before the plant writes a variable it reads BadWaitingForInitialData.
// State and the counters are shaped after OPC 40001-1 (Machinery): its
// MachineryItemState is derived from State by clients that need it.
//
// # Security
//
// A server given a certificate and key (ServerOptions; the demo keeps a
// self-signed pair in its data directory) offers the endpoints None,
// Basic256Sha256 Sign and SignAndEncrypt, and Aes128_Sha256_RsaOaep Sign and
// SignAndEncrypt; without one, only None. It accepts any client certificate
// (gopcua's server keeps no trust list).
//
// The client connects with the tag map's policy and mode. A secure
// connection needs a client certificate (the tag map's cert and key, PEM or
// DER). It trusts a server's certificate by its SHA-256 fingerprint, kept
// per endpoint in a trust file (ClientOptions.TrustFile; twin serve and
// twin demo keep DIR/opcua/trusted-servers.txt): the first certificate an
// endpoint presents is recorded (trust on first use), and from then on the
// client refuses any other, saying so. Write the line beforehand to pin a
// certificate; add a second line for the same endpoint when the server's
// certificate is renewed; delete it to trust anew.
//
// # Identity
//
// gopcua v0.9.0's server does not look at the identity token a client
// activates its session with: it would accept any user name and password.
// So this server offers anonymous login only (over a secured channel where
// one is asked for), and a tag map that names a user for it is refused
// with an error that says so. The client itself logs in with a user name
// and password to servers that offer it (the tag map's user and password).
//
// # The client's values
//
// Every numeric and boolean OPC UA type is taken (SByte, Byte, Int16,
// UInt16, Int32, UInt32, Int64, UInt64, Float, Double, Boolean: true is 1),
// and String and LocalizedText for states and orders. The twin's values
// are float64: an Int64 or UInt64 beyond ±2^53 cannot be held exactly and is
// refused (a Fault naming the node and the value), not rounded.
//
// While a server is lost (the connection closed, a keep-alive read
// failing, the server not reachable) the client raises the alarm
// "opcua/offline" (quality Bad) on every asset the server's tags name, as
// the Sparkplug path does for a dead node; it clears the alarm when it has
// subscribed again, after which the server sends every value afresh.
//
//	s, _ := opcua.NewServer(p, opcua.ServerOptions{Port: 4840, Certificate: der, Key: key})
//	s.Start(ctx)
//	c := opcua.NewClient(p.Tags.OPCUA[0], ingest, opcua.ClientOptions{TrustFile: "trusted-servers.txt"})
//	go c.Run(ctx)
package opcua
