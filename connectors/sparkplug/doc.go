// Package sparkplug reads and writes Sparkplug B (spBv1.0, Eclipse
// Sparkplug 3.0) messages: the topic namespace, the protobuf payload with
// the types generated from Eclipse Tahu's sparkplug_b.proto
// (internal/tahupb), and the host-side session of each edge node: births
// define the metrics and their aliases, data messages refer to them by
// alias, sequence numbers 0–255 detect lost messages (the node's data is
// then dropped until it is born again), and deaths, paired with their
// birth by bdSeq, mark the node's values stale.
//
// It is not an MQTT client (connectors/mqtt subscribes, acknowledges,
// publishes the rebirth requests and turns Updates into the twin's
// events), and it reads only the scalar metrics a plant's signals use:
// DataSets, Templates, Bytes, Files and arrays decode with their data type
// and no value. FORMAT.md says which protobuf field carries each data
// type, and each rule of the host session with the clause of Sparkplug
// 3.0 it follows; testdata/tahu holds reference vectors made by Tahu's own
// JavaScript library, against which the codec is tested both ways.
//
// A host follows a node like this:
//
//	h := sparkplug.NewHost()
//	t, _ := sparkplug.ParseTopic(topic)
//	p, err := sparkplug.Unmarshal(payload)
//	if err != nil { … a fault … }
//	u := h.Handle(t, p)
//	// u.Values: the metrics to fold, by name; u.Rebirth: send NCMD
//	// "Node Control/Rebirth" = true; u.Dead: the devices now stale
package sparkplug
